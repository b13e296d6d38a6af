/* SPDX-License-Identifier: MIT */
/* internal.h - what the library's files share; never installed.
 *
 * The files are layers: each calls only the files listed before it.
 *
 *   errors.c       error codes and the thread-local sentence
 *   buf.c          growing byte buffers, prun_buf
 *   fd.c           pipes, closing, file status flags, pipe sizes
 *   clock.c        the monotonic clock and deadlines
 *   opts.c         sized structures in and out, checking prun_opts
 *   creds.c        users and groups, looked up before the spawn
 *   child.c        the child between clone and exec; clone3 and clone
 *   spawn_posix.c  the posix_spawn fallback
 *   spawn.c        starting one child: the plan, and which engine
 *   proc.c         one child: reaping, waiting, signalling
 *   streams.c      the caller's ends of the pipes, and what was read
 *   group.c        N children sharing streams and a process group;
 *                  a prun_proc is a group of one, a prun_pipeline of N
 *   io.c           prun_write, prun_read, prun_readline, for one process
 *                  and for a pipeline
 *   communicate.c  the poll loop over the streams and the children
 *   popen.c, pipeline.c, run.c   the public functions, thin (run.c holds
 *                  prun_pipeline_run too: one run path)
 *   tree.c         the caller's descendants, for supervisors
 *
 * tests/layers.sh checks the order from the object files.
 */
#ifndef PRUN_INTERNAL_H
#define PRUN_INTERNAL_H

#include "prun.h"

#include <pthread.h>
#include <stdint.h>

/* ---- errors.c ---- */

/* Records "<sentence>: <prun_strerror(err)>" for prun_last_error() and
 * returns err, so that a failure reads `return prun__fail(-E..., ...);`. */
int prun__fail(int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The answer to a NULL handle, or another argument out of range. */
/* Marks the failure just said as one of the start's steps
 * (prun_last_error_step(3)); returns err. */
int prun__at_step(int step, int err);
#define PRUN_BAD_ARG(what) prun__fail(-EINVAL, "%s: %s", __func__, (what))

/* The calling thread's last failure, sentence and step, kept across a
 * cleanup whose own failures must not become the caller's answer. */
enum { PRUN__ERROR_SIZE = 1024 };
struct prun__saved_error {
    char text[PRUN__ERROR_SIZE];
    int step;
};
void prun__error_save(struct prun__saved_error *s);
void prun__error_restore(const struct prun__saved_error *s);

/* ---- buf.c ---- */

/* A prun_buf that grows: buf.data has room for capacity bytes, and is
 * NUL-terminated at buf.len once allocated.  Its first `head` bytes are
 * already handed out (by prun_read, prun_readline). */
struct prun_growbuf {
    prun_buf buf;
    size_t capacity;
    size_t head;
};

/* Room for `room` more bytes and the NUL, doubling: 0 or -ENOMEM. */
int prun__growbuf_reserve(struct prun_growbuf *g, size_t room);
/* Hands the bytes after head over ("" if none was allocated and
 * want_empty): 0 or -ENOMEM. */
int prun__growbuf_take(struct prun_growbuf *g, prun_buf *dst, int want_empty);
/* The first n unread bytes are handed out; once all are, the buffer
 * starts again at its front, at no cost.  (Inline: once per line.) */
static inline void prun__growbuf_consume(struct prun_growbuf *g, size_t n)
{
    g->head += n;
    if (g->head == g->buf.len) {
        g->head = g->buf.len = 0;
        g->buf.data[0] = '\0';
    }
}
/* Moves the unread bytes to the front: head becomes 0. */
void prun__growbuf_compact(struct prun_growbuf *g);
void prun__growbuf_free(struct prun_growbuf *g);

/* ---- fd.c ---- */

void prun__close(int *fd);                 /* closes *fd if >= 0 and sets it to -1 */
int prun__pipe(int fds[2]);                /* close-on-exec; 0, or -errno with fds -1 */
int prun__set_nonblock(int fd, int on, int *was); /* 0 or -errno; *was: O_NONBLOCK before */
int prun__fd_is_open(int fd);
void prun__grow_pipe(int fd);              /* to BIG_PIPE bytes, best effort */

enum { PRUN_BIG_PIPE = 1024 * 1024 };

/* SIGPIPE blocked in the calling thread around writes to a child's pipe
 * (see fd.c). */
struct prun_sigpipe_guard {
    int blocked, ours;
    sigset_t old;
};
int prun__sigpipe_block(struct prun_sigpipe_guard *g);  /* 1, or 0: not blocked, do not write */
void prun__sigpipe_restore(struct prun_sigpipe_guard *g);
/* One write, EINTR retried: a count, or -errno (-EPIPE with its SIGPIPE
 * consumed, -EAGAIN). */
ssize_t prun__write_pipe(int fd, const void *data, size_t len, const struct prun_sigpipe_guard *g);

/* ---- clock.c ---- */

int64_t prun__deadline(int timeout_ms);    /* PRUN_NO_DEADLINE for a negative timeout */

/* ---- opts.c ---- */

/* A caller's prun_opts of opts_size bytes as this library's: the missing
 * tail zero, an unknown tail refused unless it is zero.  NULL: all zero. */
int prun__opts_in(prun_opts *dst, const prun_opts *src, size_t opts_size);
/* Whether the caller's structure of `size` bytes can be written. */
int prun__out_size_ok(size_t size, size_t min_size, const char *type);
/* Writes src to the caller's dst: as much as both know, the rest zero. */
void prun__struct_out(void *dst, size_t dst_size, const void *src, size_t src_size);
/* What can be checked before anything is created. */
int prun__check_opts(const prun_opts *o);

#define PRUN_RESULT_SIZE_VER0 (offsetof(prun_result, err) + sizeof(prun_buf))
#define PRUN_STAGE_INFO_SIZE_VER0 (offsetof(prun_stage_info, rusage) + sizeof(struct rusage))

/* ---- creds.c ---- */

/* What the child becomes; set_* says which calls it makes. */
struct prun_creds {
    int set_uid, set_gid, set_groups;
    uid_t uid;
    gid_t gid;
    gid_t *groups;
    size_t n_groups;
};

int prun__creds_resolve(struct prun_creds *c, const prun_opts *o);
void prun__creds_free(struct prun_creds *c);

/* ---- child.c ---- */

/* Where a child's standard stream comes from, besides a real fd (>= 0). */
enum {
    PRUN_SRC_INHERIT = -1,
    PRUN_SRC_DEVNULL = -2,
    PRUN_SRC_STDOUT = -3, /* stderr only: a copy of the child's stdout */
};

/* The step of the child's setup that failed, for the message. */
enum prun__step {
    PRUN__STEP_NONE = 0,
    PRUN__STEP_SIGNALS,
    PRUN__STEP_SETSID,
    PRUN__STEP_SETPGID,
    PRUN__STEP_TTY,
    PRUN__STEP_RLIMIT,     /* detail: the index in rlimits[] */
    PRUN__STEP_SETGROUPS,
    PRUN__STEP_SETGID,
    PRUN__STEP_SETUID,
    PRUN__STEP_PDEATHSIG,
    PRUN__STEP_CLOSE_FDS,
    PRUN__STEP_DEVNULL,    /* detail: the stream */
    PRUN__STEP_DUP,        /* detail: the stream */
    PRUN__STEP_PASS_FDS,   /* detail: the fd */
    PRUN__STEP_CHDIR,
    PRUN__STEP_EXEC,
};

enum { PRUN_CHILD_STACK = 8192 };

/* Everything a child does, prepared by the parent (spawn.c), so that the
 * child only makes system calls. */
struct prun_child_plan {
    char *const *argv;
    char *const *envp;
    const char *const *candidates; /* the paths to exec, in order, NULL-terminated */
    int src[3];                    /* the child's fds 0, 1, 2: an fd or a PRUN_SRC_* value */
    int reopen[3];                 /* src[i] is reopened after the unshare, from reopen_path[i] */
    int reopen_flags[3];
    char reopen_path[3][48];       /* /proc/PARENT/fd/N */
    int close_fds;                 /* only 0, 1, 2 and keep[] reach the program */
    int table_shared;              /* CLONE_FILES: unshared from first_unneeded up */
    unsigned first_unneeded;       /* above every fd the child needs */
    int all_closed;                /* the unshare left nothing but 0-2 to close (child) */
    const int *keep;               /* pass_fds above 2, sorted, each once */
    size_t n_keep;
    int new_session;
    pid_t pgroup;                  /* -1: the caller's group, 0: lead a new one, >0: join it */
    int take_tty;
    int signals;                   /* PRUN_SIGNALS_* */
    int handlers_cleared;          /* by CLONE_CLEAR_SIGHAND */
    unsigned long sigmask;         /* the kernel's 64-bit mask the child ends with */
    const struct prun_creds *creds;
    int set_umask;
    mode_t umask;
    const struct prun_rlimit *rlimits;
    size_t n_rlimits;
    int pdeathsig;
    pid_t parent_pid;
    const char *cwd;
    struct {
        int step, detail, err;     /* written by the child */
    } failure;
    char stack[PRUN_CHILD_STACK] __attribute__((aligned(16)));
};

/* 0 with the child started (which may have failed a step: plan->failure,
 * and then it must be reaped with prun__child_reap_failed), or -errno. */
int prun__child_clone3(struct prun_child_plan *plan, pid_t *pid, int *pidfd);
int prun__child_clone(struct prun_child_plan *plan, pid_t *pid, int *pidfd);
void prun__child_reap_failed(pid_t pid, int pidfd);

/* ---- spawn_posix.c ---- */

/* The plan through posix_spawn(3): everything but credentials, umask,
 * rlimits and pdeathsig.  A failure is in plan->failure, as for a
 * cloned child, and needs no reaping. */
int prun__posix_spawn(struct prun_child_plan *plan, pid_t *pid);

/* ---- spawn.c ---- */

/* One child to start: a popen's, or a stage of a pipeline. */
struct prun_spawn_req {
    char *const *argv;
    const prun_opts *opts;
    const struct prun_creds *creds;
    int src[3];    /* the child's fds 0, 1, 2: an fd or a PRUN_SRC_* value */
    int own_pipe[3]; /* src[i] is an end of a pipe the library made */
    pid_t pgroup;  /* -1: stay in the caller's group, 0: lead a new one, >0: join it */
    int take_tty;  /* make the child's group the terminal's foreground group */
};

/* A started child.  reaped_elsewhere: it was reaped by another reaper
 * before its pidfd existed (posix_spawn only); its status is lost. */
struct prun_spawned {
    pid_t pid;
    int pidfd;     /* -1 where pidfds are missing */
    int reaped_elsewhere;
};

int prun__spawn(const struct prun_spawn_req *req, struct prun_spawned *out);

/* ---- proc.c ---- */

struct prun_child {
    pid_t pid;
    int pidfd;             /* -1 where pidfds are missing */
    int reaped;            /* the fields below are final */
    int status_lost;       /* reaped by another reaper, beyond recovery: -ECHILD */
    int returncode;        /* exit status, or -N for death by signal N */
    int core_dumped;
    int rusage_known;      /* not for a status recovered after another reaper's wait */
    int exit_seen;         /* atomic: a poll found its pidfd readable (prun_wait_any) */
    struct rusage rusage;
    pthread_mutex_t lock;  /* serialises reaping and signalling */
    char name[64];         /* argv[0], for messages */
};

void prun__child_init(struct prun_child *c, const struct prun_spawned *s, const char *name);
void prun__child_destroy(struct prun_child *c);
int prun__child_reap(struct prun_child *c);   /* 1 reaped, 0 running, <0 */
int prun__child_is_reaped(struct prun_child *c); /* without trying to reap */
/* Reaps c if no one has: 1 this call reaped it, 0 running or reaped
 * already (by another thread), <0. */
int prun__child_claim(struct prun_child *c);
/* Sleeps until c exits or the deadline: 1 reaped, 0 deadline, <0. */
int prun__child_wait(struct prun_child *c, int64_t deadline);
/* Signals c unless it has been reaped: 0 or -errno. */
int prun__child_signal(struct prun_child *c, int sig);
/* Signals the process group pgid while c, a member, is unreaped (which
 * keeps the id from being reused): 1 sent, 0 c was reaped, or -errno. */
int prun__child_signal_group(struct prun_child *c, pid_t pgid, int sig);

/* ---- streams.c ---- */

/* The caller's ends of the standard pipes, and what communicate keeps
 * between calls (it resumes after a timeout). */
struct prun_streams {
    int fd[3];                     /* stdin (write end), stdout, stderr (read ends); -1: none */
    int is_pipe[3];                /* the stream was a pipe: its output is "" rather than NULL */
    int at_eof[3];                 /* stdout, stderr: closed because it ended */
    int64_t grace_end;             /* every child seen to exit: the grace period ends then */
    int started;                   /* communicate has begun */
    int finished;                  /* communicate has handed the output over */
    const char *input;             /* the unsent input: the caller's, or input_copy */
    char *input_copy;              /* kept across a timeout, when the caller's may be gone */
    size_t input_len, input_sent;
    struct prun_growbuf output[2]; /* stdout and stderr since the first call */
    int pipe_grown[2];             /* F_SETPIPE_SZ already tried on this stream */
    /* from prun_opts, fixed at the start */
    size_t max_output;
    prun_output_fn on_output;
    void *userdata;
    int grace_ms;
};

void prun__streams_init(struct prun_streams *io, const prun_opts *o);
/* Pipes and sources for the child's streams per o: src[] for the spawn,
 * the child's pipe ends in child_end[] (the caller closes them once the
 * child has its copies), the caller's ends in io. */
int prun__streams_open(struct prun_streams *io, const prun_opts *o, int src[3], int child_end[3]);
void prun__streams_close(struct prun_streams *io);
/* Hands the output over: "" for a pipe that gave nothing (unless
 * on_output took it), NULL for a stream that was not a pipe.  Either
 * destination may be NULL.  0, or -ENOMEM for the "". */
int prun__streams_take_output(struct prun_streams *io, prun_buf *out, prun_buf *err);

/* ---- group.c ---- */

struct prun_group {
    size_t n;
    pid_t pgid;            /* >0: the children's process group, signalled as one */
    int holds_tty;         /* the group is the terminal's foreground group: give it back */
    int pipefail;
    struct prun_streams io;
    struct prun_child child[];
};

/* What to start: n argv vectors, stdout of each to stdin of the next. */
struct prun_group_spec {
    size_t n;
    char *const *const *stages;
    const prun_opts *opts;
    int new_pgroup;        /* the children share a new group led by the first */
    int take_tty;          /* and it takes the terminal */
};

/* The stages and options of a pipeline; *failed names a bad stage. */
int prun__group_check(size_t n, char *const *const stages[], const prun_opts *o, size_t *failed);
/* On failure *failed is the stage that could not start; nothing is left. */
int prun__group_start(struct prun_group **out, const struct prun_group_spec *spec, size_t *failed);
int prun__group_reap(struct prun_group *g);   /* 1 all reaped, 0 not yet, <0 */
/* 0 all reaped, PRUN_ETIMEOUT, or <0. */
int prun__group_wait(struct prun_group *g, int64_t deadline);
/* The process group when there is one (to_group), else each child. */
int prun__group_signal(struct prun_group *g, int sig, int to_group);
/* SIGKILL to all, then reaped: what a timeout or a failure ends with.
 * If no way of killing works, -errno, and nothing was waited for. */
int prun__group_kill_and_reap(struct prun_group *g);
int prun__group_status(const struct prun_group *g, int pipefail);
void prun__group_give_back_tty(struct prun_group *g);
void prun__group_free(struct prun_group *g);
/* Frees g without waiting for its children (which could not be killed). */
void prun__group_abandon(struct prun_group *g);

/* The public handles are names for a group. */
static inline struct prun_group *prun__proc_group(const prun_proc *p)
{
    return (struct prun_group *)(uintptr_t)p;
}
static inline struct prun_group *prun__pipeline_group(const prun_pipeline *pl)
{
    return (struct prun_group *)(uintptr_t)pl;
}

/* ---- communicate.c ---- */

enum prun_resume {
    PRUN_RESUMABLE,        /* a timeout keeps what a later call needs */
    PRUN_FINAL,            /* the caller kills at a timeout: keep nothing */
};

int prun__communicate(struct prun_group *g, const void *input, size_t input_len, int timeout_ms,
                      enum prun_resume resume, prun_buf *out, prun_buf *err);

#endif
