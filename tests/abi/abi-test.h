/* SPDX-License-Identifier: MIT */
/* abi-test.h - what the two callers of tests/abi share: a check that
 * says where it failed, and the fd count. */
#ifndef ABI_TEST_H
#define ABI_TEST_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>

static int abi_failures;

#define EXPECT(cond)                                                            \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "%s:%d: expected %s\n", __FILE__, __LINE__, #cond); \
            abi_failures++;                                                     \
        }                                                                       \
    } while (0)

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;
}

static int abi_finish(const char *what)
{
    if (abi_failures) {
        fprintf(stderr, "FAIL: %s: %d checks failed\n", what, abi_failures);
        return 1;
    }
    printf("PASS: %s\n", what);
    return 0;
}

#endif
