/* SPDX-License-Identifier: MIT */
/* new_caller.c - a program built against "the next prun.h" (this one
 * with a field appended to each sized structure: abi_next_field), run
 * against this libprun.  Left zero, the unknown field changes nothing;
 * set, it is refused with -E2BIG and a sentence, before anything starts;
 * in the structures the library writes, it comes back zero. */
#include <prun.h>

#include "abi-test.h"

#include <errno.h>
#include <string.h>

static char *cat_argv[] = {"cat", NULL};

static void zero_tail_works(void)
{
    prun_opts o = {.capture_output = 1, .input = "pear", .input_len = 4};
    prun_result res;
    memset(&res, 0xab, sizeof res);
    EXPECT(o.abi_next_field == 0);
    EXPECT(prun_run(cat_argv, &o, &res) == 0);
    EXPECT(res.out.data && strcmp(res.out.data, "pear") == 0);
    EXPECT(res.abi_next_field == 0);  /* written as zero: this libprun has no such field */
    prun_result_free(&res);
}

static void refused(int r, const char *call)
{
    if (r != -E2BIG)
        fprintf(stderr, "%s returned %d (%s)\n", call, r, prun_last_error());
    EXPECT(r == -E2BIG);
    EXPECT(strstr(prun_last_error(), "newer prun.h") != NULL);
}

static void unknown_option_is_refused(void)
{
    prun_opts o = {.abi_next_field = 1};
    prun_result res;
    prun_proc *p = (prun_proc *)&o;
    prun_pipeline *pl = (prun_pipeline *)&o;
    prun_buf out = {(char *)"x", 1};
    char *const *stages[] = {cat_argv};
    int rc = 12345;
    refused(prun_run(cat_argv, &o, &res), "prun_run");
    EXPECT(res.out.data == NULL && res.err.data == NULL);
    refused(prun_popen(&p, cat_argv, &o), "prun_popen");
    EXPECT(p == NULL);
    refused(prun_call(cat_argv, &o, &rc), "prun_call");
    refused(prun_check_call(cat_argv, &o), "prun_check_call");
    refused(prun_check_output(cat_argv, &o, &out), "prun_check_output");
    EXPECT(out.data == NULL);
    refused(prun_pipeline_start(&pl, 1, stages, &o, NULL), "prun_pipeline_start");
    EXPECT(pl == NULL);
    refused(prun_pipeline_run(1, stages, &o, &res), "prun_pipeline_run");
}

static void stage_info_tail_is_zero(void)
{
    char *const *stages[] = {cat_argv};
    prun_opts o = {.stdin_io = PRUN_DEVNULL};
    prun_pipeline *pl;
    prun_stage_info info;
    EXPECT(prun_pipeline_start(&pl, 1, stages, &o, NULL) == 0);
    EXPECT(prun_pipeline_wait(pl, PRUN_FOREVER, NULL) == 0);
    memset(&info, 0xab, sizeof info);
    EXPECT(prun_pipeline_stage(pl, 0, &info) == 0);
    EXPECT(info.exited == 1 && info.returncode == 0);
    EXPECT(info.abi_next_field == 0);
    prun_pipeline_free(pl);
}

/* Sizes below the first sized layout are not these structures at all. */
static void too_small_is_refused(void)
{
    prun_opts o = {0};
    prun_result res;
    EXPECT(prun_run_sized(cat_argv, &o, &res, 16, sizeof res) == -EINVAL);
    EXPECT(prun_run_sized(cat_argv, &o, &res, sizeof o, 8) == -EINVAL);
    EXPECT(strstr(prun_last_error(), "prun_result") != NULL);
}

int main(void)
{
    int fds = count_fds();
    zero_tail_works();
    unknown_option_is_refused();
    stage_info_tail_is_zero();
    too_small_is_refused();
    EXPECT(count_fds() == fds);
    return abi_finish("a caller built against a newer prun.h gets -E2BIG for what libprun does not know");
}
