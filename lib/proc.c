/* SPDX-License-Identifier: MIT */
/* proc.c - the process handle: pidfd, reaping, waiting, signals.
 *
 * A pidfd is taken right after the spawn.  Waits sleep in poll() on it
 * (no SIGCHLD handler, no global state), reaping uses waitid(P_PIDFD) and
 * signals pidfd_send_signal(), so a recycled pid is never touched.
 * Where pidfds are missing (ENOSYS) the pid is used, with a short backoff
 * for waits.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

int64_t prun__now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* A negative timeout never expires; INT_MAX ms fits easily in int64 ns. */
int64_t prun__deadline(int timeout_ms)
{
    return timeout_ms < 0 ? INT64_MAX : prun__now_ns() + (int64_t)timeout_ms * 1000000;
}

/* Milliseconds left for poll(): -1 for no deadline, rounded up so that
 * poll never returns just before the deadline and spins. */
int prun__ms_left(int64_t deadline)
{
    if (deadline == INT64_MAX)
        return -1;
    int64_t left = deadline - prun__now_ns();
    if (left <= 0)
        return 0;
    left = (left + 999999) / 1000000;
    return left > INT_MAX ? INT_MAX : (int)left;
}

void prun__proc_init(prun_proc *p, pid_t pid, pid_t pgid, const char *name)
{
    p->pid = pid;
    snprintf(p->name, sizeof p->name, "%s", name);
    p->pgid = pgid;
    p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (p->pidfd < 0 && errno == ESRCH) {
        /* Already reaped behind our back (SIGCHLD ignored): status unknown. */
        p->exited = p->reaped = 1;
    }
    pthread_mutex_init(&p->lock, NULL);
}

void prun__proc_destroy(prun_proc *p)
{
    prun__close(&p->pidfd);
    pthread_mutex_destroy(&p->lock);
}

static void set_status(prun_proc *p, const siginfo_t *si)
{
    p->exited = p->reaped = 1;
    if (si->si_code == CLD_EXITED)
        p->returncode = si->si_status;
    else
        p->returncode = -si->si_status;
    p->core_dumped = si->si_code == CLD_DUMPED;
}

/* Called with p->lock held. */
static int reap_locked(prun_proc *p)
{
    if (p->reaped)
        return 1;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        /* The raw syscall, for the rusage that glibc's waitid() drops. */
        long r = p->pidfd >= 0
            ? syscall(SYS_waitid, P_PIDFD, p->pidfd, &si, WEXITED | WNOHANG, &p->rusage)
            : syscall(SYS_waitid, P_PID, p->pid, &si, WEXITED | WNOHANG, &p->rusage);
        if (r == 0 && si.si_pid == 0)
            return 0;
        if (r == 0) {
            set_status(p, &si);
            return 1;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECHILD) {  /* reaped elsewhere (SIGCHLD ignored): status unknown, 0 */
            p->exited = p->reaped = 1;
            p->returncode = 0;
            return 1;
        }
        return -errno;
    }
}

int prun__reap(prun_proc *p)
{
    pthread_mutex_lock(&p->lock);
    int r = reap_locked(p);
    pthread_mutex_unlock(&p->lock);
    return r;
}

/* Sleeps until p exits or the deadline passes: 1 reaped, 0 deadline, <0. */
static int wait_one(prun_proc *p, int64_t deadline)
{
    int backoff_ms = 1;
    for (;;) {
        int r = prun__reap(p);
        if (r)
            return r;
        int left = prun__ms_left(deadline);
        if (left == 0)
            return 0;
        if (p->pidfd >= 0) {
            struct pollfd pfd = {p->pidfd, POLLIN, 0};
            if (poll(&pfd, 1, left) < 0 && errno != EINTR)
                return -errno;
        } else {
            int ms = left < 0 || left > backoff_ms ? backoff_ms : left;
            struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
            nanosleep(&ts, NULL);
            if (backoff_ms < 20)
                backoff_ms *= 2;
        }
    }
}

int prun__wait_all(prun_proc *procs, size_t n, int64_t deadline)
{
    for (size_t i = 0; i < n; i++) {
        int r = wait_one(&procs[i], deadline);
        if (r <= 0)
            return r < 0 ? r : PRUN_ETIMEOUT;
    }
    return 0;
}

int prun_poll(prun_proc *p, int *returncode)
{
    if (!p)
        return -EINVAL;
    int r = prun__reap(p);
    if (r == 1 && returncode)
        *returncode = p->returncode;
    return r;
}

int prun_wait(prun_proc *p, int timeout_ms, int *returncode)
{
    if (!p)
        return -EINVAL;
    int r = prun__wait_all(p, 1, prun__deadline(timeout_ms));
    if (r == 0 && returncode)
        *returncode = p->returncode;
    return r;
}

/* Signals p unless it has been reaped; the lock keeps a concurrent reap
 * (which would free the pid) out of the way. */
int prun__signal(prun_proc *p, int sig)
{
    int r = 0;
    pthread_mutex_lock(&p->lock);
    if (reap_locked(p) == 0) {
        long s = p->pidfd >= 0 ? syscall(SYS_pidfd_send_signal, p->pidfd, sig, NULL, 0)
                               : kill(p->pid, sig);
        if (s < 0 && errno != ESRCH)
            r = -errno;
    }
    pthread_mutex_unlock(&p->lock);
    return r;
}

/* Signals the process group pgid while one of its members is unreaped,
 * which keeps the id from being reused; otherwise (or without a group)
 * each unreaped process. */
int prun__signal_all(prun_proc *procs, size_t n, pid_t pgid, int sig)
{
    int r = 0;
    if (pgid > 0) {
        for (size_t i = 0; i < n; i++) {
            pthread_mutex_lock(&procs[i].lock);
            int live = !procs[i].reaped;
            int k = live ? kill(-pgid, sig) : 0;
            int e = errno;
            pthread_mutex_unlock(&procs[i].lock);
            if (live)
                return k < 0 && e != ESRCH ? -e : 0;
        }
        return 0;
    }
    for (size_t i = 0; i < n; i++) {
        int s = prun__signal(&procs[i], sig);
        if (s && !r)
            r = s;
    }
    return r;
}

pid_t prun_pid(const prun_proc *p)
{
    return p ? p->pid : -1;
}

const struct rusage *prun_rusage(const prun_proc *p)
{
    return p && p->reaped ? &p->rusage : NULL;
}

int prun_send_signal(prun_proc *p, int sig)
{
    if (!p)
        return -EINVAL;
    return prun__signal(p, sig);
}

int prun_terminate(prun_proc *p)
{
    return prun_send_signal(p, SIGTERM);
}

int prun_kill(prun_proc *p)
{
    return prun_send_signal(p, SIGKILL);
}

int prun_stdin(const prun_proc *p)
{
    return p ? p->io.fd[0] : -1;
}

int prun_stdout(const prun_proc *p)
{
    return p ? p->io.fd[1] : -1;
}

int prun_stderr(const prun_proc *p)
{
    return p ? p->io.fd[2] : -1;
}

/* The library owns the pipe ends; closing one through here (not close())
 * keeps it from being closed twice. */
int prun_close_stream(prun_proc *p, int stream)
{
    if (!p || stream < 0 || stream > 2)
        return -EINVAL;
    prun__close(&p->io.fd[stream]);
    return 0;
}

void prun_free(prun_proc *p)
{
    if (!p)
        return;
    prun__streams_close(&p->io);
    prun__wait_all(p, 1, INT64_MAX);
    prun__proc_destroy(p);
    free(p);
}
