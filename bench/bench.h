/* SPDX-License-Identifier: MIT */
/* bench.h - what the benchmark's cases and its contenders share.
 *
 * A contender is one way a C programmer might run a child: libprun, the
 * raw system calls, or a peer library.  Each offers the operations it has
 * a natural form for; an operation it lacks is NULL and it sits that case
 * out.  Every operation returns 0 on success and -1 on failure (after
 * saying why on stderr), so a failed run is reported, never timed.
 */
#ifndef PRUN_BENCH_H
#define PRUN_BENCH_H

#include <stddef.h>
#include <stdint.h>

struct contender {
    const char *name;
    /* Runs argv (an absolute path, streams inherited) and waits for it. */
    int (*spawn)(char *const argv[]);
    /* Runs argv and returns its whole stdout in *out (malloc'd, *len bytes). */
    int (*capture)(char *const argv[], char **out, size_t *len);
    /* Feeds in to argv's stdin while reading its stdout, both at once. */
    int (*roundtrip)(char *const argv[], const char *in, size_t in_len, char **out, size_t *len);
};

extern const struct contender bench_libprun;
extern const struct contender bench_raw;
extern const struct contender bench_fork;
#ifdef BENCH_HAVE_GLIB
extern const struct contender bench_glib_spawn_sync;
extern const struct contender bench_glib_subprocess;
#endif
#ifdef BENCH_HAVE_LIBPIPELINE
extern const struct contender bench_libpipeline;
#endif
#ifdef BENCH_HAVE_LIBUV
extern const struct contender bench_libuv;
#endif

/* The growing buffer of the plain capture loops: 64 KiB reads into a
 * buffer that doubles when full.  Returns 0, or -1 with errno set. */
struct grow_buf {
    char *data;
    size_t len, cap;
};
int grow_buf_read(struct grow_buf *b, int fd, size_t chunk); /* >0 read, 0 EOF, -1 error */
int grow_buf_append(struct grow_buf *b, const char *data, size_t len);

int bench_fail(const char *what); /* perror-like; returns -1 */
int64_t bench_now_ns(void);

#endif
