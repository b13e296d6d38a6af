/* SPDX-License-Identifier: MIT */
/* run.c - prun_run(), prun_pipeline_run() and the thin wrappers over
 * them, with the semantics of their namesakes in Python's subprocess.
 * A single command and a pipeline take the same path: a group. */
#include "internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* input implies a stdin pipe, capture_output two output pipes; asking for
 * either together with an explicit stream is an error, as in Python. */
static int run_opts(const prun_opts *opts, size_t opts_size, prun_opts *o)
{
    int r = prun__opts_in(o, opts, opts_size);
    if (r)
        return r;
    if (o->input && o->stdin_io != PRUN_INHERIT)
        return prun__fail(-EINVAL, "input and stdin_io are mutually exclusive");
    if (o->capture_output && (o->stdout_io != PRUN_INHERIT || o->stderr_io != PRUN_INHERIT))
        return prun__fail(-EINVAL, "capture_output and stdout_io/stderr_io are mutually exclusive");
    if (o->input)
        o->stdin_io = PRUN_PIPE;
    if (o->capture_output)
        o->stdout_io = o->stderr_io = PRUN_PIPE;
    return 0;
}

/* Communicate with the timeout.  On a timeout kill (the whole group when
 * there is one, before its leader is reaped), reap, and keep the partial
 * output; on any other failure too, so that the call never waits longer
 * than the timeout for a child it has given up on.  Then check.
 * *unkillable: the children could not be killed, and are not waited for. */
static int run_group(struct prun_group *g, const prun_opts *o, const char *what,
                     prun_result *res, int *unkillable)
{
    int timeout = o->timeout_ms > 0 ? o->timeout_ms : PRUN_FOREVER;
    int r = prun__communicate(g, o->input, o->input_len, timeout, PRUN_FINAL, &res->out,
                              &res->err);
    if (r) {
        int k = prun__group_kill_and_reap(g);
        *unkillable = k < 0;
        if (r == PRUN_ETIMEOUT && prun__streams_take_output(&g->io, &res->out, &res->err) == 0)
            prun__fail(r, "%s did not finish within %d ms", what, o->timeout_ms);
        if (*unkillable && r == PRUN_ETIMEOUT)
            prun__fail(k, "%s did not finish within %d ms and cannot be killed", what,
                       o->timeout_ms);
    }
    res->returncode = prun__group_status(g, o->pipefail);
    if (r == 0 && o->check && res->returncode != 0)
        r = prun__fail(PRUN_ECHECK, "%s returned %d", what, res->returncode);
    return r;
}

/* "'sleep'", or "the pipeline 'ps | grep'", for messages. */
static void describe(const struct prun_group_spec *spec, char *buf, size_t size)
{
    size_t used = (size_t)snprintf(buf, size, spec->n > 1 ? "the pipeline '" : "'");
    for (size_t i = 0; i < spec->n && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, "%s%s", i ? " | " : "", spec->stages[i][0]);
    if (used < size)
        snprintf(buf + used, size - used, "'");
}

static int start_and_run(const struct prun_group_spec *spec, prun_result *res, size_t res_size)
{
    prun_result mine = {0};
    char what[128];
    describe(spec, what, sizeof what);
    struct prun_group *g;
    size_t failed;
    int unkillable = 0;
    int r = prun__group_start(&g, spec, &failed);
    if (r == 0) {
        r = run_group(g, spec->opts, what, &mine, &unkillable);
        if (unkillable)
            prun__group_abandon(g);
        else
            prun__group_free(g);
    }
    prun__struct_out(res, res_size, &mine, sizeof mine);
    return r;
}

int prun_run_sized(char *const argv[], const prun_opts *opts, prun_result *res, size_t opts_size,
                   size_t res_size)
{
    prun_opts o;
    int r;
    if (!res)
        return prun__fail(-EINVAL, "prun_run: res is NULL");
    if ((r = prun__out_size_ok(res_size, PRUN_RESULT_SIZE_VER0, "prun_result")))
        return r;
    memset(res, 0, res_size);
    if (!argv || !argv[0])
        return prun__fail(-EINVAL, "empty argv");
    if ((r = run_opts(opts, opts_size, &o)) || (r = prun__check_opts(&o)))
        return r;
    char *const *const stages[1] = {argv};
    struct prun_group_spec spec = {1, stages, &o, o.new_pgroup, 0};
    return start_and_run(&spec, res, res_size);
}

int prun_pipeline_run_sized(size_t n, char *const *const stages[], const prun_opts *opts,
                            prun_result *res, size_t opts_size, size_t res_size)
{
    prun_opts o;
    int r;
    if (!res)
        return prun__fail(-EINVAL, "prun_pipeline_run: res is NULL");
    if ((r = prun__out_size_ok(res_size, PRUN_RESULT_SIZE_VER0, "prun_result")))
        return r;
    memset(res, 0, res_size);
    size_t failed;
    if ((r = run_opts(opts, opts_size, &o)) || (r = prun__group_check(n, stages, &o, &failed)))
        return r;
    struct prun_group_spec spec = {n, stages, &o, !o.keep_pgroup, o.take_tty};
    return start_and_run(&spec, res, res_size);
}

void prun_result_free(prun_result *res)
{
    if (!res)
        return;
    prun_buf_free(&res->out);
    prun_buf_free(&res->err);
}

int prun_call_sized(char *const argv[], const prun_opts *opts, int *returncode, size_t opts_size)
{
    prun_result res;
    int r = prun_run_sized(argv, opts, &res, opts_size, sizeof res);
    if (returncode)
        *returncode = res.returncode;
    prun_result_free(&res);
    return r;
}

int prun_check_call_sized(char *const argv[], const prun_opts *opts, size_t opts_size)
{
    prun_opts o;
    int r = prun__opts_in(&o, opts, opts_size);
    if (r)
        return r;
    o.check = 1;
    return prun_call_sized(argv, &o, NULL, sizeof o);
}

/* Like Python's: stdout is captured; on PRUN_ECHECK or PRUN_ETIMEOUT *out
 * still holds what was read (CalledProcessError.output). */
int prun_check_output_sized(char *const argv[], const prun_opts *opts, prun_buf *out,
                            size_t opts_size)
{
    prun_opts o;
    prun_result res;
    if (out)
        *out = (prun_buf){NULL, 0};
    int r = prun__opts_in(&o, opts, opts_size);
    if (r)
        return r;
    if (o.stdout_io != PRUN_INHERIT || o.capture_output)
        return prun__fail(-EINVAL, "check_output captures stdout itself: do not set stdout_io");
    o.stdout_io = PRUN_PIPE;
    o.check = 1;
    r = prun_run_sized(argv, &o, &res, sizeof o, sizeof res);
    if (out) {
        *out = res.out;
        res.out = (prun_buf){NULL, 0};
    }
    prun_result_free(&res);
    return r;
}

int prun_getstatusoutput(const char *cmd, int *status, prun_buf *out)
{
    char *argv[] = {(char *)cmd, NULL};
    prun_opts o = {.shell = 1, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_STDOUT};
    prun_result res;
    if (out)
        *out = (prun_buf){NULL, 0};
    if (!cmd)
        return prun__fail(-EINVAL, "getstatusoutput: cmd is NULL");
    int r = prun_run_sized(argv, &o, &res, sizeof o, sizeof res);
    if (r == 0) {
        if (res.out.len && res.out.data[res.out.len - 1] == '\n')
            res.out.data[--res.out.len] = '\0';
        if (status)
            *status = res.returncode;
        if (out) {
            *out = res.out;
            res.out = (prun_buf){NULL, 0};
        }
    }
    prun_result_free(&res);
    return r;
}

char *prun_getoutput(const char *cmd)
{
    prun_buf out;
    if (prun_getstatusoutput(cmd, NULL, &out))
        return NULL;
    return out.data;
}
