/* SPDX-License-Identifier: MIT */
/* test_pipeline.c - prun_pipeline: N stages wired stdout to stdin, in one
 * process group; status with and without pipefail, per-stage results,
 * failed starts, timeouts, communicate, stderr routing and signals. */
#include "helpers.h"
#include "prun.h"

#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define ARGV(...) ((char *[]){__VA_ARGS__, NULL})
#define SH(cmd) ARGV("sh", "-c", (cmd))
#define NSTAGES(st) (sizeof(st) / sizeof((st)[0]))

/* --- helpers ------------------------------------------------------------ */

static pid_t pgid_of(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(fd, 0);
    ssize_t len = read(fd, buf, sizeof buf - 1);
    close(fd);
    ck_assert_int_gt(len, 0);
    buf[len] = '\0';
    char *rp = strrchr(buf, ')');
    char state;
    int ppid, pgid;
    ck_assert(rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pgid) == 3);
    return (pid_t)pgid;
}

/* Open fds that are not pidfds (those are the library's, one per stage
 * where the kernel has them). */
static int count_non_pidfds(void)
{
    DIR *d = opendir("/proc/self/fd");
    ck_assert_ptr_nonnull(d);
    int n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        char path[300], link[64];
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        snprintf(path, sizeof path, "/proc/self/fd/%s", e->d_name);
        ssize_t len = readlink(path, link, sizeof link - 1);
        link[len > 0 ? len : 0] = '\0';
        if (strcmp(link, "anon_inode:[pidfd]") != 0)
            n++;
    }
    closedir(d);
    return n;
}

static prun_pipeline *start(size_t n, char *const *const stages[], const prun_opts *o)
{
    prun_pipeline *pl = NULL;
    size_t failed = SIZE_MAX;
    int r = prun_pipeline_start(&pl, n, stages, o, &failed);
    ck_assert_msg(r == 0, "pipeline start: %s", prun_last_error());
    ck_assert_ptr_nonnull(pl);
    return pl;
}

static prun_stage_info stage(const prun_pipeline *pl, size_t i)
{
    prun_stage_info info;
    ck_assert_int_eq(prun_pipeline_stage(pl, i, &info), 0);
    return info;
}

/* Runs body() in a forked helper; its exit code is the number of the
 * first failed check (0: all passed). */
static void in_helper(int (*body)(void))
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exit(body());  /* exit(): coverage and LeakSanitizer have their say */
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper failed at step %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status));
}

static int count_lines(const prun_buf *b, const char *line)
{
    int n = 0;
    size_t len = strlen(line);
    for (const char *s = b->data; s && (s = strstr(s, line)); s += len)
        n++;
    return n;
}

/* --- wiring ---------------------------------------------------------------- */

START_TEST(three_stages_run)
{
    char *const *const stages[] = {ARGV("printf", "b\\na\\nc\\n"), ARGV("sort"),
                                   ARGV("head", "-2")};
    prun_opts o = {.capture_output = 1};
    prun_result res;
    ck_assert_int_eq(prun_pipeline_run(NSTAGES(stages), stages, &o, &res), 0);
    ck_assert_int_eq(res.returncode, 0);
    th_assert_buf_eq(res.out, "a\nb\n");
    th_assert_buf_eq(res.err, "");
    prun_result_free(&res);
}
END_TEST

START_TEST(three_stages_communicate)
{
    char *const *const stages[] = {ARGV("printf", "b\\na\\nc\\n"), ARGV("sort", "-r"),
                                   ARGV("head", "-2")};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    ck_assert_uint_eq(prun_pipeline_size(pl), 3);
    prun_buf out, err;
    ck_assert_int_eq(prun_pipeline_communicate(pl, NULL, 0, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "c\nb\n");
    ck_assert_ptr_null(err.data);
    prun_buf_free(&out);
    prun_pipeline_free(pl);
}
END_TEST

/* The caller holds no inner pipe end, so yes gets SIGPIPE once head is
 * gone (even though the caller ignores SIGPIPE: the stages get SIG_DFL). */
START_TEST(yes_head_finishes_at_once)
{
    signal(SIGPIPE, SIG_IGN);
    int fds = count_non_pidfds();
    char *const *const stages[] = {ARGV("yes"), ARGV("head", "-1")};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    int64_t t0 = th_now_ms();
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    ck_assert_int_eq(count_non_pidfds(), fds + 1);  /* the stdout pipe, nothing inner */
    prun_buf out;
    ck_assert_int_eq(prun_pipeline_communicate(pl, NULL, 0, 20000, &out, NULL), 0);
    ck_assert_int_lt(th_now_ms() - t0, 3000);
    th_assert_buf_eq(out, "y\n");
    int status = INT_MIN;
    ck_assert_int_eq(prun_pipeline_wait(pl, 10000, &status), 0);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(stage(pl, 0).returncode, -SIGPIPE);
    ck_assert_int_eq(stage(pl, 1).returncode, 0);
    ck_assert_int_eq(prun_pipeline_status(pl, 0), 0);
    ck_assert_int_eq(prun_pipeline_status(pl, 1), -SIGPIPE);
    prun_buf_free(&out);
    prun_pipeline_free(pl);
    signal(SIGPIPE, SIG_DFL);
}
END_TEST

START_TEST(communicate_with_input)
{
    char *const *const stages[] = {ARGV("cat"), ARGV("tr", "a-z", "A-Z")};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    prun_buf out, err;
    ck_assert_int_eq(prun_pipeline_communicate(pl, "hello pipeline", 14, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "HELLO PIPELINE");
    th_assert_buf_eq(err, "");
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_pipeline_free(pl);
}
END_TEST

START_TEST(communicate_big_data)
{
    size_t len = 16 * 1024 * 1024;
    char *in = malloc(len);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < len; i++)
        in[i] = (char)(i * 131 + i / 65521);
    char *const *const stages[] = {ARGV("cat"), ARGV("cat"), ARGV("cat")};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    prun_buf out;
    ck_assert_int_eq(prun_pipeline_communicate(pl, in, len, 60000, &out, NULL), 0);
    ck_assert_uint_eq(out.len, len);
    ck_assert(memcmp(out.data, in, len) == 0);
    prun_buf_free(&out);
    prun_pipeline_free(pl);
    free(in);
}
END_TEST

START_TEST(stderr_of_every_stage_in_one_pipe)
{
    char *const *const stages[] = {SH("echo e1 >&2; echo x"), SH("cat >/dev/null; echo e2 >&2"),
                                   SH("echo e3 >&2; echo last")};
    prun_opts o = {.stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    prun_buf out, err;
    ck_assert_int_eq(prun_pipeline_communicate(pl, NULL, 0, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "last\n");
    ck_assert_uint_eq(err.len, 9);
    ck_assert_int_eq(count_lines(&err, "e1\n"), 1);
    ck_assert_int_eq(count_lines(&err, "e2\n"), 1);
    ck_assert_int_eq(count_lines(&err, "e3\n"), 1);
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_pipeline_free(pl);
}
END_TEST

/* PRUN_STDOUT is 2>&1 per stage: stage 0's stderr goes into the pipe to
 * stage 1 (and is translated by tr), stage 1's to the final stdout. */
START_TEST(stderr_to_stdout_merges_per_stage)
{
    char *const *const stages[] = {SH("echo a1; echo a2 >&2"), SH("tr a b; echo c >&2")};
    prun_opts o = {.stdout_io = PRUN_PIPE, .stderr_io = PRUN_STDOUT};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    prun_buf out, err;
    ck_assert_int_eq(prun_pipeline_communicate(pl, NULL, 0, 10000, &out, &err), 0);
    th_assert_buf_eq(out, "b1\nb2\nc\n");
    ck_assert_ptr_null(err.data);
    prun_buf_free(&out);
    prun_pipeline_free(pl);
}
END_TEST

/* --- status ------------------------------------------------------------------- */

static char *const *const exits_3_5_0[] = {SH("exit 3"), SH("exit 5"), ARGV("true")};

START_TEST(pipefail_via_status)
{
    prun_pipeline *pl = start(3, exits_3_5_0, NULL);
    int status = INT_MIN;
    ck_assert_int_eq(prun_pipeline_wait(pl, 10000, &status), 0);
    ck_assert_int_eq(status, 0);
    ck_assert_int_eq(prun_pipeline_status(pl, 0), 0);
    ck_assert_int_eq(prun_pipeline_status(pl, 1), 5);
    ck_assert_int_eq(stage(pl, 0).returncode, 3);
    ck_assert_int_eq(stage(pl, 1).returncode, 5);
    ck_assert_int_eq(stage(pl, 2).returncode, 0);
    prun_pipeline_free(pl);

    prun_opts o = {.pipefail = 1};
    pl = start(3, exits_3_5_0, &o);
    ck_assert_int_eq(prun_pipeline_wait(pl, 10000, &status), 0);
    ck_assert_int_eq(status, 5);
    prun_pipeline_free(pl);
}
END_TEST

START_TEST(pipefail_via_run)
{
    prun_result res;
    ck_assert_int_eq(prun_pipeline_run(3, exits_3_5_0, NULL, &res), 0);
    ck_assert_int_eq(res.returncode, 0);
    prun_result_free(&res);

    prun_opts o = {.pipefail = 1};
    ck_assert_int_eq(prun_pipeline_run(3, exits_3_5_0, &o, &res), 0);
    ck_assert_int_eq(res.returncode, 5);
    prun_result_free(&res);

    o.check = 1;
    ck_assert_int_eq(prun_pipeline_run(3, exits_3_5_0, &o, &res), PRUN_ECHECK);
    ck_assert_int_eq(res.returncode, 5);
    prun_result_free(&res);

    char *const *const all_ok[] = {ARGV("true"), ARGV("true")};
    ck_assert_int_eq(prun_pipeline_run(2, all_ok, &o, &res), 0);
    ck_assert_int_eq(res.returncode, 0);
    prun_result_free(&res);
}
END_TEST

START_TEST(per_stage_results_and_rusage)
{
    char *const *const stages[] = {
        SH("i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo $i"),
        SH("cat >/dev/null; exit 4"),
    };
    prun_pipeline *pl = start(NSTAGES(stages), stages, NULL);
    prun_stage_info before = stage(pl, 0);
    ck_assert_int_gt(before.pid, 0);
    ck_assert_int_eq(before.exited, 0);
    int status;
    ck_assert_int_eq(prun_pipeline_wait(pl, 30000, &status), 0);
    ck_assert_int_eq(status, 4);

    prun_stage_info busy = stage(pl, 0), last = stage(pl, 1);
    ck_assert_int_eq(busy.pid, before.pid);
    ck_assert_int_eq(busy.exited, 1);
    ck_assert_int_eq(busy.returncode, 0);
    ck_assert_int_eq(busy.core_dumped, 0);
    long utime_us = busy.rusage.ru_utime.tv_sec * 1000000L + busy.rusage.ru_utime.tv_usec;
    ck_assert_int_gt(utime_us, 0);
    ck_assert_int_gt(busy.rusage.ru_maxrss, 0);
    ck_assert_int_eq(last.exited, 1);
    ck_assert_int_eq(last.returncode, 4);
    ck_assert_int_gt(last.rusage.ru_maxrss, 0);

    prun_stage_info info;
    ck_assert_int_eq(prun_pipeline_stage(pl, 2, &info), -EINVAL);
    prun_pipeline_free(pl);
}
END_TEST

/* The outer streams are the caller's, each stage's pidfd is readable once
 * that stage has exited, and poll gives the status once all have. */
START_TEST(streams_and_pidfds_of_the_handle)
{
    int fds = th_count_fds();
    char *const *const stages[] = {ARGV("cat"), SH("cat; echo e >&2; exit 3")};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    int in = prun_pipeline_stdin(pl), out = prun_pipeline_stdout(pl),
        err = prun_pipeline_stderr(pl);
    ck_assert(in >= 0 && out >= 0 && err >= 0 && in != out && out != err && in != err);
    ck_assert_int_eq(prun_pipeline_pidfd(pl, 2), -1);  /* no stage 2 */
    ck_assert_int_eq(prun_pipeline_pidfd(pl, SIZE_MAX), -1);
    int pidfd[2] = {prun_pipeline_pidfd(pl, 0), prun_pipeline_pidfd(pl, 1)};
    for (int i = 0; i < 2; i++) {
        if (pidfd[i] < 0)  /* no pidfds on this kernel */
            continue;
        struct pollfd pfd = {pidfd[i], POLLIN, 0};
        ck_assert_int_eq(poll(&pfd, 1, 0), 0);  /* running */
    }
    ck_assert_int_eq(prun_pipeline_poll(pl, NULL), 0);
    ck_assert_int_eq(th_write_all(in, "x\n"), 0);
    ck_assert_int_eq(prun_pipeline_close_stream(pl, 0), 0);
    ck_assert_int_eq(prun_pipeline_stdin(pl), -1);
    char *text = th_read_all(out, NULL), *etext = th_read_all(err, NULL);
    ck_assert_str_eq(text, "x\n");
    ck_assert_str_eq(etext, "e\n");
    free(text);
    free(etext);
    for (int i = 0; i < 2; i++) {
        if (pidfd[i] < 0)
            continue;
        struct pollfd pfd = {pidfd[i], POLLIN, 0};
        ck_assert_int_eq(poll(&pfd, 1, 20000), 1);  /* exited: readable */
    }
    ck_assert_int_eq(prun_pipeline_wait(pl, 20000, NULL), 0);
    int status = 12345;
    ck_assert_int_eq(prun_pipeline_poll(pl, &status), 1);
    ck_assert_int_eq(status, 3);
    ck_assert_int_eq(prun_pipeline_close_stream(pl, 1), 0);
    ck_assert_int_eq(prun_pipeline_close_stream(pl, 2), 0);
    ck_assert_int_eq(prun_pipeline_stdout(pl), -1);
    ck_assert_int_eq(prun_pipeline_stderr(pl), -1);
    prun_pipeline_free(pl);
    th_assert_no_leaks(fds);
}
END_TEST

static const int lost_want[2] = {3, 5};

/* The stages' statuses after SIGCHLD set to SIG_IGN reaped them in the
 * kernel: each stage either recovered (its returncode, no rusage) or lost
 * (status_lost, returncode 0, and the wait -ECHILD); all lost when lost. */
static int statuses_after_sig_ign(int all_lost)
{
    signal(SIGCHLD, SIG_IGN);
    /* The first waits until both have started, so that both are in the
     * one group (first_stage_reaped_before_the_second_starts is the other
     * case). */
    char *const *const stages[] = {SH("read x; exit 3"), SH("cat >/dev/null; exit 5")};
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_pipeline *pl;
    if (prun_pipeline_start(&pl, 2, stages, &o, NULL))
        return 2;
    prun_pipeline_close_stream(pl, 0);  /* now the first may exit, and then the second */
    for (size_t i = 0; i < 2; i++) {
        prun_stage_info info;
        if (prun_pipeline_stage(pl, i, &info) || !th_wait_gone(info.pid, 20000))
            return 10;
    }
    /* Gone, group and all, though not reaped by the library yet: nothing
     * to signal, and no error. */
    if (prun_pipeline_terminate(pl) != 0)
        return 11;
    int status = 12345, r = prun_pipeline_wait(pl, 20000, &status), lost = 0, rc[2];
    if (r != 0 && (r != -ECHILD || !strstr(prun_last_error(), "taken by another reaper")))
        return 3;
    for (size_t i = 0; i < 2; i++) {
        prun_stage_info info;
        if (prun_pipeline_stage(pl, i, &info) || !info.exited || info.has_rusage)
            return 4;
        if (info.returncode != (info.status_lost ? 0 : lost_want[i]))
            return 5;
        lost += info.status_lost;
        rc[i] = info.returncode;
    }
    if ((r == -ECHILD) != (lost > 0) || status != (r == 0 ? 5 : 12345))
        return 6;
    if (all_lost ? lost != 2 : th_kernel_keeps_exit_status() && !th_fallback() && lost)
        return 7;
    /* A lost stage counts as 0, as the page says. */
    if (prun_pipeline_status(pl, 0) != rc[1] ||
        prun_pipeline_status(pl, 1) != (rc[1] ? rc[1] : rc[0]))
        return 8;
    prun_pipeline_free(pl);
    return th_count_children() == 0 ? 0 : 9;
}

static int recovered_statuses(void)
{
    return statuses_after_sig_ign(0);
}

/* Linux before 6.15: no PIDFD_GET_INFO (ioctl(2) answers ENOTTY). */
static int lost_statuses(void)
{
    static const long nrs[] = {SYS_ioctl};
    return th_deny_syscalls(nrs, 1, ENOTTY) < 0 ? 1 : statuses_after_sig_ign(1);
}

/* With SIGCHLD ignored the first stage of `true | sleep` can be gone,
 * reaped by the kernel, group and all, before the second is started: the
 * second then leads a group of its own, which is the pipeline's, and a
 * signal to the pipeline reaches it.  Many times, as it is a race. */
static int leader_gone_at_once(void)
{
    signal(SIGCHLD, SIG_IGN);
    char *const *const stages[] = {ARGV("true"), ARGV("sleep", "100")};
    for (int round = 0; round < 30; round++) {
        prun_pipeline *pl;
        int status = 0;
        if (prun_pipeline_start(&pl, 2, stages, NULL, NULL))
            return 2;
        prun_stage_info last;
        if (prun_pipeline_stage(pl, 1, &last) || pgid_of(last.pid) != prun_pipeline_pgid(pl))
            return 3;
        if (prun_pipeline_kill(pl))
            return 4;
        int r = prun_pipeline_wait(pl, 20000, &status);
        if (r != 0 && r != -ECHILD)
            return 5;
        if (prun_pipeline_stage(pl, 1, &last) || !last.exited ||
            (!last.status_lost && last.returncode != -SIGKILL))
            return 6;
        prun_pipeline_free(pl);
    }
    return th_count_children() == 0 ? 0 : 7;
}

START_TEST(first_stage_reaped_before_the_second_starts)
{
    in_helper(leader_gone_at_once);
}
END_TEST

START_TEST(statuses_taken_by_another_reaper)
{
    in_helper(recovered_statuses);
    in_helper(lost_statuses);
}
END_TEST

/* As root: stages started as root, then the caller's real and effective
 * uids dropped (the saved one kept, to come back).  Neither the group nor
 * a stage may be signalled: -EPERM with a sentence, and nothing changed;
 * with the uid back, the same calls work. */
static int refused_signals(void)
{
    char *const *const stages[] = {ARGV("sleep", "100"), ARGV("sleep", "100")};
    prun_opts each = {.keep_pgroup = 1};
    prun_pipeline *group = NULL, *stagewise = NULL;
    int r = 0, sg = 0, ss = 0;
    if (prun_pipeline_start(&group, 2, stages, NULL, NULL) ||
        prun_pipeline_start(&stagewise, 2, stages, &each, NULL))
        return 2;
    if (setresuid(65534, 65534, 0) < 0)
        r = 3;
    else if (prun_pipeline_terminate(group) != -EPERM ||
             !strstr(prun_last_error(), "cannot send signal 15 to process group"))
        r = 4;
    else if (prun_pipeline_kill(stagewise) != -EPERM ||
             !strstr(prun_last_error(), "cannot send signal 9 to 'sleep'"))
        r = 5;
    else if (prun_pipeline_poll(group, NULL) != 0 || prun_pipeline_poll(stagewise, NULL) != 0)
        r = 6;
    if (setresuid(0, 0, 0) < 0)
        return 7;
    if ((prun_pipeline_kill(group) || prun_pipeline_kill(stagewise)) && !r)
        r = 8;
    if ((prun_pipeline_wait(group, 20000, &sg) || prun_pipeline_wait(stagewise, 20000, &ss) ||
         sg != -SIGKILL || ss != -SIGKILL) && !r)
        r = 9;
    prun_pipeline_free(group);
    prun_pipeline_free(stagewise);
    return r ? r : th_count_children() == 0 ? 0 : 10;
}

START_TEST(signals_it_may_not_send)
{
    if (geteuid() != 0)
        return;  /* needs stages it may not signal */
    in_helper(refused_signals);
}
END_TEST

/* --- arguments ------------------------------------------------------------------ */

/* Every function of a pipeline, given a NULL handle or an argument out of
 * range: the documented answer, with a sentence of its own, and nothing
 * started or left open. */
START_TEST(null_handle_and_bad_arguments)
{
    int fds = th_count_fds();
    char *empty[] = {NULL};
    char *const *const one[] = {ARGV("true")};
    char *const *const hole[] = {ARGV("true"), NULL};
    char *const *const blank[] = {ARGV("true"), empty, ARGV("true")};
    char *const *const two[] = {ARGV("true"), ARGV("true")};
    prun_opts session = {.new_session = 1};
    prun_pipeline *pl = (prun_pipeline *)&fds;  /* must come back NULL */
    size_t failed = 12345, written = 12345;
    prun_result res = {.returncode = 12345};
    prun_stage_info info;
    prun_buf line = {(char *)"junk", 4};  /* must come back empty */
    char buf[4];
    int status = 12345;

    TH_EXPECT_FAIL(prun_pipeline_start(NULL, 1, one, NULL, &failed), -EINVAL,
                   "prun_pipeline_start: out is NULL");
    ck_assert_uint_eq(failed, 0);
    TH_EXPECT_FAIL(prun_pipeline_start(&pl, 0, one, NULL, &failed), -EINVAL,
                   "a pipeline needs at least one stage");
    ck_assert_ptr_null(pl);
    TH_EXPECT_FAIL(prun_pipeline_start(&pl, 1, NULL, NULL, &failed), -EINVAL,
                   "a pipeline needs at least one stage");
    TH_EXPECT_FAIL(prun_pipeline_start(&pl, 2, hole, NULL, &failed), -EINVAL,
                   "stage 2 of the pipeline is empty");
    ck_assert_uint_eq(failed, 1);
    failed = 12345;
    TH_EXPECT_FAIL(prun_pipeline_start(&pl, 3, blank, NULL, &failed), -EINVAL,
                   "stage 2 of the pipeline is empty");
    ck_assert_uint_eq(failed, 1);
    TH_EXPECT_FAIL(prun_pipeline_start(&pl, 2, two, &session, &failed), -EINVAL,
                   "new_session cannot be used with a pipeline");
    ck_assert_uint_eq(failed, 0);
    TH_EXPECT_FAIL(prun_pipeline_start_sized(&pl, 1, one, &session, NULL, 8), -EINVAL,
                   "prun_opts of 8 bytes");
    ck_assert_ptr_null(pl);

    TH_EXPECT_FAIL(prun_pipeline_run(1, one, NULL, NULL), -EINVAL,
                   "prun_pipeline_run: res is NULL");
    TH_EXPECT_FAIL(prun_pipeline_run_sized(1, one, NULL, &res, sizeof(prun_opts), 4), -EINVAL,
                   "prun_result of 4 bytes");
    TH_EXPECT_FAIL(prun_pipeline_run(2, hole, NULL, &res), -EINVAL,
                   "stage 2 of the pipeline is empty");
    ck_assert_int_eq(res.returncode, 0);  /* res is always set */
    ck_assert_ptr_null(res.out.data);
    TH_EXPECT_FAIL(prun_pipeline_run(0, one, NULL, &res), -EINVAL,
                   "a pipeline needs at least one stage");
    TH_EXPECT_FAIL(prun_pipeline_run(2, two, &session, &res), -EINVAL,
                   "new_session cannot be used with a pipeline");

    ck_assert_uint_eq(prun_pipeline_size(NULL), 0);
    ck_assert_int_eq(prun_pipeline_pgid(NULL), 0);
    ck_assert_int_eq(prun_pipeline_stdin(NULL), -1);
    ck_assert_int_eq(prun_pipeline_stdout(NULL), -1);
    ck_assert_int_eq(prun_pipeline_stderr(NULL), -1);
    ck_assert_int_eq(prun_pipeline_pidfd(NULL, 0), -1);
    ck_assert_int_eq(prun_pipeline_has_tty(NULL), 0);
    ck_assert_int_eq(prun_pipeline_status(NULL, 0), 0);
    ck_assert_int_eq(prun_pipeline_status(NULL, 1), 0);
    TH_EXPECT_FAIL(prun_pipeline_close_stream(NULL, 0), -EINVAL,
                   "prun_pipeline_close_stream: the handle is NULL");
    TH_EXPECT_FAIL(prun_pipeline_poll(NULL, &status), -EINVAL,
                   "prun_pipeline_poll: the handle is NULL");
    TH_EXPECT_FAIL(prun_pipeline_wait(NULL, 0, &status), -EINVAL,
                   "prun_pipeline_wait: the handle is NULL");
    ck_assert_int_eq(status, 12345);
    TH_EXPECT_FAIL(prun_pipeline_communicate(NULL, NULL, 0, 0, NULL, NULL), -EINVAL,
                   "prun_pipeline_communicate: the handle is NULL");
    TH_EXPECT_FAIL(prun_pipeline_send_signal(NULL, SIGTERM), -EINVAL,
                   "prun_pipeline_send_signal: the handle is NULL");
    TH_EXPECT_FAIL(prun_pipeline_terminate(NULL), -EINVAL, "the handle is NULL");
    TH_EXPECT_FAIL(prun_pipeline_kill(NULL), -EINVAL, "the handle is NULL");
    TH_EXPECT_FAIL(prun_pipeline_write(NULL, "x", 1, 0, &written), -EINVAL,
                   "prun_pipeline_write: the handle is NULL");
    TH_EXPECT_FAIL(prun_pipeline_read(NULL, 1, buf, sizeof buf, 0), -EINVAL,
                   "prun_pipeline_read: the handle is NULL");
    TH_EXPECT_FAIL(prun_pipeline_readline(NULL, 1, 0, &line), -EINVAL,
                   "prun_pipeline_readline: the handle is NULL");
    ck_assert_ptr_null(line.data);
    TH_EXPECT_FAIL(prun_pipeline_stage(NULL, 1, &info), -EINVAL,
                   "prun_pipeline_stage: no stage 1");
    prun_pipeline_free(NULL);

    /* A real handle, asked for what it does not have. */
    pl = start(1, one, NULL);
    TH_EXPECT_FAIL(prun_pipeline_close_stream(pl, -1), -EINVAL, "stream is not 0, 1 or 2");
    TH_EXPECT_FAIL(prun_pipeline_close_stream(pl, 3), -EINVAL, "stream is not 0, 1 or 2");
    TH_EXPECT_FAIL(prun_pipeline_stage(pl, 1, &info), -EINVAL, "prun_pipeline_stage: no stage 1");
    TH_EXPECT_FAIL(prun_pipeline_stage(pl, 0, NULL), -EINVAL, "prun_pipeline_stage: no stage 0");
    TH_EXPECT_FAIL(prun_pipeline_stage_sized(pl, 0, &info, 8), -EINVAL,
                   "prun_stage_info of 8 bytes");
    ck_assert_int_eq(prun_pipeline_wait(pl, 20000, &status), 0);
    ck_assert_int_eq(status, 0);
    prun_pipeline_free(pl);
    th_assert_no_leaks(fds);
}
END_TEST

/* --- process groups and fds ---------------------------------------------------- */

START_TEST(stages_share_a_new_group)
{
    int fds = count_non_pidfds();
    char *const *const stages[] = {ARGV("cat"), ARGV("cat"), ARGV("cat")};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    /* Three outer pipes; no inner pipe end stays with the caller. */
    ck_assert_int_eq(count_non_pidfds(), fds + 3);
    pid_t leader = stage(pl, 0).pid;
    ck_assert_int_eq(prun_pipeline_pgid(pl), leader);
    ck_assert_int_ne(leader, getpgrp());
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(pgid_of(stage(pl, i).pid), leader);
    prun_buf out;
    ck_assert_int_eq(prun_pipeline_communicate(pl, "through", 7, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "through");
    prun_buf_free(&out);
    prun_pipeline_free(pl);
    ck_assert_int_eq(count_non_pidfds(), fds);
}
END_TEST

/* One stage may have a session of its own: it leads it and its group,
 * which is the pipeline's; take_tty is then moot (the new session has no
 * terminal), and the stage runs without one. */
START_TEST(one_stage_in_a_new_session)
{
    char *const *const stages[] = {ARGV("cat")};
    prun_opts o = {.stdin_io = PRUN_PIPE, .new_session = 1, .take_tty = 1};
    prun_pipeline *pl = start(1, stages, &o);
    pid_t pid = stage(pl, 0).pid;
    ck_assert_int_eq(getsid(pid), pid);
    ck_assert_int_eq(pgid_of(pid), pid);
    ck_assert_int_eq(prun_pipeline_pgid(pl), pid);
    ck_assert_int_eq(prun_pipeline_has_tty(pl), 0);
    ck_assert_int_eq(prun_pipeline_close_stream(pl, 0), 0);
    int status = 12345;
    ck_assert_int_eq(prun_pipeline_wait(pl, 20000, &status), 0);
    ck_assert_int_eq(status, 0);
    prun_pipeline_free(pl);
}
END_TEST

START_TEST(keep_pgroup_stays_in_ours)
{
    char *const *const stages[] = {ARGV("cat"), ARGV("cat"), ARGV("cat")};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .keep_pgroup = 1};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    ck_assert_int_eq(prun_pipeline_pgid(pl), 0);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(pgid_of(stage(pl, i).pid), getpgrp());
    prun_buf out;
    ck_assert_int_eq(prun_pipeline_communicate(pl, "x", 1, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "x");
    prun_buf_free(&out);
    prun_pipeline_free(pl);
}
END_TEST

/* --- failed starts -------------------------------------------------------------- */

/* Stage 0 (sleep 100) is already running when stage 1 fails: it must be
 * killed and reaped at once, with every pipe closed. */
static void missing_stage(size_t missing)
{
    char *const *stages[] = {ARGV("sleep", "100"), ARGV("cat"), ARGV("cat")};
    stages[missing] = ARGV("prun-test-no-such-program", "arg");
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    int fds = th_count_fds();
    prun_pipeline *pl = (prun_pipeline *)&o;  /* must come back NULL */
    size_t failed = SIZE_MAX;
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_pipeline_start(&pl, 3, (char *const *const *)stages, &o, &failed),
                     -ENOENT);
    ck_assert_int_lt(th_now_ms() - t0, 3000);
    ck_assert_ptr_null(pl);
    ck_assert_uint_eq(failed, missing);
    ck_assert_msg(strstr(prun_last_error(), "prun-test-no-such-program"),
                  "the error does not name the program: %s", prun_last_error());
    th_assert_no_leaks(fds);
}

/* The stages already started when a later one fails are killed and
 * reaped.  When another reaper takes their statuses meanwhile (SIGCHLD
 * set to SIG_IGN, no PIDFD_GET_INFO), that cleanup must not replace the
 * failure's sentence and step with its own -ECHILD. */
static int failure_outlives_cleanup(void)
{
    static const long nrs[] = {SYS_ioctl};
    if (th_deny_syscalls(nrs, 1, ENOTTY) < 0)
        return 1;
    signal(SIGCHLD, SIG_IGN);
    char *const *const stages[] = {ARGV("sleep", "100"), ARGV("sleep", "100"),
                                   ARGV("prun-test-no-such-program")};
    prun_pipeline *pl = NULL;
    prun_result res;
    size_t failed = 12345;
    if (prun_pipeline_start(&pl, 3, stages, NULL, &failed) != -ENOENT || pl || failed != 2)
        return 2;
    if (!strstr(prun_last_error(), "prun-test-no-such-program") ||
        prun_last_error_step() != PRUN_STEP_EXEC)
        return 3;
    if (prun_pipeline_run(3, stages, NULL, &res) != -ENOENT)
        return 4;
    prun_result_free(&res);
    if (!strstr(prun_last_error(), "prun-test-no-such-program") ||
        prun_last_error_step() != PRUN_STEP_EXEC)
        return 5;
    /* The same for a communicate that stops: the reason stays. */
    char *const *const yes[] = {ARGV("yes")};
    prun_opts small = {.stdout_io = PRUN_PIPE, .max_output = 10};
    if (prun_pipeline_start(&pl, 1, yes, &small, NULL))
        return 6;
    prun_buf out;
    if (prun_pipeline_communicate(pl, NULL, 0, 20000, &out, NULL) != PRUN_ETOOBIG ||
        !strstr(prun_last_error(), "exceeded 10 bytes"))
        return 7;
    prun_buf_free(&out);
    prun_pipeline_free(pl);
    return th_count_children() == 0 ? 0 : 8;
}

START_TEST(failure_outlives_its_cleanup)
{
    in_helper(failure_outlives_cleanup);
}
END_TEST

START_TEST(missing_middle_stage)
{
    missing_stage(1);
}
END_TEST

START_TEST(missing_first_and_last_stage)
{
    missing_stage(0);
    missing_stage(2);
}
END_TEST

START_TEST(missing_stage_in_run)
{
    char *const *const stages[] = {ARGV("sleep", "100"), ARGV("prun-test-no-such-program")};
    prun_opts o = {.capture_output = 1};
    prun_result res;
    ck_assert_int_eq(prun_pipeline_run(2, stages, &o, &res), -ENOENT);
    ck_assert_int_eq(th_count_children(), 0);
    prun_result_free(&res);
}
END_TEST

/* --- timeouts and signals ------------------------------------------------------- */

/* Every stage blocks forever; stage 0 started a grandchild and printed its
 * pid first.  The timeout must kill them all, grandchild included. */
START_TEST(timeout_kills_every_stage_and_grandchild)
{
    char *const *const stages[] = {SH("sleep 100 & echo $!; wait"), ARGV("cat"),
                                   SH("cat; sleep 100")};
    prun_opts o = {.capture_output = 1, .timeout_ms = 500};
    prun_result res;
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_pipeline_run(NSTAGES(stages), stages, &o, &res), PRUN_ETIMEOUT);
    int64_t took = th_now_ms() - t0;
    ck_assert_int_ge(took, 450);
    ck_assert_int_lt(took, 3000);
    ck_assert_int_eq(th_count_children(), 0);
    ck_assert_ptr_nonnull(res.out.data);
    pid_t grandchild = (pid_t)atoi(res.out.data);
    ck_assert_int_gt(grandchild, 1);
    ck_assert_msg(th_wait_gone(grandchild, 3000), "the grandchild %d outlived the timeout",
                  (int)grandchild);
    ck_assert_int_eq(res.returncode, -9);
    prun_result_free(&res);
}
END_TEST

/* prun_pipeline_communicate's own timeout kills nothing. */
START_TEST(communicate_timeout_then_kill)
{
    char *const *const stages[] = {SH("echo part; exec sleep 100"), ARGV("cat")};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    prun_buf out;
    ck_assert_int_eq(prun_pipeline_communicate(pl, NULL, 0, 300, &out, NULL), PRUN_ETIMEOUT);
    ck_assert_int_eq(prun_pipeline_poll(pl, NULL), 0);
    ck_assert_int_eq(prun_pipeline_kill(pl), 0);
    ck_assert_int_eq(prun_pipeline_communicate(pl, NULL, 0, 10000, &out, NULL), 0);
    th_assert_buf_eq(out, "part\n");
    ck_assert_int_eq(stage(pl, 0).returncode, -9);
    ck_assert_int_eq(stage(pl, 1).returncode, -9);
    prun_buf_free(&out);
    prun_pipeline_free(pl);
}
END_TEST

static void signal_reaches_every_stage(int keep_pgroup, int (*send)(prun_pipeline *), int sig)
{
    char *const *const stages[] = {ARGV("sleep", "100"), ARGV("sleep", "100"),
                                   ARGV("sleep", "100")};
    prun_opts o = {.keep_pgroup = keep_pgroup};
    prun_pipeline *pl = start(NSTAGES(stages), stages, &o);
    ck_assert_int_eq(prun_pipeline_wait(pl, 0, NULL), PRUN_ETIMEOUT);
    ck_assert_int_eq(send(pl), 0);
    int status;
    ck_assert_int_eq(prun_pipeline_wait(pl, 10000, &status), 0);
    ck_assert_int_eq(status, -sig);
    for (size_t i = 0; i < 3; i++)
        ck_assert_int_eq(stage(pl, i).returncode, -sig);
    ck_assert_int_eq(send(pl), 0);  /* all reaped: nothing sent, no error */
    prun_pipeline_free(pl);
}

static int send_int(prun_pipeline *pl)
{
    return prun_pipeline_send_signal(pl, SIGINT);
}

START_TEST(terminate_and_kill_reach_every_stage)
{
    signal_reaches_every_stage(0, prun_pipeline_terminate, SIGTERM);
    signal_reaches_every_stage(0, prun_pipeline_kill, SIGKILL);
    signal_reaches_every_stage(0, send_int, SIGINT);
}
END_TEST

START_TEST(signals_without_a_group)
{
    signal_reaches_every_stage(1, prun_pipeline_terminate, SIGTERM);
    signal_reaches_every_stage(1, prun_pipeline_kill, SIGKILL);
}
END_TEST

/* --- leaks ---------------------------------------------------------------------- */

START_TEST(no_leaks_after_a_batch)
{
    int fds = th_count_fds();
    char *const *const ok[] = {ARGV("printf", "x"), ARGV("cat")};
    char *const *const bad[] = {ARGV("true"), ARGV("prun-test-no-such-program")};
    char *const *const slow[] = {ARGV("sleep", "5"), ARGV("cat")};
    for (int i = 0; i < 3; i++) {
        prun_result res;
        prun_opts cap = {.capture_output = 1};
        ck_assert_int_eq(prun_pipeline_run(2, ok, &cap, &res), 0);
        prun_result_free(&res);
        ck_assert_int_eq(prun_pipeline_run(2, bad, &cap, &res), -ENOENT);
        prun_result_free(&res);
        prun_opts to = {.capture_output = 1, .timeout_ms = 100};
        ck_assert_int_eq(prun_pipeline_run(2, slow, &to, &res), PRUN_ETIMEOUT);
        prun_result_free(&res);
        prun_opts fail = {.capture_output = 1, .check = 1, .pipefail = 1};
        ck_assert_int_eq(prun_pipeline_run(3, exits_3_5_0, &fail, &res), PRUN_ECHECK);
        prun_result_free(&res);
    }
    th_assert_no_leaks(fds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("pipeline");
    TCase *tc = th_tcase(s, "wiring", 60);
    tcase_add_test(tc, three_stages_run);
    tcase_add_test(tc, three_stages_communicate);
    tcase_add_test(tc, yes_head_finishes_at_once);
    tcase_add_test(tc, communicate_with_input);
    tcase_add_test(tc, communicate_big_data);
    tcase_add_test(tc, stderr_of_every_stage_in_one_pipe);
    tcase_add_test(tc, stderr_to_stdout_merges_per_stage);

    tc = th_tcase(s, "status", 60);
    tcase_add_test(tc, pipefail_via_status);
    tcase_add_test(tc, pipefail_via_run);
    tcase_add_test(tc, per_stage_results_and_rusage);

    tc = th_tcase(s, "groups", 30);
    tcase_add_test(tc, stages_share_a_new_group);
    tcase_add_test(tc, keep_pgroup_stays_in_ours);
    tcase_add_test(tc, one_stage_in_a_new_session);

    tc = th_tcase(s, "failed start", 30);
    tcase_add_test(tc, missing_middle_stage);
    tcase_add_test(tc, missing_first_and_last_stage);
    tcase_add_test(tc, missing_stage_in_run);
    tcase_add_test(tc, failure_outlives_its_cleanup);

    tc = th_tcase(s, "timeout and signals", 60);
    tcase_add_test(tc, timeout_kills_every_stage_and_grandchild);
    tcase_add_test(tc, communicate_timeout_then_kill);
    tcase_add_test(tc, terminate_and_kill_reach_every_stage);
    tcase_add_test(tc, signals_without_a_group);

    tcase_add_test(tc, signals_it_may_not_send);

    tc = th_tcase(s, "handle", 60);
    tcase_add_test(tc, streams_and_pidfds_of_the_handle);
    tcase_add_test(tc, statuses_taken_by_another_reaper);
    tcase_add_test(tc, first_stage_reaped_before_the_second_starts);
    tcase_add_test(tc, null_handle_and_bad_arguments);

    tc = th_tcase(s, "leaks", 60);
    tcase_add_test(tc, no_leaks_after_a_batch);

    return th_run_suite(s);
}
