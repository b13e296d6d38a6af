/* SPDX-License-Identifier: MIT */
/* files.c - the files of --stdin, --stdout, --stderr and --report. */
#include "files.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int open_file(const char *path, int flags, const char *how)
{
    int fd = open(path, flags | O_CLOEXEC | O_NOCTTY, 0666);
    if (fd < 0)
        fprintf(stderr, "prun: cannot open '%s' for %s: %s\n", path, how, strerror(errno));
    return fd;
}

/* --stdout and --stderr naming one file share one open file, as >f 2>&1
 * would, rather than overwriting each other. */
static int share_if_same_file(struct files *f)
{
    struct stat out, err;
    if (f->fd[1] < 0 || f->fd[2] < 0 || fstat(f->fd[1], &out) < 0 || fstat(f->fd[2], &err) < 0)
        return 0;
    if (out.st_dev != err.st_dev || out.st_ino != err.st_ino || !S_ISREG(out.st_mode))
        return 0;
    close(f->fd[2]);
    f->fd[2] = fcntl(f->fd[1], F_DUPFD_CLOEXEC, 3);
    if (f->fd[2] < 0)
        fprintf(stderr, "prun: %s\n", strerror(errno));
    return f->fd[2] < 0 ? -1 : 0;
}

int files_open(struct files *f, const struct cli *cli)
{
    int out_flags = O_WRONLY | O_CREAT | (cli->append ? O_APPEND : O_TRUNC);
    if (cli->report_path && !(f->report = fopen(cli->report_path, "we"))) {
        fprintf(stderr, "prun: cannot open '%s' for writing: %s\n", cli->report_path, strerror(errno));
        return -1;
    }
    if (cli->stdin_path && (f->fd[0] = open_file(cli->stdin_path, O_RDONLY, "reading")) < 0)
        return -1;
    if (cli->stdout_path && (f->fd[1] = open_file(cli->stdout_path, out_flags, "writing")) < 0)
        return -1;
    if (cli->stderr_path && (f->fd[2] = open_file(cli->stderr_path, out_flags, "writing")) < 0)
        return -1;
    return share_if_same_file(f);
}

void files_close_streams(struct files *f)
{
    for (int i = 0; i < 3; i++)
        if (f->fd[i] >= 0) {
            close(f->fd[i]);
            f->fd[i] = -1;
        }
}
