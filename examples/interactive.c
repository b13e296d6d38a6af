/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static prun_proc *
start(char *argv[])          /* NULL if the program is not installed */
{
    prun_opts opts = { .stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE };
    prun_proc *p;
    int err = prun_popen(&p, argv, &opts);

    if (err < 0 && err != -ENOENT) {
        fprintf(stderr, "%s\n", prun_last_error());
        exit(EXIT_FAILURE);
    }
    return p;
}

/* p.stdin.write(q); p.stdin.flush(); answer = p.stdout.readline() */
static void
ask(prun_proc *p, const char *q, const char *want)
{
    int n = (int)strlen(q) - 1;           /* without its \n */
    prun_buf answer = { NULL, 0 };
    int err = prun_write(p, q, strlen(q), 5000, NULL);

    if (err == 0)
        err = prun_readline(p, 1, 5000, &answer);   /* 1: a line */
    if (err != 1 || strcmp(answer.data, want) != 0) {
        fprintf(stderr, "%.*s: %s\n", n, q,
                err < 0 ? prun_last_error() : "a wrong answer");
        exit(EXIT_FAILURE);
    }
    printf("%.*s -> %s", n, q, answer.data);
    prun_buf_free(&answer);
}

int
main(void)
{
    char *cat[] = { "cat", NULL };
    char *bc[] = { "bc", "-q", NULL };
    prun_proc *p = start(cat);
    prun_buf line, out;
    int rc, err;

    if (!p)
        exit(EXIT_FAILURE);
    ask(p, "one\n", "one\n");
    ask(p, "two\n", "two\n");

    /* Half a line: readline times out, and keeps it for later. */
    prun_write(p, "thr", 3, PRUN_FOREVER, NULL);
    err = prun_readline(p, 1, 100, &line);
    printf("thr -> %s\n", prun_strerror(err));      /* Timed out */
    prun_write(p, "ee\nfour\n", 8, PRUN_FOREVER, NULL);
    if (prun_readline(p, 1, 5000, &line) != 1)
        exit(EXIT_FAILURE);
    printf("ee -> %s", line.data);                  /* three */
    prun_buf_free(&line);

    /* p.communicate(b"five\n"): what readline read ahead comes
       first, and nothing prun_write sent is sent again. */
    err = prun_communicate(p, "five\n", 5, 5000, &out, NULL);
    if (err < 0 || prun_wait(p, 0, &rc) < 0 || rc != 0
        || strcmp(out.data, "four\nfive\n") != 0)
        exit(EXIT_FAILURE);
    printf("communicate: %zu bytes, returncode %d\n", out.len, rc);
    prun_buf_free(&out);
    prun_free(p);

    /* bc, a program that answers questions, if it is installed */
    p = start(bc);
    if (!p) {
        printf("bc is not installed: skipped\n");
        exit(EXIT_SUCCESS);
    }
    ask(p, "2^10\n", "1024\n");
    ask(p, "scale=3; 1/3\n", ".333\n");
    prun_write(p, "quit\n", 5, 5000, NULL);
    err = prun_readline(p, 1, 5000, &line);         /* 0: end-of-file */
    if (err != 0 || prun_wait(p, 5000, &rc) < 0 || rc != 0)
        exit(EXIT_FAILURE);
    printf("quit -> end-of-file, returncode %d\n", rc);
    prun_free(p);
    exit(EXIT_SUCCESS);
}
