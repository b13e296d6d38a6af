/* SPDX-License-Identifier: MIT */
/* supervise.h - while the stages run: the timeout and --kill-after, the
 * signals prun passes on, and job control. */
#ifndef PRUN_SUPERVISE_H
#define PRUN_SUPERVISE_H

#include "cli.h"
#include "sigs.h"

#include <prun.h>
#include <stdint.h>

struct supervisor {
    const struct cli *cli;
    prun_pipeline *pl;
    struct sigwatch *signals;
    const char *names;         /* "yes | head", for -v */
    int64_t timeout_at;        /* PRUN_NO_DEADLINE, or when the time runs out */
    int64_t kill_at;           /* when --kill-after's KILL goes out */
    int kill_armed;
    int timed_out;
    int first_signal;          /* the first signal sent to the stages, 0 for none */
};

/* Arms the timeout for pl, started just now. */
void supervise_start(struct supervisor *s, const struct cli *cli, prun_pipeline *pl,
                     struct sigwatch *signals, const char *names);

/* Until every stage is reaped: 0, or -errno if waiting failed. */
int supervise(struct supervisor *s);

/* The deadline `seconds` from now on the library's clock; 0 is none. */
int64_t deadline_after(double seconds);

#endif
