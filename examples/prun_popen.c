/* SPDX-License-Identifier: MIT */
#define _POSIX_C_SOURCE 200809L
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

int
main(void)
{
    char *argv[] = { "ls", "-l", "/", NULL };
    prun_opts opts = { .stdout_io = PRUN_PIPE };
    prun_proc *p;
    char line[4096];
    int n = 0, rc, err;

    err = prun_popen(&p, argv, &opts);
    if (err < 0) {
        fprintf(stderr, "%s\n", prun_last_error());
        exit(EXIT_FAILURE);
    }
    /* A stdio stream of its own: fclose() must not close the
       handle's descriptor. */
    FILE *f = fdopen(dup(prun_stdout(p)), "r");
    while (f && fgets(line, sizeof line, f))
        n++;
    if (f)
        fclose(f);
    err = prun_wait(p, PRUN_FOREVER, &rc);
    printf("pid %d: %d lines, returncode %d\n", (int)prun_pid(p), n, rc);
    prun_free(p);
    exit(err < 0 || rc != 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}
