/* SPDX-License-Identifier: MIT */
/* tty.c - job control while the stages own the terminal.  SIGTTOU is
 * blocked in prun (sigs.c), so tcsetpgrp() works from the background. */
#include "tty.h"

#include <signal.h>
#include <unistd.h>

void tty_stages_stopped(prun_pipeline *pl, int stop_sig)
{
    pid_t pgid = prun_pipeline_pgid(pl);
    if (pgid <= 0 || tcgetpgrp(0) != pgid)
        return;
    tcsetpgrp(0, getpgrp());
    /* The stop continues when the shell sends SIGCONT (fg or bg).  An
     * ignored SIGTSTP (--ignore-signal=TSTP) would not stop prun. */
    struct sigaction sa;
    int tstp_ignored = sigaction(SIGTSTP, NULL, &sa) == 0 && !(sa.sa_flags & SA_SIGINFO) &&
                       sa.sa_handler == SIG_IGN;
    raise(stop_sig == SIGSTOP || tstp_ignored ? SIGSTOP : SIGTSTP);
}

void tty_continued(prun_pipeline *pl)
{
    pid_t pgid = prun_pipeline_pgid(pl);
    if (prun_pipeline_has_tty(pl) && pgid > 0 && tcgetpgrp(0) == getpgrp())
        tcsetpgrp(0, pgid);
    prun_pipeline_send_signal(pl, SIGCONT);
}
