/* SPDX-License-Identifier: MIT */
/* io.c - talking to a child a little at a time: prun_write, prun_read,
 * prun_readline and their pipeline forms, on a group's outer streams.
 *
 * What prun_readline reads beyond a line waits in the stream's output
 * buffer, the one communicate collects into: a later prun_read or
 * prun_communicate gets it first, and nothing read is ever lost between
 * the calls.  Writes go straight to the pipe, so communicate never sends
 * them again.
 */
#include "internal.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { LINE_READ = 64 * 1024 };

static const char *first_name(const struct prun_group *g)
{
    return g->n ? g->child[0].name : "";
}

/* The caller's end of an output stream, or an error: 0 and *fd -1 at
 * an EOF already seen. */
static int output_fd(struct prun_group *g, int stream, const char *fn, int *fd)
{
    *fd = -1;
    if (stream != 1 && stream != 2)
        return prun__fail(-EINVAL, "%s: stream %d is not 1 (stdout) or 2 (stderr)", fn, stream);
    struct prun_streams *io = &g->io;
    *fd = io->fd[stream];
    /* A pipe that ended, or whose end communicate has handed over, reads
     * as EOF; one the caller closed, or a stream that was no pipe, not. */
    if (*fd < 0 && !(io->is_pipe[stream] && (io->at_eof[stream] || io->finished)))
        return prun__fail(-EBADF, "%s: the %s of '%s' is not a pipe, or was closed", fn,
                          stream == 1 ? "stdout" : "stderr", first_name(g));
    return 0;
}

/* Until fd is ready for events or the deadline: 1, 0 at the deadline, <0. */
static int wait_fd(struct prun_group *g, int fd, short events, int64_t deadline)
{
    for (;;) {
        struct pollfd pfd = {fd, events, 0};
        int r = poll(&pfd, 1, prun_ms_until(deadline));
        if (r > 0)
            return 1;
        if (r == 0)
            return 0;
        if (errno != EINTR)
            return prun__fail(-errno, "cannot wait for the pipes of '%s'", first_name(g));
    }
}

/* One read into dst, waiting for data until the deadline: a count, 0 at
 * EOF (the stream is then closed and marked so), PRUN_ETIMEOUT, or <0. */
static ssize_t read_some(struct prun_group *g, int stream, void *dst, size_t len,
                         int64_t deadline, int timeout_ms)
{
    struct prun_streams *io = &g->io;
    int fd = io->fd[stream];
    ssize_t got;
    /* Without a deadline a blocking read is the whole wait; with one, or
     * on a pipe the caller made non-blocking, poll first. */
    for (int wait = deadline != PRUN_NO_DEADLINE;; wait = 1) {
        if (wait) {
            int r = wait_fd(g, fd, POLLIN, deadline);
            if (r <= 0)
                return r < 0 ? r : prun__fail(PRUN_ETIMEOUT, "no output from '%s' within %d ms",
                                              first_name(g), timeout_ms);
        }
        do
            got = read(fd, dst, len);
        while (got < 0 && errno == EINTR);
        if (got >= 0 || errno != EAGAIN)
            break;
    }
    if (got < 0)
        return prun__fail(-errno, "cannot read the output of '%s'", first_name(g));
    if (got == 0) {
        prun__close(&io->fd[stream]);
        io->at_eof[stream] = 1;
    }
    return got;
}

static ssize_t read_group(struct prun_group *g, int stream, void *buf, size_t len, int timeout_ms)
{
    int fd, r = output_fd(g, stream, "prun_read", &fd);
    if (r || len == 0)
        return r;
    struct prun_growbuf *b = &g->io.output[stream - 1];
    size_t buffered = b->buf.len - b->head;
    if (buffered) {  /* what prun_readline read ahead comes first */
        size_t n = buffered < len ? buffered : len;
        memcpy(buf, b->buf.data + b->head, n);
        prun__growbuf_consume(b, n);
        return (ssize_t)n;
    }
    if (fd < 0)
        return 0;
    return read_some(g, stream, buf, len, prun__deadline(timeout_ms), timeout_ms);
}

/* The bytes of b up to end, a line, handed over in *line. */
static inline int take_line(struct prun_growbuf *b, size_t end, prun_buf *line)
{
    size_t n = end - b->head;
    char *data = malloc(n + 1);
    if (!data)
        return -ENOMEM;
    memcpy(data, b->buf.data + b->head, n);
    data[n] = '\0';
    *line = (prun_buf){data, n};
    prun__growbuf_consume(b, n);
    return 1;
}

/* The fast path of prun_readline is a short line read ahead already:
 * found and copied without a call but malloc, and without the frame of
 * reading more (checks, the clock, error paths), which is readline_more. */
enum { SHORT_LINE = 32 };

/* The length of the line at the front of b ('\n' included) if it is at
 * most SHORT_LINE bytes and read whole; 0 for the slow path, which also
 * handles a line near the end of what was read.  Eight bytes are tested
 * for a '\n' at once: a '\n' becomes a zero byte, and a byte is zero iff
 * neither its low seven bits (the 0x7f carry into bit 7) nor its bit 7
 * are set; no borrow crosses bytes, so the lowest flagged is the first. */
static inline size_t short_line(const struct prun_growbuf *b)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__ && __SIZEOF_LONG_LONG__ == 8
    const unsigned long long lows = 0x7f7f7f7f7f7f7f7full, newlines = 0x0a0a0a0a0a0a0a0aull;
    size_t unread = b->buf.len - b->head;
    if (unread < 8)  /* before the pointer: data is NULL until the first read */
        return 0;
    const char *s = b->buf.data + b->head;
    for (size_t off = 0; off < SHORT_LINE && off + 8 <= unread; off += 8) {
        unsigned long long w;
        memcpy(&w, s + off, 8);
        w ^= newlines;
        unsigned long long zero = ~(((w & lows) + lows) | w | lows);
        if (zero)
            return off + (size_t)__builtin_ctzll(zero) / 8 + 1;
    }
#else
    (void)b;
#endif
    return 0;
}

/* memcpy of 1..SHORT_LINE bytes without the call: two moves of the
 * largest size that fits, overlapping in the middle (as memcpy itself
 * copies small sizes).  Each size spelled out, so that every move is one
 * instruction. */
static inline void copy_short(char *dst, const char *src, size_t n)
{
    char a[16], z[16];
    if (n >= 16) {
        memcpy(a, src, 16), memcpy(z, src + n - 16, 16);
        memcpy(dst, a, 16), memcpy(dst + n - 16, z, 16);
    } else if (n >= 8) {
        memcpy(a, src, 8), memcpy(z, src + n - 8, 8);
        memcpy(dst, a, 8), memcpy(dst + n - 8, z, 8);
    } else if (n >= 4) {
        memcpy(a, src, 4), memcpy(z, src + n - 4, 4);
        memcpy(dst, a, 4), memcpy(dst + n - 4, z, 4);
    } else {
        dst[0] = src[0], dst[n - 1] = src[n - 1];  /* n is 1..3 */
        dst[n / 2] = src[n / 2];
    }
}

/* take_line for the fast path's line of n bytes: 1, or -ENOMEM with
 * *line empty.  A function of its own, so that prun_readline saves no
 * register before the malloc. */
static __attribute__((noinline)) int take_short_line(struct prun_group *g, struct prun_growbuf *b,
                                                     size_t n, prun_buf *line)
{
    char *data = malloc(n + 1);
    if (!data) {
        *line = (prun_buf){NULL, 0};
        return prun__fail(-ENOMEM, "cannot store a line of '%s'", first_name(g));
    }
    copy_short(data, b->buf.data + b->head, n);
    data[n] = '\0';
    *line = (prun_buf){data, n};
    prun__growbuf_consume(b, n);
    return 1;
}

static __attribute__((noinline)) int readline_more(struct prun_group *g, int stream,
                                                   int timeout_ms, prun_buf *line)
{
    if (!line)
        return prun__fail(-EINVAL, "prun_readline: line is NULL");
    *line = (prun_buf){NULL, 0};
    int fd, r = output_fd(g, stream, "prun_readline", &fd);
    if (r)
        return r;
    struct prun_streams *io = &g->io;
    struct prun_growbuf *b = &io->output[stream - 1];
    int64_t deadline = prun__deadline(timeout_ms);
    size_t scanned = b->head;  /* no byte is looked at twice */
    for (;;) {
        const char *nl = b->buf.len > scanned ? memchr(b->buf.data + scanned, '\n', b->buf.len - scanned) : NULL;
        size_t pending = nl ? (size_t)(nl - b->buf.data) + 1 - b->head : b->buf.len - b->head;
        if (io->max_output && pending > io->max_output)  /* whole or not: the bytes stay */
            return prun__fail(PRUN_ETOOBIG, "a line of '%s' is longer than %zu bytes",
                              first_name(g), io->max_output);
        if (nl && (r = take_line(b, (size_t)(nl - b->buf.data) + 1, line)) < 0)
            return prun__fail(r, "cannot store a line of '%s'", first_name(g));
        if (nl)
            return 1;
        if (io->fd[stream] < 0)  /* EOF: the last line, without its newline */
            return b->buf.len > b->head ? take_line(b, b->buf.len, line) : 0;
        scanned = b->buf.len;
        size_t head = b->head;
        size_t want = io->pipe_grown[stream - 1] ? PRUN_BIG_PIPE : LINE_READ;
        if ((r = prun__growbuf_reserve(b, want)))
            return prun__fail(r, "cannot store the output of '%s'", first_name(g));
        scanned -= head - b->head;  /* reserve may have moved the unread bytes to the front */
        ssize_t got = read_some(g, stream, b->buf.data + b->buf.len, b->capacity - b->buf.len - 1,
                                deadline, timeout_ms);
        if (got < 0)
            return (int)got;  /* PRUN_ETIMEOUT: the partial line stays for the next call */
        b->buf.len += (size_t)got;
        b->buf.data[b->buf.len] = '\0';
        /* A read that filled the default 64 KiB pipe: a fast writer, whose
         * pipe grows as communicate grows it, for fewer reads and wake-ups. */
        if (got >= LINE_READ && !io->pipe_grown[stream - 1]) {
            io->pipe_grown[stream - 1] = 1;
            prun__grow_pipe(io->fd[stream]);
        }
    }
}

static int write_group(struct prun_group *g, const void *data, size_t len, int timeout_ms,
                       size_t *written)
{
    struct prun_streams *io = &g->io;
    struct prun_sigpipe_guard guard;
    size_t sent = 0;
    int r = 0;
    if (written)
        *written = 0;
    if (io->fd[0] < 0)
        return prun__fail(-EBADF, "prun_write: the stdin of '%s' is not a pipe, or was closed",
                          first_name(g));
    if (!data && len)
        return prun__fail(-EINVAL, "prun_write: data is NULL");
    /* A communicate that timed out sends the rest of its input first. */
    if (io->started && io->input_sent < io->input_len)
        return prun__fail(-EBUSY, "prun_write: the input of an unfinished prun_communicate to '%s' "
                          "comes first: call prun_communicate again", first_name(g));
    int64_t deadline = prun__deadline(timeout_ms);
    int was_nonblock = 0;
    /* Non-blocking for the call, so that a full pipe cannot hold it past
     * the deadline; as it was afterwards, for the caller's own writes. */
    if ((r = prun__set_nonblock(io->fd[0], 1, &was_nonblock)))
        return prun__fail(r, "prun_write: cannot make the stdin pipe of '%s' non-blocking",
                          first_name(g));
    if (!prun__sigpipe_block(&guard)) {
        r = prun__fail(-EINVAL, "prun_write: cannot block SIGPIPE");
        goto out;
    }
    while (sent < len) {
        ssize_t w = prun__write_pipe(io->fd[0], (const char *)data + sent, len - sent, &guard);
        if (w > 0) {
            sent += (size_t)w;
            continue;
        }
        if (w == -EPIPE) {
            r = prun__fail(-EPIPE, "'%s' closed its stdin", first_name(g));
            break;
        }
        if (w != -EAGAIN && w != 0) {
            r = prun__fail((int)w, "cannot write the input of '%s'", first_name(g));
            break;
        }
        int ready = timeout_ms == 0 ? 0 : wait_fd(g, io->fd[0], POLLOUT, deadline);
        if (ready <= 0) {
            r = ready < 0 ? ready : prun__fail(PRUN_ETIMEOUT, "'%s' took %zu of %zu bytes in %d ms",
                                               first_name(g), sent, len, timeout_ms);
            break;
        }
    }
    prun__sigpipe_restore(&guard);
out:
    prun__set_nonblock(io->fd[0], was_nonblock, NULL);
    if (written)
        *written = sent;
    return r;
}

/* ---- the public functions, here so that a line costs one call ---- */

int prun_write(prun_proc *p, const void *data, size_t len, int timeout_ms, size_t *written)
{
    if (!p)
        return PRUN_BAD_ARG("the handle is NULL");
    return write_group(prun__proc_group(p), data, len, timeout_ms, written);
}

ssize_t prun_read(prun_proc *p, int stream, void *buf, size_t len, int timeout_ms)
{
    if (!p || (!buf && len))
        return PRUN_BAD_ARG(p ? "buf is NULL" : "the handle is NULL");
    return read_group(prun__proc_group(p), stream, buf, len, timeout_ms);
}

/* *line is empty on every return but 1 (prun_read(3)), a NULL handle's too. */
static int no_handle(prun_buf *line, const char *fn)
{
    if (line)
        *line = (prun_buf){NULL, 0};
    return prun__fail(-EINVAL, "%s: the handle is NULL", fn);
}

/* The short line read ahead, if there is one: its length, or 0. */
static inline size_t short_line_of(struct prun_group *g, int stream)
{
    size_t n = short_line(&g->io.output[stream - 1]);
    return n && g->io.max_output && n > g->io.max_output ? 0 : n;
}

/* Both readlines: the fast path, else readline_more; each a tail call. */
static inline int readline_group(struct prun_group *g, int stream, int timeout_ms, prun_buf *line,
                                 const char *fn)
{
    size_t n;
    if (g && line && (stream == 1 || stream == 2) && (n = short_line_of(g, stream)))
        return take_short_line(g, &g->io.output[stream - 1], n, line);
    if (!g)
        return no_handle(line, fn);
    return readline_more(g, stream, timeout_ms, line);
}

int prun_readline(prun_proc *p, int stream, int timeout_ms, prun_buf *line)
{
    return readline_group(prun__proc_group(p), stream, timeout_ms, line, __func__);
}

int prun_pipeline_write(prun_pipeline *pl, const void *data, size_t len, int timeout_ms,
                        size_t *written)
{
    if (!pl)
        return PRUN_BAD_ARG("the handle is NULL");
    return write_group(prun__pipeline_group(pl), data, len, timeout_ms, written);
}

ssize_t prun_pipeline_read(prun_pipeline *pl, int stream, void *buf, size_t len, int timeout_ms)
{
    if (!pl || (!buf && len))
        return PRUN_BAD_ARG(pl ? "buf is NULL" : "the handle is NULL");
    return read_group(prun__pipeline_group(pl), stream, buf, len, timeout_ms);
}

int prun_pipeline_readline(prun_pipeline *pl, int stream, int timeout_ms, prun_buf *line)
{
    return readline_group(prun__pipeline_group(pl), stream, timeout_ms, line, __func__);
}
