/* SPDX-License-Identifier: MIT */
/* test_inject.c - SQLite's method on libprun: for each scenario, fail the
 * Nth allocation for N = 1, 2, ... until a run completes with none
 * failed, and fail each system call the library makes, once, in turn,
 * with an errno it can really return (inject.c).  Every try runs in a
 * fresh process, and must end without a crash or a hang, within the
 * scenario's time bound, with either the right output or a negative
 * error and a sentence about it, and with no fd or child left behind
 * (and, in the sanitizer build, no byte: LeakSanitizer runs at its exit).
 * An EINTR must change nothing at all.
 *
 *   test_inject [SCENARIO...]      all of them by default
 */
#include "inject.h"

#include <prun.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

enum { INPUT_LEN = 200 * 1024, TRY_SECONDS = 60 };

static char input[INPUT_LEN];

/* What a scenario did: the library's answer, and whether a successful
 * answer came with the right output. */
struct outcome {
    int r;
    int right;
};

enum { ALLOCATIONS = 1, SYSTEM_CALLS = 2, BOTH = 3 };

struct scenario {
    const char *name;
    int passes;          /* ALLOCATIONS, SYSTEM_CALLS or BOTH */
    int needs_root;
    int expected;        /* the answer when nothing fails: 0, or PRUN_ETIMEOUT */
    int64_t bound_ms;    /* however it ends, within this */
    struct outcome (*run)(void);
    int (*setup)(void);  /* in the try's process, before anything is armed: 0 or -1 */
    int (*verify)(void);  /* after the try, disarmed: whether the output outside the library's
                             buffers is right */
};

static int same(const prun_buf *b, const char *s, size_t len)
{
    return b->data && b->len == len && memcmp(b->data, s, len) == 0 && b->data[len] == '\0';
}

/* ---- the scenarios: library calls and in-memory checks only ---- */

static struct outcome popen_communicate(void)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_PIPE};
    prun_proc *p;
    prun_buf out = {0}, err = {0};
    int rc = -1;
    struct outcome oc = {prun_popen(&p, argv, &o), 0};
    if (oc.r)
        return oc;
    oc.r = prun_communicate(p, "lime", 4, 30000, &out, &err);
    if (oc.r == 0)
        oc.r = prun_wait(p, 30000, &rc);
    oc.right = same(&out, "lime", 4) && same(&err, "", 0) && rc == 0;
    prun_buf_free(&out);
    prun_buf_free(&err);
    prun_free(p);
    return oc;
}

static struct outcome run_capture(void)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.input = input, .input_len = INPUT_LEN, .capture_output = 1,
                   .timeout_ms = 30000};
    prun_result res;
    struct outcome oc = {prun_run(argv, &o, &res), 0};
    oc.right = same(&res.out, input, INPUT_LEN) && same(&res.err, "", 0) && res.returncode == 0;
    prun_result_free(&res);
    return oc;
}

/* The timeout is the answer; the output so far comes with it. */
static struct outcome run_timeout(void)
{
    char *argv[] = {"cat; exec sleep 30", NULL};
    prun_opts o = {.shell = 1, .input = input, .input_len = INPUT_LEN, .capture_output = 1,
                   .timeout_ms = 300};
    prun_result res;
    struct outcome oc = {prun_run(argv, &o, &res), 0};
    oc.right = same(&res.out, input, INPUT_LEN) && res.returncode == -SIGKILL;
    prun_result_free(&res);
    return oc;
}

static struct outcome check_output(void)
{
    char *argv[] = {"printf", "BDFL", NULL};
    prun_buf out;
    struct outcome oc = {prun_check_output(argv, NULL, &out), 0};
    oc.right = same(&out, "BDFL", 4);
    prun_buf_free(&out);
    return oc;
}

static struct outcome getoutput(void)
{
    char *s = prun_getoutput("echo xyzzy");
    struct outcome oc = {s ? 0 : -1, s && strcmp(s, "xyzzy") == 0};
    if (!s)  /* it says no more than NULL; the reason is in the sentence */
        oc.r = -EIO;
    free(s);
    return oc;
}

static struct outcome getstatusoutput(void)
{
    prun_buf out;
    int status = -1;
    struct outcome oc = {prun_getstatusoutput("echo oops >&2; exit 3", &status, &out), 0};
    oc.right = status == 3 && same(&out, "oops", 4);
    prun_buf_free(&out);
    return oc;
}

static struct outcome pipeline3(void)
{
    char *a[] = {"printf", "b\\na\\n", NULL}, *b[] = {"sort", NULL}, *c[] = {"tr", "a-z", "A-Z", NULL};
    char *const *stages[] = {a, b, c};
    prun_opts o = {.stdout_io = PRUN_PIPE, .timeout_ms = 30000};
    prun_result res;
    struct outcome oc = {prun_pipeline_run(3, stages, &o, &res), 0};
    oc.right = same(&res.out, "A\nB\n", 4) && res.returncode == 0;
    prun_result_free(&res);
    return oc;
}

static struct outcome run_as(const char *user, const char *group, const char *const *groups)
{
    char *argv[] = {"id -u; id -G; umask; ulimit -c", NULL};
    const struct prun_rlimit core = {RLIMIT_CORE, {0, 0}};
    prun_opts o = {.shell = 1, .stdout_io = PRUN_PIPE, .user = user, .group = group,
                   .extra_groups = groups, .umask = PRUN_UMASK(027), .rlimits = &core,
                   .n_rlimits = 1, .pdeathsig = SIGTERM, .timeout_ms = 30000};
    prun_result res;
    static const char want[] = "65534\n65534\n0027\n0\n";
    struct outcome oc = {prun_run(argv, &o, &res), 0};
    oc.right = same(&res.out, want, sizeof want - 1) && res.returncode == 0;
    prun_result_free(&res);
    return oc;
}

/* By name: the user and its groups from the databases. */
static struct outcome credentials(void)
{
    return run_as("nobody", NULL, NULL);
}

/* By number, with nothing to look up: no NSS module under the system
 * call failures (glibc's nss-systemd aborts when sigprocmask fails). */
static struct outcome credentials_numeric(void)
{
    static const char *const groups[] = {"65534", NULL};
    return run_as("65534", "65534", groups);
}

/* prun_write and prun_readline with cat, line by line, then its EOF:
 * the first line read, the second one read ahead (the short-line path),
 * the third completed by a later write. */
static struct outcome io_lines(void)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE};
    prun_proc *p;
    prun_buf a = {0}, ahead = {0}, b = {0}, eof = {0};
    int rc = -1, got_eof = -1;
    struct outcome oc = {prun_popen(&p, argv, &o), 0};
    if (oc.r)
        return oc;
    if ((oc.r = prun_write(p, "one\nab\nline two", 15, 30000, NULL)) == 0 &&
        (oc.r = prun_readline(p, 1, 30000, &a)) == 1 &&
        (oc.r = prun_readline(p, 1, 30000, &ahead)) == 1 &&
        (oc.r = prun_write(p, "\n", 1, 30000, NULL)) == 0 &&
        (oc.r = prun_readline(p, 1, 30000, &b)) == 1) {
        prun_close_stream(p, 0);
        got_eof = prun_readline(p, 1, 30000, &eof);
        oc.r = got_eof < 0 ? got_eof : prun_wait(p, 30000, &rc);
    }
    if (oc.r > 0)
        oc.r = 0;
    oc.right = same(&a, "one\n", 4) && same(&ahead, "ab\n", 3) && same(&b, "line two\n", 9) &&
               got_eof == 0 && rc == 0;
    prun_buf_free(&a);
    prun_buf_free(&ahead);
    prun_buf_free(&b);
    prun_buf_free(&eof);
    prun_close_stream(p, 0);  /* whatever failed, cat ends at its EOF */
    prun_free(p);
    return oc;
}

/* prun_read in small pieces after a readline. */
static struct outcome io_read(void)
{
    char *argv[] = {"printf", "head\nbody", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_proc *p;
    prun_buf line = {0};
    char body[16] = "";
    size_t n = 0;
    struct outcome oc = {prun_popen(&p, argv, &o), 0};
    if (oc.r)
        return oc;
    if ((oc.r = prun_readline(p, 1, 30000, &line)) == 1) {
        ssize_t got;
        while ((got = prun_read(p, 1, body + n, 3, 30000)) > 0 && n < sizeof body - 3)
            n += (size_t)got;
        oc.r = got < 0 ? (int)got : 0;
    }
    if (oc.r > 0)
        oc.r = 0;
    oc.right = same(&line, "head\n", 5) && n == 4 && memcmp(body, "body", 4) == 0;
    prun_buf_free(&line);
    prun_free(p);
    return oc;
}

/* Three children collected with prun_wait_any, then -ECHILD. */
static struct outcome wait_any3(void)
{
    prun_proc *p[3] = {NULL, NULL, NULL};
    int seen = 0, r = 0;
    for (int i = 0; i < 3 && r == 0; i++) {
        char cmd[24];  /* room for any int: gcc -O1 -Werror=format-truncation */
        snprintf(cmd, sizeof cmd, "exit %d", i + 1);
        char *argv[] = {"sh", "-c", cmd, NULL};
        r = prun_popen(&p[i], argv, NULL);
    }
    for (int k = 0; k < 3 && r == 0; k++) {
        size_t index;
        int rc;
        if ((r = prun_wait_any(p, 3, 30000, &index, &rc)) == 0 && index < 3 && rc == (int)index + 1)
            seen |= 1 << index;
    }
    if (r == 0) {
        size_t index;
        int none = prun_wait_any(p, 3, 0, &index, NULL);
        seen |= none == -ECHILD && index == 3 ? 8 : 0;
    }
    for (int i = 0; i < 3; i++)
        prun_free(p[i]);
    struct outcome oc = {r, seen == 15};
    return oc;
}

/* Streams and fds the other scenarios leave alone: stdout to the caller's
 * fd 0 (a pipe's write end: the child copies it above 2 before its
 * dup2), a passed fd, a cwd, and the library's pipe ends above fd 256,
 * which the clone3 child reopens through /proc. */
enum { CROWD_TOP = 300 };
static int fds_read_end = -1, fds_passed = -1;
static char fds_command[64];

static int fds_setup(void)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0 || dup2(p[1], 0) != 0 ||
        (fds_passed = fcntl(p[1], F_DUPFD_CLOEXEC, 5)) < 0)
        return -1;
    if (fds_passed > 9) {  /* sh takes one digit after >& */
        errno = EMFILE;
        return -1;
    }
    close(p[1]);
    fds_read_end = p[0];
    snprintf(fds_command, sizeof fds_command, "cat; echo pass >&%d; echo err >&2", fds_passed);
    for (int fd; (fd = open("/dev/null", O_RDONLY | O_CLOEXEC)) < CROWD_TOP;)
        if (fd < 0)
            return -1;
    return 0;
}

static struct outcome fds_streams(void)
{
    char *argv[] = {"sh", "-c", fds_command, NULL};
    const int pass[] = {fds_passed};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_FD, .stdout_fd = 0,
                   .stderr_io = PRUN_PIPE, .pass_fds = pass, .n_pass_fds = 1, .cwd = "/"};
    prun_proc *p;
    prun_buf err = {0};
    int rc = -1;
    struct outcome oc = {prun_popen(&p, argv, &o), 0};
    if (oc.r)
        return oc;
    oc.r = prun_communicate(p, "in ", 3, 30000, NULL, &err);
    if (oc.r == 0)
        oc.r = prun_wait(p, 30000, &rc);
    oc.right = same(&err, "err\n", 4) && rc == 0;
    prun_buf_free(&err);
    prun_free(p);
    return oc;
}

/* What reached fd 0 and the passed fd. */
static int fds_verify(void)
{
    char got[32] = "";
    fcntl(fds_read_end, F_SETFL, O_NONBLOCK);
    ssize_t n = read(fds_read_end, got, sizeof got - 1);
    return n == 8 && memcmp(got, "in pass\n", 8) == 0;
}

/* The credentials by name from a user database of the scenario's own:
 * in a mount namespace, /etc/passwd, /etc/group and a files-only
 * /etc/nsswitch.conf (no NSS module that aborts when a system call
 * fails under it, so the system calls fail too), with entries longer
 * than the lookups' first buffer.  extra_groups is given: getgrouplist
 * cannot report a failed read (a group would go missing), getgrnam_r
 * can. */
static char *user_db_dir;

static int user_db_setup(void)
{
    static const char *const names[] = {"passwd", "group", "nsswitch.conf"};
    /* Supplementary groups of its own, which the library compares with
     * the child's (a list of them, a second getgroups). */
    static const gid_t mine[] = {0, 4};
    if (setgroups(2, mine) < 0 || unshare(CLONE_NEWNS) < 0 ||
        mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
        return -1;
    for (int i = 0; i < 3; i++) {
        char from[300], to[64];
        snprintf(from, sizeof from, "%s/%s", user_db_dir, names[i]);
        snprintf(to, sizeof to, "/etc/%s", names[i]);
        if (mount(from, to, NULL, MS_BIND, NULL) < 0)
            return -1;
    }
    return 0;
}

/* The files, once for every try; 0 or -1. */
static int user_db_write(void)
{
    char tmpl[] = "/tmp/prun-inject-XXXXXX", path[300], comment[1500], members[1500];
    if (!mkdtemp(tmpl) || !(user_db_dir = strdup(tmpl)))
        return -1;
    memset(comment, 'c', sizeof comment - 1);
    comment[sizeof comment - 1] = '\0';
    members[0] = '\0';
    for (int i = 0; strlen(members) + 8 < sizeof members; i++)
        snprintf(members + strlen(members), sizeof members - strlen(members), "m%04d,", i);
    const char *const names[] = {"passwd", "group", "nsswitch.conf"};
    FILE *f[3];
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", user_db_dir, names[i]);
        if (!(f[i] = fopen(path, "we")))
            return -1;
    }
    fprintf(f[0], "root:x:0:0:root:/root:/bin/sh\nprun-long:x:4242:4243:%s:/:/bin/sh\n", comment);
    fprintf(f[1], "root:x:0:\nprun-long:x:4243:\nprun-crowd:x:4245:%sprun-long\n"
                  "prun-other:x:4246:\n", members);
    fprintf(f[2], "passwd: files\ngroup: files\n");
    int bad = 0;
    for (int i = 0; i < 3; i++)
        bad |= fclose(f[i]) != 0;
    return bad ? -1 : 0;
}

static void user_db_remove(void)
{
    static const char *const names[] = {"passwd", "group", "nsswitch.conf"};
    if (!user_db_dir)
        return;
    for (int i = 0; i < 3; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s/%s", user_db_dir, names[i]);
        unlink(path);
    }
    rmdir(user_db_dir);
    free(user_db_dir);
}

static struct outcome credentials_files(void)
{
    static const char *const groups[] = {"prun-crowd", "prun-other", NULL};
    char *argv[] = {"id -u; id -g; id -G", NULL};
    prun_opts o = {.shell = 1, .stdout_io = PRUN_PIPE, .user = "prun-long",
                   .group = "prun-crowd", .extra_groups = groups, .timeout_ms = 30000};
    prun_result res;
    static const char want[] = "4242\n4245\n4245 4246\n";
    struct outcome oc = {prun_run(argv, &o, &res), 0};
    oc.right = same(&res.out, want, sizeof want - 1) && res.returncode == 0;
    prun_result_free(&res);
    return oc;
}

/* The caller's tree (tree.c): one child, killed through /proc (SIGKILL:
 * no mask can hold it, such as one a failed sigprocmask in a posix_spawn
 * child leaves, which glibc does not report).  An injected ENOENT on the
 * open of a /proc entry says that its process is gone, which the library
 * cannot tell from the truth: the child is then not found (0), and killed
 * here.  Then prun_reap_adopted, which must leave the stage, dead or
 * not, to the pipeline; it reads the children files of /proc, and with
 * an ENOENT for the first the stat of every process, as on a kernel
 * without those files (that path is one try: a try per entry would cost
 * a process each). */
static struct outcome tree(void)
{
    char *argv[] = {"sh", "-c", "echo ready; exec sleep 30", NULL};
    char *const *stages[] = {argv};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_pipeline *pl;
    prun_buf line = {0};
    int n = -1, status = 0, reaped = -1;
    struct outcome oc = {prun_pipeline_start(&pl, 1, stages, &o, NULL), 0};
    if (oc.r)
        return oc;
    if ((oc.r = prun_pipeline_readline(pl, 1, 30000, &line)) == 1)
        oc.r = n = prun_signal_descendants(SIGKILL);
    if (n != 1)  /* not signalled: nothing may be left behind */
        prun_pipeline_kill(pl);
    if (oc.r >= 0)
        oc.r = reaped = prun_reap_adopted(pl);
    int w = prun_pipeline_wait(pl, 30000, &status);
    if (oc.r >= 0)
        oc.r = w;
    int hidden = inject_failed() && inject_failed_nr() == SYS_openat &&
                 inject_failed_errno() == ENOENT;
    oc.right = same(&line, "ready\n", 6) && status == -SIGKILL && reaped == 0 &&
               (n == 1 || (n == 0 && hidden));
    prun_buf_free(&line);
    prun_pipeline_free(pl);
    return oc;
}

static const struct scenario scenarios[] = {
    {"popen_communicate", BOTH, 0, 0, 30000, popen_communicate, NULL, NULL},
    {"run_capture", BOTH, 0, 0, 30000, run_capture, NULL, NULL},
    {"run_timeout", BOTH, 0, PRUN_ETIMEOUT, 300 + 10000, run_timeout, NULL, NULL},
    {"check_output", BOTH, 0, 0, 30000, check_output, NULL, NULL},
    {"getoutput", BOTH, 0, 0, 30000, getoutput, NULL, NULL},
    {"getstatusoutput", BOTH, 0, 0, 30000, getstatusoutput, NULL, NULL},
    {"pipeline3", BOTH, 0, 0, 30000, pipeline3, NULL, NULL},
    {"io_lines", BOTH, 0, 0, 30000, io_lines, NULL, NULL},
    {"io_read", BOTH, 0, 0, 30000, io_read, NULL, NULL},
    {"wait_any3", BOTH, 0, 0, 30000, wait_any3, NULL, NULL},
    {"credentials", ALLOCATIONS, 1, 0, 30000, credentials, NULL, NULL},
    {"credentials_numeric", BOTH, 1, 0, 30000, credentials_numeric, NULL, NULL},
    {"fds", BOTH, 0, 0, 30000, fds_streams, fds_setup, fds_verify},
    {"credentials_files", BOTH, 1, 0, 30000, credentials_files, user_db_setup, NULL},
    {"tree", BOTH, 0, 0, 30000, tree, NULL, NULL},
};

/* ---- one try, in a fresh process ---- */

struct report {
    int failed;          /* the Nth came and was failed */
    long nr;
    int err;
    unsigned long count;
    char problem[300];   /* empty: the try passed */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        n += e->d_name[0] != '.';
    closedir(d);
    return n - 1;
}

/* Children of this process, zombies included. */
static int count_children(void)
{
    DIR *d = opendir("/proc");
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));) {
        char path[300], buf[512];
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
        FILE *f = fopen(path, "re");
        if (!f)
            continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = '\0';
        char *rp = strrchr(buf, ')');
        int ppid;
        char state;
        if (rp && sscanf(rp + 1, " %c %d", &state, &ppid) == 2 && ppid == getpid())
            n++;
    }
    closedir(d);
    return n;
}

static const char marker[] = "prun_pipeline_stage: no stage 0: Invalid argument";

static void judge(const struct scenario *sc, struct outcome oc, int64_t took, int fds_before,
                  struct report *rep)
{
    const char *sentence = prun_last_error();
    int eintr = rep->failed && rep->err == EINTR;
    if (oc.r == sc->expected && !oc.right)
        snprintf(rep->problem, sizeof rep->problem, "answered %d with the wrong output", oc.r);
    else if (oc.r != sc->expected && oc.r >= 0)
        snprintf(rep->problem, sizeof rep->problem, "answered %d, not %d or an error", oc.r,
                 sc->expected);
    else if (oc.r != sc->expected && (!*sentence || strcmp(sentence, marker) == 0))
        snprintf(rep->problem, sizeof rep->problem, "failed with %d and no sentence of its own",
                 oc.r);
    else if (eintr && oc.r != sc->expected)
        snprintf(rep->problem, sizeof rep->problem, "an EINTR made it fail: %d (%s)", oc.r,
                 sentence);
    else if (took > sc->bound_ms)
        snprintf(rep->problem, sizeof rep->problem, "took %lld ms, the bound is %lld",
                 (long long)took, (long long)sc->bound_ms);
    else if (count_fds() != fds_before)
        snprintf(rep->problem, sizeof rep->problem, "left %d fds open",
                 count_fds() - fds_before);
    else if (count_children() != 0)
        snprintf(rep->problem, sizeof rep->problem, "left %d children behind", count_children());
}

/* The engine the tries run on: clone3, or the fallback (clone3 refused
 * with ENOSYS by a second filter, whose answer comes before any
 * notification). */
static int on_fallback;

static int refuse_clone3(void)
{
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

struct try_args {
    const struct scenario *sc;
    enum inject_kind kind;
    unsigned long n;
    int variant;
    struct report rep;
};

/* The scenario, on a thread of its own: the filter is that thread's
 * (and its children's) only.  At exit LeakSanitizer stops every thread,
 * the supervisor's too, from a tracer cloned by the main thread; were the
 * main thread under the filter, the tracer's wait4 would wait for the
 * stopped supervisor for ever. */
static void *try_on_thread(void *arg)
{
    struct try_args *t = arg;
    const struct scenario *sc = t->sc;
    prun_pipeline_stage(NULL, 0, NULL);  /* the sentence a failure must replace */
    if ((on_fallback && refuse_clone3() < 0) || inject_start() < 0) {
        snprintf(t->rep.problem, sizeof t->rep.problem, "cannot start the injection: %s",
                 strerror(errno));
        return NULL;
    }
    int fds = count_fds();
    int64_t t0 = now_ms();
    inject_arm(t->kind, t->n, t->variant);
    struct outcome oc = sc->run();
    inject_disarm();
    int64_t took = now_ms() - t0;
    if (sc->verify && oc.r == sc->expected && oc.right)
        oc.right = sc->verify();
    t->rep.failed = inject_failed();
    t->rep.nr = inject_failed_nr();
    t->rep.err = inject_failed_errno();
    t->rep.count = inject_count();
    judge(sc, oc, took, fds, &t->rep);
    if (*t->rep.problem && t->rep.failed)
        fprintf(stderr, "  (the sentence: %s)\n", prun_last_error());
    return NULL;
}

static void try_in_child(const struct scenario *sc, enum inject_kind kind, unsigned long n,
                         int variant, int out)
{
    struct try_args t = {sc, kind, n, variant, {0}};
    pthread_t thread;
    alarm(TRY_SECONDS);
    if (sc->setup && sc->setup() < 0)
        snprintf(t.rep.problem, sizeof t.rep.problem, "cannot set up the scenario: %s",
                 strerror(errno));
    else if ((errno = pthread_create(&thread, NULL, try_on_thread, &t)) != 0 ||
             (errno = pthread_join(thread, NULL)) != 0)
        snprintf(t.rep.problem, sizeof t.rep.problem, "cannot start the scenario's thread: %s",
                 strerror(errno));
    if (write(out, &t.rep, sizeof t.rep) != (ssize_t)sizeof t.rep)
        _exit(3);
    exit(*t.rep.problem ? 1 : 0);  /* exit(): LeakSanitizer has its say */
}

static int try_once(const struct scenario *sc, enum inject_kind kind, unsigned long n, int variant,
                    struct report *rep)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        try_in_child(sc, kind, n, variant, p[1]);
    }
    close(p[1]);
    memset(rep, 0, sizeof *rep);
    ssize_t got = read(p[0], rep, sizeof *rep);
    close(p[0]);
    int status;
    waitpid(pid, &status, 0);
    if (WIFSIGNALED(status))
        snprintf(rep->problem, sizeof rep->problem, "died of signal %d%s", WTERMSIG(status),
                 WTERMSIG(status) == SIGALRM ? " (a hang)" : "");
    else if (got != (ssize_t)sizeof *rep)
        snprintf(rep->problem, sizeof rep->problem, "no report (exit status %d)",
                 WEXITSTATUS(status));
    else if (!*rep->problem && WEXITSTATUS(status) != 0)
        snprintf(rep->problem, sizeof rep->problem, "exit status %d (a leak?)",
                 WEXITSTATUS(status));
    return 0;
}

/* ---- the driver ---- */

static int problems;

static void complain(const struct scenario *sc, const char *what, unsigned long n,
                     const struct report *rep)
{
    problems++;
    if (rep->failed && rep->nr >= 0)
        printf("FAIL: %s%s, %s %lu (system call %ld, errno %s): %s\n", sc->name,
               on_fallback ? " (fallback)" : "", what, n, rep->nr,
               strerrorname_np(rep->err) ? strerrorname_np(rep->err) : "?", rep->problem);
    else if (rep->failed)
        printf("FAIL: %s%s, %s %lu (ENOMEM): %s\n", sc->name, on_fallback ? " (fallback)" : "",
               what, n, rep->problem);
    else
        printf("FAIL: %s%s, %s %lu: %s\n", sc->name, on_fallback ? " (fallback)" : "", what, n,
               rep->problem);
}

static void allocations(const struct scenario *sc)
{
    struct report rep;
    unsigned long n;
    for (n = 1;; n++) {
        try_once(sc, INJECT_ALLOC, n, 0, &rep);
        if (*rep.problem)
            complain(sc, "allocation", n, &rep);
        if (!rep.failed && !*rep.problem)
            break;
        if (n > 10000) {
            printf("FAIL: %s: allocations never run out\n", sc->name);
            problems++;
            break;
        }
    }
    printf("  %s%s: %lu allocations, each failed in turn\n", sc->name,
           on_fallback ? " (fallback)" : "", n - 1);
}

static void system_calls(const struct scenario *sc)
{
    struct report rep;
    try_once(sc, INJECT_SYSCALL, 0, 0, &rep);
    if (*rep.problem)
        complain(sc, "counting run", 0, &rep);
    unsigned long total = rep.count, tries = 0;
    /* A few more than counted: the next run may make more (EAGAIN, a
     * longer poll loop). */
    for (unsigned long n = 1; n <= total + 8; n++) {
        for (int variant = 0; variant < 2; variant++) {
            try_once(sc, INJECT_SYSCALL, n, variant, &rep);
            tries += rep.failed;
            if (*rep.problem)
                complain(sc, "system call", n, &rep);
            if (!rep.failed || inject_variants(rep.nr) < 2)
                break;
        }
    }
    printf("  %s%s: %lu system calls, %lu tries\n", sc->name, on_fallback ? " (fallback)" : "",
           total, tries);
}

int main(int argc, char **argv)
{
    for (size_t i = 0; i < INPUT_LEN; i++)
        input[i] = (char)('a' + (i * 7 + i / 4096) % 26);
    signal(SIGPIPE, SIG_DFL);
    setvbuf(stdout, NULL, _IOLBF, 0);  /* the log shows how far a slow run is */
    if (geteuid() == 0 && user_db_write() < 0) {
        printf("FAIL: cannot write the user database of credentials_files: %s\n", strerror(errno));
        return 1;
    }
    /* Every scenario on the clone3 engine, then on the fallback. */
    for (size_t k = 0; k < 2 * (sizeof scenarios / sizeof scenarios[0]); k++) {
        size_t i = k % (sizeof scenarios / sizeof scenarios[0]);
        on_fallback = k >= sizeof scenarios / sizeof scenarios[0];
        const struct scenario *sc = &scenarios[i];
        int chosen = argc < 2;
        for (int a = 1; a < argc; a++)
            chosen |= strcmp(argv[a], sc->name) == 0;
        if (!chosen)
            continue;
        if (sc->needs_root && geteuid() != 0) {
            printf("  %s: skipped (needs root)\n", sc->name);
            continue;
        }
        int64_t t0 = now_ms();
        if (sc->passes & ALLOCATIONS)
            allocations(sc);
        if (sc->passes & SYSTEM_CALLS)
            system_calls(sc);
        printf("  %s%s: %.1f s\n", sc->name, on_fallback ? " (fallback)" : "",
               (double)(now_ms() - t0) / 1000);
    }
    user_db_remove();
    if (problems) {
        printf("%d problems\n", problems);
        return 1;
    }
    printf("PASS: every allocation and system call failed in turn, with nothing left behind\n");
    return 0;
}
