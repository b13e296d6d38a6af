/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static void
watch(int ep, int fd, unsigned events)
{
    struct epoll_event ev = { .events = events, .data.fd = fd };

    if (fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0) {
        perror("epoll_ctl");
        exit(EXIT_FAILURE);
    }
}

int
main(void)
{
    char *argv[] = { "sh", "-c", "tr a-z A-Z; echo done >&2", NULL };
    prun_opts opts = { .stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE,
                       .stderr_io = PRUN_PIPE };
    size_t len = 1 << 20, i;              /* more than a pipe holds */
    char *input = malloc(len);
    prun_proc *p;
    prun_buf out, err;
    int ep, pidfd, exited = 0, wakeups = 0, rc, r;

    if (!input)
        exit(EXIT_FAILURE);
    for (i = 0; i < len; i++)
        input[i] = i % 64 == 63 ? '\n' : 'a' + i % 26;
    if (prun_popen(&p, argv, &opts) < 0) {
        fprintf(stderr, "%s\n", prun_last_error());
        exit(EXIT_FAILURE);
    }
    ep = epoll_create1(EPOLL_CLOEXEC);
    if (ep < 0)
        exit(EXIT_FAILURE);
    /* Level-triggered: a call may leave data in a pipe. */
    watch(ep, prun_stdin(p), EPOLLOUT);
    watch(ep, prun_stdout(p), EPOLLIN);
    watch(ep, prun_stderr(p), EPOLLIN);
    pidfd = prun_pidfd(p);                /* -1: no pidfds here */
    watch(ep, pidfd, EPOLLIN);

    /* One round of non-blocking work per wake-up, until it is done.
       The handle keeps the rest of the input and the output so far. */
    while ((r = prun_communicate(p, input, len, 0, &out, &err))
           == PRUN_ETIMEOUT) {
        struct epoll_event ev[4];
        int n = epoll_wait(ep, ev, 4, pidfd < 0 || exited ? 20 : -1);

        if (n < 0 && errno != EINTR) {
            perror("epoll_wait");
            exit(EXIT_FAILURE);
        }
        while (n-- > 0)
            if (ev[n].data.fd == pidfd && !exited) {
                /* readable from now on: a timer instead */
                epoll_ctl(ep, EPOLL_CTL_DEL, pidfd, NULL);
                exited = 1;
            }
        wakeups++;
    }
    if (r < 0 || prun_wait(p, 0, &rc) < 0) {
        fprintf(stderr, "%s\n", prun_last_error());
        exit(EXIT_FAILURE);
    }
    printf("%d wake-ups: %zu bytes in, %zu out; returncode %d, "
           "stderr %s", wakeups, len, out.len, rc, err.data);
    for (i = 0; i < len && out.len == len; i++)
        if (out.data[i] != (input[i] == '\n' ? '\n' : input[i] - 32))
            break;
    r = rc == 0 && i == len && strcmp(err.data, "done\n") == 0;
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    close(ep);
    free(input);
    exit(r ? EXIT_SUCCESS : EXIT_FAILURE);
}
