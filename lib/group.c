/* SPDX-License-Identifier: MIT */
/* group.c - N children sharing one set of streams and, usually, one
 * process group: each one's stdout is the next one's stdin.  A prun_proc
 * is a group of one, a prun_pipeline a group of N; this is the one start
 * path, wait path and signal path of both. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <termios.h>
#include <unistd.h>

int prun__group_check(size_t n, char *const *const stages[], const prun_opts *o, size_t *failed)
{
    if (n == 0 || !stages)
        return prun__fail(-EINVAL, "a pipeline needs at least one stage");
    for (size_t i = 0; i < n; i++)
        if (!stages[i] || !stages[i][0]) {
            *failed = i;
            return prun__fail(-EINVAL, "stage %zu of the pipeline is empty", i + 1);
        }
    if (o->new_session && n > 1)
        return prun__fail(-EINVAL, "new_session cannot be used with a pipeline");
    return prun__check_opts(o);
}

/* Whether a new group may take the terminal: fd 0 is one, and the
 * caller is its foreground job (otherwise tcsetpgrp would stop it). */
static int may_take_tty(void)
{
    return isatty(0) && tcgetpgrp(0) == getpgrp();
}

/* Whether every child started so far has exited and been reaped, by
 * another reaper too (SIGCHLD set to SIG_IGN, a waitpid(-1) loop): their
 * process group is then gone with them, and cannot be joined. */
static int all_gone(struct prun_group *g)
{
    for (size_t i = 0; i < g->n; i++)
        if (prun__child_reap(&g->child[i]) == 0)
            return 0;
    return 1;
}

/* Starts child i, whose stdin is in_fd and stdout out_fd (the outer
 * streams' sources, or inner pipe ends). */
static int start_child(struct prun_group *g, const struct prun_group_spec *spec,
                       const struct prun_creds *creds, size_t i, int in_fd, int out_fd, int err_fd)
{
    const prun_opts *o = spec->opts;
    const int *outer = g->io.is_pipe;  /* a PRUN_PIPE stream's source is its pipe's child end */
    struct prun_spawn_req req = {spec->stages[i], o, creds, {in_fd, out_fd, err_fd},
                                 {i == 0 ? outer[0] : 1, i + 1 < spec->n ? 1 : outer[1], outer[2]},
                                 -1, 0};
    if (spec->new_pgroup)
        req.pgroup = i == 0 ? 0 : g->pgid;  /* the first leads */
    req.take_tty = i == 0 && g->holds_tty;
    struct prun_spawned s;
    int r = prun__spawn(&req, &s);
    /* `true | cat` with SIGCHLD ignored: the group left with its last
     * member before this stage could join it (setpgid's EPERM).  This one
     * leads a new group instead, for the stages to come and the signals
     * (not with take_tty: the terminal was given to the old one). */
    if (r == -EPERM && req.pgroup > 0 && !g->holds_tty && all_gone(g)) {
        req.pgroup = 0;
        if ((r = prun__spawn(&req, &s)) == 0)
            g->pgid = s.pid;
    }
    if (r)
        return r;
    if (i == 0 && (spec->new_pgroup || o->new_session))
        g->pgid = s.pid;
    prun__child_init(&g->child[i], &s, spec->stages[i][0]);
    g->n = i + 1;
    return 0;
}

/* The children one after the other.  The read end of the pipe from the
 * previous child is closed as soon as the next one has its copy, so the
 * caller holds no inner pipe end (and `yes | head -1` ends at once). */
static int start_children(struct prun_group *g, const struct prun_group_spec *spec,
                          const int src[3], size_t *failed)
{
    struct prun_creds creds;
    int prev_read_end = -1, r;
    if ((r = prun__creds_resolve(&creds, spec->opts)))
        return prun__at_step(PRUN_STEP_CREDENTIALS, r);
    for (size_t i = 0; i < spec->n && r == 0; i++) {
        int p[2] = {-1, -1};
        int in_fd = i == 0 ? src[0] : prev_read_end;
        int out_fd = src[1];
        if (i + 1 < spec->n) {
            if ((r = prun__pipe(p))) {
                r = prun__fail(r, "cannot create a pipe");
                *failed = i;
                break;
            }
            out_fd = p[1];
        }
        if ((r = start_child(g, spec, &creds, i, in_fd, out_fd, src[2])))
            *failed = i;
        prun__close(&prev_read_end);
        prun__close(&p[1]);
        prev_read_end = p[0];
    }
    prun__close(&prev_read_end);
    prun__creds_free(&creds);
    return r;
}

int prun__group_start(struct prun_group **out, const struct prun_group_spec *spec, size_t *failed)
{
    const prun_opts *o = spec->opts;
    int src[3], child_end[3] = {-1, -1, -1};
    *out = NULL;
    *failed = 0;
    struct prun_group *g = calloc(1, sizeof *g + spec->n * sizeof g->child[0]);
    if (!g)
        return prun__fail(-ENOMEM, "cannot run '%s'", spec->stages[0][0]);
    g->pipefail = o->pipefail;
    g->holds_tty = spec->take_tty && spec->new_pgroup && !o->new_session && may_take_tty();
    prun__streams_init(&g->io, o);
    int r = prun__streams_open(&g->io, o, src, child_end);
    if (r == 0)
        r = start_children(g, spec, src, failed);
    for (int i = 0; i < 3; i++)
        prun__close(&child_end[i]);
    if (r) {
        prun__group_kill_and_reap(g);
        prun__group_free(g);
        return r;
    }
    *out = g;
    return 0;
}

/* Once every child is reaped the terminal goes back to the caller's
 * group; SIGTTOU is blocked for that, as the caller is in the
 * background until then. */
void prun__group_give_back_tty(struct prun_group *g)
{
    /* Another thread's poll may get here too: once. */
    if (!__atomic_exchange_n(&g->holds_tty, 0, __ATOMIC_ACQ_REL))
        return;
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    pthread_sigmask(SIG_BLOCK, &ttou, &old);
    if (tcgetpgrp(0) == g->pgid)  /* not if the caller was put in the background meanwhile */
        tcsetpgrp(0, getpgrp());
    pthread_sigmask(SIG_SETMASK, &old, NULL);
}

int prun__group_reap(struct prun_group *g)
{
    for (size_t i = 0; i < g->n; i++) {
        int r = prun__child_reap(&g->child[i]);
        if (r <= 0)
            return r;
    }
    prun__group_give_back_tty(g);
    return 1;
}

/* Every child, even after one whose status was lost: returning early
 * would leave the others running. */
int prun__group_wait(struct prun_group *g, int64_t deadline)
{
    int first_err = 0;
    for (size_t i = 0; i < g->n; i++) {
        int r = prun__child_wait(&g->child[i], deadline);
        if (r == 0)
            return PRUN_ETIMEOUT;
        if (r < 0 && !first_err)
            first_err = r;
    }
    prun__group_give_back_tty(g);
    return first_err;
}

int prun__group_signal(struct prun_group *g, int sig, int to_group)
{
    if (to_group && g->pgid > 0) {
        for (size_t i = 0; i < g->n; i++) {
            int r = prun__child_signal_group(&g->child[i], g->pgid, sig);
            if (r != 0)
                return r < 0 ? r : 0;
        }
        return 0;  /* every member is reaped: the group id may be someone else's */
    }
    int first_err = 0;
    for (size_t i = 0; i < g->n; i++) {
        int r = prun__child_signal(&g->child[i], sig);
        if (r && !first_err)
            first_err = r;
    }
    return first_err;
}

/* The cleanup after a failure.  Its own troubles (a status another reaper
 * took, a child it may not signal) are in what it returns, never in the
 * sentence and step: those stay the failure's, which the caller returns. */
int prun__group_kill_and_reap(struct prun_group *g)
{
    struct prun__saved_error failure;
    prun__error_save(&failure);
    int r = prun__group_signal(g, SIGKILL, 1);
    if (r < 0)  /* the group could not be signalled: each child by its own handle */
        r = prun__group_signal(g, SIGKILL, 0);
    if (r == 0) {
        for (size_t i = 0; i < g->n; i++) {  /* each one, whatever another's wait says */
            int w = prun__child_wait(&g->child[i], PRUN_NO_DEADLINE);
            if (w < 0 && !r)
                r = w;
        }
        prun__group_give_back_tty(g);
        if (r == -ECHILD)
            r = 0;
    }
    prun__error_restore(&failure);
    return r;
}

/* The shell's view: the last child's returncode, or with pipefail the
 * rightmost nonzero one (0 if all succeeded). */
int prun__group_status(const struct prun_group *g, int pipefail)
{
    if (g->n == 0)
        return 0;
    if (!pipefail)
        return g->child[g->n - 1].returncode;
    for (size_t i = g->n; i-- > 0;)
        if (g->child[i].returncode != 0)
            return g->child[i].returncode;
    return 0;
}

void prun__group_abandon(struct prun_group *g)
{
    prun__streams_close(&g->io);
    prun__group_give_back_tty(g);
    for (size_t i = 0; i < g->n; i++)
        prun__child_destroy(&g->child[i]);
    free(g);
}

/* Says nothing: a lost status it meets again here must not replace the
 * sentence of the failure the caller is about to return (a failed start,
 * a run that stopped). */
void prun__group_free(struct prun_group *g)
{
    if (!g)
        return;
    struct prun__saved_error last;
    prun__error_save(&last);
    prun__streams_close(&g->io);
    for (size_t i = 0; i < g->n; i++)  /* each one, whatever another's wait says */
        prun__child_wait(&g->child[i], PRUN_NO_DEADLINE);
    prun__group_abandon(g);
    prun__error_restore(&last);
}
