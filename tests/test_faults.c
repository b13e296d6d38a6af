/* SPDX-License-Identifier: MIT */
/* test_faults.c - children and callers that misbehave: a child that closes
 * every stream at once and lingers, a child that ignores SIGTERM, a caller
 * interrupted by a signal every millisecond, pipes full in both directions,
 * and running out of file descriptors.  Every test also checks that the
 * caller's fd count ends where it started and that no child is left.
 */
#include "helpers.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <prun.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#define MiB ((size_t)1024 * 1024)

/* ---- a child that closes stdin, stdout and stderr, then lingers ---- */

/* communicate must see EOF on both outputs and a broken stdin long before
 * the child exits, and still return only once it has exited, with empty
 * output, neither hanging on the pipes nor dying of SIGPIPE. */
START_TEST(closes_streams_and_lingers)
{
    int fds = th_count_fds();
    char *argv[] = {"exec 0<&- 1>&- 2>&-; sleep 1", NULL};
    prun_opts o = {.shell = 1, .stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    size_t in_len = 4 * MiB;  /* more than a (grown) pipe holds: a write must meet EPIPE */
    char *in = calloc(1, in_len);
    prun_proc *p;
    prun_buf out, err;
    int rc;
    ck_assert_ptr_nonnull(in);
    ck_assert_int_eq(prun_popen(&p, argv, &o), 0);
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_communicate(p, in, in_len, 30000, &out, &err), 0);
    int64_t took = th_now_ms() - t0;
    ck_assert_int_eq(prun_poll(p, &rc), 1);  /* it has exited: communicate waited */
    ck_assert_int_eq(rc, 0);
    ck_assert_int_ge(took, 500);              /* the 1 s linger, generously */
    ck_assert_int_lt(took, 20000);
    th_assert_buf_eq(out, "");
    th_assert_buf_eq(err, "");
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    free(in);
    th_assert_no_leaks(fds);
}
END_TEST

/* ---- a child that ignores SIGTERM ---- */

/* Starts `sh` ignoring SIGTERM (the disposition survives exec into sleep)
 * and returns once it says so on stdout. */
static prun_proc *start_term_ignorer(void)
{
    char *argv[] = {"trap '' TERM; echo ready; exec sleep 60", NULL};
    prun_opts o = {.shell = 1, .stdout_io = PRUN_PIPE};
    prun_proc *p;
    char line[16] = "";
    ck_assert_int_eq(prun_popen(&p, argv, &o), 0);
    FILE *f = fdopen(dup(prun_stdout(p)), "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_str_eq(line, "ready\n");
    return p;
}

START_TEST(ignores_sigterm)
{
    int fds = th_count_fds();
    prun_proc *p = start_term_ignorer();
    int rc;
    ck_assert_int_eq(prun_terminate(p), 0);
    ck_assert_int_eq(prun_wait(p, 300, &rc), PRUN_ETIMEOUT);  /* still running */
    ck_assert_int_eq(prun_poll(p, &rc), 0);
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(prun_wait(p, 20000, &rc), 0);
    ck_assert_int_eq(rc, -SIGKILL);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

START_TEST(timeout_ends_a_sigterm_ignorer)
{
    int fds = th_count_fds();
    char *argv[] = {"trap '' TERM; exec sleep 60", NULL};
    prun_opts o = {.shell = 1, .timeout_ms = 300};
    prun_result res;
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_run(argv, &o, &res), PRUN_ETIMEOUT);
    int64_t took = th_now_ms() - t0;
    ck_assert_int_ge(took, 250);
    ck_assert_int_lt(took, 20000);
    ck_assert_int_eq(res.returncode, -SIGKILL);
    prun_result_free(&res);
    th_assert_no_leaks(fds);
}
END_TEST

/* ---- a caller interrupted by a signal every millisecond ---- */

struct ticker {
    struct sigaction old_action;
    struct itimerval old_timer;
};

/* A signal handler may touch a sig_atomic_t and little else. */
static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

/* SIGALRM every millisecond, with a handler installed without SA_RESTART:
 * every blocking call in the library sees EINTR, again and again. */
static void ticker_start(struct ticker *t)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_tick;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    ticks = 0;
    ck_assert_int_eq(sigaction(SIGALRM, &sa, &t->old_action), 0);
    struct itimerval every_ms = {{0, 1000}, {0, 1000}};
    ck_assert_int_eq(setitimer(ITIMER_REAL, &every_ms, &t->old_timer), 0);
}

/* Stops the timer and drops a SIGALRM still pending before the old
 * disposition (the default: terminate) comes back. */
static void ticker_stop(struct ticker *t)
{
    sigset_t alrm, old_mask;
    struct timespec zero = {0, 0};
    sigemptyset(&alrm);
    sigaddset(&alrm, SIGALRM);
    sigprocmask(SIG_BLOCK, &alrm, &old_mask);
    setitimer(ITIMER_REAL, &t->old_timer, NULL);
    while (sigtimedwait(&alrm, NULL, &zero) == SIGALRM)
        ;
    sigaction(SIGALRM, &t->old_action, NULL);
    sigprocmask(SIG_SETMASK, &old_mask, NULL);
}

START_TEST(signals_every_millisecond)
{
    int fds = th_count_fds();
    size_t len = 20 * MiB;
    char *in = malloc(len);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < len; i++)
        in[i] = (char)(i * 7 + i / 4096);
    char *argv[] = {"cat", NULL};
    prun_opts o = {.input = in, .input_len = len, .capture_output = 1};
    prun_result res;
    struct ticker t;
    ticker_start(&t);
    int r = prun_run(argv, &o, &res);
    ticker_stop(&t);
    ck_assert_msg(r == 0, "prun_run: %s", prun_last_error());
    ck_assert_int_eq(res.returncode, 0);
    ck_assert_uint_eq(res.out.len, len);
    ck_assert(memcmp(res.out.data, in, len) == 0);
    ck_assert_uint_eq(res.err.len, 0);
    ck_assert_int_gt(ticks, 0);  /* the signals did arrive during the run */
    prun_result_free(&res);
    free(in);
    th_assert_no_leaks(fds);
}
END_TEST

/* ---- pipes full in both directions ---- */

/* The child fills stdout and stderr (10 MiB each) before it reads a byte
 * of its 10 MiB of input, then counts the input: a caller that wrote all
 * its input before reading would deadlock. */
START_TEST(pipes_full_both_ways)
{
    int fds = th_count_fds();
    size_t len = 10 * MiB;
    char *in = malloc(len);
    ck_assert_ptr_nonnull(in);
    memset(in, 'i', len);
    char *argv[] = {"head -c 10485760 /dev/zero; head -c 10485760 /dev/zero >&2; wc -c", NULL};
    prun_opts o = {.shell = 1, .input = in, .input_len = len, .capture_output = 1,
                   .timeout_ms = 120000};
    prun_result res;
    ck_assert_int_eq(prun_run(argv, &o, &res), 0);
    ck_assert_int_eq(res.returncode, 0);
    ck_assert_uint_eq(res.err.len, len);
    ck_assert_uint_eq(res.out.len, len + strlen("10485760\n"));
    ck_assert_str_eq(res.out.data + len, "10485760\n");
    ck_assert(memchr(res.out.data, 'i', len) == NULL);
    prun_result_free(&res);
    free(in);
    th_assert_no_leaks(fds);
}
END_TEST

/* ---- running out of file descriptors ---- */

/* Run in a forked helper, which lowers its own RLIMIT_NOFILE: nothing of
 * it reaches the test process (Check may run tests without forking).
 * Failures are reported through the exit status and stderr. */
#define EXPECT(cond)                                                            \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            _exit(1);                                                           \
        }                                                                       \
    } while (0)

enum { FD_LIMIT = 20 };

/* Open fds, counted without opening one (th_count_fds needs a free fd). */
static int open_fds(void)
{
    int n = 0;
    for (int fd = 0; fd < 1024; fd++)
        if (fcntl(fd, F_GETFD) >= 0)
            n++;
    return n;
}

/* Opens /dev/null until EMFILE; the fds go to fill[], their number returned. */
static int use_up_fds(int fill[], int max)
{
    int n = 0;
    while (n < max) {
        int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (fd < 0) {
            EXPECT(errno == EMFILE);
            break;
        }
        fill[n++] = fd;
    }
    return n;
}

/* cat with all three streams on pipes (six fds at once), fed "x". */
static int popen_three_pipes(prun_proc **p)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    return prun_popen(p, argv, &o);
}

static void expect_cat_works(void)
{
    prun_proc *p;
    prun_buf out, err;
    int rc;
    EXPECT(popen_three_pipes(&p) == 0);
    EXPECT(prun_communicate(p, "x", 1, 30000, &out, &err) == 0);
    EXPECT(prun_wait(p, PRUN_FOREVER, &rc) == 0 && rc == 0);
    EXPECT(out.len == 1 && out.data[0] == 'x' && err.len == 0);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}

/* With 0 to 5 fds free, the pipes cannot all be made: -EMFILE, and every
 * pipe made before the failure is closed again, no child started. */
static void fd_exhaustion_helper(void)
{
    struct rlimit old, low = {FD_LIMIT, FD_LIMIT};
    int fill[FD_LIMIT];
    EXPECT(getrlimit(RLIMIT_NOFILE, &old) == 0);
    low.rlim_max = old.rlim_max;
    EXPECT(setrlimit(RLIMIT_NOFILE, &low) == 0);
    int children = th_count_children();
    for (int spare = 0; spare < 6; spare++) {
        int n = use_up_fds(fill, FD_LIMIT);
        EXPECT(n > spare);
        for (int i = 0; i < spare; i++)
            close(fill[--n]);
        int fds = open_fds();
        prun_proc *p = NULL;
        int r = popen_three_pipes(&p);
        if (r != -EMFILE)
            fprintf(stderr, "%d spare fds: prun_popen returned %d (%s)\n", spare, r, prun_strerror(r));
        EXPECT(r == -EMFILE);
        EXPECT(p == NULL);
        EXPECT(strstr(prun_last_error(), "Too many open files") != NULL);
        EXPECT(open_fds() == fds);
        while (n > 0)
            close(fill[--n]);
        EXPECT(th_count_children() == children);
    }
    expect_cat_works();  /* the fds are free again, under the same limit */
    EXPECT(th_count_children() == children);
    EXPECT(setrlimit(RLIMIT_NOFILE, &old) == 0);
}

START_TEST(fd_exhaustion)
{
    int fds = th_count_fds();
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        fd_exhaustion_helper();
        exit(0);  /* exit, not _exit: a leak checker gets its say */
    }
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "the helper failed (status 0x%x): see its message above", status);
    th_assert_no_leaks(fds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("faults");
    TCase *tc = th_tcase(s, "faults", 120);
    tcase_add_test(tc, closes_streams_and_lingers);
    tcase_add_test(tc, ignores_sigterm);
    tcase_add_test(tc, timeout_ends_a_sigterm_ignorer);
    tcase_add_test(tc, signals_every_millisecond);
    tcase_add_test(tc, pipes_full_both_ways);
    tcase_add_test(tc, fd_exhaustion);
    return th_run_suite(s);
}
