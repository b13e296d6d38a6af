/* SPDX-License-Identifier: MIT */
/* sigs.h - the signals prun forwards, waits on, and dies of. */
#ifndef PRUN_SIGS_H
#define PRUN_SIGS_H

#include <signal.h>
#include <sys/types.h>

/* The forwarded signals and SIGCHLD are blocked and read from a signalfd,
 * so one poll() waits for a stage's exit, a signal and a deadline at once
 * without races.  The stages get an empty mask from the library (or
 * --block-signal's), and prun's own dispositions (PRUN_SIGNALS_KEEP). */
struct sigwatch {
    int fd;
    sigset_t forward; /* the terminating signals not ignored at startup */
};

/* One signal read from the signalfd. */
struct sigevent_info {
    int sig;
    int code;     /* si_code: CLD_STOPPED for a stopped stage, SI_USER... */
    int status;   /* SIGCHLD: the exit status or the signal */
    pid_t sender;
};

/* The dispositions the commands are to start with, set on prun itself,
 * which never handles a signal (the library passes ignored and default
 * ones on): as timeout(1), the timeout signal and SIGALRM are no longer
 * ignored; then env(1)'s --default-signal and --ignore-signal.  SIGCHLD
 * stays at its default whatever they say: prun waits for the commands.
 * 0, or -1 after saying why on stderr. */
struct cli;
int sigs_set_dispositions(const struct cli *cli);

/* Blocks and watches the forwarded signals, SIGCHLD and SIGCONT. */
int sigwatch_start(struct sigwatch *w);  /* 0 or -errno */
/* The next pending signal: 1 with *ev filled in, 0 if none, or -errno. */
int sigwatch_next(struct sigwatch *w, struct sigevent_info *ev);
void sigwatch_stop(struct sigwatch *w);

/* Dies of sig as the stage did (default action, no core dump); returns
 * 128 + sig if the signal does not end the process. */
int die_of_signal(int sig);

#endif
