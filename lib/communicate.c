/* SPDX-License-Identifier: MIT */
/* communicate.c - one poll() loop over the pipes and the pidfds.
 *
 * Input is written in large non-blocking chunks while output is read into
 * buffers that grow geometrically (or handed to on_output), so a child
 * that writes while it reads never deadlocks.  The loop is shared by
 * single processes and pipelines: it talks to one set of streams and
 * waits for n processes.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

enum { MIN_READ = 64 * 1024, BIG_PIPE = 1024 * 1024, DEFAULT_GRACE_MS = 100 };

/* What a round of the loop says, besides PRUN_ETIMEOUT and -errno. */
enum { ROUND_AGAIN = 0, ROUND_DONE = 1, ROUND_STOP = 2 /* reason in loop.stop */ };

void prun__streams_init(struct prun_streams *io, const prun_opts *o)
{
    memset(io, 0, sizeof *io);
    io->fd[0] = io->fd[1] = io->fd[2] = -1;
    io->max_output = o->max_output;
    io->on_output = o->on_output;
    io->userdata = o->userdata;
    io->grace_ms = o->grace_ms > 0 ? o->grace_ms : DEFAULT_GRACE_MS;
}

void prun__streams_close(struct prun_streams *io)
{
    for (int i = 0; i < 3; i++)
        prun__close(&io->fd[i]);
    free(io->input_copy);
    io->input_copy = NULL;
    prun_buf_free(&io->acc[0]);
    prun_buf_free(&io->acc[1]);
}

/* Hands the collected output over: "" for a stream that was a pipe, NULL
 * for one that was not (Python's None).  Either destination may be NULL. */
void prun__take_output(struct prun_streams *io, prun_buf *out, prun_buf *err)
{
    prun_buf *dst[2] = {out, err};
    for (int i = 0; i < 2; i++) {
        prun_buf b = io->acc[i];
        io->acc[i] = (prun_buf){NULL, 0};
        io->cap[i] = 0;
        if (!b.data && io->was_pipe[i + 1] && dst[i] && !io->on_output)
            b.data = calloc(1, 1);
        if (dst[i])
            *dst[i] = b;
        else
            free(b.data);
    }
}

/* The state of one call. */
struct loop {
    struct prun_streams *io;
    prun_proc *procs;
    size_t n;
    pid_t pgid;
    const char *input;   /* this call's input: the caller's or io->input_copy */
    int64_t deadline;
    int64_t quiet_since; /* all processes exited: when the last data came */
    char *chunk;         /* on_output's buffer */
    struct pollfd *pfd;  /* room for 3 pipes and n pidfds */
    int *what;           /* for each pfd: 0..2 an io->fd index, 3+i procs[i]'s pidfd */
    int sigpipe_masked;  /* old_mask is to be restored */
    int sigpipe_ours;    /* a SIGPIPE that turns up is ours to consume */
    sigset_t old_mask;
    int stop;            /* why reading stopped: PRUN_ETOOBIG, -ENOMEM or on_output's value */
};

static void close_stdin(struct loop *l)
{
    prun__close(&l->io->fd[0]);
}

/* EPIPE from a write raises SIGPIPE at this thread.  It is blocked while
 * the loop writes, and one that turns up is consumed before the mask is
 * restored, so the caller sees no trace; a SIGPIPE that was pending
 * before is not ours and is left alone. */
static void block_sigpipe(struct loop *l)
{
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigpending(&pending);
    l->sigpipe_ours = !sigismember(&pending, SIGPIPE);
    l->sigpipe_masked = pthread_sigmask(SIG_BLOCK, &pipe_set, &l->old_mask) == 0;
}

static void consume_sigpipe(struct loop *l)
{
    if (!l->sigpipe_ours)
        return;
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
        ;
}

static void unblock_sigpipe(struct loop *l)
{
    if (l->sigpipe_masked)
        pthread_sigmask(SIG_SETMASK, &l->old_mask, NULL);
    l->sigpipe_masked = 0;
}

static void write_input(struct loop *l)
{
    struct prun_streams *io = l->io;
    size_t left = io->input_len - io->input_off;
    ssize_t w;
    do
        w = write(io->fd[0], l->input + io->input_off, left);
    while (w < 0 && errno == EINTR);
    if (w > 0)
        io->input_off += (size_t)w;
    else if (w < 0 && errno == EPIPE) {
        consume_sigpipe(l);
        io->input_off = io->input_len;  /* the child does not want the rest */
    } else if (w < 0 && errno != EAGAIN)
        io->input_off = io->input_len;
    if (io->input_off == io->input_len)
        close_stdin(l);
}

/* A bigger pipe means fewer, larger reads for big outputs; tried once a
 * read has filled the default 64 KiB pipe.  Failure is harmless. */
static void grow_pipe(struct prun_streams *io, int s, ssize_t got)
{
    if (io->big_pipe[s] || got < MIN_READ)
        return;
    io->big_pipe[s] = 1;
    fcntl(io->fd[s + 1], F_SETPIPE_SZ, BIG_PIPE);
}

static int reserve(prun_buf *b, size_t *cap, size_t want)
{
    if (*cap - b->len > want)
        return 0;
    size_t ncap = *cap ? *cap : MIN_READ;
    while (ncap - b->len <= want)
        ncap *= 2;
    char *d = realloc(b->data, ncap);
    if (!d)
        return -ENOMEM;
    b->data = d;
    b->data[b->len] = '\0';  /* an EOF straight away leaves it a valid "" */
    *cap = ncap;
    return 0;
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

/* Reads once from stream s (0 stdout, 1 stderr). */
static int read_stream(struct loop *l, int s)
{
    struct prun_streams *io = l->io;
    size_t want = io->big_pipe[s] ? BIG_PIPE : MIN_READ;
    char *dst = l->chunk;
    prun_buf *b = &io->acc[s];
    if (!io->on_output) {
        if (reserve(b, &io->cap[s], want)) {
            l->stop = prun__fail(-ENOMEM, "cannot store the output of '%s'", l->procs[0].name);
            return ROUND_STOP;
        }
        if (io->max_output && want > io->max_output - b->len + 1)
            want = io->max_output - b->len + 1;  /* one byte more tells it overflows */
        dst = b->data + b->len;
        if (io->big_pipe[s])
            populate(dst, want);
    }
    ssize_t got;
    do
        got = read(io->fd[s + 1], dst, want);
    while (got < 0 && errno == EINTR);
    if (got <= 0) {
        prun__close(&io->fd[s + 1]);  /* EOF (or an error, taken as one) */
        return 0;
    }
    grow_pipe(io, s, got);
    l->quiet_since = prun__now_ns();
    if (io->on_output) {
        l->stop = io->on_output(io->userdata, s + 1, dst, (size_t)got);
        return l->stop ? ROUND_STOP : ROUND_AGAIN;
    }
    b->len += (size_t)got;
    if (io->max_output && b->len > io->max_output) {
        b->len = io->max_output;
        l->stop = prun__fail(PRUN_ETOOBIG, "the output of '%s' exceeded %zu bytes",
                             l->procs[0].name, io->max_output);
    }
    b->data[b->len] = '\0';
    return l->stop ? ROUND_STOP : ROUND_AGAIN;
}

/* The grace period counts from the exit or the last data, the later. */
static void note_exit(struct loop *l, prun_proc *p)
{
    p->exited = 1;
    l->quiet_since = prun__now_ns();
}

static int all_exited(const struct loop *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (!l->procs[i].exited)
            return 0;
    return 1;
}

/* How long poll may sleep: until the deadline, and once every process has
 * exited, until grace_ms after the last data (a grandchild may hold the
 * pipes open forever).  -2: the grace period is over. */
static int poll_timeout(struct loop *l)
{
    int left = prun__ms_left(l->deadline);
    if (!all_exited(l)) {
        for (size_t i = 0; i < l->n; i++)  /* no pidfd: look again soon */
            if (l->procs[i].pidfd < 0 && (left < 0 || left > 20))
                return 20;
        return left;
    }
    int64_t now = prun__now_ns();
    if (!l->quiet_since)
        l->quiet_since = now;
    int64_t grace = l->quiet_since + (int64_t)l->io->grace_ms * 1000000 - now;
    if (grace <= 0)
        return -2;
    int g = (int)((grace + 999999) / 1000000);
    return left < 0 || g < left ? g : left;
}

/* One round: poll, then write, read and note exits: a ROUND_* value,
 * PRUN_ETIMEOUT or -errno. */
static int loop_round(struct loop *l)
{
    struct prun_streams *io = l->io;
    struct pollfd *pfd = l->pfd;
    int *what = l->what;
    nfds_t k = 0;
    for (int i = 0; i < 3; i++)
        if (io->fd[i] >= 0) {
            pfd[k] = (struct pollfd){io->fd[i], i == 0 ? POLLOUT : POLLIN, 0};
            what[k++] = i;
        }
    if (k == 0)
        return ROUND_DONE;
    for (size_t i = 0; i < l->n; i++)
        if (!l->procs[i].exited && l->procs[i].pidfd >= 0) {
            pfd[k] = (struct pollfd){l->procs[i].pidfd, POLLIN, 0};
            what[k++] = 3 + (int)i;
        }
    int timeout = poll_timeout(l);
    if (timeout == -2) {  /* grace over: leave the pipes to the grandchildren */
        for (int i = 0; i < 3; i++)
            prun__close(&io->fd[i]);
        return ROUND_DONE;
    }
    int r = poll(pfd, k, timeout);
    if (r < 0)
        return errno == EINTR ? ROUND_AGAIN : -errno;
    if (r == 0)
        return prun__ms_left(l->deadline) == 0 ? PRUN_ETIMEOUT : ROUND_AGAIN;
    for (nfds_t j = 0; j < k; j++) {
        if (!pfd[j].revents)
            continue;
        if (what[j] == 0)
            write_input(l);
        else if (what[j] < 3) {
            if ((r = read_stream(l, what[j] - 1)))
                return r;
        } else
            note_exit(l, &l->procs[what[j] - 3]);
    }
    /* A pipe that is always ready must not keep the deadline away. */
    return prun__ms_left(l->deadline) == 0 ? PRUN_ETIMEOUT : ROUND_AGAIN;
}

/* Without pidfds the loop cannot see exits; the grace period then starts
 * only once waitid says so.  Cheap: only when pidfds are missing. */
static void note_exits_without_pidfd(struct loop *l)
{
    for (size_t i = 0; i < l->n; i++)
        if (l->procs[i].pidfd < 0 && !l->procs[i].exited) {
            siginfo_t si = {0};
            if (waitid(P_PID, l->procs[i].pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid)
                note_exit(l, &l->procs[i]);
        }
}

static int begin(struct loop *l, const void *input, size_t input_len)
{
    struct prun_streams *io = l->io;
    if (io->started) {
        l->input = io->input_copy;  /* resume: the rest saved at the timeout */
        return 0;
    }
    io->started = 1;
    if (input_len && io->fd[0] < 0)
        return prun__fail(-EINVAL, "communicate: input given but stdin is not a pipe");
    l->input = input;
    io->input_len = input ? input_len : 0;
    io->input_off = 0;
    if (io->fd[0] >= 0 && io->input_len == 0)
        close_stdin(l);
    else if (io->fd[0] >= 0 && io->input_len >= MIN_READ)
        fcntl(io->fd[0], F_SETPIPE_SZ, BIG_PIPE);
    return 0;
}

/* On a timeout the caller's input may be gone before the next call, so
 * what is still unsent is copied. */
static int save_input(struct loop *l)
{
    struct prun_streams *io = l->io;
    if (io->fd[0] < 0 || l->input == io->input_copy)
        return 0;
    size_t left = io->input_len - io->input_off;
    char *copy = malloc(left ? left : 1);
    if (!copy)
        return prun__fail(-ENOMEM, "communicate: cannot keep the input");
    memcpy(copy, l->input + io->input_off, left);
    io->input_copy = copy;
    io->input_len = left;
    io->input_off = 0;
    return 0;
}

static void set_nonblock(int fd, int on)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0)
        fcntl(fd, F_SETFL, on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK);
}

int prun__communicate(struct prun_streams *io, prun_proc *procs, size_t n, pid_t pgid,
                      const void *input, size_t input_len, int timeout_ms,
                      prun_buf *out, prun_buf *err)
{
    struct loop l = {.io = io, .procs = procs, .n = n, .pgid = pgid,
                     .deadline = prun__deadline(timeout_ms)};
    int r;
    if (out)
        *out = (prun_buf){NULL, 0};
    if (err)
        *err = (prun_buf){NULL, 0};
    if (io->done) {  /* the output was handed over: empty now, "" for pipes */
        prun__take_output(io, out, err);
        return prun__wait_all(procs, n, l.deadline);
    }
    if ((r = begin(&l, input, input_len)))
        return r;
    l.pfd = malloc((n + 3) * sizeof *l.pfd);
    l.what = malloc((n + 3) * sizeof *l.what);
    if (io->on_output)
        l.chunk = malloc(BIG_PIPE);
    if (!l.pfd || !l.what || (io->on_output && !l.chunk)) {
        r = prun__fail(-ENOMEM, "communicate: no memory");
        goto out;
    }
    if (io->fd[0] >= 0) {
        set_nonblock(io->fd[0], 1);
        block_sigpipe(&l);
    }
    do {
        note_exits_without_pidfd(&l);
        r = loop_round(&l);
    } while (r == ROUND_AGAIN);
    unblock_sigpipe(&l);
    if (r == ROUND_DONE)
        r = prun__wait_all(procs, n, l.deadline);
    else if (r != PRUN_ETIMEOUT) {
        /* PRUN_ETOOBIG, on_output's value or an error: the child goes. */
        prun__signal_all(procs, n, pgid, SIGKILL);
        for (int i = 0; i < 3; i++)
            prun__close(&io->fd[i]);
        prun__wait_all(procs, n, INT64_MAX);
        if (r == ROUND_STOP)
            r = l.stop;
    }
    if (r == PRUN_ETIMEOUT) {
        if (io->fd[0] >= 0)
            set_nonblock(io->fd[0], 0);
        int s = save_input(&l);
        r = s ? s : r;
    } else {
        for (int i = 0; i < 3; i++)
            prun__close(&io->fd[i]);
        io->done = 1;
        prun__take_output(io, out, err);
    }
out:
    free(l.pfd);
    free(l.what);
    free(l.chunk);
    return r;
}

int prun_communicate(prun_proc *p, const void *input, size_t input_len, int timeout_ms,
                     prun_buf *out, prun_buf *err)
{
    if (!p)
        return -EINVAL;
    return prun__communicate(&p->io, p, 1, p->pgid, input, input_len, timeout_ms, out, err);
}
