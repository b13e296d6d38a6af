/* SPDX-License-Identifier: MIT */
/* errors.c - error codes, their names, and the thread-local last error. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Thread-local, so threads never see each other's failures. */
static _Thread_local char last_error[1024];

/* Records a sentence about a failure and returns err, so callers can write
 * `return prun__fail(-ENOENT, "cannot run '%s'", prog);`.  The sentence
 * ends with prun_strerror(err). */
int prun__fail(int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - n, ": %s", prun_strerror(err));
    return err;
}

const char *prun_last_error(void)
{
    return last_error;
}

const char *prun_strerror(int err)
{
    switch (err) {
    case 0:
        return "Success";
    case PRUN_ETIMEOUT:
        return "Timed out";
    case PRUN_ECHECK:
        return "Command returned a nonzero status";
    case PRUN_ETOOBIG:
        return "Output exceeded max_output";
    }
    if (err < 0 && err > -4096)
        return strerror(-err);
    return "Unknown error";
}

void prun_buf_free(prun_buf *b)
{
    if (!b)
        return;
    free(b->data);
    b->data = NULL;
    b->len = 0;
}
