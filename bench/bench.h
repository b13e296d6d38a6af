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
#include <sys/types.h>

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
extern const struct contender bench_raw_reused;
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

/* The spawn cases of issue 9 (spawn-tiny, spawn-fds-*, spawn-creds-*)
 * name their contenders one by one, since each case has its own set: a
 * spawner runs argv and waits for it, returning 0 or -1 like the
 * operations above.  The child of spawn-tiny and spawn-fds-* is
 * bench/tiny-exit, that of spawn-creds-* /bin/true. */
struct spawner {
    const char *name;
    int (*spawn)(char *const argv[]);
};

/* peer_libprun.c */
int bench_libprun_pipe(char *const argv[]);  /* stdout_io = PRUN_PIPE, read to EOF, prun_wait */
int bench_libprun_creds(char *const argv[]); /* user, umask, one rlimit, pdeathsig (below) */
/* peer_raw.c */
int bench_vfork_spawn(char *const argv[]);          /* vfork + execve + waitpid */
int bench_raw_closefrom_spawn(char *const argv[]);  /* posix_spawn + addclosefrom_np(3) */
int bench_raw_closefrom_pipe(char *const argv[]);   /* the same, stdout on a pipe read to EOF */
int bench_fork_creds(char *const argv[]);           /* fork, the options by hand, execve */
#ifdef BENCH_HAVE_GLIB
/* peer_glib.c */
int bench_glib_child_setup(char *const argv[]);     /* g_spawn_sync, the options in child_setup */
#endif

/* The options of the spawn-creds cases, the same for every contender:
 * user "nobody" (its uid, its primary group and its supplementary groups
 * from the databases, looked up in every call, as libprun does), umask
 * 022, RLIMIT_CORE 0 and parent-death signal SIGTERM. */
#define BENCH_CREDS_USER "nobody"
struct bench_creds {
    uid_t uid;
    gid_t gid;
    gid_t groups[64];
    int n_groups;
    pid_t parent; /* the caller, for the child's check after PR_SET_PDEATHSIG */
};
/* The cases of issue 10 with children many at once (wait-any-*) and
 * lines (readline-1M), contenders "libprun" and "raw" (peer_libprun.c,
 * peer_raw.c).  start_many runs n children of argv, stdin on in_fd (-1:
 * inherited), stdout on /dev/null if quiet, their pids in pids[], and
 * keeps what collect_many needs in *state; collect_many waits for all n (each must exit 0) and
 * frees *state.  read_lines runs argv, reads its stdout line by line to
 * EOF and counts the lines and their bytes. */
int bench_libprun_start_many(char *const argv[], size_t n, int in_fd, int quiet,
                             pid_t *pids, void **state);
int bench_libprun_collect_many(void *state, size_t n);  /* prun_wait_any until -ECHILD */
int bench_libprun_readline(char *const argv[], size_t *lines, size_t *bytes);
int bench_raw_start_many(char *const argv[], size_t n, int in_fd, int quiet,
                             pid_t *pids, void **state);
int bench_raw_collect_many(void *state, size_t n);      /* waitpid(-1) until ECHILD */
int bench_raw_readline(char *const argv[], size_t *lines, size_t *bytes);

int bench_creds_lookup(struct bench_creds *c);       /* in the caller: 0 or -1 (said why) */
int bench_creds_apply(const struct bench_creds *c);  /* in a forked child: 0 or -1 (errno) */

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
