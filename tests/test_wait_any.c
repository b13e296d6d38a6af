/* SPDX-License-Identifier: MIT */
/* test_wait_any.c - prun_wait_any (lib/popen.c) and prun_pidfd: whichever
 * child exits first, in exit order; NULL and reaped entries skipped;
 * -ECHILD with *index == n; timeouts that reap nothing; returncodes; 500
 * children ending together, collected cheaply. */
#include "helpers.h"
#include "prun.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define SH(cmd) ARGV("sh", "-c", (cmd))
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* --- helpers ------------------------------------------------------------ */

/* `cat >/dev/null; exit code`: runs until its stdin is closed. */
static prun_proc *start_held(int code)
{
    char cmd[64];
    snprintf(cmd, sizeof cmd, "cat >/dev/null; exit %d", code);
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, SH(cmd), &o);
    return p;
}

static prun_proc *start_sh(const char *cmd)
{
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, SH((char *)cmd), NULL);
    return p;
}

/* prun_wait_any must give a child: returns its index, *rc its code. */
static size_t wait_one(prun_proc *const procs[], size_t n, int timeout_ms, int *rc)
{
    size_t index = SIZE_MAX;
    int code = INT_MIN;
    int r = prun_wait_any(procs, n, timeout_ms, &index, &code);
    ck_assert_msg(r == 0, "prun_wait_any: %d (%s)", r, prun_last_error());
    ck_assert_uint_lt(index, n);
    ck_assert_ptr_nonnull(procs[index]);
    if (rc)
        *rc = code;
    return index;
}

static void expect_echild(prun_proc *const procs[], size_t n)
{
    size_t index = SIZE_MAX;
    int code = 777;
    ck_assert_int_eq(prun_wait_any(procs, n, 10000, &index, &code), -ECHILD);
    ck_assert_uint_eq(index, n);
    ck_assert_int_eq(code, 777);  /* nothing reaped, nothing said */
    ck_assert_str_ne(prun_last_error(), "");
}

/* Blocks until the child has exited, without reaping it. */
static void wait_exited_unreaped(prun_proc *p)
{
    siginfo_t si;
    memset(&si, 0, sizeof si);
    int r;
    while ((r = waitid(P_PID, (id_t)prun_pid(p), &si, WEXITED | WNOWAIT | __WALL)) < 0 &&
           errno == EINTR)
        ;
    ck_assert_int_eq(r, 0);
    ck_assert_int_eq(si.si_pid, prun_pid(p));
}

static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void free_all(prun_proc *procs[], size_t n)
{
    for (size_t i = 0; i < n; i++)
        prun_free(procs[i]);
}

/* --- order -------------------------------------------------------------- */

/* Each child exits when its stdin is closed: the order is the test's. */
START_TEST(exit_order_by_closing_stdin)
{
    int fds = th_count_fds();
    prun_proc *procs[5];
    for (int i = 0; i < 5; i++)
        procs[i] = start_held(10 + i);
    const size_t order[] = {3, 1, 4, 0, 2};
    for (size_t k = 0; k < N_OF(order); k++) {
        ck_assert_int_eq(prun_close_stream(procs[order[k]], 0), 0);
        int rc;
        size_t got = wait_one(procs, 5, 10000, &rc);
        ck_assert_msg(got == order[k], "round %zu: index %zu, expected %zu", k, got, order[k]);
        ck_assert_int_eq(rc, 10 + (int)order[k]);
        /* reaped, and the handle knows it */
        int rc2 = -1;
        ck_assert_int_eq(prun_poll(procs[got], &rc2), 1);
        ck_assert_int_eq(rc2, rc);
        ck_assert_ptr_nonnull(prun_rusage(procs[got]));
    }
    expect_echild(procs, 5);
    free_all(procs, 5);
    th_assert_no_leaks(fds);
}
END_TEST

/* Children that exit after 1.0, 0.2 and 0.6 s come back in exit order
 * (400 ms apart: a margin no scheduler hiccup closes). */
START_TEST(exit_order_by_time)
{
    const char *cmds[] = {"sleep 1.0; exit 1", "sleep 0.2; exit 2", "sleep 0.6; exit 3"};
    const int at_ms[] = {1000, 200, 600};
    prun_proc *procs[3];
    int64_t t0 = th_now_ms();
    for (int i = 0; i < 3; i++)
        procs[i] = start_sh(cmds[i]);
    const size_t order[] = {1, 2, 0};
    for (size_t k = 0; k < 3; k++) {
        int rc;
        size_t got = wait_one(procs, 3, 20000, &rc);
        int64_t when = th_now_ms() - t0;
        ck_assert_msg(got == order[k], "exit %zu: index %zu, expected %zu", k, got, order[k]);
        ck_assert_int_eq(rc, (int)got + 1);
        ck_assert_int_ge(when, at_ms[got] - 5);
    }
    expect_echild(procs, 3);
    free_all(procs, 3);
}
END_TEST

/* --- what is skipped -------------------------------------------------------- */

START_TEST(null_entries_are_skipped)
{
    int fds = th_count_fds();
    prun_proc *a = start_held(5), *b = start_held(6);
    prun_proc *procs[] = {NULL, a, NULL, NULL, b, NULL};
    ck_assert_int_eq(prun_close_stream(b, 0), 0);
    int rc;
    ck_assert_uint_eq(wait_one(procs, N_OF(procs), 10000, &rc), 4);
    ck_assert_int_eq(rc, 6);
    ck_assert_int_eq(prun_close_stream(a, 0), 0);
    ck_assert_uint_eq(wait_one(procs, N_OF(procs), 10000, &rc), 1);
    ck_assert_int_eq(rc, 5);
    expect_echild(procs, N_OF(procs));
    prun_free(a);
    prun_free(b);

    prun_proc *none[4] = {NULL, NULL, NULL, NULL};
    expect_echild(none, 4);
    expect_echild(none, 0);
    expect_echild(NULL, 0);
    size_t index = 99;
    ck_assert_int_eq(prun_wait_any(NULL, 3, 100, &index, NULL), -EINVAL);
    ck_assert_str_ne(prun_last_error(), "");
    th_assert_no_leaks(fds);
}
END_TEST

/* Reaped by prun_wait, by communicate, or by an earlier wait_any: never
 * reported again. */
START_TEST(reaped_entries_are_skipped)
{
    int fds = th_count_fds();
    prun_proc *waited = start_sh("exit 3");
    ck_assert_int_eq(th_returncode(waited, 10000), 3);
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_proc *talked = NULL;
    TH_POPEN_OK(&talked, SH("echo hi; exit 4"), &o);
    prun_buf out;
    ck_assert_int_eq(prun_communicate(talked, NULL, 0, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "hi\n");
    prun_buf_free(&out);
    prun_proc *held = start_held(8);
    prun_proc *procs[] = {waited, talked, held, waited};

    size_t index = SIZE_MAX;
    int rc = 777;
    ck_assert_int_eq(prun_wait_any(procs, N_OF(procs), 200, &index, &rc), PRUN_ETIMEOUT);
    ck_assert_int_eq(rc, 777);
    ck_assert_int_eq(prun_close_stream(held, 0), 0);
    ck_assert_uint_eq(wait_one(procs, N_OF(procs), 10000, &rc), 2);
    ck_assert_int_eq(rc, 8);
    expect_echild(procs, N_OF(procs));
    /* the others' codes are still their own */
    ck_assert_int_eq(th_returncode(waited, 0), 3);
    ck_assert_int_eq(th_returncode(talked, 0), 4);
    free_all(procs, 3);
    th_assert_no_leaks(fds);
}
END_TEST

/* wait_any reaps; communicate afterwards still has the output, and the
 * handle the returncode. */
START_TEST(communicate_after_wait_any)
{
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, SH("echo hi; exit 5"), &o);
    int rc;
    ck_assert_uint_eq(wait_one(&p, 1, 10000, &rc), 0);
    ck_assert_int_eq(rc, 5);
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "hi\n");
    prun_buf_free(&out);
    ck_assert_int_eq(th_returncode(p, 0), 5);
    expect_echild(&p, 1);
    prun_free(p);
}
END_TEST

/* --- timeouts ------------------------------------------------------------- */

START_TEST(timeout_reaps_nothing)
{
    int fds = th_count_fds();
    prun_proc *procs[3];
    for (int i = 0; i < 3; i++)
        procs[i] = start_held(20 + i);
    size_t index = SIZE_MAX;
    int rc = 777;
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_wait_any(procs, 3, 300, &index, &rc), PRUN_ETIMEOUT);
    int64_t took = th_now_ms() - t0;
    ck_assert_int_ge(took, 280);
    ck_assert_int_lt(took, 5000);
    ck_assert_int_eq(rc, 777);
    ck_assert_str_ne(prun_last_error(), "");
    t0 = th_now_ms();
    ck_assert_int_eq(prun_wait_any(procs, 3, 0, &index, &rc), PRUN_ETIMEOUT);
    ck_assert_int_lt(th_now_ms() - t0, 1000);
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(prun_poll(procs[i], NULL), 0);  /* all still running */
    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(prun_close_stream(procs[i], 0), 0);
    int seen = 0;
    for (int k = 0; k < 3; k++) {
        size_t got = wait_one(procs, 3, 10000, &rc);
        ck_assert_int_eq(rc, 20 + (int)got);
        ck_assert(!(seen & (1 << got)));
        seen |= 1 << got;
    }
    expect_echild(procs, 3);
    free_all(procs, 3);
    th_assert_no_leaks(fds);
}
END_TEST

/* A child that has already exited is found even with timeout 0 (a poll). */
START_TEST(timeout_0_finds_an_exited_child)
{
    prun_proc *held = start_held(1), *done = start_sh("exit 4");
    prun_proc *procs[] = {held, done};
    wait_exited_unreaped(done);
    size_t index = SIZE_MAX;
    int rc = 777;
    int r = prun_wait_any(procs, 2, 0, &index, &rc);
    ck_assert_msg(r == 0, "prun_wait_any(timeout 0) with an exited child: %d (%s)", r,
                  prun_last_error());
    ck_assert_uint_eq(index, 1);
    ck_assert_int_eq(rc, 4);
    prun_close_stream(held, 0);
    free_all(procs, 2);
}
END_TEST

/* With a short timeout (not 0), an exited child is found at once. */
START_TEST(short_timeout_finds_an_exited_child)
{
    prun_proc *held = start_held(1), *done = start_sh("exit 4");
    prun_proc *procs[] = {held, done};
    wait_exited_unreaped(done);
    int rc;
    int64_t t0 = th_now_ms();
    ck_assert_uint_eq(wait_one(procs, 2, 5000, &rc), 1);
    ck_assert_int_lt(th_now_ms() - t0, 2500);
    ck_assert_int_eq(rc, 4);
    prun_close_stream(held, 0);
    free_all(procs, 2);
}
END_TEST

/* --- returncodes ------------------------------------------------------------ */

START_TEST(returncodes)
{
    int fds = th_count_fds();
    const int codes[] = {0, 1, 42, 255};
    prun_proc *procs[6];
    int want[6];
    for (int i = 0; i < 4; i++) {
        char cmd[32];
        snprintf(cmd, sizeof cmd, "exit %d", codes[i]);
        procs[i] = start_sh(cmd);
        want[i] = codes[i];
    }
    TH_POPEN_OK(&procs[4], ARGV("sleep", "1000"), NULL);
    TH_POPEN_OK(&procs[5], ARGV("sleep", "1000"), NULL);
    want[4] = -SIGKILL;
    want[5] = -SIGTERM;
    ck_assert_int_eq(prun_kill(procs[4]), 0);
    ck_assert_int_eq(prun_terminate(procs[5]), 0);
    int seen = 0;
    for (int k = 0; k < 6; k++) {
        int rc;
        size_t got = wait_one(procs, 6, 10000, &rc);
        ck_assert_msg(!(seen & (1 << got)), "index %zu came back twice", got);
        seen |= 1 << got;
        ck_assert_msg(rc == want[got], "index %zu: returncode %d, expected %d", got, rc, want[got]);
        ck_assert_int_eq(th_returncode(procs[got], 0), want[got]);
    }
    ck_assert_int_eq(seen, 0x3f);
    expect_echild(procs, 6);
    free_all(procs, 6);
    th_assert_no_leaks(fds);
}
END_TEST

/* index and returncode may be NULL. */
START_TEST(null_index_and_returncode)
{
    prun_proc *p = start_sh("exit 2");
    ck_assert_int_eq(prun_wait_any(&p, 1, 10000, NULL, NULL), 0);
    ck_assert_int_eq(th_returncode(p, 0), 2);
    ck_assert_int_eq(prun_wait_any(&p, 1, 10000, NULL, NULL), -ECHILD);
    prun_free(p);
}
END_TEST

/* Another reaper took the status (waitpid on the pid): the kernel may
 * still know it for the pidfd (Linux 6.15); otherwise -ECHILD names the
 * child, with a sentence, never a made-up code. */
START_TEST(status_taken_by_another_reaper)
{
    prun_proc *p = start_sh("exit 9");
    int st;
    ck_assert_int_eq(waitpid(prun_pid(p), &st, __WALL), prun_pid(p));
    ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 9);
    size_t index = SIZE_MAX;
    int rc = 777;
    int r = prun_wait_any(&p, 1, 10000, &index, &rc);
    if (prun_pidfd(p) >= 0 && th_kernel_keeps_exit_status()) {
        ck_assert_msg(r == 0, "prun_wait_any: %d (%s)", r, prun_last_error());
        ck_assert_uint_eq(index, 0);
        ck_assert_int_eq(rc, 9);
    } else {
        ck_assert_int_eq(r, -ECHILD);
        ck_assert_int_eq(rc, 777);
        ck_assert_ptr_nonnull(strstr(prun_last_error(), "reaper"));
    }
    prun_free(p);
}
END_TEST

/* --- many ----------------------------------------------------------------- */

enum { MANY = 500 };

/* Collects all n, checking each code; returns the CPU seconds it took. */
static double collect_all(prun_proc *procs[], size_t n, const int want[], int64_t *wall_ms)
{
    char *seen = calloc(n, 1);
    ck_assert_ptr_nonnull(seen);
    double cpu0 = cpu_seconds();
    int64_t t0 = th_now_ms();
    for (size_t k = 0; k < n; k++) {
        int rc;
        size_t got = wait_one(procs, n, 60000, &rc);
        ck_assert_msg(!seen[got], "index %zu came back twice", got);
        seen[got] = 1;
        ck_assert_msg(rc == want[got], "index %zu: returncode %d, expected %d", got, rc, want[got]);
    }
    *wall_ms = th_now_ms() - t0;
    double cpu = cpu_seconds() - cpu0;
    free(seen);
    return cpu;
}

/* 500 children held at one gate, released at once. */
START_TEST(many_exit_together)
{
    int fds = th_count_fds();
    int gate[2];
    ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
    static prun_proc *procs[MANY];
    static int want[MANY];
    for (int i = 0; i < MANY; i++) {
        char cmd[64];
        snprintf(cmd, sizeof cmd, "read x <&%d; exit %d", gate[0], i % 256);
        prun_opts o = {.pass_fds = &gate[0], .n_pass_fds = 1};
        TH_POPEN_OK(&procs[i], SH(cmd), &o);
        want[i] = i % 256;
    }
    close(gate[0]);
    size_t index;
    ck_assert_int_eq(prun_wait_any(procs, MANY, 100, &index, NULL), PRUN_ETIMEOUT);
    close(gate[1]);  /* EOF for all of them */
    int64_t wall;
    double cpu = collect_all(procs, MANY, want, &wall);
    printf("wait_any%s: %d children ending together collected in %lld ms, %.3f s of CPU\n",
           th_fallback() ? " (fallback)" : "", MANY, (long long)wall, cpu);
    ck_assert_msg(cpu < 2.0, "collecting %d children took %.3f s of CPU", MANY, cpu);
    ck_assert_int_lt(wall, 60000);
    expect_echild(procs, MANY);
    free_all(procs, MANY);
    th_assert_no_leaks(fds);
}
END_TEST

/* 500 `sh -c 'exit N'`, most of them gone before the first wait. */
START_TEST(many_exit_n)
{
    int fds = th_count_fds();
    static prun_proc *procs[MANY];
    static int want[MANY];
    for (int i = 0; i < MANY; i++) {
        char cmd[32];
        snprintf(cmd, sizeof cmd, "exit %d", (i * 7) % 256);
        procs[i] = start_sh(cmd);
        want[i] = (i * 7) % 256;
    }
    int64_t wall;
    double cpu = collect_all(procs, MANY, want, &wall);
    printf("wait_any%s: %d children (sh -c 'exit N') collected in %lld ms, %.3f s of CPU\n",
           th_fallback() ? " (fallback)" : "", MANY, (long long)wall, cpu);
    ck_assert_msg(cpu < 2.0, "collecting %d children took %.3f s of CPU", MANY, cpu);
    ck_assert_int_lt(wall, 60000);
    expect_echild(procs, MANY);
    free_all(procs, MANY);
    th_assert_no_leaks(fds);
}
END_TEST

/* --- signals ---------------------------------------------------------------- */

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

/* A signal every millisecond: the timeout is not stretched, exits are
 * not missed. */
START_TEST(eintr_storm)
{
    prun_proc *procs[2] = {start_held(1), start_held(2)};
    struct sigaction sa = {.sa_handler = on_tick};  /* no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    timer_t timer;
    ck_assert_int_eq(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
    struct itimerspec every_ms = {{0, 1000000}, {0, 1000000}};
    ck_assert_int_eq(timer_settime(timer, 0, &every_ms, NULL), 0);

    size_t index;
    int64_t t0 = th_now_ms();
    int r = prun_wait_any(procs, 2, 300, &index, NULL);
    int64_t took = th_now_ms() - t0;
    prun_close_stream(procs[1], 0);
    int rc = -1;
    int r2 = prun_wait_any(procs, 2, 10000, &index, &rc);
    timer_delete(timer);
    signal(SIGUSR1, SIG_DFL);

    ck_assert_int_eq(r, PRUN_ETIMEOUT);
    ck_assert_int_ge(took, 280);
    ck_assert_int_lt(took, 3000);
    ck_assert_int_eq(r2, 0);
    ck_assert_uint_eq(index, 1);
    ck_assert_int_eq(rc, 2);
    ck_assert_int_gt(ticks, 100);
    prun_close_stream(procs[0], 0);
    free_all(procs, 2);
}
END_TEST

/* --- prun_pidfd --------------------------------------------------------------- */

START_TEST(pidfd_is_readable_once_exited)
{
    ck_assert_int_eq(prun_pidfd(NULL), -1);
    prun_proc *p = start_held(6);
    int fd = prun_pidfd(p);
    ck_assert_int_ge(fd, 0);  /* both engines have pidfds on this kernel */
    ck_assert_int_eq(prun_pidfd(p), fd);
    ck_assert_int_ne(fcntl(fd, F_GETFD), -1);
    ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    struct pollfd pfd = {fd, POLLIN, 0};
    ck_assert_int_eq(poll(&pfd, 1, 0), 0);  /* running */
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    ck_assert_int_eq(poll(&pfd, 1, 10000), 1);
    ck_assert(pfd.revents & POLLIN);
    /* readable is not reaped: wait_any (or prun_wait) still gets the code */
    int rc;
    ck_assert_uint_eq(wait_one(&p, 1, 10000, &rc), 0);
    ck_assert_int_eq(rc, 6);
    prun_free(p);
}
END_TEST

/* --- threads ------------------------------------------------------------- */

/* Threads sharing one array of handles: each child comes back to exactly
 * one of them.  (A race: reap_one() checks "reaped" and then reaps under a
 * second lock, and prun__child_reap() answers 1 for a child another
 * thread has just reaped, so two calls can return the same index.  It is
 * probabilistic: here about one round in 80 shows it.) */
enum { SHARED = 200, THREADS = 16, ROUNDS = 30 };

static prun_proc *shared[SHARED];
static int shared_hits[SHARED];

static void *collector(void *arg)
{
    int *errors = arg;
    for (;;) {
        size_t i;
        int r = prun_wait_any(shared, SHARED, 30000, &i, NULL);
        if (r == -ECHILD)
            break;
        if (r) {
            __atomic_add_fetch(errors, 1, __ATOMIC_SEQ_CST);
            break;
        }
        __atomic_add_fetch(&shared_hits[i], 1, __ATOMIC_SEQ_CST);
    }
    return NULL;
}

START_TEST(threads_share_the_children)
{
    for (int round = 0; round < ROUNDS; round++) {
        int gate[2], errors = 0;
        ck_assert_int_eq(pipe2(gate, O_CLOEXEC), 0);
        for (int i = 0; i < SHARED; i++) {
            char cmd[64];
            snprintf(cmd, sizeof cmd, "read x <&%d; exit 1", gate[0]);
            prun_opts o = {.pass_fds = &gate[0], .n_pass_fds = 1};
            TH_POPEN_OK(&shared[i], SH(cmd), &o);
        }
        close(gate[0]);
        memset(shared_hits, 0, sizeof shared_hits);
        pthread_t t[THREADS];
        for (int k = 0; k < THREADS; k++)
            ck_assert_int_eq(pthread_create(&t[k], NULL, collector, &errors), 0);
        close(gate[1]);
        for (int k = 0; k < THREADS; k++)
            pthread_join(t[k], NULL);
        ck_assert_int_eq(errors, 0);
        for (int i = 0; i < SHARED; i++)
            ck_assert_msg(shared_hits[i] == 1, "round %d: child %d came back %d times", round, i,
                          shared_hits[i]);
        free_all(shared, SHARED);
    }
}
END_TEST

/* poll(2) refuses more fds than RLIMIT_NOFILE allows (EINVAL): with the
 * limit at 0 the wait cannot sleep on the pidfds, and says so, with
 * *index n and nothing reaped, rather than spin or pick a child. */
START_TEST(poll_failure_is_an_error)
{
    int fds = th_count_fds();
    prun_proc *p[2] = {start_sh("exec sleep 100"), start_sh("exec sleep 100")};
    if (prun_pidfd(p[0]) < 0) {  /* no pidfds: naps, no poll to fail */
        for (int i = 0; i < 2; i++)
            prun_kill(p[i]);
        free_all(p, 2);
        return;
    }
    struct rlimit old, none;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    none = (struct rlimit){0, old.rlim_max};
    size_t index = 12345;
    int rc = 12345;
    prun_pipeline_stage(NULL, 12345, NULL);  /* a sentence the failure must replace */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
    int r = prun_wait_any(p, 2, 10000, &index, &rc);
    char sentence[256];
    snprintf(sentence, sizeof sentence, "%s", prun_last_error());
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_msg(r == -EINVAL, "prun_wait_any with poll failing: %d (%s)", r, sentence);
    ck_assert_msg(strstr(sentence, "prun_wait_any: poll failed: Invalid argument"),
                  "the sentence: %s", sentence);
    ck_assert_uint_eq(index, 2);
    ck_assert_int_eq(rc, 12345);
    for (int i = 0; i < 2; i++) {
        ck_assert_int_eq(prun_poll(p[i], NULL), 0);  /* both still running */
        ck_assert_int_eq(prun_kill(p[i]), 0);
        ck_assert_int_eq(th_returncode(p[i], 20000), -SIGKILL);
    }
    free_all(p, 2);
    th_assert_no_leaks(fds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("wait_any");
    TCase *tc = th_tcase(s, "order", 60);
    tcase_add_test(tc, exit_order_by_closing_stdin);
    tcase_add_test(tc, exit_order_by_time);

    tc = th_tcase(s, "skipped", 60);
    tcase_add_test(tc, null_entries_are_skipped);
    tcase_add_test(tc, reaped_entries_are_skipped);
    tcase_add_test(tc, communicate_after_wait_any);

    tc = th_tcase(s, "timeout", 60);
    tcase_add_test(tc, timeout_reaps_nothing);
    tcase_add_test(tc, short_timeout_finds_an_exited_child);

    tc = th_tcase(s, "returncodes", 60);
    tcase_add_test(tc, returncodes);
    tcase_add_test(tc, null_index_and_returncode);
    tcase_add_test(tc, status_taken_by_another_reaper);

    tc = th_tcase(s, "many", 300);
    tcase_add_test(tc, many_exit_together);
    tcase_add_test(tc, many_exit_n);

    tc = th_tcase(s, "signals", 60);
    tcase_add_test(tc, eintr_storm);

    tc = th_tcase(s, "pidfd", 60);
    tcase_add_test(tc, pidfd_is_readable_once_exited);

    /* Each of these found a defect of the library, since fixed. */
    tc = th_tcase(s, "regressions", 60);
    tcase_add_test(tc, timeout_0_finds_an_exited_child);
    tcase_add_test(tc, threads_share_the_children);

    tc = th_tcase(s, "errors", 60);
    tcase_add_test(tc, poll_failure_is_an_error);
    tcase_set_timeout(tc, 300);

    return th_run_suite(s);
}
