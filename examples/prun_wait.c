/* SPDX-License-Identifier: MIT */
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
    char *argv[] = { "sleep", "10", NULL };
    prun_proc *p;
    int rc, err;

    if (prun_popen(&p, argv, NULL) < 0) {
        fprintf(stderr, "%s\n", prun_last_error());
        exit(EXIT_FAILURE);
    }
    err = prun_wait(p, 500, &rc);
    if (err == PRUN_ETIMEOUT) {
        prun_terminate(p);
        err = prun_wait(p, PRUN_FOREVER, &rc);
    }
    if (err == 0) {
        const struct rusage *ru = prun_rusage(p);   /* NULL: not known */

        printf("returncode %d, max RSS %ld KiB\n",   /* -15, ... */
               rc, ru ? ru->ru_maxrss : 0L);
    }
    prun_free(p);
    exit(EXIT_SUCCESS);
}
