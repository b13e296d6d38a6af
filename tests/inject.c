/* SPDX-License-Identifier: MIT */
/* inject.c - see inject.h. */
#include "inject.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SECCOMP_USER_NOTIF_FLAG_CONTINUE
#define SECCOMP_USER_NOTIF_FLAG_CONTINUE (1UL << 0)
#endif

/* ---- what is counted, and what fails ---- */

static _Atomic int armed;
static _Atomic int armed_kind;
static _Atomic unsigned long target, counted;
static _Atomic int variant_wanted;
static _Atomic int did_fail, failed_errno;
static _Atomic long failed_nr;
static _Thread_local int counting_thread;  /* allocations count on the armed thread only */

void inject_arm(enum inject_kind kind, unsigned long n, int variant)
{
    counted = 0;
    did_fail = 0;
    failed_nr = -1;
    failed_errno = 0;
    target = n;
    variant_wanted = variant;
    armed_kind = kind;
    counting_thread = 1;
    armed = 1;
}

void inject_disarm(void)
{
    armed = 0;
    counting_thread = 0;
}

unsigned long inject_count(void)
{
    return counted;
}

int inject_failed(void)
{
    return did_fail;
}

long inject_failed_nr(void)
{
    return failed_nr;
}

int inject_failed_errno(void)
{
    return failed_errno;
}

/* ---- allocations ---- */

void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__real_realloc(void *p, size_t size);

static int allocation_fails(void)
{
    if (!armed || armed_kind != INJECT_ALLOC || !counting_thread)
        return 0;
    if (++counted != target)
        return 0;
    did_fail = 1;
    failed_errno = ENOMEM;
    return 1;
}

void *__wrap_malloc(size_t size)
{
    if (allocation_fails()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_malloc(size);
}

void *__wrap_calloc(size_t n, size_t size)
{
    if (allocation_fails()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_calloc(n, size);
}

void *__wrap_realloc(void *p, size_t size)
{
    if (allocation_fails()) {
        errno = ENOMEM;
        return NULL;
    }
    return __real_realloc(p, size);
}

/* ---- system calls ---- */

/* The errnos a call can really fail with.  0: never failed here, because
 * it cannot fail (getpid, exit), or its failure would say nothing about
 * the library (memory mapping: the allocator's business, covered by the
 * allocation failures; close: Linux closes the fd even when it fails,
 * which an injected failure would not). */
static const struct {
    long nr;
    int err[2];
} realistic[] = {
    {SYS_pipe2, {EMFILE, ENFILE}},
    {SYS_dup, {EMFILE}},
    {SYS_dup2, {EMFILE}},
    {SYS_dup3, {EMFILE}},
    {SYS_fcntl, {EINVAL}},  /* F_DUPFD*: EMFILE, see errno_for() */
    {SYS_clone3, {EAGAIN, ENOMEM}},
    {SYS_clone, {EAGAIN, ENOMEM}},
    {SYS_poll, {EINTR}},
    {SYS_ppoll, {EINTR}},
    {SYS_read, {EINTR, EIO}},
    {SYS_write, {EINTR, EIO}},
    {SYS_waitid, {EINTR}},
    {SYS_wait4, {EINTR}},
    {SYS_pidfd_open, {EMFILE, ENOSYS}},
    {SYS_pidfd_send_signal, {ENOSYS, EPERM}},
    {SYS_kill, {EPERM}},
    {SYS_open, {EMFILE, ENOENT}},
    {SYS_openat, {EMFILE, ENOENT}},
    {SYS_execve, {ENOENT, EACCES}},
    {SYS_rt_sigprocmask, {EINVAL}},
    {SYS_rt_sigaction, {EINVAL}},
    {SYS_rt_sigpending, {EINVAL}},
    {SYS_rt_sigtimedwait, {EINTR}},
    {SYS_ioctl, {ENOTTY}},
    {SYS_chdir, {ENOENT}},
    {SYS_setsid, {EPERM}},
    {SYS_setpgid, {EPERM}},
    {SYS_prlimit64, {EPERM}},
    {SYS_setgroups, {EPERM}},
    {SYS_setresuid, {EPERM}},
    {SYS_setresgid, {EPERM}},
    {SYS_getgroups, {EINVAL}},
    {SYS_prctl, {EINVAL}},
    {SYS_close_range, {EINVAL, ENOSYS}},
    {SYS_unshare, {ENOMEM}},
    {SYS_getdents64, {EIO}},
    {SYS_access, {EACCES}},
    {SYS_faccessat, {EACCES}},
    {SYS_faccessat2, {EACCES}},
    {SYS_stat, {ENOENT}},
    {SYS_newfstatat, {ENOENT}},
    {SYS_fstat, {EIO}},
    {SYS_lseek, {EINVAL}},
    {SYS_nanosleep, {EINTR}},
    {SYS_clock_nanosleep, {EINTR}},
    {SYS_socket, {EMFILE, EACCES}},
    {SYS_connect, {ENOENT}},
    {SYS_umask, {0}},
    {SYS_close, {0}},
    {SYS_getpid, {0}},
    {SYS_gettid, {0}},
    {SYS_getppid, {0}},
    {SYS_getuid, {0}},
    {SYS_geteuid, {0}},
    {SYS_getgid, {0}},
    {SYS_getegid, {0}},
    {SYS_exit, {0}},
    {SYS_exit_group, {0}},
    {SYS_rt_sigreturn, {0}},
    {SYS_futex, {0}},
    {SYS_sched_yield, {0}},
    {SYS_restart_syscall, {0}},
    {SYS_mmap, {0}},
    {SYS_munmap, {0}},
    {SYS_mremap, {0}},
    {SYS_mprotect, {0}},
    {SYS_brk, {0}},
    {SYS_clock_gettime, {0}},
    {SYS_gettimeofday, {0}},
    {SYS_sigaltstack, {0}},
    {SYS_getrandom, {0}},
};

int inject_errno_for(long nr, int variant)
{
    for (size_t i = 0; i < sizeof realistic / sizeof realistic[0]; i++)
        if (realistic[i].nr == nr)
            return variant >= 0 && variant < 2 ? realistic[i].err[variant] : 0;
    return variant == 0 ? EINVAL : 0;  /* not in the list: the generic "cannot" */
}

int inject_variants(long nr)
{
    return inject_errno_for(nr, 1) ? 2 : inject_errno_for(nr, 0) ? 1 : 0;
}

/* fcntl's errno depends on its command: a new fd can run out. */
static int errno_for(const struct seccomp_data *d, int variant)
{
    if (d->nr == SYS_fcntl && (d->args[1] == F_DUPFD || d->args[1] == F_DUPFD_CLOEXEC))
        return variant == 0 ? EMFILE : 0;
    if (d->nr == SYS_madvise)  /* the library's MADV_POPULATE_WRITE, not the allocator's */
        return variant == 0 && d->args[2] == 23 ? EINVAL : 0;
    return inject_errno_for(d->nr, variant);
}

static int listener = -1;
static pid_t main_tid;
static struct stat own_exe;

/* The calling thread, or one of the library's children before its exec
 * (it runs this program's image until then). */
static int is_ours(pid_t tid)
{
    if (tid == main_tid)
        return 1;
    char path[64];
    struct stat st;
    snprintf(path, sizeof path, "/proc/%d/exe", (int)tid);
    return stat(path, &st) == 0 && st.st_dev == own_exe.st_dev && st.st_ino == own_exe.st_ino;
}

static void answer(struct seccomp_notif *req, struct seccomp_notif_resp *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->id = req->id;
    resp->flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
    if (!armed || armed_kind != INJECT_SYSCALL || !is_ours((pid_t)req->pid))
        return;
    if (!errno_for(&req->data, 0))  /* not failed, so not counted */
        return;
    if (++counted != target || did_fail)
        return;
    int e = errno_for(&req->data, variant_wanted);
    if (!e)  /* this call has no second errno */
        return;
    did_fail = 1;
    failed_nr = req->data.nr;
    failed_errno = e;
    resp->flags = 0;
    resp->error = -e;
}

static pthread_mutex_t ready_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t ready = PTHREAD_COND_INITIALIZER;

static void *supervise(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&ready_lock);
    while (listener < 0)
        pthread_cond_wait(&ready, &ready_lock);
    pthread_mutex_unlock(&ready_lock);
    for (;;) {
        struct seccomp_notif req;
        struct seccomp_notif_resp resp;
        memset(&req, 0, sizeof req);
        if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &req) < 0) {
            if (errno == EINTR || errno == ENOENT)
                continue;
            return NULL;
        }
        answer(&req, &resp);
        ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);  /* ENOENT: the task is gone */
    }
}

/* Every system call of this thread to the supervisor, but those that are
 * let through at once (the thread's own futex waits among them). */
static int install_filter(void)
{
    static const long pass[] = {SYS_futex, SYS_exit, SYS_exit_group, SYS_rt_sigreturn,
                                SYS_getpid, SYS_gettid, SYS_sched_yield, SYS_restart_syscall,
                                SYS_clock_gettime, SYS_gettimeofday};
    enum { N_PASS = sizeof pass / sizeof pass[0] };
    struct sock_filter f[N_PASS + 3];
    size_t k = 0;
    f[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < N_PASS; i++)
        f[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)pass[i],
                                              (unsigned char)(N_PASS - i), 0);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF);
    f[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    struct sock_fprog prog = {(unsigned short)k, f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
                        &prog);
}

int inject_start(void)
{
    pthread_t t;
    main_tid = (pid_t)syscall(SYS_gettid);
    if (stat("/proc/self/exe", &own_exe) < 0)
        return -1;
    /* Started before the filter, so that the supervisor is not under it. */
    if (pthread_create(&t, NULL, supervise, NULL) != 0)
        return -1;
    pthread_detach(t);
    int fd = install_filter();
    if (fd < 0)
        return -1;
    pthread_mutex_lock(&ready_lock);
    listener = fd;
    pthread_cond_signal(&ready);
    pthread_mutex_unlock(&ready_lock);
    return 0;
}
