/* SPDX-License-Identifier: MIT */
/* peer_libprun.c - libprun, used the way its documentation shows. */
#include "bench.h"

#include <prun.h>
#include <stdio.h>
#include <stdlib.h>

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

const struct contender bench_libprun = {"libprun", libprun_spawn, libprun_capture, libprun_roundtrip};
