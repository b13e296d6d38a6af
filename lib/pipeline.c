/* SPDX-License-Identifier: MIT */
/* pipeline.c - N stages, each one's stdout the next one's stdin, in one
 * new process group led by the first stage. */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

struct prun_pipeline {
    size_t n;
    pid_t pgid;          /* 0 with keep_pgroup */
    int took_tty;        /* give the terminal back once every stage is reaped */
    int pipefail;
    struct prun_streams io;
    prun_proc stages[];
};

/* A stage could not start: the ones before it are killed and reaped. */
static void abort_start(prun_pipeline *pl, size_t started)
{
    prun__signal_all(pl->stages, started, pl->pgid, SIGKILL);
    prun__wait_all(pl->stages, started, INT64_MAX);
    for (size_t i = 0; i < started; i++)
        prun__proc_destroy(&pl->stages[i]);
}

static int want_tty(const prun_opts *o)
{
    return o->take_tty && !o->keep_pgroup && isatty(0) && tcgetpgrp(0) == getpgrp();
}

/* Starts stage after stage; `carry` is the read end of the pipe from the
 * previous stage, closed once the next stage has its copy, so the caller
 * holds no inner pipe end (and `yes | head -1` ends at once). */
static int start_stages(prun_pipeline *pl, char *const *const stages[], const prun_opts *o,
                        const int outer[3], size_t *failed)
{
    int carry = -1, r = 0;
    for (size_t i = 0; i < pl->n; i++) {
        int p[2] = {-1, -1};
        struct prun_spawn_req req = {stages[i], o, {outer[0], outer[1], outer[2]}, -1, 0};
        if (i > 0)
            req.src[0] = carry;
        if (i + 1 < pl->n) {
            if ((r = prun__make_pipe(p))) {
                prun__fail(r, "cannot create a pipe");
                *failed = i;
                break;
            }
            req.src[1] = p[1];
        }
        if (!o->keep_pgroup)
            req.pgroup = pl->pgid;  /* 0 for the first: it leads */
        req.take_tty = i == 0 && pl->took_tty;
        pid_t pid;
        r = prun__spawn(&pid, &req);
        prun__close(&carry);
        prun__close(&p[1]);
        carry = p[0];
        if (r) {
            *failed = i;
            abort_start(pl, i);
            break;
        }
        if (i == 0 && !o->keep_pgroup)
            pl->pgid = pid;
        prun__proc_init(&pl->stages[i], pid, 0, stages[i][0]);
    }
    prun__close(&carry);
    return r;
}

int prun_pipeline_start(prun_pipeline **out, size_t n, char *const *const stages[],
                        const prun_opts *opts, size_t *failed_stage)
{
    static const prun_opts defaults;
    const prun_opts *o = opts ? opts : &defaults;
    int child_end[3] = {-1, -1, -1}, src[3];
    size_t failed = 0;
    int r;

    if (failed_stage)
        *failed_stage = 0;
    if (!out)
        return prun__fail(-EINVAL, "prun_pipeline_start: out is NULL");
    *out = NULL;
    if (n == 0 || !stages)
        return prun__fail(-EINVAL, "a pipeline needs at least one stage");
    for (size_t i = 0; i < n; i++)
        if (!stages[i] || !stages[i][0]) {
            if (failed_stage)
                *failed_stage = i;
            return prun__fail(-EINVAL, "stage %zu of the pipeline is empty", i + 1);
        }
    if (o->new_session && n > 1)
        return prun__fail(-EINVAL, "new_session cannot be used with a pipeline");
    if ((r = prun__check_opts(o)))
        return r;
    prun_pipeline *pl = calloc(1, sizeof *pl + n * sizeof pl->stages[0]);
    if (!pl)
        return prun__fail(-ENOMEM, "cannot start a pipeline");
    pl->n = n;
    pl->pipefail = o->pipefail;
    pl->took_tty = want_tty(o);
    prun__streams_init(&pl->io, o);
    if ((r = prun__stream_fds(o, &pl->io, src, child_end)) == 0)
        r = start_stages(pl, stages, o, src, &failed);
    for (int i = 0; i < 3; i++)
        prun__close(&child_end[i]);
    if (r) {
        if (failed_stage)
            *failed_stage = failed;
        prun__streams_close(&pl->io);
        free(pl);
        return r;
    }
    *out = pl;
    return 0;
}

/* Once every stage is reaped the terminal goes back to the caller's group;
 * SIGTTOU is blocked for that, as the caller is in the background now. */
static void give_back_tty(prun_pipeline *pl)
{
    if (!pl->took_tty)
        return;
    sigset_t ttou, old;
    sigemptyset(&ttou);
    sigaddset(&ttou, SIGTTOU);
    pthread_sigmask(SIG_BLOCK, &ttou, &old);
    if (tcgetpgrp(0) == pl->pgid)  /* not if the caller was put in the background meanwhile */
        tcsetpgrp(0, getpgrp());
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pl->took_tty = 0;
}

static int finished(prun_pipeline *pl, int r, int *status)
{
    if (r == 0) {
        give_back_tty(pl);
        if (status)
            *status = prun_pipeline_status(pl, pl->pipefail);
    }
    return r;
}

size_t prun_pipeline_size(const prun_pipeline *pl)
{
    return pl ? pl->n : 0;
}

pid_t prun_pipeline_pgid(const prun_pipeline *pl)
{
    return pl ? pl->pgid : 0;
}

int prun_pipeline_stdin(const prun_pipeline *pl)
{
    return pl ? pl->io.fd[0] : -1;
}

int prun_pipeline_stdout(const prun_pipeline *pl)
{
    return pl ? pl->io.fd[1] : -1;
}

int prun_pipeline_stderr(const prun_pipeline *pl)
{
    return pl ? pl->io.fd[2] : -1;
}

int prun_pipeline_close_stream(prun_pipeline *pl, int stream)
{
    if (!pl || stream < 0 || stream > 2)
        return -EINVAL;
    prun__close(&pl->io.fd[stream]);
    return 0;
}

int prun_pipeline_poll(prun_pipeline *pl, int *status)
{
    if (!pl)
        return -EINVAL;
    for (size_t i = 0; i < pl->n; i++) {
        int r = prun__reap(&pl->stages[i]);
        if (r <= 0)
            return r;
    }
    finished(pl, 0, status);
    return 1;
}

int prun_pipeline_wait(prun_pipeline *pl, int timeout_ms, int *status)
{
    if (!pl)
        return -EINVAL;
    int r = prun__wait_all(pl->stages, pl->n, prun__deadline(timeout_ms));
    return finished(pl, r, status);
}

int prun_pipeline_communicate(prun_pipeline *pl, const void *input, size_t input_len,
                              int timeout_ms, prun_buf *out, prun_buf *err)
{
    if (!pl)
        return -EINVAL;
    int r = prun__communicate(&pl->io, pl->stages, pl->n, pl->pgid, input, input_len,
                              timeout_ms, out, err);
    if (r != PRUN_ETIMEOUT && prun__wait_all(pl->stages, pl->n, 0) == 0)
        give_back_tty(pl);
    return r;
}

int prun_pipeline_send_signal(prun_pipeline *pl, int sig)
{
    if (!pl)
        return -EINVAL;
    return prun__signal_all(pl->stages, pl->n, pl->pgid, sig);
}

int prun_pipeline_terminate(prun_pipeline *pl)
{
    return prun_pipeline_send_signal(pl, SIGTERM);
}

int prun_pipeline_kill(prun_pipeline *pl)
{
    return prun_pipeline_send_signal(pl, SIGKILL);
}

/* The shell's view: the last stage's returncode, or with pipefail the
 * rightmost nonzero one (0 if all succeeded). */
int prun_pipeline_status(const prun_pipeline *pl, int pipefail)
{
    if (!pl || pl->n == 0)
        return 0;
    if (!pipefail)
        return pl->stages[pl->n - 1].returncode;
    for (size_t i = pl->n; i-- > 0;)
        if (pl->stages[i].returncode != 0)
            return pl->stages[i].returncode;
    return 0;
}

int prun_pipeline_stage(const prun_pipeline *pl, size_t i, prun_stage_info *info)
{
    if (!pl || i >= pl->n || !info)
        return -EINVAL;
    const prun_proc *p = &pl->stages[i];
    memset(info, 0, sizeof *info);
    info->pid = p->pid;
    info->exited = p->reaped;
    if (p->reaped) {
        info->returncode = p->returncode;
        info->core_dumped = p->core_dumped;
        info->rusage = p->rusage;
    }
    return 0;
}

void prun_pipeline_free(prun_pipeline *pl)
{
    if (!pl)
        return;
    prun__streams_close(&pl->io);
    prun__wait_all(pl->stages, pl->n, INT64_MAX);
    give_back_tty(pl);
    for (size_t i = 0; i < pl->n; i++)
        prun__proc_destroy(&pl->stages[i]);
    free(pl);
}

int prun_pipeline_run(size_t n, char *const *const stages[], const prun_opts *opts,
                      prun_result *res)
{
    prun_opts o;
    prun_pipeline *pl;
    int r;
    if (!res)
        return prun__fail(-EINVAL, "prun_pipeline_run: res is NULL");
    memset(res, 0, sizeof *res);
    if ((r = prun__run_opts(opts, &o)) || (r = prun_pipeline_start(&pl, n, stages, &o, NULL)))
        return r;
    r = prun__run_streams(&pl->io, pl->stages, n, pl->pgid, &o, res);
    give_back_tty(pl);
    res->returncode = prun_pipeline_status(pl, o.pipefail);
    if (r == 0 && o.check && res->returncode != 0)
        r = prun__fail(PRUN_ECHECK, "the pipeline returned %d", res->returncode);
    prun_pipeline_free(pl);
    return r;
}
