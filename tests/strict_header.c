/* SPDX-License-Identifier: MIT */
/* strict_header.c - prun.h in strict ISO C (-std=c99 -pedantic, no
 * _GNU_SOURCE or _POSIX_C_SOURCE): a program that includes only it and
 * <stdio.h> builds and runs. */
#include <prun.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char echo[] = "echo", word[] = "strict";
    char *argv[3];
    prun_opts opts;
    prun_result res;
    argv[0] = echo;
    argv[1] = word;
    argv[2] = NULL;
    memset(&opts, 0, sizeof opts);
    opts.stdout_io = PRUN_PIPE;
    int err = prun_run(argv, &opts, &res);
    int ok = err == 0 && res.returncode == 0 && strcmp(res.out.data, "strict\n") == 0;
    prun_result_free(&res);
    printf("%s: prun.h compiles as strict ISO C99 and runs\n", ok ? "PASS" : "FAIL");
    return ok ? 0 : 1;
}
