/* SPDX-License-Identifier: MIT */
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>

enum { JOBS = 12, AT_ONCE = 4 };

/* Job i: sh -c 'sleep 0.0$1; echo $2', the later ones quicker */
static prun_proc *
start(int i)
{
    char delay[12], name[12];
    char *argv[] = { "sleep 0.0$1; echo $2", "job", delay, name, NULL };
    prun_opts opts = { .shell = 1, .stdout_io = PRUN_PIPE };
    prun_proc *p;

    snprintf(delay, sizeof delay, "%d", 9 - i % 10);
    snprintf(name, sizeof name, "%d", i);
    if (prun_popen(&p, argv, &opts) < 0) {
        fprintf(stderr, "%s\n", prun_last_error());
        exit(EXIT_FAILURE);
    }
    return p;
}

int
main(void)
{
    prun_proc *running[AT_ONCE] = { NULL };  /* NULL: a free slot */
    int job[AT_ONCE];
    int next = 0, done = 0, failed = 0;
    int64_t t0 = prun_clock_ns();

    while (done < JOBS) {
        prun_buf out = { NULL, 0 };
        size_t slot;
        int rc = 0, err;

        for (slot = 0; slot < AT_ONCE && next < JOBS; slot++)
            if (!running[slot]) {
                job[slot] = next;
                running[slot] = start(next++);
            }
        /* Whichever ends first is reaped; NULL slots are skipped. */
        err = prun_wait_any(running, AT_ONCE, 10000, &slot, &rc);
        if (err < 0 && slot == AT_ONCE) {   /* none left, or timed out */
            fprintf(stderr, "%s\n", prun_last_error());
            exit(EXIT_FAILURE);
        }
        /* err -ECHILD, slot < AT_ONCE: another reaper took its status */
        if (err == 0)
            err = prun_communicate(running[slot], NULL, 0, 5000,
                                   &out, NULL);
        printf("job %2d: returncode %d, after %3d ms: %s", job[slot], rc,
               (int)((prun_clock_ns() - t0) / 1000000),
               err == 0 ? out.data : "?\n");
        if (err != 0 || rc != 0 || atoi(out.data) != job[slot])
            failed++;
        prun_buf_free(&out);
        prun_free(running[slot]);
        running[slot] = NULL;
        done++;
    }
    printf("%d jobs, %d at a time: %d failed\n", JOBS, AT_ONCE, failed);
    exit(failed ? EXIT_FAILURE : EXIT_SUCCESS);
}
