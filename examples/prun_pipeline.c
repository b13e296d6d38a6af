/* SPDX-License-Identifier: MIT */
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
    char *yes[] = { "yes", NULL };
    char *head[] = { "head", "-n", "3", NULL };
    char *wc[] = { "wc", "-l", NULL };
    char *const *stages[] = { yes, head, wc };
    prun_opts opts = { .stdout_io = PRUN_PIPE };
    prun_pipeline *pl;
    prun_buf out;
    size_t failed, i;
    int err;

    err = prun_pipeline_start(&pl, 3, stages, &opts, &failed);
    if (err < 0) {
        fprintf(stderr, "stage %zu: %s\n", failed + 1, prun_last_error());
        exit(EXIT_FAILURE);
    }
    err = prun_pipeline_communicate(pl, NULL, 0, 10000, &out, NULL);
    if (err == PRUN_ETIMEOUT) {
        prun_pipeline_kill(pl);
        err = prun_pipeline_communicate(pl, NULL, 0, PRUN_FOREVER,
                                        &out, NULL);
    }
    printf("output %s", out.data ? out.data : "(none)\n");
    for (i = 0; i < prun_pipeline_size(pl); i++) {
        prun_stage_info info;

        prun_pipeline_stage(pl, i, &info);
        printf("stage %zu: pid %d, returncode %d, %ld KiB\n", i + 1,
               (int)info.pid, info.returncode, info.rusage.ru_maxrss);
    }
    printf("status %d, with pipefail %d\n",
           prun_pipeline_status(pl, 0), prun_pipeline_status(pl, 1));
    prun_buf_free(&out);
    prun_pipeline_free(pl);
    exit(err < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}
