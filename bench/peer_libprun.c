/* SPDX-License-Identifier: MIT */
/* peer_libprun.c - libprun, used the way its documentation shows. */
#include "bench.h"

#include <prun.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

static int report(int r)
{
    fprintf(stderr, "libprun: %s (%s)\n", prun_last_error(), prun_strerror(r));
    return -1;
}

static int libprun_spawn(char *const argv[])
{
    prun_result res;
    int r = prun_run(argv, NULL, &res);
    prun_result_free(&res);
    if (r)
        return report(r);
    return res.returncode == 0 ? 0 : bench_fail("child failed");
}

static int libprun_capture(char *const argv[], char **out, size_t *len)
{
    prun_opts o = {.capture_output = 1, .check = 1};
    prun_result res;
    int r = prun_run(argv, &o, &res);
    if (r) {
        prun_result_free(&res);
        return report(r);
    }
    *out = res.out.data;
    *len = res.out.len;
    prun_buf_free(&res.err);
    return 0;
}

static int libprun_roundtrip(char *const argv[], const char *in, size_t in_len, char **out, size_t *len)
{
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE};
    prun_proc *p;
    prun_buf b;
    int rc;
    int r = prun_popen(&p, argv, &o);
    if (r)
        return report(r);
    r = prun_communicate(p, in, in_len, PRUN_FOREVER, &b, NULL);
    if (r == 0)
        r = prun_wait(p, PRUN_FOREVER, &rc);
    prun_free(p);
    if (r) {
        prun_buf_free(&b);
        return report(r);
    }
    if (rc != 0) {
        prun_buf_free(&b);
        return bench_fail("child failed");
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

/* spawn-fds-pipe-*: stdout on a pipe, read to EOF, then the wait. */
int bench_libprun_pipe(char *const argv[])
{
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_proc *p;
    char buf[4096];
    ssize_t got;
    int rc;
    int r = prun_popen(&p, argv, &o);
    if (r)
        return report(r);
    while ((got = read(prun_stdout(p), buf, sizeof buf)) > 0 || (got < 0 && errno == EINTR))
        ;
    if (got < 0) {
        prun_free(p);
        return bench_fail("read");
    }
    r = prun_wait(p, PRUN_FOREVER, &rc);
    prun_free(p);
    if (r)
        return report(r);
    return rc == 0 ? 0 : bench_fail("child failed");
}

/* spawn-creds-*: the options of struct bench_creds, as prun_opts fields. */
int bench_libprun_creds(char *const argv[])
{
    static const struct prun_rlimit no_core = {RLIMIT_CORE, {0, 0}};
    prun_opts o = {.user = BENCH_CREDS_USER, .umask = PRUN_UMASK(022), .rlimits = &no_core,
                   .n_rlimits = 1, .pdeathsig = SIGTERM};
    prun_result res;
    int r = prun_run(argv, &o, &res);
    prun_result_free(&res);
    if (r)
        return report(r);
    return res.returncode == 0 ? 0 : bench_fail("child failed");
}

/* ---- issue 10: many children, lines ---- */

struct many {
    prun_proc **procs;
    size_t n;
};

/* n prun_popen, default options but stdin on in_fd (PRUN_FD) and
 * stdout on /dev/null when asked. */
int bench_libprun_start_many(char *const argv[], size_t n, int in_fd, int quiet, pid_t *pids,
                             void **state)
{
    struct many *m = calloc(1, sizeof *m);
    prun_opts o = {0};
    int r = 0;
    if (!m || !(m->procs = calloc(n ? n : 1, sizeof *m->procs))) {
        free(m);
        return bench_fail("calloc");
    }
    if (in_fd >= 0) {
        o.stdin_io = PRUN_FD;
        o.stdin_fd = in_fd;
    }
    if (quiet)
        o.stdout_io = PRUN_DEVNULL;
    for (; m->n < n && r == 0; m->n++)
        if ((r = prun_popen(&m->procs[m->n], argv, &o)) == 0)
            pids[m->n] = prun_pid(m->procs[m->n]);
        else {
            report(r);
            break;
        }
    *state = m;
    return r ? -1 : 0;
}

/* prun_wait_any over the whole array until -ECHILD, then prun_free each
 * (part of the cost: a caller must free its handles). */
int bench_libprun_collect_many(void *state, size_t n)
{
    struct many *m = state;
    size_t seen = 0, bad = 0, i;
    int rc, r;
    while ((r = prun_wait_any(m->procs, m->n, PRUN_FOREVER, &i, &rc)) == 0) {
        seen++;
        bad += rc != 0;
    }
    for (i = 0; i < m->n; i++)
        prun_free(m->procs[i]);
    free(m->procs);
    free(m);
    if (r != -ECHILD)
        return report(r);
    if (seen != n || bad) {
        fprintf(stderr, "prun-bench: libprun: %zu of %zu children reaped, %zu failed\n", seen, n, bad);
        return -1;
    }
    return 0;
}

/* prun_readline on stdout until 0 (EOF), each line freed at once. */
int bench_libprun_readline(char *const argv[], size_t *lines, size_t *bytes)
{
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_proc *p;
    prun_buf line;
    int rc;
    *lines = *bytes = 0;
    int r = prun_popen(&p, argv, &o);
    if (r)
        return report(r);
    while ((r = prun_readline(p, 1, PRUN_FOREVER, &line)) == 1) {
        ++*lines;
        *bytes += line.len;
        prun_buf_free(&line);
    }
    if (r == 0)
        r = prun_wait(p, PRUN_FOREVER, &rc);
    prun_free(p);
    if (r)
        return report(r);
    return rc == 0 ? 0 : bench_fail("child failed");
}

const struct contender bench_libprun = {"libprun", libprun_spawn, libprun_capture, libprun_roundtrip};
