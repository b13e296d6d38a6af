/* SPDX-License-Identifier: MIT */
/* spawn_posix.c - the fallback engine: a child plan carried out by
 * posix_spawn(3), where clone3 is missing (Linux < 5.3, or a seccomp
 * filter that answers ENOSYS) or lacks CLONE_CLEAR_SIGHAND (< 5.5).
 * glibc runs it on a CLONE_VFORK child too, so the cost does not grow
 * with the caller's memory and exec errors come back synchronously; it
 * cannot change credentials, the umask, limits or the parent-death
 * signal, which spawn.c leaves to a cloned child instead.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <unistd.h>

/* close_fds: nothing but 0, 1, 2 and the kept fds reach the child.  The
 * fds above the highest kept one go by closefrom(3); below it only the
 * fds that would survive exec (no FD_CLOEXEC) need closing. */
static int add_close_fds(posix_spawn_file_actions_t *fa, const struct prun_child_plan *plan)
{
    int max = 2, r;
    size_t k = 0;
    for (size_t i = 0; i < plan->n_keep; i++) {
        int fd = plan->keep[i];
        if ((r = posix_spawn_file_actions_adddup2(fa, fd, fd)))  /* clears FD_CLOEXEC */
            return -r;
        max = fd;
    }
    for (int fd = 3; fd < max; fd++) {
        if (k < plan->n_keep && plan->keep[k] == fd) {
            k++;
            continue;
        }
        int flags = fcntl(fd, F_GETFD);
        if (flags >= 0 && !(flags & FD_CLOEXEC) && (r = posix_spawn_file_actions_addclose(fa, fd)))
            return -r;
    }
    return -posix_spawn_file_actions_addclosefrom_np(fa, max + 1);
}

/* Redirections.  A source among 0..2 that is not its own target could be
 * overwritten by an earlier dup2, so it is first copied above 2 in the
 * caller (tmp[]); /dev/null is opened by the caller too, so that a
 * missing one is named as such. */
static int add_redirects(posix_spawn_file_actions_t *fa, struct prun_child_plan *plan, int tmp[6])
{
    static const int devnull_flags[3] = {O_RDONLY, O_WRONLY, O_WRONLY};
    int r;
    for (int t = 0; t < 3; t++) {
        int s = plan->src[t];
        if (s >= 0 && s < 3 && s != t) {
            if ((tmp[t] = fcntl(s, F_DUPFD_CLOEXEC, 3)) < 0)
                return plan->failure.step = PRUN__STEP_DUP, plan->failure.detail = t, -errno;
            s = tmp[t];
        } else if (s == PRUN_SRC_DEVNULL) {
            if ((tmp[3 + t] = open("/dev/null", devnull_flags[t] | O_CLOEXEC)) < 0)
                return plan->failure.step = PRUN__STEP_DEVNULL, plan->failure.detail = t, -errno;
            s = tmp[3 + t];
        }
        if (s == PRUN_SRC_INHERIT)
            continue;
        if (s == PRUN_SRC_STDOUT)
            r = posix_spawn_file_actions_adddup2(fa, 1, 2);
        else  /* s == t too: glibc then clears FD_CLOEXEC */
            r = posix_spawn_file_actions_adddup2(fa, s, t);
        if (r)
            return -r;
    }
    return 0;
}

static int setup_actions(posix_spawn_file_actions_t *fa, struct prun_child_plan *plan, int tmp[6])
{
    int r;
#ifdef HAVE_POSIX_SPAWN_FILE_ACTIONS_ADDTCSETPGRP_NP
    /* First, while fd 0 is still the caller's terminal; glibc runs the
     * actions with every signal blocked, so SIGTTOU cannot stop the child. */
    if (plan->take_tty && (r = posix_spawn_file_actions_addtcsetpgrp_np(fa, 0)))
        return -r;
#endif
    if ((r = add_redirects(fa, plan, tmp)))
        return r;
    if (plan->close_fds && (r = add_close_fds(fa, plan)))
        return r;
    if (plan->cwd && (r = posix_spawn_file_actions_addchdir_np(fa, plan->cwd)))
        return -r;
    return 0;
}

/* The dispositions of PRUN_SIGNALS_*: glibc's child sets the ones in the
 * set to the default, resets handled ones, and leaves ignored ones. */
static void signals_to_default(const struct prun_child_plan *plan, sigset_t *set)
{
    if (plan->signals == PRUN_SIGNALS_DEFAULT) {
        memset(set, 0xff, sizeof *set);  /* not sigfillset(): it leaves out 32 and 33 */
        return;
    }
    sigemptyset(set);
    if (plan->signals == PRUN_SIGNALS_RESTORE) {
        sigaddset(set, SIGPIPE);
        sigaddset(set, SIGXFSZ);
    }
    /* glibc's internal signals, which sigaddset refuses: by their bits. */
    ((unsigned long *)(void *)set)[0] |= 3UL << 31;
}

static int setup_attr(posix_spawnattr_t *attr, const struct prun_child_plan *plan)
{
    sigset_t dfl, mask;
    signals_to_default(plan, &dfl);
    sigemptyset(&mask);
    memcpy(&mask, &plan->sigmask, sizeof plan->sigmask);
    short flags = POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK;
    posix_spawnattr_setsigdefault(attr, &dfl);
    posix_spawnattr_setsigmask(attr, &mask);
    if (plan->new_session)
        flags |= POSIX_SPAWN_SETSID;
    else if (plan->pgroup >= 0) {
        flags |= POSIX_SPAWN_SETPGROUP;
        posix_spawnattr_setpgroup(attr, plan->pgroup);
    }
    return -posix_spawnattr_setflags(attr, flags);
}

/* The candidates in order, with the child's rules (child.c's exec()).  An
 * absolute one where the file plainly does not exist is skipped without
 * a spawn: each costs a whole child here. */
static int spawn_candidates(pid_t *pid, struct prun_child_plan *plan,
                            const posix_spawn_file_actions_t *fa, const posix_spawnattr_t *attr)
{
    int r = -ENOENT, eacces = 0;
    for (const char *const *path = plan->candidates; *path; path++) {
        if ((*path)[0] == '/' && access(*path, F_OK) < 0 &&
            (errno == ENOENT || errno == ENOTDIR))
            r = -errno;
        else
            r = -posix_spawn(pid, *path, fa, attr, plan->argv, plan->envp);
        if (r == 0)
            return 0;
        if (r == -EACCES)
            eacces = r;
        else if (r != -ENOENT && r != -ENOTDIR && r != -ESTALE && r != -ENODEV &&
                 r != -ETIMEDOUT)
            return r;  /* found, and it cannot run */
    }
    return eacces ? eacces : r;
}

int prun__posix_spawn(struct prun_child_plan *plan, pid_t *pid)
{
    int tmp[6] = {-1, -1, -1, -1, -1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    int r;

    plan->failure.step = PRUN__STEP_NONE;
    if ((r = -posix_spawn_file_actions_init(&fa)))
        return r;
    if ((r = -posix_spawnattr_init(&attr)))
        goto out_fa;
    if ((r = setup_actions(&fa, plan, tmp)) || (r = setup_attr(&attr, plan)))
        goto out;
    r = spawn_candidates(pid, plan, &fa, &attr);
    /* posix_spawn reports a failed chdir as it reports a failed exec. */
    if (r && plan->cwd && prun_check_cwd(plan->cwd))
        plan->failure.step = PRUN__STEP_CHDIR;
    else if (r && r != -EAGAIN)  /* EAGAIN: the fork, not the exec */
        plan->failure.step = PRUN__STEP_EXEC;
out:
    plan->failure.err = -r;
    for (int i = 0; i < 6; i++)
        prun__close(&tmp[i]);
    posix_spawnattr_destroy(&attr);
out_fa:
    posix_spawn_file_actions_destroy(&fa);
    return r;
}
