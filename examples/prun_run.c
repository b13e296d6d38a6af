/* SPDX-License-Identifier: MIT */
#include <prun.h>
#include <stdio.h>
#include <stdlib.h>

int
main(void)
{
    /* run(["tr", "a-z", "A-Z"], input=..., capture_output=True,
           check=True, timeout=5) */
    char *tr[] = { "tr", "a-z", "A-Z", NULL };
    prun_opts opts = { .input = "hello\n", .input_len = 6,
                       .capture_output = 1, .check = 1,
                       .timeout_ms = 5000 };
    prun_result res;
    int err = prun_run(tr, &opts, &res);

    if (err < 0)
        fprintf(stderr, "%s\n", prun_last_error());
    else
        printf("%s", res.out.data);                  /* HELLO */
    prun_result_free(&res);

    /* check_output(["uname", "-r"]) */
    char *uname[] = { "uname", "-r", NULL };
    prun_buf out;

    if (prun_check_output(uname, NULL, &out) == 0)
        printf("kernel %s", out.data);
    prun_buf_free(&out);

    /* getstatusoutput("ls /nonexistent") */
    int status;

    if (prun_getstatusoutput("ls /nonexistent", &status, &out) == 0)
        printf("%d: %s\n", status, out.data);  /* 2: ls: cannot ... */
    prun_buf_free(&out);

    /* getoutput("date") */
    char *date = prun_getoutput("date");

    if (date)
        printf("%s\n", date);
    free(date);
    exit(err < 0 ? EXIT_FAILURE : EXIT_SUCCESS);
}
