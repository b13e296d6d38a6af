/* SPDX-License-Identifier: MIT */
/* popen.c - the prun_proc functions: a group of one child. */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>

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

/* ---- prun_wait_any ---- */

static struct prun_child *child_of(prun_proc *const procs[], size_t i)
{
    return procs[i] ? &prun__proc_group(procs[i])->child[0] : NULL;
}

/* Reaps the first child a poll saw exit, or without a pidfd the first
 * that has: 1 with *index, 0 if none, <0 (-ECHILD: a lost status).
 * *live counts the ones still to wait for; *no_pidfd, those without. */
static int reap_one(prun_proc *const procs[], size_t n, size_t *index, size_t *live,
                    int *no_pidfd)
{
    *live = 0;
    *no_pidfd = 0;
    for (size_t i = 0; i < n; i++) {
        struct prun_child *c = child_of(procs, i);
        if (!c || prun__child_is_reaped(c))
            continue;
        ++*live;
        *no_pidfd |= c->pidfd < 0;
        if (c->pidfd >= 0 && !__atomic_load_n(&c->exit_seen, __ATOMIC_ACQUIRE))
            continue;
        int r = prun__child_claim(c);  /* another thread's wait_any may reap it first */
        if (r != 0) {
            *index = i;
            return r;
        }
    }
    return 0;
}

/* One poll over every live pidfd; each one found readable is marked, so
 * children that end together cost one poll, not one each.  Another thread
 * may have reaped them all since reap_one counted them: then there is
 * nothing to sleep on, unless the poll is a nap for pidfd-less ones. */
static int poll_pidfds(prun_proc *const procs[], size_t n, struct pollfd *pfd, size_t *at,
                       int timeout, int nap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        struct prun_child *c = child_of(procs, i);
        if (c && c->pidfd >= 0 && !prun__child_is_reaped(c)) {
            pfd[k] = (struct pollfd){c->pidfd, POLLIN, 0};
            at[k++] = i;
        }
    }
    if (!k && !nap)
        return 0;
    int r = poll(pfd, k, timeout);
    if (r < 0 && errno != EINTR)
        return prun__fail(-errno, "prun_wait_any: poll failed");
    for (size_t j = 0; r > 0 && j < k; j++)
        if (pfd[j].revents)
            __atomic_store_n(&child_of(procs, at[j])->exit_seen, 1, __ATOMIC_RELEASE);
    return 0;
}

int prun_wait_any(prun_proc *const procs[], size_t n, int timeout_ms, size_t *index,
                  int *returncode)
{
    size_t where = n, live;
    int no_pidfd, backoff_ms = 1, r;
    if (index)
        *index = n;
    if (n && !procs)
        return PRUN_BAD_ARG("procs is NULL");
    int64_t deadline = prun__deadline(timeout_ms);
    struct pollfd *pfd = NULL;
    size_t *at = NULL;
    int polled = 0;
    while ((r = reap_one(procs, n, &where, &live, &no_pidfd)) == 0) {
        int left = prun_ms_until(deadline);
        if (!live) {
            r = prun__fail(-ECHILD, "prun_wait_any: no process left to wait for");
            break;
        }
        if (left == 0 && polled) {  /* timeout 0 still looks once */
            r = prun__fail(PRUN_ETIMEOUT, "prun_wait_any: none of %zu processes exited within %d ms",
                           live, timeout_ms);
            break;
        }
        if (!pfd && (!(pfd = malloc(n * sizeof *pfd)) || !(at = malloc(n * sizeof *at)))) {
            r = prun__fail(-ENOMEM, "prun_wait_any: no memory");
            break;
        }
        /* Without pidfds: short naps, doubling up to 20 ms, as prun_wait's. */
        int timeout = no_pidfd && (left < 0 || left > backoff_ms) ? backoff_ms : left;
        if (no_pidfd && backoff_ms < 20)
            backoff_ms *= 2;
        if ((r = poll_pidfds(procs, n, pfd, at, timeout, no_pidfd)))
            break;
        polled = 1;
    }
    if (r == 1) {
        r = 0;
        if (returncode)
            *returncode = child_of(procs, where)->returncode;
    }
    if (index && (r == 0 || r == -ECHILD))
        *index = where;
    free(pfd);
    free(at);
    return r;
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
