/* SPDX-License-Identifier: MIT */
/* job.h - the commands prun runs: the stages of a pipeline, from the
 * operands, from -c LINE, or from --shell -c LINE. */
#ifndef PRUN_JOB_H
#define PRUN_JOB_H

#include "cli.h"
#include "parse.h"

#include <stddef.h>

struct job {
    size_t n;
    char *const *const *stages;
    int shell;                 /* --shell: stages[0] is {LINE, NULL}, for opts.shell */
    char *const *const *shown; /* what the report and -v show: stages, or /bin/sh -c LINE */
    char ***owned_stages;      /* operands: the vectors below */
    char **vectors;
    struct cmd_pipeline split; /* -c */
    char *line_argv[2];        /* --shell */
    char *const *line_stage[1];
    char *shell_argv[4];       /* the library's /bin/sh -c LINE, as shown */
    char *const *shell_stage[1];
};

/* 0, or -1 after saying why on stderr. */
int job_build(struct job *job, const struct cli *cli);
void job_free(struct job *job);

/* "yes | head", for messages; truncated to size. */
void job_names(const struct job *job, char *buf, size_t size);

#endif
