/* SPDX-License-Identifier: MIT */
/* peer_raw.c - the contenders without a library: what a C programmer
 * writes by hand, the straightforward way.
 *
 * raw:  posix_spawn + waitpid; capture is a read loop (64 KiB reads into a
 *       doubling buffer, default pipe size); the round trip a poll() loop.
 * raw-reused: the loop a careful C programmer writes (libpipeline's way):
 *       64 KiB reads into one reused buffer, each appended to a doubling
 *       buffer (realloc), blocking reads to EOF; the round trip the same
 *       poll() loop as raw's, its reads going through the reused buffer.
 *       (The page faults of the growing buffer then happen in user space,
 *       in the memcpy, not inside the kernel's pipe_read() under the pipe's
 *       lock.)  Default pipe size, like raw.
 * fork: fork + execve + waitpid (spawn only).
 *
 * And for the spawn cases of issue 9, each with its own set of contenders:
 * vfork + execve + waitpid; posix_spawn with closefrom(3) as a file action
 * (what a careful caller adds when it holds fds the child must not get:
 * libprun closes them too), streams inherited or stdout on a pipe read
 * to EOF; fork with the credentials and limits set by hand in the child.
 *
 * And for the cases of issue 10: many children started with posix_spawn
 * and collected with waitpid(-1); a line splitter over a read loop.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

enum { CHUNK = 64 * 1024 };

static int wait_ok(pid_t pid)
{
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return bench_fail("waitpid");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : bench_fail("child failed");
}

static int raw_spawn(char *const argv[])
{
    pid_t pid;
    int r = posix_spawn(&pid, argv[0], NULL, NULL, argv, environ);
    if (r) {
        errno = r;
        return bench_fail("posix_spawn");
    }
    return wait_ok(pid);
}

static int fork_spawn(char *const argv[])
{
    pid_t pid = fork();
    if (pid < 0)
        return bench_fail("fork");
    if (pid == 0) {
        execve(argv[0], argv, environ);
        _exit(127);
    }
    return wait_ok(pid);
}

/* Spawns argv with its stdin and/or stdout on the given fds (-1: inherit). */
static int spawn_with(pid_t *pid, char *const argv[], int in_fd, int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    int r = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r) {
        errno = r;
        return bench_fail("posix_spawn");
    }
    return 0;
}

/* One 64 KiB read into the reused buffer, appended: >0, 0 at EOF, -1. */
static int reused_read(struct grow_buf *b, int fd, char *chunk)
{
    ssize_t got;
    do
        got = read(fd, chunk, CHUNK);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return bench_fail("read");
    if (got > 0 && grow_buf_append(b, chunk, (size_t)got))
        return -1;
    return got > 0;
}

static int capture_loop(char *const argv[], char **out, size_t *len, int reused)
{
    int p[2];
    pid_t pid;
    struct grow_buf b = {0};
    char *chunk = reused ? malloc(CHUNK) : NULL;
    if (reused && !chunk)
        return bench_fail("malloc");
    if (pipe2(p, O_CLOEXEC) < 0) {
        free(chunk);
        return bench_fail("pipe2");
    }
    int r = spawn_with(&pid, argv, -1, p[1]);
    close(p[1]);
    if (r) {
        close(p[0]);
        free(chunk);
        return r;
    }
    if (reused)
        while ((r = reused_read(&b, p[0], chunk)) > 0)
            ;
    else
        while ((r = grow_buf_read(&b, p[0], CHUNK)) > 0)
            ;
    close(p[0]);
    free(chunk);
    if (wait_ok(pid) || r < 0) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

static int raw_capture(char *const argv[], char **out, size_t *len)
{
    return capture_loop(argv, out, len, 0);
}

static int reused_capture(char *const argv[], char **out, size_t *len)
{
    return capture_loop(argv, out, len, 1);
}

/* Writes what the pipe takes, reads 64 KiB whenever output is there
 * (straight into the growing buffer, or through the reused one). */
static int roundtrip_loop(char *const argv[], const char *in, size_t in_len, char **out,
                          size_t *len, int reused)
{
    int pin[2], pout[2];
    pid_t pid;
    struct grow_buf b = {0};
    size_t off = 0;
    int r = 0;
    char *chunk = reused ? malloc(CHUNK) : NULL;
    if (reused && !chunk)
        return bench_fail("malloc");
    if (pipe2(pin, O_CLOEXEC) < 0) {
        free(chunk);
        return bench_fail("pipe2");
    }
    if (pipe2(pout, O_CLOEXEC) < 0) {
        close(pin[0]), close(pin[1]);
        free(chunk);
        return bench_fail("pipe2");
    }
    r = spawn_with(&pid, argv, pin[0], pout[1]);
    close(pin[0]);
    close(pout[1]);
    if (r) {
        close(pin[1]), close(pout[0]);
        free(chunk);
        return r;
    }
    fcntl(pin[1], F_SETFL, O_NONBLOCK);
    int wfd = pin[1], rfd = pout[0];
    while (r == 0 && (wfd >= 0 || rfd >= 0)) {
        struct pollfd pfd[2] = {{wfd, POLLOUT, 0}, {rfd, POLLIN, 0}};
        if (poll(pfd, 2, -1) < 0) {
            r = errno == EINTR ? 0 : bench_fail("poll");
            continue;
        }
        if (pfd[0].revents) {
            ssize_t w = write(wfd, in + off, in_len - off);
            if (w > 0)
                off += (size_t)w;
            else if (errno != EAGAIN && errno != EINTR)
                r = bench_fail("write");
            if (off == in_len) {
                close(wfd);
                wfd = -1;
            }
        }
        if (pfd[1].revents) {
            int got = reused ? reused_read(&b, rfd, chunk) : grow_buf_read(&b, rfd, CHUNK);
            if (got < 0)
                r = -1;
            else if (got == 0) {
                close(rfd);
                rfd = -1;
            }
        }
    }
    if (wfd >= 0)
        close(wfd);
    if (rfd >= 0)
        close(rfd);
    free(chunk);
    if (wait_ok(pid) || r) {
        free(b.data);
        return -1;
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

static int raw_roundtrip(char *const argv[], const char *in, size_t in_len, char **out, size_t *len)
{
    return roundtrip_loop(argv, in, in_len, out, len, 0);
}

static int reused_roundtrip(char *const argv[], const char *in, size_t in_len, char **out,
                            size_t *len)
{
    return roundtrip_loop(argv, in, in_len, out, len, 1);
}

int bench_vfork_spawn(char *const argv[])
{
    pid_t pid = vfork();
    if (pid < 0)
        return bench_fail("vfork");
    if (pid == 0) {
        execve(argv[0], argv, environ);
        _exit(127);
    }
    return wait_ok(pid);
}

/* posix_spawn with stdout on out_fd (-1: inherited) and every fd from 3
 * up closed in the child. */
static int spawn_closefrom(pid_t *pid, char *const argv[], int out_fd)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (out_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, out_fd, 1);
    posix_spawn_file_actions_addclosefrom_np(&fa, 3);
    int r = posix_spawn(pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r) {
        errno = r;
        return bench_fail("posix_spawn");
    }
    return 0;
}

int bench_raw_closefrom_spawn(char *const argv[])
{
    pid_t pid;
    if (spawn_closefrom(&pid, argv, -1))
        return -1;
    return wait_ok(pid);
}

int bench_raw_closefrom_pipe(char *const argv[])
{
    int p[2];
    pid_t pid;
    char buf[4096];
    ssize_t got;
    if (pipe2(p, O_CLOEXEC) < 0)
        return bench_fail("pipe2");
    int r = spawn_closefrom(&pid, argv, p[1]);
    close(p[1]);
    if (r) {
        close(p[0]);
        return r;
    }
    while ((got = read(p[0], buf, sizeof buf)) > 0 || (got < 0 && errno == EINTR))
        ;
    if (got < 0)
        r = bench_fail("read");
    close(p[0]);
    return wait_ok(pid) || r ? -1 : 0;
}

/* What a C programmer writes for the options posix_spawn cannot express:
 * look the user up, fork, set them in the child, exec. */
int bench_fork_creds(char *const argv[])
{
    struct bench_creds c;
    if (bench_creds_lookup(&c))
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return bench_fail("fork");
    if (pid == 0) {
        if (bench_creds_apply(&c) == 0)
            execve(argv[0], argv, environ);
        _exit(127);
    }
    return wait_ok(pid);
}

/* ---- issue 10: many children, lines ---- */

/* n children of argv, stdin on in_fd (-1: inherited), stdout on
 * /dev/null when quiet. */
int bench_raw_start_many(char *const argv[], size_t n, int in_fd, int quiet, pid_t *pids,
                             void **state)
{
    posix_spawn_file_actions_t fa;
    int r = 0;
    posix_spawn_file_actions_init(&fa);
    if (in_fd >= 0)
        posix_spawn_file_actions_adddup2(&fa, in_fd, 0);
    if (quiet)
        posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    for (size_t i = 0; i < n && r == 0; i++)
        if ((r = posix_spawn(&pids[i], argv[0], &fa, NULL, argv, environ))) {
            errno = r;
            r = bench_fail("posix_spawn");
        }
    posix_spawn_file_actions_destroy(&fa);
    *state = NULL;  /* waitpid(-1) needs nothing */
    return r;
}

/* waitpid(-1) until ECHILD: every one of the n must have exited 0. */
int bench_raw_collect_many(void *state, size_t n)
{
    size_t seen = 0, bad = 0;
    int status;
    for (;;) {
        pid_t pid = waitpid(-1, &status, 0);
        if (pid < 0 && errno == EINTR)
            continue;
        if (pid < 0)
            break;
        seen++;
        bad += !WIFEXITED(status) || WEXITSTATUS(status) != 0;
    }
    (void)state;
    if (errno != ECHILD)
        return bench_fail("waitpid(-1)");
    if (seen != n || bad) {
        fprintf(stderr, "prun-bench: raw: %zu of %zu children reaped, %zu failed\n", seen, n, bad);
        return -1;
    }
    return 0;
}

/* A line splitter over a read loop, as prun_readline hands lines out:
 * 64 KiB reads into a buffer, memchr for each '\n', every line copied
 * into a malloc'd, NUL-terminated string of its own (then freed, as a
 * caller of prun_readline frees each one); a partial line is moved to
 * the front and the next read appends to it. */
int bench_raw_readline(char *const argv[], size_t *lines, size_t *bytes)
{
    int p[2];
    pid_t pid;
    size_t cap = CHUNK, have = 0;
    char *buf = malloc(cap);
    *lines = *bytes = 0;
    if (!buf)
        return bench_fail("malloc");
    if (pipe2(p, O_CLOEXEC) < 0) {
        free(buf);
        return bench_fail("pipe2");
    }
    int r = spawn_with(&pid, argv, -1, p[1]);
    close(p[1]);
    if (r) {
        close(p[0]);
        free(buf);
        return r;
    }
    for (;;) {
        if (cap - have < CHUNK) {  /* a line longer than the buffer: grow it */
            char *d = realloc(buf, cap * 2);
            if (!d) {
                r = bench_fail("realloc");
                break;
            }
            buf = d;
            cap *= 2;
        }
        ssize_t got = read(p[0], buf + have, CHUNK);
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0) {
            r = bench_fail("read");
            break;
        }
        size_t end = have + (size_t)got, start = 0;
        const char *nl;
        while (start < end && ((nl = memchr(buf + start, '\n', end - start)) || got == 0)) {
            size_t n = (nl ? (size_t)(nl - buf) + 1 : end) - start;
            char *line = malloc(n + 1);
            if (!line) {
                r = bench_fail("malloc");
                break;
            }
            memcpy(line, buf + start, n);
            line[n] = '\0';
            /* The line escapes, as it would to a caller: otherwise the
             * compiler drops the copy of a string freed unread. */
            __asm__ volatile("" : : "r"(line) : "memory");
            ++*lines;
            *bytes += n;
            free(line);
            start += n;
        }
        if (r || got == 0)
            break;
        memmove(buf, buf + start, end - start);
        have = end - start;
    }
    close(p[0]);
    free(buf);
    return wait_ok(pid) || r ? -1 : 0;
}

const struct contender bench_raw = {"raw", raw_spawn, raw_capture, raw_roundtrip};
const struct contender bench_raw_reused = {"raw-reused", NULL, reused_capture, reused_roundtrip};
const struct contender bench_fork = {"fork", fork_spawn, NULL, NULL};
