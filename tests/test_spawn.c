/* SPDX-License-Identifier: MIT */
/* test_spawn.c - prun_popen(): redirections, cwd, env, PATH search, shell
 * mode, executable, fd hygiene, signal dispositions, sessions and errors.
 *
 * Arrangements that touch the caller's own fds 0, 1 and 2 run in a forked
 * helper process (run_in_helper), which reports failures over a pipe. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "prun.h"

/* ---- helpers ---------------------------------------------------------- */

struct outcome {
    int rc;
    char *out, *err; /* NULL for a stream that was not a pipe */
};

static void outcome_free(struct outcome *res)
{
    free(res->out);
    free(res->err);
}

/* Spawns, feeds input (then EOF) to a stdin pipe, reads the output pipes
 * to EOF (small outputs: stdout first, then stderr) and waits.  Returns 0
 * or the failing call's error; usable in forked helpers, unlike ck_assert. */
static int collect(char *const argv[], const prun_opts *o, const char *input, struct outcome *res)
{
    prun_proc *p;
    int r = prun_popen(&p, argv, o);
    memset(res, 0, sizeof *res);
    if (r)
        return r;
    if (prun_stdin(p) >= 0) {
        if (input && th_write_all(prun_stdin(p), input))
            r = -EIO;
        prun_close_stream(p, 0);
    }
    if (prun_stdout(p) >= 0)
        res->out = th_read_all(prun_stdout(p), NULL);
    if (prun_stderr(p) >= 0)
        res->err = th_read_all(prun_stderr(p), NULL);
    int w = prun_wait(p, PRUN_FOREVER, &res->rc);
    prun_free(p);
    return r ? r : w;
}

/* collect() with ck_assert on the spawn, for the ordinary tests. */
static struct outcome run(char *const argv[], const prun_opts *o, const char *input)
{
    struct outcome res;
    int r = collect(argv, o, input, &res);
    ck_assert_msg(r == 0, "collect: %d (%s)", r, prun_last_error());
    return res;
}

/* stdout of argv, which must exit 0; free() it. */
static char *output_of(char *const argv[], prun_opts *o)
{
    o->stdout_io = PRUN_PIPE;
    struct outcome res = run(argv, o, NULL);
    ck_assert_int_eq(res.rc, 0);
    free(res.err);
    return res.out;
}

/* argv's stdout, with o, must be expected (and its exit status 0). */
static void expect_output(char *const argv[], prun_opts *o, const char *expected)
{
    char *out = output_of(argv, o);
    ck_assert_str_eq(out, expected);
    free(out);
}

/* An anonymous file holding text, at offset 0. */
static int mem_file(const char *text, int cloexec)
{
    int fd = memfd_create("prun-test", cloexec ? MFD_CLOEXEC : 0);
    if (fd < 0 || th_write_all(fd, text) || lseek(fd, 0, SEEK_SET) < 0)
        return -1;
    return fd;
}

static int empty_mem_file(void)
{
    int fd = mem_file("", 1);
    ck_assert_int_ge(fd, 0);
    return fd;
}

/* The whole content of a file, whatever its offset; free() it. */
static char *file_text(int fd)
{
    if (lseek(fd, 0, SEEK_SET) < 0)
        return strdup("<lseek failed>");
    return th_read_all(fd, NULL);
}

/* argv, with o, exits 0 having written exactly expected to the file fd. */
static void expect_written(char *const argv[], const prun_opts *o, int fd, const char *expected)
{
    struct outcome res = run(argv, o, NULL);
    ck_assert_int_eq(res.rc, 0);
    char *text = file_text(fd);
    ck_assert_str_eq(text, expected);
    free(text);
}

static char *path_in(const char *dir, const char *name)
{
    char *s;
    ck_assert_int_ge(asprintf(&s, "%s/%s", dir, name), 0);
    return s;
}

/* Calls prun_popen expecting err, with the given last error (NULL: any
 * non-empty one), and checks that nothing was left behind. */
static void expect_error(char *const argv[], const prun_opts *o, int err, const char *message)
{
    int fds = th_count_fds(), children = th_count_children();
    prun_proc *p = (prun_proc *)&fds;  /* must come back NULL */
    int r = prun_popen(&p, argv, o);
    ck_assert_msg(r == err, "prun_popen gave %d (%s), expected %d", r, prun_last_error(), err);
    ck_assert_ptr_null(p);
    if (message)
        ck_assert_str_eq(prun_last_error(), message);
    ck_assert_str_ne(prun_last_error(), "");
    ck_assert_int_eq(th_count_fds(), fds);
    ck_assert_int_eq(th_count_children(), children);
}

/* expect_error() with the message fmt % (name, strerror(-err)). */
static void expect_error_about(char *const argv[], const prun_opts *o, int err, const char *fmt,
                               const char *name)
{
    char *message;
    ck_assert_int_ge(asprintf(&message, fmt, name, strerror(-err)), 0);
    expect_error(argv, o, err, message);
    free(message);
}

/* ---- forked helpers ------------------------------------------------- */

struct helper {
    int msg_fd; /* failures are written here */
};

typedef int (*helper_fn)(struct helper *h, int arg);

static int helper_fail(struct helper *h, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vdprintf(h->msg_fd, fmt, ap);
    va_end(ap);
    return 1;
}

#define H_CHECK(cond)                                                                  \
    do {                                                                               \
        if (!(cond))                                                                   \
            return helper_fail(h, "line %d: %s (last error: %s)", __LINE__, #cond,     \
                               prun_last_error());                                     \
    } while (0)

#define H_CHECK_STR(actual, expected)                                                  \
    do {                                                                               \
        const char *a_ = (actual), *e_ = (expected);                                   \
        if (!a_ || strcmp(a_, e_) != 0)                                                \
            return helper_fail(h, "line %d: %s is \"%s\", expected \"%s\"", __LINE__,  \
                               #actual, a_ ? a_ : "(null)", e_);                       \
    } while (0)

/* The file at fd holds exactly expected (its text freed: LeakSanitizer
 * checks each helper at its exit). */
#define H_CHECK_FILE(fd, expected)                                                     \
    do {                                                                               \
        char *t_ = file_text(fd);                                                      \
        const char *e_ = (expected);                                                   \
        int ok_ = t_ && strcmp(t_, e_) == 0;                                           \
        if (!ok_)                                                                      \
            helper_fail(h, "line %d: fd %d holds \"%s\", expected \"%s\"", __LINE__,    \
                        (fd), t_ ? t_ : "(null)", e_);                                 \
        free(t_);                                                                      \
        if (!ok_)                                                                      \
            return 1;                                                                  \
    } while (0)

/* Check has no skip: the note goes to stderr and the helper passes. */
static int helper_skip(const char *name, const char *why)
{
    fprintf(stderr, "test_spawn: %s: skipped: %s\n", name, why);
    return 0;
}

/* Runs fn(arg) in a forked child, where it may rearrange fds 0, 1, 2 at
 * will, and fails the test with its message unless it returns 0. */
static void run_in_helper(helper_fn fn, int arg)
{
    int msg[2];
    ck_assert_int_eq(pipe2(msg, O_CLOEXEC), 0);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(msg[0]);
        signal(SIGPIPE, SIG_IGN);  /* a write to a dead child fails, with a message */
        struct helper h = {msg[1]};
        exit(fn(&h, arg) ? 1 : 0);  /* exit(): coverage and LeakSanitizer have their say */
    }
    close(msg[1]);
    char *text = th_read_all(msg[0], NULL);
    close(msg[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper (status %#x): %s",
                  (unsigned)status, text);
    free(text);
}

/* A seccomp filter on this process and its children: system call nr
 * fails with err when the low 32 bits of its argument arg are value.  0,
 * or -1 (the filter cannot be installed). */
static int deny_syscall_if(long nr, int arg, unsigned value, int err)
{
    unsigned low = (unsigned)(offsetof(struct seccomp_data, args) + 8 * (size_t)arg);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    low += 4;
#endif
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nr, 0, 3),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, low),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, value, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | (unsigned)err),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Puts a new memfd holding text at fd target (without FD_CLOEXEC unless
 * asked); -1 on failure. */
static int mem_file_at(int target, const char *text, int cloexec)
{
    int fd = mem_file(text, 1);
    if (fd < 0 || dup3(fd, target, cloexec ? O_CLOEXEC : 0) < 0)
        return -1;
    close(fd);
    return 0;
}

/* ---- stdin -------------------------------------------------------------- */

static char *got_argv[] = {"sh", "-c", "printf 'got %s' \"$(cat)\"", NULL};

START_TEST(stdin_pipe)
{
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE};
    struct outcome res = run(got_argv, &o, "pear");
    ck_assert_str_eq(res.out, "got pear");
    ck_assert_ptr_null(res.err);
    ck_assert_int_eq(res.rc, 0);
    outcome_free(&res);
}
END_TEST

START_TEST(stdin_devnull)
{
    char *argv[] = {"sh", "-c", "readlink /proc/$$/fd/0; cat; echo rc=$?", NULL};
    prun_opts o = {.stdin_io = PRUN_DEVNULL, .stdout_io = PRUN_PIPE};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_int_eq(prun_stdin(p), -1);
    char *out = th_read_all(prun_stdout(p), NULL);
    ck_assert_str_eq(out, "/dev/null\nrc=0\n");
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 0);
    free(out);
    prun_free(p);
}
END_TEST

START_TEST(stdin_fd_from_offset)
{
    int fd = mem_file("XXpear", 1);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(lseek(fd, 2, SEEK_SET), 2);
    char *argv[] = {"tr", "a-z", "A-Z", NULL};
    prun_opts o = {.stdin_io = PRUN_FD, .stdin_fd = fd};
    expect_output(argv, &o, "PEAR");
    close(fd);
}
END_TEST

/* ---- stdout ------------------------------------------------------------- */

START_TEST(stdout_pipe)
{
    char *argv[] = {"printf", "stdout", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_int_eq(prun_stdin(p), -1);
    ck_assert_int_eq(prun_stderr(p), -1);
    ck_assert_int_ge(prun_stdout(p), 0);
    ck_assert_int_ne(fcntl(prun_stdout(p), F_GETFD) & FD_CLOEXEC, 0);
    char *out = th_read_all(prun_stdout(p), NULL);
    ck_assert_str_eq(out, "stdout");
    free(out);
    prun_free(p);
}
END_TEST

START_TEST(stdout_devnull)
{
    /* dash applies `>&2` to its own fds before it forks, hence $(...).  A
     * MiB to /dev/null is discarded without blocking. */
    char *argv[] = {"sh", "-c", "echo $(readlink /proc/$$/fd/1) >&2; head -c 1048576 /dev/zero",
                    NULL};
    prun_opts o = {.stdout_io = PRUN_DEVNULL, .stderr_io = PRUN_PIPE};
    struct outcome res = run(argv, &o, NULL);
    ck_assert_ptr_null(res.out);
    ck_assert_str_eq(res.err, "/dev/null\n");
    ck_assert_int_eq(res.rc, 0);
    outcome_free(&res);
}
END_TEST

START_TEST(stdout_fd)
{
    int fd = empty_mem_file();
    char *argv[] = {"printf", "orange", NULL};
    prun_opts o = {.stdout_io = PRUN_FD, .stdout_fd = fd};
    expect_written(argv, &o, fd, "orange");
    close(fd);
}
END_TEST

/* ---- stderr ------------------------------------------------------------- */

static char *apple_orange_argv[] = {"sh", "-c", "printf apple; printf orange >&2", NULL};

START_TEST(stderr_pipe)
{
    prun_opts o = {.stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    struct outcome res = run(apple_orange_argv, &o, NULL);
    ck_assert_str_eq(res.out, "apple");
    ck_assert_str_eq(res.err, "orange");
    outcome_free(&res);
}
END_TEST

START_TEST(stderr_devnull)
{
    char *argv[] = {"sh", "-c", "readlink /proc/$$/fd/2; echo lost >&2", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .stderr_io = PRUN_DEVNULL};
    struct outcome res = run(argv, &o, NULL);
    ck_assert_str_eq(res.out, "/dev/null\n");
    ck_assert_ptr_null(res.err);
    outcome_free(&res);
}
END_TEST

START_TEST(stderr_fd)
{
    int fd = empty_mem_file();
    char *argv[] = {"sh", "-c", "printf err >&2", NULL};
    prun_opts o = {.stderr_io = PRUN_FD, .stderr_fd = fd};
    expect_written(argv, &o, fd, "err");
    close(fd);
}
END_TEST

START_TEST(stderr_to_stdout_pipe)
{
    prun_opts o = {.stdout_io = PRUN_PIPE, .stderr_io = PRUN_STDOUT};
    prun_proc *p;
    TH_POPEN_OK(&p, apple_orange_argv, &o);
    ck_assert_int_eq(prun_stderr(p), -1);
    char *out = th_read_all(prun_stdout(p), NULL);
    ck_assert_str_eq(out, "appleorange");
    free(out);
    prun_free(p);
}
END_TEST

START_TEST(stderr_to_stdout_fd)
{
    int fd = empty_mem_file();
    prun_opts o = {.stdout_io = PRUN_FD, .stdout_fd = fd, .stderr_io = PRUN_STDOUT};
    expect_written(apple_orange_argv, &o, fd, "appleorange");
    close(fd);
}
END_TEST

START_TEST(stderr_to_stdout_devnull)
{
    char *dir = th_mkdtemp();
    char *report = path_in(dir, "report");
    char *argv[] = {"readlink /proc/$$/fd/2 > \"$0\"", report, NULL};
    prun_opts o = {.shell = 1, .stdout_io = PRUN_DEVNULL, .stderr_io = PRUN_STDOUT};
    struct outcome res = run(argv, &o, NULL);
    ck_assert_int_eq(res.rc, 0);
    char *text = th_read_file(report, NULL);
    ck_assert_str_eq(text, "/dev/null\n");
    free(text);
    free(report);
    th_rm_rf(dir);
    free(dir);
}
END_TEST

/* stderr=STDOUT while stdout is inherited: both go to the caller's fd 1. */
static int stderr_to_inherited_stdout(struct helper *h, int arg)
{
    (void)arg;
    H_CHECK(mem_file_at(1, "", 0) == 0);
    H_CHECK(mem_file_at(2, "", 0) == 0);
    char *argv[] = {"sh", "-c", "printf 42 >&2", NULL};
    prun_opts o = {.stderr_io = PRUN_STDOUT};
    struct outcome res;
    H_CHECK(collect(argv, &o, NULL, &res) == 0);
    H_CHECK(res.rc == 0);
    H_CHECK_FILE(1, "42");
    H_CHECK_FILE(2, "");
    return 0;
}

START_TEST(stderr_to_stdout_inherited)
{
    run_in_helper(stderr_to_inherited_stdout, 0);
}
END_TEST

/* ---- inheritance and the caller's own fds 0, 1, 2 ---------------------- */

static char *cat_err_argv[] = {"sh", "-c", "printf 'got %s' \"$(cat)\"; printf err >&2", NULL};

/* New files at fds in (holding "STDIN"), out and err (empty). */
static int std_files_at(int in, int out, int err, int cloexec)
{
    if (mem_file_at(in, "STDIN", cloexec) || mem_file_at(out, "", cloexec))
        return -1;
    return mem_file_at(err, "", cloexec);
}

/* cat_err_argv with o and input exits 0 having written "got INPUT" (want)
 * to the file at fd out and "err" to the one at fd err. */
static int check_cat_err(struct helper *h, const prun_opts *o, const char *input, int out,
                         int err, const char *want)
{
    struct outcome res;
    H_CHECK(collect(cat_err_argv, o, input, &res) == 0);
    H_CHECK(res.rc == 0);
    H_CHECK_FILE(out, want);
    H_CHECK_FILE(err, "err");
    return 0;
}

static int inherit_all(struct helper *h, int arg)
{
    (void)arg;
    H_CHECK(std_files_at(0, 1, 2, 0) == 0);
    return check_cat_err(h, NULL, NULL, 1, 2, "got STDIN");
}

START_TEST(inherit_by_default)
{
    run_in_helper(inherit_all, 0);
}
END_TEST

/* stdin_fd = 0, stdout_fd = 1, stderr_fd = 2 on fds marked FD_CLOEXEC:
 * the no-op dup2 must still make them survive the exec. */
static int own_fds_as_targets(struct helper *h, int arg)
{
    (void)arg;
    H_CHECK(std_files_at(0, 1, 2, 1) == 0);
    prun_opts o = {.stdin_io = PRUN_FD, .stdin_fd = 0, .stdout_io = PRUN_FD, .stdout_fd = 1,
                   .stderr_io = PRUN_FD, .stderr_fd = 2};
    return check_cat_err(h, &o, NULL, 1, 2, "got STDIN");
}

START_TEST(fd_is_its_own_target)
{
    run_in_helper(own_fds_as_targets, 0);
}
END_TEST

/* Every permutation of 0/1/2 as the sources of stdin/stdout/stderr, e.g.
 * stdin from fd 1, stdout to fd 2, stderr to fd 0. */
static const int perms[6][3] = {{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}};

static int permuted_std_fds(struct helper *h, int i)
{
    const int *src = perms[i];
    H_CHECK(std_files_at(src[0], src[1], src[2], 0) == 0);
    prun_opts o = {.stdin_io = PRUN_FD, .stdin_fd = src[0], .stdout_io = PRUN_FD,
                   .stdout_fd = src[1], .stderr_io = PRUN_FD, .stderr_fd = src[2]};
    return check_cat_err(h, &o, NULL, src[1], src[2], "got STDIN");
}

START_TEST(std_fds_permuted)
{
    run_in_helper(permuted_std_fds, _i);
}
END_TEST

/* fd 0 closed, stdout and stderr swapped, and the new stdin pipe lands on
 * the free fd 0. */
static int swap_with_stdin_closed(struct helper *h, int arg)
{
    (void)arg;
    close(0);
    H_CHECK(mem_file_at(1, "", 0) == 0);
    H_CHECK(mem_file_at(2, "", 0) == 0);
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_FD, .stdout_fd = 2,
                   .stderr_io = PRUN_FD, .stderr_fd = 1};
    return check_cat_err(h, &o, "in", 2, 1, "got in");
}

START_TEST(std_fds_swapped_one_closed)
{
    run_in_helper(swap_with_stdin_closed, 0);
}
END_TEST

/* The caller's fds in mask (bit n = fd n) are closed, so the new pipes
 * land on them. */
static int closed_std_fds(struct helper *h, int mask)
{
    for (int fd = 0; fd < 3; fd++)
        if (mask & (1 << fd))
            close(fd);
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    struct outcome res;
    H_CHECK(collect(cat_err_argv, &o, "apple", &res) == 0);
    H_CHECK(res.rc == 0);
    H_CHECK_STR(res.out, "got apple");
    H_CHECK_STR(res.err, "err");
    outcome_free(&res);
    return 0;
}

START_TEST(std_fds_closed)
{
    run_in_helper(closed_std_fds, _i);  /* _i runs 1..7 */
}
END_TEST

/* ---- one fd serving two streams ---------------------------------------- */

START_TEST(one_fd_stdout_and_stderr)
{
    int fd = empty_mem_file();
    prun_opts o = {.stdout_io = PRUN_FD, .stdout_fd = fd, .stderr_io = PRUN_FD, .stderr_fd = fd};
    expect_written(apple_orange_argv, &o, fd, "appleorange");
    close(fd);
}
END_TEST

/* One end of a socket pair serves as the child's stdin and as its stdout
 * or stderr (which_fd points at that one's fd field): the child reads
 * "ping" from it and answers on it. */
static void one_socket_two_streams(char *const argv[], prun_opts *o, int *which_fd,
                                   const char *expected)
{
    int sv[2];
    ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
    o->stdin_fd = *which_fd = sv[1];
    prun_proc *p;
    TH_POPEN_OK(&p, argv, o);
    close(sv[1]);
    ck_assert_int_eq(th_write_all(sv[0], "ping\n"), 0);
    ck_assert_int_eq(shutdown(sv[0], SHUT_WR), 0);
    char *text = th_read_all(sv[0], NULL);
    ck_assert_str_eq(text, expected);
    ck_assert_int_eq(th_returncode(p, PRUN_FOREVER), 0);
    free(text);
    close(sv[0]);
    prun_free(p);
}

START_TEST(one_fd_stdin_and_stdout)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_FD, .stdout_io = PRUN_FD};
    one_socket_two_streams(argv, &o, &o.stdout_fd, "ping\n");
}
END_TEST

START_TEST(one_fd_stdin_and_stderr)
{
    char *argv[] = {"sh", "-c", "read x; echo \"got $x\" >&2", NULL};
    prun_opts o = {.stdin_io = PRUN_FD, .stderr_io = PRUN_FD};
    one_socket_two_streams(argv, &o, &o.stderr_fd, "got ping\n");
}
END_TEST

/* ---- cwd ---------------------------------------------------------------- */

START_TEST(cwd_is_used)
{
    char *dir = th_mkdtemp();
    char *real = realpath(dir, NULL);
    char *argv[] = {"pwd", "-P", NULL};
    prun_opts o = {.cwd = dir};
    char *out = output_of(argv, &o);
    char *expected;
    ck_assert_int_ge(asprintf(&expected, "%s\n", real), 0);
    ck_assert_str_eq(out, expected);
    free(expected);
    free(out);
    free(real);
    th_rm_rf(dir);
    free(dir);
}
END_TEST

/* A name with a slash is never searched; a relative one resolves in the
 * child's cwd, not the caller's. */
START_TEST(cwd_relative_program)
{
    char *dir = th_mkdtemp();
    char *prog = path_in(dir, "prog");
    th_write_file(prog, "#!/bin/sh\necho ran prog\n", 0755);
    ck_assert_int_ne(access("./prog", F_OK), 0);
    char *argv[] = {"./prog", NULL};
    prun_opts o = {.cwd = dir};
    expect_output(argv, &o, "ran prog\n");

    expect_error(argv, NULL, -ENOENT, "cannot run './prog': No such file or directory");
    free(prog);
    th_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(cwd_with_executable_and_bogus_argv0)
{
    char *argv[] = {"somethingyoudonthave", "-c", "pwd -P", NULL};
    prun_opts o = {.executable = "/bin/sh", .cwd = "/"};
    expect_output(argv, &o, "/\n");
}
END_TEST

/* ---- env ---------------------------------------------------------------- */

START_TEST(env_replaces_environment)
{
    char *env[] = {"FRUIT=orange", NULL};
    char *argv[] = {"/usr/bin/env", NULL};
    prun_opts o = {.env = env};
    expect_output(argv, &o, "FRUIT=orange\n");
}
END_TEST

START_TEST(env_empty)
{
    char *env[] = {NULL};
    char *argv[] = {"/usr/bin/env", NULL};
    prun_opts o = {.env = env};
    expect_output(argv, &o, "");
}
END_TEST

START_TEST(env_null_inherits_current)
{
    ck_assert_int_eq(setenv("PRUN_TEST_FRUIT", "banana", 1), 0);
    char *argv[] = {"sh", "-c", "echo $PRUN_TEST_FRUIT", NULL};
    prun_opts o = {0};
    char *out = output_of(argv, &o);
    unsetenv("PRUN_TEST_FRUIT");
    ck_assert_str_eq(out, "banana\n");
    free(out);
}
END_TEST

/* ---- PATH search -------------------------------------------------------- */

struct path_fixture {
    char *dir, *env_path, *saved_path;
};

/* dir/mytool, an executable script, and "PATH=dir" for an env. */
static struct path_fixture path_fixture(void)
{
    struct path_fixture f = {th_mkdtemp(), NULL, NULL};
    char *tool = path_in(f.dir, "mytool");
    th_write_file(tool, "#!/bin/sh\necho mytool ran\n", 0755);
    free(tool);
    ck_assert_int_ge(asprintf(&f.env_path, "PATH=%s", f.dir), 0);
    const char *path = getenv("PATH");
    f.saved_path = path ? strdup(path) : NULL;
    return f;
}

static void path_fixture_free(struct path_fixture *f)
{
    if (f->saved_path)
        setenv("PATH", f->saved_path, 1);
    else
        unsetenv("PATH");
    th_rm_rf(f->dir);
    free(f->dir);
    free(f->env_path);
    free(f->saved_path);
}

START_TEST(path_from_env)
{
    struct path_fixture f = path_fixture();
    char *argv[] = {"mytool", NULL};
    char *env[] = {f.env_path, NULL};
    prun_opts o = {.env = env};
    expect_output(argv, &o, "mytool ran\n");
    /* Not in the caller's PATH. */
    o = (prun_opts){.stdout_io = PRUN_PIPE};
    expect_error(argv, &o, -ENOENT, "cannot run 'mytool': No such file or directory");
    path_fixture_free(&f);
}
END_TEST

START_TEST(path_from_caller_without_env)
{
    struct path_fixture f = path_fixture();
    char *path;
    ck_assert_int_ge(asprintf(&path, "%s:/usr/bin:/bin", f.dir), 0);
    setenv("PATH", path, 1);
    char *argv[] = {"mytool", NULL};
    prun_opts o = {0};
    expect_output(argv, &o, "mytool ran\n");
    free(path);
    path_fixture_free(&f);
}
END_TEST

/* An env without PATH searches /bin:/usr/bin, not the caller's PATH. */
START_TEST(path_default_when_env_has_none)
{
    struct path_fixture f = path_fixture();
    setenv("PATH", f.dir, 1);
    char *env[] = {"FRUIT=x", NULL};
    prun_opts o = {.env = env};
    char *env_argv[] = {"env", NULL};
    expect_output(env_argv, &o, "FRUIT=x\n");
    char *tool_argv[] = {"mytool", NULL};
    expect_error(tool_argv, &o, -ENOENT, "cannot run 'mytool': No such file or directory");
    path_fixture_free(&f);
}
END_TEST

/* PATH is the variable of that name, not one it begins (PATHX); an
 * empty entry is the child's cwd; an entry too long to hold a program
 * (PATH_MAX with the name) is left out, where execve's ENAMETOOLONG would
 * end the search. */
START_TEST(path_entries_empty_long_and_lookalike)
{
    struct path_fixture f = path_fixture();
    char *argv[] = {"mytool", NULL};
    char *lookalike[] = {"PATHX=/nowhere", f.env_path, NULL};
    prun_opts o = {.env = lookalike};
    expect_output(argv, &o, "mytool ran\n");
    char *in_cwd[] = {"PATH=/prun-no-such-dir::/bin", NULL};
    o = (prun_opts){.env = in_cwd, .cwd = f.dir};
    expect_output(argv, &o, "mytool ran\n");
    char *long_path = malloc(PATH_MAX + 64);
    ck_assert_ptr_nonnull(long_path);
    strcpy(long_path, "PATH=/");
    memset(long_path + 6, 'x', PATH_MAX);
    snprintf(long_path + 6 + PATH_MAX, 58, ":%s", f.dir);
    char *too_long[] = {long_path, NULL};
    o = (prun_opts){.env = too_long};
    expect_output(argv, &o, "mytool ran\n");
    free(long_path);
    path_fixture_free(&f);
}
END_TEST

/* A caller without any environment (clearenv() leaves environ NULL): the
 * default PATH, and an empty environment for the child. */
static int no_environment(struct helper *h, int arg)
{
    (void)arg;
    clearenv();
    H_CHECK(environ == NULL);
    char *argv[] = {"env", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    struct outcome res;
    H_CHECK(collect(argv, &o, NULL, &res) == 0 && res.rc == 0);
    H_CHECK_STR(res.out, "");
    outcome_free(&res);
    return 0;
}

START_TEST(path_default_without_environ)
{
    run_in_helper(no_environment, 0);
}
END_TEST

/* A non-executable "true" early in PATH is skipped for /bin/true; alone it
 * gives EACCES. */
START_TEST(path_skips_non_executable)
{
    struct path_fixture f = path_fixture();
    char *fake = path_in(f.dir, "true");
    th_write_file(fake, "#!/bin/sh\nexit 3\n", 0644);
    char *path;
    ck_assert_int_ge(asprintf(&path, "PATH=%s:/usr/bin:/bin", f.dir), 0);
    char *env[] = {path, NULL};
    char *argv[] = {"true", NULL};
    prun_opts o = {.env = env};
    struct outcome res = run(argv, &o, NULL);
    ck_assert_int_eq(res.rc, 0);

    env[0] = f.env_path;
    expect_error(argv, &o, -EACCES, "cannot run 'true': Permission denied");
    free(path);
    free(fake);
    path_fixture_free(&f);
}
END_TEST

/* A file without #! is ENOEXEC, searched or not, and never run by sh. */
START_TEST(path_no_shebang_is_enoexec)
{
    struct path_fixture f = path_fixture();
    char *prog = path_in(f.dir, "noshebang");
    char *marker = path_in(f.dir, "ran");
    char *script;
    ck_assert_int_ge(asprintf(&script, "touch %s\n", marker), 0);
    th_write_file(prog, script, 0755);

    char *argv[] = {prog, NULL};
    expect_error_about(argv, NULL, -ENOEXEC, "cannot run '%s': %s", prog);
    char *env[] = {f.env_path, NULL};
    prun_opts o = {.env = env};
    char *bare[] = {"noshebang", NULL};
    expect_error(bare, &o, -ENOEXEC, "cannot run 'noshebang': Exec format error");
    ck_assert_int_ne(access(marker, F_OK), 0);
    free(script);
    free(marker);
    free(prog);
    path_fixture_free(&f);
}
END_TEST

/* ---- shell mode and executable ------------------------------------------ */

START_TEST(shell_with_arguments)
{
    char *argv[] = {"echo \"$0 $1\" $#", "a", "b", NULL};
    prun_opts o = {.shell = 1};
    expect_output(argv, &o, "a b 1\n");
}
END_TEST

START_TEST(shell_command_line)
{
    char *argv[] = {"echo $FRUIT | tr a-z A-Z", NULL};
    char *env[] = {"FRUIT=apple", "PATH=/usr/bin:/bin", NULL};
    prun_opts o = {.shell = 1, .env = env};
    expect_output(argv, &o, "APPLE\n");
}
END_TEST

START_TEST(shell_with_executable)
{
    char *argv[] = {"echo $0", NULL};
    prun_opts o = {.shell = 1, .executable = "/bin/dash"};
    expect_output(argv, &o, "/bin/dash\n");
}
END_TEST

START_TEST(executable_argv0_is_only_a_name)
{
    char *argv[] = {"fakename", "-c", "echo $0", NULL};
    prun_opts o = {.executable = "/bin/sh"};
    expect_output(argv, &o, "fakename\n");
    /* A bare executable is searched in PATH too. */
    o = (prun_opts){.executable = "sh"};
    expect_output(argv, &o, "fakename\n");
}
END_TEST

START_TEST(executable_bad_with_valid_argv0)
{
    char *argv[] = {"true", NULL};
    prun_opts o = {.executable = "/nonexistent"};
    expect_error(argv, &o, -ENOENT, "cannot run '/nonexistent': No such file or directory");
}
END_TEST

/* ---- close_fds, keep_fds, pass_fds -------------------------------------- */

/* The fds the child lists: dash runs ls in a subshell, so this is the
 * shell's own table. */
static char *list_fds_argv[] = {"sh", "-c", "ls /proc/$$/fd", NULL};

/* The numbers in an ls listing, sorted and space-separated. */
static char *sorted_fds(const char *listing)
{
    int fds[256], n = 0;
    for (const char *s = listing; *s && n < 256;) {
        char *end;
        long v = strtol(s, &end, 10);
        if (end == s)
            break;
        int i = n++;
        for (; i > 0 && fds[i - 1] > v; i--)
            fds[i] = fds[i - 1];
        fds[i] = (int)v;
        s = end;
    }
    char *text = calloc(1, (size_t)n * 12 + 1);
    for (int i = 0; i < n; i++)
        sprintf(text + strlen(text), i ? " %d" : "%d", fds[i]);
    return text;
}

static char *child_fds(prun_opts *o)
{
    char *out = output_of(list_fds_argv, o);
    char *fds = sorted_fds(out);
    free(out);
    return fds;
}

enum { N_LEAKY = 10 };

/* Fds without FD_CLOEXEC, which exec alone would pass on. */
static void open_leaky(int fds[N_LEAKY])
{
    for (int i = 0; i < N_LEAKY; i++)
        ck_assert_int_ge(fds[i] = open("/dev/null", O_RDONLY), 0);
}

static void close_all(const int *fds, int n)
{
    for (int i = 0; i < n; i++)
        close(fds[i]);
}

START_TEST(close_fds_by_default)
{
    int leaky[N_LEAKY];
    open_leaky(leaky);
    prun_opts o = {0};
    char *fds = child_fds(&o);
    ck_assert_str_eq(fds, "0 1 2");
    free(fds);
    close_all(leaky, N_LEAKY);
}
END_TEST

/* With a table so large that the library's pipe ends sit above fd 256,
 * the child reopens them through /proc instead of copying the table: the
 * same pipes, in both directions and between stages, and still nothing
 * else reaches the program. */
enum { N_CROWD = 400 };

START_TEST(pipes_above_a_large_table)
{
    int crowd[N_CROWD];
    for (int i = 0; i < N_CROWD; i++)
        ck_assert_int_ge(crowd[i] = open("/dev/null", O_RDONLY), 0);  /* not close-on-exec */
    char *argv[] = {"sh", "-c", "cat; echo err >&2; exec ls /proc/self/fd", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    prun_proc *p;
    prun_buf out, err;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_int_gt(prun_stdout(p), 256);
    ck_assert_int_eq(prun_communicate(p, "in\n", 3, 30000, &out, &err), 0);
    ck_assert_int_eq(th_returncode(p, 30000), 0);
    th_assert_buf_eq(out, "in\n0\n1\n2\n3\n");  /* ls's own: 3 is its /proc/self/fd */
    th_assert_buf_eq(err, "err\n");
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);

    char *a[] = {"printf", "b\\na\\n", NULL}, *b[] = {"sort", NULL};
    char *const *stages[] = {a, b};
    prun_opts po = {.stdout_io = PRUN_PIPE};
    prun_result res;
    ck_assert_int_eq(prun_pipeline_run(2, stages, &po, &res), 0);
    th_assert_buf_eq(res.out, "a\nb\n");
    prun_result_free(&res);
    close_all(crowd, N_CROWD);
}
END_TEST

/* One pipe end in a hole low in a large table, the others above fd 256:
 * only those are reopened, and the parent-death signal (which also needs
 * the caller's pid) still works. */
START_TEST(pipes_low_and_high)
{
    int crowd[N_CROWD];
    for (int i = 0; i < N_CROWD; i++)
        ck_assert_int_ge(crowd[i] = open("/dev/null", O_RDONLY), 0);
    int hole = crowd[0];
    close(hole);
    char *argv[] = {"sh", "-c", "cat; echo err >&2; exec ls /proc/self/fd", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE,
                   .pdeathsig = SIGKILL};
    prun_proc *p;
    prun_buf out, err;
    TH_POPEN_OK(&p, argv, &o);
    ck_assert_int_gt(prun_stdout(p), 256);
    ck_assert_int_eq(fcntl(hole, F_GETFD), -1);  /* the child's end of stdin, closed again */
    ck_assert_int_eq(prun_communicate(p, "in\n", 3, 30000, &out, &err), 0);
    ck_assert_int_eq(th_returncode(p, 30000), 0);
    th_assert_buf_eq(out, "in\n0\n1\n2\n3\n");
    th_assert_buf_eq(err, "err\n");
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    close_all(crowd + 1, N_CROWD - 1);
}
END_TEST

static int listed(const char *fds, int fd)
{
    char needle[16], *padded;
    snprintf(needle, sizeof needle, " %d ", fd);
    ck_assert_int_ge(asprintf(&padded, " %s ", fds), 0);
    int found = strstr(padded, needle) != NULL;
    free(padded);
    return found;
}

/* keep_fds passes the inheritable fds, never a CLOEXEC one nor the
 * library's own pipe ends. */
START_TEST(keep_fds_passes_inheritable)
{
    int leaky[N_LEAKY];
    open_leaky(leaky);
    int sealed = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(sealed, 0);
    prun_opts o = {.keep_fds = 1, .stdout_io = PRUN_PIPE};
    prun_proc *p;
    TH_POPEN_OK(&p, list_fds_argv, &o);
    char *out = th_read_all(prun_stdout(p), NULL);
    char *fds = sorted_fds(out);
    for (int i = 0; i < N_LEAKY; i++)
        ck_assert_msg(listed(fds, leaky[i]), "fd %d missing from %s", leaky[i], fds);
    ck_assert_msg(!listed(fds, sealed), "CLOEXEC fd %d in %s", sealed, fds);
    ck_assert_msg(!listed(fds, prun_stdout(p)), "pipe end %d in %s", prun_stdout(p), fds);
    free(fds);
    free(out);
    prun_free(p);
    close(sealed);
    close_all(leaky, N_LEAKY);
}
END_TEST

/* A passed fd keeps its number in the child, CLOEXEC or not, while the
 * caller's flags stay as they were. */
START_TEST(pass_fds_exactly)
{
    int leaky[N_LEAKY];
    open_leaky(leaky);
    int sealed = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(sealed, 0);
    int pass[2] = {sealed, leaky[3]};
    prun_opts o = {.pass_fds = pass, .n_pass_fds = 2};
    char *fds = child_fds(&o);
    char expected[64];
    snprintf(expected, sizeof expected, "0 1 2 %d %d", pass[1] < pass[0] ? pass[1] : pass[0],
             pass[1] < pass[0] ? pass[0] : pass[1]);
    ck_assert_str_eq(fds, expected);
    ck_assert_int_eq(fcntl(sealed, F_GETFD) & FD_CLOEXEC, FD_CLOEXEC);
    free(fds);
    close(sealed);
    close_all(leaky, N_LEAKY);
}
END_TEST

/* A high passed fd with inheritable fds below it, which still close. */
START_TEST(pass_fds_high)
{
    int leaky[N_LEAKY];
    open_leaky(leaky);
    ck_assert_int_eq(fcntl(100, F_GETFD), -1);
    ck_assert_int_eq(dup2(leaky[0], 100), 100);
    int pass[] = {100};
    prun_opts o = {.pass_fds = pass, .n_pass_fds = 1};
    char *fds = child_fds(&o);
    ck_assert_str_eq(fds, "0 1 2 100");
    free(fds);
    close(100);
    close_all(leaky, N_LEAKY);
}
END_TEST

/* A passed fd that is also a redirect source is open at both numbers. */
START_TEST(pass_fds_also_redirected)
{
    int fd = empty_mem_file();
    int pass[] = {fd};
    prun_opts o = {.stdout_io = PRUN_FD, .stdout_fd = fd, .pass_fds = pass, .n_pass_fds = 1};
    struct outcome res = run(list_fds_argv, &o, NULL);
    ck_assert_int_eq(res.rc, 0);
    char *text = file_text(fd);
    char *fds = sorted_fds(text);
    char expected[32];
    snprintf(expected, sizeof expected, "0 1 2 %d", fd);
    ck_assert_str_eq(fds, expected);
    free(fds);
    free(text);
    close(fd);
}
END_TEST

/* pass_fds in any order, with repeats, neighbours, and 0, 1 or 2 (which
 * the child has anyway): each fd above 2 reaches the child once, nothing
 * else. */
START_TEST(pass_fds_unsorted_repeated_and_std)
{
    int leaky[N_LEAKY];
    open_leaky(leaky);
    int pass[] = {leaky[7], 1, leaky[3], leaky[2], leaky[7], 0, leaky[4], 2, leaky[2]};
    prun_opts o = {.pass_fds = pass, .n_pass_fds = sizeof pass / sizeof pass[0]};
    char *fds = child_fds(&o);
    char expected[64];
    snprintf(expected, sizeof expected, "0 1 2 %d %d %d %d", leaky[2], leaky[3], leaky[4],
             leaky[7]);
    ck_assert_str_eq(fds, expected);
    free(fds);
    close_all(leaky, N_LEAKY);
}
END_TEST

/* The child's fds as sorted numbers (collect() in a helper); free() it. */
static char *helper_child_fds(const prun_opts *opts, int *r)
{
    prun_opts o = *opts;
    struct outcome res;
    o.stdout_io = PRUN_PIPE;
    if ((*r = collect(list_fds_argv, &o, NULL, &res)) == 0 && res.rc != 0)
        *r = -ECHILD;
    char *fds = *r ? NULL : sorted_fds(res.out);
    outcome_free(&res);
    return fds;
}

/* Before Linux 5.9 close_range answers ENOSYS: the child closes each fd
 * /proc/self/fd lists, but pass_fds (_i 0).  Without /proc it cannot
 * tell which fds are open, and the spawn fails rather than hand the
 * caller's fds to the program (_i 1: root, a mount namespace with an
 * empty tmpfs on /proc).  On the fallback engine glibc's posix_spawn
 * closes them (closefrom), with the same two outcomes. */
static int close_fds_without_close_range(struct helper *h, int no_proc)
{
    static const long close_range_nr[] = {436 /* SYS_close_range */};
    int leaky[N_LEAKY];
    for (int i = 0; i < N_LEAKY; i++)
        H_CHECK((leaky[i] = open("/dev/null", O_RDONLY)) >= 0);
    if (no_proc) {
        if (geteuid() != 0 || unshare(CLONE_NEWNS) < 0)
            return helper_skip("close_fds_without_close_range", "needs root");
        H_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
    }
    H_CHECK(th_deny_syscalls(close_range_nr, 1, ENOSYS) == 0);
    int pass[] = {leaky[6], leaky[3]}, r;
    prun_opts o = {.pass_fds = pass, .n_pass_fds = 2};
    if (!no_proc) {
        char *fds = helper_child_fds(&o, &r), want[64];
        snprintf(want, sizeof want, "0 1 2 %d %d", leaky[3], leaky[6]);
        H_CHECK(r == 0);
        H_CHECK_STR(fds, want);
        free(fds);
        return 0;
    }
    int fds = th_count_fds();
    H_CHECK(mount("prun-test", "/proc", "tmpfs", MS_NOSUID, "size=64k") == 0);
    prun_proc *p = NULL;
    r = prun_popen(&p, list_fds_argv, &o);
    H_CHECK(umount("/proc") == 0);
    H_CHECK(r == -ENOENT && p == NULL);
    /* posix_spawn reports the failed closefrom as an exec's ENOENT. */
    H_CHECK_STR(prun_last_error(),
                th_fallback() ? "cannot run 'sh': No such file or directory"
                              : "cannot close the other file descriptors of 'sh': "
                                "No such file or directory");
    H_CHECK(prun_last_error_step() == (th_fallback() ? PRUN_STEP_EXEC : PRUN_STEP_FDS));
    H_CHECK(th_count_fds() == fds && th_count_children() == 0);
    return 0;
}

START_TEST(close_fds_before_close_range)
{
    run_in_helper(close_fds_without_close_range, _i);
}
END_TEST

/* The child checks that it may open /proc/PARENT/fd/N before it gives up
 * the shared table; refused (here faccessat, by a seccomp filter), it
 * keeps the library's high pipe ends the usual way: the same streams,
 * and still nothing else reaches the program. */
static int high_pipes_not_reopened(struct helper *h, int arg)
{
    (void)arg;
    static const long faccessat_nr[] = {SYS_faccessat};
    int crowd[N_CROWD];
    for (int i = 0; i < N_CROWD; i++)
        H_CHECK((crowd[i] = open("/dev/null", O_RDONLY)) >= 0);  /* not close-on-exec */
    H_CHECK(th_deny_syscalls(faccessat_nr, 1, EACCES) == 0);
    char *argv[] = {"sh", "-c", "cat; echo err >&2; exec ls /proc/self/fd", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    struct outcome res;
    H_CHECK(collect(argv, &o, "in\n", &res) == 0);
    H_CHECK(res.rc == 0);
    H_CHECK_STR(res.out, "in\n0\n1\n2\n3\n");
    H_CHECK_STR(res.err, "err\n");
    outcome_free(&res);
    /* And with a passed fd above them, which the table is copied up to. */
    const int pass[] = {1000};
    H_CHECK(dup2(crowd[0], 1000) == 1000);
    o.pass_fds = pass, o.n_pass_fds = 1;
    H_CHECK(collect(argv, &o, "in\n", &res) == 0);
    H_CHECK(res.rc == 0);
    H_CHECK_STR(res.out, "in\n0\n1\n1000\n2\n3\n");  /* ls's order */
    H_CHECK_STR(res.err, "err\n");
    outcome_free(&res);
    return 0;
}

START_TEST(pipes_above_a_large_table_not_reopened)
{
    run_in_helper(high_pipes_not_reopened, 0);
}
END_TEST

/* Fds at or above the caller's soft RLIMIT_NOFILE (opened before it was
 * lowered) still reach the child: a stdout_fd, a passed fd, a passed fd
 * just below the limit.  The clone3 engine always took them; glibc's
 * posix_spawn file actions refuse them with EBADF (__spawn_valid_fd), so
 * the fallback engine used to fail where clone3 succeeds, "cannot run
 * 'sh': Bad file descriptor"; it now starts such a child with clone(). */
static int fds_above_soft_nofile(struct helper *h, int arg)
{
    (void)arg;
    enum { LIMIT = 64, OUT_LOW = 40, OUT = 90, PASSED = 91 };
    struct rlimit lim;
    H_CHECK(getrlimit(RLIMIT_NOFILE, &lim) == 0);
    if (lim.rlim_cur <= PASSED)
        return helper_skip("fds_above_soft_nofile", "RLIMIT_NOFILE is too low already");
    H_CHECK(mem_file_at(OUT, "", 1) == 0);
    H_CHECK(dup2(OUT, PASSED) == PASSED && dup2(OUT, LIMIT - 1) == LIMIT - 1);
    H_CHECK(dup3(OUT, OUT_LOW, O_CLOEXEC) == OUT_LOW);
    H_CHECK(th_count_fds() < OUT_LOW);
    lim.rlim_cur = LIMIT;
    H_CHECK(setrlimit(RLIMIT_NOFILE, &lim) == 0);
    const int passed[] = {PASSED}, below[] = {LIMIT - 1};
    const prun_opts cases[] = {
        {.stdout_io = PRUN_FD, .stdout_fd = OUT},
        {.stdout_io = PRUN_FD, .stdout_fd = OUT_LOW, .pass_fds = passed, .n_pass_fds = 1},
        {.stdout_io = PRUN_FD, .stdout_fd = OUT_LOW, .pass_fds = below, .n_pass_fds = 1},
    };
    const char *const want[] = {"0 1 2", "0 1 2 91", "0 1 2 63"};
    for (int i = 0; i < 3; i++) {
        struct outcome res;
        H_CHECK(ftruncate(OUT, 0) == 0 && lseek(OUT, 0, SEEK_SET) == 0);
        int r = collect(list_fds_argv, &cases[i], NULL, &res);
        H_CHECK(r == 0 && res.rc == 0);
        outcome_free(&res);
        char *text = file_text(OUT), *fds = sorted_fds(text);
        H_CHECK_STR(fds, want[i]);
        free(fds);
        free(text);
    }
    return 0;
}

START_TEST(fds_above_the_soft_nofile_limit)
{
    run_in_helper(fds_above_soft_nofile, 0);
}
END_TEST

/* ---- signals ------------------------------------------------------------ */

struct saved_signals {
    struct sigaction pipe, xfsz;
    sigset_t mask;
};

/* The caller ignores SIGPIPE and SIGXFSZ and blocks SIGTERM, SIGINT and
 * SIGPIPE, as a careless parent might. */
static struct saved_signals unfriendly_signals(void)
{
    struct saved_signals s;
    struct sigaction ign = {.sa_handler = SIG_IGN};
    sigaction(SIGPIPE, &ign, &s.pipe);
    sigaction(SIGXFSZ, &ign, &s.xfsz);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGPIPE);
    sigprocmask(SIG_BLOCK, &block, &s.mask);
    return s;
}

static void restore_signals(const struct saved_signals *s)
{
    sigaction(SIGPIPE, &s->pipe, NULL);
    sigaction(SIGXFSZ, &s->xfsz, NULL);
    sigprocmask(SIG_SETMASK, &s->mask, NULL);
}

static char *status_line(const char *status, const char *key)
{
    const char *line = strstr(status, key);
    ck_assert_msg(line != NULL, "no %s in /proc/self/status", key);
    line += strlen(key);
    return strndup(line, strcspn(line, "\n"));
}

/* SigIgn and SigBlk of a child spawned while the caller ignores and
 * blocks signals, as numbers. */
static void child_signal_masks(unsigned long long *ign, unsigned long long *blk)
{
    struct saved_signals saved = unfriendly_signals();
    char *argv[] = {"cat", "/proc/self/status", NULL};
    prun_opts o = {0};
    char *status = output_of(argv, &o);
    restore_signals(&saved);
    char *ign_text = status_line(status, "\nSigIgn:\t");
    char *blk_text = status_line(status, "\nSigBlk:\t");
    *ign = strtoull(ign_text, NULL, 16);
    *blk = strtoull(blk_text, NULL, 16);
    free(ign_text);
    free(blk_text);
    free(status);
}

/* Bit n-1 stands for signal n. */
#define SIG_BIT(n) (1ULL << ((n) - 1))

START_TEST(signals_reset_in_child)
{
    unsigned long long ign, blk;
    child_signal_masks(&ign, &blk);
    /* Signals 32 and 33 (glibc's SIGCANCEL and SIGSETXID) are checked by
     * the next test. */
    ck_assert_msg((ign & ~(SIG_BIT(32) | SIG_BIT(33))) == 0, "SigIgn %llx", ign);
    ck_assert_msg(blk == 0, "SigBlk %llx", blk);
}
END_TEST

/* sigmask is the child's mask, exactly, whatever the caller blocks (env's
 * --block-signal); by default it is empty (the test above). */
START_TEST(sigmask_is_the_childs_mask)
{
    char *argv[] = {"cat", "/proc/self/status", NULL};
    sigset_t mask, mine, old;
    sigemptyset(&mask);
    sigaddset(&mask, SIGUSR1);
    sigaddset(&mask, SIGHUP);
    sigemptyset(&mine);
    sigaddset(&mine, SIGTERM);
    sigprocmask(SIG_BLOCK, &mine, &old);
    prun_opts o = {.sigmask = &mask};
    char *status = output_of(argv, &o);
    sigprocmask(SIG_SETMASK, &old, NULL);
    char *blk = status_line(status, "\nSigBlk:\t");
    ck_assert_uint_eq(strtoull(blk, NULL, 16), SIG_BIT(SIGUSR1) | SIG_BIT(SIGHUP));
    free(blk);
    free(status);
}
END_TEST

/* glibc's posix_spawn leaves its internal signals 32 and 33 at SIG_IGN in
 * the child, and exec keeps them ignored, unless the spawn-sigdefault set
 * names them too; sigfillset() leaves them out.  The library must fill
 * the set by hand (memset 0xff) for this to pass. */
START_TEST(glibc_internal_signals_reset_in_child)
{
    unsigned long long ign, blk;
    child_signal_masks(&ign, &blk);
    ck_assert_msg(ign == 0, "SigIgn %llx", ign);
}
END_TEST

/* yes | head -1, with the caller ignoring SIGPIPE: yes must die of it. */
START_TEST(sigpipe_kills_child)
{
    struct saved_signals saved = unfriendly_signals();
    char *yes_argv[] = {"yes", NULL}, *head_argv[] = {"head", "-1", NULL};
    prun_opts yes_o = {.stdout_io = PRUN_PIPE};
    prun_proc *yes, *head;
    TH_POPEN_OK(&yes, yes_argv, &yes_o);
    prun_opts head_o = {.stdin_io = PRUN_FD, .stdin_fd = prun_stdout(yes), .stdout_io = PRUN_PIPE};
    TH_POPEN_OK(&head, head_argv, &head_o);
    /* Only head may hold the read end now. */
    ck_assert_int_eq(prun_close_stream(yes, 1), 0);
    char *out = th_read_all(prun_stdout(head), NULL);
    int head_rc, yes_rc;
    ck_assert_int_eq(prun_wait(head, PRUN_FOREVER, &head_rc), 0);
    ck_assert_int_eq(prun_wait(yes, PRUN_FOREVER, &yes_rc), 0);
    restore_signals(&saved);
    ck_assert_str_eq(out, "y\n");
    ck_assert_int_eq(head_rc, 0);
    ck_assert_int_eq(yes_rc, -SIGPIPE);
    free(out);
    prun_free(head);
    prun_free(yes);
}
END_TEST

/* ---- sessions and process groups ---------------------------------------- */

/* The child's pid, pgid and sid from its /proc/self/stat; the pid must be
 * the handle's. */
static void child_ids(prun_opts *o, pid_t *pid, pid_t *pgid, pid_t *sid)
{
    char *argv[] = {"cat", "/proc/self/stat", NULL};
    prun_proc *p;
    o->stdout_io = PRUN_PIPE;
    TH_POPEN_OK(&p, argv, o);
    char *stat = th_read_all(prun_stdout(p), NULL);
    char *rp = strrchr(stat, ')');
    ck_assert_ptr_nonnull(rp);
    int ppid;
    char state;
    ck_assert_int_eq(sscanf(stat, "%d", pid), 1);
    ck_assert_int_eq(*pid, prun_pid(p));
    ck_assert_int_eq(sscanf(rp + 1, " %c %d %d %d", &state, &ppid, pgid, sid), 4);
    free(stat);
    prun_free(p);
}

START_TEST(default_keeps_group_and_session)
{
    pid_t pid, pgid, sid;
    prun_opts o = {0};
    child_ids(&o, &pid, &pgid, &sid);
    ck_assert_int_eq(pgid, getpgrp());
    ck_assert_int_eq(sid, getsid(0));
}
END_TEST

START_TEST(new_session)
{
    pid_t pid, pgid, sid;
    prun_opts o = {.new_session = 1};
    child_ids(&o, &pid, &pgid, &sid);
    ck_assert_int_eq(pgid, pid);
    ck_assert_int_eq(sid, pid);
}
END_TEST

START_TEST(new_pgroup)
{
    pid_t pid, pgid, sid;
    prun_opts o = {.new_pgroup = 1};
    child_ids(&o, &pid, &pgid, &sid);
    ck_assert_int_eq(pgid, pid);
    ck_assert_int_eq(sid, getsid(0));
}
END_TEST

/* The kernel refuses the child's setsid() (here a seccomp filter, as a
 * sandbox may): the spawn fails as that step, with nothing left behind.
 * posix_spawn reports its failed setsid as it reports a failed exec. */
static int setsid_refused(struct helper *h, int arg)
{
    (void)arg;
    static const long setsid_nr[] = {SYS_setsid};
    H_CHECK(th_deny_syscalls(setsid_nr, 1, EPERM) == 0);
    char *argv[] = {"true", NULL};
    prun_opts o = {.new_session = 1};
    int fds = th_count_fds();
    prun_proc *p = NULL;
    H_CHECK(prun_popen(&p, argv, &o) == -EPERM && p == NULL);
    H_CHECK_STR(prun_last_error(), th_fallback()
                                       ? "cannot run 'true': Operation not permitted"
                                       : "cannot start a new session for 'true': "
                                         "Operation not permitted");
    H_CHECK(prun_last_error_step() == (th_fallback() ? PRUN_STEP_EXEC : PRUN_STEP_SESSION));
    H_CHECK(th_count_fds() == fds && th_count_children() == 0);
    return 0;
}

START_TEST(new_session_refused)
{
    run_in_helper(setsid_refused, 0);
}
END_TEST

/* A pipeline with take_tty under a terminal (a pty this helper leads a
 * session on) whose TIOCSPGRP the kernel refuses (a seccomp filter): the
 * spawn fails as that step, the terminal stays the caller's, nothing is
 * left.  posix_spawn reports its failed tcsetpgrp as a failed exec. */
static int tty_refused(struct helper *h, int arg)
{
    (void)arg;
    signal(SIGHUP, SIG_IGN);  /* the terminal's hangup when its session leader exits */
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    H_CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    H_CHECK(setsid() > 0);
    int slave = open(ptsname(master), O_RDWR | O_CLOEXEC);  /* the controlling terminal now */
    H_CHECK(slave >= 0 && dup2(slave, 0) == 0);
    close(slave);
    H_CHECK(tcgetpgrp(0) == getpgrp());
    H_CHECK(deny_syscall_if(SYS_ioctl, 1, TIOCSPGRP, EPERM) == 0);
    char *argv[] = {"true", NULL};
    char *const *stages[] = {argv};
    prun_opts o = {.take_tty = 1};
    prun_result res;
    int fds = th_count_fds();
    H_CHECK(prun_pipeline_run(1, stages, &o, &res) == -EPERM);
    prun_result_free(&res);
    H_CHECK_STR(prun_last_error(), th_fallback()
                                       ? "cannot run 'true': Operation not permitted"
                                       : "cannot give the terminal to 'true': "
                                         "Operation not permitted");
    H_CHECK(prun_last_error_step() == (th_fallback() ? PRUN_STEP_EXEC : PRUN_STEP_SESSION));
    H_CHECK(tcgetpgrp(0) == getpgrp());
    H_CHECK(th_count_fds() == fds && th_count_children() == 0);
    close(master);
    return 0;
}

START_TEST(take_tty_refused)
{
    run_in_helper(tty_refused, 0);
}
END_TEST

/* The same with the ioctl allowed: the first stage gets the terminal
 * from its own, background, group (which raises SIGTTOU, blocked in the
 * child: unblocked, the child stops and the spawn never returns), and
 * the caller has it back at the end. */
static int tty_taken(struct helper *h, int arg)
{
    (void)arg;
    signal(SIGHUP, SIG_IGN);
    int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
    H_CHECK(master >= 0 && grantpt(master) == 0 && unlockpt(master) == 0);
    H_CHECK(setsid() > 0);
    int slave = open(ptsname(master), O_RDWR | O_CLOEXEC);
    H_CHECK(slave >= 0 && dup2(slave, 0) == 0);
    close(slave);
    /* /proc/$$/stat after the name: state ppid pgrp session tty_nr tpgid */
    char *argv[] = {"sh", "-c", "s=$(cat /proc/$$/stat); set -- ${s##*) }; test \"$3\" = \"$6\"", NULL};
    char *const *stages[] = {argv};
    prun_opts o = {.take_tty = 1};
    prun_result res;
    H_CHECK(prun_pipeline_run(1, stages, &o, &res) == 0);
    H_CHECK(res.returncode == 0);  /* the stage's group held the terminal */
    prun_result_free(&res);
    H_CHECK(tcgetpgrp(0) == getpgrp());
    H_CHECK(th_count_children() == 0);
    close(master);
    return 0;
}

START_TEST(take_tty_under_a_terminal)
{
    run_in_helper(tty_taken, 0);
}
END_TEST

/* ---- names and checks --------------------------------------------------- */

START_TEST(strerror_names_every_code)
{
    ck_assert_str_eq(prun_strerror(0), "Success");
    ck_assert_str_eq(prun_strerror(PRUN_ETIMEOUT), "Timed out");
    ck_assert_str_eq(prun_strerror(PRUN_ECHECK), "Command returned a nonzero status");
    ck_assert_str_eq(prun_strerror(PRUN_ETOOBIG), "Output exceeded max_output");
    ck_assert_str_eq(prun_strerror(-ENOENT), strerror(ENOENT));
    ck_assert_str_eq(prun_strerror(-4095), "Unknown error 4095");  /* glibc's */
    /* Not a code of the library's: positive, below the errno range, or a
     * PRUN_E* of a later libprun. */
    const int unknown[] = {1, ENOENT, INT_MAX, -4096, PRUN_ETIMEOUT + 1, PRUN_ETOOBIG - 1,
                           INT_MIN};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++)
        ck_assert_str_eq(prun_strerror(unknown[i]), "Unknown error");
}
END_TEST

/* A sentence longer than its buffer is cut there, without its errno
 * part: NUL-terminated, nothing overrun. */
START_TEST(long_sentence_is_cut)
{
    char dir[1500] = "/prun-no-such-dir";
    while (strlen(dir) + 3 < sizeof dir)
        strcat(dir, "/x");
    ck_assert_int_eq(prun_check_cwd(dir), -ENOENT);
    const char *sentence = prun_last_error();
    ck_assert_uint_eq(strlen(sentence), 1023);
    static const char start[] = "cannot change directory to '/prun-no-such-dir/x/x";
    ck_assert_int_eq(strncmp(sentence, start, sizeof start - 1), 0);
    ck_assert_ptr_null(strstr(sentence, "No such file"));
}
END_TEST

START_TEST(buf_free_null_and_empty)
{
    prun_buf_free(NULL);
    prun_buf b = {NULL, 0};
    prun_buf_free(&b);
    ck_assert_ptr_null(b.data);
    ck_assert_uint_eq(b.len, 0);
}
END_TEST

/* prun_check_cwd says what prun_popen's cwd would fail with, and why. */
START_TEST(check_cwd_answers)
{
    ck_assert_int_eq(prun_check_cwd("/"), 0);
    ck_assert_int_eq(prun_check_cwd(NULL), -EINVAL);
    ck_assert_str_eq(prun_last_error(), "cannot change directory to '(null)': Invalid argument");
    ck_assert_int_eq(prun_check_cwd("/prun-no-such-dir"), -ENOENT);
    ck_assert_str_eq(prun_last_error(),
                     "cannot change directory to '/prun-no-such-dir': No such file or directory");
    ck_assert_int_eq(prun_check_cwd("/dev/null"), -ENOTDIR);
    ck_assert_str_eq(prun_last_error(), "cannot change directory to '/dev/null': Not a directory");
}
END_TEST

/* A directory the caller may not search: EACCES from prun_check_cwd and
 * from the child's chdir, as that step.  Root is made an ordinary user
 * for this by dropping CAP_DAC_OVERRIDE and CAP_DAC_READ_SEARCH. */
static int cwd_not_searchable(struct helper *h, int arg)
{
    (void)arg;
    static const int dac[] = {CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH};
    char *dir = th_mkdtemp(), *locked = NULL;
    H_CHECK(dir && asprintf(&locked, "%s/locked", dir) > 0 && mkdir(locked, 0) == 0);
    if (geteuid() == 0)
        H_CHECK(th_drop_caps(dac, 2) == 0);
    char want[PATH_MAX + 64];
    snprintf(want, sizeof want, "cannot change directory to '%s': Permission denied", locked);
    H_CHECK(prun_check_cwd(locked) == -EACCES);
    H_CHECK_STR(prun_last_error(), want);
    char *argv[] = {"true", NULL};
    prun_opts o = {.cwd = locked};
    int fds = th_count_fds();
    prun_proc *p = NULL;
    H_CHECK(prun_popen(&p, argv, &o) == -EACCES && p == NULL);
    H_CHECK_STR(prun_last_error(), want);
    H_CHECK(prun_last_error_step() == PRUN_STEP_CWD);
    H_CHECK(th_count_fds() == fds && th_count_children() == 0);
    rmdir(locked);
    rmdir(dir);
    free(locked);
    free(dir);
    return 0;
}

START_TEST(cwd_not_searchable_refused)
{
    run_in_helper(cwd_not_searchable, 0);
}
END_TEST

/* Option values no libprun has: refused before anything starts. */
START_TEST(invalid_option_values)
{
    char *argv[] = {"true", NULL};
    prun_opts o = {.stdin_io = (enum prun_io)(PRUN_FD + 1)};
    expect_error(argv, &o, -EINVAL, "invalid stdin_io 5: Invalid argument");
    o = (prun_opts){.stdout_io = (enum prun_io)-1};
    expect_error(argv, &o, -EINVAL, "invalid stdout_io -1: Invalid argument");
    o = (prun_opts){.stderr_io = (enum prun_io)42};
    expect_error(argv, &o, -EINVAL, "invalid stderr_io 42: Invalid argument");
    o = (prun_opts){.n_pass_fds = 2};
    expect_error(argv, &o, -EINVAL, "n_pass_fds is 2 but pass_fds is NULL: Invalid argument");
    /* reserved0 is a later libprun's option: this one cannot do it. */
    o = (prun_opts){.reserved0 = 1};
    char *want;
    ck_assert_int_ge(asprintf(&want, "prun_opts sets an option that libprun %s does not know "
                                     "(reserved0): the program was built against a newer "
                                     "prun.h: Argument list too long", prun_version()), 0);
    expect_error(argv, &o, -E2BIG, want);
    free(want);
}
END_TEST

/* ---- engines ------------------------------------------------------------ */

/* clone3 refused with EPERM (container seccomp profiles before they knew
 * it, Docker's until 20.10): the child starts anyway, by clone(), streams
 * and all.  (EINVAL, Linux 5.3 and 5.4 refusing CLONE_CLEAR_SIGHAND,
 * cannot be told from other clone3 calls by a filter, which does not see
 * clone3's struct: glibc's posix_spawn would be refused too.) */
static int clone3_refused(struct helper *h, int arg)
{
    (void)arg;
    static const long clone3_nr[] = {435 /* SYS_clone3 */};
    H_CHECK(th_deny_syscalls(clone3_nr, 1, EPERM) == 0);
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE,
                   .new_pgroup = 1};
    struct outcome res;
    H_CHECK(collect(cat_err_argv, &o, "fig", &res) == 0 && res.rc == 0);
    H_CHECK_STR(res.out, "got fig");
    H_CHECK_STR(res.err, "err");
    outcome_free(&res);
    H_CHECK(th_count_children() == 0);
    return 0;
}

START_TEST(clone3_refused_eperm)
{
    run_in_helper(clone3_refused, 0);
}
END_TEST

/* ---- errors ------------------------------------------------------------- */

static const prun_opts all_pipes = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE,
                                    .stderr_io = PRUN_PIPE};

START_TEST(error_null_argv)
{
    expect_error(NULL, &all_pipes, -EINVAL, NULL);
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "Invalid argument"));
}
END_TEST

START_TEST(error_empty_argv)
{
    char *argv[] = {NULL};
    expect_error(argv, &all_pipes, -EINVAL, NULL);
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "Invalid argument"));
}
END_TEST

START_TEST(error_bad_fd)
{
    int closed = open("/dev/null", O_RDONLY | O_CLOEXEC);
    ck_assert_int_ge(closed, 0);
    close(closed);
    char *argv[] = {"true", NULL};
    const int bad[] = {-1, closed, 9999};
    for (int i = 0; i < 3; i++) {
        prun_opts o = all_pipes;
        o.stdin_io = PRUN_FD, o.stdin_fd = bad[i];
        expect_error(argv, &o, -EBADF, NULL);
        ck_assert_ptr_nonnull(strstr(prun_last_error(), "Bad file descriptor"));
        o = all_pipes;
        o.stdout_io = PRUN_FD, o.stdout_fd = bad[i];
        expect_error(argv, &o, -EBADF, NULL);
        o = all_pipes;
        o.stderr_io = PRUN_FD, o.stderr_fd = bad[i];
        expect_error(argv, &o, -EBADF, NULL);
        o = all_pipes;
        o.pass_fds = &bad[i], o.n_pass_fds = 1;
        expect_error(argv, &o, -EBADF, NULL);
    }
}
END_TEST

START_TEST(error_stdout_for_stdin_or_stdout)
{
    char *argv[] = {"true", NULL};
    prun_opts o = {.stdin_io = PRUN_STDOUT, .stdout_io = PRUN_PIPE};
    expect_error(argv, &o, -EINVAL, NULL);
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "Invalid argument"));
    o = (prun_opts){.stdout_io = PRUN_STDOUT, .stdin_io = PRUN_PIPE};
    expect_error(argv, &o, -EINVAL, NULL);
    ck_assert_ptr_nonnull(strstr(prun_last_error(), "Invalid argument"));
}
END_TEST

START_TEST(error_missing_program)
{
    char *argv[] = {"nosuch", "arg", NULL};
    expect_error(argv, &all_pipes, -ENOENT, "cannot run 'nosuch': No such file or directory");
    char *abs[] = {"/opt/nonexistent_binary", NULL};
    expect_error(abs, &all_pipes, -ENOENT,
                 "cannot run '/opt/nonexistent_binary': No such file or directory");
}
END_TEST

START_TEST(error_not_executable)
{
    char *dir = th_mkdtemp();
    char *script = path_in(dir, "script");
    th_write_file(script, "#!/bin/sh\nexit 0\n", 0644);
    char *argv[] = {script, NULL};
    expect_error_about(argv, &all_pipes, -EACCES, "cannot run '%s': %s", script);
    free(script);
    th_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(error_directory_as_program)
{
    char *dir = th_mkdtemp();
    char *argv[] = {dir, NULL};
    expect_error_about(argv, &all_pipes, -EACCES, "cannot run '%s': %s", dir);
    th_rm_rf(dir);
    free(dir);
}
END_TEST

START_TEST(error_bad_cwd)
{
    char *argv[] = {"true", NULL};
    prun_opts o = all_pipes;
    o.cwd = "/nope";
    expect_error(argv, &o, -ENOENT,
                 "cannot change directory to '/nope': No such file or directory");
}
END_TEST

START_TEST(error_cwd_is_a_file)
{
    char *dir = th_mkdtemp();
    char *file = path_in(dir, "file");
    th_write_file(file, "", 0644);
    char *argv[] = {"true", NULL};
    prun_opts o = all_pipes;
    o.cwd = file;
    expect_error_about(argv, &o, -ENOTDIR, "cannot change directory to '%s': %s", file);
    free(file);
    th_rm_rf(dir);
    free(dir);
}
END_TEST

/* The step a failure came from: what prun(1) tells 126/127 from 125 by. */
static int step_of(char *const argv[], const prun_opts *o)
{
    prun_proc *p = NULL;
    ck_assert_int_lt(prun_popen(&p, argv, o), 0);
    ck_assert_ptr_null(p);
    return prun_last_error_step();
}

START_TEST(error_step_names_the_step)
{
    char *missing[] = {"nosuch", NULL}, *tru[] = {"true", NULL};
    prun_opts o = {0};
    ck_assert_int_eq(step_of(missing, &o), PRUN_STEP_EXEC);
    ck_assert_int_eq(step_of((char *[]){"/", NULL}, &o), PRUN_STEP_EXEC);
    o.cwd = "/nope";
    ck_assert_int_eq(step_of(tru, &o), PRUN_STEP_CWD);
    o = (prun_opts){.user = "no-such-user-here"};
    ck_assert_int_eq(step_of(tru, &o), PRUN_STEP_CREDENTIALS);
    o = (prun_opts){.group = "no-such-group-here"};
    ck_assert_int_eq(step_of(tru, &o), PRUN_STEP_CREDENTIALS);
    /* Above fs.nr_open no one may raise RLIMIT_NOFILE, root or not. */
    char *nr_open = th_read_file("/proc/sys/fs/nr_open", NULL);
    rlim_t too_many = (rlim_t)strtoull(nr_open, NULL, 10) + 1;
    free(nr_open);
    struct prun_rlimit nofile = {RLIMIT_NOFILE, {too_many, too_many}};
    o = (prun_opts){.rlimits = &nofile, .n_rlimits = 1};
    ck_assert_int_eq(step_of(tru, &o), PRUN_STEP_RLIMITS);
    /* A bad argument is no step, and each failure sets it afresh. */
    ck_assert_int_eq(step_of((char *[]){NULL}, &(prun_opts){0}), PRUN_STEP_NONE);
    o = (prun_opts){.stdin_io = PRUN_FD, .stdin_fd = -1};
    ck_assert_int_eq(step_of(tru, &o), PRUN_STEP_NONE);
    ck_assert_int_eq(step_of(missing, &(prun_opts){0}), PRUN_STEP_EXEC);
    char *sleeper[] = {"sleep", "5", NULL};
    ck_assert_int_eq(prun_call(sleeper, &(prun_opts){.timeout_ms = 1}, NULL), PRUN_ETIMEOUT);
    ck_assert_int_eq(prun_last_error_step(), PRUN_STEP_NONE);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static Suite *spawn_suite(void)
{
    Suite *s = suite_create("spawn");
    TCase *tc;

    tc = th_tcase(s, "stdin", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, stdin_pipe);
    tcase_add_test(tc, stdin_devnull);
    tcase_add_test(tc, stdin_fd_from_offset);

    tc = th_tcase(s, "stdout", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, stdout_pipe);
    tcase_add_test(tc, stdout_devnull);
    tcase_add_test(tc, stdout_fd);

    tc = th_tcase(s, "stderr", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, stderr_pipe);
    tcase_add_test(tc, stderr_devnull);
    tcase_add_test(tc, stderr_fd);
    tcase_add_test(tc, stderr_to_stdout_pipe);
    tcase_add_test(tc, stderr_to_stdout_fd);
    tcase_add_test(tc, stderr_to_stdout_devnull);
    tcase_add_test(tc, stderr_to_stdout_inherited);

    tc = th_tcase(s, "std_fds", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, inherit_by_default);
    tcase_add_test(tc, fd_is_its_own_target);
    tcase_add_loop_test(tc, std_fds_permuted, 0, 6);
    tcase_add_test(tc, std_fds_swapped_one_closed);
    tcase_add_loop_test(tc, std_fds_closed, 1, 8);

    tc = th_tcase(s, "shared_fd", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, one_fd_stdout_and_stderr);
    tcase_add_test(tc, one_fd_stdin_and_stdout);
    tcase_add_test(tc, one_fd_stdin_and_stderr);

    tc = th_tcase(s, "cwd", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, cwd_is_used);
    tcase_add_test(tc, cwd_relative_program);
    tcase_add_test(tc, cwd_with_executable_and_bogus_argv0);

    tc = th_tcase(s, "env", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, env_replaces_environment);
    tcase_add_test(tc, env_empty);
    tcase_add_test(tc, env_null_inherits_current);

    tc = th_tcase(s, "path", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, path_from_env);
    tcase_add_test(tc, path_from_caller_without_env);
    tcase_add_test(tc, path_default_when_env_has_none);
    tcase_add_test(tc, path_skips_non_executable);
    tcase_add_test(tc, path_no_shebang_is_enoexec);
    tcase_add_test(tc, path_entries_empty_long_and_lookalike);
    tcase_add_test(tc, path_default_without_environ);

    tc = th_tcase(s, "shell_executable", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, shell_with_arguments);
    tcase_add_test(tc, shell_command_line);
    tcase_add_test(tc, shell_with_executable);
    tcase_add_test(tc, executable_argv0_is_only_a_name);
    tcase_add_test(tc, executable_bad_with_valid_argv0);

    tc = th_tcase(s, "fds", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, close_fds_by_default);
    tcase_add_test(tc, pipes_above_a_large_table);
    tcase_add_test(tc, pipes_low_and_high);
    tcase_add_test(tc, keep_fds_passes_inheritable);
    tcase_add_test(tc, pass_fds_exactly);
    tcase_add_test(tc, pass_fds_high);
    tcase_add_test(tc, pass_fds_also_redirected);
    tcase_add_test(tc, pass_fds_unsorted_repeated_and_std);
    tcase_add_loop_test(tc, close_fds_before_close_range, 0, 2);
    tcase_add_test(tc, pipes_above_a_large_table_not_reopened);
    tcase_add_test(tc, fds_above_the_soft_nofile_limit);

    tc = th_tcase(s, "signals", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, signals_reset_in_child);
    tcase_add_test(tc, glibc_internal_signals_reset_in_child);
    tcase_add_test(tc, sigmask_is_the_childs_mask);
    tcase_add_test(tc, sigpipe_kills_child);

    tc = th_tcase(s, "session", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, default_keeps_group_and_session);
    tcase_add_test(tc, new_session);
    tcase_add_test(tc, new_pgroup);
    tcase_add_test(tc, new_session_refused);
    tcase_add_test(tc, take_tty_refused);
    tcase_add_test(tc, take_tty_under_a_terminal);

    tc = th_tcase(s, "engines", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, clone3_refused_eperm);

    tc = th_tcase(s, "errors", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, error_null_argv);
    tcase_add_test(tc, error_empty_argv);
    tcase_add_test(tc, error_bad_fd);
    tcase_add_test(tc, error_stdout_for_stdin_or_stdout);
    tcase_add_test(tc, error_missing_program);
    tcase_add_test(tc, error_not_executable);
    tcase_add_test(tc, error_directory_as_program);
    tcase_add_test(tc, error_bad_cwd);
    tcase_add_test(tc, error_cwd_is_a_file);
    tcase_add_test(tc, error_step_names_the_step);

    tc = th_tcase(s, "names_checks", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, strerror_names_every_code);
    tcase_add_test(tc, long_sentence_is_cut);
    tcase_add_test(tc, buf_free_null_and_empty);
    tcase_add_test(tc, check_cwd_answers);
    tcase_add_test(tc, cwd_not_searchable_refused);
    tcase_add_test(tc, invalid_option_values);

    return s;
}

int main(void)
{
    return th_run_suite(spawn_suite());
}
