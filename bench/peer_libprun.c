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

const struct contender bench_libprun = {"libprun", libprun_spawn, libprun_capture, libprun_roundtrip};
