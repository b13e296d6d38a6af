/* SPDX-License-Identifier: MIT */
/* supervise.c - the wait for the stages: one poll() on the signalfd
 * (SIGCHLD and the forwarded signals) with the nearer deadline as its
 * timeout, on the library's clock. */
#include "supervise.h"

#include "parse.h"
#include "tty.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

/* Beyond a century a duration is as good as none. */
int64_t deadline_after(double seconds)
{
    if (seconds <= 0)
        return PRUN_NO_DEADLINE;
    double ns = seconds * 1e9;
    if (!(ns < 3e18))
        return PRUN_NO_DEADLINE;
    return prun_clock_ns() + (ns < 1 ? 1 : (int64_t)ns);
}

void supervise_start(struct supervisor *s, const struct cli *cli, prun_pipeline *pl,
                     struct sigwatch *signals, const char *names)
{
    *s = (struct supervisor){.cli = cli, .pl = pl, .signals = signals, .names = names,
                             .timeout_at = deadline_after(cli->timeout_s),
                             .kill_at = PRUN_NO_DEADLINE};
}

static void send_signal(struct supervisor *s, int sig)
{
    const struct cli *cli = s->cli;
    if (cli->verbose) {
        char name[16];
        fprintf(stderr, "prun: sending signal %s to command '%s'\n",
                signal_name(sig, name, sizeof name), s->names);
    }
    prun_pipeline_send_signal(s->pl, sig);
    /* A stopped stage acts on the signal only once continued. */
    if (sig != SIGKILL && sig != SIGCONT)
        prun_pipeline_send_signal(s->pl, SIGCONT);
    if (!s->first_signal)
        s->first_signal = sig;
    if (!s->kill_armed && cli->kill_after_s > 0) {
        s->kill_armed = 1;
        s->kill_at = deadline_after(cli->kill_after_s);
    }
}

static int forward_signals(struct supervisor *s)
{
    pid_t self = getpid();
    for (;;) {
        struct sigevent_info ev;
        int r = sigwatch_next(s->signals, &ev);
        if (r <= 0)
            return r;
        if (ev.sig == SIGCHLD) {  /* an exit is seen by the next poll */
            if (ev.code == CLD_STOPPED && prun_pipeline_has_tty(s->pl))
                tty_stages_stopped(s->pl, ev.status);
        } else if (ev.sig == SIGCONT)
            tty_continued(s->pl);
        else if (ev.sender != self)  /* not a SIGPIPE from prun's own write */
            send_signal(s, ev.sig);
    }
}

int supervise(struct supervisor *s)
{
    for (;;) {
        int r = prun_pipeline_poll(s->pl, NULL);
        if (r != 0)
            return r < 0 ? r : 0;
        int64_t now = prun_clock_ns();
        if (now >= s->timeout_at) {
            s->timed_out = 1;
            s->timeout_at = PRUN_NO_DEADLINE;
            send_signal(s, s->cli->signal);
            continue;
        }
        if (now >= s->kill_at) {
            s->kill_at = PRUN_NO_DEADLINE;
            send_signal(s, SIGKILL);
            continue;
        }
        struct pollfd pfd = {s->signals->fd, POLLIN, 0};
        int64_t next = s->timeout_at < s->kill_at ? s->timeout_at : s->kill_at;
        if (poll(&pfd, 1, prun_ms_until(next)) < 0 && errno != EINTR)
            return -errno;
        if ((r = forward_signals(s)) < 0)
            return r;
    }
}
