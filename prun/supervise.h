/* SPDX-License-Identifier: MIT */
/* supervise.h - while the stages run: the timeout and --kill-after, the
 * signals prun passes on, job control, and what the stages leave behind. */
#ifndef PRUN_SUPERVISE_H
#define PRUN_SUPERVISE_H

#include "cli.h"
#include "sigs.h"

#include <prun.h>
#include <stdint.h>

/* What became of the processes below prun (with a subreaper only). */
enum tree_state {
    TREE_UNTOUCHED,  /* the time has not run out: left alone */
    TREE_SIGNALLED,  /* the timeout signal went to every one of them */
    TREE_KILLING,    /* KILL went out: again until none is left */
    TREE_DONE,       /* none left, or none that can be signalled */
};

struct supervisor {
    const struct cli *cli;
    prun_pipeline *pl;
    struct sigwatch *signals;
    const char *names;         /* "yes | head", for -v */
    int subreaper;             /* prun is a child subreaper: the whole tree is its business */
    int64_t timeout_at;        /* PRUN_NO_DEADLINE, or when the time runs out */
    int64_t kill_at;           /* when --kill-after's KILL goes out */
    int kill_armed;
    int timed_out;
    int first_signal;          /* the first signal sent to the stages, 0 for none */
    enum tree_state tree;
    int64_t scan_at;           /* the next look at the tree (TREE_KILLING, or waiting) */
};

/* Arms the timeout for pl, started just now. */
void supervise_start(struct supervisor *s, const struct cli *cli, prun_pipeline *pl,
                     struct sigwatch *signals, const char *names, int subreaper);

/* Until every stage is reaped, and after a timeout with --kill-after
 * until every descendant is gone or has been sent KILL: 0, or -errno if
 * waiting failed. */
int supervise(struct supervisor *s);

/* The deadline `seconds` from now on the library's clock; 0 is none. */
int64_t deadline_after(double seconds);

#endif
