/* SPDX-License-Identifier: MIT */
/* internal.h - what the library's files share; never installed. */
#ifndef PRUN_INTERNAL_H
#define PRUN_INTERNAL_H

#include "prun.h"

#include <pthread.h>
#include <stdint.h>

/* Where a child's standard stream comes from, besides a real fd (>= 0). */
enum {
    PRUN_SRC_INHERIT = -1,
    PRUN_SRC_DEVNULL = -2,
    PRUN_SRC_STDOUT = -3, /* stderr only: a copy of the child's stdout */
};

/* What to spawn: one child of a popen or of a pipeline stage. */
struct prun_spawn_req {
    char *const *argv;
    const prun_opts *opts;
    int src[3];    /* the child's fds 0, 1, 2: an fd or a PRUN_SRC_* value */
    pid_t pgroup;  /* -1: stay in the caller's group, 0: lead a new one, >0: join it */
    int take_tty;  /* make the child's group the terminal's foreground group */
};

/* The caller's ends of the standard pipes, and the state communicate keeps
 * between calls (it resumes after a timeout). */
struct prun_streams {
    int fd[3];              /* stdin (write end), stdout, stderr (read ends); -1 = none/closed */
    int was_pipe[3];        /* the stream was a pipe: its prun_buf is "" rather than NULL */
    int started, done;
    char *input_copy;       /* the unsent input, copied when a call timed out */
    size_t input_len, input_off;
    prun_buf acc[2];        /* stdout and stderr since the first call */
    size_t cap[2];
    int big_pipe[2];        /* F_SETPIPE_SZ already tried on this stream */
    /* from prun_opts, fixed at popen */
    size_t max_output;
    prun_output_fn on_output;
    void *userdata;
    int grace_ms;
};

struct prun_proc {
    pid_t pid;
    int pidfd;              /* -1 where pidfd_open is unavailable */
    int exited;             /* seen to exit (the pidfd was readable); maybe not reaped yet */
    int reaped;
    int returncode;
    int core_dumped;
    pid_t pgid;             /* >0: the child leads this process group */
    char name[64];          /* argv[0], for messages */
    struct rusage rusage;
    pthread_mutex_t lock;   /* serialises reaping and signalling */
    struct prun_streams io;
};

/* errors.c */
int prun__fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* spawn.c */
int prun__spawn(pid_t *pid, const struct prun_spawn_req *req);
int prun__check_opts(const prun_opts *o);
int prun__make_pipe(int fds[2]);
int prun__stream_fds(const prun_opts *o, struct prun_streams *io, int src[3], int child_end[3]);
void prun__close(int *fd);

/* proc.c */
void prun__proc_init(prun_proc *p, pid_t pid, pid_t pgid, const char *name);
void prun__proc_destroy(prun_proc *p);
int prun__reap(prun_proc *p);   /* 1 reaped, 0 running, <0 error */
int prun__wait_all(prun_proc *procs, size_t n, int64_t deadline);
int prun__signal(prun_proc *p, int sig);
int prun__signal_all(prun_proc *procs, size_t n, pid_t pgid, int sig);
int64_t prun__now_ns(void);
int64_t prun__deadline(int timeout_ms);
int prun__ms_left(int64_t deadline);

/* communicate.c */
void prun__streams_init(struct prun_streams *io, const prun_opts *o);
void prun__streams_close(struct prun_streams *io);
int prun__communicate(struct prun_streams *io, prun_proc *procs, size_t n, pid_t pgid,
                      const void *input, size_t input_len, int timeout_ms,
                      prun_buf *out, prun_buf *err);
void prun__take_output(struct prun_streams *io, prun_buf *out, prun_buf *err);

/* run.c */
int prun__run_opts(const prun_opts *opts, prun_opts *o);
int prun__run_streams(struct prun_streams *io, prun_proc *procs, size_t n, pid_t pgid,
                      const prun_opts *o, prun_result *res);

#endif
