/* SPDX-License-Identifier: MIT */
/* tty.h - job control while the stages own the terminal. */
#ifndef PRUN_TTY_H
#define PRUN_TTY_H

#include <prun.h>

/* The stages stopped while they own the terminal (Ctrl-Z): prun takes the
 * terminal back and stops itself the same way, so that the shell sees its
 * job stop and gets the terminal, instead of waiting on a frozen job. */
void tty_stages_stopped(prun_pipeline *pl, int stop_sig);

/* prun was continued (fg, bg): back in the foreground, it hands the
 * terminal to the stages again if they had it; either way it continues
 * them. */
void tty_continued(prun_pipeline *pl);

#endif
