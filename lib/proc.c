/* SPDX-License-Identifier: MIT */
/* proc.c - one child: reaping, waiting, signalling.
 *
 * Waits sleep in poll() on the child's pidfd (no SIGCHLD handler, no
 * global state), reaping uses waitid(P_PIDFD, __WALL) and signals
 * pidfd_send_signal(), so a recycled pid is never touched.  Where pidfds
 * are missing (ENOSYS) the pid is used, with a short backoff for waits.
 *
 * Another reaper can take a child's status: a host thread looping in
 * waitpid(-1), or SIGCHLD set to SIG_IGN, which reaps exited children in
 * the kernel.  (A clone3 child starts without an exit signal, but exec
 * gives it SIGCHLD again.)  The pidfd, which the clone3 engine has from
 * the clone itself, still knows the status then: waitid's ECHILD is
 * answered from PIDFD_GET_INFO (Linux 6.15), without resource usage.
 * Where that fails, or a posix_spawn child was reaped before its pidfd
 * existed, the wait fails with -ECHILD: never a made-up 0.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
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

/* The kernel's struct pidfd_info, its first 64 bytes (PIDFD_INFO_SIZE_VER0). */
struct pidfd_info_v0 {
    uint64_t mask;
    uint64_t cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;  /* a wait status, with PIDFD_INFO_EXIT */
};
#define PIDFD_INFO_EXIT_BIT (1ULL << 3)
#define PIDFD_GET_INFO_V0 _IOWR(0xFF, 11, struct pidfd_info_v0)

void prun__child_init(struct prun_child *c, const struct prun_spawned *s, const char *name)
{
    memset(c, 0, sizeof *c);
    c->pid = s->pid;
    c->pidfd = s->pidfd;
    snprintf(c->name, sizeof c->name, "%s", name);
    pthread_mutex_init(&c->lock, NULL);
    if (s->reaped_elsewhere)
        c->reaped = c->status_lost = 1;
}

void prun__child_destroy(struct prun_child *c)
{
    prun__close(&c->pidfd);
    pthread_mutex_destroy(&c->lock);
}

/* reaped is read without the lock by prun__child_is_reaped: stored last,
 * once the status it vouches for is in place. */
static void mark_reaped(struct prun_child *c)
{
    __atomic_store_n(&c->reaped, 1, __ATOMIC_RELEASE);
}

static void set_status(struct prun_child *c, int code, int status)
{
    c->returncode = code == CLD_EXITED ? status : -status;
    c->core_dumped = code == CLD_DUMPED;
    mark_reaped(c);
}

static int status_lost(struct prun_child *c)
{
    return prun__fail(-ECHILD, "the exit status of '%s' was taken by another reaper in this "
                      "process (waitpid(-1) or SIGCHLD set to SIG_IGN)", c->name);
}

/* Someone else reaped c: the pidfd may still know how it ended. */
static int recover_status(struct prun_child *c)
{
    struct pidfd_info_v0 info = {.mask = PIDFD_INFO_EXIT_BIT};
    memset(&c->rusage, 0, sizeof c->rusage);
    if (c->pidfd < 0 || ioctl(c->pidfd, PIDFD_GET_INFO_V0, &info) < 0 ||
        !(info.mask & PIDFD_INFO_EXIT_BIT)) {
        c->status_lost = 1;
        mark_reaped(c);
        return status_lost(c);
    }
    int st = info.exit_code;
    if (WIFEXITED(st))
        set_status(c, CLD_EXITED, WEXITSTATUS(st));
    else
        set_status(c, WCOREDUMP(st) ? CLD_DUMPED : CLD_KILLED, WTERMSIG(st));
    return 1;
}

/* Called with c->lock held. */
static int reap_locked(struct prun_child *c)
{
    if (c->status_lost)
        return status_lost(c);
    if (c->reaped)
        return 1;
    for (;;) {
        siginfo_t si;
        memset(&si, 0, sizeof si);
        /* The raw system call, for the rusage that glibc's waitid() drops;
         * __WALL, for children without an exit signal. */
        long r = c->pidfd >= 0
            ? syscall(SYS_waitid, P_PIDFD, c->pidfd, &si, WEXITED | WNOHANG | __WALL, &c->rusage)
            : syscall(SYS_waitid, P_PID, c->pid, &si, WEXITED | WNOHANG | __WALL, &c->rusage);
        if (r == 0 && si.si_pid == 0)
            return 0;
        if (r == 0) {
            set_status(c, si.si_code, si.si_status);
            c->rusage_known = 1;
            return 1;
        }
        if (errno == EINTR)
            continue;
        if (errno == ECHILD)
            return recover_status(c);
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

int prun__child_claim(struct prun_child *c)
{
    pthread_mutex_lock(&c->lock);
    int r = c->reaped ? 0 : reap_locked(c);
    pthread_mutex_unlock(&c->lock);
    return r;
}

int prun__child_is_reaped(struct prun_child *c)
{
    return __atomic_load_n(&c->reaped, __ATOMIC_ACQUIRE);
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

/* Sleeps until c has exited, without reaping it (WNOWAIT): the reap is
 * the lock holder's, and prun_kill is not held up meanwhile.  One system
 * call where a first reap and a poll are two.  A failure (ECHILD: reaped
 * already, by another thread or another reaper) is the next reap's to
 * tell. */
static void wait_exited(const struct prun_child *c)
{
    siginfo_t si;
    while (syscall(SYS_waitid, P_PIDFD, c->pidfd, &si, WEXITED | WNOWAIT | __WALL, NULL) < 0 &&
           errno == EINTR)
        ;
}

int prun__child_wait(struct prun_child *c, int64_t deadline)
{
    int backoff_ms = 1;
    if (deadline == PRUN_NO_DEADLINE && c->pidfd >= 0 && !prun__child_is_reaped(c))
        wait_exited(c);
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
        long s = c->pidfd >= 0 ? syscall(SYS_pidfd_send_signal, c->pidfd, sig, NULL, 0) : -1;
        if (c->pidfd < 0 || (s < 0 && errno == ENOSYS))  /* unreaped: the pid is still its own */
            s = kill(c->pid, sig);
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
