/* SPDX-License-Identifier: MIT */
/* fd.c - file descriptors: pipes, closing, flags, pipe sizes, and writes
 * to a pipe whose reader may be gone. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

void prun__close(int *fd)
{
    if (*fd >= 0) {
        close(*fd);
        *fd = -1;
    }
}

int prun__pipe(int fds[2])
{
    if (pipe2(fds, O_CLOEXEC) < 0) {
        fds[0] = fds[1] = -1;
        return -errno;
    }
    return 0;
}

int prun__set_nonblock(int fd, int on, int *was)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -errno;
    if (was)
        *was = (flags & O_NONBLOCK) != 0;
    int want = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
    if (want != flags && fcntl(fd, F_SETFL, want) < 0)
        return -errno;
    return 0;
}

int prun__fd_is_open(int fd)
{
    return fd >= 0 && fcntl(fd, F_GETFD) >= 0;
}

/* Fewer, larger reads and writes for big transfers.  Failure (an
 * unprivileged caller over /proc/sys/fs/pipe-max-size) changes nothing
 * but the speed. */
void prun__grow_pipe(int fd)
{
    fcntl(fd, F_SETPIPE_SZ, PRUN_BIG_PIPE);
}

/* EPIPE from a write raises SIGPIPE at this thread.  It is blocked while
 * the library writes, and one that turns up is consumed before the mask
 * is restored, so the caller sees no trace and its disposition is never
 * touched; a SIGPIPE that was pending before is not ours and stays. */
int prun__sigpipe_block(struct prun_sigpipe_guard *g)
{
    sigset_t pipe_set, pending;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    sigemptyset(&pending);
    sigpending(&pending);
    g->ours = !sigismember(&pending, SIGPIPE);
    g->blocked = pthread_sigmask(SIG_BLOCK, &pipe_set, &g->old) == 0;
    return g->blocked;
}

static void consume_sigpipe(const struct prun_sigpipe_guard *g)
{
    if (!g->ours)
        return;
    sigset_t pipe_set;
    sigemptyset(&pipe_set);
    sigaddset(&pipe_set, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&pipe_set, NULL, &zero) < 0 && errno == EINTR)
        ;
}

void prun__sigpipe_restore(struct prun_sigpipe_guard *g)
{
    if (g->blocked)
        pthread_sigmask(SIG_SETMASK, &g->old, NULL);
    g->blocked = 0;
}

ssize_t prun__write_pipe(int fd, const void *data, size_t len, const struct prun_sigpipe_guard *g)
{
    ssize_t w;
    do
        w = write(fd, data, len);
    while (w < 0 && errno == EINTR);
    if (w >= 0)
        return w;
    if (errno == EPIPE)
        consume_sigpipe(g);
    return -errno;
}
