/* SPDX-License-Identifier: MIT */
/* fd.c - file descriptors: pipes, closing, flags, pipe sizes. */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
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

int prun__set_nonblock(int fd, int on)
{
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0)
        return -errno;
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
