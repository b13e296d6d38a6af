/* SPDX-License-Identifier: MIT */
/* test_proc.c - process handles: returncodes, poll, wait with timeouts,
 * signals, rusage, reaping without leaks or zombies, and threads. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "prun.h"

/* ---- helpers ---------------------------------------------------------- */

/* Blocks until pid has exited, leaving it a zombie for the library. */
static void wait_exited_unreaped(pid_t pid)
{
    siginfo_t si;
    ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
}

/* `sh -c cmd` with the default options. */
static prun_proc *start_sh(const char *cmd)
{
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, NULL);
    return p;
}

/* prun_poll says the child is done, with returncode rc. */
static void expect_polled(prun_proc *p, int rc)
{
    int got = 12345;
    ck_assert_int_eq(prun_poll(p, &got), 1);
    ck_assert_int_eq(got, rc);
}

static char *sleep_argv[] = {"sleep", "30", NULL};

/* ---- returncodes ------------------------------------------------------ */

enum { BATCH = 16 };

/* Every exit status, BATCH children at a time to keep it quick. */
START_TEST(exit_statuses_0_to_255)
{
    for (int base = 0; base < 256; base += BATCH) {
        prun_proc *p[BATCH];
        for (int i = 0; i < BATCH; i++) {
            char cmd[32];
            snprintf(cmd, sizeof cmd, "exit %d", base + i);
            p[i] = start_sh(cmd);
        }
        for (int i = 0; i < BATCH; i++) {
            ck_assert_int_eq(th_returncode(p[i], PRUN_FOREVER), base + i);
            prun_free(p[i]);
        }
    }
}
END_TEST

static const struct {
    const char *cmd;
    int rc;
} deaths[] = {
    {"kill -TERM $$", -SIGTERM},
    {"kill -KILL $$", -SIGKILL},
    {"ulimit -c 0; kill -ABRT $$", -SIGABRT},  /* no core file */
};

START_TEST(death_by_signal)
{
    prun_proc *p = start_sh(deaths[_i].cmd);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), deaths[_i].rc);
    prun_free(p);
}
END_TEST

/* ---- poll --------------------------------------------------------------- */

START_TEST(poll_before_and_after_exit)
{
    char *argv[] = {"sh", "-c", "read x; exit 7", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, &o);
    int rc = 12345;
    ck_assert_int_eq(prun_poll(p, &rc), 0);
    ck_assert_int_eq(rc, 12345);
    ck_assert_int_eq(prun_poll(p, NULL), 0);
    ck_assert_int_eq(th_write_all(prun_stdin(p), "A\n"), 0);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 7);
    /* Cached: the child is gone, so a second reap could not say 7. */
    for (int i = 0; i < 3; i++)
        expect_polled(p, 7);
    ck_assert_int_eq(prun_poll(p, NULL), 1);  /* done, and nowhere to say how */
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 7);
    prun_free(p);
}
END_TEST

/* poll alone reaps a child that has exited. */
START_TEST(poll_reaps_exited_child)
{
    prun_proc *p = start_sh("exit 5");
    wait_exited_unreaped(prun_pid(p));
    ck_assert_ptr_null(prun_rusage(p));
    expect_polled(p, 5);
    ck_assert_int_eq(th_count_children(), 0);
    expect_polled(p, 5);
    prun_free(p);
}
END_TEST

/* ---- wait --------------------------------------------------------------- */

/* Times out after about the timeout and leaves the child running. */
START_TEST(wait_times_out)
{
    prun_proc *p;
    TH_POPEN_OK(&p, sleep_argv, NULL);
    int rc = 12345;
    int64_t start = th_now_ms();
    ck_assert_int_eq(prun_wait(p, 300, &rc), PRUN_ETIMEOUT);
    int64_t elapsed = th_now_ms() - start;
    ck_assert_int_ge(elapsed, 250);
    ck_assert_int_lt(elapsed, 3000);
    ck_assert_int_eq(rc, 12345);
    ck_assert_int_eq(prun_poll(p, NULL), 0);
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), -SIGKILL);
    prun_free(p);
}
END_TEST

/* How long prun_wait(p, timeout_ms) took; the child must have exited 0. */
static int64_t ms_to_exit_0(prun_proc *p, int timeout_ms)
{
    int64_t start = th_now_ms();
    int rc = th_returncode(p, timeout_ms);
    int64_t elapsed = th_now_ms() - start;
    ck_assert_int_eq(rc, 0);
    return elapsed;
}

/* Wakes when the child exits, not at the timeout. */
START_TEST(wait_returns_promptly)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    int64_t elapsed = ms_to_exit_0(p, 10000);
    ck_assert_msg(elapsed < 1000, "wait took %lld ms", (long long)elapsed);
    prun_free(p);
}
END_TEST

/* The child exits while the caller is already asleep in wait. */
START_TEST(wait_wakes_on_exit_while_waiting)
{
    char *argv[] = {"sleep", "0.2", NULL};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, NULL);
    int64_t elapsed = ms_to_exit_0(p, 20000);
    ck_assert_msg(elapsed < 3000, "wait took %lld ms", (long long)elapsed);
    prun_free(p);
}
END_TEST

START_TEST(wait_zero_does_not_block)
{
    prun_proc *p;
    TH_POPEN_OK(&p, sleep_argv, NULL);
    int64_t start = th_now_ms();
    ck_assert_int_eq(prun_wait(p, 0, NULL), PRUN_ETIMEOUT);
    ck_assert_int_lt(th_now_ms() - start, 1000);
    ck_assert_int_eq(prun_kill(p), 0);
    wait_exited_unreaped(prun_pid(p));
    /* Exited: wait(0) reaps it at once. */
    int rc = 12345;
    ck_assert_int_eq(prun_wait(p, 0, &rc), 0);
    ck_assert_int_eq(rc, -SIGKILL);
    ck_assert_int_eq(prun_wait(p, 0, NULL), 0);
    prun_free(p);
}
END_TEST

/* poll(2) refuses more fds than RLIMIT_NOFILE allows (EINVAL): with the
 * limit at 0 the wait cannot sleep on the pidfd, and says so rather than
 * spin or pretend the child exited.  The child is left as it was. */
START_TEST(wait_poll_failure_is_an_error)
{
    int fds = th_count_fds();
    prun_proc *p;
    TH_POPEN_OK(&p, sleep_argv, NULL);
    if (prun_pidfd(p) < 0) {  /* no pidfd: the wait naps instead of polling */
        prun_kill(p);
        prun_free(p);
        return;
    }
    struct rlimit old, none;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    none = (struct rlimit){0, old.rlim_max};
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
    int rc = 12345;
    prun_pipeline_stage(NULL, 0, NULL);  /* a sentence the failure must replace */
    int r = prun_wait(p, 10000, &rc);
    char sentence[256];
    snprintf(sentence, sizeof sentence, "%s", prun_last_error());
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_msg(r == -EINVAL, "prun_wait with poll failing: %d (%s)", r, sentence);
    ck_assert_msg(strstr(sentence, "cannot wait for 'sleep'"), "the sentence: %s", sentence);
    ck_assert_int_eq(rc, 12345);
    ck_assert_int_eq(prun_poll(p, NULL), 0);  /* still running */
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), -SIGKILL);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* The clock of every timeout: a deadline beyond INT_MAX ms is INT_MAX
 * (poll's int), one in the past 0, none -1. */
START_TEST(ms_until_stays_an_int)
{
    int64_t now = prun_clock_ns();
    ck_assert_int_eq(prun_ms_until(now + (int64_t)INT_MAX * 1000000 * 4), INT_MAX);
    ck_assert_int_eq(prun_ms_until(now - 1000000), 0);
    ck_assert_int_eq(prun_ms_until(PRUN_NO_DEADLINE), -1);
    int left = prun_ms_until(now + 1500000000);
    ck_assert_int_gt(left, 0);
    ck_assert_int_le(left, 1500);
}
END_TEST

/* ---- signals ------------------------------------------------------------ */

static int terminate(prun_proc *p) { return prun_terminate(p); }
static int kill_it(prun_proc *p) { return prun_kill(p); }
static int interrupt(prun_proc *p) { return prun_send_signal(p, SIGINT); }

static const struct {
    int (*send)(prun_proc *p);
    int rc;
} senders[] = {{terminate, -SIGTERM}, {kill_it, -SIGKILL}, {interrupt, -SIGINT}};

START_TEST(signal_is_delivered)
{
    prun_proc *p;
    TH_POPEN_OK(&p, sleep_argv, NULL);
    ck_assert_int_eq(senders[_i].send(p), 0);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), senders[_i].rc);
    prun_free(p);
}
END_TEST

START_TEST(signals_after_reap_are_harmless)
{
    char *argv[] = {"true", NULL};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, NULL);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 0);
    ck_assert_int_eq(prun_terminate(p), 0);
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(prun_send_signal(p, SIGKILL), 0);
    expect_polled(p, 0);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 0);
    prun_free(p);
}
END_TEST

/* Exited but not reaped yet: the signal is not sent and the status stays
 * the exit status. */
START_TEST(signal_to_exited_child_keeps_status)
{
    prun_proc *p = start_sh("exit 4");
    wait_exited_unreaped(prun_pid(p));
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 4);
    prun_free(p);
}
END_TEST

/* Starts `sleep 30` as the free pid `pid`, by setting the namespace's last
 * pid just below it (root only).  NULL if not permitted, or if other
 * processes took the pid each time. */
static prun_proc *spawn_with_pid(pid_t pid)
{
    for (int attempt = 0; attempt < 20; attempt++) {
        int fd = open("/proc/sys/kernel/ns_last_pid", O_WRONLY | O_CLOEXEC);
        if (fd < 0)
            return NULL;
        char text[16];
        int len = snprintf(text, sizeof text, "%d", (int)pid - 1);
        ssize_t w = write(fd, text, (size_t)len);
        close(fd);
        prun_proc *p;
        if (w != len || prun_popen(&p, sleep_argv, NULL))
            return NULL;
        if (prun_pid(p) == pid)
            return p;
        prun_kill(p);
        prun_free(p);
    }
    return NULL;
}

/* Reaped behind the handle's back: the pid is free and may be reused, so
 * nothing may be sent to it.  Where the test can, it puts a new process
 * on that pid and checks that it survives. */
/* After another reaper took the status: what the library says.  Where
 * the kernel keeps the status of a reaped process for its pidfds
 * (PIDFD_INFO_EXIT, Linux 6.15), the right returncode and no rusage;
 * elsewhere -ECHILD with a sentence.  Never a made-up 0.  On the
 * fallback a child reaped before its pidfd existed is -ECHILD too
 * (race_on_fallback). */
static void expect_status_after_outside_reap(prun_proc *p, int want, int race_on_fallback)
{
    int rc = 12345;
    int r = prun_wait(p, PRUN_FOREVER, &rc);
    if (th_kernel_keeps_exit_status() && !(race_on_fallback && th_fallback() && r == -ECHILD)) {
        ck_assert_msg(r == 0, "prun_wait: %d (%s)", r, prun_last_error());
        ck_assert_int_eq(rc, want);
        ck_assert_ptr_null(prun_rusage(p));  /* the other reaper got it */
    } else {
        ck_assert_int_eq(r, -ECHILD);
        ck_assert_ptr_nonnull(strstr(prun_last_error(), "another reaper"));
    }
}

START_TEST(signal_after_external_reap_sends_nothing)
{
    prun_proc *p = start_sh("exit 3");
    pid_t pid = prun_pid(p);
    siginfo_t si;
    ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | __WALL), 0);
    ck_assert_int_eq(si.si_status, 3);

    prun_proc *victim = spawn_with_pid(pid);
    if (!victim)
        fprintf(stderr, "note: pid %d not reused, checking the return values only\n", (int)pid);
    ck_assert_int_eq(prun_send_signal(p, SIGKILL), 0);
    ck_assert_int_eq(prun_terminate(p), 0);
    if (victim) {
        /* Had the victim got the SIGKILL or SIGTERM, it would not die of
         * this SIGINT. */
        ck_assert_int_eq(prun_send_signal(victim, SIGINT), 0);
        ck_assert_int_eq(th_returncode(victim, PRUN_FOREVER), -SIGINT);
        prun_free(victim);
    }
    expect_status_after_outside_reap(p, 3, 0);
    prun_free(p);
}
END_TEST

/* With SIGCHLD ignored the kernel reaps exited children itself: a
 * child's exit signal is SIGCHLD once it has exec'd, whatever clone3
 * said.  Runs in a forked helper. */
START_TEST(status_survives_an_ignored_sigchld)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        signal(SIGCHLD, SIG_IGN);
        prun_proc *p = start_sh("exit 7");
        expect_status_after_outside_reap(p, 7, 1);
        ck_assert_int_eq(prun_kill(p), 0);  /* gone: nothing sent, no error */
        prun_free(p);
        p = start_sh("kill -KILL $$");  /* a death by signal comes back as one */
        expect_status_after_outside_reap(p, -SIGKILL, 1);
        prun_free(p);
        exit(0);
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper status %#x",
                  (unsigned)status);
}
END_TEST

/* Runs body() in a forked helper; its exit code is the number of the
 * first failed check (0: all passed). */
static void in_helper(int (*body)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exit(body());  /* exit(): coverage and LeakSanitizer have their say */
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper failed at step %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
}

/* With SIGCHLD ignored, the status is gone from waitid; where the pidfd
 * cannot give it back either, every wait says -ECHILD and why, every
 * signal is a harmless no-op, and nothing is left behind. */
static int status_lost_checks(void)
{
    signal(SIGCHLD, SIG_IGN);
    char *argv[] = {"sh", "-c", "exit 7", NULL};
    prun_proc *p;
    int rc = 12345;
    if (prun_popen(&p, argv, NULL))
        return 2;
    if (prun_wait(p, PRUN_FOREVER, &rc) != -ECHILD || rc != 12345 ||
        !strstr(prun_last_error(), "the exit status of 'sh' was taken by another reaper"))
        return 3;
    prun_pipeline_stage(NULL, 0, NULL);  /* the sentence the next failure must replace */
    if (prun_poll(p, &rc) != -ECHILD || rc != 12345 || !strstr(prun_last_error(), "another reaper"))
        return 4;
    if (prun_rusage(p) != NULL || prun_kill(p) != 0)
        return 5;
    prun_free(p);
    return th_count_children() == 0 ? 0 : 6;
}

/* Linux before 6.15: no PIDFD_GET_INFO (ioctl(2) answers ENOTTY). */
static int lost_without_pidfd_info(void)
{
    static const long nrs[] = {SYS_ioctl};
    return th_deny_syscalls(nrs, 1, ENOTTY) < 0 ? 1 : status_lost_checks();
}

/* Linux before 5.3: no pidfd at all, so nothing to ask. */
static int lost_without_pidfds(void)
{
    static const long nrs[] = {SYS_pidfd_open, SYS_pidfd_send_signal, SYS_clone3};
    return th_deny_syscalls(nrs, 3, ENOSYS) < 0 ? 1 : status_lost_checks();
}

START_TEST(status_lost_beyond_recovery)
{
    in_helper(lost_without_pidfd_info);
    in_helper(lost_without_pidfds);
}
END_TEST

/* A host thread that loops in waitpid(-1), as some event loops and
 * language runtimes do, takes the statuses as the children exit: on the
 * clone3 engine the pidfd exists from the clone on and every status comes
 * back right; after posix_spawn the child can be reaped before its pidfd
 * exists, and that one is -ECHILD.  Never a wrong code. */
enum { REAPED_CHILDREN = 300 };

static _Atomic int stop_reaping;

static void *reap_everything(void *arg)
{
    (void)arg;
    while (!stop_reaping) {
        int st;
        if (waitpid(-1, &st, 0) < 0 && errno == ECHILD) {
            struct timespec ms = {0, 1000000};  /* nothing to reap yet: the host's own pace */
            nanosleep(&ms, NULL);
        }
    }
    return NULL;
}

START_TEST(statuses_survive_a_waitpid_loop)
{
    prun_proc *p[REAPED_CHILDREN];
    pthread_t reaper;
    int right = 0, lost = 0;
    stop_reaping = 0;
    ck_assert_int_eq(pthread_create(&reaper, NULL, reap_everything, NULL), 0);
    for (int i = 0; i < REAPED_CHILDREN; i++) {
        char cmd[32];
        snprintf(cmd, sizeof cmd, "exit %d", i % 256);
        p[i] = start_sh(cmd);
    }
    for (int i = 0; i < REAPED_CHILDREN; i++) {
        int rc = 12345, r = prun_wait(p[i], PRUN_FOREVER, &rc);
        ck_assert_msg(r == 0 || r == -ECHILD, "child %d: %d (%s)", i, r, prun_last_error());
        if (r == 0)
            ck_assert_int_eq(rc, i % 256);
        right += r == 0;
        lost += r == -ECHILD;
        prun_free(p[i]);
    }
    stop_reaping = 1;
    prun_proc *wake;  /* one more child for the reaper's waitpid to return on */
    TH_POPEN_OK(&wake, (char *[]){"true", NULL}, NULL);
    pthread_join(reaper, NULL);
    prun_free(wake);
    fprintf(stderr, "waitpid(-1) loop: %d right, %d lost (%s engine)\n", right, lost,
            th_fallback() ? "fallback" : "clone3");
    if (th_kernel_keeps_exit_status() && !th_fallback())
        ck_assert_int_eq(right, REAPED_CHILDREN);
}
END_TEST

/* ---- rusage ------------------------------------------------------------- */

START_TEST(rusage_after_reaping)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_ptr_null(prun_rusage(p));
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    ck_assert_int_eq(prun_stdin(p), -1);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 0);
    const struct rusage *ru = prun_rusage(p);
    ck_assert_ptr_nonnull(ru);
    ck_assert_int_gt(ru->ru_maxrss, 0);  /* filled in, not just zeroes */
    prun_free(p);
}
END_TEST

/* ---- leaks and zombies -------------------------------------------------- */

START_TEST(thousand_spawns_leave_nothing)
{
    int fds = th_count_fds();
    char *argv[] = {"/bin/true", NULL};
    const prun_opts pipes = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    for (int i = 0; i < 1000; i++) {
        prun_proc *p;
        TH_POPEN_OK(&p, argv, i % 2 ? &pipes : NULL);
        ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 0);
        prun_free(p);
    }
    th_assert_no_leaks(fds);
}
END_TEST

/* prun_free closes stdin, and cat exits on that EOF. */
START_TEST(free_running_child_that_exits_on_eof)
{
    int fds = th_count_fds();
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_int_eq(prun_poll(p, NULL), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* ---- threads ------------------------------------------------------------ */

enum { N_THREADS = 8, N_ROUNDS = 50 };

struct spawner {
    pthread_t thread;
    int id;
    char failure[256]; /* empty while all is well */
};

/* One round: cat with three pipes and keep_fds.  Had another thread's
 * child inherited this stdin's write end, cat would never see EOF. */
static int cat_round(struct spawner *s, int round)
{
    char input[64];
    snprintf(input, sizeof input, "thread %d round %d\n", s->id, round);
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE,
                   .keep_fds = 1};
    prun_proc *p;
    int r = prun_popen(&p, argv, &o);
    if (r) {
        snprintf(s->failure, sizeof s->failure, "popen: %s", prun_last_error());
        return -1;
    }
    if (th_write_all(prun_stdin(p), input) || prun_close_stream(p, 0))
        snprintf(s->failure, sizeof s->failure, "cannot write to cat: %s", strerror(errno));
    char *out = th_read_all(prun_stdout(p), NULL);
    char *err = th_read_all(prun_stderr(p), NULL);
    int rc = 12345;
    r = prun_wait(p, PRUN_FOREVER, &rc);
    prun_free(p);
    if (!s->failure[0] && (r || rc || strcmp(out, input) || strcmp(err, "")))
        snprintf(s->failure, sizeof s->failure, "round %d: wait %d rc %d out \"%s\" err \"%s\"",
                 round, r, rc, out, err);
    free(out);
    free(err);
    return s->failure[0] ? -1 : 0;
}

static void *spawn_rounds(void *arg)
{
    struct spawner *s = arg;
    for (int round = 0; round < N_ROUNDS && cat_round(s, round) == 0; round++)
        ;
    return NULL;
}

START_TEST(threads_spawn_at_once)
{
    int fds = th_count_fds();
    struct spawner s[N_THREADS];
    for (int i = 0; i < N_THREADS; i++) {
        s[i] = (struct spawner){.id = i};
        ck_assert_int_eq(pthread_create(&s[i].thread, NULL, spawn_rounds, &s[i]), 0);
    }
    for (int i = 0; i < N_THREADS; i++)
        pthread_join(s[i].thread, NULL);
    for (int i = 0; i < N_THREADS; i++)
        ck_assert_msg(!s[i].failure[0], "thread %d: %s", i, s[i].failure);
    th_assert_no_leaks(fds);
}
END_TEST

struct waiter {
    prun_proc *p;
    int tid_pipe; /* the waiter writes its tid here before it waits */
    int result, rc;
};

static void *wait_forever(void *arg)
{
    struct waiter *w = arg;
    pid_t tid = gettid();
    if (write(w->tid_pipe, &tid, sizeof tid) != sizeof tid)
        return NULL;
    w->result = prun_wait(w->p, PRUN_FOREVER, &w->rc);
    return NULL;
}

/* Spins until thread tid sleeps (in its wait), so both threads are
 * known to be inside prun_wait when the child dies. */
static int thread_asleep(pid_t tid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)tid);
    for (int64_t end = th_now_ms() + 10000; th_now_ms() < end; sched_yield()) {
        char *stat = th_read_file(path, NULL);
        char *rp = stat ? strrchr(stat, ')') : NULL;
        int asleep = rp && rp[1] == ' ' && rp[2] == 'S';
        free(stat);
        if (asleep)
            return 1;
    }
    return 0;
}

START_TEST(two_threads_wait_on_one_handle)
{
    prun_proc *p;
    TH_POPEN_OK(&p, sleep_argv, NULL);
    int tids[2];
    ck_assert_int_eq(pipe2(tids, O_CLOEXEC), 0);
    struct waiter w = {p, tids[1], 12345, 12345};
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, wait_forever, &w), 0);
    pid_t tid;
    ck_assert_int_eq(read(tids[0], &tid, sizeof tid), sizeof tid);
    ck_assert(thread_asleep(tid));

    ck_assert_int_eq(prun_wait(p, 50, NULL), PRUN_ETIMEOUT);
    ck_assert_int_eq(prun_kill(p), 0);
    int rc = th_returncode(p, PRUN_FOREVER);
    pthread_join(thread, NULL);
    ck_assert_int_eq(rc, -SIGKILL);
    ck_assert_int_eq(w.result, 0);
    ck_assert_int_eq(w.rc, -SIGKILL);
    close(tids[0]);
    close(tids[1]);
    prun_free(p);
}
END_TEST

/* Kills w->p once the thread whose stat is open at stat_fd sleeps. */
struct killer {
    prun_proc *p;
    int stat_fd;
};

static void *kill_once_asleep(void *arg)
{
    struct killer *k = arg;
    char stat[512];
    for (int64_t end = th_now_ms() + 10000; th_now_ms() < end; sched_yield()) {
        ssize_t n = pread(k->stat_fd, stat, sizeof stat - 1, 0);  /* no new fd: none is left */
        stat[n > 0 ? n : 0] = '\0';
        char *rp = strrchr(stat, ')');
        if (rp && rp[1] == ' ' && rp[2] == 'S')
            break;
    }
    prun_kill(k->p);
    return NULL;
}

/* A wait without a timeout sleeps in waitid, not poll: it works where
 * poll cannot (RLIMIT_NOFILE 0, as in wait_poll_failure_is_an_error),
 * and another thread can kill the child meanwhile. */
START_TEST(wait_forever_needs_no_poll)
{
    prun_proc *p;
    TH_POPEN_OK(&p, sleep_argv, NULL);
    if (prun_pidfd(p) < 0) {  /* no pidfd: the wait naps */
        prun_kill(p);
        prun_free(p);
        return;
    }
    char path[64];
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)gettid());
    struct killer k = {p, open(path, O_RDONLY | O_CLOEXEC)};
    ck_assert_int_ge(k.stat_fd, 0);
    pthread_t thread;
    ck_assert_int_eq(pthread_create(&thread, NULL, kill_once_asleep, &k), 0);
    struct rlimit old, none;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    none = (struct rlimit){0, old.rlim_max};
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
    int rc = 12345;
    int r = prun_wait(p, PRUN_FOREVER, &rc);
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    pthread_join(thread, NULL);
    ck_assert_msg(r == 0, "prun_wait forever with poll impossible: %d (%s)", r, prun_last_error());
    ck_assert_int_eq(rc, -SIGKILL);
    close(k.stat_fd);
    prun_free(p);
}
END_TEST

/* ---- arguments ---------------------------------------------------------- */

/* Every function of a process handle, given a NULL handle (or another
 * argument out of range): the documented answer, with a sentence naming
 * the function, and nothing started or left open. */
START_TEST(null_handle_everywhere)
{
    int fds = th_count_fds();
    char *argv[] = {"true", NULL}, *empty[] = {NULL};
    prun_proc *p = (prun_proc *)&fds;  /* must come back NULL */
    int rc = 12345;
    size_t written = 12345, index = 12345;
    char buf[4];
    prun_buf line = {(char *)"junk", 4};  /* must come back empty */
    TH_EXPECT_FAIL(prun_popen(NULL, argv, NULL), -EINVAL, "prun_popen: out is NULL");
    TH_EXPECT_FAIL(prun_popen(&p, NULL, NULL), -EINVAL, "empty argv");
    ck_assert_ptr_null(p);
    p = (prun_proc *)&fds;
    TH_EXPECT_FAIL(prun_popen(&p, empty, NULL), -EINVAL, "empty argv");
    ck_assert_ptr_null(p);
    ck_assert_int_eq(prun_pid(NULL), -1);
    ck_assert_int_eq(prun_stdin(NULL), -1);
    ck_assert_int_eq(prun_stdout(NULL), -1);
    ck_assert_int_eq(prun_stderr(NULL), -1);
    ck_assert_int_eq(prun_pidfd(NULL), -1);
    ck_assert_ptr_null(prun_rusage(NULL));
    TH_EXPECT_FAIL(prun_close_stream(NULL, 0), -EINVAL, "prun_close_stream: the handle is NULL");
    TH_EXPECT_FAIL(prun_poll(NULL, &rc), -EINVAL, "prun_poll: the handle is NULL");
    TH_EXPECT_FAIL(prun_wait(NULL, 0, &rc), -EINVAL, "prun_wait: the handle is NULL");
    ck_assert_int_eq(rc, 12345);
    TH_EXPECT_FAIL(prun_send_signal(NULL, SIGTERM), -EINVAL,
                   "prun_send_signal: the handle is NULL");
    TH_EXPECT_FAIL(prun_terminate(NULL), -EINVAL, "the handle is NULL");
    TH_EXPECT_FAIL(prun_kill(NULL), -EINVAL, "the handle is NULL");
    TH_EXPECT_FAIL(prun_communicate(NULL, NULL, 0, 0, NULL, NULL), -EINVAL,
                   "prun_communicate: the handle is NULL");
    TH_EXPECT_FAIL(prun_write(NULL, "x", 1, 0, &written), -EINVAL,
                   "prun_write: the handle is NULL");
    TH_EXPECT_FAIL(prun_read(NULL, 1, buf, sizeof buf, 0), -EINVAL,
                   "prun_read: the handle is NULL");
    TH_EXPECT_FAIL(prun_readline(NULL, 1, 0, &line), -EINVAL,
                   "prun_readline: the handle is NULL");
    ck_assert_ptr_null(line.data);
    TH_EXPECT_FAIL(prun_wait_any(NULL, 2, 0, &index, &rc), -EINVAL,
                   "prun_wait_any: procs is NULL");
    ck_assert_uint_eq(index, 2);
    prun_free(NULL);

    /* A real handle, with a stream that is not 0, 1 or 2. */
    TH_POPEN_OK(&p, argv, NULL);
    TH_EXPECT_FAIL(prun_close_stream(p, -1), -EINVAL, "stream is not 0, 1 or 2");
    TH_EXPECT_FAIL(prun_close_stream(p, 3), -EINVAL, "stream is not 0, 1 or 2");
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static Suite *proc_suite(void)
{
    Suite *s = suite_create("proc");
    TCase *tc;

    tc = th_tcase(s, "returncode", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, exit_statuses_0_to_255);
    tcase_add_loop_test(tc, death_by_signal, 0, (int)(sizeof deaths / sizeof deaths[0]));

    tc = th_tcase(s, "poll", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, poll_before_and_after_exit);
    tcase_add_test(tc, poll_reaps_exited_child);

    tc = th_tcase(s, "wait", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, wait_times_out);
    tcase_add_test(tc, wait_returns_promptly);
    tcase_add_test(tc, wait_wakes_on_exit_while_waiting);
    tcase_add_test(tc, wait_zero_does_not_block);
    tcase_add_test(tc, wait_poll_failure_is_an_error);
    tcase_add_test(tc, ms_until_stays_an_int);

    tc = th_tcase(s, "signals", TH_CHECK_TIMEOUT);
    tcase_add_loop_test(tc, signal_is_delivered, 0, (int)(sizeof senders / sizeof senders[0]));
    tcase_add_test(tc, signals_after_reap_are_harmless);
    tcase_add_test(tc, signal_to_exited_child_keeps_status);
    tcase_add_test(tc, signal_after_external_reap_sends_nothing);
    tcase_add_test(tc, status_survives_an_ignored_sigchld);
    tcase_add_test(tc, status_lost_beyond_recovery);
    tcase_add_test(tc, statuses_survive_a_waitpid_loop);

    tc = th_tcase(s, "arguments", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, null_handle_everywhere);

    tc = th_tcase(s, "rusage", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, rusage_after_reaping);

    tc = th_tcase(s, "leaks", 120);
    tcase_add_test(tc, thousand_spawns_leave_nothing);
    tcase_add_test(tc, free_running_child_that_exits_on_eof);

    tc = th_tcase(s, "threads", 120);
    tcase_add_test(tc, threads_spawn_at_once);
    tcase_add_test(tc, two_threads_wait_on_one_handle);
    tcase_add_test(tc, wait_forever_needs_no_poll);

    return s;
}

int main(void)
{
    return th_run_suite(proc_suite());
}
