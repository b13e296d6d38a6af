/* SPDX-License-Identifier: MIT */
/* streams.c - the caller's ends of a child's standard pipes, and the
 * output read from them, kept between communicate calls. */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

enum { DEFAULT_GRACE_MS = 100 };

void prun__streams_init(struct prun_streams *io, const prun_opts *o)
{
    memset(io, 0, sizeof *io);
    io->fd[0] = io->fd[1] = io->fd[2] = -1;
    io->max_output = o->max_output;
    io->on_output = o->on_output;
    io->userdata = o->userdata;
    io->grace_ms = o->grace_ms > 0 ? o->grace_ms : DEFAULT_GRACE_MS;
}

static int open_pipe(struct prun_streams *io, int i, int *src, int *child_end)
{
    int p[2], r;
    if ((r = prun__pipe(p)))
        return prun__fail(r, "cannot create a pipe");
    /* stdin: the child reads p[0]; stdout and stderr: it writes p[1] */
    *child_end = *src = i == 0 ? p[0] : p[1];
    io->fd[i] = i == 0 ? p[1] : p[0];
    io->is_pipe[i] = 1;
    return 0;
}

int prun__streams_open(struct prun_streams *io, const prun_opts *o, int src[3], int child_end[3])
{
    const enum prun_io how[3] = {o->stdin_io, o->stdout_io, o->stderr_io};
    const int fd[3] = {o->stdin_fd, o->stdout_fd, o->stderr_fd};
    child_end[0] = child_end[1] = child_end[2] = -1;
    for (int i = 0; i < 3; i++) {
        int r;
        switch (how[i]) {
        case PRUN_INHERIT: src[i] = PRUN_SRC_INHERIT; break;
        case PRUN_DEVNULL: src[i] = PRUN_SRC_DEVNULL; break;
        case PRUN_STDOUT: src[i] = PRUN_SRC_STDOUT; break;
        case PRUN_FD: src[i] = fd[i]; break;
        case PRUN_PIPE:
            if ((r = open_pipe(io, i, &src[i], &child_end[i])))
                return r;
            break;
        }
    }
    return 0;
}

void prun__streams_close(struct prun_streams *io)
{
    for (int i = 0; i < 3; i++)
        prun__close(&io->fd[i]);
    free(io->input_copy);
    io->input_copy = NULL;
    io->input = NULL;
    prun__growbuf_free(&io->output[0]);
    prun__growbuf_free(&io->output[1]);
}

int prun__streams_take_output(struct prun_streams *io, prun_buf *out, prun_buf *err)
{
    prun_buf *dst[2] = {out, err};
    int r = 0;
    for (int i = 0; i < 2; i++) {
        int want_empty = io->is_pipe[i + 1] && !io->on_output;
        int t = prun__growbuf_take(&io->output[i], dst[i], want_empty);
        if (t && !r)
            r = prun__fail(t, "cannot store the output");
    }
    return r;
}
