/* SPDX-License-Identifier: MIT */
/* cli.h - the command line of prun: options, operands, --help, --version. */
#ifndef PRUN_CLI_H
#define PRUN_CLI_H

#include "parse.h"

#include <stddef.h>
#include <stdio.h>

/* -u NAME or -E NAME=VALUE, applied in order after -i. */
struct env_change {
    int unset;
    const char *arg;
};

/* What --default-signal and --ignore-signal ask for one signal: the last
 * one that names it wins, as in GNU env. */
enum sig_action {
    SIG_UNCHANGED = 0,
    SIG_TO_DEFAULT,
    SIG_TO_IGNORE,
};
#define SIG_ACTION_ALL 4  /* or'ed in: from an option without SIGS, which
                           * passes over the signals that cannot be changed */
#define CLI_NSIG 65       /* signals 1..64 */

struct cli {
    const char *command_line;     /* -c */
    int shell;
    double timeout_s, kill_after_s; /* 0: none */
    int signal;
    int preserve_status, foreground, verbose;
    const char *chdir;
    int ignore_environment;
    struct env_change *env_changes;
    size_t n_env_changes;
    const char *stdin_path, *stdout_path, *stderr_path;
    int append, merge_stderr, pipefail;
    const char *report_path;
    /* credentials and limits, for every stage */
    const char *user, *group;     /* -U, -G: names or numbers, NULL: unchanged */
    char **groups;                /* --groups: NULL-terminated, NULL when not given */
    int umask_set;
    unsigned umask;
    struct rlimit_spec *rlimits;  /* --rlimit, one per resource, in order */
    size_t n_rlimits;
    /* env(1)'s signal options */
    unsigned char sig_action[CLI_NSIG];  /* enum sig_action | SIG_ACTION_ALL */
    sig_bits block;               /* --block-signal, less what --default-signal unblocked */
    char **operands;              /* COMMAND [ARG]... ['|' COMMAND [ARG]...]... */
    size_t n_operands;
};

enum cli_action { CLI_RUN, CLI_HELP, CLI_VERSION, CLI_USAGE_ERROR };

/* Parses argv (and sets argv[0] to "prun" for getopt's messages); a usage
 * error has been reported on stderr when CLI_USAGE_ERROR comes back. */
enum cli_action cli_parse(int argc, char **argv, struct cli *cli);
void cli_free(struct cli *cli);

/* "prun: " + the message + "Try 'prun --help'..." on stderr. */
void cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Print on stdout and close it: 0, or 125 after a write error. */
int cli_help(void);
int cli_version(void);

#endif
