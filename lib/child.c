/* SPDX-License-Identifier: MIT */
/* child.c - what a child does between the clone and the exec, and the two
 * ways of starting it: clone3() with a pidfd and cleared handlers (the
 * engine), and glibc's clone() (the fallback for what posix_spawn cannot
 * express).  This is x86-64 code: elsewhere clone3 answers ENOSYS here
 * and spawn.c takes the fallback.
 *
 * The child runs on a small stack of the library's own, in the caller's
 * memory (CLONE_VM) while the calling thread is suspended (CLONE_VFORK),
 * with every signal blocked.  So it makes only system calls, on data the
 * parent prepared (struct prun_child_plan): no libc function that could
 * take a lock, allocate, or touch state the parent shares, and nothing
 * the sanitizers instrument.  A step that fails is written to
 * plan->failure, which the parent reads once it runs again; the child
 * then exits with 127 and the parent reaps it.  glibc's posix_spawn child
 * (sysdeps/unix/sysv/linux/spawni.c) and Go's forkAndExecInChild1 work
 * the same way.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_clone3
#define SYS_clone3 435
#endif
#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLOSE_RANGE_UNSHARE
#define CLOSE_RANGE_UNSHARE (1U << 1)
#endif

/* No instrumentation in code the child runs: it shares the parent's
 * memory, and the sanitizers' state with it. */
#if defined(__has_attribute)
#if __has_attribute(disable_sanitizer_instrumentation)
/* clang: not even ThreadSanitizer's function entry and exit, which would
 * push onto the suspended parent thread's shadow stack */
#define CHILD_CODE __attribute__((noinline, disable_sanitizer_instrumentation))
#endif
#endif
#ifndef CHILD_CODE
#if defined(__clang__) || (defined(__GNUC__) && __GNUC__ >= 8)
#define CHILD_CODE __attribute__((noinline, no_sanitize("address", "thread", "undefined")))
#else
#define CHILD_CODE __attribute__((noinline))
#endif
#endif

/* ---- system calls without libc ---- */

#if defined(__x86_64__)
CHILD_CODE static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    register long r10 __asm__("r10") = d;
    register long r8 __asm__("r8") = e;
    register long r9 __asm__("r9") = f;
    long ret;
    __asm__ volatile("syscall"
                     : "=a"(ret)
                     : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                     : "rcx", "r11", "memory");
    return ret;
}
#else
/* glibc's syscall() is a few instructions around the trap; on failure it
 * sets errno, which is the suspended parent thread's and is restored. */
CHILD_CODE static long sys6(long n, long a, long b, long c, long d, long e, long f)
{
    long r = syscall(n, a, b, c, d, e, f);
    return r == -1 ? -errno : r;
}
#endif

#define SYS0(n) sys6((n), 0, 0, 0, 0, 0, 0)
#define SYS1(n, a) sys6((n), (long)(a), 0, 0, 0, 0, 0)
#define SYS2(n, a, b) sys6((n), (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS3(n, a, b, c) sys6((n), (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS4(n, a, b, c, d) sys6((n), (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)

/* The kernel's struct sigaction, for rt_sigaction without libc. */
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

/* ---- the child ---- */

CHILD_CODE static int fail(struct prun_child_plan *plan, int step, int detail, long err)
{
    plan->failure.step = step;
    plan->failure.detail = detail;
    plan->failure.err = (int)-err;
    SYS1(SYS_exit_group, 127);
    return -1;  /* never */
}

CHILD_CODE static void set_default(int sig)
{
    const struct kernel_sigaction dfl = {SIG_DFL, 0, NULL, 0};
    SYS4(SYS_rt_sigaction, sig, &dfl, NULL, sizeof dfl.mask);
}

/* Handlers must not run in the child (they would run in the parent's
 * memory): clone3 clears them (CLONE_CLEAR_SIGHAND); after clone() they
 * are reset here, ignored signals left alone.  Then the dispositions the
 * caller asked for. */
CHILD_CODE static void reset_signals(const struct prun_child_plan *plan)
{
    for (int sig = 1; sig < 65; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        int to_default = plan->signals == PRUN_SIGNALS_DEFAULT || sig == 32 || sig == 33 ||
                         (plan->signals == PRUN_SIGNALS_RESTORE && (sig == SIGPIPE || sig == SIGXFSZ));
        if (!to_default && plan->handlers_cleared)
            continue;
        if (!to_default) {
            struct kernel_sigaction old;
            if (SYS4(SYS_rt_sigaction, sig, NULL, &old, sizeof old.mask) < 0 ||
                old.handler == SIG_DFL || old.handler == SIG_IGN)
                continue;
        }
        set_default(sig);
    }
}

CHILD_CODE static void session_and_group(struct prun_child_plan *plan)
{
    long r;
    if (plan->new_session && (r = SYS0(SYS_setsid)) < 0)
        fail(plan, PRUN__STEP_SETSID, 0, r);
    if (!plan->new_session && plan->pgroup >= 0 && (r = SYS2(SYS_setpgid, 0, plan->pgroup)) < 0)
        fail(plan, PRUN__STEP_SETPGID, 0, r);
    if (plan->take_tty) {
        /* While fd 0 is still the caller's terminal; SIGTTOU is blocked. */
        int pgid = plan->pgroup > 0 ? plan->pgroup : (int)SYS0(SYS_getpid);
        if ((r = SYS3(SYS_ioctl, 0, TIOCSPGRP, &pgid)) < 0)
            fail(plan, PRUN__STEP_TTY, 0, r);
    }
}

/* Limits first: raising a hard one needs the privilege dropped below. */
CHILD_CODE static void limits_and_credentials(struct prun_child_plan *plan)
{
    const struct prun_creds *c = plan->creds;
    long r;
    for (size_t i = 0; i < plan->n_rlimits; i++)
        if ((r = SYS4(SYS_prlimit64, 0, plan->rlimits[i].resource, &plan->rlimits[i].limit, NULL)) < 0)
            fail(plan, PRUN__STEP_RLIMIT, (int)i, r);
    if (plan->set_umask)
        SYS1(SYS_umask, plan->umask);
    if (c->set_groups && (r = SYS2(SYS_setgroups, c->n_groups, c->groups)) < 0)
        fail(plan, PRUN__STEP_SETGROUPS, 0, r);
    if (c->set_gid && (r = SYS3(SYS_setresgid, c->gid, c->gid, c->gid)) < 0)
        fail(plan, PRUN__STEP_SETGID, 0, r);
    if (c->set_uid && (r = SYS3(SYS_setresuid, c->uid, c->uid, c->uid)) < 0)
        fail(plan, PRUN__STEP_SETUID, 0, r);
    /* After the credentials, which clear it.  A parent that died before
     * this would never send it: the child goes the same way.  A ppid of 0
     * is a parent alive in an ancestor PID namespace (the caller's
     * children start in a new one after unshare(CLONE_NEWPID)): an orphan
     * gets a reaper it can see, but for the namespace's init, which its
     * own signals cannot kill anyway. */
    if (plan->pdeathsig) {
        if ((r = SYS2(SYS_prctl, PR_SET_PDEATHSIG, plan->pdeathsig)) < 0)
            fail(plan, PRUN__STEP_PDEATHSIG, 0, r);
        long ppid = SYS0(SYS_getppid);
        if (ppid != plan->parent_pid && ppid != 0)
            SYS2(SYS_kill, SYS0(SYS_getpid), plan->pdeathsig);
    }
}

/* The digits of a /proc/self/fd entry, or -1. */
CHILD_CODE static int fd_of_name(const char *s)
{
    int fd = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9' || fd > 100000000)
            return -1;
        fd = fd * 10 + (*s - '0');
    }
    return fd;
}

CHILD_CODE static int is_kept(const struct prun_child_plan *plan, int fd)
{
    for (size_t i = 0; i < plan->n_keep; i++)
        if (plan->keep[i] == fd)
            return 1;
    return 0;
}

/* getdents64's records (struct linux_dirent64), 8-byte aligned. */
struct dirent64_head {
    uint64_t ino;
    int64_t off;
    unsigned short reclen;
    unsigned char type;
    char name[];
};

/* Before Linux 5.9 (no close_range): the fds listed in /proc/self/fd. */
CHILD_CODE static long close_listed_fds(const struct prun_child_plan *plan)
{
    char buf[1024] __attribute__((aligned(8)));
    long dir = SYS4(SYS_openat, AT_FDCWD, "/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
    if (dir < 0)
        return dir;
    for (;;) {
        long n = SYS3(SYS_getdents64, dir, buf, sizeof buf);
        if (n <= 0) {
            SYS1(SYS_close, dir);
            return n;
        }
        for (long off = 0; off < n;) {
            const struct dirent64_head *d = (const void *)(buf + off);
            int fd = fd_of_name(d->name);
            if (fd > 2 && fd != dir && !is_kept(plan, fd))
                SYS1(SYS_close, fd);
            off += d->reclen;
        }
    }
}

/* close_fds: only 0, 1, 2 and pass_fds reach the program.  With a shared
 * table (clone3 without keep_fds), close_range(CLOSE_RANGE_UNSHARE) from
 * above the highest fd the child still needs copies only the fds below
 * it: the cost does not grow with the caller's table.  The library's own
 * pipe ends, when high, are left out of that and reopened afterwards
 * through the parent's /proc/PID/fd, as the same pipes. */
CHILD_CODE static void close_fds_above(struct prun_child_plan *plan)
{
    long r;
    if (!plan->table_shared)
        return;
    for (int i = 0; i < 3; i++)  /* not reachable after all: kept the usual way */
        if (plan->reopen[i] && SYS3(SYS_faccessat, AT_FDCWD, plan->reopen_path[i], F_OK) < 0) {
            plan->reopen[i] = 0;
            if ((unsigned)plan->src[i] >= plan->first_unneeded)
                plan->first_unneeded = (unsigned)plan->src[i] + 1;
        }
    r = SYS3(SYS_close_range, plan->first_unneeded, ~0U, CLOSE_RANGE_UNSHARE);
    if (r == 0 && plan->first_unneeded == 3 && !plan->n_keep)
        plan->all_closed = 1;  /* nothing above 2 is left but close-on-exec fds */
    if (r == -ENOSYS)
        r = SYS1(SYS_unshare, CLONE_FILES);
    if (r < 0)
        fail(plan, PRUN__STEP_CLOSE_FDS, 0, r);
    for (int i = 0; i < 3; i++)
        if (plan->reopen[i]) {
            long fd = SYS4(SYS_openat, AT_FDCWD, plan->reopen_path[i], plan->reopen_flags[i], 0);
            if (fd < 0 || (r = SYS3(SYS_fcntl, fd, F_SETFL, 0)) < 0)  /* blocking, as a pipe's */
                fail(plan, PRUN__STEP_DUP, i, fd < 0 ? fd : r);
            plan->src[i] = (int)fd;
        }
}

/* The rest, once the redirections have their fds: every fd from 3 up but
 * pass_fds (which are sorted). */
CHILD_CODE static void close_other_fds(struct prun_child_plan *plan)
{
    if (!plan->close_fds || plan->all_closed)
        return;
    long r = 0;
    unsigned from = 3;
    for (size_t i = 0; i < plan->n_keep && r >= 0; i++) {
        unsigned keep = (unsigned)plan->keep[i];
        if (keep > from)
            r = SYS3(SYS_close_range, from, keep - 1, 0);
        from = keep + 1;
    }
    if (r >= 0)
        r = SYS3(SYS_close_range, from, ~0U, 0);
    if (r == -ENOSYS)
        r = close_listed_fds(plan);
    if (r < 0)
        fail(plan, PRUN__STEP_CLOSE_FDS, 0, r);
}

/* Sources among 0..2 that are not their own target could be overwritten
 * by an earlier dup (stdin from fd 1, stdout to fd 0...): copied above 2
 * first.  A source that is its own target only loses FD_CLOEXEC. */
CHILD_CODE static void redirect(struct prun_child_plan *plan)
{
    static const int devnull_flags[3] = {O_RDONLY, O_WRONLY, O_WRONLY};
    int src[3] = {plan->src[0], plan->src[1], plan->src[2]};
    long r;
    for (int t = 0; t < 3; t++)
        if (src[t] >= 0 && src[t] < 3 && src[t] != t) {
            if ((r = SYS3(SYS_fcntl, src[t], F_DUPFD_CLOEXEC, 3)) < 0)
                fail(plan, PRUN__STEP_DUP, t, r);
            src[t] = (int)r;
        }
    for (int t = 0; t < 3; t++) {
        int s = src[t];
        if (s == PRUN_SRC_INHERIT)
            continue;
        if (s == PRUN_SRC_DEVNULL) {
            if ((r = SYS4(SYS_openat, AT_FDCWD, "/dev/null", devnull_flags[t] | O_CLOEXEC, 0)) < 0)
                fail(plan, PRUN__STEP_DEVNULL, t, r);
            s = (int)r;
        } else if (s == PRUN_SRC_STDOUT)
            s = 1;
        if (s == t)
            r = SYS3(SYS_fcntl, t, F_SETFD, 0);
        else
            r = SYS3(SYS_dup3, s, t, 0);
        if (r < 0)
            fail(plan, PRUN__STEP_DUP, t, r);
    }
    for (size_t i = 0; i < plan->n_keep; i++)
        if ((r = SYS3(SYS_fcntl, plan->keep[i], F_SETFD, 0)) < 0)
            fail(plan, PRUN__STEP_PASS_FDS, plan->keep[i], r);
}

/* PATH search as CPython's _execvpe, but stopping where glibc's execvp
 * stops: a name that is not there (ENOENT, ENOTDIR, and the NFS and
 * automounter answers ESTALE, ENODEV, ETIMEDOUT) goes on to the next
 * directory, and so does EACCES, remembered; any other error is about a
 * program that was found and is reported (never run another program
 * because this one hit EAGAIN or E2BIG). */
CHILD_CODE static void exec(struct prun_child_plan *plan)
{
    long r = -ENOENT, eacces = 0;
    for (const char *const *path = plan->candidates; *path; path++) {
        r = SYS3(SYS_execve, *path, plan->argv, plan->envp);
        if (r == -EACCES)
            eacces = r;
        else if (r != -ENOENT && r != -ENOTDIR && r != -ESTALE && r != -ENODEV &&
                 r != -ETIMEDOUT)
            fail(plan, PRUN__STEP_EXEC, 0, r);  /* found, and it cannot run */
    }
    fail(plan, PRUN__STEP_EXEC, 0, eacces ? eacces : r);
}

CHILD_CODE static int child_main(void *arg)
{
    struct prun_child_plan *plan = arg;
    long r;
    reset_signals(plan);
    session_and_group(plan);
    /* The fds first: the table while it is still shared and /proc/PARENT
     * still ours to read, and before a low RLIMIT_NOFILE could refuse
     * /dev/null or a copy. */
    close_fds_above(plan);
    redirect(plan);
    close_other_fds(plan);
    limits_and_credentials(plan);
    if (plan->cwd && (r = SYS1(SYS_chdir, plan->cwd)) < 0)
        fail(plan, PRUN__STEP_CHDIR, 0, r);
    if ((r = SYS4(SYS_rt_sigprocmask, SIG_SETMASK, &plan->sigmask, NULL, sizeof plan->sigmask)) < 0)
        fail(plan, PRUN__STEP_SIGNALS, 0, r);
    exec(plan);
    return 127;
}

/* ---- starting it ---- */

/* All signals blocked around the clone (glibc's internal ones too, which
 * pthread_sigmask leaves alone), so none is handled in the child before
 * its handlers are gone. */
static void block_all(unsigned long *old)
{
    const unsigned long all = ~0UL;
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, &all, old, sizeof all);
}

static void restore_mask(const unsigned long *old)
{
    syscall(SYS_rt_sigprocmask, SIG_SETMASK, old, NULL, sizeof *old);
}

/* The top of the child's stack: 16-byte aligned, as calls need. */
static void *stack_top(struct prun_child_plan *plan)
{
    uintptr_t top = (uintptr_t)(plan->stack + sizeof plan->stack);
    return (void *)(top & ~(uintptr_t)15);
}

#if defined(__x86_64__)
#define PRUN_HAVE_CLONE3 1

struct clone_args_v0 {
    uint64_t flags, pidfd, child_tid, parent_tid, exit_signal, stack, stack_size, tls;
};

/* System call nr (clone3, or clone with its first three arguments: its
 * child_tid and tls are 0), and in the child fn(arg) on the new stack,
 * then exit_group with its value: the child never returns into the
 * caller's frames.  Raw for clone too, not glibc's clone(): a
 * sanitizer's interceptor of clone() (ThreadSanitizer's) takes every
 * child for a fork and aborts in it. */
static long clone_run(long nr, long a, long b, long c, int (*fn)(void *), void *arg)
{
    register long r10 __asm__("r10") = 0;
    register long r8 __asm__("r8") = 0;
    register long r12 __asm__("r12") = (long)fn;
    register long r13 __asm__("r13") = (long)arg;
    long ret;
    __asm__ volatile("syscall\n\t"
                     "testq %%rax, %%rax\n\t"
                     "jnz 1f\n\t"
                     "xorl %%ebp, %%ebp\n\t"
                     "movq %%r13, %%rdi\n\t"
                     "callq *%%r12\n\t"
                     "movl %%eax, %%edi\n\t"
                     "movl $231, %%eax\n\t" /* exit_group */
                     "syscall\n\t"
                     "hlt\n"
                     "1:"
                     : "=a"(ret)
                     : "a"(nr), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r12), "r"(r13)
                     : "rcx", "r11", "memory", "cc");
    return ret;
}

/* clone(2) of a child that shares our memory until its exec; its pidfd
 * in *fd where the kernel has CLONE_PIDFD.  0 or -errno. */
static long clone_vfork(struct prun_child_plan *plan, int *fd)
{
    const long flags = CLONE_VM | CLONE_VFORK | SIGCHLD;
    long top = (long)stack_top(plan);
    long r = clone_run(SYS_clone, flags | CLONE_PIDFD, top, (long)fd, child_main, plan);
    if (r == -EINVAL)  /* before Linux 5.2: no CLONE_PIDFD */
        r = clone_run(SYS_clone, flags, top, 0, child_main, plan);
    return r;
}
#else
static long clone_vfork(struct prun_child_plan *plan, int *fd)
{
    int saved = errno;
    long r = clone(child_main, stack_top(plan), CLONE_VM | CLONE_VFORK | CLONE_PIDFD | SIGCHLD,
                   plan, fd);
    if (r < 0 && errno == EINVAL)  /* before Linux 5.2: no CLONE_PIDFD */
        r = clone(child_main, stack_top(plan), CLONE_VM | CLONE_VFORK | SIGCHLD, plan);
    if (r < 0)
        r = -errno;
    errno = saved;
    return r;
}
#endif

int prun__child_clone3(struct prun_child_plan *plan, pid_t *pid, int *pidfd)
{
#ifdef PRUN_HAVE_CLONE3
    unsigned long old;
    int fd = -1;
    uintptr_t top = (uintptr_t)stack_top(plan), bottom = (uintptr_t)plan->stack;
    struct clone_args_v0 args = {
        .flags = CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_CLEAR_SIGHAND |
                 (plan->table_shared ? CLONE_FILES : 0),
        .pidfd = (uint64_t)(uintptr_t)&fd,
        /* No SIGCHLD for a child that fails before its exec (the parent
         * reaps it with __WALL).  The kernel resets the exit signal to
         * SIGCHLD at exec (de_thread), so a program's exit is signalled
         * as usual; the pidfd is what keeps its status (proc.c). */
        .exit_signal = 0,
        .stack = bottom,
        .stack_size = top - bottom,
    };
    plan->handlers_cleared = 1;
    plan->failure.step = 0;
    /* Blocked although the kernel clears the handlers: a signal before the
     * exec must wait for the mask the caller asked for, and the TIOCSPGRP
     * of take_tty, from a background group, raises SIGTTOU. */
    block_all(&old);
    long r = clone_run(SYS_clone3, (long)&args, (long)sizeof args, 0, child_main, plan);
    restore_mask(&old);
    if (r < 0)
        return (int)r;
    *pid = (pid_t)r;
    *pidfd = fd;
    return 0;
#else
    (void)plan, (void)pid, (void)pidfd;
    return -ENOSYS;
#endif
}

int prun__child_clone(struct prun_child_plan *plan, pid_t *pid, int *pidfd)
{
    unsigned long old;
    int fd = -1;
    plan->handlers_cleared = 0;
    plan->table_shared = 0;
    plan->failure.step = 0;
    block_all(&old);
    long r = clone_vfork(plan, &fd);
    restore_mask(&old);
    if (r < 0)
        return (int)r;
    *pid = (pid_t)r;
    *pidfd = fd;
    return 0;
}

/* A child whose step failed has exited; it is reaped here, whatever its
 * exit signal. */
void prun__child_reap_failed(pid_t pid, int pidfd)
{
    siginfo_t si;
    int r;
    do
        r = pidfd >= 0 ? waitid((idtype_t)3 /* P_PIDFD */, (id_t)pidfd, &si, WEXITED | __WALL)
                       : waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL);
    while (r < 0 && errno == EINTR);
}
