/* SPDX-License-Identifier: MIT */
/* supervise.c - the wait for the stages: one poll() on the signalfd
 * (SIGCHLD and the forwarded signals) with the nearest deadline as its
 * timeout, on the library's clock.
 *
 * prun is a child subreaper (but with -f): a process below it whose
 * parent dies is reparented to prun, which reaps it when it exits.  Until
 * the time runs out only the stages' group is ever signalled, so a daemon
 * that a command starts on purpose lives on.  When the time runs out, the
 * signal goes to every process below prun, whatever its session or group:
 *
 *   - the tree is frozen first: SIGSTOP to the stages' group (at once),
 *     then to every descendant, again until a scan finds no more than the
 *     one before: a stopped process cannot fork, so the scans catch up
 *     with the forks that raced with them;
 *   - then the signal goes to each of them once, and SIGCONT to all.
 *
 * Scanning again with the signal itself would deliver it again to every
 * process still alive, and prun_signal_descendants() cannot tell the ones
 * it signalled already from new ones: a shell's TERM trap would run at
 * each scan and the commands of its cleanup be killed.  timeout(1) and
 * systemd send it once.  KILL needs no freeze: it is sent again until a
 * scan finds nobody.  With -k, prun waits for the descendants that
 * outlive the stages until they are gone or KILL's deadline, looking
 * every 100 ms: the library holds no pidfd for a process that is not its
 * child, so there is nothing to wait on.
 */
#include "supervise.h"

#include "parse.h"
#include "tty.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <unistd.h>

enum {
    FREEZE_ROUNDS = 64,            /* a bound for a tree that forks without end */
};
#define RESCAN_NS (50 * 1000 * 1000LL)   /* between the scans after KILL */
#define PROBE_NS (100 * 1000 * 1000LL)   /* between looks at descendants that outlive the stages */

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
                     struct sigwatch *signals, const char *names, int subreaper)
{
    *s = (struct supervisor){.cli = cli, .pl = pl, .signals = signals, .names = names,
                             .subreaper = subreaper,
                             .timeout_at = deadline_after(cli->timeout_s),
                             .kill_at = PRUN_NO_DEADLINE, .tree = TREE_UNTOUCHED,
                             .scan_at = PRUN_NO_DEADLINE};
}

/* A scan that could not signal everyone (another user's process, when
 * prun is not root) is no reason to stop; -v says so. */
static void tree_failed(const struct supervisor *s, int r)
{
    if (r < 0 && s->cli->verbose)
        fprintf(stderr, "prun: %s\n", prun_last_error());
}

/* -v, the report's first signal and --kill-after's timer, wherever the
 * signal goes (-s 0 too: it is sent, and does nothing). */
static void announce(struct supervisor *s, int sig)
{
    const struct cli *cli = s->cli;
    if (cli->verbose) {
        char name[16];
        fprintf(stderr, "prun: sending signal %s to command '%s'\n",
                signal_name(sig, name, sizeof name), s->names);
    }
    if (!s->first_signal)
        s->first_signal = sig;
    if (!s->kill_armed && cli->kill_after_s > 0) {
        s->kill_armed = 1;
        s->kill_at = deadline_after(cli->kill_after_s);
    }
}

/* The stages' group (with -f each stage), then SIGCONT: a stopped stage
 * acts on a signal only once continued. */
static void signal_stages(struct supervisor *s, int sig)
{
    if (sig == 0)
        return;
    prun_pipeline_send_signal(s->pl, sig);
    if (sig != SIGKILL && sig != SIGCONT)
        prun_pipeline_send_signal(s->pl, SIGCONT);
}

/* Every process below prun stopped, as far as scans can tell: 0 or <0. */
static int freeze(struct supervisor *s)
{
    prun_pipeline_send_signal(s->pl, SIGSTOP);
    int before = -1;
    for (int round = 0; round < FREEZE_ROUNDS; round++) {
        int n = prun_signal_descendants(SIGSTOP);
        if (n < 0 || n == before)
            return n < 0 ? n : 0;
        before = n;
    }
    return 0;
}

/* sig to every process below prun, then SIGCONT to them all.  The
 * stages' group gets it from the library in any case, as timeout(1)
 * sends it to its group: the scans find nothing where /proc is not
 * prun's (a PID namespace without its own /proc mount).  Stopped, a
 * process that gets a signal twice has it pending once. */
static void signal_tree(struct supervisor *s, int sig)
{
    s->tree = TREE_SIGNALLED;
    s->scan_at = 0;  /* once the stages are reaped, look at once */
    if (sig == 0)
        return;
    int frozen = freeze(s);
    prun_pipeline_send_signal(s->pl, sig);
    int r = prun_signal_descendants(sig);
    tree_failed(s, frozen < 0 ? frozen : r);
    prun_pipeline_send_signal(s->pl, SIGCONT);
    tree_failed(s, prun_signal_descendants(SIGCONT));
}

static void rescan_kill(struct supervisor *s, int64_t now)
{
    int n = prun_signal_descendants(SIGKILL);
    if (n > 0) {
        s->scan_at = now + RESCAN_NS;
        return;
    }
    tree_failed(s, n);
    s->tree = TREE_DONE;
    s->scan_at = PRUN_NO_DEADLINE;
}

/* KILL to the group, then to every descendant until none is left. */
static void kill_tree(struct supervisor *s, int64_t now)
{
    prun_pipeline_send_signal(s->pl, SIGKILL);
    s->tree = TREE_KILLING;
    rescan_kill(s, now);
}

static void time_runs_out(struct supervisor *s, int64_t now)
{
    int sig = s->cli->signal;
    s->timed_out = 1;
    s->timeout_at = PRUN_NO_DEADLINE;
    announce(s, sig);
    if (!s->subreaper)
        signal_stages(s, sig);
    else if (sig == SIGKILL)
        kill_tree(s, now);
    else
        signal_tree(s, sig);
}

/* --kill-after's KILL goes where the first signal went: to the stages
 * after a forwarded one, to every descendant once the time ran out. */
static void kill_after(struct supervisor *s, int64_t now)
{
    s->kill_at = PRUN_NO_DEADLINE;
    announce(s, SIGKILL);
    if (s->subreaper && s->timed_out)
        kill_tree(s, now);
    else
        signal_stages(s, SIGKILL);
}

/* SIGALRM is the time running out, as it is for timeout(1), whose timer
 * raises it: the timeout now; once it has passed, --kill-after's KILL
 * now; without -k, the timeout signal again. */
static void alarm_received(struct supervisor *s)
{
    if (!s->timed_out || !s->kill_armed)
        s->timeout_at = 0;
    else if (s->kill_at != PRUN_NO_DEADLINE)
        s->kill_at = 0;
}

static int is_stage(const struct supervisor *s, pid_t pid)
{
    size_t n = prun_pipeline_size(s->pl);
    for (size_t i = 0; i < n; i++) {
        prun_stage_info info;
        if (prun_pipeline_stage(s->pl, i, &info) == 0 && info.pid == pid)
            return 1;
    }
    return 0;
}

static int forward_signals(struct supervisor *s)
{
    pid_t self = getpid();
    for (int chld = 0;;) {
        struct sigevent_info ev;
        int r = sigwatch_next(s->signals, &ev);
        if (r <= 0) {
            /* A stage's exit is seen by the next poll; an orphan prun
             * adopted is reaped here.  Whose SIGCHLD this was says
             * little: two at once make one, with the first one's pid. */
            if (chld && s->subreaper)
                prun_reap_adopted(s->pl);
            return r;
        }
        if (ev.sig == SIGCHLD) {
            /* Job control only until the time runs out (the freeze
             * stops the stages too), and only for a stage. */
            chld = 1;
            if (ev.code == CLD_STOPPED && !s->timed_out && prun_pipeline_has_tty(s->pl) &&
                is_stage(s, ev.sender))
                tty_stages_stopped(s->pl, ev.status);
        } else if (ev.sig == SIGCONT)
            tty_continued(s->pl);
        else if (ev.sig == SIGALRM)
            alarm_received(s);
        else if (ev.sender != self) {  /* not a SIGPIPE from prun's own write */
            announce(s, ev.sig);
            signal_stages(s, ev.sig);
        }
    }
}

/* The stages are reaped: whether prun still waits for what they left. */
static int tree_pending(struct supervisor *s, int64_t now)
{
    if (s->tree == TREE_KILLING)
        return 1;
    if (s->tree != TREE_SIGNALLED || s->kill_at == PRUN_NO_DEADLINE)
        return 0;  /* without -k (or after its KILL) prun is done with the stages */
    if (now < s->scan_at)
        return 1;
    if (prun_signal_descendants(0) == 0)  /* signal 0: is anyone left? */
        return 0;
    s->scan_at = now + PROBE_NS;
    return 1;
}

int supervise(struct supervisor *s)
{
    for (;;) {
        int r = prun_pipeline_poll(s->pl, NULL);
        if (r < 0)
            return r;
        int done = r > 0;
        int64_t now = prun_clock_ns();
        if (done && !tree_pending(s, now)) {
            /* The signalled ones that died already are prun's to reap:
             * left as zombies, they would be init's. */
            if (s->subreaper && s->tree != TREE_UNTOUCHED)
                prun_reap_adopted(s->pl);
            return 0;
        }
        if (now >= s->timeout_at) {
            time_runs_out(s, now);
            continue;
        }
        if (now >= s->kill_at) {
            kill_after(s, now);
            continue;
        }
        if (s->tree == TREE_KILLING && now >= s->scan_at) {
            rescan_kill(s, now);
            continue;
        }
        int64_t next = s->timeout_at < s->kill_at ? s->timeout_at : s->kill_at;
        if ((done || s->tree == TREE_KILLING) && s->scan_at < next)
            next = s->scan_at;
        struct pollfd pfd = {s->signals->fd, POLLIN, 0};
        if (poll(&pfd, 1, prun_ms_until(next)) < 0 && errno != EINTR)
            return -errno;
        if ((r = forward_signals(s)) < 0)
            return r;
    }
}
