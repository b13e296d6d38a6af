/* SPDX-License-Identifier: MIT */
/* report.h - the JSON report of --report=FILE (schema version 1). */
#ifndef PRUN_REPORT_H
#define PRUN_REPORT_H

#include <prun.h>
#include <stdio.h>

struct report_stage {
    char *const *argv;
    int started;             /* info is meaningful */
    prun_stage_info info;
    const char *spawn_error; /* NULL, or why the stage could not start */
    int status;              /* the shell's view: code, 128+N; for a spawn error 126/127 */
};

struct rlimit_spec;

struct report {
    int exit_status;
    int timed_out;
    int signal_sent;         /* the first signal sent to the stages, 0 for none */
    double elapsed_s;
    /* what every stage ran with, as asked for (NULL, -1: unchanged) */
    const char *user, *group;
    char *const *groups;
    int umask;
    const struct rlimit_spec *rlimits;
    size_t n_rlimits;
    size_t n_stages;
    const struct report_stage *stages;
};

/* One JSON object on one line; 0, or -1 with errno set. */
int report_write(FILE *f, const struct report *r);

/* Writes s as a JSON string (quoted); bytes that are not UTF-8 become U+FFFD. */
void json_string(FILE *f, const char *s);

#endif
