/* SPDX-License-Identifier: MIT */
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
    /* ps aux | grep bash, its output captured */
    char *ps[] = { "ps", "aux", NULL };
    char *grep[] = { "grep", "bash", NULL };
    char *const *stages[] = { ps, grep };
    prun_opts opts = { .stdout_io = PRUN_PIPE };
    prun_result res;
    int err;

    err = prun_pipeline_run(2, stages, &opts, &res);
    if (err < 0) {
        fprintf(stderr, "%s\n", prun_last_error());
        exit(EXIT_FAILURE);
    }
    printf("grep exited with %d; %zu bytes:\n%s",
           res.returncode, res.out.len, res.out.data);
    prun_result_free(&res);

    /* sleep 10, given one second: the child is killed */
    char *sleeper[] = { "sleep", "10", NULL };
    prun_opts limited = { .capture_output = 1, .timeout_ms = 1000 };

    err = prun_run(sleeper, &limited, &res);
    if (err == PRUN_ETIMEOUT)
        printf("timed out; returncode %d\n", res.returncode);
    else if (err < 0)
        fprintf(stderr, "%s\n", prun_last_error());
    prun_result_free(&res);
    exit(EXIT_SUCCESS);
}
