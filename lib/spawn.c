/* SPDX-License-Identifier: MIT */
/* spawn.c - starting one child: everything it will do is worked out here
 * in the caller (the program's candidate paths, its fds, its
 * credentials), then one engine carries it out:
 *
 *   clone3 (child.c)      the engine: a pidfd from the clone itself,
 *                         handlers cleared by the kernel, the fd table
 *                         shared until the child unshares what it needs;
 *   posix_spawn           where clone3 is missing, or refused with ENOSYS
 *   (spawn_posix.c)       or EINVAL (Linux < 5.3, < 5.5, seccomp);
 *   clone (child.c)       for what posix_spawn cannot express (user,
 *                         groups, umask, rlimits, pdeathsig, fds above
 *                         the soft RLIMIT_NOFILE) there, and for
 *                         everything where clone3 is refused with EPERM
 *                         (glibc's posix_spawn would fail too).
 *
 * A failed setup step is reported as that step, with its errno.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

extern char **environ;

/* What a plan allocates: the candidate paths and their pointers, the
 * kept fds, the shell's argv. */
struct plan_memory {
    char *paths;
    const char **candidates;
    int *keep;
    char **shell_argv;
};

static const char *env_get(char *const *env, const char *name)
{
    size_t len = strlen(name);
    for (; env && *env; env++)
        if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
            return *env + len + 1;
    return NULL;
}

/* The paths to try: the name itself if it has a slash, else each PATH
 * directory in turn (an empty entry is the child's cwd; PATH defaults to
 * /bin:/usr/bin, as in CPython), leaving out those too long to exist. */
static int plan_candidates(struct plan_memory *m, const char *prog, char *const *envp)
{
    size_t plen = strlen(prog), n = 1, room = 0;
    const char *path = strchr(prog, '/') ? NULL : env_get(envp, "PATH");
    if (!strchr(prog, '/') && !path)
        path = "/bin:/usr/bin";
    for (const char *p = path; p && *p; p++)
        n += *p == ':';
    room = path ? strlen(path) + n * (plen + 2) : plen + 1;
    m->paths = malloc(room);
    m->candidates = malloc((n + 1) * sizeof *m->candidates);
    if (!m->paths || !m->candidates)
        return -ENOMEM;
    size_t k = 0;
    char *out = m->paths;
    if (!path) {
        memcpy(out, prog, plen + 1);
        m->candidates[k++] = out;
    }
    for (const char *dir = path; dir; dir = *dir ? dir + 1 : NULL) {
        const char *end = strchrnul(dir, ':');
        size_t dlen = (size_t)(end - dir);
        if (dlen + 1 + plen < PATH_MAX) {
            m->candidates[k++] = out;
            if (dlen) {
                memcpy(out, dir, dlen);
                out[dlen] = '/';
                out += dlen + 1;
            }
            memcpy(out, prog, plen + 1);
            out += plen + 1;
        }
        dir = end;
    }
    m->candidates[k] = NULL;
    return 0;
}

/* pass_fds above 2, sorted and each once (the child closes the gaps). */
static int plan_keep(struct plan_memory *m, struct prun_child_plan *plan, const prun_opts *o)
{
    if (!o->n_pass_fds)
        return 0;
    if (!(m->keep = malloc(o->n_pass_fds * sizeof *m->keep)))
        return -ENOMEM;
    size_t n = 0;
    for (size_t i = 0; i < o->n_pass_fds; i++) {
        int fd = o->pass_fds[i];
        size_t j = n;
        if (fd < 3)
            continue;
        while (j > 0 && m->keep[j - 1] > fd)
            j--;
        if (j > 0 && m->keep[j - 1] == fd)
            continue;
        memmove(&m->keep[j + 1], &m->keep[j], (n - j) * sizeof *m->keep);
        m->keep[j] = fd;
        n++;
    }
    plan->keep = m->keep;
    plan->n_keep = n;
    return 0;
}

/* Shell mode: argv[0] is the command line, argv[1..] become $0, $1, ... */
static int plan_shell(struct plan_memory *m, char *const argv[], const char *sh)
{
    size_t n = 0;
    while (argv[n])
        n++;
    if (!(m->shell_argv = malloc((n + 3) * sizeof *m->shell_argv)))
        return -ENOMEM;
    m->shell_argv[0] = (char *)sh;
    m->shell_argv[1] = (char *)"-c";
    memcpy(m->shell_argv + 2, argv, (n + 1) * sizeof *m->shell_argv);
    return 0;
}

/* Copying a descriptor table costs about 0.1 us a descriptor; reopening a
 * pipe end through /proc a few us.  Above this, the child unshares only
 * fds 0-2 and reopens the library's own pipes instead. */
enum { REOPEN_FROM = 256 };

/* Whether the child may open /proc/PARENT/fd/N: /proc is there and the
 * caller is dumpable (the ptrace check of /proc/PID/fd).  The child
 * checks each path again before it gives up the shared table. */
static int can_reopen(pid_t self)
{
    char path[48];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)self);
    return prctl(PR_GET_DUMPABLE) == 1 && access(path, X_OK) == 0;
}

/* The fds the child needs above 2 set where the unshare starts: above
 * the highest, but for the library's own pipe ends where that is high,
 * which the child reopens (so the cost stays flat in the caller's fds). */
static void plan_fds(struct prun_child_plan *plan, const struct prun_spawn_req *req)
{
    int top = plan->n_keep ? plan->keep[plan->n_keep - 1] : 2;
    int high_pipe = 0;
    for (int i = 0; i < 3; i++)
        high_pipe |= req->own_pipe[i] && plan->src[i] >= REOPEN_FROM;
    if (high_pipe)
        plan->parent_pid = getpid();
    int reopen = plan->table_shared && high_pipe && can_reopen(plan->parent_pid);
    for (int i = 0; i < 3; i++) {
        int s = plan->src[i];
        if (reopen && req->own_pipe[i] && s >= REOPEN_FROM) {
            plan->reopen[i] = 1;
            plan->reopen_flags[i] = (i == 0 ? O_RDONLY : O_WRONLY) | O_NONBLOCK | O_CLOEXEC;
            snprintf(plan->reopen_path[i], sizeof plan->reopen_path[i], "/proc/%d/fd/%d",
                     (int)plan->parent_pid, s);
        } else if (s > top)
            top = s;
    }
    plan->first_unneeded = (unsigned)top + 1;
    plan->close_fds = plan->table_shared;
}

static int make_plan(struct prun_child_plan *plan, struct plan_memory *m,
                     const struct prun_spawn_req *req, const char **prog)
{
    const prun_opts *o = req->opts;
    char *const *envp = o->env ? o->env : environ;
    int r;
    *prog = o->executable ? o->executable : o->shell ? "/bin/sh" : req->argv[0];
    if (o->shell && (r = plan_shell(m, req->argv, *prog)))
        return r;
    if ((r = plan_candidates(m, *prog, envp)) || (r = plan_keep(m, plan, o)))
        return r;
    plan->argv = o->shell ? m->shell_argv : req->argv;
    plan->envp = envp;
    plan->candidates = m->candidates;
    memcpy(plan->src, req->src, sizeof plan->src);
    plan->table_shared = !o->keep_fds;
    plan_fds(plan, req);
    plan->new_session = o->new_session;
    plan->pgroup = req->pgroup;
    plan->take_tty = req->take_tty;
    plan->signals = o->signals;
    if (o->sigmask)  /* the kernel's first 64 signals are the first word of glibc's sigset_t */
        memcpy(&plan->sigmask, o->sigmask, sizeof plan->sigmask);
    plan->creds = req->creds;
    plan->set_umask = o->umask != 0;
    plan->umask = (mode_t)(o->umask & 0777);
    plan->rlimits = o->rlimits;
    plan->n_rlimits = o->n_rlimits;
    plan->pdeathsig = o->pdeathsig;
    if (plan->pdeathsig && !plan->parent_pid)
        plan->parent_pid = getpid();
    plan->cwd = o->cwd;
    return 0;
}

static void free_plan(struct plan_memory *m)
{
    free(m->paths);
    free(m->candidates);
    free(m->keep);
    free(m->shell_argv);
}

/* After posix_spawn (or clone before Linux 5.2) the pidfd comes later,
 * and another reaper may have taken the child already: ESRCH; or even
 * let its pid go to a new process, which is no child of ours (waitid
 * says ECHILD).  Either way its status is lost.  ENOSYS: no pidfds. */
static void open_pidfd(struct prun_spawned *s)
{
    siginfo_t si;
    s->pidfd = (int)syscall(SYS_pidfd_open, s->pid, 0);
    if (s->pidfd < 0) {
        s->reaped_elsewhere = errno == ESRCH;
        return;
    }
    if (waitid((idtype_t)3 /* P_PIDFD */, (id_t)s->pidfd, &si,
               WEXITED | WNOHANG | WNOWAIT | __WALL) < 0 && errno == ECHILD) {
        prun__close(&s->pidfd);
        s->reaped_elsewhere = 1;
    }
}

/* What only a cloned child can do. */
static int needs_clone(const struct prun_child_plan *plan)
{
    const struct prun_creds *c = plan->creds;
    return c->set_uid || c->set_gid || c->set_groups || plan->set_umask || plan->n_rlimits ||
           plan->pdeathsig;
}

/* A child that changes its uid or gid while it shares the caller's memory
 * (CLONE_VM) makes that memory non-dumpable, as a setuid does (the
 * kernel's commit_creds): the caller would lose core dumps and its /proc
 * files to same-uid tools.  The caller's setting is put back once the
 * child has exec'd; in between, the caller's other threads see it off.
 * (CPython forks for credentials instead, at the cost of a fork.) */
static int changes_ids(const struct prun_child_plan *plan)
{
    return plan->creds->set_uid || plan->creds->set_gid;
}

static int launch_clone(struct prun_child_plan *plan, pid_t *pid, int *pidfd, int clone3)
{
    int dumpable = changes_ids(plan) ? prctl(PR_GET_DUMPABLE) : -1;
    int r = clone3 ? prun__child_clone3(plan, pid, pidfd) : prun__child_clone(plan, pid, pidfd);
    if (dumpable == 1 && prctl(PR_GET_DUMPABLE) != 1)
        prctl(PR_SET_DUMPABLE, 1);
    return r;
}

/* 0 with the child started (maybe failed: plan->failure), or -errno. */
static int launch(struct prun_child_plan *plan, pid_t *pid, int *pidfd)
{
    int r = launch_clone(plan, pid, pidfd, 1);
    if (r != -ENOSYS && r != -EPERM && r != -EINVAL)
        return r;
    if (r == -EPERM || needs_clone(plan))
        return launch_clone(plan, pid, pidfd, 0);
    pid_t spawned;
    *pidfd = -1;
    if ((r = prun__posix_spawn(plan, &spawned)) == 0)
        *pid = spawned;
    /* EBADF with no step failed: glibc's file actions refused an fd at or
     * above the soft RLIMIT_NOFILE, which the caller may still hold (it
     * was opened before the limit was lowered) and the kernel passes on
     * as clone3 does. */
    if (r == -EBADF && !plan->failure.step)
        return launch_clone(plan, pid, pidfd, 0);
    return plan->failure.step ? 0 : r;
}

static const char *rlimit_name(int resource)
{
    static const char *const names[] = {
        [RLIMIT_AS] = "as", [RLIMIT_CORE] = "core", [RLIMIT_CPU] = "cpu",
        [RLIMIT_DATA] = "data", [RLIMIT_FSIZE] = "fsize", [RLIMIT_LOCKS] = "locks",
        [RLIMIT_MEMLOCK] = "memlock", [RLIMIT_MSGQUEUE] = "msgqueue", [RLIMIT_NICE] = "nice",
        [RLIMIT_NOFILE] = "nofile", [RLIMIT_NPROC] = "nproc", [RLIMIT_RSS] = "rss",
        [RLIMIT_RTPRIO] = "rtprio", [RLIMIT_RTTIME] = "rttime",
        [RLIMIT_SIGPENDING] = "sigpending", [RLIMIT_STACK] = "stack",
    };
    if (resource >= 0 && (size_t)resource < sizeof names / sizeof names[0] && names[resource])
        return names[resource];
    return "unknown";
}

/* The sentence for a failed step; returns -errno. */
static int say_step_error(const struct prun_child_plan *plan, const prun_opts *o, const char *prog)
{
    static const char *const stream[3] = {"stdin", "stdout", "stderr"};
    int err = -plan->failure.err, d = plan->failure.detail;
    const char *s = d >= 0 && d < 3 ? stream[d] : "stream";
    switch (plan->failure.step) {
    case PRUN__STEP_SIGNALS:
        return prun__fail(err, "cannot set the signals of '%s'", prog);
    case PRUN__STEP_SETSID:
        return prun__fail(err, "cannot start a new session for '%s'", prog);
    case PRUN__STEP_SETPGID:
        return prun__fail(err, "cannot put '%s' in process group %d", prog, (int)plan->pgroup);
    case PRUN__STEP_TTY:
        return prun__fail(err, "cannot give the terminal to '%s'", prog);
    case PRUN__STEP_RLIMIT:
        return prun__fail(err, "cannot set the %s limit of '%s'",
                          rlimit_name(plan->rlimits[d].resource), prog);
    case PRUN__STEP_SETGROUPS:
        if (o->user)
            return prun__fail(err, "cannot run '%s' as user '%s'", prog, o->user);
        return prun__fail(err, "cannot set the supplementary groups of '%s'", prog);
    case PRUN__STEP_SETGID:
        if (o->group)
            return prun__fail(err, "cannot run '%s' with group '%s'", prog, o->group);
        return prun__fail(err, "cannot run '%s' as user '%s'", prog, o->user);
    case PRUN__STEP_SETUID:
        return prun__fail(err, "cannot run '%s' as user '%s'", prog, o->user);
    case PRUN__STEP_PDEATHSIG:
        return prun__fail(err, "cannot set the parent-death signal of '%s'", prog);
    case PRUN__STEP_CLOSE_FDS:
        return prun__fail(err, "cannot close the other file descriptors of '%s'", prog);
    case PRUN__STEP_DEVNULL:
        return prun__fail(err, "cannot open /dev/null as the %s of '%s'", s, prog);
    case PRUN__STEP_DUP:
        return prun__fail(err, "cannot set up the %s of '%s'", s, prog);
    case PRUN__STEP_PASS_FDS:
        return prun__fail(err, "cannot pass fd %d to '%s'", d, prog);
    case PRUN__STEP_CHDIR:
        return prun__fail(err, "cannot change directory to '%s'", o->cwd);
    default:
        return prun__fail(err, "cannot run '%s'", prog);
    }
}

/* The public, coarser name of a step. */
static int public_step(int step)
{
    switch (step) {
    case PRUN__STEP_SIGNALS:
    case PRUN__STEP_PDEATHSIG:
        return PRUN_STEP_SIGNALS;
    case PRUN__STEP_SETSID:
    case PRUN__STEP_SETPGID:
    case PRUN__STEP_TTY:
        return PRUN_STEP_SESSION;
    case PRUN__STEP_RLIMIT:
        return PRUN_STEP_RLIMITS;
    case PRUN__STEP_SETGROUPS:
    case PRUN__STEP_SETGID:
    case PRUN__STEP_SETUID:
        return PRUN_STEP_CREDENTIALS;
    case PRUN__STEP_CLOSE_FDS:
    case PRUN__STEP_DEVNULL:
    case PRUN__STEP_DUP:
    case PRUN__STEP_PASS_FDS:
        return PRUN_STEP_FDS;
    case PRUN__STEP_CHDIR:
        return PRUN_STEP_CWD;
    default:
        return PRUN_STEP_EXEC;
    }
}

static int step_error(const struct prun_child_plan *plan, const prun_opts *o, const char *prog)
{
    return prun__at_step(public_step(plan->failure.step), say_step_error(plan, o, prog));
}

int prun__spawn(const struct prun_spawn_req *req, struct prun_spawned *out)
{
    struct prun_child_plan plan;
    struct plan_memory m = {0};
    const char *prog;
    int r;

    memset(&plan, 0, offsetof(struct prun_child_plan, stack));
    *out = (struct prun_spawned){-1, -1, 0};
    if ((r = make_plan(&plan, &m, req, &prog))) {
        prun__fail(r, "cannot run '%s'", prog);
        goto out;
    }
    r = launch(&plan, &out->pid, &out->pidfd);
    if (r == 0 && plan.failure.step) {
        if (out->pid > 0)
            prun__child_reap_failed(out->pid, out->pidfd);
        prun__close(&out->pidfd);
        r = step_error(&plan, req->opts, prog);
    } else if (r)
        prun__fail(r, "cannot run '%s'", prog);
    else if (out->pidfd < 0)
        open_pidfd(out);
out:
    free_plan(&m);
    return r;
}
