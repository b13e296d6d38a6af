/* sigs.h - the signals prun forwards, waits on, and dies of. */
#ifndef PRUN_SIGS_H
#define PRUN_SIGS_H

#include <signal.h>
#include <sys/types.h>

/* The forwarded signals and SIGCHLD are blocked and read from a signalfd,
 * so one poll() waits for a stage's exit, a signal and a deadline at once
 * without races.  The stages get an empty mask from the library. */
struct sigwatch {
    int fd;
    sigset_t forward; /* the terminating signals not ignored at startup */
};

int sigwatch_start(struct sigwatch *w);  /* 0 or -errno */
/* The next pending signal: 1 with *sig and *sender set, 0 if none, or -errno. */
int sigwatch_next(struct sigwatch *w, int *sig, pid_t *sender);
void sigwatch_stop(struct sigwatch *w);

/* Dies of sig as the stage did (default action, no core dump); returns
 * 128 + sig if the signal does not end the process. */
int die_of_signal(int sig);

#endif
