/* SPDX-License-Identifier: MIT */
/* cli.c - option parsing, --help and --version for prun. */
#include "cli.h"

#include "parse.h"

#include <errno.h>
#include <getopt.h>
#include <prun.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION PRUN_VERSION
#endif

enum {
    OPT_SHELL = 256,
    OPT_STDIN,
    OPT_STDOUT,
    OPT_STDERR,
    OPT_APPEND,
    OPT_MERGE_STDERR,
    OPT_PIPEFAIL,
    OPT_REPORT,
    OPT_GROUPS,
    OPT_UMASK,
    OPT_RLIMIT,
    OPT_DEFAULT_SIGNAL,
    OPT_IGNORE_SIGNAL,
    OPT_BLOCK_SIGNAL,
    OPT_HELP,
    OPT_VERSION,
};

/* '+': options end at COMMAND, so `prun -t 5 ls -l` passes -l to ls. */
static const char short_options[] = "+c:t:s:k:pfvC:iu:E:U:G:";

static const struct option long_options[] = {
    {"command", required_argument, NULL, 'c'},
    {"shell", no_argument, NULL, OPT_SHELL},
    {"timeout", required_argument, NULL, 't'},
    {"signal", required_argument, NULL, 's'},
    {"kill-after", required_argument, NULL, 'k'},
    {"preserve-status", no_argument, NULL, 'p'},
    {"foreground", no_argument, NULL, 'f'},
    {"verbose", no_argument, NULL, 'v'},
    {"chdir", required_argument, NULL, 'C'},
    {"ignore-environment", no_argument, NULL, 'i'},
    {"unset", required_argument, NULL, 'u'},
    {"env", required_argument, NULL, 'E'},
    {"stdin", required_argument, NULL, OPT_STDIN},
    {"stdout", required_argument, NULL, OPT_STDOUT},
    {"stderr", required_argument, NULL, OPT_STDERR},
    {"append", no_argument, NULL, OPT_APPEND},
    {"merge-stderr", no_argument, NULL, OPT_MERGE_STDERR},
    {"pipefail", no_argument, NULL, OPT_PIPEFAIL},
    {"report", required_argument, NULL, OPT_REPORT},
    {"user", required_argument, NULL, 'U'},
    {"group", required_argument, NULL, 'G'},
    {"groups", required_argument, NULL, OPT_GROUPS},
    {"umask", required_argument, NULL, OPT_UMASK},
    {"rlimit", required_argument, NULL, OPT_RLIMIT},
    {"default-signal", optional_argument, NULL, OPT_DEFAULT_SIGNAL},
    {"ignore-signal", optional_argument, NULL, OPT_IGNORE_SIGNAL},
    {"block-signal", optional_argument, NULL, OPT_BLOCK_SIGNAL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

void cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("prun: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'prun --help' for more information.\n", stderr);
}

static int env_change(struct cli *cli, int unset, const char *arg)
{
    const char *eq = strchr(arg, '=');
    if (unset && (*arg == '\0' || eq)) {
        cli_usage_error("cannot unset '%s': %s", arg, strerror(EINVAL));
        return -1;
    }
    if (!unset && (!eq || eq == arg)) {
        cli_usage_error("invalid argument '%s' for --env: expected NAME=VALUE", arg);
        return -1;
    }
    cli->env_changes[cli->n_env_changes++] = (struct env_change){unset, arg};
    return 0;
}

static int duration_arg(const char *arg, double *seconds)
{
    if (parse_duration(arg, seconds) == 0)
        return 0;
    cli_usage_error("invalid time interval '%s'", arg);
    return -1;
}

static int signal_arg(const char *arg, int *sig)
{
    if (parse_timeout_signal(arg, sig) == 0)
        return 0;
    cli_usage_error("'%s': invalid signal", arg);
    return -1;
}

static int name_arg(const char *arg, const char *what, const char **out)
{
    if (*arg == '\0') {
        cli_usage_error("invalid %s '': a name or a number is needed", what);
        return -1;
    }
    *out = arg;
    return 0;
}

static int groups_arg(struct cli *cli, const char *arg)
{
    size_t bad;
    free(cli->groups);
    if (parse_group_list(arg, &cli->groups, &bad) == 0)
        return 0;
    if (bad == (size_t)-1)
        fprintf(stderr, "prun: %s\n", strerror(ENOMEM));
    else
        cli_usage_error("invalid --groups '%s': an empty group name at column %zu", arg, bad + 1);
    return -1;
}

static int umask_arg(struct cli *cli, const char *arg)
{
    if (parse_umask(arg, &cli->umask) == 0) {
        cli->umask_set = 1;
        return 0;
    }
    cli_usage_error("invalid umask '%s': an octal mode from 0 to 777 is needed", arg);
    return -1;
}

/* The last --rlimit of a resource wins. */
static int rlimit_arg(struct cli *cli, const char *arg)
{
    struct rlimit_spec r;
    enum rlimit_status st;
    size_t at, len;
    if (parse_rlimit(arg, &r, &st, &at, &len)) {
        const char *part = arg + at;
        int n = (int)len;
        switch (st) {
        case RLIMIT_SPEC_RESOURCE:
            cli_usage_error("invalid --rlimit '%s': unknown resource '%.*s'", arg, n, part);
            break;
        case RLIMIT_SPEC_VALUE:
            cli_usage_error("invalid --rlimit '%s': invalid limit '%.*s' (a number or unlimited)",
                            arg, n, part);
            break;
        case RLIMIT_SPEC_ORDER:
            cli_usage_error("invalid --rlimit '%s': the soft limit is above the hard limit", arg);
            break;
        default:
            cli_usage_error("invalid --rlimit '%s': expected RESOURCE=SOFT[:HARD]", arg);
            break;
        }
        return -1;
    }
    /* SOFT: or :HARD keeps the other one as prun has it (as the commands
     * would inherit it), as prlimit(1) does. */
    struct rlimit now;
    if ((r.keep_soft || r.keep_hard) && getrlimit(r.resource, &now) == 0) {
        if (r.keep_soft)
            r.soft = now.rlim_cur;
        if (r.keep_hard)
            r.hard = now.rlim_max;
    }
    if (r.hard != RLIM_INFINITY && r.soft > r.hard) {
        cli_usage_error("invalid --rlimit '%s': the soft limit would be above the hard limit", arg);
        return -1;
    }
    size_t i = 0;
    while (i < cli->n_rlimits && cli->rlimits[i].resource != r.resource)
        i++;
    cli->rlimits[i] = r;
    if (i == cli->n_rlimits)
        cli->n_rlimits++;
    return 0;
}

/* --default-signal, --ignore-signal and --block-signal, as GNU env:
 * without SIGS, every signal; --default-signal also unblocks. */
static int signals_arg(struct cli *cli, int opt, const char *arg)
{
    static const char *const names[] = {"--default-signal", "--ignore-signal", "--block-signal"};
    const char *name = names[opt - OPT_DEFAULT_SIGNAL];
    sig_bits set = ~0ULL;
    size_t at, len;
    if (arg && parse_signal_list(arg, &set, &at, &len)) {
        cli_usage_error("%s: '%.*s': invalid signal", name, (int)len, arg + at);
        return -1;
    }
    if (opt == OPT_BLOCK_SIGNAL) {
        cli->block |= set;
        return 0;
    }
    if (opt == OPT_DEFAULT_SIGNAL)
        cli->block &= ~set;
    unsigned char action = opt == OPT_DEFAULT_SIGNAL ? SIG_TO_DEFAULT : SIG_TO_IGNORE;
    for (int sig = 1; sig < CLI_NSIG; sig++)
        if (set & SIG_BIT(sig))
            cli->sig_action[sig] = (unsigned char)(action | (arg ? 0 : SIG_ACTION_ALL));
    return 0;
}

/* One option: 0, a CLI_HELP/CLI_VERSION action, or -1 after an error. */
static int take_option(struct cli *cli, int opt, const char *arg)
{
    switch (opt) {
    case 'c': cli->command_line = arg; return 0;
    case OPT_SHELL: cli->shell = 1; return 0;
    case 't': return duration_arg(arg, &cli->timeout_s);
    case 's': return signal_arg(arg, &cli->signal);
    case 'k': return duration_arg(arg, &cli->kill_after_s);
    case 'p': cli->preserve_status = 1; return 0;
    case 'f': cli->foreground = 1; return 0;
    case 'v': cli->verbose = 1; return 0;
    case 'C': cli->chdir = arg; return 0;
    case 'i': cli->ignore_environment = 1; return 0;
    case 'u': return env_change(cli, 1, arg);
    case 'E': return env_change(cli, 0, arg);
    case OPT_STDIN: cli->stdin_path = arg; return 0;
    case OPT_STDOUT: cli->stdout_path = arg; return 0;
    case OPT_STDERR: cli->stderr_path = arg; return 0;
    case OPT_APPEND: cli->append = 1; return 0;
    case OPT_MERGE_STDERR: cli->merge_stderr = 1; return 0;
    case OPT_PIPEFAIL: cli->pipefail = 1; return 0;
    case OPT_REPORT: cli->report_path = arg; return 0;
    case 'U': return name_arg(arg, "user", &cli->user);
    case 'G': return name_arg(arg, "group", &cli->group);
    case OPT_GROUPS: return groups_arg(cli, arg);
    case OPT_UMASK: return umask_arg(cli, arg);
    case OPT_RLIMIT: return rlimit_arg(cli, arg);
    case OPT_DEFAULT_SIGNAL:
    case OPT_IGNORE_SIGNAL:
    case OPT_BLOCK_SIGNAL: return signals_arg(cli, opt, arg);
    case OPT_HELP: return CLI_HELP;
    case OPT_VERSION: return CLI_VERSION;
    default:  /* getopt_long has said what was wrong */
        fputs("Try 'prun --help' for more information.\n", stderr);
        return -1;
    }
}

/* What the options and operands say together. */
static int check_combination(const struct cli *cli)
{
    if (cli->command_line && cli->n_operands) {
        cli_usage_error("extra operand '%s': --command takes the whole pipeline", cli->operands[0]);
        return -1;
    }
    if (!cli->command_line && !cli->n_operands) {
        cli_usage_error(cli->shell ? "--shell needs --command=LINE" : "missing command");
        return -1;
    }
    if (cli->shell && !cli->command_line) {
        cli_usage_error("--shell needs --command=LINE");
        return -1;
    }
    if (cli->merge_stderr && cli->stderr_path) {
        cli_usage_error("--merge-stderr and --stderr cannot be used together");
        return -1;
    }
    return 0;
}

enum cli_action cli_parse(int argc, char **argv, struct cli *cli)
{
    memset(cli, 0, sizeof *cli);
    cli->signal = SIGTERM;
    cli->env_changes = calloc((size_t)argc + 1, sizeof *cli->env_changes);
    cli->rlimits = calloc((size_t)argc + 1, sizeof *cli->rlimits);
    if (!cli->env_changes || !cli->rlimits) {
        fprintf(stderr, "prun: %s\n", strerror(ENOMEM));
        return CLI_USAGE_ERROR;
    }
    argv[0] = (char *)"prun";  /* getopt's messages start with argv[0] */
    int opt;
    while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
        int r = take_option(cli, opt, optarg);
        if (r < 0)
            return CLI_USAGE_ERROR;
        if (r == CLI_HELP || r == CLI_VERSION)
            return (enum cli_action)r;
    }
    cli->operands = argv + optind;
    cli->n_operands = (size_t)(argc - optind);
    return check_combination(cli) ? CLI_USAGE_ERROR : CLI_RUN;
}

void cli_free(struct cli *cli)
{
    free(cli->env_changes);
    cli->env_changes = NULL;
    free(cli->rlimits);
    cli->rlimits = NULL;
    free(cli->groups);
    cli->groups = NULL;
}

/* coreutils' close_stdout: a full disk must not look like success. */
static int close_stdout(void)
{
    int failed = fflush(stdout) != 0 || ferror(stdout);
    int err = errno;
    if (fclose(stdout) != 0 && !failed) {
        failed = 1;
        err = errno;
    }
    if (!failed)
        return 0;
    fprintf(stderr, "prun: write error: %s\n", strerror(err));
    return 125;
}

static const char help_text[] =
    "Usage: prun [OPTION]... [--] COMMAND [ARG]... ['|' COMMAND [ARG]...]...\n"
    "  or:  prun [OPTION]... -c LINE\n"
    "  or:  prun [OPTION]... --shell -c LINE\n"
    "Run COMMAND, or a pipeline of commands, without a shell: with a time limit,\n"
    "a changed environment, credentials and limits, redirected streams, and a\n"
    "clear exit status.  A lone '|' argument (quoted for the shell) separates\n"
    "the commands.\n"
    "\n"
    "Mandatory arguments to long options are mandatory for short options too.\n"
    "  -c, --command=LINE      split LINE into a pipeline without a shell: blanks,\n"
    "                            '...', \"...\", backslashes and unquoted '|' are\n"
    "                            understood; shell syntax ($ ` * ? [ ~ # ; & < > ( )\n"
    "                            and newlines) is rejected\n"
    "      --shell             run LINE with /bin/sh -c instead\n"
    "  -t, --timeout=DURATION  send SIG when DURATION has passed (0: no limit), to\n"
    "                            the commands and every process below prun\n"
    "  -s, --signal=SIG        the signal for the timeout: a name (TERM, SIGTERM,\n"
    "                            sigterm), a number, or RTMIN+N; TERM by default;\n"
    "                            0 sends nothing (and -k still applies); the\n"
    "                            commands get SIG too if prun is killed\n"
    "  -k, --kill-after=DURATION  send KILL this long after the first signal\n"
    "  -p, --preserve-status   after a timeout, exit with the command's status\n"
    "                            instead of 124\n"
    "  -f, --foreground        no new process group: signal only the commands'\n"
    "                            own processes, not their children\n"
    "  -v, --verbose           say on stderr whenever a signal is sent\n"
    "  -C, --chdir=DIR         run the commands in DIR\n"
    "  -i, --ignore-environment  start with an empty environment\n"
    "  -u, --unset=NAME        remove NAME from the environment\n"
    "  -E, --env=NAME=VALUE    set NAME to VALUE in the environment\n"
    "  -U, --user=USER         run the commands as USER (a name or a number),\n"
    "                            with USER's group and groups\n"
    "  -G, --group=GROUP       run the commands with group GROUP\n"
    "      --groups=LIST       the supplementary groups: names or numbers,\n"
    "                            comma-separated; empty for none\n"
    "      --umask=MODE        the commands' umask, in octal\n"
    "      --rlimit=RESOURCE=SOFT[:HARD]  set a resource limit of the commands\n"
    "                            (nofile, core, cpu, as, ...: as prlimit names\n"
    "                            them); a number or unlimited; SOFT alone sets both\n"
    "      --default-signal[=SIGS]  reset SIGS to their default action (and\n"
    "                            unblock them) in the commands\n"
    "      --ignore-signal[=SIGS]  ignore SIGS, in the commands and in prun\n"
    "      --block-signal[=SIGS]  block SIGS in the commands\n"
    "      --stdin=FILE        the first command reads FILE\n"
    "      --stdout=FILE       the last command writes to FILE\n"
    "      --stderr=FILE       every command writes its errors to FILE\n"
    "      --append            append to the --stdout and --stderr files\n"
    "      --merge-stderr      each command's stderr goes where its stdout goes\n"
    "      --pipefail          the status is the rightmost nonzero one\n"
    "      --report=FILE       write a JSON report of the run to FILE\n"
    "      --help              display this help and exit\n"
    "      --version           output version information and exit\n"
    "\n"
    "DURATION is a non-negative floating point number with an optional unit:\n"
    "'ms' for milliseconds, 's' for seconds (the default), 'm' for minutes,\n"
    "'h' for hours or 'd' for days.  -i is applied first, then -u and -E in order;\n"
    "PATH is looked up in the environment the commands get.\n"
    "SIGS is a comma-separated list of signal names or numbers; without it, every\n"
    "signal.  The last of --default-signal and --ignore-signal naming a signal\n"
    "wins.\n"
    "\n"
    "Signals such as INT, TERM and HUP sent to prun are passed on to the commands;\n"
    "ALRM counts as the time running out.  Signals ignored when prun starts stay\n"
    "ignored in the commands, but for SIG and ALRM.\n"
    "\n"
    "Exit status:\n"
    "  124  if the time ran out, and --preserve-status was not given\n"
    "  125  if prun itself failed\n"
    "  126  if a command was found but could not be run\n"
    "  127  if a command could not be found\n"
    "  137  if the time ran out and the command died of KILL (128+9)\n"
    "  -    the command's exit status otherwise (the last one's, or with\n"
    "       --pipefail the rightmost nonzero one); if it died of a signal,\n"
    "       prun dies of the same signal\n"
    "\n"
    "Full documentation: man prun\n";

int cli_help(void)
{
    fputs(help_text, stdout);
    return close_stdout();
}

int cli_version(void)
{
    fputs("prun (prun) " PACKAGE_VERSION "\n"
          "Copyright (C) 2026 the prun authors.\n"
          "License MIT: <https://spdx.org/licenses/MIT.html>.\n"
          "This is free software: you are free to change and redistribute it.\n"
          "There is NO WARRANTY, to the extent permitted by law.\n",
          stdout);
    return close_stdout();
}
