/* SPDX-License-Identifier: MIT */
/* run.c - prun_run() and the thin wrappers over it, with the semantics of
 * their namesakes in Python's subprocess. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* input implies a stdin pipe, capture_output two output pipes; asking for
 * either together with an explicit stream is an error, as in Python. */
int prun__run_opts(const prun_opts *opts, prun_opts *o)
{
    static const prun_opts defaults;
    *o = opts ? *opts : defaults;
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

/* Shared by prun_run and prun_pipeline_run: communicate with the timeout;
 * on a timeout kill (the whole group when there is one, before its leader
 * is reaped), reap, and keep the partial output. */
int prun__run_streams(struct prun_streams *io, prun_proc *procs, size_t n, pid_t pgid,
                      const prun_opts *o, prun_result *res)
{
    int timeout = o->timeout_ms > 0 ? o->timeout_ms : PRUN_FOREVER;
    int r = prun__communicate(io, procs, n, pgid, o->input, o->input_len, timeout,
                              &res->out, &res->err);
    if (r == PRUN_ETIMEOUT) {
        prun__signal_all(procs, n, pgid, SIGKILL);
        prun__wait_all(procs, n, INT64_MAX);
        prun__take_output(io, &res->out, &res->err);
        prun__fail(r, "'%s' did not finish within %d ms", procs[0].name, o->timeout_ms);
    }
    return r;
}

int prun_run(char *const argv[], const prun_opts *opts, prun_result *res)
{
    prun_opts o;
    prun_proc *p = NULL;
    int r;
    if (!res)
        return prun__fail(-EINVAL, "prun_run: res is NULL");
    memset(res, 0, sizeof *res);
    if ((r = prun__run_opts(opts, &o)) || (r = prun_popen(&p, argv, &o)))
        return r;
    r = prun__run_streams(&p->io, p, 1, p->pgid, &o, res);
    res->returncode = p->returncode;
    if (r == 0 && o.check && res->returncode != 0)
        r = prun__fail(PRUN_ECHECK, "'%s' returned %d", argv[0], res->returncode);
    prun_free(p);
    return r;
}

void prun_result_free(prun_result *res)
{
    if (!res)
        return;
    prun_buf_free(&res->out);
    prun_buf_free(&res->err);
}

int prun_call(char *const argv[], const prun_opts *opts, int *returncode)
{
    prun_result res;
    int r = prun_run(argv, opts, &res);
    if (returncode)
        *returncode = res.returncode;
    prun_result_free(&res);
    return r;
}

int prun_check_call(char *const argv[], const prun_opts *opts)
{
    prun_opts o = opts ? *opts : (prun_opts){0};
    o.check = 1;
    return prun_call(argv, &o, NULL);
}

/* Like Python's: stdout is captured; on PRUN_ECHECK or PRUN_ETIMEOUT *out
 * still holds what was read (CalledProcessError.output). */
int prun_check_output(char *const argv[], const prun_opts *opts, prun_buf *out)
{
    prun_opts o = opts ? *opts : (prun_opts){0};
    prun_result res;
    if (out)
        *out = (prun_buf){NULL, 0};
    if (o.stdout_io != PRUN_INHERIT || o.capture_output)
        return prun__fail(-EINVAL, "check_output captures stdout itself: do not set stdout_io");
    o.stdout_io = PRUN_PIPE;
    o.check = 1;
    int r = prun_run(argv, &o, &res);
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
    int r = prun_run(argv, &o, &res);
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
