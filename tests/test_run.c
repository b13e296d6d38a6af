/* SPDX-License-Identifier: MIT */
/* test_run.c - prun_run() and its wrappers: capture, check, input, the
 * timeout with partial output, grandchildren, process groups, call,
 * check_call, check_output, getstatusoutput, getoutput, and leaks. */
#include "helpers.h"
#include "prun.h"

#include <check.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define SH(cmd) ((char *[]){"sh", "-c", (cmd), NULL})

static pid_t pid_in(const prun_buf *b)
{
    ck_assert_ptr_nonnull(b->data);
    long pid = strtol(b->data, NULL, 10);
    ck_assert_int_gt(pid, 1);
    return (pid_t)pid;
}

/* --- run ---------------------------------------------------------------- */

START_TEST(run_captures_output)
{
    prun_opts o = {.capture_output = 1};
    prun_result res;
    ck_assert_int_eq(prun_run(SH("printf BDFL; printf FLUFL >&2"), &o, &res), 0);
    ck_assert_int_eq(res.returncode, 0);
    th_assert_buf_eq(res.out, "BDFL");
    th_assert_buf_eq(res.err, "FLUFL");
    prun_result_free(&res);
    ck_assert_ptr_null(res.out.data);
}
END_TEST

START_TEST(run_without_capture_gives_null)
{
    prun_result res;
    ck_assert_int_eq(prun_run(SH("exit 47"), NULL, &res), 0);
    ck_assert_int_eq(res.returncode, 47);
    ck_assert_ptr_null(res.out.data);
    ck_assert_ptr_null(res.err.data);
    prun_result_free(&res);
}
END_TEST

START_TEST(run_returncode_of_a_signal)
{
    prun_result res;
    ck_assert_int_eq(prun_run(SH("kill -TERM $$"), NULL, &res), 0);
    ck_assert_int_eq(res.returncode, -15);
    prun_result_free(&res);
}
END_TEST

START_TEST(run_check_fills_the_result)
{
    prun_opts o = {.capture_output = 1, .check = 1};
    prun_result res;
    ck_assert_int_eq(prun_run(SH("echo o; echo e >&2; exit 3"), &o, &res), PRUN_ECHECK);
    ck_assert_int_eq(res.returncode, 3);
    th_assert_buf_eq(res.out, "o\n");
    th_assert_buf_eq(res.err, "e\n");
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "3"));
    prun_result_free(&res);

    ck_assert_int_eq(prun_run(SH("kill -TERM $$"), &o, &res), PRUN_ECHECK);
    ck_assert_int_eq(res.returncode, -15);
    prun_result_free(&res);

    ck_assert_int_eq(prun_run(SH("true"), &o, &res), 0);
    ck_assert_int_eq(res.returncode, 0);
    prun_result_free(&res);
}
END_TEST

START_TEST(run_input)
{
    prun_opts o = {.capture_output = 1, .input = "pear", .input_len = 4};
    prun_result res;
    ck_assert_int_eq(prun_run((char *[]){"tr", "a-z", "A-Z", NULL}, &o, &res), 0);
    th_assert_buf_eq(res.out, "PEAR");
    prun_result_free(&res);
}
END_TEST

/* input with input_len 0 is an empty stdin: a pipe closed at once, not the
 * caller's stdin. */
START_TEST(run_empty_input)
{
    prun_opts o = {.capture_output = 1, .input = "", .input_len = 0};
    prun_result res;
    ck_assert_int_eq(prun_run(SH("[ -p /dev/stdin ] || exit 9; wc -c"), &o, &res), 0);
    ck_assert_int_eq(res.returncode, 0);
    th_assert_buf_eq(res.out, "0\n");
    prun_result_free(&res);
}
END_TEST

START_TEST(run_big_input_and_output)
{
    size_t len = 8 * 1024 * 1024;
    char *in = malloc(len);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < len; i++)
        in[i] = (char)('a' + (i * 7 + i / 4093) % 26);
    prun_opts o = {.capture_output = 1, .input = in, .input_len = len};
    prun_result res;
    ck_assert_int_eq(prun_run(SH("cat; cat /dev/null >&2"), &o, &res), 0);
    ck_assert_uint_eq(res.out.len, len);
    ck_assert(memcmp(res.out.data, in, len) == 0);
    prun_result_free(&res);
    free(in);
}
END_TEST

START_TEST(run_conflicting_options)
{
    int children = th_count_children();
    prun_result res;
    prun_opts o = {.input = "x", .input_len = 1, .stdin_io = PRUN_DEVNULL};
    ck_assert_int_eq(prun_run(SH("true"), &o, &res), -EINVAL);
    prun_result_free(&res);
    o = (prun_opts){.capture_output = 1, .stdout_io = PRUN_PIPE};
    ck_assert_int_eq(prun_run(SH("true"), &o, &res), -EINVAL);
    prun_result_free(&res);
    o = (prun_opts){.capture_output = 1, .stderr_io = PRUN_DEVNULL};
    ck_assert_int_eq(prun_run(SH("true"), &o, &res), -EINVAL);
    prun_result_free(&res);
    ck_assert_int_eq(th_count_children(), children);
}
END_TEST

START_TEST(run_missing_program)
{
    prun_opts o = {.capture_output = 1};
    prun_result res;
    ck_assert_int_eq(prun_run((char *[]){"prun-test-no-such-program", NULL}, &o, &res), -ENOENT);
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "prun-test-no-such-program"));
    prun_result_free(&res);
}
END_TEST

START_TEST(run_max_output)
{
    prun_opts o = {.capture_output = 1, .max_output = 65536};
    prun_result res;
    ck_assert_int_eq(prun_run((char *[]){"yes", NULL}, &o, &res), PRUN_ETOOBIG);
    ck_assert_uint_eq(res.out.len, 65536);
    ck_assert_int_eq(res.returncode, -9);
    prun_result_free(&res);
}
END_TEST

/* --- timeouts --------------------------------------------------------------- */

START_TEST(run_timeout_keeps_partial_output)
{
    prun_opts o = {.capture_output = 1, .timeout_ms = 500};
    prun_result res;
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_run(SH("printf out; printf err >&2; exec sleep 5"), &o, &res),
                     PRUN_ETIMEOUT);
    int64_t took = th_now_ms() - t0;
    ck_assert_int_ge(took, 450);
    ck_assert_int_lt(took, 3000);
    th_assert_buf_eq(res.out, "out");
    th_assert_buf_eq(res.err, "err");
    ck_assert_int_eq(res.returncode, -9);
    ck_assert_int_eq(th_count_children(), 0);
    prun_result_free(&res);
}
END_TEST

START_TEST(run_int_max_timeout)
{
    prun_opts o = {.capture_output = 1, .timeout_ms = INT_MAX};
    prun_result res;
    ck_assert_int_eq(prun_run(SH("sleep 0.2; echo ok"), &o, &res), 0);
    th_assert_buf_eq(res.out, "ok\n");
    prun_result_free(&res);
}
END_TEST

/* Python hangs 100 s here (or raises TimeoutExpired with timeout=1): the
 * backgrounded sleep holds the pipes.  sh prints the sleep's pid on stderr
 * so the test can kill it afterwards. */
static void grandchild_case(int timeout_ms)
{
    prun_opts o = {.capture_output = 1, .timeout_ms = timeout_ms};
    prun_result res;
    int64_t t0 = th_now_ms();
    int r = prun_run(SH("sleep 100 & echo $! >&2; echo started"), &o, &res);
    int64_t took = th_now_ms() - t0;
    if (res.err.data)
        kill(pid_in(&res.err), SIGKILL);
    ck_assert_int_eq(r, 0);
    ck_assert_int_lt(took, 3000);
    ck_assert_int_eq(res.returncode, 0);
    th_assert_buf_eq(res.out, "started\n");
    prun_result_free(&res);
}

START_TEST(run_grandchild_holding_the_pipes)
{
    grandchild_case(0);
}
END_TEST

START_TEST(run_grandchild_with_timeout_is_no_timeout)
{
    grandchild_case(1000);
}
END_TEST

/* With new_pgroup the timeout kills the group, the grandchild included. */
START_TEST(run_timeout_kills_the_group)
{
    prun_opts o = {.capture_output = 1, .timeout_ms = 500, .new_pgroup = 1};
    prun_result res;
    int64_t t0 = th_now_ms();
    ck_assert_int_eq(prun_run(SH("sleep 100 & echo $!; wait"), &o, &res), PRUN_ETIMEOUT);
    ck_assert_int_lt(th_now_ms() - t0, 3000);
    pid_t grandchild = pid_in(&res.out);
    ck_assert_msg(th_wait_gone(grandchild, 3000), "the grandchild %d outlived the timeout",
                  (int)grandchild);
    ck_assert_int_eq(res.returncode, -9);
    prun_result_free(&res);
}
END_TEST

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

/* on_output, the first time: notes the pid the child printed, and drops
 * the caller's real and effective uids (the saved one kept, to come back),
 * so that the child, root's, can no longer be signalled. */
static int note_pid_and_drop_uid(void *userdata, int stream, const char *data, size_t len)
{
    pid_t *pid = userdata;
    char text[32];
    (void)stream;
    if (*pid)
        return 0;
    snprintf(text, sizeof text, "%.*s", (int)(len < sizeof text ? len : sizeof text - 1), data);
    *pid = (pid_t)atoi(text);
    return setresuid(65534, 65534, 0) < 0 ? -1 : 0;
}

static int note_pid_drop_uid_and_stop(void *userdata, int stream, const char *data, size_t len)
{
    int r = note_pid_and_drop_uid(userdata, stream, data, len);
    return r ? r : 42;
}

/* As root: when the timeout comes the child cannot be killed.  The call
 * must not wait for it: PRUN_ETIMEOUT at once, a sentence that says so,
 * and the child left to the caller, nothing else held. */
static int unkillable_child(void)
{
    int fds = th_count_fds();
    pid_t pid = 0;
    prun_opts o = {.stdout_io = PRUN_PIPE, .on_output = note_pid_and_drop_uid, .userdata = &pid,
                   .timeout_ms = 300, .new_pgroup = 1};
    prun_result res;
    int64_t t0 = th_now_ms();
    int r = prun_run(SH("echo $$; exec sleep 100"), &o, &res);
    int64_t took = th_now_ms() - t0;
    char sentence[256];
    snprintf(sentence, sizeof sentence, "%s", prun_last_error());
    if (setresuid(0, 0, 0) < 0)
        return 2;
    siginfo_t si = {0};
    if (pid <= 0 || kill(pid, SIGKILL) < 0 || waitid(P_PID, (id_t)pid, &si, WEXITED) < 0)
        return 3;  /* still ours to reap: the library let it go */
    prun_result_free(&res);
    if (r != PRUN_ETIMEOUT || si.si_status != SIGKILL)
        return 4;
    if (!strstr(sentence, "'sh' did not finish within 300 ms and cannot be killed") ||
        !strstr(sentence, "Operation not permitted"))
        return 5;
    if (took > 5000)
        return 6;
    /* The same when on_output stops the call: its value, at once. */
    pid = 0;
    o = (prun_opts){.stdout_io = PRUN_PIPE, .on_output = note_pid_drop_uid_and_stop,
                    .userdata = &pid};
    r = prun_run(SH("echo $$; exec sleep 100"), &o, &res);
    if (setresuid(0, 0, 0) < 0)
        return 8;
    if (pid <= 0 || kill(pid, SIGKILL) < 0 || waitid(P_PID, (id_t)pid, &si, WEXITED) < 0)
        return 9;
    prun_result_free(&res);
    if (r != 42)
        return 10;
    return th_count_fds() == fds && th_count_children() == 0 ? 0 : 7;
}

START_TEST(run_timeout_with_an_unkillable_child)
{
    if (geteuid() != 0)
        return;  /* needs a child it may not kill */
    in_helper(unkillable_child);
}
END_TEST

/* The timeout's kill and reap, when another reaper takes the status
 * (SIGCHLD set to SIG_IGN, no PIDFD_GET_INFO): still PRUN_ETIMEOUT with
 * its sentence, at once, with nothing left behind. */
static int timeout_and_lost_status(void)
{
    static const long nrs[] = {SYS_ioctl};
    if (th_deny_syscalls(nrs, 1, ENOTTY) < 0)
        return 1;
    signal(SIGCHLD, SIG_IGN);
    prun_opts o = {.capture_output = 1, .timeout_ms = 200};
    prun_result res;
    int64_t t0 = th_now_ms();
    int r = prun_run(SH("echo partial; exec sleep 100"), &o, &res);
    if (r != PRUN_ETIMEOUT || !strstr(prun_last_error(), "did not finish within 200 ms"))
        return 2;
    if (th_now_ms() - t0 > 5000 || !res.out.data || strcmp(res.out.data, "partial\n") != 0)
        return 3;
    prun_result_free(&res);
    return th_count_children() == 0 ? 0 : 4;
}

START_TEST(run_timeout_with_a_lost_status)
{
    in_helper(timeout_and_lost_status);
}
END_TEST

/* A command line too long for the sentence is cut there, for one command
 * and for a pipeline, and the sentence still says what happened. */
START_TEST(long_command_lines_are_cut_in_the_sentence)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "exit 3 # %0250d", 0);
    char *argv[] = {cmd, NULL};
    prun_opts o = {.shell = 1, .check = 1};
    prun_result res;
    TH_EXPECT_FAIL(prun_run(argv, &o, &res), PRUN_ECHECK, "'exit 3 # 0000");
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "0 returned 3: "));
    ck_assert_int_lt(strlen(prun_last_error()), 200);
    ck_assert_int_eq(res.returncode, 3);
    prun_result_free(&res);
    char *const *const stages[] = {argv, argv, argv};
    TH_EXPECT_FAIL(prun_pipeline_run(3, stages, &o, &res), PRUN_ECHECK,
                   "the pipeline 'exit 3 # 0000");
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "0 returned 3: "));
    ck_assert_ptr_null(strstr(prun_last_error(), " | "));  /* cut within the first stage */
    prun_result_free(&res);
}
END_TEST

/* --- the wrappers -------------------------------------------------------- */

START_TEST(call_returns_the_returncode)
{
    int rc = INT_MIN;
    ck_assert_int_eq(prun_call(SH("exit 47"), NULL, &rc), 0);
    ck_assert_int_eq(rc, 47);
    ck_assert_int_eq(prun_call(SH("exit 0"), NULL, NULL), 0);
    ck_assert_int_eq(prun_call((char *[]){"prun-test-no-such-program", NULL}, NULL, &rc), -ENOENT);
}
END_TEST

START_TEST(check_call_fails_on_nonzero)
{
    ck_assert_int_eq(prun_check_call(SH("exit 47"), NULL), PRUN_ECHECK);
    ck_assert_int_eq(prun_check_call(SH("exit 0"), NULL), 0);
    prun_opts o = {.stdout_io = PRUN_DEVNULL};
    ck_assert_int_eq(prun_check_call(SH("echo hidden; kill -KILL $$"), &o), PRUN_ECHECK);
}
END_TEST

START_TEST(check_output_captures_stdout)
{
    prun_buf out;
    ck_assert_int_eq(prun_check_output(SH("printf hello; printf e >/dev/null"), NULL, &out), 0);
    th_assert_buf_eq(out, "hello");
    prun_buf_free(&out);

    prun_opts o = {.input = "pear", .input_len = 4};
    ck_assert_int_eq(prun_check_output((char *[]){"tr", "a-z", "A-Z", NULL}, &o, &out), 0);
    th_assert_buf_eq(out, "PEAR");
    prun_buf_free(&out);
}
END_TEST

START_TEST(check_output_keeps_output_on_failure)
{
    prun_buf out;
    ck_assert_int_eq(prun_check_output(SH("printf partial; exit 2"), NULL, &out), PRUN_ECHECK);
    th_assert_buf_eq(out, "partial");
    prun_buf_free(&out);
}
END_TEST

START_TEST(check_output_rejects_stdout_io)
{
    prun_buf out;
    prun_opts o = {.stdout_io = PRUN_PIPE};
    ck_assert_int_eq(prun_check_output(SH("true"), &o, &out), -EINVAL);
    ck_assert_ptr_null(out.data);
    o = (prun_opts){.capture_output = 1};
    ck_assert_int_eq(prun_check_output(SH("true"), &o, &out), -EINVAL);
    ck_assert_ptr_null(out.data);
}
END_TEST

struct status_case {
    const char *cmd;
    int status;
    const char *out;  /* NULL: only checked to be non-empty */
};

START_TEST(getstatusoutput_semantics)
{
    static const struct status_case cases[] = {
        {"echo xyzzy", 0, "xyzzy"},
        {"cat /nonexistent", 1, "cat: /nonexistent: No such file or directory"},
        {"kill $$", -15, ""},
        {"/bin/junk", 127, NULL},
        {"printf \"a\\n\\n\"", 0, "a\n"},
        {"printf nonl", 0, "nonl"},
        {"echo out; echo err >&2", 0, "out\nerr"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int status = INT_MIN;
        prun_buf out;
        ck_assert_int_eq(prun_getstatusoutput(cases[i].cmd, &status, &out), 0);
        ck_assert_msg(status == cases[i].status, "%s: status %d, expected %d", cases[i].cmd,
                      status, cases[i].status);
        if (cases[i].out)
            th_assert_buf_eq(out, cases[i].out);
        else
            ck_assert_msg(out.len > 0 && strstr(out.data, "junk"), "%s: no error message",
                          cases[i].cmd);
        prun_buf_free(&out);
    }
}
END_TEST

START_TEST(getoutput_returns_the_text)
{
    char *s = prun_getoutput("echo xyzzy");
    ck_assert_ptr_nonnull(s);
    ck_assert_str_eq(s, "xyzzy");
    free(s);
    s = prun_getoutput("exit 3");  /* the status is dropped; no output is "" */
    ck_assert_ptr_nonnull(s);
    ck_assert_msg(s[0] == '\0', "getoutput(\"exit 3\") is not \"\"");
    free(s);
}
END_TEST

/* Every function of the run family, given NULL where it may not be: the
 * documented answer with its sentence, and nothing started; and NULL
 * where it may be (an output or status nobody wants). */
START_TEST(null_arguments)
{
    int fds = th_count_fds();
    char *empty[] = {NULL};
    prun_result res = {.returncode = 12345};
    prun_buf out = {(char *)"junk", 4};
    int rc = 12345;
    TH_EXPECT_FAIL(prun_run(SH("true"), NULL, NULL), -EINVAL, "prun_run: res is NULL");
    TH_EXPECT_FAIL(prun_run(NULL, NULL, &res), -EINVAL, "empty argv");
    ck_assert_int_eq(res.returncode, 0);  /* res is always set */
    ck_assert_ptr_null(res.out.data);
    TH_EXPECT_FAIL(prun_run(empty, NULL, &res), -EINVAL, "empty argv");
    TH_EXPECT_FAIL(prun_call(NULL, NULL, &rc), -EINVAL, "empty argv");
    ck_assert_int_eq(rc, 0);
    TH_EXPECT_FAIL(prun_check_call(empty, NULL), -EINVAL, "empty argv");
    TH_EXPECT_FAIL(prun_check_output(NULL, NULL, &out), -EINVAL, "empty argv");
    ck_assert_ptr_null(out.data);
    out = (prun_buf){(char *)"junk", 4};
    TH_EXPECT_FAIL(prun_getstatusoutput(NULL, &rc, &out), -EINVAL,
                   "getstatusoutput: cmd is NULL");
    ck_assert_ptr_null(out.data);
    prun_pipeline_stage(NULL, 12345, NULL);  /* a sentence the failure must replace */
    ck_assert_ptr_null(prun_getoutput(NULL));
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "getstatusoutput: cmd is NULL"));
    prun_result_free(NULL);

    /* The outputs nobody asked for are read and dropped. */
    ck_assert_int_eq(prun_call(SH("echo x; exit 4"), NULL, NULL), 0);
    ck_assert_int_eq(prun_check_output(SH("echo x"), NULL, NULL), 0);
    TH_EXPECT_FAIL(prun_check_output(SH("echo x; exit 4"), NULL, NULL), PRUN_ECHECK,
                   "'sh' returned 4");
    rc = 12345;
    ck_assert_int_eq(prun_getstatusoutput("echo x; exit 4", &rc, NULL), 0);
    ck_assert_int_eq(rc, 4);
    ck_assert_int_eq(prun_getstatusoutput("exit 5", NULL, NULL), 0);
    th_assert_no_leaks(fds);
}
END_TEST

/* --- leaks ---------------------------------------------------------------- */

START_TEST(no_leaks_after_a_batch)
{
    int fds = th_count_fds();
    prun_result res;
    prun_buf out;
    int rc;
    for (int i = 0; i < 3; i++) {
        prun_opts cap = {.capture_output = 1};
        ck_assert_int_eq(prun_run(SH("echo o; echo e >&2"), &cap, &res), 0);
        prun_result_free(&res);
        ck_assert_int_eq(prun_run((char *[]){"prun-test-no-such-program", NULL}, &cap, &res),
                         -ENOENT);
        prun_result_free(&res);
        prun_opts chk = {.capture_output = 1, .check = 1, .input = "in", .input_len = 2};
        ck_assert_int_eq(prun_run(SH("cat; exit 1"), &chk, &res), PRUN_ECHECK);
        prun_result_free(&res);
        prun_opts slow = {.capture_output = 1, .timeout_ms = 100};
        ck_assert_int_eq(prun_run(SH("exec sleep 5"), &slow, &res), PRUN_ETIMEOUT);
        prun_result_free(&res);
        prun_opts big = {.capture_output = 1, .max_output = 10};
        ck_assert_int_eq(prun_run((char *[]){"yes", NULL}, &big, &res), PRUN_ETOOBIG);
        prun_result_free(&res);
        prun_opts bad = {.capture_output = 1, .stdout_io = PRUN_PIPE};
        ck_assert_int_eq(prun_run(SH("true"), &bad, &res), -EINVAL);
        prun_result_free(&res);
        prun_opts badcwd = {.capture_output = 1, .cwd = "/nonexistent/dir"};
        ck_assert_int_lt(prun_run(SH("true"), &badcwd, &res), 0);
        prun_result_free(&res);
        ck_assert_int_eq(prun_call(SH("exit 3"), NULL, &rc), 0);
        ck_assert_int_eq(prun_check_call(SH("exit 3"), NULL), PRUN_ECHECK);
        ck_assert_int_eq(prun_check_output(SH("echo x; exit 3"), NULL, &out), PRUN_ECHECK);
        prun_buf_free(&out);
        ck_assert_int_eq(prun_getstatusoutput("/bin/junk", &rc, &out), 0);
        prun_buf_free(&out);
        free(prun_getoutput("echo y"));
    }
    th_assert_no_leaks(fds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("run");
    TCase *tc = th_tcase(s, "run", 30);
    tcase_add_test(tc, run_captures_output);
    tcase_add_test(tc, run_without_capture_gives_null);
    tcase_add_test(tc, run_returncode_of_a_signal);
    tcase_add_test(tc, run_check_fills_the_result);
    tcase_add_test(tc, run_input);
    tcase_add_test(tc, run_empty_input);
    tcase_add_test(tc, run_big_input_and_output);
    tcase_add_test(tc, run_conflicting_options);
    tcase_add_test(tc, run_missing_program);
    tcase_add_test(tc, run_max_output);

    tc = th_tcase(s, "timeout", 60);
    tcase_add_test(tc, run_timeout_keeps_partial_output);
    tcase_add_test(tc, run_int_max_timeout);
    tcase_add_test(tc, run_grandchild_holding_the_pipes);
    tcase_add_test(tc, run_grandchild_with_timeout_is_no_timeout);
    tcase_add_test(tc, run_timeout_kills_the_group);
    tcase_add_test(tc, run_timeout_with_an_unkillable_child);
    tcase_add_test(tc, run_timeout_with_a_lost_status);

    tc = th_tcase(s, "wrappers", 30);
    tcase_add_test(tc, call_returns_the_returncode);
    tcase_add_test(tc, check_call_fails_on_nonzero);
    tcase_add_test(tc, check_output_captures_stdout);
    tcase_add_test(tc, check_output_keeps_output_on_failure);
    tcase_add_test(tc, check_output_rejects_stdout_io);
    tcase_add_test(tc, getstatusoutput_semantics);
    tcase_add_test(tc, getoutput_returns_the_text);
    tcase_add_test(tc, long_command_lines_are_cut_in_the_sentence);
    tcase_add_test(tc, null_arguments);

    tc = th_tcase(s, "leaks", 60);
    tcase_add_test(tc, no_leaks_after_a_batch);

    return th_run_suite(s);
}
