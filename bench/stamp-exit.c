/* SPDX-License-Identifier: MIT */
/* stamp-exit.c - the wake-up case's child: sleeps MS milliseconds, prints
 * CLOCK_MONOTONIC in ns on stdout and exits at once.
 *
 * The waiter's latency is the time from that stamp to its wait's return.
 * The child is small and linked statically so that its own teardown
 * (unmapping libraries, which the kernel does before it reports the exit)
 * adds as little as possible to what is measured. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    long ms = argc > 1 ? strtol(argv[1], NULL, 10) : 0;
    struct timespec nap = {ms / 1000, (ms % 1000) * 1000000}, now;
    nanosleep(&nap, NULL);
    clock_gettime(CLOCK_MONOTONIC, &now);
    dprintf(1, "%lld\n", (long long)now.tv_sec * 1000000000 + now.tv_nsec);
    _exit(0);
}
