/* SPDX-License-Identifier: MIT */
/* pipeline.c - the prun_pipeline functions: a group of N children, each
 * one's stdout the next one's stdin, in one new process group led by the
 * first (prun_pipeline_run is in run.c, beside prun_run). */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <string.h>

int prun_pipeline_start_sized(prun_pipeline **out, size_t n, char *const *const stages[],
                              const prun_opts *opts, size_t *failed_stage, size_t opts_size)
{
    prun_opts o;
    size_t failed = 0;
    int r;
    if (failed_stage)
        *failed_stage = 0;
    if (!out)
        return prun__fail(-EINVAL, "prun_pipeline_start: out is NULL");
    *out = NULL;
    if ((r = prun__opts_in(&o, opts, opts_size)) || (r = prun__group_check(n, stages, &o, &failed)))
        goto out;
    struct prun_group_spec spec = {n, stages, &o, !o.keep_pgroup, o.take_tty};
    struct prun_group *g;
    if ((r = prun__group_start(&g, &spec, &failed)) == 0)
        *out = (prun_pipeline *)g;
out:
    if (r && failed_stage)
        *failed_stage = failed;
    return r;
}

size_t prun_pipeline_size(const prun_pipeline *pl)
{
    return pl ? prun__pipeline_group(pl)->n : 0;
}

pid_t prun_pipeline_pgid(const prun_pipeline *pl)
{
    return pl ? prun__pipeline_group(pl)->pgid : 0;
}

static int stream_fd(const prun_pipeline *pl, int stream)
{
    return pl ? prun__pipeline_group(pl)->io.fd[stream] : -1;
}

int prun_pipeline_stdin(const prun_pipeline *pl)
{
    return stream_fd(pl, 0);
}

int prun_pipeline_stdout(const prun_pipeline *pl)
{
    return stream_fd(pl, 1);
}

int prun_pipeline_stderr(const prun_pipeline *pl)
{
    return stream_fd(pl, 2);
}

int prun_pipeline_close_stream(prun_pipeline *pl, int stream)
{
    if (!pl || stream < 0 || stream > 2)
        return PRUN_BAD_ARG(pl ? "stream is not 0, 1 or 2" : "the handle is NULL");
    prun__close(&prun__pipeline_group(pl)->io.fd[stream]);
    return 0;
}

int prun_pipeline_poll(prun_pipeline *pl, int *status)
{
    if (!pl)
        return PRUN_BAD_ARG("the handle is NULL");
    struct prun_group *g = prun__pipeline_group(pl);
    int r = prun__group_reap(g);
    if (r == 1 && status)
        *status = prun__group_status(g, g->pipefail);
    return r;
}

int prun_pipeline_wait(prun_pipeline *pl, int timeout_ms, int *status)
{
    if (!pl)
        return PRUN_BAD_ARG("the handle is NULL");
    struct prun_group *g = prun__pipeline_group(pl);
    int r = prun__group_wait(g, prun__deadline(timeout_ms));
    if (r == 0 && status)
        *status = prun__group_status(g, g->pipefail);
    return r;
}

int prun_pipeline_communicate(prun_pipeline *pl, const void *input, size_t input_len,
                              int timeout_ms, prun_buf *out, prun_buf *err)
{
    if (!pl)
        return PRUN_BAD_ARG("the handle is NULL");
    return prun__communicate(prun__pipeline_group(pl), input, input_len, timeout_ms,
                             PRUN_RESUMABLE, out, err);
}

/* The whole process group while it exists, so grandchildren get it too. */
int prun_pipeline_send_signal(prun_pipeline *pl, int sig)
{
    if (!pl)
        return PRUN_BAD_ARG("the handle is NULL");
    return prun__group_signal(prun__pipeline_group(pl), sig, 1);
}

int prun_pipeline_terminate(prun_pipeline *pl)
{
    return prun_pipeline_send_signal(pl, SIGTERM);
}

int prun_pipeline_kill(prun_pipeline *pl)
{
    return prun_pipeline_send_signal(pl, SIGKILL);
}

int prun_pipeline_status(const prun_pipeline *pl, int pipefail)
{
    return pl ? prun__group_status(prun__pipeline_group(pl), pipefail) : 0;
}

int prun_pipeline_stage_sized(const prun_pipeline *pl, size_t i, prun_stage_info *info,
                              size_t info_size)
{
    if (!pl || i >= prun__pipeline_group(pl)->n || !info)
        return prun__fail(-EINVAL, "prun_pipeline_stage: no stage %zu", i);
    int r = prun__out_size_ok(info_size, PRUN_STAGE_INFO_SIZE_VER0, "prun_stage_info");
    if (r)
        return r;
    const struct prun_child *c = &prun__pipeline_group(pl)->child[i];
    prun_stage_info s;
    memset(&s, 0, sizeof s);
    s.pid = c->pid;
    s.exited = c->reaped;
    s.status_lost = c->status_lost;
    if (c->reaped && !c->status_lost) {
        s.returncode = c->returncode;
        s.core_dumped = c->core_dumped;
    }
    if (c->reaped && c->rusage_known) {
        s.rusage = c->rusage;
        s.has_rusage = 1;
    }
    prun__struct_out(info, info_size, &s, sizeof s);
    return 0;
}

int prun_pipeline_has_tty(const prun_pipeline *pl)
{
    return pl ? __atomic_load_n(&prun__pipeline_group(pl)->holds_tty, __ATOMIC_ACQUIRE) : 0;
}

int prun_pipeline_pidfd(const prun_pipeline *pl, size_t i)
{
    return pl && i < prun__pipeline_group(pl)->n ? prun__pipeline_group(pl)->child[i].pidfd : -1;
}

void prun_pipeline_free(prun_pipeline *pl)
{
    if (pl)
        prun__group_free(prun__pipeline_group(pl));
}
