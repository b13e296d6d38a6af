/* SPDX-License-Identifier: MIT */
/* popen.c - the prun_proc functions: a group of one child. */
#include "internal.h"

#include <errno.h>
#include <signal.h>

int prun_popen_sized(prun_proc **out, char *const argv[], const prun_opts *opts,
                     size_t opts_size)
{
    prun_opts o;
    size_t failed;
    int r;
    if (!out)
        return prun__fail(-EINVAL, "prun_popen: out is NULL");
    *out = NULL;
    if (!argv || !argv[0])
        return prun__fail(-EINVAL, "empty argv");
    if ((r = prun__opts_in(&o, opts, opts_size)) || (r = prun__check_opts(&o)))
        return r;
    char *const *const stages[1] = {argv};
    struct prun_group_spec spec = {1, stages, &o, o.new_pgroup, 0};
    struct prun_group *g;
    if ((r = prun__group_start(&g, &spec, &failed)))
        return r;
    *out = (prun_proc *)g;
    return 0;
}

pid_t prun_pid(const prun_proc *p)
{
    return p ? prun__proc_group(p)->child[0].pid : -1;
}

static int stream_fd(const prun_proc *p, int stream)
{
    return p ? prun__proc_group(p)->io.fd[stream] : -1;
}

int prun_stdin(const prun_proc *p)
{
    return stream_fd(p, 0);
}

int prun_stdout(const prun_proc *p)
{
    return stream_fd(p, 1);
}

int prun_stderr(const prun_proc *p)
{
    return stream_fd(p, 2);
}

/* The library owns the pipe ends; closing one through here (not close())
 * keeps it from being closed twice. */
int prun_close_stream(prun_proc *p, int stream)
{
    if (!p || stream < 0 || stream > 2)
        return PRUN_BAD_ARG(p ? "stream is not 0, 1 or 2" : "the handle is NULL");
    prun__close(&prun__proc_group(p)->io.fd[stream]);
    return 0;
}

int prun_poll(prun_proc *p, int *returncode)
{
    if (!p)
        return PRUN_BAD_ARG("the handle is NULL");
    struct prun_group *g = prun__proc_group(p);
    int r = prun__group_reap(g);
    if (r == 1 && returncode)
        *returncode = g->child[0].returncode;
    return r;
}

int prun_wait(prun_proc *p, int timeout_ms, int *returncode)
{
    if (!p)
        return PRUN_BAD_ARG("the handle is NULL");
    struct prun_group *g = prun__proc_group(p);
    int r = prun__group_wait(g, prun__deadline(timeout_ms));
    if (r == 0 && returncode)
        *returncode = g->child[0].returncode;
    return r;
}

const struct rusage *prun_rusage(const prun_proc *p)
{
    if (!p)
        return NULL;
    const struct prun_child *c = &prun__proc_group(p)->child[0];
    return c->reaped && c->rusage_known ? &c->rusage : NULL;
}

/* Python's send_signal: the child only, even when it leads a group. */
int prun_send_signal(prun_proc *p, int sig)
{
    if (!p)
        return PRUN_BAD_ARG("the handle is NULL");
    return prun__group_signal(prun__proc_group(p), sig, 0);
}

int prun_terminate(prun_proc *p)
{
    return prun_send_signal(p, SIGTERM);
}

int prun_kill(prun_proc *p)
{
    return prun_send_signal(p, SIGKILL);
}

int prun_communicate(prun_proc *p, const void *input, size_t input_len, int timeout_ms,
                     prun_buf *out, prun_buf *err)
{
    if (!p)
        return PRUN_BAD_ARG("the handle is NULL");
    return prun__communicate(prun__proc_group(p), input, input_len, timeout_ms, PRUN_RESUMABLE,
                             out, err);
}

/* For the caller's own poll or epoll: it must not close it or wait on it. */
int prun_pidfd(const prun_proc *p)
{
    return p ? prun__proc_group(p)->child[0].pidfd : -1;
}

void prun_free(prun_proc *p)
{
    if (p)
        prun__group_free(prun__proc_group(p));
}
