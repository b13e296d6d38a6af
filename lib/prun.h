/* SPDX-License-Identifier: MIT */
/* prun.h - run child processes from C, the way Python's subprocess does.
 *
 * The only header users include.  Every function returns 0 (or a count)
 * on success and a negative number on failure: -errno for system errors,
 * or one of the PRUN_E* codes below, which no errno value can collide
 * with.  prun_strerror() names any of them; prun_last_error() gives the
 * last failure of the calling thread as a sentence naming the program or
 * path involved.  See libprun(3).
 *
 * Timeouts: a timeout_ms argument of a function is poll()'s: -1
 * (PRUN_FOREVER) waits as long as it takes, 0 does not wait.  The
 * timeout_ms field of prun_opts is Python's run(timeout=): 0 means no
 * timeout at all.  Both are kept for what they match; libprun(3) says it
 * again where the two meet.
 *
 * ABI: the structures the library reads (prun_opts) or writes
 * (prun_result, prun_stage_info) grow only at their end, and every call
 * that takes one passes its size, the way the kernel's clone3() and
 * openat2() do: the macros below append the sizeof()s to the caller's
 * arguments (variadic, so that a compound literal argv still passes).  A
 * program built against an older prun.h keeps working with a newer
 * libprun; one built against a newer prun.h that sets an option this
 * library does not know gets -E2BIG and a sentence, never silence.
 * prun_buf never grows.  See "ABI and versioning" in libprun(3).
 */
#ifndef PRUN_H
#define PRUN_H

#include <stddef.h>
#include <stdint.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/resource.h>
#if defined(__GLIBC__) && !defined(__USE_POSIX)
#include <bits/types/sigset_t.h> /* sigset_t in strict ISO C modes too (-std=c11) */
#endif

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define PRUN_EXPORT __attribute__((visibility("default")))
#else
#define PRUN_EXPORT
#endif

/* The version of this header; prun_version() gives the library's. */
#define PRUN_VERSION "2.0.0"
#define PRUN_VERSION_MAJOR 2
#define PRUN_VERSION_MINOR 0
#define PRUN_VERSION_PATCH 0

/* Library error codes: far below any -errno. */
enum {
    PRUN_ETIMEOUT = -10001, /* the timeout expired */
    PRUN_ECHECK = -10002,   /* check: the child's returncode was nonzero */
    PRUN_ETOOBIG = -10003,  /* an output stream exceeded max_output */
};

/* Timeout value meaning "wait as long as it takes". */
#define PRUN_FOREVER (-1)

typedef struct prun_proc prun_proc;         /* opaque, like subprocess.Popen */
typedef struct prun_pipeline prun_pipeline; /* opaque: N processes, stdout to stdin */

enum prun_io {
    PRUN_INHERIT = 0, /* the child shares the caller's stream */
    PRUN_PIPE,        /* a new pipe; the caller's end is prun_stdin() etc. */
    PRUN_DEVNULL,     /* /dev/null */
    PRUN_STDOUT,      /* stderr only: wherever stdout goes (2>&1) */
    PRUN_FD,          /* the caller's fd in stdin_fd / stdout_fd / stderr_fd */
};

/* Bytes the library hands over.  Frozen: it never grows. */
typedef struct prun_buf {
    char *data; /* NUL-terminated (the NUL is not counted in len), or NULL */
    size_t len;
} prun_buf;

/* Called with output as it arrives when prun_opts.on_output is set.
 * stream is 1 (stdout) or 2 (stderr).  A nonzero return stops reading,
 * kills the child, and is what the call returns. */
typedef int (*prun_output_fn)(void *userdata, int stream, const char *data, size_t len);

/* All-zero (or a NULL pointer) = subprocess's defaults.  New fields are
 * only ever appended, in whole 8-byte units, so the structure has no
 * padding at its end. */
typedef struct prun_opts {
    enum prun_io stdin_io, stdout_io, stderr_io;
    int stdin_fd, stdout_fd, stderr_fd; /* the fd to use with PRUN_FD */
    const char *executable;          /* run this program; argv[0] is only the name it sees */
    int shell;                       /* argv[0] is a /bin/sh -c command line; argv[1..] are $0, $1, ... */
    const char *cwd;                 /* NULL: the caller's */
    char *const *env;                /* NULL: the caller's environ; else the whole environment */
    int keep_fds;                    /* nonzero: do not close other fds (close_fds=False) */
    const int *pass_fds;             /* fds kept open in the child although keep_fds is 0 */
    size_t n_pass_fds;
    int new_session;                 /* setsid() in the child */
    int new_pgroup;                  /* the child leads a new process group */
    int timeout_ms;                  /* run/call wrappers: 0 means NO timeout (not "do not wait") */

    /* run / call / check_* */
    const void *input;               /* fed to stdin through a pipe */
    size_t input_len;
    int capture_output;              /* stdout and stderr both PRUN_PIPE */
    int check;                       /* a nonzero returncode becomes PRUN_ECHECK */

    /* communicate (recorded by prun_popen, used by every communicate) */
    size_t max_output;               /* per stream; 0 = unlimited; beyond it: kill, PRUN_ETOOBIG */
    prun_output_fn on_output;        /* stream output here instead of buffering it */
    void *userdata;                  /* passed to on_output */
    int grace_ms;                    /* read this long after the child exits; 0 = 100 ms */

    /* pipelines */
    int keep_pgroup;                 /* do not put the stages in a new process group */
    int pipefail;                    /* the status is the rightmost nonzero stage's */
    int take_tty;                    /* the new group becomes the foreground job of the terminal on fd 0 */

    /* libprun 2.0: the rest of Python's Popen, and more (libprun(3)) */
    const char *user;                /* a name or decimal uid: that user, with its groups */
    const char *group;               /* a name or decimal gid: the child's group */
    const char *const *extra_groups; /* NULL-terminated: the supplementary groups; {NULL} clears them */
    int umask;                       /* 0: the caller's; PRUN_UMASK(m) sets m */
    int signals;                     /* PRUN_SIGNALS_RESTORE (0), _KEEP or _DEFAULT */
    int pdeathsig;                   /* the signal the child gets when the starting thread ends */
    int reserved0;                   /* zero: room for a later int option */
    const struct prun_rlimit *rlimits; /* set in the child, in order */
    size_t n_rlimits;
    const sigset_t *sigmask;         /* the child's signal mask; NULL: empty */
} prun_opts;

/* umask: PRUN_UMASK(022), PRUN_UMASK(0); a bare nonzero value is -EINVAL. */
#define PRUN_UMASK(mode) (0x40000000 | ((mode) & 0777))

/* signals: what becomes of the caller's dispositions in the child.  Its
 * signal mask is empty unless sigmask says otherwise, and handlers never
 * survive exec. */
enum {
    PRUN_SIGNALS_RESTORE = 0, /* SIGPIPE, SIGXFSZ back to default; other ignored ones stay (Python's restore_signals) */
    PRUN_SIGNALS_KEEP = 1,    /* every ignored signal stays ignored (restore_signals=False) */
    PRUN_SIGNALS_DEFAULT = 2, /* every signal at its default (libprun 1.0) */
};

/* One resource limit for the child: setrlimit(resource, &limit). */
struct prun_rlimit {
    int resource;             /* RLIMIT_NOFILE, RLIMIT_CORE, ... */
    struct rlimit limit;
};

/* The library: its version at run time ("2.0.0"), beside PRUN_VERSION. */
PRUN_EXPORT const char *prun_version(void);

/* Process handles: prun_popen(3), prun_wait(3). */
PRUN_EXPORT int prun_popen_sized(prun_proc **out, char *const argv[], const prun_opts *opts,
                                 size_t opts_size);
#define prun_popen(...) prun_popen_sized(__VA_ARGS__, sizeof(prun_opts))
PRUN_EXPORT pid_t prun_pid(const prun_proc *p);
PRUN_EXPORT int prun_stdin(const prun_proc *p);  /* the caller's end of a PRUN_PIPE stream, else -1 */
PRUN_EXPORT int prun_stdout(const prun_proc *p);
PRUN_EXPORT int prun_stderr(const prun_proc *p);
PRUN_EXPORT int prun_close_stream(prun_proc *p, int stream); /* 0, 1 or 2: close the caller's end */
PRUN_EXPORT int prun_poll(prun_proc *p, int *returncode);     /* 1 exited, 0 running, <0 error */
PRUN_EXPORT int prun_wait(prun_proc *p, int timeout_ms, int *returncode); /* 0, PRUN_ETIMEOUT, <0 */
PRUN_EXPORT const struct rusage *prun_rusage(const prun_proc *p); /* NULL until the child is reaped */
PRUN_EXPORT int prun_send_signal(prun_proc *p, int sig); /* after the child was reaped: 0, nothing sent */
PRUN_EXPORT int prun_terminate(prun_proc *p);            /* SIGTERM */
PRUN_EXPORT int prun_kill(prun_proc *p);                 /* SIGKILL */
PRUN_EXPORT void prun_free(prun_proc *p);                /* closes the caller's pipe ends, waits, frees */
PRUN_EXPORT int prun_pidfd(const prun_proc *p);          /* readable once the child has exited; -1: none */

/* communicate: prun_communicate(3). */
PRUN_EXPORT int prun_communicate(prun_proc *p, const void *input, size_t input_len, int timeout_ms,
                                 prun_buf *out, prun_buf *err); /* 0, PRUN_ETIMEOUT, or <0 */

/* A little at a time: prun_read(3).  stream is 1 (stdout) or 2 (stderr);
 * what prun_readline reads ahead comes first, in prun_read and in
 * prun_communicate. */
PRUN_EXPORT int prun_write(prun_proc *p, const void *data, size_t len, int timeout_ms,
                           size_t *written);  /* 0, PRUN_ETIMEOUT, -EPIPE, <0 */
PRUN_EXPORT ssize_t prun_read(prun_proc *p, int stream, void *buf, size_t len, int timeout_ms);
PRUN_EXPORT int prun_readline(prun_proc *p, int stream, int timeout_ms, prun_buf *line); /* 1, 0 EOF */
/* Whichever of procs[] exits first: 0 with *index, PRUN_ETIMEOUT, -ECHILD when none is left. */
PRUN_EXPORT int prun_wait_any(prun_proc *const procs[], size_t n, int timeout_ms, size_t *index,
                              int *returncode);

/* One-call forms: prun_run(3). */
typedef struct prun_result {
    int returncode;
    prun_buf out, err;
} prun_result;

PRUN_EXPORT int prun_run_sized(char *const argv[], const prun_opts *opts, prun_result *res,
                               size_t opts_size, size_t res_size);
#define prun_run(...) prun_run_sized(__VA_ARGS__, sizeof(prun_opts), sizeof(prun_result))
PRUN_EXPORT void prun_result_free(prun_result *res);
PRUN_EXPORT int prun_call_sized(char *const argv[], const prun_opts *opts, int *returncode,
                                size_t opts_size);
#define prun_call(...) prun_call_sized(__VA_ARGS__, sizeof(prun_opts))
PRUN_EXPORT int prun_check_call_sized(char *const argv[], const prun_opts *opts, size_t opts_size);
#define prun_check_call(...) prun_check_call_sized(__VA_ARGS__, sizeof(prun_opts))
PRUN_EXPORT int prun_check_output_sized(char *const argv[], const prun_opts *opts, prun_buf *out,
                                        size_t opts_size);
#define prun_check_output(...) prun_check_output_sized(__VA_ARGS__, sizeof(prun_opts))
PRUN_EXPORT int prun_getstatusoutput(const char *cmd, int *status, prun_buf *out);
PRUN_EXPORT char *prun_getoutput(const char *cmd); /* free() the result; NULL on error */

/* Pipelines: prun_pipeline(3).  opts->stdin_io applies to the first
 * stage, stdout_io to the last, stderr_io to every stage. */
typedef struct prun_stage_info {
    pid_t pid;
    int exited;                /* 1 once reaped: the fields below are set */
    int returncode;            /* exit status, or -N for death by signal N */
    int core_dumped;
    struct rusage rusage;
    /* libprun 2.0 */
    int status_lost;           /* another reaper took its status: returncode is not its own */
    int has_rusage;            /* rusage is the stage's (not after another reaper's wait) */
} prun_stage_info;

PRUN_EXPORT int prun_pipeline_start_sized(prun_pipeline **out, size_t n_stages,
                                          char *const *const stages[], const prun_opts *opts,
                                          size_t *failed_stage, size_t opts_size);
#define prun_pipeline_start(...) prun_pipeline_start_sized(__VA_ARGS__, sizeof(prun_opts))
PRUN_EXPORT size_t prun_pipeline_size(const prun_pipeline *pl);
PRUN_EXPORT pid_t prun_pipeline_pgid(const prun_pipeline *pl); /* 0 with keep_pgroup */
PRUN_EXPORT int prun_pipeline_stdin(const prun_pipeline *pl);
PRUN_EXPORT int prun_pipeline_stdout(const prun_pipeline *pl);
PRUN_EXPORT int prun_pipeline_stderr(const prun_pipeline *pl);
PRUN_EXPORT int prun_pipeline_close_stream(prun_pipeline *pl, int stream);
PRUN_EXPORT int prun_pipeline_poll(prun_pipeline *pl, int *status);
PRUN_EXPORT int prun_pipeline_wait(prun_pipeline *pl, int timeout_ms, int *status);
PRUN_EXPORT int prun_pipeline_communicate(prun_pipeline *pl, const void *input, size_t input_len,
                                          int timeout_ms, prun_buf *out, prun_buf *err);
PRUN_EXPORT int prun_pipeline_write(prun_pipeline *pl, const void *data, size_t len,
                                    int timeout_ms, size_t *written);
PRUN_EXPORT ssize_t prun_pipeline_read(prun_pipeline *pl, int stream, void *buf, size_t len,
                                       int timeout_ms);
PRUN_EXPORT int prun_pipeline_readline(prun_pipeline *pl, int stream, int timeout_ms,
                                       prun_buf *line);
PRUN_EXPORT int prun_pipeline_send_signal(prun_pipeline *pl, int sig);
PRUN_EXPORT int prun_pipeline_terminate(prun_pipeline *pl);
PRUN_EXPORT int prun_pipeline_kill(prun_pipeline *pl);
PRUN_EXPORT int prun_pipeline_status(const prun_pipeline *pl, int pipefail);
PRUN_EXPORT int prun_pipeline_stage_sized(const prun_pipeline *pl, size_t i, prun_stage_info *info,
                                          size_t info_size);
#define prun_pipeline_stage(...) prun_pipeline_stage_sized(__VA_ARGS__, sizeof(prun_stage_info))
PRUN_EXPORT int prun_pipeline_has_tty(const prun_pipeline *pl); /* 1 while its group holds the terminal */
PRUN_EXPORT int prun_pipeline_pidfd(const prun_pipeline *pl, size_t i); /* stage i's pidfd, or -1 */
PRUN_EXPORT void prun_pipeline_free(prun_pipeline *pl);
PRUN_EXPORT int prun_pipeline_run_sized(size_t n_stages, char *const *const stages[],
                                        const prun_opts *opts, prun_result *res,
                                        size_t opts_size, size_t res_size);
#define prun_pipeline_run(...) \
    prun_pipeline_run_sized(__VA_ARGS__, sizeof(prun_opts), sizeof(prun_result))

/* The clock of every timeout (CLOCK_MONOTONIC), for callers that keep
 * deadlines of their own: prun_clock_ns(3). */
#define PRUN_NO_DEADLINE INT64_MAX
PRUN_EXPORT int64_t prun_clock_ns(void);
PRUN_EXPORT int prun_ms_until(int64_t deadline_ns); /* poll()'s timeout: -1 for PRUN_NO_DEADLINE */

/* The caller's process tree, for a supervisor such as prun(1) that made
 * itself a child subreaper: prun_signal_descendants(3). */
PRUN_EXPORT int prun_signal_descendants(int sig);        /* every process below the caller: how many */
PRUN_EXPORT int prun_reap_adopted(const prun_pipeline *keep); /* exited children not of keep: how many */

/* Checks: prun_check_cwd(3). */
PRUN_EXPORT int prun_check_cwd(const char *dir); /* 0 if a child could start in dir, else -errno */

/* Errors: libprun(3). */
PRUN_EXPORT const char *prun_strerror(int err);
PRUN_EXPORT const char *prun_last_error(void);
/* Which step of starting a process the calling thread's last failure
 * was, or PRUN_STEP_NONE if it was not one: prun_last_error(3). */
enum {
    PRUN_STEP_NONE = 0,        /* not a step: a bad argument, no memory, a timeout... */
    PRUN_STEP_EXEC = 1,        /* the program: not found, not executable, not an executable format */
    PRUN_STEP_CWD = 2,         /* changing to cwd */
    PRUN_STEP_CREDENTIALS = 3, /* user, group, extra_groups: looking them up or taking them */
    PRUN_STEP_RLIMITS = 4,     /* setting one of rlimits */
    PRUN_STEP_FDS = 5,         /* the standard streams, pass_fds, closing the others */
    PRUN_STEP_SIGNALS = 6,     /* the dispositions, sigmask, pdeathsig */
    PRUN_STEP_SESSION = 7,     /* new_session, the process group, the terminal */
};
PRUN_EXPORT int prun_last_error_step(void);
PRUN_EXPORT void prun_buf_free(prun_buf *b);

#ifdef __cplusplus
}
#endif

#endif /* PRUN_H */
