/* SPDX-License-Identifier: MIT */
/* prun.c - the prun tool: timeout(1), env(1) and shell pipelines in one
 * program, without a shell, on top of libprun (it never spawns, waits or
 * signals a process by itself). */
#include "cli.h"
#include "env.h"
#include "parse.h"
#include "report.h"
#include "sigs.h"
#include "tty.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <prun.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define NO_DEADLINE INT64_MAX

/* The stages to run, from '|'-separated operands, from -c, or --shell. */
struct job {
    size_t n;
    char *const *const *stages;
    char ***owned_stages;      /* operands: the vectors below */
    char **vectors;
    struct cmd_pipeline split; /* -c */
    char *shell_argv[4];       /* --shell */
    char *const *shell_stage[1];
};

/* The files of --stdin, --stdout, --stderr and --report. */
struct files {
    int fd[3];
    FILE *report;
};

struct run {
    const struct cli *cli;
    struct job job;
    struct files files;
    char **env;
    struct sigwatch signals;
    prun_pipeline *pl;
    int64_t started_ns, elapsed_ns;
    int64_t timeout_at, kill_at;
    int kill_armed;
    int timed_out;
    int first_signal;
    int tty_handed_over;       /* the stages got the terminal */
    int spawn_status;          /* 126/127 when a stage could not start */
    size_t failed_stage;
    char spawn_error[512];
    char names[256];           /* "yes | head", for -v */
};

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* 0 seconds means none; beyond a century it is as good as none. */
static int64_t deadline_after(double seconds)
{
    if (seconds <= 0)
        return NO_DEADLINE;
    double ns = seconds * 1e9;
    if (!(ns < 3e18))
        return NO_DEADLINE;
    return now_ns() + (ns < 1 ? 1 : (int64_t)ns);
}

/* For poll(): rounded up, so that it never wakes just before the deadline. */
static int ms_until(int64_t deadline)
{
    if (deadline == NO_DEADLINE)
        return -1;
    int64_t left = deadline - now_ns();
    if (left <= 0)
        return 0;
    left = (left + 999999) / 1000000;
    return left > INT_MAX ? INT_MAX : (int)left;
}

/* ---- the job ---- */

static int job_from_operands(struct job *job, char **ops, size_t n)
{
    job->vectors = malloc((n + 1) * sizeof *job->vectors);
    job->owned_stages = malloc((n + 1) * sizeof *job->owned_stages);
    if (!job->vectors || !job->owned_stages) {
        fprintf(stderr, "prun: %s\n", strerror(ENOMEM));
        return -1;
    }
    size_t start = 0;
    for (size_t i = 0; i <= n; i++) {
        if (i < n && strcmp(ops[i], "|") != 0) {
            job->vectors[i] = ops[i];
            continue;
        }
        if (i == start) {
            cli_usage_error("empty command in the pipeline (stage %zu)", job->n + 1);
            return -1;
        }
        job->vectors[i] = NULL;
        job->owned_stages[job->n++] = &job->vectors[start];
        start = i + 1;
    }
    job->stages = (char *const *const *)job->owned_stages;
    return 0;
}

static int job_from_line(struct job *job, const char *line)
{
    struct split_error err;
    if (split_command(line, &job->split, &err)) {
        char msg[256];
        split_error_message(&err, msg, sizeof msg);
        fprintf(stderr, "prun: --command: %s\n", msg);
        return -1;
    }
    job->n = job->split.n_stages;
    job->stages = (char *const *const *)job->split.stages;
    return 0;
}

static int job_build(struct job *job, const struct cli *cli)
{
    memset(job, 0, sizeof *job);
    if (!cli->command_line)
        return job_from_operands(job, cli->operands, cli->n_operands);
    if (!cli->shell)
        return job_from_line(job, cli->command_line);
    job->shell_argv[0] = (char *)"/bin/sh";
    job->shell_argv[1] = (char *)"-c";
    job->shell_argv[2] = (char *)cli->command_line;
    job->shell_stage[0] = job->shell_argv;
    job->stages = job->shell_stage;
    job->n = 1;
    return 0;
}

static void job_free(struct job *job)
{
    free(job->vectors);
    free(job->owned_stages);
    cmd_pipeline_free(&job->split);
}

static void job_names(const struct job *job, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < job->n && used < size; i++) {
        int n = snprintf(buf + used, size - used, "%s%s", i ? " | " : "", job->stages[i][0]);
        if (n < 0)
            break;
        used += (size_t)n;
    }
}

/* ---- files: all opened before anything starts ---- */

static int open_file(const char *path, int flags, const char *how)
{
    int fd = open(path, flags | O_CLOEXEC | O_NOCTTY, 0666);
    if (fd < 0)
        fprintf(stderr, "prun: cannot open '%s' for %s: %s\n", path, how, strerror(errno));
    return fd;
}

/* --stdout and --stderr naming one file share one open file, as >f 2>&1
 * would, rather than overwriting each other. */
static int share_if_same_file(struct files *f)
{
    struct stat out, err;
    if (f->fd[1] < 0 || f->fd[2] < 0 || fstat(f->fd[1], &out) < 0 || fstat(f->fd[2], &err) < 0)
        return 0;
    if (out.st_dev != err.st_dev || out.st_ino != err.st_ino || !S_ISREG(out.st_mode))
        return 0;
    close(f->fd[2]);
    f->fd[2] = fcntl(f->fd[1], F_DUPFD_CLOEXEC, 3);
    if (f->fd[2] < 0)
        fprintf(stderr, "prun: %s\n", strerror(errno));
    return f->fd[2] < 0 ? -1 : 0;
}

static int open_files(struct files *f, const struct cli *cli)
{
    int out_flags = O_WRONLY | O_CREAT | (cli->append ? O_APPEND : O_TRUNC);
    if (cli->report_path && !(f->report = fopen(cli->report_path, "we"))) {
        fprintf(stderr, "prun: cannot open '%s' for writing: %s\n", cli->report_path, strerror(errno));
        return -1;
    }
    if (cli->stdin_path && (f->fd[0] = open_file(cli->stdin_path, O_RDONLY, "reading")) < 0)
        return -1;
    if (cli->stdout_path && (f->fd[1] = open_file(cli->stdout_path, out_flags, "writing")) < 0)
        return -1;
    if (cli->stderr_path && (f->fd[2] = open_file(cli->stderr_path, out_flags, "writing")) < 0)
        return -1;
    return share_if_same_file(f);
}

static void close_stream_files(struct files *f)
{
    for (int i = 0; i < 3; i++)
        if (f->fd[i] >= 0) {
            close(f->fd[i]);
            f->fd[i] = -1;
        }
}

/* env(1) -C fails with 125 before running anything; the library could
 * only report a failed chdir as a failed stage. */
static int check_dir(const char *dir)
{
    struct stat st;
    int err = 0;
    if (stat(dir, &st) < 0)
        err = errno;
    else if (!S_ISDIR(st.st_mode))
        err = ENOTDIR;
    else if (access(dir, X_OK) < 0)
        err = errno;
    if (err)
        fprintf(stderr, "prun: cannot change directory to '%s': %s\n", dir, strerror(err));
    return err ? -1 : 0;
}

/* ---- signals to the stages ---- */

static void send_signal(struct run *run, int sig)
{
    const struct cli *cli = run->cli;
    if (cli->verbose) {
        char name[16];
        fprintf(stderr, "prun: sending signal %s to command '%s'\n",
                signal_name(sig, name, sizeof name), run->names);
    }
    prun_pipeline_send_signal(run->pl, sig);
    /* A stopped stage acts on the signal only once continued. */
    if (sig != SIGKILL && sig != SIGCONT)
        prun_pipeline_send_signal(run->pl, SIGCONT);
    if (!run->first_signal)
        run->first_signal = sig;
    if (!run->kill_armed && cli->kill_after_s > 0) {
        run->kill_armed = 1;
        run->kill_at = deadline_after(cli->kill_after_s);
    }
}

static int forward_signals(struct run *run)
{
    pid_t self = getpid();
    for (;;) {
        struct sigevent_info ev;
        int r = sigwatch_next(&run->signals, &ev);
        if (r <= 0)
            return r;
        if (ev.sig == SIGCHLD) {  /* an exit is seen by the next poll */
            if (ev.code == CLD_STOPPED && run->tty_handed_over)
                tty_stages_stopped(run->pl, ev.status);
        } else if (ev.sig == SIGCONT)
            tty_continued(run->pl, run->tty_handed_over);
        else if (ev.sender != self)  /* not a SIGPIPE from prun's own write */
            send_signal(run, ev.sig);
    }
}

/* Until every stage is reaped: one poll() on the signalfd (SIGCHLD and the
 * forwarded signals) with the nearer deadline as its timeout. */
static int wait_stages(struct run *run)
{
    for (;;) {
        int r = prun_pipeline_poll(run->pl, NULL);
        if (r != 0)
            return r < 0 ? r : 0;
        int64_t now = now_ns();
        if (now >= run->timeout_at) {
            run->timed_out = 1;
            run->timeout_at = NO_DEADLINE;
            send_signal(run, run->cli->signal);
            continue;
        }
        if (now >= run->kill_at) {
            run->kill_at = NO_DEADLINE;
            send_signal(run, SIGKILL);
            continue;
        }
        struct pollfd pfd = {run->signals.fd, POLLIN, 0};
        int64_t next = run->timeout_at < run->kill_at ? run->timeout_at : run->kill_at;
        if (poll(&pfd, 1, ms_until(next)) < 0 && errno != EINTR)
            return -errno;
        if ((r = forward_signals(run)) < 0)
            return r;
    }
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

static int is_resource_error(int err)
{
    return err == -EAGAIN || err == -ENOMEM || err == -EMFILE || err == -ENFILE;
}

/* 127 not found, 126 not runnable, 125 prun's own failure (resources, -C). */
static int start_failed(struct run *run, int err, size_t failed)
{
    const char *prog = run->job.stages[failed][0];
    if (run->cli->chdir && check_dir(run->cli->chdir))
        return 125;
    if (is_resource_error(err) || failed >= run->job.n) {
        fprintf(stderr, "prun: %s\n", prun_last_error());
        return 125;
    }
    struct stat st;
    if (err == -EACCES && (prog[0] == '/' || (strchr(prog, '/') && !run->cli->chdir)) &&
        stat(prog, &st) == 0 && S_ISDIR(st.st_mode))
        err = -EISDIR;
    snprintf(run->spawn_error, sizeof run->spawn_error, "failed to run command '%s': %s",
             prog, prun_strerror(err));
    fprintf(stderr, "prun: %s\n", run->spawn_error);
    run->failed_stage = failed;
    run->spawn_status = err == -ENOENT ? 127 : 126;
    return run->spawn_status;
}

static int start(struct run *run)
{
    const struct cli *cli = run->cli;
    prun_opts o = {0};
    size_t failed = 0;
    stream_opts(&o, run);
    o.cwd = cli->chdir;
    o.env = run->env;
    o.keep_pgroup = cli->foreground;
    o.take_tty = !cli->foreground;  /* the library checks for a terminal */
    o.pipefail = cli->pipefail;
    run->tty_handed_over = tty_will_hand_over(cli->foreground);
    run->started_ns = now_ns();
    int r = prun_pipeline_start(&run->pl, run->job.n, run->job.stages, &o, &failed);
    /* The stages have their copies: holding ours would keep a FIFO or a
     * pipe given as --stdout from ever seeing EOF. */
    close_stream_files(&run->files);
    if (r)
        return start_failed(run, r, failed);
    run->timeout_at = deadline_after(cli->timeout_s);
    return 0;
}

/* The exit status, first match wins; *raise_sig is set when prun should
 * die of the signal S died of. */
static int exit_status(const struct run *run, int *raise_sig)
{
    int rc = prun_pipeline_status(run->pl, run->cli->pipefail);
    if (run->timed_out && rc == -SIGKILL)
        return 137;
    if (run->timed_out && !run->cli->preserve_status)
        return 124;
    if (rc >= 0)
        return rc;
    if (!run->timed_out)
        *raise_sig = -rc;
    return 128 - rc;
}

static int run_stages(struct run *run, int *raise_sig)
{
    int r = start(run);
    if (r)
        return r;
    if ((r = wait_stages(run)) < 0) {
        fprintf(stderr, "prun: cannot wait for the commands: %s\n", prun_strerror(r));
        prun_pipeline_kill(run->pl);
        prun_pipeline_wait(run->pl, PRUN_FOREVER, NULL);
        run->elapsed_ns = now_ns() - run->started_ns;
        return 125;
    }
    run->elapsed_ns = now_ns() - run->started_ns;
    return exit_status(run, raise_sig);
}

/* ---- the report ---- */

static void fill_stage(const struct run *run, size_t i, struct report_stage *st)
{
    memset(st, 0, sizeof *st);
    st->argv = run->job.stages[i];
    if (run->pl) {
        prun_pipeline_stage(run->pl, i, &st->info);
        st->started = 1;
        int rc = st->info.returncode;
        st->status = !st->info.exited ? 0 : rc >= 0 ? rc : 128 - rc;
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
        struct report rep = {status, run->timed_out, run->first_signal,
                             (double)run->elapsed_ns / 1e9, run->job.n, stages};
        r = report_write(run->files.report, &rep);
        err = errno;
        free(stages);
    }
    if (r)
        fprintf(stderr, "prun: cannot write the report to '%s': %s\n", run->cli->report_path,
                strerror(err));
    return r;
}

/* ---- main ---- */

static int prepare(struct run *run)
{
    const struct cli *cli = run->cli;
    int r;
    if (job_build(&run->job, cli))
        return -1;
    job_names(&run->job, run->names, sizeof run->names);
    if ((r = env_build(environ, cli, &run->env)) || (r = sigwatch_start(&run->signals))) {
        fprintf(stderr, "prun: %s\n", strerror(-r));
        return -1;
    }
    if (open_files(&run->files, cli) || (cli->chdir && check_dir(cli->chdir)))
        return -1;
    return 0;
}

static int run_cli(const struct cli *cli, int *raise_sig)
{
    struct run run = {.cli = cli, .files = {{-1, -1, -1}, NULL}, .signals = {.fd = -1},
                      .timeout_at = NO_DEADLINE, .kill_at = NO_DEADLINE};
    int status = 125;
    if (prepare(&run) == 0)
        status = run_stages(&run, raise_sig);
    if (run.files.report) {
        int failed = run.job.n && write_report(&run, *raise_sig ? 128 + *raise_sig : status);
        if (fclose(run.files.report) != 0 && !failed) {
            fprintf(stderr, "prun: cannot write the report to '%s': %s\n", cli->report_path,
                    strerror(errno));
            failed = 1;
        }
        if (failed) {  /* the report was asked for: its loss is prun's failure */
            status = 125;
            *raise_sig = 0;
        }
    }
    close_stream_files(&run.files);
    prun_pipeline_free(run.pl);
    sigwatch_stop(&run.signals);
    free(run.env);
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
