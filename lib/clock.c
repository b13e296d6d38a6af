/* SPDX-License-Identifier: MIT */
/* clock.c - the monotonic clock every timeout is measured on. */
#include "internal.h"

#include <limits.h>
#include <time.h>

int64_t prun_clock_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* INT_MAX ms is 2.1e15 ns: no overflow for centuries of uptime. */
int64_t prun__deadline(int timeout_ms)
{
    if (timeout_ms < 0)
        return PRUN_NO_DEADLINE;
    return prun_clock_ns() + (int64_t)timeout_ms * 1000000;
}

/* Rounded up, so that poll() never wakes just before the deadline and
 * spins. */
int prun_ms_until(int64_t deadline)
{
    if (deadline == PRUN_NO_DEADLINE)
        return -1;
    int64_t left = deadline - prun_clock_ns();
    if (left <= 0)
        return 0;
    left = (left + 999999) / 1000000;
    return left > INT_MAX ? INT_MAX : (int)left;
}
