/* SPDX-License-Identifier: MIT */
/* helpers.c - small utilities shared by the Check suites. */
#include "helpers.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

int th_count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;
}

int th_count_children(void)
{
    DIR *d = opendir("/proc");
    int n = 0;
    pid_t me = getpid();
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            continue;
        ssize_t len = read(fd, buf, sizeof buf - 1);
        close(fd);
        if (len <= 0)
            continue;
        buf[len] = '\0';
        char *rp = strrchr(buf, ')');  /* comm may hold spaces */
        int ppid;
        char state;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == me)
            n++;
    }
    closedir(d);
    return n;
}

int64_t th_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *th_read_all(int fd, size_t *lenp)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (cap - len < 2)
            buf = realloc(buf, cap *= 2);
        ssize_t r = read(fd, buf + len, cap - len - 1);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    buf[len] = '\0';
    if (lenp)
        *lenp = len;
    return buf;
}

char *th_read_file(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    char *s = th_read_all(fd, len);
    close(fd);
    return s;
}

void th_write_file(const char *path, const char *data, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
    if (fd < 0)
        return;
    size_t len = strlen(data);
    while (len) {
        ssize_t w = write(fd, data, len);
        if (w <= 0)
            break;
        data += w;
        len -= (size_t)w;
    }
    fchmod(fd, mode);
    close(fd);
}

char *th_mkdtemp(void)
{
    const char *base = getenv("TMPDIR");
    char *tmpl;
    if (asprintf(&tmpl, "%s/prun-test-XXXXXX", base && *base ? base : "/tmp") < 0)
        return NULL;
    if (!mkdtemp(tmpl)) {
        free(tmpl);
        return NULL;
    }
    return tmpl;
}

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    (void)st, (void)flag, (void)ftw;
    return remove(path);
}

void th_rm_rf(const char *dir)
{
    nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int th_write_all(int fd, const char *s)
{
    for (size_t len = strlen(s); len;) {
        ssize_t w = write(fd, s, len);
        if (w <= 0)
            return -1;
        s += w;
        len -= (size_t)w;
    }
    return 0;
}

/* A pidfd is readable once the process has exited. */
int th_wait_gone(pid_t pid, int ms)
{
    int fd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (fd < 0)
        return errno == ESRCH;
    struct pollfd pfd = {fd, POLLIN, 0};
    int r = poll(&pfd, 1, ms);
    close(fd);
    return r > 0;
}

void th_assert_no_leaks(int fds_before)
{
    ck_assert_int_eq(th_count_fds(), fds_before);
    ck_assert_int_eq(th_count_children(), 0);
}

TCase *th_tcase(Suite *s, const char *name, int timeout)
{
    TCase *tc = tcase_create(name);
    if (timeout != TH_CHECK_TIMEOUT)
        tcase_set_timeout(tc, timeout);
    suite_add_tcase(s, tc);
    return tc;
}

int th_deny_syscalls(const long *nrs, size_t n, int err)
{
    struct sock_filter filter[64];
    size_t k = 0;
    if (n > 60)
        return -1;
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
                                               offsetof(struct seccomp_data, nr));
    for (size_t i = 0; i < n; i++)  /* a match jumps to the last statement */
        filter[k++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i],
                                                   (unsigned char)(n - i), 0);
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    filter[k++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err);
    struct sock_fprog prog = {(unsigned short)k, filter};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Does the kernel keep a reaped child's status for its pidfds? */
int th_kernel_keeps_exit_status(void)
{
    static int known = -1;
    struct {
        uint64_t mask, cgroupid;
        uint32_t ids[11];
        int32_t exit_code;
    } info = {.mask = 1u << 3};
    if (known >= 0)
        return known;
    /* The child waits for its pidfd: with SIGCHLD ignored (the callers'
     * case) it would otherwise be reaped before pidfd_open could see it. */
    int go[2];
    if (pipe2(go, O_CLOEXEC) < 0)
        return known = 0;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char c;
        close(go[1]);
        _exit(read(go[0], &c, 1) == 0 ? 5 : 6);
    }
    close(go[0]);
    int fd = pid > 0 ? (int)syscall(SYS_pidfd_open, pid, 0) : -1, st;
    close(go[1]);
    if (pid > 0)
        waitpid(pid, &st, 0);  /* ECHILD after it is gone, when SIGCHLD is ignored */
    known = fd >= 0 && ioctl(fd, _IOWR(0xFF, 11, info), &info) == 0 && (info.mask & (1u << 3)) &&
            info.exit_code == 5 << 8;
    if (fd >= 0)
        close(fd);
    return known;
}

int th_drop_caps(const int *caps, size_t n)
{
    struct __user_cap_header_struct head = {_LINUX_CAPABILITY_VERSION_3, 0};
    struct __user_cap_data_struct data[2];
    if (syscall(SYS_capget, &head, data) < 0)
        return -1;
    for (size_t i = 0; i < n; i++) {
        unsigned bit = 1u << (caps[i] % 32);
        data[caps[i] / 32].effective &= ~bit;
        data[caps[i] / 32].permitted &= ~bit;
        data[caps[i] / 32].inheritable &= ~bit;
    }
    return (int)syscall(SYS_capset, &head, data);
}

int th_fallback(void)
{
    return getenv("PRUN_TEST_FALLBACK") != NULL;
}

/* The same program again, with clone3 answering ENOSYS as Linux < 5.3
 * and container profiles do: the library falls back to posix_spawn
 * (and to clone() for what posix_spawn cannot do). */
static int run_on_fallback(void)
{
    static const long clone3[] = {SYS_clone3};
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return EXIT_FAILURE;
    if (pid == 0) {
        setenv("PRUN_TEST_FALLBACK", "1", 1);
        if (th_deny_syscalls(clone3, 1, ENOSYS) < 0)
            _exit(99);
        execl("/proc/self/exe", "fallback", (char *)NULL);
        _exit(99);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(status) ? WEXITSTATUS(status) : EXIT_FAILURE;
}

int th_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    if (th_fallback())
        printf("(the fallback engine: clone3 refused)\n");
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    if (!th_fallback() && !getenv("PRUN_TEST_ONE_ENGINE") && run_on_fallback() != EXIT_SUCCESS)
        failed = 1;
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
