/* SPDX-License-Identifier: MIT */
/* old_caller.c - a program built against a frozen copy of the 2.0.0
 * header, run against "the next libprun": the same sources built with a
 * field appended to each sized structure (tests/Makefile.am).  Its
 * shorter structures must work: what it does not send reads as zero, and
 * the library writes no byte past what it passed.  Its structures sit on
 * the heap at their exact size, so that AddressSanitizer sees any read
 * past them. */
#include "prun-2.0.0.h"

#include "abi-test.h"

#include <string.h>

enum { GUARD = 64 };

/* A structure of `size` bytes followed by GUARD bytes of 0x5a. */
static void *guarded(size_t size)
{
    unsigned char *p = malloc(size + GUARD);
    memset(p, 0, size);
    memset(p + size, 0x5a, GUARD);
    return p;
}

static int guard_intact(const void *p, size_t size)
{
    const unsigned char *g = (const unsigned char *)p + size;
    for (size_t i = 0; i < GUARD; i++)
        if (g[i] != 0x5a)
            return 0;
    return 1;
}

static void run_with_short_structs(void)
{
    char *argv[] = {"tr", "a-z", "A-Z", NULL};
    prun_opts *o = malloc(sizeof *o);
    memset(o, 0, sizeof *o);
    o->capture_output = 1;
    o->input = "pear";
    o->input_len = 4;
    prun_result *res = guarded(sizeof *res);
    EXPECT(prun_run(argv, o, res) == 0);
    EXPECT(res->returncode == 0);
    EXPECT(res->out.data && strcmp(res->out.data, "PEAR") == 0);
    EXPECT(guard_intact(res, sizeof *res));
    prun_result_free(res);
    free(res);
    free(o);
}

static void stage_info_is_not_overrun(void)
{
    char *a[] = {"echo", "x", NULL}, *b[] = {"cat", NULL};
    char *const *stages[] = {a, b};
    prun_opts o = {.stdout_io = PRUN_DEVNULL};
    prun_pipeline *pl;
    int status = -1;
    EXPECT(prun_pipeline_start(&pl, 2, stages, &o, NULL) == 0);
    EXPECT(prun_pipeline_wait(pl, PRUN_FOREVER, &status) == 0 && status == 0);
    prun_stage_info *info = guarded(sizeof *info);
    EXPECT(prun_pipeline_stage(pl, 1, info) == 0);
    EXPECT(info->exited == 1 && info->returncode == 0 && info->pid > 0);
    EXPECT(guard_intact(info, sizeof *info));
    free(info);
    prun_pipeline_free(pl);
}

static void popen_and_communicate(void)
{
    char *argv[] = {"cat", NULL};
    prun_opts *o = malloc(sizeof *o);
    memset(o, 0, sizeof *o);
    o->stdin_io = o->stdout_io = PRUN_PIPE;
    prun_proc *p;
    prun_buf out;
    int rc = -1;
    EXPECT(prun_popen(&p, argv, o) == 0);
    free(o);  /* prun_popen keeps nothing of it */
    EXPECT(prun_communicate(p, "lime", 4, 10000, &out, NULL) == 0);
    EXPECT(prun_wait(p, PRUN_FOREVER, &rc) == 0 && rc == 0);
    EXPECT(out.len == 4 && strcmp(out.data, "lime") == 0);
    prun_buf_free(&out);
    prun_free(p);
}

int main(void)
{
    int fds = count_fds();
    EXPECT(prun_version() != NULL);
    run_with_short_structs();
    stage_info_is_not_overrun();
    popen_and_communicate();
    EXPECT(count_fds() == fds);
    return abi_finish("a caller built against prun.h 2.0.0 works with a libprun whose structures are longer");
}
