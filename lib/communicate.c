/* SPDX-License-Identifier: MIT */
/* communicate.c - one poll() loop over a group's pipes and pidfds.
 *
 * Input is written in large non-blocking chunks while output is read into
 * buffers that grow geometrically (or handed to on_output), so a child
 * that writes while it reads never deadlocks.  The same loop serves a
 * single process and a pipeline: one set of streams, n children.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

enum { READ_SIZE = 64 * 1024, NO_PIDFD_POLL_MS = 20, TRICKLE = 4096, TRICKLE_READS = 3,
       TRICKLE_NAP_NS = 1000 * 1000 };

/* What a round of the loop says, besides PRUN_ETIMEOUT and -errno. */
enum { ROUND_AGAIN = 0, ROUND_DONE = 1, ROUND_STOP = 2 /* reason in loop.stop */ };

/* The state of one call.  pfd[0..2] are the streams, pfd[3 + i] child
 * i's pidfd; a closed stream, or a child seen to exit, is -1 there, which
 * poll() skips. */
struct loop {
    struct prun_group *g;
    struct prun_streams *io;
    int64_t deadline;
    size_t running;       /* children not seen to exit yet */
    int stdin_was_nonblock;
    unsigned char *exited;
    struct pollfd *pfd;
    char *chunk;          /* on_output's buffer */
    struct prun_sigpipe_guard sigpipe;
    int stop;             /* why reading stopped: PRUN_ETOOBIG, -errno or on_output's value */
    int short_reads;      /* reads of less than TRICKLE in a row, children running */
};

static const char *first_name(const struct loop *l)
{
    return l->g->n ? l->g->child[0].name : "";
}

static void close_stream(struct loop *l, int i)
{
    prun__close(&l->io->fd[i]);
    l->pfd[i].fd = -1;
}

/* EPIPE: the child does not want the rest, which is dropped (as in
 * Python).  Any other failure stops the call: input silently lost is a
 * wrong answer. */
static int write_input(struct loop *l)
{
    struct prun_streams *io = l->io;
    ssize_t w = prun__write_pipe(io->fd[0], io->input + io->input_sent,
                                 io->input_len - io->input_sent, &l->sigpipe);
    if (w >= 0)
        io->input_sent += (size_t)w;
    else if (w == -EPIPE)
        io->input_sent = io->input_len;
    else if (w != -EAGAIN) {
        l->stop = prun__fail((int)w, "cannot write the input of '%s'", first_name(l));
        return ROUND_STOP;
    }
    if (io->input_sent == io->input_len)
        close_stream(l, 0);
    return ROUND_AGAIN;
}

/* A bigger pipe means fewer, larger reads for big outputs; tried once a
 * read has filled the default 64 KiB pipe. */
static void grow_pipe(struct prun_streams *io, int s, ssize_t got)
{
    if (io->pipe_grown[s] || got < READ_SIZE)
        return;
    io->pipe_grown[s] = 1;
    prun__grow_pipe(io->fd[s + 1]);
}

/* Faults in the pages the next read will fill, in one call.  Otherwise
 * each page faults inside the kernel's pipe_read(), under the pipe's lock,
 * and the writer waits on every fault: this doubles the throughput of a
 * large capture.  Only for streams already seen to be large; best effort
 * (Linux >= 5.14). */
static void populate(char *dst, size_t len)
{
    uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t start = (uintptr_t)dst & ~(page - 1);
    uintptr_t end = ((uintptr_t)dst + len + page - 1) & ~(page - 1);
    madvise((void *)start, end - start, MADV_POPULATE_WRITE);
}

/* Where the next read of stream s (0 stdout, 1 stderr) goes, and how
 * much it may take: NULL when the buffer cannot grow. */
static char *read_target(struct loop *l, int s, size_t *want)
{
    struct prun_streams *io = l->io;
    *want = io->pipe_grown[s] ? PRUN_BIG_PIPE : READ_SIZE;
    if (io->on_output)
        return l->chunk;
    struct prun_growbuf *b = &io->output[s];
    if (prun__growbuf_reserve(b, *want)) {
        l->stop = prun__fail(-ENOMEM, "cannot store the output of '%s'", first_name(l));
        return NULL;
    }
    size_t room = b->buf.len < io->max_output ? io->max_output - b->buf.len : 0;
    if (io->max_output && *want > room + 1)
        *want = room + 1;  /* one byte more tells it overflows */
    char *dst = b->buf.data + b->buf.len;
    if (io->pipe_grown[s])
        populate(dst, *want);
    return dst;
}

/* Keeps what a read of stream s brought. */
static int took(struct loop *l, int s, char *dst, size_t got)
{
    struct prun_streams *io = l->io;
    if (io->on_output) {
        l->stop = io->on_output(io->userdata, s + 1, dst, got);
        return l->stop ? ROUND_STOP : ROUND_AGAIN;
    }
    prun_buf *b = &io->output[s].buf;
    b->len += got;
    if (io->max_output && b->len > io->max_output) {
        b->len = io->max_output;
        l->stop = prun__fail(PRUN_ETOOBIG, "the output of '%s' exceeded %zu bytes",
                             first_name(l), io->max_output);
    }
    b->data[b->len] = '\0';
    return l->stop ? ROUND_STOP : ROUND_AGAIN;
}

/* A trickle (a child writing a few bytes at a time): the writer gets
 * time to write more before the next poll, so that the next read takes
 * more than a byte or two.  After one short read a sched_yield, which is
 * enough with the writer on our CPU; after TRICKLE_READS in a row (the
 * writer on another CPU, where each write would wake us for its byte) a
 * nap of at most TRICKLE_NAP_NS on a timer, not on the pipe, while the
 * writes pile up.  Never past the deadline: timeout 0 never naps. */
static void let_the_writer_write(struct loop *l)
{
    if (++l->short_reads < TRICKLE_READS) {
        sched_yield();
        return;
    }
    int64_t nap = TRICKLE_NAP_NS, left = l->deadline - prun_clock_ns();
    if (l->deadline != PRUN_NO_DEADLINE && left < nap)
        nap = left;
    if (nap <= 0)
        return;
    struct timespec ts = {0, (long)nap};
    nanosleep(&ts, NULL);  /* EINTR: a signal, so the nap ends early */
}

static int read_stream(struct loop *l, int s)
{
    struct prun_streams *io = l->io;
    size_t want;
    char *dst = read_target(l, s, &want);
    if (!dst)
        return ROUND_STOP;
    ssize_t got;
    do
        got = read(io->fd[s + 1], dst, want);
    while (got < 0 && errno == EINTR);
    if (got < 0 && errno == EAGAIN)  /* a caller's O_NONBLOCK, and nothing yet */
        return ROUND_AGAIN;
    if (got < 0) {  /* not an EOF: the output would be cut short without a word */
        l->stop = prun__fail(-errno, "cannot read the output of '%s'", first_name(l));
        return ROUND_STOP;
    }
    if (got == 0) {
        close_stream(l, s + 1);
        io->at_eof[s + 1] = 1;
        return ROUND_AGAIN;
    }
    grow_pipe(io, s, got);
    if ((size_t)got < TRICKLE && l->running)
        let_the_writer_write(l);
    else
        l->short_reads = 0;
    return took(l, s, dst, (size_t)got);
}

/* The grace period runs from the last exit, however much data comes: a
 * grandchild that keeps writing must not keep the call from returning.
 * Nothing the children wrote is lost to it: a round reads before it
 * notes exits, and one read takes a whole pipe (read_target). */
static void note_exit(struct loop *l, size_t i)
{
    if (l->exited[i])
        return;
    l->exited[i] = 1;
    l->pfd[3 + i].fd = -1;
    /* Kept across calls: an event loop's timeout-0 calls must not each
     * start the grace period again. */
    if (--l->running == 0 && !l->io->grace_end)
        l->io->grace_end = prun_clock_ns() + (int64_t)l->io->grace_ms * 1000000;
}

/* How long poll may sleep: until the deadline, and once every child has
 * exited, until the grace period ends (a grandchild may hold the pipes
 * open for ever).  Sets *grace_over instead when it has ended. */
static int poll_timeout(struct loop *l, int *grace_over)
{
    int left = prun_ms_until(l->deadline);
    *grace_over = 0;
    if (l->running) {
        for (size_t i = 0; i < l->g->n; i++)  /* no pidfd: look again soon */
            if (!l->exited[i] && l->g->child[i].pidfd < 0 && (left < 0 || left > NO_PIDFD_POLL_MS))
                return NO_PIDFD_POLL_MS;
        return left;
    }
    int grace = prun_ms_until(l->io->grace_end);
    if (grace == 0) {
        *grace_over = 1;
        return 0;
    }
    return left < 0 || grace < left ? grace : left;
}

static int streams_open(const struct loop *l)
{
    return l->pfd[0].fd >= 0 || l->pfd[1].fd >= 0 || l->pfd[2].fd >= 0;
}

/* One round: poll, then write, read and note exits: a ROUND_* value,
 * PRUN_ETIMEOUT or -errno. */
static int loop_round(struct loop *l)
{
    if (!streams_open(l))
        return ROUND_DONE;
    int grace_over, r;
    int timeout = poll_timeout(l, &grace_over);
    if (grace_over) {  /* leave the pipes to the grandchildren */
        for (int i = 0; i < 3; i++)
            close_stream(l, i);
        return ROUND_DONE;
    }
    r = poll(l->pfd, 3 + l->g->n, timeout);
    if (r < 0 && errno != EINTR) {
        l->stop = prun__fail(-errno, "cannot wait for the pipes of '%s'", first_name(l));
        return ROUND_STOP;
    }
    if (r <= 0)
        return prun_ms_until(l->deadline) == 0 ? PRUN_ETIMEOUT : ROUND_AGAIN;
    if (l->pfd[0].revents && (r = write_input(l)))
        return r;
    for (int s = 0; s < 2; s++)
        if (l->pfd[s + 1].revents && (r = read_stream(l, s)))
            return r;
    for (size_t i = 0; i < l->g->n; i++)
        if (l->pfd[3 + i].revents)
            note_exit(l, i);
    /* A pipe that is always ready must not keep the deadline away. */
    return prun_ms_until(l->deadline) == 0 ? PRUN_ETIMEOUT : ROUND_AGAIN;
}

/* Without pidfds the loop cannot see exits; the grace period then starts
 * only once waitid says so.  Cheap: only when pidfds are missing. */
static void note_exits_without_pidfd(struct loop *l)
{
    for (size_t i = 0; i < l->g->n; i++) {
        struct prun_child *c = &l->g->child[i];
        if (c->pidfd < 0 && !l->exited[i]) {
            siginfo_t si = {0};
            if (waitid(P_PID, c->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 ? si.si_pid != 0
                                                                            : prun__child_is_reaped(c))
                note_exit(l, i);
        }
    }
}

/* The first call takes the input; a later one resumes with what a
 * timeout kept. */
static int begin(struct loop *l, const void *input, size_t input_len)
{
    struct prun_streams *io = l->io;
    prun__growbuf_compact(&io->output[0]);  /* what prun_readline left is first */
    prun__growbuf_compact(&io->output[1]);
    if (io->started)
        return 0;
    io->started = 1;
    if (input_len && io->fd[0] < 0)
        return prun__fail(-EINVAL, "communicate: input given but stdin is not a pipe");
    io->input = input;
    io->input_len = input ? input_len : 0;
    io->input_sent = 0;
    if (io->fd[0] >= 0 && io->input_len == 0)
        prun__close(&io->fd[0]);
    else if (io->fd[0] >= 0 && io->input_len >= READ_SIZE)
        prun__grow_pipe(io->fd[0]);
    return 0;
}

/* On a timeout the caller's input may be gone before the next call, so
 * what is still unsent is copied. */
static int keep_input(struct prun_streams *io)
{
    if (io->fd[0] < 0 || io->input == io->input_copy)
        return 0;
    size_t left = io->input_len - io->input_sent;
    char *copy = malloc(left ? left : 1);
    if (!copy)
        return prun__fail(-ENOMEM, "communicate: cannot keep the input");
    memcpy(copy, io->input + io->input_sent, left);
    io->input = io->input_copy = copy;
    io->input_len = left;
    io->input_sent = 0;
    return 0;
}

static int setup(struct loop *l)
{
    size_t n = l->g->n;
    l->pfd = malloc((3 + n) * sizeof *l->pfd);
    l->exited = calloc(n ? n : 1, 1);
    if (l->io->on_output)
        l->chunk = malloc(PRUN_BIG_PIPE);
    if (!l->pfd || !l->exited || (l->io->on_output && !l->chunk))
        return prun__fail(-ENOMEM, "communicate: no memory");
    for (int i = 0; i < 3; i++)
        l->pfd[i] = (struct pollfd){l->io->fd[i], i == 0 ? POLLOUT : POLLIN, 0};
    for (size_t i = 0; i < n; i++)
        l->pfd[3 + i] = (struct pollfd){l->g->child[i].pidfd, POLLIN, 0};
    l->running = n;
    for (size_t i = 0; i < n; i++)  /* seen by an earlier call, or reaped since */
        if (l->io->grace_end || prun__child_is_reaped(&l->g->child[i]))
            note_exit(l, i);
    if (l->io->fd[0] < 0)
        return 0;
    /* A blocking write would hold the loop past the deadline, and an
     * unblocked SIGPIPE would kill the caller: without both, no input. */
    int r = prun__set_nonblock(l->io->fd[0], 1, &l->stdin_was_nonblock);
    if (r)
        return prun__fail(r, "communicate: cannot make the stdin pipe of '%s' non-blocking",
                          first_name(l));
    if (!prun__sigpipe_block(&l->sigpipe))
        return prun__fail(-EINVAL, "communicate: cannot block SIGPIPE while writing to '%s'",
                          first_name(l));
    return 0;
}

static void teardown(struct loop *l)
{
    prun__sigpipe_restore(&l->sigpipe);
    free(l->pfd);
    free(l->exited);
    free(l->chunk);
}

/* What prun_read and prun_readline read ahead comes first, under the same
 * rules as what the loop reads: through on_output when it is set, and
 * within max_output. */
static int read_ahead_first(struct loop *l)
{
    struct prun_streams *io = l->io;
    for (int s = 0; s < 2; s++) {
        prun_buf *b = &io->output[s].buf;
        if (!b->len)
            continue;
        if (io->on_output) {
            l->stop = io->on_output(io->userdata, s + 1, b->data, b->len);
            prun__growbuf_free(&io->output[s]);
        } else if (io->max_output && b->len > io->max_output) {
            b->len = io->max_output;
            b->data[b->len] = '\0';
            l->stop = prun__fail(PRUN_ETOOBIG, "the output of '%s' exceeded %zu bytes",
                                 first_name(l), io->max_output);
        }
        if (l->stop)
            return ROUND_STOP;
    }
    return ROUND_AGAIN;
}

static int run_loop(struct loop *l)
{
    int r = read_ahead_first(l);
    if (r)
        return r;
    do {
        note_exits_without_pidfd(l);
        r = loop_round(l);
    } while (r == ROUND_AGAIN);
    return r;
}

int prun__communicate(struct prun_group *g, const void *input, size_t input_len, int timeout_ms,
                      enum prun_resume resume, prun_buf *out, prun_buf *err)
{
    struct prun_streams *io = &g->io;
    struct loop l = {.g = g, .io = io, .deadline = prun__deadline(timeout_ms)};
    int r;
    if (out)
        *out = (prun_buf){NULL, 0};
    if (err)
        *err = (prun_buf){NULL, 0};
    if (io->finished) {  /* the output was handed over: empty now, "" for pipes */
        r = prun__streams_take_output(io, out, err);
        return r ? r : prun__group_wait(g, l.deadline);
    }
    if ((r = begin(&l, input, input_len)) || (r = setup(&l))) {
        teardown(&l);
        return r;
    }
    r = run_loop(&l);
    prun__sigpipe_restore(&l.sigpipe);
    if (r == ROUND_DONE)
        r = prun__group_wait(g, l.deadline);
    else if (r != PRUN_ETIMEOUT) {
        /* PRUN_ETOOBIG, on_output's value or an error: the children go
         * (killed before their pipes close, or SIGPIPE could win). */
        prun__group_kill_and_reap(g);
        if (r == ROUND_STOP)
            r = l.stop;
    }
    if (r == PRUN_ETIMEOUT) {
        if (io->fd[0] >= 0)
            prun__set_nonblock(io->fd[0], l.stdin_was_nonblock, NULL);  /* as the caller had it */
        int k = resume == PRUN_RESUMABLE ? keep_input(io) : 0;
        r = k ? k : prun__fail(r, "communicate with '%s': not done within %d ms", first_name(&l),
                               timeout_ms);
    } else {
        for (int i = 0; i < 3; i++)
            prun__close(&io->fd[i]);
        io->finished = 1;
        int t = prun__streams_take_output(io, out, err);
        r = r ? r : t;
    }
    teardown(&l);
    return r;
}
