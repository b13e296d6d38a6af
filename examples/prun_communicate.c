/* SPDX-License-Identifier: MIT */
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int
main(void)
{
    char *argv[] = { "sort", NULL };
    prun_opts opts = { .stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE };
    const char *words = "pear\napple\nfig\n";
    prun_proc *p;
    prun_buf out;
    int rc, err;

    if (prun_popen(&p, argv, &opts) < 0) {
        fprintf(stderr, "%s\n", prun_last_error());
        exit(EXIT_FAILURE);
    }
    err = prun_communicate(p, words, strlen(words), 5000, &out, NULL);
    if (err == PRUN_ETIMEOUT) {
        prun_kill(p);
        err = prun_communicate(p, NULL, 0, PRUN_FOREVER, &out, NULL);
    }
    if (err == 0 && prun_wait(p, 0, &rc) == 0)
        printf("returncode %d:\n%s", rc, out.data);
    else
        fprintf(stderr, "sort: %s\n", prun_strerror(err));
    prun_buf_free(&out);
    prun_free(p);
    exit(EXIT_SUCCESS);
}
