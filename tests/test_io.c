/* SPDX-License-Identifier: MIT */
/* test_io.c - prun_write, prun_read, prun_readline and their pipeline
 * forms (lib/io.c): a child talked to a little at a time, line by line,
 * with timeouts; partial lines kept; what readline reads ahead handed to
 * prun_read and prun_communicate first; EPIPE without SIGPIPE; max_output
 * for a line; errors for streams that are not pipes. */
#include "helpers.h"
#include "prun.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024 * 1024)
#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define SH(cmd) ARGV("sh", "-c", (cmd))

/* --- helpers ------------------------------------------------------------ */

static prun_proc *start(char *const argv[], enum prun_io in, enum prun_io out, enum prun_io err)
{
    prun_opts o = {.stdin_io = in, .stdout_io = out, .stderr_io = err};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, argv, &o);
    return p;
}

static prun_proc *start_sh(const char *cmd, enum prun_io in, enum prun_io out, enum prun_io err)
{
    return start(SH((char *)cmd), in, out, err);
}

/* A pipe the child blocks on (`read x <&FD`) until gate_open(), so that
 * a test can hold a child at a known point without sleeping in it. */
struct gate {
    int fds[2];
};

static void gate_init(struct gate *g)
{
    ck_assert_int_eq(pipe2(g->fds, O_CLOEXEC), 0);
}

/* `sh -c CMD`, where CMD uses %d once for the gate's fd. */
static prun_proc *start_gated(struct gate *g, const char *fmt, prun_opts o)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, fmt, g->fds[0]);
    o.pass_fds = &g->fds[0];
    o.n_pass_fds = 1;
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, SH(cmd), &o);
    close(g->fds[0]);
    g->fds[0] = -1;
    return p;
}

static void gate_open(struct gate *g)
{
    ck_assert_int_eq(write(g->fds[1], "go\n", 3), 3);
    close(g->fds[1]);
    g->fds[1] = -1;
}

/* len bytes that no lost, doubled or reordered chunk can imitate. */
static char *patterned(size_t len)
{
    char *buf = malloc(len);
    ck_assert_ptr_nonnull(buf);
    uint64_t x = 0x9e3779b97f4a7c15u;
    for (size_t i = 0; i < len; i++) {
        if (i % 8 == 0) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        buf[i] = (char)(x >> (8 * (i % 8)));
    }
    return buf;
}

/* What `seq 1 n` prints; free() it. */
static char *seq_text(int n, size_t *len)
{
    size_t cap = (size_t)n * 8 + 16, at = 0;
    char *s = malloc(cap);
    ck_assert_ptr_nonnull(s);
    for (int i = 1; i <= n; i++)
        at += (size_t)snprintf(s + at, cap - at, "%d\n", i);
    *len = at;
    return s;
}

static int in_path(const char *prog)
{
    const char *path = getenv("PATH");
    char buf[4096];
    if (!path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, p, prog);
        if (access(buf, X_OK) == 0)
            return 1;
        p += n + (p[n] == ':');
    }
    return 0;
}

/* The last error is a sentence: not empty, and naming `word`. */
#define ASSERT_SENTENCE(word)                                                            \
    do {                                                                                 \
        const char *e_ = prun_last_error();                                              \
        ck_assert_msg(e_ && strstr(e_, (word)), "last error \"%s\" lacks \"%s\"",          \
                      e_ ? e_ : "(null)", (word));                                        \
    } while (0)

/* prun_readline gives exactly the line want. */
#define EXPECT_LINE(p, stream, timeout, want)                                               \
    do {                                                                                    \
        prun_buf l_ = {(char *)"junk", 4};                                                  \
        int r_ = prun_readline((p), (stream), (timeout), &l_);                              \
        ck_assert_msg(r_ == 1, "prun_readline: %d (%s), expected the line \"%s\"", r_,      \
                      prun_last_error(), (want));                                           \
        th_assert_buf_eq(l_, (want));                                                       \
        prun_buf_free(&l_);                                                                 \
    } while (0)

#define EXPECT_PL_LINE(pl, stream, timeout, want)                                           \
    do {                                                                                    \
        prun_buf l_ = {(char *)"junk", 4};                                                  \
        int r_ = prun_pipeline_readline((pl), (stream), (timeout), &l_);                    \
        ck_assert_msg(r_ == 1, "prun_pipeline_readline: %d (%s), expected \"%s\"", r_,      \
                      prun_last_error(), (want));                                           \
        th_assert_buf_eq(l_, (want));                                                       \
        prun_buf_free(&l_);                                                                 \
    } while (0)

/* prun_readline says EOF, with an empty line. */
#define EXPECT_EOF(p, stream)                                                               \
    do {                                                                                    \
        prun_buf l_ = {(char *)"junk", 4};                                                  \
        int r_ = prun_readline((p), (stream), 10000, &l_);                                  \
        ck_assert_msg(r_ == 0, "prun_readline: %d (%s), expected EOF", r_, prun_last_error()); \
        ck_assert_ptr_null(l_.data);                                                        \
        ck_assert_uint_eq(l_.len, 0);                                                       \
    } while (0)

static void write_ok(prun_proc *p, const char *s)
{
    size_t w = 12345;
    int r = prun_write(p, s, strlen(s), 10000, &w);
    ck_assert_msg(r == 0, "prun_write: %d (%s)", r, prun_last_error());
    ck_assert_uint_eq(w, strlen(s));
}

static void pl_write_ok(prun_pipeline *pl, const char *s)
{
    size_t w = 12345;
    int r = prun_pipeline_write(pl, s, strlen(s), 10000, &w);
    ck_assert_msg(r == 0, "prun_pipeline_write: %d (%s)", r, prun_last_error());
    ck_assert_uint_eq(w, strlen(s));
}

/* Everything prun_read gives until EOF, chunk bytes at most at a time;
 * every count must be within 1..chunk.  free() it. */
static char *read_to_eof(prun_proc *p, int stream, size_t chunk, size_t *len)
{
    size_t cap = 1 << 16, at = 0;
    char *s = malloc(cap + 1);
    ck_assert_ptr_nonnull(s);
    for (;;) {
        if (cap - at < chunk) {
            s = realloc(s, (cap *= 2) + 1);
            ck_assert_ptr_nonnull(s);
        }
        ssize_t n = prun_read(p, stream, s + at, chunk, 10000);
        ck_assert_msg(n >= 0, "prun_read: %zd (%s)", n, prun_last_error());
        ck_assert_int_le(n, (ssize_t)chunk);
        if (n == 0)
            break;
        at += (size_t)n;
    }
    s[at] = '\0';
    *len = at;
    return s;
}

/* SIGPIPE at its default: a SIGPIPE that reached this process kills it,
 * which fails the test.  Records what the call must leave untouched. */
struct sigstate {
    struct sigaction sa;
    sigset_t mask;
};

static void sigpipe_default(struct sigstate *before)
{
    /* SIGUSR2 blocked too, so that "restored" cannot pass for "emptied". */
    sigset_t usr2;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    ck_assert_int_eq(sigprocmask(SIG_BLOCK, &usr2, NULL), 0);
    ck_assert(signal(SIGPIPE, SIG_DFL) != SIG_ERR);
    sigaction(SIGPIPE, NULL, &before->sa);
    sigprocmask(SIG_SETMASK, NULL, &before->mask);
}

static void assert_sigpipe_untouched(const struct sigstate *before)
{
    struct sigaction sa;
    sigset_t mask, pending;
    sigaction(SIGPIPE, NULL, &sa);
    ck_assert_msg(sa.sa_handler == SIG_DFL, "SIGPIPE's disposition changed");
    ck_assert_int_eq(sa.sa_flags, before->sa.sa_flags);
    sigprocmask(SIG_SETMASK, NULL, &mask);
    for (int s = 1; s < SIGRTMAX; s++)
        ck_assert_msg(sigismember(&mask, s) == sigismember(&before->mask, s),
                      "signal %d changed in the mask", s);
    sigpending(&pending);
    ck_assert_msg(!sigismember(&pending, SIGPIPE), "a SIGPIPE was left pending");
}

/* A signal every millisecond, without SA_RESTART. */
static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

static timer_t storm_start(void)
{
    struct sigaction sa = {.sa_handler = on_tick};
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    timer_t timer;
    ck_assert_int_eq(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
    struct itimerspec every_ms = {{0, 1000000}, {0, 1000000}};
    ck_assert_int_eq(timer_settime(timer, 0, &every_ms, NULL), 0);
    ticks = 0;
    return timer;
}

static void storm_stop(timer_t timer)
{
    timer_delete(timer);
    signal(SIGUSR1, SIG_DFL);
}

/* --- readline --------------------------------------------------------------- */

/* Python's p.stdin.write(); p.stdin.flush(); p.stdout.readline(), many rounds. */
START_TEST(cat_line_by_line)
{
    int fds = th_count_fds();
    prun_proc *p = start(ARGV("cat"), PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    for (int i = 0; i < 500; i++) {
        char line[64];
        snprintf(line, sizeof line, "round %d of the conversation\n", i);
        write_ok(p, line);
        EXPECT_LINE(p, 1, 10000, line);
    }
    /* A line written in two pieces comes back whole. */
    write_ok(p, "first half, ");
    write_ok(p, "second half\n");
    EXPECT_LINE(p, 1, 10000, "first half, second half\n");
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    EXPECT_EOF(p, 1);
    EXPECT_EOF(p, 1);  /* and again */
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

START_TEST(bc_line_by_line)
{
    if (!in_path("bc")) {
        printf("bc_line_by_line: skipped, bc is not installed\n");
        return;
    }
    int fds = th_count_fds();
    prun_proc *p = start(ARGV("bc", "-q"), PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    for (int i = 1; i <= 100; i++) {
        char q[64], a[64];
        snprintf(q, sizeof q, "%d * %d + 1\n", i, i + 7);
        snprintf(a, sizeof a, "%d\n", i * (i + 7) + 1);
        write_ok(p, q);
        EXPECT_LINE(p, 1, 10000, a);
    }
    write_ok(p, "scale = 3; 1 / 8\n");
    EXPECT_LINE(p, 1, 10000, ".125\n");
    write_ok(p, "1 / 0\n");  /* bc complains on stderr and carries on */
    prun_buf l = {NULL, 0};
    ck_assert_int_eq(prun_readline(p, 2, 10000, &l), 1);
    ck_assert_msg(l.len > 1 && l.data[l.len - 1] == '\n', "bc's complaint: \"%s\"", l.data);
    prun_buf_free(&l);
    write_ok(p, "2 ^ 64\n");
    EXPECT_LINE(p, 1, 10000, "18446744073709551616\n");
    write_ok(p, "quit\n");
    EXPECT_EOF(p, 1);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* The child prints "par", then waits for a line before it prints "tial\n". */
START_TEST(readline_timeout_keeps_the_partial_line)
{
    int fds = th_count_fds();
    prun_proc *p = start_sh("printf par; read x; printf 'tial\\n'; read y; printf end",
                            PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    prun_buf l = {(char *)"junk", 4};
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_readline(p, 1, 300, &l), PRUN_ETIMEOUT);
    int64_t took = th_now_ms() - t0;
    ck_assert_int_ge(took, 280);
    ck_assert_int_lt(took, 5000);
    ck_assert_ptr_null(l.data);
    ck_assert_uint_eq(l.len, 0);
    ck_assert_str_ne(prun_last_error(), "");
    /* timeout 0: no wait, still nothing whole */
    t0 = th_now_ms();
    ck_assert_int_eq(prun_readline(p, 1, 0, &l), PRUN_ETIMEOUT);
    ck_assert_int_lt(th_now_ms() - t0, 1000);
    ck_assert_int_eq(prun_poll(p, NULL), 0);  /* a timeout kills nothing */
    write_ok(p, "\n");
    EXPECT_LINE(p, 1, 10000, "partial\n");
    ck_assert_int_eq(prun_readline(p, 1, 200, &l), PRUN_ETIMEOUT);
    write_ok(p, "\n");
    EXPECT_LINE(p, 1, 10000, "end");  /* the last line, without its newline */
    EXPECT_EOF(p, 1);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

START_TEST(last_line_without_newline)
{
    prun_proc *p = start_sh("printf 'a\\n\\nlast'", PRUN_DEVNULL, PRUN_PIPE, PRUN_INHERIT);
    EXPECT_LINE(p, 1, 10000, "a\n");
    EXPECT_LINE(p, 1, 10000, "\n");  /* an empty line is a line */
    EXPECT_LINE(p, 1, 10000, "last");
    EXPECT_EOF(p, 1);
    EXPECT_EOF(p, 1);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);

    p = start_sh("true", PRUN_DEVNULL, PRUN_PIPE, PRUN_INHERIT);  /* no output at all */
    EXPECT_EOF(p, 1);
    prun_free(p);

    p = start_sh("printf 'a\\000b\\n\\000'", PRUN_DEVNULL, PRUN_PIPE, PRUN_INHERIT);
    prun_buf l;
    ck_assert_int_eq(prun_readline(p, 1, 10000, &l), 1);  /* a NUL is a byte like any other */
    ck_assert_uint_eq(l.len, 4);
    ck_assert(memcmp(l.data, "a\0b\n", 5) == 0);
    prun_buf_free(&l);
    ck_assert_int_eq(prun_readline(p, 1, 10000, &l), 1);
    ck_assert_uint_eq(l.len, 1);
    ck_assert_int_eq(l.data[0], '\0');
    prun_buf_free(&l);
    EXPECT_EOF(p, 1);
    prun_free(p);
}
END_TEST

/* Longer than one read of readline (64 KiB), and many lines per read. */
START_TEST(long_lines_and_many_lines)
{
    size_t big = 300000;
    prun_proc *p = start_sh("head -c 300000 /dev/zero | tr '\\0' x; echo; seq 1 100000",
                            PRUN_DEVNULL, PRUN_PIPE, PRUN_INHERIT);
    prun_buf l;
    ck_assert_int_eq(prun_readline(p, 1, 10000, &l), 1);
    ck_assert_uint_eq(l.len, big + 1);
    ck_assert_int_eq(l.data[big], '\n');
    ck_assert_int_eq(l.data[big + 1], '\0');
    ck_assert_ptr_null(memchr(l.data, '\n', big));
    for (size_t i = 0; i < big; i++)
        ck_assert_int_eq(l.data[i], 'x');
    prun_buf_free(&l);
    for (int i = 1; i <= 100000; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d\n", i);
        int r = prun_readline(p, 1, 10000, &l);
        ck_assert_msg(r == 1, "line %d: %d (%s)", i, r, prun_last_error());
        ck_assert_msg(l.len == strlen(want) && memcmp(l.data, want, l.len) == 0 &&
                      l.data[l.len] == '\0', "line %d is \"%s\"", i, l.data);
        prun_buf_free(&l);
    }
    EXPECT_EOF(p, 1);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
}
END_TEST

/* Lines of every length up to past the short-line fast path (a word at
 * a time), at every offset within a word, with bytes that a sloppy
 * word-at-a-time test takes for a '\n' (0x8a = '\n' | 0x80, 0x0b, 0x00,
 * 0xff, 0x80) right before and after the real ones. */
START_TEST(readline_every_short_length)
{
    static const unsigned char tricky[] = {0x8a, 0x0b, 0x00, 0xff, 0x80, 0x09, 'a'};
    size_t cap = 64 * 1024, len = 0, n_lines = 0;
    char *all = malloc(cap);
    size_t *ends = malloc(cap * sizeof *ends);
    ck_assert(all && ends);
    for (size_t shift = 0; shift <= 8; shift++) {
        for (size_t i = 0; i < shift; i++)  /* a line of `shift` bytes puts the next off the word */
            all[len++] = 'p';
        all[len++] = '\n';
        ends[n_lines++] = len;
        for (size_t k = 1; k <= 41; k++) {
            for (size_t i = 0; i + 1 < k; i++)
                all[len++] = (char)tricky[(i + k + shift) % sizeof tricky];
            all[len++] = '\n';
            ends[n_lines++] = len;
        }
    }
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, ARGV("cat"), &o);
    size_t w = 0;
    ck_assert_int_eq(prun_write(p, all, len, 10000, &w), 0);
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    for (size_t i = 0, start = 0; i < n_lines; start = ends[i++]) {
        prun_buf l = {(char *)"junk", 4};
        int r = prun_readline(p, 1, 10000, &l);
        ck_assert_msg(r == 1, "line %zu: %d (%s)", i, r, prun_last_error());
        ck_assert_msg(l.len == ends[i] - start && memcmp(l.data, all + start, l.len) == 0 &&
                      l.data[l.len] == '\0', "line %zu: %zu bytes, expected %zu", i, l.len,
                      ends[i] - start);
        prun_buf_free(&l);
    }
    EXPECT_EOF(p, 1);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    free(all);
    free(ends);
}
END_TEST

/* A fast writer has the pipe grown (to 1 MiB, as communicate does) so
 * that readline reads more per call; a slow one keeps the default. */
START_TEST(readline_grows_the_pipe_of_a_fast_writer)
{
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, SH("printf 'first\\n'; read x; seq 1 200000"), &o);
    int before = fcntl(prun_stdout(p), F_GETPIPE_SZ);
    EXPECT_LINE(p, 1, 10000, "first\n");
    ck_assert_int_eq(fcntl(prun_stdout(p), F_GETPIPE_SZ), before);  /* one short read */
    write_ok(p, "go\n");
    /* The child fills the pipe before the next read: wait for that. */
    int queued = 0;
    for (int64_t t0 = th_now_ms(); queued < before && th_now_ms() - t0 < 10000; sched_yield())
        ck_assert_int_eq(ioctl(prun_stdout(p), FIONREAD, &queued), 0);
    ck_assert_int_ge(queued, before);
    for (int i = 1; i <= 200000; i++) {
        char want[16];
        snprintf(want, sizeof want, "%d\n", i);
        EXPECT_LINE(p, 1, 10000, want);
    }
    ck_assert_int_gt(fcntl(prun_stdout(p), F_GETPIPE_SZ), before);
    EXPECT_EOF(p, 1);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
}
END_TEST

START_TEST(readline_on_stderr)
{
    prun_proc *p = start_sh("echo out; echo err1 >&2; printf err2 >&2", PRUN_DEVNULL, PRUN_PIPE,
                            PRUN_PIPE);
    EXPECT_LINE(p, 2, 10000, "err1\n");
    EXPECT_LINE(p, 2, 10000, "err2");
    EXPECT_EOF(p, 2);
    EXPECT_LINE(p, 1, 10000, "out\n");
    EXPECT_EOF(p, 1);
    prun_free(p);
}
END_TEST

/* `seq 1 1000` is one write of 3893 bytes: readline("1\n") reads the
 * other 999 lines ahead, which communicate must return first. */
START_TEST(readline_then_communicate)
{
    int fds = th_count_fds();
    prun_proc *p = start_sh("seq 1 1000; seq 1 3 >&2; read x; echo \"end $x\"; echo e >&2",
                            PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    EXPECT_LINE(p, 1, 10000, "1\n");
    EXPECT_LINE(p, 1, 10000, "2\n");
    EXPECT_LINE(p, 2, 10000, "1\n");
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, "go\n", 3, 10000, &out, &err), 0);
    size_t len;
    char *want = seq_text(1000, &len);
    ck_assert_uint_eq(out.len, len - 4 + strlen("end go\n"));
    ck_assert_msg(memcmp(out.data, want + 4, len - 4) == 0, "the read-ahead is not first");
    ck_assert_str_eq(out.data + len - 4, "end go\n");
    th_assert_buf_eq(err, "2\n3\ne\n");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    /* Handed over: the streams are at their end now. */
    EXPECT_EOF(p, 1);
    free(want);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* A communicate that times out after a readline, then resumes: nothing
 * read ahead, nothing collected by the first call, is lost. */
START_TEST(readline_then_communicate_resumes_after_timeout)
{
    struct gate g;
    gate_init(&g);
    prun_proc *p = start_gated(&g, "seq 1 3; read x <&%d; echo four",
                               (prun_opts){.stdout_io = PRUN_PIPE, .stdin_io = PRUN_DEVNULL});
    EXPECT_LINE(p, 1, 10000, "1\n");
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 200, &out, NULL), PRUN_ETIMEOUT);
    prun_buf_free(&out);
    gate_open(&g);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "2\n3\nfour\n");
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* A timed-out communicate keeps what it read; readline gets it next. */
START_TEST(communicate_timeout_then_readline)
{
    struct gate g;
    gate_init(&g);
    prun_proc *p = start_gated(&g, "echo one; read x <&%d; echo two",
                               (prun_opts){.stdout_io = PRUN_PIPE, .stdin_io = PRUN_DEVNULL});
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 300, &out, NULL), PRUN_ETIMEOUT);
    prun_buf_free(&out);
    EXPECT_LINE(p, 1, 10000, "one\n");
    gate_open(&g);
    EXPECT_LINE(p, 1, 10000, "two\n");
    EXPECT_EOF(p, 1);
    prun_free(p);
}
END_TEST

/* max_output bounds the line being read: PRUN_ETOOBIG, the bytes stay
 * buffered (prun_read gets them), and the child lives on. */
START_TEST(readline_max_output_partial_line)
{
    int fds = th_count_fds();
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .max_output = 16};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, SH("printf 0123456789abcdefghij; read x; echo tail; echo 0123456789abcde"), &o);
    prun_buf l = {(char *)"junk", 4};
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_readline(p, 1, 20000, &l), PRUN_ETOOBIG);
    ck_assert_int_lt(th_now_ms() - t0, 10000);  /* at once, not at the timeout */
    ck_assert_ptr_null(l.data);
    ASSERT_SENTENCE("16");
    ck_assert_int_eq(prun_poll(p, NULL), 0);  /* not killed */
    ck_assert_int_eq(prun_readline(p, 1, 20000, &l), PRUN_ETOOBIG);  /* still too long */
    char buf[64] = {0};
    size_t got = 0;
    while (got < 20) {
        ssize_t n = prun_read(p, 1, buf + got, sizeof buf - 1 - got, 10000);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_uint_eq(got, 20);
    ck_assert_str_eq(buf, "0123456789abcdefghij");
    write_ok(p, "\n");
    EXPECT_LINE(p, 1, 10000, "tail\n");
    EXPECT_LINE(p, 1, 10000, "0123456789abcde\n");  /* 16 bytes: not over the limit */
    EXPECT_EOF(p, 1);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* The same for a line that arrives whole, in one read. */
START_TEST(readline_max_output_whole_line)
{
    prun_opts o = {.stdout_io = PRUN_PIPE, .max_output = 16};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, SH("echo 0123456789abcdefghijklmnopqrstuvwxyz; echo ok"), &o);
    prun_buf l = {(char *)"junk", 4};
    int r = prun_readline(p, 1, 10000, &l);
    ck_assert_msg(r == PRUN_ETOOBIG, "a 37-byte line with max_output 16: %d, \"%s\"", r,
                  r == 1 ? l.data : "");
    prun_buf_free(&l);
    /* The whole line is read ahead now, and still too long: the next call
     * says so again rather than hand it over. */
    r = prun_readline(p, 1, 10000, &l);
    ck_assert_msg(r == PRUN_ETOOBIG, "the same line again: %d", r);
    ck_assert_ptr_null(l.data);
    ASSERT_SENTENCE("is longer than 16 bytes");
    prun_free(p);
    /* Lines within the limit that were read ahead together come one by one. */
    TH_POPEN_OK(&p, ARGV("printf", "short\nlines\n"), &o);
    EXPECT_LINE(p, 1, 10000, "short\n");
    EXPECT_LINE(p, 1, 10000, "lines\n");
    EXPECT_EOF(p, 1);
    prun_free(p);
    /* The same with short lines read ahead (the fast path): one just at
     * the limit, one past it, refused until the caller reads it otherwise. */
    o.max_output = 4;
    TH_POPEN_OK(&p, ARGV("printf", "abc\n01234\nok\nand the rest\n"), &o);
    EXPECT_LINE(p, 1, 10000, "abc\n");
    ck_assert_int_eq(prun_readline(p, 1, 10000, &l), PRUN_ETOOBIG);
    ck_assert_ptr_null(l.data);
    char rest[16];
    ck_assert_int_eq(prun_read(p, 1, rest, 6, 10000), 6);
    EXPECT_LINE(p, 1, 10000, "ok\n");
    ck_assert_int_eq(prun_readline(p, 1, 10000, &l), PRUN_ETOOBIG);
    ck_assert_int_eq(prun_read(p, 1, rest, sizeof rest, 10000), 13);
    EXPECT_EOF(p, 1);
    prun_free(p);
}
END_TEST

START_TEST(readline_errors)
{
    int fds = th_count_fds();
    prun_proc *p = start_sh("echo x; echo y >&2", PRUN_PIPE, PRUN_PIPE, PRUN_DEVNULL);
    int bad[] = {0, 3, -1, INT_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prun_buf l = {(char *)"junk", 4};
        ck_assert_int_eq(prun_readline(p, bad[i], 1000, &l), -EINVAL);
        ck_assert_ptr_null(l.data);
        ck_assert_uint_eq(l.len, 0);
        ASSERT_SENTENCE("stream");
    }
    prun_buf l = {(char *)"junk", 4};
    ck_assert_int_eq(prun_readline(p, 2, 1000, &l), -EBADF);  /* stderr: /dev/null */
    ck_assert_ptr_null(l.data);
    ASSERT_SENTENCE("stderr");
    ck_assert_int_eq(prun_readline(p, 1, 1000, NULL), -EINVAL);
    ck_assert_str_ne(prun_last_error(), "");
    l = (prun_buf){(char *)"junk", 4};
    ck_assert_int_eq(prun_readline(NULL, 1, 1000, &l), -EINVAL);
    ck_assert_ptr_null(l.data);  /* empty on every return but 1, this one too */
    ASSERT_SENTENCE("prun_readline: the handle is NULL");
    ck_assert_int_eq(prun_readline(NULL, 1, 1000, NULL), -EINVAL);
    EXPECT_LINE(p, 1, 10000, "x\n");  /* the errors took nothing */
    ck_assert_int_eq(prun_close_stream(p, 1), 0);
    ck_assert_int_eq(prun_readline(p, 1, 1000, &l), -EBADF);  /* closed by the caller */
    ASSERT_SENTENCE("stdout");
    prun_free(p);

    p = start_sh("true", PRUN_INHERIT, PRUN_INHERIT, PRUN_INHERIT);
    ck_assert_int_eq(prun_readline(p, 1, 1000, &l), -EBADF);
    ASSERT_SENTENCE("stdout");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* with on_output, what readline read ahead goes to on_output too */
struct sink {
    size_t bytes;
    char *data;
};

static int sink_output(void *userdata, int stream, const char *data, size_t len)
{
    struct sink *s = userdata;
    ck_assert_int_eq(stream, 1);
    s->data = realloc(s->data, s->bytes + len + 1);
    ck_assert_ptr_nonnull(s->data);
    memcpy(s->data + s->bytes, data, len);
    s->bytes += len;
    s->data[s->bytes] = '\0';
    return 0;
}

START_TEST(readline_then_communicate_on_output)
{
    size_t want_len;
    char *want = seq_text(1000, &want_len);
    struct sink sink = {0, NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .on_output = sink_output, .userdata = &sink};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, ARGV("seq", "1", "1000"), &o);
    EXPECT_LINE(p, 1, 10000, "1\n");
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, NULL), 0);
    ck_assert_msg(sink.bytes == want_len - 2, "on_output got %zu bytes, out %zu: the read-ahead "
                  "went %s", sink.bytes, out.len, out.data ? "to out" : "missing");
    ck_assert(memcmp(sink.data, want + 2, sink.bytes) == 0);
    ck_assert_ptr_null(out.data);  /* as without readline: on_output took it all */
    prun_buf_free(&out);
    prun_free(p);
    free(sink.data);
    free(want);
}
END_TEST

/* max_output holds for what communicate returns after a readline. */
START_TEST(readline_then_communicate_max_output)
{
    prun_opts o = {.stdout_io = PRUN_PIPE, .max_output = 3000};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, ARGV("seq", "1", "1000"), &o);  /* 3893 bytes, one write */
    EXPECT_LINE(p, 1, 10000, "1\n");
    prun_buf out;
    int r = prun_communicate(p, NULL, 0, 10000, &out, NULL);
    ck_assert_msg(r == PRUN_ETOOBIG && out.len <= 3000,
                  "max_output 3000, 3891 bytes unread: communicate %d with %zu bytes", r, out.len);
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* A caller that made stdout non-blocking (for its own event loop) and
 * then waits for ever: a wait, not -EAGAIN.  The child sleeps before it
 * answers, so that the calls are already waiting when it does. */
START_TEST(read_forever_with_callers_nonblock)
{
    prun_proc *p = start_sh("read x; echo late; read y; sleep 0.5; echo later; "
                            "read z; sleep 0.5; echo last",
                            PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    int fd = prun_stdout(p);
    ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    prun_buf l;
    ck_assert_int_eq(prun_readline(p, 1, 300, &l), PRUN_ETIMEOUT);  /* with a timeout: fine */
    write_ok(p, "\n");
    EXPECT_LINE(p, 1, 10000, "late\n");
    write_ok(p, "\n");
    int r = prun_readline(p, 1, PRUN_FOREVER, &l);
    ck_assert_msg(r == 1, "prun_readline(PRUN_FOREVER) on a caller's O_NONBLOCK stdout: %d (%s)",
                  r, prun_last_error());
    th_assert_buf_eq(l, "later\n");
    prun_buf_free(&l);
    write_ok(p, "\n");
    char c = 0;
    ssize_t n = prun_read(p, 1, &c, 1, PRUN_FOREVER);
    ck_assert_msg(n == 1, "prun_read(PRUN_FOREVER) on a caller's O_NONBLOCK stdout: %zd (%s)", n,
                  prun_last_error());
    ck_assert_int_eq(c, 'l');
    prun_free(p);
}
END_TEST

/* communicate times out with input still unsent; a prun_write after it
 * must not jump ahead of that input (or must be refused). */
START_TEST(write_after_timed_out_communicate_keeps_order)
{
    size_t len = 4 * (size_t)MiB;
    char *in = malloc(len);
    ck_assert_ptr_nonnull(in);
    memset(in, 'A', len);
    struct gate g;
    gate_init(&g);
    prun_proc *p = start_gated(&g, "read x <&%d; exec cat",
                               (prun_opts){.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE});
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, in, len, 200, &out, NULL), PRUN_ETIMEOUT);
    gate_open(&g);
    size_t w = 0;
    int r = prun_write(p, "B", 1, 10000, &w);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 20000, &out, NULL), 0);
    if (r == 0) {
        char *b = memchr(out.data, 'B', out.len);
        ck_assert_msg(b && (size_t)(b - out.data) == len,
                      "prun_write's byte came out at %td of %zu, ahead of communicate's input",
                      b ? b - out.data : (ptrdiff_t)-1, out.len);
    } else {
        ck_assert_uint_eq(out.len, len);  /* refused: communicate's input intact */
    }
    prun_buf_free(&out);
    prun_free(p);
    free(in);
}
END_TEST

/* --- read ------------------------------------------------------------------- */

static void read_in_chunks(size_t chunk)
{
    int fds = th_count_fds();
    size_t want_len, len;
    char *want = seq_text(20000, &want_len);
    prun_proc *p = start(ARGV("seq", "1", "20000"), PRUN_DEVNULL, PRUN_PIPE, PRUN_INHERIT);
    char *got = read_to_eof(p, 1, chunk, &len);
    ck_assert_uint_eq(len, want_len);
    ck_assert_msg(memcmp(got, want, len) == 0, "%zu-byte reads: the output differs", chunk);
    char c;
    ck_assert_int_eq(prun_read(p, 1, &c, 1, 1000), 0);  /* EOF, and again */
    ck_assert_int_eq(prun_read(p, 1, &c, 1, 1000), 0);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    free(got);
    free(want);
    th_assert_no_leaks(fds);
}

START_TEST(read_1_byte_at_a_time)
{
    read_in_chunks(1);
}
END_TEST

START_TEST(read_7_bytes_at_a_time)
{
    read_in_chunks(7);
}
END_TEST

START_TEST(read_after_readline)
{
    size_t want_len, len;
    char *want = seq_text(1000, &want_len);
    prun_proc *p = start(ARGV("seq", "1", "1000"), PRUN_DEVNULL, PRUN_PIPE, PRUN_INHERIT);
    EXPECT_LINE(p, 1, 10000, "1\n");
    EXPECT_LINE(p, 1, 10000, "2\n");
    char *got = read_to_eof(p, 1, 7, &len);  /* the read-ahead, then the rest */
    ck_assert_uint_eq(len, want_len - 4);
    ck_assert_msg(memcmp(got, want + 4, len) == 0, "prun_read after readline differs");
    free(got);
    free(want);
    prun_free(p);

    /* read in the middle of a line; readline gives the rest of it */
    p = start_sh("printf 'abcdef\\nghi\\njkl\\n'", PRUN_DEVNULL, PRUN_PIPE, PRUN_INHERIT);
    EXPECT_LINE(p, 1, 10000, "abcdef\n");
    char buf[8] = {0};
    ck_assert_int_eq(prun_read(p, 1, buf, 2, 10000), 2);
    ck_assert_str_eq(buf, "gh");
    EXPECT_LINE(p, 1, 10000, "i\n");
    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf - 1, 10000), 4);
    ck_assert_str_eq(buf, "jkl\n");
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 10000), 0);
    EXPECT_EOF(p, 1);
    prun_free(p);
}
END_TEST

/* prun_read takes from the pipe; readline then starts where it stopped. */
START_TEST(read_then_readline)
{
    prun_proc *p = start(ARGV("cat"), PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    write_ok(p, "hello world\n");
    char buf[8] = {0};
    size_t got = 0;
    while (got < 6) {  /* the pipe may hand over less */
        ssize_t n = prun_read(p, 1, buf + got, 6 - got, 10000);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_str_eq(buf, "hello ");
    EXPECT_LINE(p, 1, 10000, "world\n");
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    EXPECT_EOF(p, 1);
    prun_free(p);
}
END_TEST

START_TEST(read_timeout)
{
    int fds = th_count_fds();
    prun_proc *p = start_sh("read x; echo late", PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    char buf[16] = {0};
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 300), PRUN_ETIMEOUT);
    int64_t took = th_now_ms() - t0;
    ck_assert_int_ge(took, 280);
    ck_assert_int_lt(took, 5000);
    ck_assert_str_ne(prun_last_error(), "");
    t0 = th_now_ms();
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 0), PRUN_ETIMEOUT);
    ck_assert_int_lt(th_now_ms() - t0, 1000);
    ck_assert_int_eq(prun_poll(p, NULL), 0);
    write_ok(p, "\n");
    size_t got = 0;
    while (got < 5) {
        ssize_t n = prun_read(p, 1, buf + got, sizeof buf - 1 - got, PRUN_FOREVER);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_str_eq(buf, "late\n");
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 10000), 0);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

START_TEST(read_then_communicate)
{
    size_t want_len;
    char *want = seq_text(1000, &want_len);
    prun_proc *p = start_sh("seq 1 1000; echo e >&2", PRUN_DEVNULL, PRUN_PIPE, PRUN_PIPE);
    char buf[16] = {0};
    size_t got = 0;
    while (got < 10) {
        ssize_t n = prun_read(p, 1, buf + got, 10 - got, 10000);
        ck_assert_int_gt(n, 0);
        got += (size_t)n;
    }
    ck_assert_str_eq(buf, "1\n2\n3\n4\n5\n");
    EXPECT_LINE(p, 1, 10000, "6\n");
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    ck_assert_uint_eq(out.len, want_len - 12);
    ck_assert_msg(memcmp(out.data, want + 12, out.len) == 0, "communicate after read differs");
    th_assert_buf_eq(err, "e\n");
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 1000), 0);  /* handed over: EOF */
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    free(want);
}
END_TEST

START_TEST(read_errors)
{
    int fds = th_count_fds();
    prun_proc *p = start_sh("echo x", PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    char buf[8];
    int bad[] = {0, 3, -1, INT_MIN};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(prun_read(p, bad[i], buf, sizeof buf, 1000), -EINVAL);
        ASSERT_SENTENCE("stream");
    }
    ck_assert_int_eq(prun_read(p, 2, buf, sizeof buf, 1000), -EBADF);  /* inherited */
    ASSERT_SENTENCE("stderr");
    ck_assert_int_eq(prun_read(p, 1, NULL, 8, 1000), -EINVAL);
    ck_assert_str_ne(prun_last_error(), "");
    ck_assert_int_eq(prun_read(NULL, 1, buf, sizeof buf, 1000), -EINVAL);
    ck_assert_str_ne(prun_last_error(), "");
    memset(buf, 0, sizeof buf);
    ck_assert_int_eq(prun_read(p, 1, buf, 2, 10000), 2);  /* the errors took nothing */
    ck_assert_str_eq(buf, "x\n");
    ck_assert_int_eq(prun_close_stream(p, 1), 0);
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 1000), -EBADF);
    ASSERT_SENTENCE("stdout");
    prun_free(p);

    p = start_sh("true", PRUN_DEVNULL, PRUN_DEVNULL, PRUN_DEVNULL);
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 1000), -EBADF);
    ASSERT_SENTENCE("not a pipe");
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* A stream that was never a pipe stays an error after communicate. */
START_TEST(read_non_pipe_after_communicate)
{
    prun_proc *p = start_sh("echo x", PRUN_DEVNULL, PRUN_PIPE, PRUN_DEVNULL);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "x\n");
    ck_assert_ptr_null(err.data);
    prun_buf_free(&out);
    char buf[8];
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 1000), 0);  /* a pipe, at its end */
    ssize_t r = prun_read(p, 2, buf, sizeof buf, 1000);
    ck_assert_msg(r == -EBADF, "prun_read of a /dev/null stderr after communicate: %zd", r);
    prun_buf l;
    int rl = prun_readline(p, 2, 1000, &l);
    ck_assert_msg(rl == -EBADF, "prun_readline of a /dev/null stderr after communicate: %d", rl);
    prun_free(p);
}
END_TEST

/* --- write ------------------------------------------------------------------ */

/* The child closes its stdin and says so; it is still running. */
START_TEST(write_to_closed_stdin_is_epipe)
{
    int fds = th_count_fds();
    struct sigstate before;
    sigpipe_default(&before);
    prun_proc *p = start_sh("exec 0<&-; echo closed; exec sleep 1000", PRUN_PIPE, PRUN_PIPE,
                            PRUN_INHERIT);
    EXPECT_LINE(p, 1, 10000, "closed\n");
    size_t w = 12345;
    ck_assert_int_eq(prun_write(p, "x", 1, 10000, &w), -EPIPE);
    ck_assert_uint_eq(w, 0);
    ASSERT_SENTENCE("stdin");
    assert_sigpipe_untouched(&before);
    char *big = patterned(4 * MiB);
    ck_assert_int_eq(prun_write(p, big, 4 * MiB, PRUN_FOREVER, &w), -EPIPE);  /* again */
    ck_assert_uint_eq(w, 0);
    ck_assert_int_eq(prun_write(p, big, 4 * MiB, 0, NULL), -EPIPE);
    assert_sigpipe_untouched(&before);
    ck_assert_int_eq(prun_poll(p, NULL), 0);
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(th_returncode(p, 10000), -SIGKILL);
    prun_free(p);
    free(big);
    th_assert_no_leaks(fds);
}
END_TEST

/* head takes 1000 bytes and exits while the write is under way. */
START_TEST(write_epipe_midway)
{
    struct sigstate before;
    sigpipe_default(&before);
    size_t len = 16 * (size_t)MiB;
    char *big = patterned(len);
    prun_proc *p = start_sh("head -c 1000 >/dev/null; echo got", PRUN_PIPE, PRUN_PIPE,
                            PRUN_INHERIT);
    size_t w = 0;
    ck_assert_int_eq(prun_write(p, big, len, PRUN_FOREVER, &w), -EPIPE);
    ck_assert_uint_ge(w, 1000);
    ck_assert_uint_lt(w, len);
    assert_sigpipe_untouched(&before);
    EXPECT_LINE(p, 1, 10000, "got\n");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);

    /* and to a child that has exited */
    p = start_sh("exit 3", PRUN_PIPE, PRUN_DEVNULL, PRUN_INHERIT);
    ck_assert_int_eq(th_returncode(p, 10000), 3);
    ck_assert_int_eq(prun_write(p, big, len, 10000, &w), -EPIPE);
    ck_assert_uint_eq(w, 0);
    assert_sigpipe_untouched(&before);
    prun_free(p);
    free(big);
}
END_TEST

/* sleep never reads its stdin: the pipe fills, the time runs out. */
START_TEST(write_timeout_child_never_reads)
{
    int fds = th_count_fds();
    size_t len = 4 * (size_t)MiB;
    char *big = patterned(len);
    prun_proc *p = start(ARGV("sleep", "1000"), PRUN_PIPE, PRUN_INHERIT, PRUN_INHERIT);
    size_t w = 0;
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_write(p, big, len, 300, &w), PRUN_ETIMEOUT);
    int64_t took = th_now_ms() - t0;
    ck_assert_int_ge(took, 280);
    ck_assert_int_lt(took, 10000);
    ck_assert_uint_ge(w, 1);
    ck_assert_uint_lt(w, len);
    ASSERT_SENTENCE("ms");
    ck_assert_int_eq(prun_write(p, big, len, 100, NULL), PRUN_ETIMEOUT);  /* written may be NULL */
    ck_assert_int_eq(prun_poll(p, NULL), 0);
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(th_returncode(p, 10000), -SIGKILL);
    prun_free(p);
    free(big);
    th_assert_no_leaks(fds);
}
END_TEST

/* Timeout 0 writes what the pipe takes now, and says how much: the child
 * (held at a gate until then) counts exactly that. */
START_TEST(write_timeout_0_writes_what_fits)
{
    struct gate g;
    gate_init(&g);
    prun_proc *p = start_gated(&g, "read x <&%d; wc -c",
                               (prun_opts){.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE});
    int pipe_size = fcntl(prun_stdin(p), F_GETPIPE_SZ);
    ck_assert_int_gt(pipe_size, 0);
    size_t len = 4 * (size_t)MiB, w = 12345, w2 = 12345;
    char *big = patterned(len);
    ck_assert_int_eq(prun_write(p, "0123456789", 10, 0, &w), 0);  /* fits: all of it */
    ck_assert_uint_eq(w, 10);
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_write(p, big, len, 0, &w), PRUN_ETIMEOUT);
    ck_assert_int_eq(prun_write(p, big, len, 0, &w2), PRUN_ETIMEOUT);  /* full: nothing */
    ck_assert_int_lt(th_now_ms() - t0, 2000);
    ck_assert_uint_ge(w, 1);
    ck_assert_uint_le(w + 10, (size_t)pipe_size);
    ck_assert_uint_eq(w2, 0);
    gate_open(&g);
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    char want[32];
    snprintf(want, sizeof want, "%zu\n", w + 10);
    EXPECT_LINE(p, 1, 10000, want);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    free(big);
}
END_TEST

START_TEST(write_forever_writes_everything)
{
    size_t len = 8 * (size_t)MiB, w = 0;
    char *big = patterned(len);
    prun_proc *p = start(ARGV("wc", "-c"), PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    ck_assert_int_eq(prun_write(p, big, len, PRUN_FOREVER, &w), 0);
    ck_assert_uint_eq(w, len);
    ck_assert_int_eq(prun_write(p, big, 0, 0, &w), 0);  /* nothing: done at once */
    ck_assert_uint_eq(w, 0);
    ck_assert_int_eq(prun_write(p, NULL, 0, 0, NULL), 0);
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    EXPECT_LINE(p, 1, 10000, "8388608\n");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    free(big);
}
END_TEST

/* prun_write's bytes go first; communicate sends only its own input. */
START_TEST(write_then_communicate)
{
    prun_proc *p = start(ARGV("cat"), PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    write_ok(p, "abc");
    write_ok(p, "def");
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, "ghi", 3, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "abcdefghi");
    th_assert_buf_eq(err, "");
    prun_buf_free(&out);
    prun_buf_free(&err);
    ck_assert_int_eq(prun_write(p, "x", 1, 1000, NULL), -EBADF);  /* communicate closed it */
    prun_free(p);

    /* A write cut short by its timeout; communicate sends the rest. */
    size_t len = 4 * (size_t)MiB, w = 0;
    char *big = patterned(len);
    struct gate g;
    gate_init(&g);
    p = start_gated(&g, "read x <&%d; exec cat",
                    (prun_opts){.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE});
    ck_assert_int_eq(prun_write(p, big, len, 200, &w), PRUN_ETIMEOUT);
    ck_assert_uint_ge(w, 1);
    ck_assert_uint_lt(w, len);
    gate_open(&g);
    ck_assert_int_eq(prun_communicate(p, big + w, len - w, 20000, &out, NULL), 0);
    ck_assert_uint_eq(out.len, len);
    ck_assert_msg(memcmp(out.data, big, len) == 0, "the input was reordered or doubled");
    prun_buf_free(&out);
    prun_free(p);
    free(big);
}
END_TEST

/* Lines written, read back, then the rest through communicate. */
START_TEST(write_readline_then_communicate)
{
    prun_proc *p = start(ARGV("cat"), PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    write_ok(p, "one\ntwo\nthree\n");
    EXPECT_LINE(p, 1, 10000, "one\n");
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, "four\n", 5, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "two\nthree\nfour\n");
    prun_buf_free(&out);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
}
END_TEST

START_TEST(write_errors)
{
    int fds = th_count_fds();
    size_t w = 12345;
    prun_proc *p = start_sh("cat >/dev/null", PRUN_INHERIT, PRUN_PIPE, PRUN_INHERIT);
    ck_assert_int_eq(prun_write(p, "x", 1, 1000, &w), -EBADF);
    ck_assert_uint_eq(w, 0);
    ASSERT_SENTENCE("stdin");
    prun_free(p);

    p = start_sh("true", PRUN_DEVNULL, PRUN_DEVNULL, PRUN_DEVNULL);
    ck_assert_int_eq(prun_write(p, "x", 1, 1000, &w), -EBADF);
    ASSERT_SENTENCE("not a pipe");
    prun_free(p);

    p = start(ARGV("cat"), PRUN_PIPE, PRUN_DEVNULL, PRUN_INHERIT);
    w = 12345;
    ck_assert_int_eq(prun_write(p, NULL, 5, 1000, &w), -EINVAL);
    ck_assert_uint_eq(w, 0);
    ck_assert_str_ne(prun_last_error(), "");
    ck_assert_int_eq(prun_write(NULL, "x", 1, 1000, &w), -EINVAL);
    ck_assert_str_ne(prun_last_error(), "");
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    ck_assert_int_eq(prun_write(p, "x", 1, 1000, &w), -EBADF);
    ASSERT_SENTENCE("closed");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* The caller's own writes to prun_stdin() see the file status flags it set. */
START_TEST(write_leaves_the_blocking_mode_alone)
{
    prun_proc *p = start(ARGV("cat"), PRUN_PIPE, PRUN_DEVNULL, PRUN_INHERIT);
    int fd = prun_stdin(p);
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);
    write_ok(p, "x");
    ck_assert_int_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0);  /* blocking, as it was */
    ck_assert_int_eq(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK), 0);
    write_ok(p, "y");
    ck_assert_msg(fcntl(fd, F_GETFL) & O_NONBLOCK, "prun_write cleared the caller's O_NONBLOCK");
    prun_free(p);
}
END_TEST

/* Every call under a signal every millisecond: nothing lost, and no
 * deadline stretched by retries. */
START_TEST(eintr_storm)
{
    size_t len = 8 * (size_t)MiB, w = 0, seq_len;
    char *big = patterned(len);
    char *want = seq_text(50000, &seq_len);
    timer_t timer = storm_start();

    prun_proc *p = start_sh("sleep 0.2; exec wc -c", PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    int r = prun_write(p, big, len, 60000, &w);
    ck_assert_msg(r == 0, "prun_write under EINTR: %d (%s)", r, prun_last_error());
    ck_assert_uint_eq(w, len);
    ck_assert_int_eq(prun_close_stream(p, 0), 0);
    EXPECT_LINE(p, 1, 60000, "8388608\n");
    prun_free(p);

    p = start_sh("sleep 0.2; seq 1 50000", PRUN_DEVNULL, PRUN_PIPE, PRUN_INHERIT);
    EXPECT_LINE(p, 1, 60000, "1\n");
    size_t got_len;
    char *got = read_to_eof(p, 1, 100, &got_len);
    ck_assert_uint_eq(got_len, seq_len - 2);
    ck_assert_msg(memcmp(got, want + 2, got_len) == 0, "output differs under EINTR");
    free(got);
    prun_free(p);

    p = start(ARGV("sleep", "1000"), PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_write(p, big, len, 300, &w), PRUN_ETIMEOUT);
    int64_t took_w = th_now_ms() - t0;
    prun_buf l;
    t0 = th_now_ms();
    ck_assert_int_eq(prun_readline(p, 1, 300, &l), PRUN_ETIMEOUT);
    int64_t took_l = th_now_ms() - t0;
    char c;
    t0 = th_now_ms();
    ck_assert_int_eq(prun_read(p, 1, &c, 1, 300), PRUN_ETIMEOUT);
    int64_t took_r = th_now_ms() - t0;
    storm_stop(timer);
    ck_assert_int_gt(ticks, 100);
    ck_assert_int_ge(took_w, 280);
    ck_assert_int_lt(took_w, 3000);
    ck_assert_int_ge(took_l, 280);
    ck_assert_int_lt(took_l, 3000);
    ck_assert_int_ge(took_r, 280);
    ck_assert_int_lt(took_r, 3000);
    prun_kill(p);
    prun_free(p);
    free(big);
    free(want);
}
END_TEST

/* --- pipelines -------------------------------------------------------------- */

static prun_pipeline *pl_start(size_t n, char *const *const stages[], prun_opts o)
{
    prun_pipeline *pl = NULL;
    size_t failed = SIZE_MAX;
    int r = prun_pipeline_start(&pl, n, stages, &o, &failed);
    ck_assert_msg(r == 0, "pipeline start: %d (%s)", r, prun_last_error());
    return pl;
}

static int pl_status(prun_pipeline *pl)
{
    int st = 12345, r = prun_pipeline_wait(pl, 10000, &st);
    ck_assert_msg(r == 0, "prun_pipeline_wait: %d (%s)", r, prun_last_error());
    return st;
}

/* `cat | tr a-z A-Z` talked to line by line: tr's stdio would hold its
 * output in a pipe, so it runs under stdbuf -oL (sed -u without it). */
START_TEST(pipeline_line_by_line)
{
    int fds = th_count_fds();
    char *const *const stages[] = {
        ARGV("cat"),
        in_path("stdbuf") ? ARGV("stdbuf", "-oL", "tr", "a-z", "A-Z")
                          : ARGV("sed", "-u", "s/.*/\\U&/"),
    };
    prun_pipeline *pl = pl_start(2, stages, (prun_opts){.stdin_io = PRUN_PIPE,
                                                        .stdout_io = PRUN_PIPE});
    for (int i = 0; i < 200; i++) {
        char in[64], want[64];
        snprintf(in, sizeof in, "hello %d, world\n", i);
        snprintf(want, sizeof want, "HELLO %d, WORLD\n", i);
        pl_write_ok(pl, in);
        EXPECT_PL_LINE(pl, 1, 10000, want);
    }
    ck_assert_int_eq(prun_pipeline_close_stream(pl, 0), 0);
    prun_buf l = {(char *)"junk", 4};
    ck_assert_int_eq(prun_pipeline_readline(pl, 1, 10000, &l), 0);
    ck_assert_ptr_null(l.data);
    ck_assert_int_eq(pl_status(pl), 0);
    prun_pipeline_free(pl);
    th_assert_no_leaks(fds);
}
END_TEST

/* The plain `cat | tr a-z A-Z`, fed first, then read line by line. */
START_TEST(pipeline_cat_tr)
{
    char *const *const stages[] = {ARGV("cat"), ARGV("tr", "a-z", "A-Z")};
    prun_pipeline *pl = pl_start(2, stages, (prun_opts){.stdin_io = PRUN_PIPE,
                                                        .stdout_io = PRUN_PIPE});
    pl_write_ok(pl, "one\ntwo\nthree");
    ck_assert_int_eq(prun_pipeline_close_stream(pl, 0), 0);
    EXPECT_PL_LINE(pl, 1, 10000, "ONE\n");
    EXPECT_PL_LINE(pl, 1, 10000, "TWO\n");
    EXPECT_PL_LINE(pl, 1, 10000, "THREE");
    prun_buf l;
    ck_assert_int_eq(prun_pipeline_readline(pl, 1, 10000, &l), 0);
    ck_assert_int_eq(pl_status(pl), 0);
    prun_pipeline_free(pl);
}
END_TEST

START_TEST(pipeline_readline_timeout_and_partial)
{
    char *const *const stages[] = {SH("printf par; read x; printf 'tial\\n'"), ARGV("cat")};
    prun_pipeline *pl = pl_start(2, stages, (prun_opts){.stdin_io = PRUN_PIPE,
                                                        .stdout_io = PRUN_PIPE});
    prun_buf l = {(char *)"junk", 4};
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_pipeline_readline(pl, 1, 300, &l), PRUN_ETIMEOUT);
    ck_assert_int_ge(th_now_ms() - t0, 280);
    ck_assert_ptr_null(l.data);
    char c;
    ck_assert_int_eq(prun_pipeline_read(pl, 1, &c, 1, 0), 1);  /* "par" is buffered */
    ck_assert_int_eq(c, 'p');
    pl_write_ok(pl, "\n");
    EXPECT_PL_LINE(pl, 1, 10000, "artial\n");
    ck_assert_int_eq(prun_pipeline_readline(pl, 1, 10000, &l), 0);
    ck_assert_int_eq(pl_status(pl), 0);
    prun_pipeline_free(pl);
}
END_TEST

START_TEST(pipeline_read_readline_communicate)
{
    size_t want_len;
    char *want = seq_text(3000, &want_len);
    char *const *const stages[] = {ARGV("seq", "1", "3000"), ARGV("cat")};
    prun_pipeline *pl = pl_start(2, stages, (prun_opts){.stdout_io = PRUN_PIPE});
    EXPECT_PL_LINE(pl, 1, 10000, "1\n");
    char buf[64] = {0};
    size_t got = 0;
    while (got < 20) {
        ssize_t n = prun_pipeline_read(pl, 1, buf + got, 20 - got < 7 ? 20 - got : 7, 10000);
        ck_assert_int_gt(n, 0);
        ck_assert_int_le(n, 7);
        got += (size_t)n;
    }
    ck_assert_msg(memcmp(buf, want + 2, 20) == 0, "pipeline read: \"%s\"", buf);
    prun_buf out, err;
    ck_assert_int_eq(prun_pipeline_communicate(pl, NULL, 0, 10000, &out, &err), 0);
    ck_assert_uint_eq(out.len, want_len - 22);
    ck_assert_msg(memcmp(out.data, want + 22, out.len) == 0, "pipeline communicate differs");
    ck_assert_ptr_null(err.data);
    prun_buf_free(&out);
    ck_assert_int_eq(pl_status(pl), 0);
    prun_pipeline_free(pl);
    free(want);
}
END_TEST

START_TEST(pipeline_write_then_communicate)
{
    char *const *const stages[] = {ARGV("cat"), ARGV("cat")};
    prun_pipeline *pl = pl_start(2, stages, (prun_opts){.stdin_io = PRUN_PIPE,
                                                        .stdout_io = PRUN_PIPE});
    pl_write_ok(pl, "abc\n");
    EXPECT_PL_LINE(pl, 1, 10000, "abc\n");
    pl_write_ok(pl, "def");
    prun_buf out;
    ck_assert_int_eq(prun_pipeline_communicate(pl, "ghi", 3, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "defghi");
    prun_buf_free(&out);
    ck_assert_int_eq(prun_pipeline_write(pl, "x", 1, 1000, NULL), -EBADF);
    prun_pipeline_free(pl);
}
END_TEST

START_TEST(pipeline_write_epipe_and_timeout)
{
    struct sigstate before;
    sigpipe_default(&before);
    char *const *const stages[] = {SH("exec 0<&-; echo closed; exec sleep 1000"), ARGV("cat")};
    prun_pipeline *pl = pl_start(2, stages, (prun_opts){.stdin_io = PRUN_PIPE,
                                                        .stdout_io = PRUN_PIPE});
    EXPECT_PL_LINE(pl, 1, 10000, "closed\n");
    size_t w = 12345;
    ck_assert_int_eq(prun_pipeline_write(pl, "x", 1, 10000, &w), -EPIPE);
    ck_assert_uint_eq(w, 0);
    assert_sigpipe_untouched(&before);
    ck_assert_int_eq(prun_pipeline_kill(pl), 0);
    pl_status(pl);
    prun_pipeline_free(pl);

    size_t len = 4 * (size_t)MiB;
    char *big = patterned(len);
    char *const *const slow[] = {ARGV("sleep", "1000"), ARGV("cat")};
    pl = pl_start(2, slow, (prun_opts){.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE});
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_pipeline_write(pl, big, len, 300, &w), PRUN_ETIMEOUT);
    ck_assert_int_ge(th_now_ms() - t0, 280);
    ck_assert_uint_ge(w, 1);
    ck_assert_uint_lt(w, len);
    ck_assert_int_eq(prun_pipeline_kill(pl), 0);
    pl_status(pl);
    prun_pipeline_free(pl);
    free(big);
}
END_TEST

/* stderr_io applies to every stage: both stages' lines on one stream. */
START_TEST(pipeline_readline_stderr)
{
    char *const *const stages[] = {SH("echo e1 >&2; echo x"), SH("cat >/dev/null; echo e2 >&2")};
    prun_pipeline *pl = pl_start(2, stages, (prun_opts){.stderr_io = PRUN_PIPE});
    prun_buf a, b;
    ck_assert_int_eq(prun_pipeline_readline(pl, 2, 10000, &a), 1);
    ck_assert_int_eq(prun_pipeline_readline(pl, 2, 10000, &b), 1);
    ck_assert_msg((!strcmp(a.data, "e1\n") && !strcmp(b.data, "e2\n")) ||
                  (!strcmp(a.data, "e2\n") && !strcmp(b.data, "e1\n")),
                  "stderr lines \"%s\" \"%s\"", a.data, b.data);
    prun_buf_free(&a);
    prun_buf_free(&b);
    ck_assert_int_eq(prun_pipeline_readline(pl, 2, 10000, &a), 0);
    ck_assert_int_eq(pl_status(pl), 0);
    prun_pipeline_free(pl);
}
END_TEST

START_TEST(pipeline_errors)
{
    int fds = th_count_fds();
    char *const *const stages[] = {ARGV("true"), ARGV("true")};
    prun_pipeline *pl = pl_start(2, stages, (prun_opts){.stdin_io = PRUN_DEVNULL,
                                                        .stdout_io = PRUN_DEVNULL});
    size_t w = 12345;
    char buf[8];
    prun_buf l = {(char *)"junk", 4};
    ck_assert_int_eq(prun_pipeline_write(pl, "x", 1, 1000, &w), -EBADF);
    ck_assert_uint_eq(w, 0);
    ASSERT_SENTENCE("stdin");
    ck_assert_int_eq(prun_pipeline_read(pl, 1, buf, sizeof buf, 1000), -EBADF);
    ASSERT_SENTENCE("stdout");
    ck_assert_int_eq(prun_pipeline_readline(pl, 2, 1000, &l), -EBADF);
    ASSERT_SENTENCE("stderr");
    ck_assert_ptr_null(l.data);
    ck_assert_int_eq(prun_pipeline_read(pl, 0, buf, sizeof buf, 1000), -EINVAL);
    ASSERT_SENTENCE("stream");
    ck_assert_int_eq(prun_pipeline_readline(pl, 3, 1000, &l), -EINVAL);
    ASSERT_SENTENCE("stream");
    ck_assert_int_eq(prun_pipeline_readline(pl, 1, 1000, NULL), -EINVAL);
    ck_assert_int_eq(prun_pipeline_read(pl, 1, NULL, 4, 1000), -EINVAL);
    ck_assert_int_eq(prun_pipeline_write(NULL, "x", 1, 1000, &w), -EINVAL);
    ck_assert_int_eq(prun_pipeline_read(NULL, 1, buf, sizeof buf, 1000), -EINVAL);
    l = (prun_buf){(char *)"junk", 4};
    ck_assert_int_eq(prun_pipeline_readline(NULL, 1, 1000, &l), -EINVAL);
    ck_assert_ptr_null(l.data);
    ASSERT_SENTENCE("prun_pipeline_readline: the handle is NULL");
    ck_assert_int_eq(pl_status(pl), 0);
    prun_pipeline_free(pl);
    th_assert_no_leaks(fds);
}
END_TEST

/* --- errors ------------------------------------------------------------------ */

/* poll(2) refuses more fds than RLIMIT_NOFILE allows (EINVAL): with the
 * limit at 0 a read, a readline and a write that must wait cannot, and
 * say so, with what went through counted; the child is left as it was. */
START_TEST(poll_failures_are_errors)
{
    int fds = th_count_fds();
    prun_proc *p = start_sh("exec sleep 100", PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    size_t len = 4 * (size_t)MiB, w = 12345;
    char *big = patterned(len), buf[8];
    prun_buf l = {(char *)"junk", 4};
    struct rlimit old, none;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    none = (struct rlimit){0, old.rlim_max};
    char said[3][256];
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
    ssize_t r0 = prun_read(p, 1, buf, sizeof buf, 5000);
    snprintf(said[0], sizeof said[0], "%s", prun_last_error());
    prun_pipeline_stage(NULL, 12345, NULL);
    int r1 = prun_readline(p, 1, 5000, &l);
    snprintf(said[1], sizeof said[1], "%s", prun_last_error());
    prun_pipeline_stage(NULL, 12345, NULL);
    int r2 = prun_write(p, big, len, 5000, &w);  /* more than the pipe holds */
    snprintf(said[2], sizeof said[2], "%s", prun_last_error());
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_msg(r0 == -EINVAL && r1 == -EINVAL && r2 == -EINVAL, "read %zd, readline %d, "
                  "write %d (%s / %s / %s)", r0, r1, r2, said[0], said[1], said[2]);
    for (int i = 0; i < 3; i++)
        ck_assert_msg(strstr(said[i], "cannot wait for the pipes of 'sh': Invalid argument"),
                      "call %d: the sentence \"%s\"", i, said[i]);
    ck_assert_ptr_null(l.data);
    ck_assert_uint_gt(w, 0);  /* what fitted went in, and is counted */
    ck_assert_uint_lt(w, len);
    ck_assert_int_eq(prun_poll(p, NULL), 0);
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(th_returncode(p, 10000), -SIGKILL);
    prun_free(p);
    free(big);
    th_assert_no_leaks(fds);
}
END_TEST

/* After a communicate that stopped before the end of a pipe (max_output
 * here), the pipe reads as ended: 0 from prun_read and prun_readline,
 * which is no error. */
START_TEST(read_after_a_stopped_communicate_is_eof)
{
    prun_opts o = {.stdout_io = PRUN_PIPE, .max_output = 10};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, ARGV("yes"), &o);
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, NULL), PRUN_ETOOBIG);
    ck_assert_uint_eq(out.len, 10);
    prun_buf_free(&out);
    char buf[8];
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 1000), 0);
    EXPECT_EOF(p, 1);
    ck_assert_int_eq(prun_read(p, 2, buf, sizeof buf, 1000), -EBADF);  /* never a pipe */
    ck_assert_int_eq(th_returncode(p, 10000), -SIGKILL);
    prun_free(p);
}
END_TEST

/* A len of 0 reads nothing, and is not end-of-file; buf may then be NULL. */
START_TEST(read_of_zero_bytes)
{
    prun_proc *p = start_sh("echo x", PRUN_DEVNULL, PRUN_PIPE, PRUN_DEVNULL);
    char buf[8] = "";
    ck_assert_int_eq(prun_read(p, 1, NULL, 0, 1000), 0);
    ck_assert_int_eq(prun_read(p, 1, buf, 0, 1000), 0);
    ck_assert_int_eq(prun_read(p, 1, buf, sizeof buf, 10000), 2);
    ck_assert_str_eq(buf, "x\n");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
    char *const *const stages[] = {ARGV("echo", "y")};
    prun_pipeline *pl = pl_start(1, stages, (prun_opts){.stdout_io = PRUN_PIPE});
    ck_assert_int_eq(prun_pipeline_read(pl, 1, NULL, 0, 1000), 0);
    ck_assert_int_eq(prun_pipeline_read(pl, 1, buf, sizeof buf, 10000), 2);
    ck_assert_int_eq(memcmp(buf, "y\n", 2), 0);
    ck_assert_int_eq(pl_status(pl), 0);
    prun_pipeline_free(pl);
}
END_TEST

/* --- leaks ------------------------------------------------------------------ */

/* Every path, many times over: no fd, child or byte left behind (ASan
 * checks the bytes). */
START_TEST(no_fds_or_children_left)
{
    int fds = th_count_fds();
    for (int i = 0; i < 20; i++) {
        prun_proc *p = start_sh("cat; echo e >&2", PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
        write_ok(p, "a\nb\nc");
        EXPECT_LINE(p, 1, 10000, "a\n");
        prun_buf l;
        ck_assert_int_eq(prun_readline(p, 2, 0, &l), PRUN_ETIMEOUT);
        ck_assert_int_eq(prun_readline(p, 0, 0, &l), -EINVAL);
        char c;
        ck_assert_int_eq(prun_read(p, 1, &c, 1, 10000), 1);
        if (i % 2) {  /* half of them freed with output still buffered */
            prun_buf out, err;
            ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
            th_assert_buf_eq(out, "\nc");
            th_assert_buf_eq(err, "e\n");
            prun_buf_free(&out);
            prun_buf_free(&err);
        }
        prun_free(p);
    }
    th_assert_no_leaks(fds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("io");
    TCase *tc = th_tcase(s, "readline", 120);
    tcase_add_test(tc, cat_line_by_line);
    tcase_add_test(tc, bc_line_by_line);
    tcase_add_test(tc, readline_timeout_keeps_the_partial_line);
    tcase_add_test(tc, last_line_without_newline);
    tcase_add_test(tc, long_lines_and_many_lines);
    tcase_add_test(tc, readline_every_short_length);
    tcase_add_test(tc, readline_grows_the_pipe_of_a_fast_writer);
    tcase_add_test(tc, readline_on_stderr);
    tcase_add_test(tc, readline_then_communicate);
    tcase_add_test(tc, readline_then_communicate_resumes_after_timeout);
    tcase_add_test(tc, communicate_timeout_then_readline);
    tcase_add_test(tc, readline_max_output_partial_line);
    tcase_add_test(tc, readline_errors);

    tc = th_tcase(s, "read", 60);
    tcase_add_test(tc, read_1_byte_at_a_time);
    tcase_add_test(tc, read_7_bytes_at_a_time);
    tcase_add_test(tc, read_after_readline);
    tcase_add_test(tc, read_then_readline);
    tcase_add_test(tc, read_timeout);
    tcase_add_test(tc, read_then_communicate);
    tcase_add_test(tc, read_errors);

    tc = th_tcase(s, "write", 60);
    tcase_add_test(tc, write_to_closed_stdin_is_epipe);
    tcase_add_test(tc, write_epipe_midway);
    tcase_add_test(tc, write_timeout_child_never_reads);
    tcase_add_test(tc, write_timeout_0_writes_what_fits);
    tcase_add_test(tc, write_forever_writes_everything);
    tcase_add_test(tc, write_then_communicate);
    tcase_add_test(tc, write_readline_then_communicate);
    tcase_add_test(tc, write_errors);
    tcase_add_test(tc, eintr_storm);

    tc = th_tcase(s, "pipeline", 60);
    tcase_add_test(tc, pipeline_line_by_line);
    tcase_add_test(tc, pipeline_cat_tr);
    tcase_add_test(tc, pipeline_readline_timeout_and_partial);
    tcase_add_test(tc, pipeline_read_readline_communicate);
    tcase_add_test(tc, pipeline_write_then_communicate);
    tcase_add_test(tc, pipeline_write_epipe_and_timeout);
    tcase_add_test(tc, pipeline_readline_stderr);
    tcase_add_test(tc, pipeline_errors);

    tc = th_tcase(s, "errors", 60);
    tcase_add_test(tc, poll_failures_are_errors);
    tcase_add_test(tc, read_after_a_stopped_communicate_is_eof);
    tcase_add_test(tc, read_of_zero_bytes);

    tc = th_tcase(s, "leaks", 60);
    tcase_add_test(tc, no_fds_or_children_left);

    /* Each of these found a defect of the library, since fixed. */
    tc = th_tcase(s, "regressions", 60);
    tcase_add_test(tc, readline_max_output_whole_line);
    tcase_add_test(tc, readline_then_communicate_on_output);
    tcase_add_test(tc, readline_then_communicate_max_output);
    tcase_add_test(tc, read_non_pipe_after_communicate);
    tcase_add_test(tc, read_forever_with_callers_nonblock);
    tcase_add_test(tc, write_leaves_the_blocking_mode_alone);
    tcase_add_test(tc, write_after_timed_out_communicate_keeps_order);

    return th_run_suite(s);
}
