/* SPDX-License-Identifier: MIT */
/* env.h - the commands' environment after -i, -u and -E. */
#ifndef PRUN_ENV_H
#define PRUN_ENV_H

#include "cli.h"

/* *out becomes NULL when the environment is unchanged (the library then
 * passes environ on), else a malloc'ed vector of pointers into base and
 * into the arguments.  0 or -ENOMEM. */
int env_build(char **base, const struct cli *cli, char ***out);

#endif
