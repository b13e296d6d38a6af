/* SPDX-License-Identifier: MIT */
/* sigs.c - the signals prun forwards, waits on, and dies of. */
#include "sigs.h"

#include "cli.h"
#include "parse.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

/* Asynchronous signals whose default action ends a process; the ones a
 * fault raises (SEGV, BUS, FPE, ILL, TRAP, ABRT, SYS) are prun's own. */
static const int terminating[] = {
    SIGHUP, SIGINT, SIGQUIT, SIGTERM, SIGUSR1, SIGUSR2, SIGALRM, SIGPIPE,
    SIGVTALRM, SIGPROF, SIGXCPU, SIGXFSZ, SIGIO,
#ifdef SIGPWR
    SIGPWR,
#endif
#ifdef SIGSTKFLT
    SIGSTKFLT,
#endif
};

static int ignored(int sig)
{
    struct sigaction sa;
    return sigaction(sig, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
           sa.sa_handler == SIG_IGN;
}

static void add_unless_ignored(sigset_t *set, int sig)
{
    if (!ignored(sig))
        sigaddset(set, sig);
}

static int set_disposition(int sig, void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    return sigaction(sig, &sa, NULL);
}

int sigs_set_dispositions(const struct cli *cli)
{
    if (cli->signal && ignored(cli->signal))
        set_disposition(cli->signal, SIG_DFL);
    if (ignored(SIGALRM))
        set_disposition(SIGALRM, SIG_DFL);
    for (int sig = 1; sig < CLI_NSIG; sig++) {
        int action = cli->sig_action[sig] & ~SIG_ACTION_ALL, all = cli->sig_action[sig] & SIG_ACTION_ALL;
        if (action == SIG_UNCHANGED || (sig == SIGCHLD && action == SIG_TO_IGNORE))
            continue;
        if (set_disposition(sig, action == SIG_TO_IGNORE ? SIG_IGN : SIG_DFL) == 0 || all)
            continue;
        char name[16];
        signal_name(sig, name, sizeof name);
        if (action == SIG_TO_IGNORE)
            fprintf(stderr, "prun: cannot ignore signal %s: %s\n", name, strerror(errno));
        else
            fprintf(stderr, "prun: cannot set signal %s to its default: %s\n", name, strerror(errno));
        return -1;
    }
    return 0;
}

int sigwatch_start(struct sigwatch *w)
{
    sigset_t watched, blocked;
    sigemptyset(&w->forward);
    for (size_t i = 0; i < sizeof terminating / sizeof terminating[0]; i++)
        add_unless_ignored(&w->forward, terminating[i]);
    for (int sig = SIGRTMIN; sig <= SIGRTMAX; sig++)
        add_unless_ignored(&w->forward, sig);
    /* An ignored SIGCHLD would reap the stages behind the library's back. */
    signal(SIGCHLD, SIG_DFL);
    watched = w->forward;
    sigaddset(&watched, SIGCHLD);
    /* Blocking SIGCONT does not keep it from continuing prun; reading it
     * tells prun to continue the stages too (fg, bg). */
    sigaddset(&watched, SIGCONT);
    /* SIGTTOU too (not read): a -v message while the stages own the
     * terminal must not stop prun when the terminal has TOSTOP set. */
    blocked = watched;
    sigaddset(&blocked, SIGTTOU);
    if (sigprocmask(SIG_BLOCK, &blocked, NULL) < 0)
        return -errno;
    w->fd = signalfd(-1, &watched, SFD_NONBLOCK | SFD_CLOEXEC);
    return w->fd < 0 ? -errno : 0;
}

int sigwatch_next(struct sigwatch *w, struct sigevent_info *ev)
{
    struct signalfd_siginfo si;
    ssize_t n = read(w->fd, &si, sizeof si);
    if (n == (ssize_t)sizeof si) {
        ev->sig = (int)si.ssi_signo;
        ev->code = si.ssi_code;
        ev->status = si.ssi_status;
        ev->sender = (pid_t)si.ssi_pid;
        return 1;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR))
        return 0;
    return n < 0 ? -errno : -EIO;
}

void sigwatch_stop(struct sigwatch *w)
{
    if (w->fd >= 0)
        close(w->fd);
    w->fd = -1;
}

int die_of_signal(int sig)
{
    /* The stage dumped core already if it was going to; a second core
     * from prun would only overwrite it. */
    struct rlimit no_core = {0, 0};
    sigset_t set;
    setrlimit(RLIMIT_CORE, &no_core);
    signal(sig, SIG_DFL);
    sigemptyset(&set);
    sigaddset(&set, sig);
    raise(sig);  /* pending while blocked; delivered by the unblock */
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    return 128 + sig;
}
