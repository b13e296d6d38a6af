/* SPDX-License-Identifier: MIT */
/* test_nopidfd.c - the fallback for kernels without pidfds.
 *
 * Each test runs in a forked helper whose seccomp filter makes pidfd_open,
 * pidfd_send_signal and clone3 fail with ENOSYS, as on Linux < 5.3; the
 * library must then spawn with posix_spawn, wait with waitid(WNOHANG)
 * and a short backoff and signal by pid, and still be correct.
 */
#include "helpers.h"

#include <check.h>
#include <errno.h>
#include <prun.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* Linux < 5.3: no pidfd_open, no pidfd_send_signal, and no clone3
 * (which would hand out a pidfd of its own). */
static int deny_pidfd(void)
{
    static const long nrs[] = {SYS_pidfd_open, SYS_pidfd_send_signal, SYS_clone3};
    return th_deny_syscalls(nrs, sizeof nrs / sizeof nrs[0], ENOSYS);
}

/* Runs body() in a child process without pidfds; its exit code is the
 * number of the first failed check (0: all passed). */
static int without_pidfd(int (*body)(void))
{
    pid_t pid = fork();
    if (pid == 0) {
        if (deny_pidfd() < 0 || syscall(SYS_pidfd_open, getpid(), 0) >= 0 || errno != ENOSYS)
            _exit(100);
        exit(body());  /* exit(): coverage and LeakSanitizer have their say */
    }
    int st;
    waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

static int wait_and_signal(void)
{
    char *sleep_argv[] = {"sleep", "10", NULL};
    prun_proc *p;
    int rc = 0;
    if (prun_popen(&p, sleep_argv, NULL))
        return 1;
    int64_t t0 = th_now_ms();
    if (prun_wait(p, 100, &rc) != PRUN_ETIMEOUT || th_now_ms() - t0 < 90)
        return 2;
    if (prun_poll(p, &rc) != 0)
        return 3;
    if (prun_terminate(p) || prun_wait(p, PRUN_FOREVER, &rc) || rc != -SIGTERM)
        return 4;
    if (prun_kill(p) != 0)  /* reaped: harmless */
        return 5;
    prun_free(p);
    return 0;
}

static int prompt_wakeup(void)
{
    char *cat_argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_proc *p;
    int rc = -1;
    if (prun_popen(&p, cat_argv, &o))
        return 1;
    int fd = prun_stdin(p);
    close(fd);
    int64_t t0 = th_now_ms();
    if (prun_wait(p, 10000, &rc) || rc != 0)
        return 2;
    if (th_now_ms() - t0 > 2000)  /* the backoff is capped at 20 ms */
        return 3;
    prun_free(p);
    return 0;
}

static int run_and_grace(void)
{
    char *argv[] = {"sh", "-c", "printf out; printf err >&2; exit 7", NULL};
    prun_opts o = {.capture_output = 1};
    prun_result res;
    if (prun_run(argv, &o, &res) || res.returncode != 7)
        return 1;
    if (strcmp(res.out.data, "out") || strcmp(res.err.data, "err"))
        return 2;
    prun_result_free(&res);

    /* Without a pidfd to wake it, the loop must still notice the exit. */
    char *bg[] = {"sh", "-c", "sleep 30 & echo started", NULL};
    o.new_pgroup = 1;
    int64_t t0 = th_now_ms();
    if (prun_run(bg, &o, &res) || res.returncode != 0 || strcmp(res.out.data, "started\n"))
        return 3;
    if (th_now_ms() - t0 > 5000)
        return 4;
    prun_result_free(&res);

    char *slow[] = {"sh", "-c", "printf part; exec sleep 10", NULL};
    o = (prun_opts){.capture_output = 1, .timeout_ms = 200, .new_pgroup = 1};
    if (prun_run(slow, &o, &res) != PRUN_ETIMEOUT || res.returncode != -SIGKILL)
        return 5;
    if (strcmp(res.out.data, "part"))
        return 6;
    prun_result_free(&res);
    return th_count_children() == 0 ? 0 : 7;
}

START_TEST(test_wait_and_signal_by_pid)
{
    ck_assert_int_eq(without_pidfd(wait_and_signal), 0);
}
END_TEST

START_TEST(test_wait_wakes_up_promptly)
{
    ck_assert_int_eq(without_pidfd(prompt_wakeup), 0);
}
END_TEST

START_TEST(test_run_and_grace_period)
{
    ck_assert_int_eq(without_pidfd(run_and_grace), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nopidfd");
    TCase *tc = th_tcase(s, "fallback", 60);
    tcase_add_test(tc, test_wait_and_signal_by_pid);
    tcase_add_test(tc, test_wait_wakes_up_promptly);
    tcase_add_test(tc, test_run_and_grace_period);
    return th_run_suite(s);
}
