/* SPDX-License-Identifier: MIT */
/* spawn.c - starting one child with posix_spawn(3).
 *
 * glibc runs posix_spawn on a CLONE_VFORK child, so the cost does not grow
 * with the caller's memory and exec failures come back as the return
 * value.  Everything the child needs (redirections, cwd, closing fds,
 * signal dispositions, process group) is said with file actions and
 * attributes; the library never forks.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif

extern char **environ;
static const char *env_get(char *const *env, const char *name)
{
    size_t len = strlen(name);
    for (; env && *env; env++)
        if (strncmp(*env, name, len) == 0 && (*env)[len] == '=')
            return *env + len + 1;
    return NULL;
}

static int is_passed(const prun_opts *o, int fd)
{
    for (size_t i = 0; i < o->n_pass_fds; i++)
        if (o->pass_fds[i] == fd)
            return 1;
    return 0;
}

/* close_fds: nothing but 0, 1, 2 and pass_fds reaches the child.  Without
 * pass_fds one closefrom(3) does it.  With them, the fds above the highest
 * passed one go by closefrom, and below it only the fds that would survive
 * exec (no FD_CLOEXEC) need closing. */
static int add_close_fds(posix_spawn_file_actions_t *fa, const prun_opts *o)
{
    int max = 2, r;
    for (size_t i = 0; i < o->n_pass_fds; i++) {
        int fd = o->pass_fds[i];
        if (fd < 3)
            continue;
        if ((r = posix_spawn_file_actions_adddup2(fa, fd, fd)))  /* clears FD_CLOEXEC */
            return -r;
        if (fd > max)
            max = fd;
    }
    for (int fd = 3; fd < max; fd++) {
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC) && !is_passed(o, fd))
            if ((r = posix_spawn_file_actions_addclose(fa, fd)))
                return -r;
    }
    return -posix_spawn_file_actions_addclosefrom_np(fa, max + 1);
}

/* Redirections.  A source fd among 0..2 that is not its own target could
 * be overwritten by an earlier dup2 (stdin from fd 1, stdout to fd 0...),
 * so it is first copied above 2 in the caller; tmp[] holds those copies. */
static int add_redirects(posix_spawn_file_actions_t *fa, const int src_in[3], int tmp[3])
{
    static const int devnull_flags[3] = {O_RDONLY, O_WRONLY, O_WRONLY};
    int r;
    for (int t = 0; t < 3; t++) {
        int s = src_in[t];
        if (s >= 0 && s < 3 && s != t) {
            if ((tmp[t] = fcntl(s, F_DUPFD_CLOEXEC, 3)) < 0)
                return -errno;
            s = tmp[t];
        }
        if (s == PRUN_SRC_INHERIT)
            continue;
        if (s == PRUN_SRC_DEVNULL)
            r = posix_spawn_file_actions_addopen(fa, t, "/dev/null", devnull_flags[t], 0);
        else if (s == PRUN_SRC_STDOUT)
            r = posix_spawn_file_actions_adddup2(fa, 1, 2);
        else  /* s == t too: glibc then clears FD_CLOEXEC */
            r = posix_spawn_file_actions_adddup2(fa, s, t);
        if (r)
            return -r;
    }
    return 0;
}

static int setup_actions(posix_spawn_file_actions_t *fa, const struct prun_spawn_req *req, int tmp[3])
{
    const prun_opts *o = req->opts;
    int r;
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDTCSETPGRP_NP
    /* First, while fd 0 is still the caller's terminal; glibc runs the
     * actions with every signal blocked, so SIGTTOU cannot stop the child. */
    if (req->take_tty && (r = posix_spawn_file_actions_addtcsetpgrp_np(fa, 0)))
        return -r;
#endif
    if ((r = add_redirects(fa, req->src, tmp)))
        return r;
    if (!o->keep_fds && (r = add_close_fds(fa, o)))
        return r;
    if (o->cwd && (r = posix_spawn_file_actions_addchdir_np(fa, o->cwd)))
        return -r;
    return 0;
}

static int setup_attr(posix_spawnattr_t *attr, const struct prun_spawn_req *req)
{
    sigset_t all, none;
    /* Every signal to SIG_DFL and an empty mask, whatever the caller
     * ignores or blocks (so SIGPIPE ends `yes | head -1`).  glibc visits
     * every signal in the child either way, so this costs nothing.  Not
     * sigfillset(): it leaves out glibc's internal signals 32 and 33,
     * which posix_spawn would then leave ignored in the child. */
    memset(&all, 0xff, sizeof all);
    sigemptyset(&none);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    posix_spawnattr_setsigdefault(attr, &all);
    posix_spawnattr_setsigmask(attr, &none);
    if (req->opts->new_session)
        flags |= POSIX_SPAWN_SETSID;
    else if (req->pgroup >= 0) {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(attr, req->pgroup);
    }
    return -posix_spawnattr_setflags(attr, flags);
}

/* PATH search as CPython's _execvpe: directories in order, ENOENT and
 * ENOTDIR skipped, the first other error remembered, a later hit wins.
 * An absolute directory where the file plainly does not exist is skipped
 * without a spawn; a relative one depends on the child's cwd, so it is
 * tried for real. */
static int spawn_search(pid_t *pid, const char *prog, char *const argv[], char *const envp[],
                        const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr)
{
    if (strchr(prog, '/'))
        return -posix_spawn(pid, prog, fa, attr, argv, envp);
    const char *path = env_get(envp, "PATH");
    if (!path)
        path = "/bin:/usr/bin";
    size_t plen = strlen(prog);
    int first_err = 0;
    for (const char *dir = path;; dir++) {
        const char *end = strchrnul(dir, ':');
        size_t dlen = (size_t)(end - dir);
        char buf[PATH_MAX];
        int r;
        if (dlen + 1 + plen >= sizeof buf)
            r = -ENAMETOOLONG;
        else {
            memcpy(buf, dir, dlen);
            buf[dlen] = '/';
            memcpy(buf + dlen + 1, prog, plen + 1);
            const char *file = dlen ? buf : prog;  /* an empty entry is the cwd */
            if (dlen && dir[0] == '/' && access(file, F_OK) < 0 && (errno == ENOENT || errno == ENOTDIR))
                r = -errno;
            else
                r = -posix_spawn(pid, file, fa, attr, argv, envp);
        }
        if (r == 0)
            return 0;
        if (r != -ENOENT && r != -ENOTDIR && !first_err)
            first_err = r;
        if (!*end)
            break;
        dir = end;
    }
    return first_err ? first_err : -ENOENT;
}

/* Right after the spawn; ESRCH if the child was reaped behind the
 * library's back already (SIGCHLD ignored), ENOSYS before Linux 5.3. */
static int open_pidfd(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* Shell mode: argv[0] is the command line, argv[1..] become $0, $1, ... */
static char **shell_argv(char *const argv[], const char *sh)
{
    size_t n = 0;
    while (argv[n])
        n++;
    char **v = malloc((n + 3) * sizeof *v);
    if (!v)
        return NULL;
    v[0] = (char *)sh;
    v[1] = (char *)"-c";
    memcpy(v + 2, argv, (n + 1) * sizeof *v);
    return v;
}

int prun__spawn(const struct prun_spawn_req *req, pid_t *pid, int *pidfd)
{
    const prun_opts *o = req->opts;
    char *const *argv = req->argv;
    char *const *envp = o->env ? o->env : environ;
    char **sh_argv = NULL;
    int tmp[3] = {-1, -1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int r;

    if (!argv || !argv[0])
        return prun__fail(-EINVAL, "empty argv");
    const char *prog = o->executable ? o->executable : argv[0];
    if (o->shell) {
        prog = o->executable ? o->executable : "/bin/sh";
        if (!(sh_argv = shell_argv(argv, prog)))
            return prun__fail(-ENOMEM, "cannot run '%s'", prog);
        argv = sh_argv;
    }
    if ((r = -posix_spawn_file_actions_init(&fa)))
        goto out_argv;
    if ((r = -posix_spawnattr_init(&attr)))
        goto out_fa;
    if ((r = setup_actions(&fa, req, tmp)) || (r = setup_attr(&attr, req))) {
        prun__fail(r, "cannot run '%s'", prog);
        goto out;
    }
    r = spawn_search(pid, prog, argv, envp, &fa, &attr);
    int cwd_err = r && o->cwd ? prun_check_cwd(o->cwd) : 0;
    if (cwd_err)
        r = cwd_err;
    else if (r)
        prun__fail(r, "cannot run '%s'", prog);
    else
        *pidfd = open_pidfd(*pid);
out:
    for (int i = 0; i < 3; i++)
        prun__close(&tmp[i]);
    posix_spawnattr_destroy(&attr);
out_fa:
    posix_spawn_file_actions_destroy(&fa);
out_argv:
    free(sh_argv);
    return r;
}

