/* SPDX-License-Identifier: MIT */
/* cli.h - the command line of prun: options, operands, --help, --version. */
#ifndef PRUN_CLI_H
#define PRUN_CLI_H

#include <stddef.h>
#include <stdio.h>

/* -u NAME or -E NAME=VALUE, applied in order after -i. */
struct env_change {
    int unset;
    const char *arg;
};

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
