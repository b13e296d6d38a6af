/* SPDX-License-Identifier: MIT */
/* writer.c - the child of the capture-writes-* cases: writes SIZE bytes
 * (zeros) to stdout in CHUNK bytes per write(2), then exits.
 *
 *   writer SIZE CHUNK
 *
 * Every write is a system call of its own (no stdio), so the reader sees
 * a child that trickles its output out, as a program that writes a byte
 * or a short record at a time does.  Small and linked statically, like
 * stamp-exit, so that its start and exit cost little. */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

static char zeros[1 << 16];

int main(int argc, char **argv)
{
    if (argc != 3)
        return 2;
    unsigned long long left = strtoull(argv[1], NULL, 10);
    size_t chunk = (size_t)strtoull(argv[2], NULL, 10);
    if (chunk == 0 || chunk > sizeof zeros)
        return 2;
    while (left) {
        size_t n = left < chunk ? (size_t)left : chunk;
        ssize_t w = write(1, zeros, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return 1;
        left -= (unsigned long long)w;
    }
    return 0;
}
