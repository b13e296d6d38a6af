/* SPDX-License-Identifier: MIT */
/* errors.c - error codes, their names, and the thread-local sentence
 * about the calling thread's last failure. */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Thread-local, so threads never see each other's failures. */
static _Thread_local char last_error[PRUN__ERROR_SIZE];
static _Thread_local int last_step;

int prun__fail(int err, const char *fmt, ...)
{
    last_step = PRUN_STEP_NONE;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
    va_end(ap);
    if (n >= 0 && (size_t)n < sizeof last_error)
        snprintf(last_error + n, sizeof last_error - (size_t)n, ": %s", prun_strerror(err));
    return err;
}

int prun__at_step(int step, int err)
{
    last_step = step;
    return err;
}

void prun__error_save(struct prun__saved_error *s)
{
    memcpy(s->text, last_error, sizeof s->text);
    s->step = last_step;
}

void prun__error_restore(const struct prun__saved_error *s)
{
    memcpy(last_error, s->text, sizeof last_error);
    last_step = s->step;
}

const char *prun_last_error(void)
{
    return last_error;
}

int prun_last_error_step(void)
{
    return last_step;
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
