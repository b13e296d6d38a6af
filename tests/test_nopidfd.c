/* SPDX-License-Identifier: MIT */
/* test_nopidfd.c - the fallback for kernels without pidfds.
 *
 * Each test runs in a forked helper whose seccomp filter makes pidfd_open,
 * pidfd_send_signal and clone3 fail with ENOSYS, as on Linux < 5.3; the
 * library must then spawn with posix_spawn, wait with waitid(WNOHANG)
 * and a short backoff and signal by pid, and still be correct: prun_run's
 * grace period, prun_readline/prun_write (which poll only the pipes) and
 * prun_wait_any (waitid by pid, with the same backoff) included.
 */
#include "helpers.h"

#include <check.h>
#include <errno.h>
#include <prun.h>
#include <signal.h>
#include <stdio.h>
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

/* prun_readline and prun_write poll only the pipes: a conversation with
 * cat works the same without pidfds. */
static int readline_from_cat(void)
{
    char *cat_argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE};
    prun_proc *p;
    prun_buf line;
    int rc = -1;
    if (prun_popen(&p, cat_argv, &o))
        return 1;
    if (prun_pidfd(p) != -1)
        return 2;
    for (int i = 0; i < 100; i++) {
        char want[32];
        size_t w = 0;
        snprintf(want, sizeof want, "line %d\n", i);
        if (prun_write(p, want, strlen(want), 10000, &w) || w != strlen(want))
            return 3;
        if (prun_readline(p, 1, 10000, &line) != 1 || strcmp(line.data, want))
            return 4;
        prun_buf_free(&line);
    }
    int64_t t0 = th_now_ms();
    if (prun_readline(p, 1, 200, &line) != PRUN_ETIMEOUT || th_now_ms() - t0 < 190)
        return 5;
    if (prun_write(p, "no newline", 10, 10000, NULL) || prun_close_stream(p, 0))
        return 6;
    if (prun_readline(p, 1, 10000, &line) != 1 || strcmp(line.data, "no newline"))
        return 7;
    prun_buf_free(&line);
    if (prun_readline(p, 1, 10000, &line) != 0 || line.data)
        return 8;
    if (prun_wait(p, 10000, &rc) || rc != 0)
        return 9;
    prun_free(p);
    return th_count_children() == 0 ? 0 : 10;
}

/* prun_wait_any without pidfds: waitid by pid, with a short backoff. */
static int wait_any_few_children(void)
{
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_proc *procs[4] = {NULL};
    size_t index = 99;
    int rc = -1;
    for (int i = 0; i < 3; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "cat >/dev/null; exit %d", 30 + i);
        char *argv[] = {"sh", "-c", cmd, NULL};
        if (prun_popen(&procs[i], argv, &o) || prun_pidfd(procs[i]) != -1)
            return 1;
    }
    /* procs[3] stays NULL: skipped */
    int64_t t0 = th_now_ms();
    if (prun_wait_any(procs, 4, 200, &index, &rc) != PRUN_ETIMEOUT || th_now_ms() - t0 < 190)
        return 2;
    for (int i = 0; i < 3; i++)
        if (prun_poll(procs[i], NULL) != 0)
            return 3;
    const size_t order[] = {2, 0, 1};
    for (int k = 0; k < 3; k++) {
        prun_close_stream(procs[order[k]], 0);
        t0 = th_now_ms();
        if (prun_wait_any(procs, 4, 10000, &index, &rc) || index != order[k])
            return 4;
        if (rc != 30 + (int)order[k])
            return 5;
        if (th_now_ms() - t0 > 2000)  /* the backoff is capped at 20 ms */
            return 6;
    }
    if (prun_wait_any(procs, 4, 10000, &index, &rc) != -ECHILD || index != 4)
        return 7;
    for (int i = 0; i < 3; i++)
        prun_free(procs[i]);

    /* An exited child is found with timeout 0 too. */
    char *argv[] = {"sh", "-c", "exit 7", NULL};
    prun_proc *p;
    siginfo_t si;
    if (prun_popen(&p, argv, NULL) || waitid(P_PID, (id_t)prun_pid(p), &si, WEXITED | WNOWAIT))
        return 8;
    if (prun_wait_any(&p, 1, 0, &index, &rc) || index != 0 || rc != 7)
        return 9;
    prun_free(p);
    return th_count_children() == 0 ? 0 : 10;
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

START_TEST(test_readline_from_cat)
{
    ck_assert_int_eq(without_pidfd(readline_from_cat), 0);
}
END_TEST

START_TEST(test_wait_any_few_children)
{
    ck_assert_int_eq(without_pidfd(wait_any_few_children), 0);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("nopidfd");
    TCase *tc = th_tcase(s, "fallback", 60);
    tcase_add_test(tc, test_wait_and_signal_by_pid);
    tcase_add_test(tc, test_wait_wakes_up_promptly);
    tcase_add_test(tc, test_run_and_grace_period);
    tcase_add_test(tc, test_readline_from_cat);
    tcase_add_test(tc, test_wait_any_few_children);
    return th_run_suite(s);
}
