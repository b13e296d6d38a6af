/* SPDX-License-Identifier: MIT */
/* inject.h - failing the library's allocations and system calls one at a
 * time, SQLite style (test_inject.c drives it).
 *
 * Allocations: test_inject links libprun statically with
 * -Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc, so every allocation the
 * library makes passes through here, and the Nth one can fail.
 *
 * System calls: a seccomp filter on the calling thread (and so on the
 * children it starts) hands every system call to a supervisor thread
 * (SECCOMP_RET_USER_NOTIF), which lets it through, or fails the Nth one
 * made by the calling thread or by a child of the library that has not
 * exec'd yet, with an errno that call can really return.  Nothing in
 * lib/ knows about any of this.
 */
#ifndef PRUN_TEST_INJECT_H
#define PRUN_TEST_INJECT_H

#include <stddef.h>

/* Installs the filter and starts the supervisor; once per process. */
int inject_start(void);

/* What happens while armed: fail the Nth allocation (counted from 1),
 * or the Nth system call with the errno for it (variant 0 or 1: read
 * fails with EINTR or EIO...), or neither (n 0: count only). */
enum inject_kind { INJECT_ALLOC, INJECT_SYSCALL };
void inject_arm(enum inject_kind kind, unsigned long n, int variant);
void inject_disarm(void);

/* While armed and after: what was counted, and what was failed. */
unsigned long inject_count(void);
int inject_failed(void);          /* whether the Nth came and was failed */
long inject_failed_nr(void);      /* its system call number */
int inject_failed_errno(void);

/* The errno a system call is failed with (0: never failed, it cannot
 * fail or the process could not go on), and how many variants it has. */
int inject_errno_for(long nr, int variant);
int inject_variants(long nr);

#endif
