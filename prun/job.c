/* SPDX-License-Identifier: MIT */
/* job.c - the stages to run, from '|'-separated operands, from -c LINE
 * split without a shell, or from --shell (one stage the library runs
 * with /bin/sh -c). */
#include "job.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int job_from_operands(struct job *job, char **ops, size_t n)
{
    job->vectors = malloc((n + 1) * sizeof *job->vectors);
    job->owned_stages = malloc((n + 1) * sizeof *job->owned_stages);
    if (!job->vectors || !job->owned_stages) {
        fprintf(stderr, "prun: %s\n", strerror(ENOMEM));
        return -1;
    }
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && strcmp(ops[i], "|") != 0) {
            job->vectors[i] = ops[i];
            continue;
        }
        if (i == start) {
            cli_usage_error("empty command in the pipeline (stage %zu)", job->n + 1);
            return -1;
        }
        job->vectors[i] = NULL;
        job->owned_stages[job->n++] = &job->vectors[start];
        start = i + 1;
    }
    job->stages = (char *const *const *)job->owned_stages;
    return 0;
}

static int job_from_line(struct job *job, const char *line)
{
    struct split_error err;
    if (split_command(line, &job->split, &err)) {
        char msg[256];
        split_error_message(&err, msg, sizeof msg);
        fprintf(stderr, "prun: --command: %s\n", msg);
        return -1;
    }
    job->n = job->split.n_stages;
    job->stages = (char *const *const *)job->split.stages;
    return 0;
}

/* One stage for opts.shell; shown as what the library runs. */
static int job_for_shell(struct job *job, const char *line)
{
    job->line_argv[0] = (char *)line;
    job->line_stage[0] = job->line_argv;
    job->stages = job->line_stage;
    job->shell_argv[0] = (char *)"/bin/sh";
    job->shell_argv[1] = (char *)"-c";
    job->shell_argv[2] = (char *)line;
    job->shell_stage[0] = job->shell_argv;
    job->shown = job->shell_stage;
    job->n = 1;
    job->shell = 1;
    return 0;
}

int job_build(struct job *job, const struct cli *cli)
{
    int r;
    memset(job, 0, sizeof *job);
    if (cli->command_line && cli->shell)
        return job_for_shell(job, cli->command_line);
    if (!cli->command_line)
        r = job_from_operands(job, cli->operands, cli->n_operands);
    else
        r = job_from_line(job, cli->command_line);
    job->shown = job->stages;
    return r;
}

void job_free(struct job *job)
{
    free(job->vectors);
    free(job->owned_stages);
    cmd_pipeline_free(&job->split);
}

void job_names(const struct job *job, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < job->n && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? " | " : "", job->shown[i][0]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}
