/* SPDX-License-Identifier: MIT */
/* test_communicate.c - prun_communicate(): big data both ways, EPIPE and
 * SIGPIPE, timeouts and resuming, max_output, on_output, EINTR, and the
 * grace period after the child exits. */
#include "helpers.h"
#include "prun.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MiB (1024 * 1024)

/* --- helpers ------------------------------------------------------------ */

/* len bytes of a reproducible stream that is neither constant nor
 * short-periodic, so a lost, doubled or reordered chunk cannot compare
 * equal; free() it. */
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

static prun_proc *start(char *const argv[], enum prun_io in, enum prun_io out, enum prun_io err)
{
    prun_opts o = {.stdin_io = in, .stdout_io = out, .stderr_io = err};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, argv, &o);
    return p;
}

static prun_proc *start_sh(const char *cmd, enum prun_io in, enum prun_io out, enum prun_io err)
{
    char *argv[] = {"sh", "-c", (char *)cmd, NULL};
    return start(argv, in, out, err);
}

/* A pipe the child blocks on (`read x <&FD`) until gate_open(): lets a
 * test make a communicate time out without sleeping in the child.  The
 * read end is passed to the child at its own number. */
struct gate {
    int fds[2];
};

static void gate_init(struct gate *g)
{
    ck_assert_int_eq(pipe2(g->fds, O_CLOEXEC), 0);
}

/* Spawns `sh -c CMD` where CMD may use %d (twice at most) for the gate fd. */
static prun_proc *start_gated(struct gate *g, const char *fmt, enum prun_io in, enum prun_io out,
                              enum prun_io err)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, fmt, g->fds[0], g->fds[0]);
    char *argv[] = {"sh", "-c", cmd, NULL};
    prun_opts o = {.stdin_io = in, .stdout_io = out, .stderr_io = err,
                   .pass_fds = &g->fds[0], .n_pass_fds = 1};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, argv, &o);
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

/* Every len-byte block of buf is `unit` (len of buf a multiple of it). */
static int repeats(const prun_buf *b, const char *unit)
{
    size_t u = strlen(unit);
    if (b->len % u)
        return 0;
    for (size_t i = 0; i < b->len; i += u)
        if (memcmp(b->data + i, unit, u) != 0)
            return 0;
    return 1;
}

static long maxrss_kb(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_maxrss;
}

/* --- large data ---------------------------------------------------------- */

START_TEST(cat_100mib_both_ways)
{
    size_t len = 100 * (size_t)MiB;
    char *in = patterned(len);
    char *argv[] = {"cat", NULL};
    prun_proc *p = start(argv, PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, in, len, PRUN_FOREVER, &out, &err), 0);
    ck_assert_uint_eq(out.len, len);
    ck_assert_msg(memcmp(out.data, in, len) == 0, "cat's output differs from its input");
    ck_assert_int_eq(out.data[len], '\0');
    ck_assert_uint_eq(err.len, 0);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    free(in);
}
END_TEST

START_TEST(stdout_and_stderr_10mib_at_once)
{
    prun_proc *p = start_sh("yes out | head -c 10485760 & yes err | head -c 10485760 >&2; wait",
                            PRUN_INHERIT, PRUN_PIPE, PRUN_PIPE);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, PRUN_FOREVER, &out, &err), 0);
    ck_assert_uint_eq(out.len, 10 * MiB);
    ck_assert_uint_eq(err.len, 10 * MiB);
    ck_assert_msg(repeats(&out, "out\n"), "stdout is not out\\n repeated");
    ck_assert_msg(repeats(&err, "err\n"), "stderr is not err\\n repeated");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}
END_TEST

/* --- EPIPE and SIGPIPE ----------------------------------------------------- */

static void assert_same_mask(const sigset_t *a, const sigset_t *b)
{
    for (int s = 1; s < SIGRTMAX; s++)
        ck_assert_msg(sigismember(a, s) == sigismember(b, s), "signal %d changed in the mask", s);
}

/* `true` with 50 MiB of input: the writes get EPIPE.  Returns after checking
 * the call itself; the caller checks the signal state. */
static void feed_true_50mib(void)
{
    size_t len = 50 * (size_t)MiB;
    char *in = patterned(len);
    char *argv[] = {"true", NULL};
    prun_proc *p = start(argv, PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, in, len, 20000, &out, &err), 0);
    th_assert_buf_eq(out, "");
    th_assert_buf_eq(err, "");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    free(in);
}

START_TEST(child_exits_without_reading)
{
    /* SIGUSR2 blocked too, so that "restored" cannot pass as "emptied". */
    sigset_t usr2, before, after, pending;
    sigemptyset(&usr2);
    sigaddset(&usr2, SIGUSR2);
    ck_assert_int_eq(sigprocmask(SIG_BLOCK, &usr2, NULL), 0);
    signal(SIGPIPE, SIG_DFL);
    sigprocmask(SIG_SETMASK, NULL, &before);

    feed_true_50mib();  /* a SIGPIPE death here fails the test */

    struct sigaction sa;
    sigaction(SIGPIPE, NULL, &sa);
    ck_assert_msg(sa.sa_handler == SIG_DFL, "SIGPIPE disposition changed");
    sigprocmask(SIG_SETMASK, NULL, &after);
    assert_same_mask(&before, &after);
    sigpending(&pending);
    ck_assert_msg(!sigismember(&pending, SIGPIPE), "a SIGPIPE was left pending");
}
END_TEST

START_TEST(caller_blocking_sigpipe_sees_none)
{
    sigset_t pipe_set, pending, mask;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    ck_assert_int_eq(sigprocmask(SIG_BLOCK, &pipe_set, NULL), 0);
    feed_true_50mib();
    sigpending(&pending);
    ck_assert_msg(!sigismember(&pending, SIGPIPE), "the library's SIGPIPE was left pending");
    sigprocmask(SIG_SETMASK, NULL, &mask);
    ck_assert_msg(sigismember(&mask, SIGPIPE), "the caller's block on SIGPIPE was lifted");
}
END_TEST

START_TEST(callers_pending_sigpipe_is_left_alone)
{
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    ck_assert_int_eq(sigprocmask(SIG_BLOCK, &pipe_set, NULL), 0);
    raise(SIGPIPE);
    feed_true_50mib();
    sigpending(&pending);
    ck_assert_msg(sigismember(&pending, SIGPIPE), "the caller's own pending SIGPIPE was eaten");
    struct timespec zero = {0, 0};
    ck_assert_int_eq(sigtimedwait(&pipe_set, NULL, &zero), SIGPIPE);
}
END_TEST

/* The child closes its stdin at once, then writes more than a pipe holds,
 * so it is still running when the input hits EPIPE. */
START_TEST(child_closes_stdin_early)
{
    size_t len = 10 * (size_t)MiB;
    char *in = patterned(len);
    prun_proc *p = start_sh("exec 0<&-; yes abc | head -c 4000000; echo done",
                            PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, in, len, 20000, &out, &err), 0);
    ck_assert_ptr_null(err.data);
    ck_assert_uint_eq(out.len, 4000000 + 5);
    ck_assert_str_eq(out.data + 4000000, "done\n");
    out.len = 4000000;
    ck_assert(repeats(&out, "abc\n"));
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_free(p);
    free(in);
}
END_TEST

/* --- input rules -------------------------------------------------------- */

START_TEST(bytes_written_before_come_first)
{
    char *argv[] = {"cat", NULL};
    prun_proc *p = start(argv, PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    ck_assert_int_eq(write(prun_stdin(p), "banana", 6), 6);
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, "split", 5, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "bananasplit");
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

START_TEST(input_without_stdin_pipe_is_an_error)
{
    prun_proc *p = start_sh("exit 0", PRUN_INHERIT, PRUN_PIPE, PRUN_INHERIT);
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, "x", 1, 10000, &out, NULL), -EINVAL);
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "stdin"));
    prun_free(p);
}
END_TEST

START_TEST(no_input_closes_stdin)
{
    char *argv[] = {"cat", NULL};
    prun_proc *p = start(argv, PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "");
    th_assert_buf_eq(err, "");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}
END_TEST

/* --- timeouts and resuming ------------------------------------------------ */

/* CPython's test_communicate_timeout, with a gate instead of `sleep 1`. */
START_TEST(timeout_then_resume_returns_everything)
{
    struct gate g;
    gate_init(&g);
    prun_proc *p = start_gated(&g, "echo pineapple >&2; read x <&%d; echo pear >&2; cat",
                               PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    prun_buf out, err;
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_communicate(p, "banana", 6, 300, &out, &err), PRUN_ETIMEOUT);
    ck_assert_int_ge(th_now_ms() - t0, 250);
    ck_assert_int_eq(prun_poll(p, NULL), 0);  /* a timeout does not kill */
    gate_open(&g);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "banana");
    th_assert_buf_eq(err, "pineapple\npear\n");
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}
END_TEST

/* CPython gh-141473: the resumed call sends the rest of the input, then
 * closes stdin (else wc waits forever).  The input is bigger than a 1 MiB
 * pipe so that some of it is certainly left over at the timeout. */
START_TEST(resume_sends_the_rest_and_closes_stdin)
{
    size_t len = 5000000;
    char *in = patterned(len);
    struct gate g;
    gate_init(&g);
    prun_proc *p = start_gated(&g, "read x <&%d; wc -c", PRUN_PIPE, PRUN_PIPE, PRUN_INHERIT);
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, in, len, 100, &out, NULL), PRUN_ETIMEOUT);
    memset(in, 0, len);  /* the caller's buffer may be gone by the next call */
    free(in);
    /* A second timeout keeps the copy the first one made. */
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 50, &out, NULL), PRUN_ETIMEOUT);
    ck_assert_ptr_null(out.data);
    gate_open(&g);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "5000000\n");
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* Gated first half, then the second half read through a series of tiny
 * timeouts: nothing read before any timeout may be lost or doubled. */
START_TEST(timeouts_during_heavy_output_lose_nothing)
{
    struct gate g;
    gate_init(&g);
    prun_proc *p = start_gated(&g,
                               "yes abcdefg | head -c 8000000; read x <&%d; "
                               "yes abcdefg | head -c 8000000",
                               PRUN_INHERIT, PRUN_PIPE, PRUN_INHERIT);
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 300, &out, NULL), PRUN_ETIMEOUT);
    gate_open(&g);
    int r, timeouts = 0;
    while ((r = prun_communicate(p, NULL, 0, 2, &out, NULL)) == PRUN_ETIMEOUT)
        timeouts++;
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(out.len, 16000000);
    ck_assert(repeats(&out, "abcdefg\n"));
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* A child that never stops writing keeps poll() busy: the timeout must
 * still expire.  max_output only bounds the memory should it not. */
START_TEST(timeout_while_output_keeps_flowing)
{
    char *argv[] = {"sh", "-c", "while :; do echo line; done", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .max_output = 64 * MiB};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, argv, &o);
    prun_buf out;
    int64_t t0 = th_now_ms();
    int r = prun_communicate(p, NULL, 0, 200, &out, NULL);
    int64_t took = th_now_ms() - t0;
    prun_kill(p);
    ck_assert_int_eq(r, PRUN_ETIMEOUT);
    ck_assert_int_lt(took, 3000);
    /* The Python idiom: kill, then communicate again for everything. */
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, NULL), 0);
    ck_assert_uint_gt(out.len, 0);
    out.len -= out.len % 5;  /* the kill may cut a line */
    ck_assert(repeats(&out, "line\n"));
    ck_assert_int_eq(th_returncode(p, 10000), -9);
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* A consumer slower than the producer: the pipe is always ready, so a
 * loop that only looks at the clock when poll() comes back empty would
 * never time out.  The callback gives up after 5 s so that such a loop
 * fails the test instead of hanging it. */
struct slow_sink {
    int64_t t0;
    size_t bytes;
};

static int slow_output(void *userdata, int stream, const char *data, size_t len)
{
    struct slow_sink *s = userdata;
    (void)stream, (void)data;
    s->bytes += len;
    struct timespec ms20 = {0, 20000000};  /* yes refills the pipe meanwhile */
    nanosleep(&ms20, NULL);
    return th_now_ms() - s->t0 > 5000 ? 99 : 0;
}

START_TEST(timeout_with_a_slow_consumer)
{
    char *argv[] = {"yes", NULL};
    struct slow_sink sink = {.t0 = th_now_ms()};
    prun_opts o = {.stdout_io = PRUN_PIPE, .on_output = slow_output, .userdata = &sink};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, argv, &o);
    int r = prun_communicate(p, NULL, 0, 200, NULL, NULL);
    int64_t took = th_now_ms() - sink.t0;
    prun_kill(p);
    ck_assert_int_eq(r, PRUN_ETIMEOUT);
    ck_assert_int_lt(took, 3000);
    ck_assert_uint_gt(sink.bytes, 0);
    prun_free(p);
}
END_TEST

START_TEST(communicate_after_completion)
{
    prun_proc *p = start_sh("printf hi; exit 3", PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "hi");
    prun_buf_free(&out);
    prun_buf_free(&err);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    /* The pipe rule: "" for a stream that was a pipe. */
    ck_assert_ptr_nonnull(out.data);
    ck_assert_ptr_nonnull(err.data);
    th_assert_buf_eq(out, "");
    th_assert_buf_eq(err, "");
    int rc = INT_MIN;
    ck_assert_int_eq(prun_poll(p, &rc), 1);
    ck_assert_int_eq(rc, 3);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}
END_TEST

/* --- what comes back -------------------------------------------------------- */

/* More than two pipes' worth on each stream: a NULL destination must still
 * be read, or the child blocks forever. */
START_TEST(null_destinations_are_drained)
{
    prun_proc *p = start_sh("yes | head -c 5000000; yes | head -c 5000000 >&2; exit 7",
                            PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 20000, NULL, NULL), 0);
    ck_assert_int_eq(th_returncode(p, 10000), 7);
    prun_free(p);
}
END_TEST

START_TEST(streams_that_are_not_pipes_are_null)
{
    prun_proc *p = start_sh("printf o; printf e >&2", PRUN_DEVNULL, PRUN_DEVNULL, PRUN_PIPE);
    prun_buf out = {(char *)"junk", 4}, err;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    ck_assert_ptr_null(out.data);
    ck_assert_uint_eq(out.len, 0);
    th_assert_buf_eq(err, "e");
    prun_buf_free(&err);
    prun_free(p);

    p = start_sh("exit 47", PRUN_INHERIT, PRUN_INHERIT, PRUN_INHERIT);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    ck_assert_ptr_null(out.data);
    ck_assert_ptr_null(err.data);
    ck_assert_int_eq(th_returncode(p, 10000), 47);
    prun_free(p);
}
END_TEST

/* --- max_output and on_output ------------------------------------------------ */

START_TEST(max_output_stops_an_endless_stream)
{
    size_t max = 1 * MiB;
    char *argv[] = {"yes", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .max_output = max};
    prun_proc *p = NULL;
    long rss0 = maxrss_kb();
    int64_t t0 = th_now_ms();
    TH_POPEN_OK(&p, argv, &o);
    prun_buf out;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 30000, &out, NULL), PRUN_ETOOBIG);
    ck_assert_int_lt(th_now_ms() - t0, 10000);
    ck_assert_uint_eq(out.len, max);
    ck_assert_int_eq(out.data[max], '\0');
    ck_assert(repeats(&out, "y\n"));
    ck_assert_int_eq(th_returncode(p, 10000), -9);
    ck_assert_int_lt(maxrss_kb() - rss0, 64 * 1024);
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* Exactly max_output bytes is not too big. */
START_TEST(max_output_exactly_reached_is_fine)
{
    prun_opts o = {.stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE, .max_output = 100000};
    char *argv[] = {"sh", "-c", "yes | head -c 100000; yes | head -c 100000 >&2", NULL};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, argv, &o);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    ck_assert_uint_eq(out.len, 100000);
    ck_assert_uint_eq(err.len, 100000);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}
END_TEST

static const char LINE32[] = "0123456789abcdefghijklmnopqrstu\n";

struct sink {
    size_t bytes[3];
    size_t bad;       /* stdout bytes not where the pattern says */
    int calls;
    int stop_after;   /* 0: never stop */
};

static int sink_output(void *userdata, int stream, const char *data, size_t len)
{
    struct sink *s = userdata;
    ck_assert(stream == 1 || stream == 2);
    if (stream == 1)
        for (size_t i = 0; i < len; i++)
            if (data[i] != LINE32[(s->bytes[1] + i) % 32])
                s->bad++;
    s->bytes[stream] += len;
    s->calls++;
    return s->stop_after && s->calls >= s->stop_after ? 42 : 0;
}

START_TEST(on_output_gets_every_byte)
{
    size_t len = 50 * (size_t)MiB;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "yes %.31s | head -c %zu; printf EEE >&2", LINE32, len);
    char *argv[] = {"sh", "-c", cmd, NULL};
    struct sink s = {0};
    prun_opts o = {.stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE,
                   .on_output = sink_output, .userdata = &s};
    prun_proc *p = NULL;
    long rss0 = maxrss_kb();
    TH_POPEN_OK(&p, argv, &o);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 30000, &out, &err), 0);
    ck_assert_uint_eq(s.bytes[1], len);
    ck_assert_uint_eq(s.bytes[2], 3);
    ck_assert_uint_eq(s.bad, 0);
    ck_assert_uint_eq(out.len, 0);
    ck_assert_uint_eq(err.len, 0);
    ck_assert_int_lt(maxrss_kb() - rss0, 32 * 1024);  /* streamed, not buffered */
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}
END_TEST

static int count_output(void *userdata, int stream, const char *data, size_t len)
{
    struct sink *s = userdata;
    (void)data;
    s->bytes[stream] += len;
    s->calls++;
    return 0;
}

/* A writer of 1 byte per write(2) on another CPU than the reader: without
 * the nap after a run of short reads, every write wakes the reader for a
 * byte or two (about one on_output call per write); with it the writes
 * pile up while the reader sleeps on a timer.  Needs two CPUs. */
START_TEST(trickle_on_another_cpu_is_read_in_batches)
{
    cpu_set_t all, one;
    ck_assert_int_eq(sched_getaffinity(0, sizeof all, &all), 0);
    int cpu[2], n = 0;
    for (int c = 0; c < CPU_SETSIZE && n < 2; c++)
        if (CPU_ISSET(c, &all))
            cpu[n++] = c;
    if (n < 2)
        return;  /* one CPU: the writer always shares it */
    enum { BYTES = 20000 };
    char *argv[] = {"dd", "if=/dev/zero", "bs=1", "count=20000", "status=none", NULL};
    struct sink s = {0};
    prun_opts o = {.stdout_io = PRUN_PIPE, .on_output = count_output, .userdata = &s};
    prun_proc *p = NULL;
    CPU_ZERO(&one);
    CPU_SET(cpu[0], &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);  /* the child's CPU */
    TH_POPEN_OK(&p, argv, &o);
    CPU_ZERO(&one);
    CPU_SET(cpu[1], &one);
    ck_assert_int_eq(sched_setaffinity(0, sizeof one, &one), 0);  /* the reader's */
    int r = prun_communicate(p, NULL, 0, 30000, NULL, NULL);
    ck_assert_int_eq(sched_setaffinity(0, sizeof all, &all), 0);
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(s.bytes[1], BYTES);
    ck_assert_msg(s.calls < BYTES / 10, "%d reads for %d 1-byte writes", s.calls, BYTES);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
}
END_TEST

START_TEST(on_output_nonzero_stops_and_kills)
{
    char *argv[] = {"yes", NULL};
    struct sink s = {.stop_after = 3};
    prun_opts o = {.stdout_io = PRUN_PIPE, .on_output = sink_output, .userdata = &s};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 30000, NULL, NULL), 42);
    ck_assert_int_eq(s.calls, 3);
    ck_assert_int_eq(th_returncode(p, 10000), -9);
    prun_free(p);
}
END_TEST

/* --- signals and clocks -------------------------------------------------- */

static volatile sig_atomic_t ticks;

static void on_tick(int sig)
{
    (void)sig;
    ticks++;
}

/* A handler without SA_RESTART fired every millisecond by a timer: every
 * blocking call of the loop keeps getting EINTR. */
static timer_t storm_start(void)
{
    struct sigaction sa = {.sa_handler = on_tick};  /* sa_flags 0: no SA_RESTART */
    sigemptyset(&sa.sa_mask);
    ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
    struct sigevent sev = {.sigev_notify = SIGEV_SIGNAL, .sigev_signo = SIGUSR1};
    timer_t timer;
    ck_assert_int_eq(timer_create(CLOCK_MONOTONIC, &sev, &timer), 0);
    struct itimerspec every_ms = {{0, 1000000}, {0, 1000000}};
    ck_assert_int_eq(timer_settime(timer, 0, &every_ms, NULL), 0);
    return timer;
}

static void storm_stop(timer_t timer)
{
    timer_delete(timer);
    signal(SIGUSR1, SIG_DFL);
}

/* The child sleeps first, so the loop spends 0.3 s blocked in poll()
 * under the storm before the data flows (under it too). */
START_TEST(eintr_storm_changes_nothing)
{
    size_t len = 20 * (size_t)MiB;
    char *in = patterned(len);
    prun_proc *p = start_sh("sleep 0.3; exec cat", PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);

    timer_t timer = storm_start();
    prun_buf out, err;
    int r = prun_communicate(p, in, len, 60000, &out, &err);
    int rc = INT_MIN;
    int w = prun_wait(p, 10000, &rc);
    storm_stop(timer);

    ck_assert_int_eq(r, 0);
    ck_assert_int_eq(w, 0);
    ck_assert_int_eq(rc, 0);
    ck_assert_uint_eq(out.len, len);
    ck_assert_msg(memcmp(out.data, in, len) == 0, "output differs under EINTR");
    th_assert_buf_eq(err, "");
    ck_assert_int_gt(ticks, 50);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    free(in);
}
END_TEST

/* Retrying after EINTR must not restart the timeout: with a signal every
 * millisecond a restarted 300 ms timeout would never expire. */
START_TEST(eintr_does_not_stretch_the_deadline)
{
    struct gate g;
    gate_init(&g);
    prun_proc *p = start_gated(&g, "read x <&%d; echo late", PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    timer_t timer = storm_start();
    prun_buf out, err;
    int64_t t0 = th_now_ms();
    int r = prun_communicate(p, NULL, 0, 300, &out, &err);
    int64_t took = th_now_ms() - t0;
    storm_stop(timer);
    gate_open(&g);
    ck_assert_int_eq(r, PRUN_ETIMEOUT);
    ck_assert_int_ge(took, 250);
    ck_assert_int_lt(took, 3000);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "late\n");
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}
END_TEST

START_TEST(int_max_timeout_does_not_expire)
{
    prun_proc *p = start_sh("sleep 0.2; echo ok", PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    prun_buf out, err;
    ck_assert_int_eq(prun_communicate(p, "x", 1, INT_MAX, &out, &err), 0);
    th_assert_buf_eq(out, "ok\n");
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
}
END_TEST

/* --- the grace period ----------------------------------------------------- */

/* The backgrounded sleep keeps stdout open for 100 s; communicate stops
 * ~grace_ms after sh exits, having read "started".  new_pgroup lets the
 * test kill the sleep.  Returns how long communicate took. */
static int64_t communicate_past_grandchild(int grace_ms, prun_proc **p, prun_buf *out)
{
    char *argv[] = {"sh", "-c", "sleep 100 & echo started", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .new_pgroup = 1, .grace_ms = grace_ms};
    TH_POPEN_OK(p, argv, &o);
    pid_t pgid = prun_pid(*p);
    int64_t t0 = th_now_ms();
    int r = prun_communicate(*p, NULL, 0, PRUN_FOREVER, out, NULL);
    int64_t took = th_now_ms() - t0;
    killpg(pgid, SIGKILL);
    ck_assert_int_eq(r, 0);
    th_assert_buf_eq(*out, "started\n");
    return took;
}

START_TEST(grandchild_holding_the_pipe)
{
    prun_proc *p;
    prun_buf out;
    ck_assert_int_lt(communicate_past_grandchild(0, &p, &out), 3000);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    ck_assert_int_eq(prun_stdout(p), -1);  /* the pipe was given up */
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* The grace period is a deadline from the exit: a grandchild that writes
 * every 20 ms for ever cannot keep the call from returning. */
START_TEST(grace_is_a_deadline_from_the_exit)
{
    char *argv[] = {"sh", "-c", "(while :; do echo x; sleep 0.02; done) & echo started", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .new_pgroup = 1, .grace_ms = 200};
    prun_proc *p = NULL;
    prun_buf out;
    TH_POPEN_OK(&p, argv, &o);
    int64_t t0 = th_now_ms();
    int r = prun_communicate(p, NULL, 0, 60000, &out, NULL);
    int64_t took = th_now_ms() - t0;
    killpg(prun_pid(p), SIGKILL);
    ck_assert_int_eq(r, 0);
    ck_assert_int_lt(took, 10000);  /* 200 ms, generously; it used to never return */
    ck_assert_ptr_nonnull(memmem(out.data, out.len, "started\n", 8));
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* The event-loop recipe: timeout-0 calls, a wait on the pipes and the
 * pidfd between them.  The grace period must run once, from the exit,
 * not start again with every call (which a grandchild holding the pipe
 * for 3 s would turn into 3 s). */
START_TEST(grace_holds_across_timeout_0_calls)
{
    char *argv[] = {"sh", "-c", "sleep 3 & echo started", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .new_pgroup = 1};
    prun_proc *p = NULL;
    prun_buf out;
    TH_POPEN_OK(&p, argv, &o);
    int64_t t0 = th_now_ms();
    int r, calls = 0;
    struct pollfd pfd[2] = {{-1, POLLIN, 0}, {prun_pidfd(p), POLLIN, 0}};
    while ((r = prun_communicate(p, NULL, 0, 0, &out, NULL)) == PRUN_ETIMEOUT) {
        pfd[0].fd = prun_stdout(p);
        poll(pfd, 2, 20);  /* the loop's own wake-ups, as epoll's would be */
        if (pfd[1].revents)  /* it stays readable: once is enough, as the recipe says */
            pfd[1].fd = -1;
        prun_buf_free(&out);
        calls++;
    }
    int64_t took = th_now_ms() - t0;
    killpg(prun_pid(p), SIGKILL);
    ck_assert_int_eq(r, 0);
    th_assert_buf_eq(out, "started\n");
    ck_assert_msg(took < 2500, "%lld ms in %d calls: the grace period restarted",
                  (long long)took, calls);
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

static int slow_reader(void *userdata, int stream, const char *data, size_t len)
{
    (void)stream, (void)data;
    *(size_t *)userdata += len;
    struct timespec ms5 = {0, 5000000};  /* a consumer slower than the grace period */
    nanosleep(&ms5, NULL);
    return 0;
}

/* What the child wrote before it exited is read in full, however short
 * the grace period and however slow the reading: 3 MB through a 1 ms
 * grace and a callback that takes 5 ms a chunk. */
START_TEST(grace_never_cuts_the_childs_own_output)
{
    size_t got = 0;
    char *argv[] = {"head", "-c", "3000000", "/dev/zero", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .grace_ms = 1, .on_output = slow_reader,
                   .userdata = &got};
    prun_proc *p = NULL;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_int_eq(prun_communicate(p, NULL, 0, 60000, NULL, NULL), 0);
    ck_assert_uint_eq(got, 3000000);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    prun_free(p);
}
END_TEST

START_TEST(grace_ms_is_honoured)
{
    prun_proc *p;
    prun_buf out;
    int64_t took = communicate_past_grandchild(600, &p, &out);
    ck_assert_int_ge(took, 500);
    ck_assert_int_lt(took, 5000);
    prun_buf_free(&out);
    prun_free(p);
}
END_TEST

/* Without pidfds (Linux before 5.3) the loop looks for the exit with
 * waitid; with SIGCHLD set to SIG_IGN the kernel has reaped the child
 * already and waitid cannot see it.  The output still comes whole, and the
 * lost status is -ECHILD with its sentence.  In a forked helper. */
static int lost_without_pidfds(void)
{
    static const long nrs[] = {SYS_pidfd_open, SYS_pidfd_send_signal, SYS_clone3};
    if (th_deny_syscalls(nrs, 3, ENOSYS) < 0)
        return 1;
    signal(SIGCHLD, SIG_IGN);
    char *argv[] = {"sh", "-c", "echo out; echo err >&2", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    prun_proc *p;
    if (prun_popen(&p, argv, &o) || prun_pidfd(p) >= 0)
        return 2;
    prun_buf out, err;
    int r = prun_communicate(p, NULL, 0, 10000, &out, &err);
    if (r != -ECHILD || !strstr(prun_last_error(), "taken by another reaper"))
        return 3;
    if (!out.data || strcmp(out.data, "out\n") != 0 || !err.data || strcmp(err.data, "err\n") != 0)
        return 4;
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    return th_count_children() == 0 ? 0 : 5;
}

START_TEST(lost_status_without_pidfds_keeps_the_output)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exit(lost_without_pidfds());  /* exit(): coverage and LeakSanitizer have their say */
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper failed at step %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
}
END_TEST

/* A poll that fails ends the call with its error and sentence, and, as
 * any error met while communicating does, kills the child.  (Its reaping
 * may meet the same failure: the next wait completes it.) */
START_TEST(poll_failure_kills_the_child)
{
    int fds = th_count_fds();
    prun_proc *p = start_sh("exec sleep 100", PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
    struct rlimit old, none;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    none = (struct rlimit){0, old.rlim_max};
    prun_buf out = {(char *)"junk", 4}, err = {(char *)"junk", 4};
    prun_pipeline_stage(NULL, 12345, NULL);  /* a sentence the failure must replace */
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &none), 0);
    int64_t t0 = th_now_ms();
    int r = prun_communicate(p, "x", 1, 10000, &out, &err);
    char sentence[256];
    snprintf(sentence, sizeof sentence, "%s", prun_last_error());
    ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    ck_assert_msg(r == -EINVAL, "communicate with poll failing: %d (%s)", r, sentence);
    ck_assert_msg(strstr(sentence, "cannot wait for the pipes of 'sh': Invalid argument"),
                  "the sentence: %s", sentence);
    ck_assert_int_lt(th_now_ms() - t0, 5000);
    prun_buf_free(&out);
    prun_buf_free(&err);
    ck_assert_int_eq(th_returncode(p, 20000), -SIGKILL);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

/* --- leaks ---------------------------------------------------------------- */

START_TEST(no_fds_or_children_left)
{
    int fds = th_count_fds();
    for (int i = 0; i < 5; i++) {
        prun_proc *p = start_sh("cat; echo e >&2", PRUN_PIPE, PRUN_PIPE, PRUN_PIPE);
        prun_buf out, err;
        ck_assert_int_eq(prun_communicate(p, "lime", 4, 10000, &out, &err), 0);
        th_assert_buf_eq(out, "lime");
        ck_assert_int_eq(prun_stdin(p), -1);
        ck_assert_int_eq(prun_stdout(p), -1);
        ck_assert_int_eq(prun_stderr(p), -1);
        ck_assert_int_le(th_count_fds(), fds + 1);  /* at most the pidfd until free */
        prun_buf_free(&out);
        prun_buf_free(&err);
        prun_free(p);
    }
    th_assert_no_leaks(fds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("communicate");
    TCase *tc = th_tcase(s, "large", 120);
    tcase_add_test(tc, cat_100mib_both_ways);
    tcase_add_test(tc, stdout_and_stderr_10mib_at_once);

    tc = th_tcase(s, "epipe", 60);
    tcase_add_test(tc, child_exits_without_reading);
    tcase_add_test(tc, caller_blocking_sigpipe_sees_none);
    tcase_add_test(tc, callers_pending_sigpipe_is_left_alone);
    tcase_add_test(tc, child_closes_stdin_early);

    tc = th_tcase(s, "input", 30);
    tcase_add_test(tc, bytes_written_before_come_first);
    tcase_add_test(tc, input_without_stdin_pipe_is_an_error);
    tcase_add_test(tc, no_input_closes_stdin);

    tc = th_tcase(s, "timeout", 60);
    tcase_add_test(tc, timeout_then_resume_returns_everything);
    tcase_add_test(tc, resume_sends_the_rest_and_closes_stdin);
    tcase_add_test(tc, timeouts_during_heavy_output_lose_nothing);
    tcase_add_test(tc, timeout_while_output_keeps_flowing);
    tcase_add_test(tc, timeout_with_a_slow_consumer);
    tcase_add_test(tc, communicate_after_completion);

    tc = th_tcase(s, "results", 30);
    tcase_add_test(tc, null_destinations_are_drained);
    tcase_add_test(tc, streams_that_are_not_pipes_are_null);

    tc = th_tcase(s, "limits", 60);
    tcase_add_test(tc, max_output_stops_an_endless_stream);
    tcase_add_test(tc, max_output_exactly_reached_is_fine);
    tcase_add_test(tc, on_output_gets_every_byte);
    tcase_add_test(tc, on_output_nonzero_stops_and_kills);
    tcase_add_test(tc, trickle_on_another_cpu_is_read_in_batches);

    tc = th_tcase(s, "signals", 120);
    tcase_add_test(tc, eintr_storm_changes_nothing);
    tcase_add_test(tc, eintr_does_not_stretch_the_deadline);
    tcase_add_test(tc, int_max_timeout_does_not_expire);

    tc = th_tcase(s, "grace", 30);
    tcase_add_test(tc, grandchild_holding_the_pipe);
    tcase_add_test(tc, grace_is_a_deadline_from_the_exit);
    tcase_add_test(tc, grace_never_cuts_the_childs_own_output);
    tcase_add_test(tc, grace_holds_across_timeout_0_calls);
    tcase_add_test(tc, grace_ms_is_honoured);

    tc = th_tcase(s, "errors", 30);
    tcase_add_test(tc, poll_failure_kills_the_child);
    tcase_add_test(tc, lost_status_without_pidfds_keeps_the_output);

    tc = th_tcase(s, "leaks", 30);
    tcase_add_test(tc, no_fds_or_children_left);

    return th_run_suite(s);
}
