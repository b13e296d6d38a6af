/* SPDX-License-Identifier: MIT */
/* prun.c - the prun tool: timeout(1), env(1) and shell pipelines in one
 * program, without a shell, on top of libprun (it never spawns, waits or
 * signals a process by itself).  main() and the run: the job (job.c) is
 * started, supervised (supervise.c) and reported (report.c). */
#include "cli.h"
#include "env.h"
#include "files.h"
#include "job.h"
#include "report.h"
#include "sigs.h"
#include "supervise.h"

#include <errno.h>
#include <prun.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

struct run {
    const struct cli *cli;
    struct job job;
    struct files files;
    char **env;
    struct sigwatch signals;
    struct supervisor sv;
    prun_pipeline *pl;
    int64_t started_ns, elapsed_ns;
    int spawn_status;          /* 126/127 when a stage could not start */
    size_t failed_stage;
    char spawn_error[512];
    char names[256];           /* "yes | head", for -v */
    struct prun_rlimit *rlimits;
    sigset_t block;            /* --block-signal */
    int subreaper;             /* what the commands leave behind is prun's */
};

/* The shell's view of a returncode: the exit status, or 128+N for
 * death by signal N. */
static int shell_status(int returncode)
{
    return returncode >= 0 ? returncode : 128 - returncode;
}

/* ---- starting ---- */

static void stream_opts(prun_opts *o, const struct run *run)
{
    const int *fd = run->files.fd;
    if (fd[0] >= 0)
        o->stdin_io = PRUN_FD, o->stdin_fd = fd[0];
    if (fd[1] >= 0)
        o->stdout_io = PRUN_FD, o->stdout_fd = fd[1];
    if (fd[2] >= 0)
        o->stderr_io = PRUN_FD, o->stderr_fd = fd[2];
    if (run->cli->merge_stderr)
        o->stderr_io = PRUN_STDOUT;
}

/* 127 not found, 126 not runnable, 125 prun's own failure (resources,
 * -C, a user, group or limit the library could not give the commands). */
static int start_failed(struct run *run, int err, size_t failed)
{
    const struct cli *cli = run->cli;
    /* The program itself (its exec, as env(1)'s) is the command's 126 or
     * 127; the rest (-C, a user, group or limit, a fork) is prun's. */
    if (failed >= run->job.n || prun_last_error_step() != PRUN_STEP_EXEC) {
        fprintf(stderr, "prun: %s\n", prun_last_error());
        return 125;
    }
    const char *prog = run->job.shown[failed][0];
    struct stat st;
    if (err == -EACCES && (prog[0] == '/' || (strchr(prog, '/') && !cli->chdir)) &&
        stat(prog, &st) == 0 && S_ISDIR(st.st_mode))
        err = -EISDIR;
    snprintf(run->spawn_error, sizeof run->spawn_error, "failed to run command '%s': %s",
             prog, prun_strerror(err));
    fprintf(stderr, "prun: %s\n", run->spawn_error);
    run->failed_stage = failed;
    run->spawn_status = err == -ENOENT ? 127 : 126;
    return run->spawn_status;
}

/* The library finds the processes below prun in /proc, and refuses
 * (-ENOTSUP) a /proc of another PID namespace (unshare --pid without
 * --mount-proc), whose numbers are not prun's: then prun keeps to the
 * stages' group, as it did before it was a subreaper.  Signal 0 asks
 * without sending anything; -EPERM means only that someone is there. */
static int tree_is_reachable(void)
{
    int r = prun_signal_descendants(0);
    return r >= 0 || r == -EPERM;
}

/* Credentials, umask, limits and signals: the same for every stage. */
static void child_opts(prun_opts *o, struct run *run)
{
    const struct cli *cli = run->cli;
    o->user = cli->user;
    o->group = cli->group;
    o->extra_groups = (const char *const *)cli->groups;
    if (cli->umask_set)
        o->umask = PRUN_UMASK(cli->umask);
    for (size_t i = 0; i < cli->n_rlimits; i++)
        run->rlimits[i] = (struct prun_rlimit){cli->rlimits[i].resource,
                                               {cli->rlimits[i].soft, cli->rlimits[i].hard}};
    o->rlimits = run->rlimits;
    o->n_rlimits = cli->n_rlimits;
    /* What prun ignores, the commands ignore: nohup, a shell's background
     * job, env's --ignore-signal (sigs.c set prun's own dispositions). */
    o->signals = PRUN_SIGNALS_KEEP;
    /* Killed, even by SIGKILL, prun takes the commands with it, as
     * timeout(1) does; -s 0 sends nothing. */
    o->pdeathsig = cli->signal;
    if (cli->block) {
        sigemptyset(&run->block);
        for (int sig = 1; sig < CLI_NSIG; sig++)
            if (cli->block & SIG_BIT(sig))
                sigaddset(&run->block, sig);  /* fails for glibc's 32 and 33: as sigfillset */
        o->sigmask = &run->block;
    }
}

static int start(struct run *run)
{
    const struct cli *cli = run->cli;
    prun_opts o = {0};
    size_t failed = 0;
    stream_opts(&o, run);
    o.shell = run->job.shell;
    o.cwd = cli->chdir;
    o.env = run->env;
    o.keep_pgroup = cli->foreground;
    o.take_tty = !cli->foreground;  /* the library checks for a terminal */
    o.pipefail = cli->pipefail;
    child_opts(&o, run);
    /* Orphans below prun become prun's children, to be reaped, and
     * signalled at the timeout wherever their session or group (not
     * with -f: the commands themselves only). */
    run->subreaper = !cli->foreground && tree_is_reachable() && prctl(PR_SET_CHILD_SUBREAPER, 1) == 0;
    run->started_ns = prun_clock_ns();
    int r = prun_pipeline_start(&run->pl, run->job.n, run->job.stages, &o, &failed);
    files_close_streams(&run->files);
    if (r)
        return start_failed(run, r, failed);
    supervise_start(&run->sv, cli, run->pl, &run->signals, run->names, run->subreaper);
    return 0;
}

/* The exit status, first match wins; *raise_sig is set when prun should
 * die of the signal S died of. */
static int exit_status(const struct run *run, int *raise_sig)
{
    int rc = prun_pipeline_status(run->pl, run->cli->pipefail);
    int timed_out = run->sv.timed_out;
    if (timed_out && rc == -SIGKILL)
        return 137;
    if (timed_out && !run->cli->preserve_status)
        return 124;
    if (rc < 0 && !timed_out)
        *raise_sig = -rc;
    return shell_status(rc);
}

static int run_stages(struct run *run, int *raise_sig)
{
    int r = start(run);
    if (r)
        return r;
    r = supervise(&run->sv);
    run->elapsed_ns = prun_clock_ns() - run->started_ns;
    if (r < 0) {
        fprintf(stderr, "prun: cannot wait for the commands: %s\n", prun_strerror(r));
        prun_pipeline_kill(run->pl);
        prun_pipeline_wait(run->pl, PRUN_FOREVER, NULL);
        return 125;
    }
    return exit_status(run, raise_sig);
}

/* ---- the report ---- */

static void fill_stage(const struct run *run, size_t i, struct report_stage *st)
{
    memset(st, 0, sizeof *st);
    st->argv = run->job.shown[i];
    if (run->pl) {
        prun_pipeline_stage(run->pl, i, &st->info);
        st->started = 1;
        st->status = st->info.exited ? shell_status(st->info.returncode) : 0;
    } else if (run->spawn_status && i == run->failed_stage) {
        st->spawn_error = run->spawn_error;
        st->status = run->spawn_status;
    }
}

static int write_report(const struct run *run, int status)
{
    struct report_stage *stages = calloc(run->job.n, sizeof *stages);
    int r = -1, err = ENOMEM;
    if (stages) {
        for (size_t i = 0; i < run->job.n; i++)
            fill_stage(run, i, &stages[i]);
        const struct cli *cli = run->cli;
        struct report rep = {status, run->sv.timed_out, run->sv.first_signal,
                             (double)run->elapsed_ns / 1e9, cli->user, cli->group, cli->groups,
                             cli->umask_set ? (int)cli->umask : -1, cli->rlimits, cli->n_rlimits,
                             run->job.n, stages};
        r = report_write(run->files.report, &rep);
        err = errno;
        free(stages);
    }
    if (r)
        fprintf(stderr, "prun: cannot write the report to '%s': %s\n", run->cli->report_path,
                strerror(err));
    return r;
}

/* The report was asked for: its loss is prun's failure. */
static int finish_report(struct run *run, int status, int *raise_sig)
{
    int failed = run->job.n && write_report(run, *raise_sig ? 128 + *raise_sig : status);
    if (fclose(run->files.report) != 0 && !failed) {
        fprintf(stderr, "prun: cannot write the report to '%s': %s\n", run->cli->report_path,
                strerror(errno));
        failed = 1;
    }
    run->files.report = NULL;
    if (!failed)
        return status;
    *raise_sig = 0;
    return 125;
}

/* ---- main ---- */

static int prepare(struct run *run)
{
    const struct cli *cli = run->cli;
    int r;
    if (job_build(&run->job, cli))
        return -1;
    job_names(&run->job, run->names, sizeof run->names);
    run->rlimits = calloc(cli->n_rlimits + 1, sizeof *run->rlimits);
    if (!run->rlimits) {
        fprintf(stderr, "prun: %s\n", strerror(ENOMEM));
        return -1;
    }
    /* The dispositions first: which signals prun watches follows them. */
    if (sigs_set_dispositions(cli))
        return -1;
    if ((r = env_build(environ, cli, &run->env)) || (r = sigwatch_start(&run->signals))) {
        fprintf(stderr, "prun: %s\n", strerror(-r));
        return -1;
    }
    if (files_open(&run->files, cli))
        return -1;
    /* env(1) -C fails with 125 before running anything. */
    if (cli->chdir && prun_check_cwd(cli->chdir)) {
        fprintf(stderr, "prun: %s\n", prun_last_error());
        return -1;
    }
    return 0;
}

static int run_cli(const struct cli *cli, int *raise_sig)
{
    struct run run = {.cli = cli, .files = FILES_NONE, .signals = {.fd = -1}};
    int status = 125;
    if (prepare(&run) == 0)
        status = run_stages(&run, raise_sig);
    if (run.files.report)
        status = finish_report(&run, status, raise_sig);
    files_close_streams(&run.files);
    prun_pipeline_free(run.pl);
    sigwatch_stop(&run.signals);
    free(run.env);
    free(run.rlimits);
    job_free(&run.job);
    return status;
}

int main(int argc, char **argv)
{
    struct cli cli;
    int status, raise_sig = 0;
    switch (cli_parse(argc, argv, &cli)) {
    case CLI_HELP:
        status = cli_help();
        break;
    case CLI_VERSION:
        status = cli_version();
        break;
    case CLI_USAGE_ERROR:
        status = 125;
        break;
    default:
        status = run_cli(&cli, &raise_sig);
        break;
    }
    cli_free(&cli);
    if (raise_sig)
        status = die_of_signal(raise_sig);
    return status;
}
