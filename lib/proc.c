/* SPDX-License-Identifier: MIT */
/* proc.c - one child: reaping, waiting, signalling.
 *
 * Waits sleep in poll() on the child's pidfd (no SIGCHLD handler, no
 * global state), reaping uses waitid(P_PIDFD) and signals
 * pidfd_send_signal(), so a recycled pid is never touched.  Where pidfds
 * are missing (ENOSYS) the pid is used, with a short backoff for waits.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

enum { MAX_BACKOFF_MS = 20 };

void prun__child_init(struct prun_child *c, pid_t pid, int pidfd, const char *name)
{
    memset(c, 0, sizeof *c);
    c->pid = pid;
    c->pidfd = pidfd;
    snprintf(c->name, sizeof c->name, "%s", name);
    pthread_mutex_init(&c->lock, NULL);
}

void prun__child_destroy(struct prun_child *c)
{
    prun__close(&c->pidfd);
    pthread_mutex_destroy(&c->lock);
}

static void set_status(struct prun_child *c, const siginfo_t *si)
{
    c->reaped = 1;
    c->returncode = si->si_code == CLD_EXITED ? si->si_status : -si->si_status;
    c->core_dumped = si->si_code == CLD_DUMPED;
}

/* Called with c->lock held. */
static int reap_locked(struct prun_child *c)
{
    if (c->reaped)
        return 1;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        /* The raw system call, for the rusage that glibc's waitid() drops. */
        long r = c->pidfd >= 0
            ? syscall(SYS_waitid, P_PIDFD, c->pidfd, &si, WEXITED | WNOHANG, &c->rusage)
            : syscall(SYS_waitid, P_PID, c->pid, &si, WEXITED | WNOHANG, &c->rusage);
        if (r == 0 && si.si_pid == 0)
            return 0;
        if (r == 0) {
            set_status(c, &si);
            return 1;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECHILD) {  /* reaped elsewhere (SIGCHLD ignored): status unknown, 0 */
            c->reaped = 1;
            c->returncode = 0;
            return 1;
        }
        return prun__fail(-errno, "cannot wait for '%s'", c->name);
    }
}

int prun__child_reap(struct prun_child *c)
{
    pthread_mutex_lock(&c->lock);
    int r = reap_locked(c);
    pthread_mutex_unlock(&c->lock);
    return r;
}

int prun__child_is_reaped(struct prun_child *c)
{
    pthread_mutex_lock(&c->lock);
    int r = c->reaped;
    pthread_mutex_unlock(&c->lock);
    return r;
}

/* Without a pidfd to sleep on: short sleeps, doubling up to 20 ms. */
static void backoff(int *ms, int left)
{
    int nap = left < 0 || left > *ms ? *ms : left;
    struct timespec ts = {nap / 1000, (long)(nap % 1000) * 1000000};
    nanosleep(&ts, NULL);
    if (*ms < MAX_BACKOFF_MS)
        *ms *= 2;
}

int prun__child_wait(struct prun_child *c, int64_t deadline)
{
    int backoff_ms = 1;
    for (;;) {
        int r = prun__child_reap(c);
        if (r)
            return r;
        int left = prun_ms_until(deadline);
        if (left == 0)
            return 0;
        if (c->pidfd < 0) {
            backoff(&backoff_ms, left);
            continue;
        }
        struct pollfd pfd = {c->pidfd, POLLIN, 0};
        if (poll(&pfd, 1, left) < 0 && errno != EINTR)
            return prun__fail(-errno, "cannot wait for '%s'", c->name);
    }
}

/* The lock keeps a concurrent reap (which frees the pid) out of the way. */
int prun__child_signal(struct prun_child *c, int sig)
{
    int r = 0;
    pthread_mutex_lock(&c->lock);
    if (reap_locked(c) == 0) {
        long s = c->pidfd >= 0 ? syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0)
                               : kill(c->pid, sig);
        if (s < 0 && errno != ESRCH)
            r = prun__fail(-errno, "cannot send signal %d to '%s'", sig, c->name);
    }
    pthread_mutex_unlock(&c->lock);
    return r;
}

int prun__child_signal_group(struct prun_child *c, pid_t pgid, int sig)
{
    int r = 1;
    pthread_mutex_lock(&c->lock);
    if (c->reaped)
        r = 0;
    else if (kill(-pgid, sig) < 0 && errno != ESRCH)
        r = prun__fail(-errno, "cannot send signal %d to process group %d", sig, (int)pgid);
    pthread_mutex_unlock(&c->lock);
    return r;
}
