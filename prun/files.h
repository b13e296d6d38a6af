/* SPDX-License-Identifier: MIT */
/* files.h - the files of --stdin, --stdout, --stderr and --report, all
 * opened before anything starts. */
#ifndef PRUN_FILES_H
#define PRUN_FILES_H

#include "cli.h"

#include <stdio.h>

struct files {
    int fd[3];     /* -1 where not given */
    FILE *report;
};

#define FILES_NONE {{-1, -1, -1}, NULL}

/* 0, or -1 after saying why on stderr. */
int files_open(struct files *f, const struct cli *cli);
/* The stages have their copies: holding ours would keep a FIFO or a
 * pipe given as --stdout from ever seeing EOF. */
void files_close_streams(struct files *f);

#endif
