/* SPDX-License-Identifier: MIT */
/* test_child.c - what the child becomes: its user and groups, umask,
 * signal dispositions, parent-death signal and resource limits, through
 * prun_popen, the run family and every stage of a pipeline; the errors
 * (nothing left behind); a failed setup step reported as that step; the
 * PATH search rule; and a spawn cost flat in the caller's fd table.
 *
 * Credentials are tested as root and as an unprivileged user: a forked
 * helper process (run_in_helper) drops to nobody first, or stays what it
 * is when the suite does not run as root.  Helpers also hold whatever
 * else must not touch the test process: changed groups, limits, mount
 * namespaces.  They report failures over a pipe; checks shared by both
 * sides return a description of the failure (NULL: passed). */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "prun.h"

#ifndef SYS_close_range
#define SYS_close_range 436
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif

#define SH(cmd) ((char *[]){"sh", "-c", (cmd), NULL})

/* ---- checks that work in the test process and in helpers ------------- */

/* A failure description; free() it. */
static char *failure(const char *fmt, ...)
{
    va_list ap;
    char *s;
    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        s = strdup("(out of memory describing a failure)");
    va_end(ap);
    return s;
}

/* argv's stdout (opts' other settings kept) and its returncode; 0 or the
 * library's error. */
static int capture(char *const argv[], const prun_opts *opts, char **out, int *rc)
{
    prun_opts o = opts ? *opts : (prun_opts){0};
    prun_proc *p;
    o.stdout_io = PRUN_PIPE;
    *out = NULL;
    int r = prun_popen(&p, argv, &o);
    if (r)
        return r;
    *out = th_read_all(prun_stdout(p), NULL);
    r = prun_wait(p, PRUN_FOREVER, rc);
    prun_free(p);
    return r;
}

/* argv with opts exits 0 having printed exactly want. */
static char *check_output(int line, char *const argv[], const prun_opts *opts, const char *want)
{
    char *out;
    int rc = -1;
    int r = capture(argv, opts, &out, &rc);
    char *f = NULL;
    if (r)
        f = failure("line %d: spawn of '%s': %d (%s)", line, argv[0], r, prun_last_error());
    else if (rc != 0 || strcmp(out, want) != 0)
        f = failure("line %d: '%s' exited %d with \"%s\", expected 0 with \"%s\"", line, argv[0],
                    rc, out, want);
    free(out);
    return f;
}

/* prun_popen(argv, opts) fails with err and exactly the sentence message
 * (NULL: any non-empty one), and leaves no fd and no child behind. */
static char *check_error(int line, char *const argv[], const prun_opts *opts, int err,
                         const char *message)
{
    int fds = th_count_fds();
    prun_proc *p = (prun_proc *)&fds;  /* must come back NULL */
    int r = prun_popen(&p, argv, opts);
    if (r == 0) {
        prun_kill(p);
        prun_free(p);
        return failure("line %d: '%s' started, expected error %d", line, argv[0], err);
    }
    if (r != err)
        return failure("line %d: prun_popen gave %d (%s), expected %d", line, r,
                       prun_last_error(), err);
    if (p)
        return failure("line %d: a handle came back with the error", line);
    if (message ? strcmp(prun_last_error(), message) != 0 : !*prun_last_error())
        return failure("line %d: the error is \"%s\", expected \"%s\"", line, prun_last_error(),
                       message ? message : "(any)");
    if (th_count_fds() != fds || th_count_children() != 0)
        return failure("line %d: left behind: %d fds (before: %d), %d children", line,
                       th_count_fds(), fds, th_count_children());
    return NULL;
}

/* In a test: the check passes. */
#define CK(check)                                          \
    do {                                                   \
        char *f_ = (check);                                \
        ck_assert_msg(f_ == NULL, "%s", f_ ? f_ : "");     \
    } while (0)

#define CK_OUTPUT(argv, o, want) CK(check_output(__LINE__, (argv), (o), (want)))
#define CK_ERROR(argv, o, err, msg) CK(check_error(__LINE__, (argv), (o), (err), (msg)))

/* ---- forked helpers --------------------------------------------------- */

/* A helper's result: its exit status.  77 is automake's "skipped". */
enum { PASSED = 0, FAILED = 1, SKIPPED = 77 };

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
    return FAILED;
}

/* The helper function running, for the notes. */
static const char *helper_name = "";

/* Check has no skip: the note goes to stderr and the test passes. */
static int helper_skip(const char *why)
{
    fprintf(stderr, "test_child: %s: skipped: %s\n", helper_name, why);
    return SKIPPED;
}

/* In a helper: the check passes, or the helper fails with its story. */
#define H(check)                                                 \
    do {                                                         \
        char *f_ = (check);                                      \
        if (f_) {                                                \
            helper_fail(h, "%s", f_);                            \
            free(f_);                                            \
            return FAILED;                                       \
        }                                                        \
    } while (0)

#define H_OUTPUT(argv, o, want) H(check_output(__LINE__, (argv), (o), (want)))
#define H_ERROR(argv, o, err, msg) H(check_error(__LINE__, (argv), (o), (err), (msg)))

#define H_CHECK(cond)                                                                     \
    do {                                                                                  \
        if (!(cond))                                                                      \
            return helper_fail(h, "line %d: %s (errno: %s; last error: %s)", __LINE__,    \
                               #cond, strerror(errno), prun_last_error());                \
    } while (0)

/* Runs fn(arg) in a forked child and fails the test with its message
 * unless it passes or skips. */
static void run_in_helper(const char *name, helper_fn fn, int arg)
{
    int msg[2];
    ck_assert_int_eq(pipe2(msg, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        close(msg[0]);
        struct helper h = {msg[1]};
        helper_name = name;
        int r = fn(&h, arg);
        fflush(NULL);
        exit(r);  /* exit(): coverage and LeakSanitizer have their say */
    }
    close(msg[1]);
    char *text = th_read_all(msg[0], NULL);
    close(msg[0]);
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && (WEXITSTATUS(status) == PASSED ||
                                        WEXITSTATUS(status) == SKIPPED),
                  "helper (status %#x): %s", (unsigned)status, text);
    free(text);
}

#define RUN_IN_HELPER(fn, arg) run_in_helper(#fn, (fn), (arg))

/* Who a helper runs as. */
enum who { AS_ROOT, AS_UNPRIVILEGED };

enum { NOBODY = 65534 };

/* AS_ROOT needs root (else the helper skips); AS_UNPRIVILEGED drops root
 * to nobody (its groups, gid and uid, as a login would set them), or
 * keeps an unprivileged caller as it is. */
static int become(struct helper *h, int who)
{
    if (who == AS_ROOT)
        return geteuid() == 0 ? PASSED : helper_skip("needs root");
    if (geteuid() != 0)
        return PASSED;
    const gid_t nogroup = NOBODY;
    if (setgroups(1, &nogroup) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
        setresuid(NOBODY, NOBODY, NOBODY) < 0)
        return helper_fail(h, "cannot become nobody: %s", strerror(errno));
    return PASSED;
}

#define H_BECOME(who)                    \
    do {                                 \
        int b_ = become(h, (who));       \
        if (b_ != PASSED)                \
            return b_;                   \
    } while (0)

/* A root helper's own supplementary groups, so that a leak of the
 * caller's groups into the child shows. */
#define H_ROOT_WITH_GROUPS(...)                                            \
    do {                                                                   \
        const gid_t g_[] = {__VA_ARGS__};                                  \
        H_BECOME(AS_ROOT);                                                 \
        H_CHECK(setgroups(sizeof g_ / sizeof g_[0], g_) == 0);             \
    } while (0)

/* ---- credentials ------------------------------------------------------ */

/* "uid gid [id -G] [the Groups line of /proc/self/status]": id -G is the
 * gid and the supplementary groups; Groups is only the latter, so a list
 * that was cleared shows as [] even when the gid is the user's group. */
static char *const creds_argv[] = {
    "sh", "-c",
    "u=$(id -u) g=$(id -g) G=$(id -G); set -- $(sed -n 's/^Groups://p' /proc/self/status); "
    "echo \"$u $g [$G] [$*]\"",
    NULL};

static char *const id_argv[] = {"id", NULL};

static int cmp_gid(const void *a, const void *b)
{
    gid_t x = *(const gid_t *)a, y = *(const gid_t *)b;
    return (x > y) - (x < y);
}

/* What creds_argv prints for uid, gid and the supplementary groups: id -G
 * is the gid first, then the others in order (the kernel sorts them).
 * Sorts groups; free() the result. */
static char *creds_line(uid_t uid, gid_t gid, gid_t *groups, size_t n)
{
    size_t size = 64 + 24 * n;
    char *id_g = malloc(size), *all = malloc(size), *s = NULL;
    if (id_g && all) {
        qsort(groups, n, sizeof groups[0], cmp_gid);
        snprintf(id_g, size, "%u", (unsigned)gid);
        all[0] = '\0';
        for (size_t i = 0; i < n; i++) {
            if (groups[i] != gid)
                snprintf(id_g + strlen(id_g), size - strlen(id_g), " %u", (unsigned)groups[i]);
            snprintf(all + strlen(all), size - strlen(all), i ? " %u" : "%u",
                     (unsigned)groups[i]);
        }
        if (asprintf(&s, "%u %u [%s] [%s]\n", (unsigned)uid, (unsigned)gid, id_g, all) < 0)
            s = NULL;
    }
    free(id_g);
    free(all);
    return s;
}

/* The caller's supplementary groups, *n of them; free() it. */
static gid_t *own_groups(size_t *n)
{
    int count = getgroups(0, NULL);
    gid_t *groups = count >= 0 ? calloc((size_t)count + 1, sizeof *groups) : NULL;
    if (groups && (count = getgroups(count, groups)) < 0) {
        free(groups);
        return NULL;
    }
    *n = groups ? (size_t)count : 0;
    return groups;
}

/* groups as a NULL-terminated list of decimal names, for extra_groups;
 * free() it (one block). */
static const char **group_numbers(const gid_t *groups, size_t n)
{
    const char **list = malloc((n + 1) * sizeof *list + n * 16);
    if (!list)
        return NULL;
    char *text = (char *)(list + n + 1);
    for (size_t i = 0; i < n; i++, text += 16) {
        snprintf(text, 16, "%u", (unsigned)groups[i]);
        list[i] = text;
    }
    list[n] = NULL;
    return list;
}

/* "user" alone: the user's uid, primary group and database groups; the
 * root caller's groups (0, adm, dialout) must not leak into the child. */
static int user_alone(struct helper *h, int arg)
{
    (void)arg;
    H_ROOT_WITH_GROUPS(0, 4, 20);
    prun_opts o = {.user = "nobody"};
    H_OUTPUT(creds_argv, &o, "65534 65534 [65534] [65534]\n");
    o.user = "65534";
    H_OUTPUT(creds_argv, &o, "65534 65534 [65534] [65534]\n");
    /* The child shared the caller's memory, never its credentials. */
    char *mine = creds_line(geteuid(), getegid(), (gid_t[]){0, 4, 20}, 3), *now;
    size_t n;
    gid_t *groups = own_groups(&n);
    H_CHECK(mine && groups && (now = creds_line(geteuid(), getegid(), groups, n)));
    H_CHECK(strcmp(mine, now) == 0 && getuid() == 0 && getgid() == 0);
    free(now);
    free(groups);
    free(mine);
    return PASSED;
}

START_TEST(user_alone_is_that_user_entirely)
{
    RUN_IN_HELPER(user_alone, 0);
}
END_TEST

/* A user that the group database lists in a group other than its own
 * primary one (its name is copied to name), or 0. */
static int member_of_another_group(char *name, size_t size, gid_t *primary)
{
    int found = 0;
    setgrent();
    for (struct group *gr; !found && (gr = getgrent());)
        for (char **m = gr->gr_mem; !found && *m; m++) {
            struct passwd *pw = getpwnam(*m);
            if (pw && pw->pw_gid != gr->gr_gid && strlen(*m) < size) {
                snprintf(name, size, "%s", *m);
                *primary = pw->pw_gid;
                found = 1;
            }
        }
    endgrent();
    return found;
}

/* A user listed in another group gets that group as well: the groups
 * come from the databases, as `setpriv --init-groups` has them. */
static int user_database_groups(struct helper *h, int arg)
{
    (void)arg;
    char name[256];
    gid_t gid, groups[64];
    int n = 64;
    H_ROOT_WITH_GROUPS(0, 4, 20);
    if (!member_of_another_group(name, sizeof name, &gid))
        return helper_skip("no user is listed in a group other than its own");
    struct passwd *pw = getpwnam(name);
    H_CHECK(pw != NULL);
    uid_t uid = pw->pw_uid;
    H_CHECK(getgrouplist(name, gid, groups, &n) >= 0 && n > 1);
    char *want = creds_line(uid, gid, groups, (size_t)n);
    H_CHECK(want != NULL);
    prun_opts o = {.user = name};
    H_OUTPUT(creds_argv, &o, want);
    free(want);
    return PASSED;
}

START_TEST(user_gets_database_groups)
{
    RUN_IN_HELPER(user_database_groups, 0);
}
END_TEST

/* "group" alone: the gid changes, the uid and the caller's supplementary
 * groups stay. */
static int group_alone(struct helper *h, int arg)
{
    (void)arg;
    H_ROOT_WITH_GROUPS(0, 4);
    prun_opts o = {.group = "nogroup"};
    H_OUTPUT(creds_argv, &o, "0 65534 [65534 0 4] [0 4]\n");
    o.group = "65534";
    H_OUTPUT(creds_argv, &o, "0 65534 [65534 0 4] [0 4]\n");
    return PASSED;
}

START_TEST(group_alone_sets_gid)
{
    RUN_IN_HELPER(group_alone, 0);
}
END_TEST

/* "user" and "group": that gid, and still the user's groups (as
 * `runuser -u nobody -g adm`). */
static int user_and_group_helper(struct helper *h, int arg)
{
    (void)arg;
    H_ROOT_WITH_GROUPS(0, 4, 20);
    prun_opts o = {.user = "nobody", .group = "adm"};
    H_OUTPUT(creds_argv, &o, "65534 4 [4 65534] [65534]\n");
    o = (prun_opts){.user = "65534", .group = "4"};
    H_OUTPUT(creds_argv, &o, "65534 4 [4 65534] [65534]\n");
    return PASSED;
}

START_TEST(user_and_group)
{
    RUN_IN_HELPER(user_and_group_helper, 0);
}
END_TEST

/* extra_groups, names and numbers, alone or with user and group; an
 * empty list clears the groups. */
static int extra_groups(struct helper *h, int arg)
{
    (void)arg;
    H_ROOT_WITH_GROUPS(0, 4, 20);
    const char *const users_dialout[] = {"users", "20", NULL}, *const none[] = {NULL};
    const char *const users[] = {"100", NULL};
    prun_opts o = {.extra_groups = users_dialout};
    H_OUTPUT(creds_argv, &o, "0 0 [0 20 100] [20 100]\n");
    o.extra_groups = none;
    H_OUTPUT(creds_argv, &o, "0 0 [0] []\n");
    o = (prun_opts){.user = "nobody", .extra_groups = users};
    H_OUTPUT(creds_argv, &o, "65534 65534 [65534 100] [100]\n");
    o.extra_groups = none;
    H_OUTPUT(creds_argv, &o, "65534 65534 [65534] []\n");
    o = (prun_opts){.user = "nobody", .group = "adm", .extra_groups = users_dialout};
    H_OUTPUT(creds_argv, &o, "65534 4 [4 20 100] [20 100]\n");
    return PASSED;
}

START_TEST(extra_groups_set_the_groups)
{
    RUN_IN_HELPER(extra_groups, 0);
}
END_TEST

/* A group named twice in extra_groups: the child gets that group only.
 * It used to fail: creds.c's
 * skip_unchanged_groups() takes a list for the caller's own when it has
 * as many entries and each of them is among the caller's groups, so
 * {adm, 4} from a caller in {adm, dialout} skips setgroups() and the
 * child kept dialout, a group it was not given; now the groups are
 * compared as sets, and a group named twice is set once. */
static int extra_groups_repeated(struct helper *h, int arg)
{
    (void)arg;
    H_ROOT_WITH_GROUPS(4, 20);
    const char *const adm_twice[] = {"adm", "4", NULL};
    prun_opts o = {.extra_groups = adm_twice};
    H_OUTPUT(creds_argv, &o, "0 0 [0 4] [4]\n");
    return PASSED;
}

START_TEST(extra_groups_repeated_group)
{
    RUN_IN_HELPER(extra_groups_repeated, 0);
}
END_TEST

/* The caller stays dumpable (core dumps, its /proc files its own owner's)
 * after starting a child as another user.
 * It used to fail: the child changes its
 * credentials while it shares the caller's memory (CLONE_VM, both
 * engines), and commit_creds() then marks that memory, the caller's,
 * non-dumpable (suid_dumpable, 0 by default): after prun_run with user
 * "nobody" or group "nogroup", prctl(PR_GET_DUMPABLE) in the caller is 0
 * for good.  (CPython does not vfork when the credentials change: "sharing
 * an address space between processes running with different privileges
 * is inherently insecure", bpo-35823.)  The library now puts the
 * caller's setting back once the child has exec'd. */
static int caller_stays_dumpable(struct helper *h, int arg)
{
    (void)arg;
    H_BECOME(AS_ROOT);
    H_CHECK(prctl(PR_SET_DUMPABLE, 1) == 0);
    char *argv[] = {"true", NULL};
    prun_opts o = {.user = "nobody"};
    H_OUTPUT(argv, &o, "");
    H_CHECK(prctl(PR_GET_DUMPABLE) == 1);
    o = (prun_opts){.group = "nogroup"};
    H_OUTPUT(argv, &o, "");
    H_CHECK(prctl(PR_GET_DUMPABLE) == 1);
    return PASSED;
}

START_TEST(credentials_keep_caller_dumpable)
{
    RUN_IN_HELPER(caller_stays_dumpable, 0);
}
END_TEST

struct small_stack_run {
    const char *user;
    int r, rc;
};

static void *call_true(void *arg)
{
    struct small_stack_run *run = arg;
    char *argv[] = {"true", NULL};
    prun_opts o = {.user = run->user};
    run->r = prun_call(argv, &o, &run->rc);
    return NULL;
}

/* Starting a child from a thread with a small stack (128 KiB: musl's
 * default, and common in thread pools), plainly (_i 0) and as a user (_i
 * 1: the caller's own, which any caller may ask for).
 * It used to crash (_i 1): creds.c's
 * skip_unchanged_groups() has gid_t mine[NGROUPS_MAX] on the stack, 256
 * KiB with glibc's NGROUPS_MAX of 65536: with user set, prun_call dies of
 * SIGSEGV on any thread stack up to 256 KiB, root or not (a plain spawn
 * needs less than 32 KiB; under AddressSanitizer the array may live on
 * its fake stack, and the crash does not show).  The list is on the heap
 * now. */
START_TEST(small_thread_stack)
{
    struct passwd *pw = getpwuid(geteuid());
    ck_assert_ptr_nonnull(pw);
    char *name = strdup(pw->pw_name);
    struct small_stack_run run = {_i ? name : NULL, -1, -1};
    pthread_attr_t attr;
    pthread_t t;
    ck_assert_int_eq(pthread_attr_init(&attr), 0);
    ck_assert_int_eq(pthread_attr_setstacksize(&attr, 128 * 1024), 0);
    ck_assert_int_eq(pthread_create(&t, &attr, call_true, &run), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    pthread_attr_destroy(&attr);
    free(name);
    ck_assert_msg(run.r == 0 && run.rc == 0, "prun_call: %d, rc %d", run.r, run.rc);
}
END_TEST

/* A uid with no passwd entry works with a group: no groups then. */
static int numeric_ids_helper(struct helper *h, int arg)
{
    (void)arg;
    H_ROOT_WITH_GROUPS(0, 4);
    H_CHECK(getpwuid(54321) == NULL && getgrgid(54321) == NULL);
    prun_opts o = {.user = "54321", .group = "54321"};
    H_OUTPUT(creds_argv, &o, "54321 54321 [54321] []\n");
    o = (prun_opts){.group = "54321"};
    H_OUTPUT(creds_argv, &o, "0 54321 [54321 0 4] [0 4]\n");
    return PASSED;
}

START_TEST(numeric_ids_without_entries)
{
    RUN_IN_HELPER(numeric_ids_helper, 0);
}
END_TEST

/* Unknown names and ids, whoever asks: refused before anything starts,
 * with a sentence naming them. */
START_TEST(unknown_user_or_group)
{
    const char *const bad_extra[] = {"adm", "prun-no-such-group", NULL};
    const char *const empty_extra[] = {"", NULL};
    prun_opts o = {.user = "prun-no-such-user"};
    CK_ERROR(id_argv, &o, -ENOENT,
             "no user 'prun-no-such-user' in the user database: No such file or directory");
    o = (prun_opts){.group = "prun-no-such-group"};
    CK_ERROR(id_argv, &o, -ENOENT,
             "no group 'prun-no-such-group' in the group database: No such file or directory");
    o = (prun_opts){.extra_groups = bad_extra};
    CK_ERROR(id_argv, &o, -ENOENT,
             "no group 'prun-no-such-group' in the group database: No such file or directory");
    o = (prun_opts){.user = "nobody", .extra_groups = bad_extra};
    CK_ERROR(id_argv, &o, -ENOENT,
             "no group 'prun-no-such-group' in the group database: No such file or directory");
    /* A uid without an entry has no group to run with. */
    ck_assert_ptr_null(getpwuid(54321));
    o = (prun_opts){.user = "54321"};
    CK_ERROR(id_argv, &o, -ENOENT,
             "user 54321 is not in the user database, so its group is unknown: set group too: "
             "No such file or directory");
    /* (uid_t)-1 and (gid_t)-1 mean "unchanged" to setresuid/setresgid: as
     * numbers they would leave a root child root. */
    o = (prun_opts){.user = "4294967295", .group = "0"};
    CK_ERROR(id_argv, &o, -ENOENT,
             "no user '4294967295' in the user database: No such file or directory");
    o = (prun_opts){.group = "4294967295"};
    CK_ERROR(id_argv, &o, -ENOENT,
             "no group '4294967295' in the group database: No such file or directory");
    o = (prun_opts){.user = "-1", .group = "0"};
    CK_ERROR(id_argv, &o, -ENOENT, "no user '-1' in the user database: No such file or directory");
    o = (prun_opts){.user = ""};
    CK_ERROR(id_argv, &o, -EINVAL, NULL);
    o = (prun_opts){.group = ""};
    CK_ERROR(id_argv, &o, -EINVAL, NULL);
    o = (prun_opts){.extra_groups = empty_extra};
    CK_ERROR(id_argv, &o, -EINVAL, NULL);
}
END_TEST

/* An unprivileged caller asking for itself, by name or number, gets it
 * (the calls it can make unprivileged: setresuid/setresgid to its own
 * ids; setgroups would need CAP_SETGID even for its own list). */
static int unprivileged_self(struct helper *h, int arg)
{
    (void)arg;
    int dropped = geteuid() == 0;
    H_BECOME(AS_UNPRIVILEGED);
    struct passwd *pw = getpwuid(geteuid());
    if (!pw)
        return helper_skip("the caller's uid has no passwd entry");
    char *name = strdup(pw->pw_name), uid[16], gid[16];
    struct group *gr = getgrgid(getegid());
    snprintf(uid, sizeof uid, "%u", (unsigned)geteuid());
    snprintf(gid, sizeof gid, "%u", (unsigned)getegid());
    char *group_name = gr ? strdup(gr->gr_name) : strdup(gid);
    size_t n;
    gid_t *groups = own_groups(&n);
    H_CHECK(name && group_name && groups);
    const char **extra = group_numbers(groups, n);
    char *want = creds_line(geteuid(), getegid(), groups, n);
    H_CHECK(extra && want);
    if (dropped)
        H_CHECK(strcmp(want, "65534 65534 [65534] [65534]\n") == 0);
    prun_opts o = {.user = name};
    H_OUTPUT(creds_argv, &o, want);
    o.user = uid;
    H_OUTPUT(creds_argv, &o, want);
    o = (prun_opts){.group = group_name};
    H_OUTPUT(creds_argv, &o, want);
    o = (prun_opts){.user = name, .group = gid};
    H_OUTPUT(creds_argv, &o, want);
    o = (prun_opts){.extra_groups = extra};
    H_OUTPUT(creds_argv, &o, want);
    o = (prun_opts){.user = uid, .group = gid, .extra_groups = extra};
    H_OUTPUT(creds_argv, &o, want);
    free(want);
    free(extra);
    free(groups);
    free(group_name);
    free(name);
    return PASSED;
}

START_TEST(unprivileged_as_itself)
{
    RUN_IN_HELPER(unprivileged_self, 0);
}
END_TEST

/* An unprivileged caller asking for another user or group: -EPERM from
 * the step that failed, naming what was asked, and nothing left. */
static int unprivileged_other(struct helper *h, int arg)
{
    (void)arg;
    H_BECOME(AS_UNPRIVILEGED);
    H_CHECK(geteuid() != 0);
    const char *const root_group[] = {"root", NULL};
    prun_opts o = {.user = "root"};
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' as user 'root': Operation not permitted");
    o.user = "0";
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' as user '0': Operation not permitted");
    o = (prun_opts){.group = "root"};
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' with group 'root': Operation not permitted");
    o = (prun_opts){.group = "0"};
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' with group '0': Operation not permitted");
    o = (prun_opts){.extra_groups = root_group};
    H_ERROR(id_argv, &o, -EPERM,
            "cannot set the supplementary groups of 'id': Operation not permitted");
    /* Only the uid differs from the caller's: the setuid step fails. */
    size_t n;
    gid_t *groups = own_groups(&n);
    H_CHECK(groups != NULL);
    const char **extra = group_numbers(groups, n);
    char gid[16];
    H_CHECK(extra != NULL);
    snprintf(gid, sizeof gid, "%u", (unsigned)getegid());
    o = (prun_opts){.user = "0", .group = gid, .extra_groups = extra};
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' as user '0': Operation not permitted");
    free(extra);
    free(groups);
    return PASSED;
}

START_TEST(unprivileged_as_another)
{
    RUN_IN_HELPER(unprivileged_other, 0);
}
END_TEST

/* Root without CAP_SETUID and CAP_SETGID (a container's root, say) is
 * refused as any user is: by the step that failed, naming what was
 * asked.  Its supplementary groups are nobody's, so that asking for
 * nobody needs no setgroups. */
static int root_without_setid_caps(struct helper *h, int arg)
{
    (void)arg;
    static const int setid[] = {CAP_SETUID, CAP_SETGID};
    H_ROOT_WITH_GROUPS(NOBODY);
    H_CHECK(th_drop_caps(setid, 2) == 0);
    const char *const root_group[] = {"root", NULL}, *const nogroup[] = {"65534", NULL};
    prun_opts o = {.extra_groups = root_group};
    H_ERROR(id_argv, &o, -EPERM,
            "cannot set the supplementary groups of 'id': Operation not permitted");
    o = (prun_opts){.user = "nobody", .extra_groups = root_group};
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' as user 'nobody': Operation not permitted");
    /* nobody's groups are the caller's: the gid is the first refusal. */
    o = (prun_opts){.user = "nobody"};
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' as user 'nobody': Operation not permitted");
    o = (prun_opts){.group = "nogroup"};
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' with group 'nogroup': Operation not permitted");
    /* The groups and the gid the caller's own: the uid is. */
    o = (prun_opts){.user = "nobody", .group = "0", .extra_groups = nogroup};
    H_ERROR(id_argv, &o, -EPERM, "cannot run 'id' as user 'nobody': Operation not permitted");
    H_CHECK(prun_last_error_step() == PRUN_STEP_CREDENTIALS);
    /* And what it has, it may keep. */
    o = (prun_opts){.user = "0", .group = "0", .extra_groups = nogroup};
    H_OUTPUT(creds_argv, &o, "0 0 [0 65534] [65534]\n");
    return PASSED;
}

START_TEST(root_without_setid_capabilities)
{
    RUN_IN_HELPER(root_without_setid_caps, 0);
}
END_TEST

/* ---- a user database of the test's own -------------------------------- */

/* In a mount namespace of its own, /etc/passwd and /etc/group are these
 * texts and the databases are files only (no NSS module of the host's). */
static int own_user_database(struct helper *h, const char *passwd, const char *group, char **dir)
{
    static const char *const names[] = {"passwd", "group", "nsswitch.conf"};
    const char *const texts[] = {passwd, group, "passwd: files\ngroup: files\n"};
    if (geteuid() != 0)
        return helper_skip("needs root");
    if (unshare(CLONE_NEWNS) < 0)
        return helper_skip("cannot make a mount namespace");
    H_CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0);
    H_CHECK((*dir = th_mkdtemp()) != NULL);
    for (int i = 0; i < 3; i++) {
        char *from, *to;
        H_CHECK(asprintf(&from, "%s/%s", *dir, names[i]) > 0);
        H_CHECK(asprintf(&to, "/etc/%s", names[i]) > 0);
        th_write_file(from, texts[i], 0644);
        H_CHECK(mount(from, to, NULL, MS_BIND, NULL) == 0);
        free(from);
        free(to);
    }
    return PASSED;
}

/* A text built piece by piece; NULL once out of memory. */
struct text {
    char *s;
    size_t len;
};

static void add_chars(struct text *t, char c, size_t n)
{
    char *s = t->s || !t->len ? realloc(t->s, t->len + n + 1) : NULL;
    if (!s) {
        free(t->s);
        *t = (struct text){NULL, 1};  /* stays NULL */
        return;
    }
    memset(s + t->len, c, n);
    t->len += n;
    s[t->len] = '\0';
    t->s = s;
}

static void add(struct text *t, const char *fmt, ...)
{
    char *piece;
    va_list ap;
    va_start(ap, fmt);
    int n = vasprintf(&piece, fmt, ap);
    va_end(ap);
    size_t at = t->len;
    add_chars(t, ' ', n < 0 ? 0 : (size_t)n);
    if (n >= 0 && t->s)
        memcpy(t->s + at, piece, (size_t)n);
    if (n >= 0)
        free(piece);
}

enum { N_LONG_GROUPS = 70, HUGE = (1 << 20) + 4096 };

/* Entries longer than the first buffer the lookups try (1 KiB): a user
 * with a 3000-byte comment, a group listing 300 members, and that user
 * in 72 groups, more than the first guess of 64.  The lookups grow their
 * buffers, and the child gets it all.  Entries longer than the largest
 * buffer (1 MiB) fail as ERANGE, as the step that looks them up. */
static int long_entries(struct helper *h, int arg)
{
    (void)arg;
    struct text passwd = {NULL, 0}, group = {NULL, 0};
    add(&passwd, "root:x:0:0:root:/root:/bin/sh\nprun-long:x:4242:4243:");
    add_chars(&passwd, 'c', 3000);
    add(&passwd, ":/:/bin/sh\nprun-huge:x:4244:4243:");
    add_chars(&passwd, 'c', HUGE);
    add(&passwd, ":/:/bin/sh\n");
    add(&group, "root:x:0:\nprun-long:x:4243:\nprun-crowd:x:4245:");
    for (int i = 0; i < 300; i++)
        add(&group, "m%04d,", i);
    add(&group, "prun-long\n");
    for (int i = 0; i < N_LONG_GROUPS; i++)
        add(&group, "prun-g%02d:x:%d:prun-long\n", i, 5000 + i);
    add(&group, "prun-huge:x:4246:");
    add_chars(&group, 'm', HUGE);
    add(&group, "\n");
    H_CHECK(passwd.s && group.s);
    char *dir = NULL;
    int r = own_user_database(h, passwd.s, group.s, &dir);
    free(passwd.s);
    free(group.s);
    if (r != PASSED)
        return r;
    gid_t groups[N_LONG_GROUPS + 2] = {4243, 4245};
    for (int i = 0; i < N_LONG_GROUPS; i++)
        groups[2 + i] = 5000 + (gid_t)i;
    char *want = creds_line(4242, 4243, groups, N_LONG_GROUPS + 2);
    H_CHECK(want != NULL);
    prun_opts o = {.user = "prun-long"};
    H_OUTPUT(creds_argv, &o, want);
    free(want);
    const char *const crowd[] = {"prun-crowd", "prun-g07", NULL};
    o = (prun_opts){.user = "prun-long", .group = "prun-crowd", .extra_groups = crowd};
    H_OUTPUT(creds_argv, &o, "4242 4245 [4245 5007] [4245 5007]\n");
    const char *const huge[] = {"prun-g07", "prun-huge", NULL};
    o = (prun_opts){.user = "prun-huge"};
    H_ERROR(id_argv, &o, -ERANGE, "cannot look up user 'prun-huge': Numerical result out of range");
    H_CHECK(prun_last_error_step() == PRUN_STEP_CREDENTIALS);
    o = (prun_opts){.group = "prun-huge"};
    H_ERROR(id_argv, &o, -ERANGE,
            "cannot look up group 'prun-huge': Numerical result out of range");
    o = (prun_opts){.extra_groups = huge};
    H_ERROR(id_argv, &o, -ERANGE,
            "cannot look up group 'prun-huge': Numerical result out of range");
    th_rm_rf(dir);
    free(dir);
    return PASSED;
}

START_TEST(long_database_entries)
{
    RUN_IN_HELPER(long_entries, 0);
}
END_TEST

/* ---- umask ------------------------------------------------------------ */

/* The child's umask, and the mode of a file it creates in dir. */
static char *const umask_argv[] = {"sh", "-c", "umask; rm -f f; : > f; stat -c %a f", NULL};

START_TEST(umask_set)
{
    char *dir = th_mkdtemp();
    mode_t saved = umask(022);
    prun_opts o = {.cwd = dir, .umask = PRUN_UMASK(053)};
    char *f1 = check_output(__LINE__, umask_argv, &o, "0053\n624\n");
    o.umask = PRUN_UMASK(0);  /* 0 itself, which needs the marker */
    char *f2 = check_output(__LINE__, umask_argv, &o, "0000\n666\n");
    mode_t after = umask(saved);  /* the child's umask was its own */
    ck_assert_int_eq(after, 022);
    th_rm_rf(dir);
    free(dir);
    CK(f1);
    CK(f2);
}
END_TEST

/* Linux before 5.2, as a seccomp filter: no clone3, no pidfds, and
 * clone() refuses CLONE_PIDFD with EINVAL. */
static int like_linux_5_1(void)
{
    unsigned flags_low = offsetof(struct seccomp_data, args);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    flags_low += 4;
#endif
    struct sock_filter f[] = {
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 435 /* SYS_clone3 */, 6, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_open, 5, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_pidfd_send_signal, 4, 0),
        BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 2),
        BPF_STMT(BPF_LD | BPF_W | BPF_ABS, flags_low),
        BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_PIDFD, 2, 0),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
        BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EINVAL),
    };
    struct sock_fprog prog = {sizeof f / sizeof f[0], f};
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
        return -1;
    return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* What needs clone() (here a umask) works before Linux 5.2: the child is
 * cloned without CLONE_PIDFD, has no pidfd, and is waited for by pid. */
static int umask_before_clone_pidfd(struct helper *h, int arg)
{
    (void)arg;
    H_CHECK(like_linux_5_1() == 0);
    prun_opts o = {.umask = PRUN_UMASK(027), .stdout_io = PRUN_PIPE};
    prun_proc *p;
    H_CHECK(prun_popen(&p, SH("umask; exit 3"), &o) == 0);
    H_CHECK(prun_pidfd(p) == -1);
    char *out = th_read_all(prun_stdout(p), NULL);
    int rc = -1;
    H_CHECK(prun_wait(p, 30000, &rc) == 0 && rc == 3);
    H_CHECK(strcmp(out, "0027\n") == 0);
    free(out);
    prun_free(p);
    H_CHECK(th_count_children() == 0);
    return PASSED;
}

START_TEST(umask_without_clone_pidfd)
{
    RUN_IN_HELPER(umask_before_clone_pidfd, 0);
}
END_TEST

/* 0 keeps the caller's umask. */
START_TEST(umask_zero_keeps_callers)
{
    char *dir = th_mkdtemp();
    mode_t saved = umask(027);
    prun_opts o = {.cwd = dir};
    char *f = check_output(__LINE__, umask_argv, &o, "0027\n640\n");
    umask(saved);
    th_rm_rf(dir);
    free(dir);
    CK(f);
}
END_TEST

/* `.umask = 022` (no PRUN_UMASK) and stray bits are refused. */
START_TEST(umask_invalid)
{
    char *argv[] = {"true", NULL};
    prun_opts o = {.umask = 022};
    CK_ERROR(argv, &o, -EINVAL,
             "umask 022 without PRUN_UMASK(): write PRUN_UMASK(022): Invalid argument");
    o.umask = 0777;
    CK_ERROR(argv, &o, -EINVAL,
             "umask 0777 without PRUN_UMASK(): write PRUN_UMASK(0777): Invalid argument");
    o.umask = PRUN_UMASK(0) | 01000;
    CK_ERROR(argv, &o, -EINVAL, NULL);
    o.umask = -1;
    CK_ERROR(argv, &o, -EINVAL, NULL);
}
END_TEST

/* ---- signal dispositions ---------------------------------------------- */

/* The kernel's struct sigaction, for signals 32 and 33, which glibc's
 * sigaction() refuses. */
struct kernel_sigaction {
    void (*handler)(int);
    unsigned long flags;
    void (*restorer)(void);
    unsigned long mask;
};

static const int ignored_by_caller[] = {SIGINT, SIGQUIT, SIGPIPE, SIGXFSZ};
enum { N_IGNORED = sizeof ignored_by_caller / sizeof ignored_by_caller[0] };

struct hostile {
    struct sigaction old[N_IGNORED], old_usr1;
    struct kernel_sigaction old_internal[2];
    sigset_t old_mask;
};

static void on_usr1(int sig)
{
    (void)sig;
}

/* The caller ignores SIGINT, SIGQUIT (a shell's background job), SIGPIPE
 * and SIGXFSZ, handles SIGUSR1, blocks SIGTERM, and ignores glibc's
 * signals 32 and 33 (as a parent started by posix_spawn may). */
static void hostile_signals(struct hostile *s)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, handle = {.sa_handler = on_usr1};
    const struct kernel_sigaction kign = {SIG_IGN, 0, NULL, 0};
    for (int i = 0; i < N_IGNORED; i++)
        ck_assert_int_eq(sigaction(ignored_by_caller[i], &ign, &s->old[i]), 0);
    ck_assert_int_eq(sigaction(SIGUSR1, &handle, &s->old_usr1), 0);
    for (int i = 0; i < 2; i++)
        ck_assert_int_eq(syscall(SYS_rt_sigaction, 32 + i, &kign, &s->old_internal[i],
                                 sizeof kign.mask), 0);
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGTERM);
    ck_assert_int_eq(sigprocmask(SIG_BLOCK, &block, &s->old_mask), 0);
}

static void restore_signals(const struct hostile *s)
{
    sigprocmask(SIG_SETMASK, &s->old_mask, NULL);
    for (int i = 0; i < 2; i++)
        syscall(SYS_rt_sigaction, 32 + i, &s->old_internal[i], NULL, sizeof s->old_internal[i].mask);
    sigaction(SIGUSR1, &s->old_usr1, NULL);
    for (int i = 0; i < N_IGNORED; i++)
        sigaction(ignored_by_caller[i], &s->old[i], NULL);
}

/* ---- a caller's handler never runs in a child before its exec ---- */

/* The storm's handler notes when it runs in a process that is not the
 * caller: a child that shares the caller's memory until its exec. */
static pid_t storm_caller;
static volatile sig_atomic_t handled_in_child;

static void on_storm(int sig)
{
    (void)sig;
    if (getpid() != storm_caller)
        handled_in_child = 1;
}

static volatile sig_atomic_t storm_over;

static void *storm(void *arg)
{
    (void)arg;
    while (!storm_over)
        kill(0, SIGUSR1);  /* the caller and every child of its own group, before and after exec */
    return NULL;
}

/* In a helper (and a group of its own): 300 spawns of true under a
 * storm of SIGUSR1, which the caller handles.  A child signalled before
 * its exec must take the default action (killed by SIGUSR1), never run
 * the handler in the caller's memory; after the exec the same. */
static int spawn_in_a_storm(struct helper *h, int arg)
{
    (void)arg;
    struct sigaction on = {.sa_handler = on_storm};
    H_CHECK(setpgid(0, 0) == 0 && sigaction(SIGUSR1, &on, NULL) == 0);
    storm_caller = getpid();
    pthread_t thread;
    H_CHECK(pthread_create(&thread, NULL, storm, NULL) == 0);
    int r = 0, rc = 0;
    for (int i = 0; i < 300 && r == 0 && (rc == 0 || rc == -SIGUSR1); i++) {
        char *argv[] = {"true", NULL};
        prun_result res;
        r = prun_run(argv, NULL, &res);
        rc = res.returncode;
        prun_result_free(&res);
    }
    storm_over = 1;
    pthread_join(thread, NULL);
    H_CHECK(r == 0);
    H_CHECK(rc == 0 || rc == -SIGUSR1);
    H_CHECK(!handled_in_child);
    return PASSED;
}

START_TEST(caller_handler_never_runs_in_child)
{
    RUN_IN_HELPER(spawn_in_a_storm, 0);
}
END_TEST

/* Bit n-1 stands for signal n. */
#define SIG_BIT(n) (1ULL << ((n) - 1))
#define INTERNAL_BITS (SIG_BIT(32) | SIG_BIT(33))

struct sigsets {
    unsigned long long ign, cgt, blk;
};

static unsigned long long status_field(const char *status, const char *key)
{
    const char *line = strstr(status, key);
    ck_assert_msg(line != NULL, "no %s in /proc/self/status", key);
    return strtoull(line + strlen(key), NULL, 16);
}

static struct sigsets parse_sigsets(const char *status)
{
    struct sigsets s = {status_field(status, "\nSigIgn:\t"), status_field(status, "\nSigCgt:\t"),
                        status_field(status, "\nSigBlk:\t")};
    return s;
}

/* With the caller hostile: the caller's own SigIgn, and the child's sets
 * with signals = mode; variant 1 adds a umask, which the fallback cannot
 * give to posix_spawn, so its clone() child handles the signals. */
static void child_sigsets(int mode, int variant, unsigned long long *caller_ign,
                          struct sigsets *child)
{
    struct hostile saved;
    char *argv[] = {"cat", "/proc/self/status", NULL};
    prun_opts o = {.signals = mode, .umask = variant ? PRUN_UMASK(022) : 0};
    char *out = NULL;
    int rc = -1;
    hostile_signals(&saved);
    char *own = th_read_file("/proc/self/status", NULL);
    int r = capture(argv, &o, &out, &rc);
    restore_signals(&saved);
    ck_assert_msg(r == 0 && rc == 0, "cat: %d, rc %d (%s)", r, rc, prun_last_error());
    ck_assert_ptr_nonnull(own);
    struct sigsets caller = parse_sigsets(own);
    /* The caller really was hostile, the raw calls included. */
    ck_assert_msg((caller.ign & INTERNAL_BITS) == INTERNAL_BITS, "caller SigIgn %llx", caller.ign);
    ck_assert_msg(caller.cgt & SIG_BIT(SIGUSR1), "caller SigCgt %llx", caller.cgt);
    ck_assert_msg(caller.blk & SIG_BIT(SIGTERM), "caller SigBlk %llx", caller.blk);
    *caller_ign = caller.ign;
    *child = parse_sigsets(out);
    free(own);
    free(out);
}

/* The child's SigIgn is want_ign (never with 32 and 33), and it starts
 * with no signal blocked.  (SigCgt is 0 after any exec: it is checked
 * only so that nothing the child runs before the exec goes unnoticed.) */
static void check_child_sigsets(const struct sigsets *child, unsigned long long want_ign)
{
    ck_assert_msg(child->ign == want_ign, "child SigIgn %llx, expected %llx", child->ign,
                  want_ign);
    ck_assert_msg(child->blk == 0, "child SigBlk %llx", child->blk);
    ck_assert_msg(child->cgt == 0, "child SigCgt %llx", child->cgt);
}

/* Python's restore_signals: SIGPIPE and SIGXFSZ back to the default, what
 * else the caller ignores stays ignored (nohup, background jobs), the
 * handler on SIGUSR1 becomes the default, not "ignored". */
START_TEST(signals_restore)
{
    unsigned long long caller_ign;
    struct sigsets child;
    child_sigsets(PRUN_SIGNALS_RESTORE, _i, &caller_ign, &child);
    unsigned long long want = caller_ign & ~(SIG_BIT(SIGPIPE) | SIG_BIT(SIGXFSZ) | INTERNAL_BITS);
    ck_assert_msg((want & (SIG_BIT(SIGINT) | SIG_BIT(SIGQUIT))) ==
                      (SIG_BIT(SIGINT) | SIG_BIT(SIGQUIT)), "caller SigIgn %llx", caller_ign);
    check_child_sigsets(&child, want);
}
END_TEST

/* restore_signals=False: everything ignored stays so, but 32 and 33. */
START_TEST(signals_keep)
{
    unsigned long long caller_ign;
    struct sigsets child;
    child_sigsets(PRUN_SIGNALS_KEEP, _i, &caller_ign, &child);
    unsigned long long want = caller_ign & ~INTERNAL_BITS;
    ck_assert_msg((want & (SIG_BIT(SIGPIPE) | SIG_BIT(SIGXFSZ))) ==
                      (SIG_BIT(SIGPIPE) | SIG_BIT(SIGXFSZ)), "caller SigIgn %llx", caller_ign);
    check_child_sigsets(&child, want);
}
END_TEST

/* libprun 1.0's behaviour: every signal at its default. */
START_TEST(signals_default)
{
    unsigned long long caller_ign;
    struct sigsets child;
    child_sigsets(PRUN_SIGNALS_DEFAULT, _i, &caller_ign, &child);
    ck_assert_msg(caller_ign & SIG_BIT(SIGINT), "caller SigIgn %llx", caller_ign);
    check_child_sigsets(&child, 0);
}
END_TEST

START_TEST(signals_invalid)
{
    char *argv[] = {"true", NULL};
    prun_opts o = {.signals = 3};
    CK_ERROR(argv, &o, -EINVAL,
             "invalid signals 3: PRUN_SIGNALS_RESTORE, _KEEP or _DEFAULT: Invalid argument");
    o.signals = -1;
    CK_ERROR(argv, &o, -EINVAL, NULL);
}
END_TEST

/* ---- parent-death signal ---------------------------------------------- */

static int pidfd_open(pid_t pid)
{
    return (int)syscall(SYS_pidfd_open, pid, 0);
}

/* A helper process starts `sleep 60` with pdeathsig (and as nobody for
 * variant 3), reports its pid and waits to be killed.  Once the helper
 * is killed the sleep must go too, and (variant 2, no pdeathsig) must
 * not: the control that shows the test can tell.  Variant 3 checks that
 * the signal is set after the credentials, which clear it. */
START_TEST(pdeathsig_on_parent_death)
{
    static const int sigs[] = {SIGKILL, SIGTERM, 0, SIGKILL};
    const int sig = sigs[_i], as_nobody = _i == 3;
    if (as_nobody && geteuid() != 0) {
        fprintf(stderr, "test_child: pdeathsig_on_parent_death as nobody: skipped: needs root\n");
        return;
    }
    int report[2], hold[2];
    ck_assert_int_eq(pipe2(report, O_CLOEXEC), 0);
    ck_assert_int_eq(pipe2(hold, O_CLOEXEC), 0);
    fflush(NULL);
    pid_t helper = fork();
    ck_assert_int_ge(helper, 0);
    if (helper == 0) {
        char *argv[] = {"sleep", "60", NULL}, c;
        prun_opts o = {.pdeathsig = sig, .user = as_nobody ? "nobody" : NULL};
        prun_proc *p;
        close(report[0]);
        close(hold[1]);
        int r = prun_popen(&p, argv, &o);
        dprintf(report[1], "%d %s\n", r == 0 ? (int)prun_pid(p) : r, prun_last_error());
        close(report[1]);
        while (read(hold[0], &c, 1) < 0 && errno == EINTR)  /* until killed */
            ;
        _exit(0);
    }
    close(report[1]);
    close(hold[0]);
    char *text = th_read_all(report[0], NULL);
    close(report[0]);
    int pid = atoi(text);
    ck_assert_msg(pid > 0, "helper: %s", text);
    free(text);
    int pidfd = pidfd_open(pid);  /* the sleep is alive: the helper has not reaped it */
    ck_assert_int_ge(pidfd, 0);
    int status;
    ck_assert_int_eq(kill(helper, SIGKILL), 0);
    ck_assert_int_eq(waitpid(helper, &status, 0), helper);
    close(hold[1]);
    /* (th_wait_gone, but on a pidfd taken while the pid was surely the
     * sleep's: it is no child of ours, and could be reaped and reused.) */
    struct pollfd pfd = {pidfd, POLLIN, 0};
    int gone = poll(&pfd, 1, sig ? 30000 : 200) == 1;
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);  /* whatever happened */
    int killed = poll(&pfd, 1, 30000) == 1;
    close(pidfd);
    if (sig)
        ck_assert_msg(gone, "sleep %d outlived its parent with pdeathsig %d", pid, sig);
    else
        ck_assert_msg(!gone, "sleep %d died with its parent without pdeathsig", pid);
    ck_assert(killed);
}
END_TEST

struct starter {
    int pdeathsig;
    prun_proc *p;
    int r;
};

static void *start_sleep(void *arg)
{
    struct starter *s = arg;
    char *argv[] = {"sleep", "60", NULL};
    prun_opts o = {.pdeathsig = s->pdeathsig};
    s->r = prun_popen(&s->p, argv, &o);
    return NULL;
}

/* The documented caveat: the parent is the thread that started the
 * child, so a thread that exits takes its children with it (and without
 * pdeathsig it does not). */
START_TEST(pdeathsig_thread_exit)
{
    struct starter s = {_i ? 0 : SIGKILL, NULL, -1};
    pthread_t t;
    ck_assert_int_eq(pthread_create(&t, NULL, start_sleep, &s), 0);
    ck_assert_int_eq(pthread_join(t, NULL), 0);
    ck_assert_msg(s.r == 0, "prun_popen: %d", s.r);
    if (s.pdeathsig) {
        ck_assert_int_eq(th_returncode(s.p, 30000), -SIGKILL);
    } else {
        int rc, r = prun_wait(s.p, 200, &rc);
        prun_kill(s.p);
        ck_assert_int_eq(r, PRUN_ETIMEOUT);
        ck_assert_int_eq(th_returncode(s.p, PRUN_FOREVER), -SIGKILL);
    }
    prun_free(s.p);
}
END_TEST

/* A caller whose children start in a PID namespace of their own
 * (unshare(CLONE_NEWPID), as container runtimes do): there a child's
 * getppid() is 0, its parent being outside, and alive.
 * It used to fail: child.c took any getppid() but the caller's pid for a
 * parent that died before PR_SET_PDEATHSIG took, and the child killed
 * itself with pdeathsig before its exec: rc -SIGTERM, the program never
 * ran (but for the namespace's first process, its init, which its own
 * signals do not kill).  0 is a parent in an ancestor namespace now: an
 * orphan would have been given a reaper that it can see. */
static int pdeathsig_in_pid_namespace(struct helper *h, int arg)
{
    (void)arg;
    H_BECOME(AS_ROOT);
    int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    H_CHECK(own >= 0);
    if (unshare(CLONE_NEWPID) < 0)
        return helper_skip("cannot make a PID namespace");
    char *cat_argv[] = {"cat", NULL};
    prun_opts keep_alive = {.stdin_io = PRUN_PIPE};
    prun_proc *init;
    H_CHECK(prun_popen(&init, cat_argv, &keep_alive) == 0);  /* pid 1 there, until its EOF */
    prun_opts o = {.pdeathsig = SIGTERM};
    H_OUTPUT(SH("echo $$ $PPID"), &o, "2 0\n");
    prun_close_stream(init, 0);
    int rc = -1;
    H_CHECK(prun_wait(init, 30000, &rc) == 0 && rc == 0);
    prun_free(init);
    /* Children in this process's own namespace again: LeakSanitizer's
     * tracer, cloned at exit, must see the process it stops. */
    H_CHECK(setns(own, CLONE_NEWPID) == 0);
    close(own);
    return PASSED;
}

START_TEST(pdeathsig_pid_namespace)
{
    RUN_IN_HELPER(pdeathsig_in_pid_namespace, 0);
}
END_TEST

/* A parent that died before the child set PR_SET_PDEATHSIG would never
 * send it: the child sends it to itself rather than run on orphaned.
 * That race (the caller's process ends while the child sets up) is
 * forced here with a seccomp filter under which getppid() answers an
 * error, which is not the caller's pid: on one thread only (its children
 * inherit it), as LeakSanitizer's tracer needs getppid() at exit. */
struct orphan_call {
    char *cmd;
    int filtered, r, rc;
};

static void *call_with_getppid_failing(void *arg)
{
    static const long getppid_nr[] = {SYS_getppid};
    struct orphan_call *c = arg;
    c->filtered = th_deny_syscalls(getppid_nr, 1, ESRCH) == 0;
    prun_opts o = {.pdeathsig = SIGTERM};
    if (c->filtered)
        c->r = prun_call(SH(c->cmd), &o, &c->rc);
    return NULL;
}

static int pdeathsig_parent_gone(struct helper *h, int arg)
{
    (void)arg;
    char *dir = th_mkdtemp(), *marker = NULL;
    struct orphan_call c = {NULL, 0, -1, 0};
    H_CHECK(dir && asprintf(&marker, "%s/ran", dir) > 0 && asprintf(&c.cmd, ": > %s", marker) > 0);
    pthread_t t;
    H_CHECK(pthread_create(&t, NULL, call_with_getppid_failing, &c) == 0);
    H_CHECK(pthread_join(t, NULL) == 0);
    H_CHECK(c.filtered && c.r == 0);
    H_CHECK(c.rc == -SIGTERM);
    H_CHECK(access(marker, F_OK) < 0 && errno == ENOENT);
    H_CHECK(th_count_children() == 0);
    th_rm_rf(dir);
    free(c.cmd);
    free(marker);
    free(dir);
    return PASSED;
}

START_TEST(pdeathsig_parent_died_first)
{
    RUN_IN_HELPER(pdeathsig_parent_gone, 0);
}
END_TEST

START_TEST(pdeathsig_invalid)
{
    char *argv[] = {"true", NULL};
    prun_opts o = {.pdeathsig = 99};
    CK_ERROR(argv, &o, -EINVAL, "invalid pdeathsig 99: Invalid argument");
    o.pdeathsig = -1;
    CK_ERROR(argv, &o, -EINVAL, "invalid pdeathsig -1: Invalid argument");
    o.pdeathsig = 65;
    CK_ERROR(argv, &o, -EINVAL, NULL);
}
END_TEST

/* ---- resource limits -------------------------------------------------- */

static char *const ulimit_argv[] = {"sh", "-c", "ulimit -n; ulimit -Hn; ulimit -c; ulimit -Hc",
                                    NULL};

static int same_limit(int resource, const struct rlimit *want)
{
    struct rlimit now;
    return getrlimit(resource, &now) == 0 && now.rlim_cur == want->rlim_cur &&
           now.rlim_max == want->rlim_max;
}

/* A root helper sets known limits of its own first (then maybe drops);
 * one that is not root needs room under its hard limits. */
static int known_limits(struct helper *h, int who)
{
    struct rlimit n, c;
    H_CHECK(getrlimit(RLIMIT_NOFILE, &n) == 0 && getrlimit(RLIMIT_CORE, &c) == 0);
    if (n.rlim_max < 456 || c.rlim_max < 77 * 512)
        return helper_skip("the hard limits leave no room");
    if (geteuid() == 0) {  /* lower only: root may lack CAP_SYS_RESOURCE */
        n = (struct rlimit){1024, n.rlim_max < 4096 ? n.rlim_max : 4096};
        c.rlim_cur = 0;
        H_CHECK(setrlimit(RLIMIT_NOFILE, &n) == 0 && setrlimit(RLIMIT_CORE, &c) == 0);
    }
    H_BECOME(who);
    return PASSED;
}

/* The limits are the child's, in order; the caller's stay as they were. */
static int rlimits_in_child(struct helper *h, int who)
{
    int r = known_limits(h, who);
    if (r != PASSED)
        return r;
    struct rlimit nofile, core;
    H_CHECK(getrlimit(RLIMIT_NOFILE, &nofile) == 0 && getrlimit(RLIMIT_CORE, &core) == 0);
    const struct prun_rlimit limits[] = {
        {RLIMIT_NOFILE, {123, 456}},
        {RLIMIT_CORE, {77 * 512, 77 * 512}},  /* dash counts 512-byte blocks */
    };
    prun_opts o = {.rlimits = limits, .n_rlimits = 2};
    H_OUTPUT(ulimit_argv, &o, "123\n456\n77\n77\n");
    H_CHECK(same_limit(RLIMIT_NOFILE, &nofile) && same_limit(RLIMIT_CORE, &core));
    /* In order: the second lowers what the first set (the other way
     * round an unprivileged child could not raise the hard limit). */
    const struct prun_rlimit twice[] = {
        {RLIMIT_NOFILE, {200, 300}},
        {RLIMIT_NOFILE, {100, 150}},
    };
    o = (prun_opts){.rlimits = twice, .n_rlimits = 2};
    H_OUTPUT(SH("ulimit -n; ulimit -Hn"), &o, "100\n150\n");
    H_CHECK(same_limit(RLIMIT_NOFILE, &nofile));
    return PASSED;
}

START_TEST(rlimits_set_in_child)
{
    RUN_IN_HELPER(rlimits_in_child, _i);
}
END_TEST

START_TEST(rlimits_invalid)
{
    char *argv[] = {"true", NULL};
    struct prun_rlimit bad[] = {{RLIMIT_CORE, {0, 0}}, {99, {1, 1}}};
    prun_opts o = {.rlimits = bad, .n_rlimits = 2};
    CK_ERROR(argv, &o, -EINVAL, "rlimits[1]: unknown resource 99: Invalid argument");
    bad[1].resource = -1;
    CK_ERROR(argv, &o, -EINVAL, "rlimits[1]: unknown resource -1: Invalid argument");
    bad[1].resource = RLIMIT_NLIMITS;
    CK_ERROR(argv, &o, -EINVAL, NULL);
    bad[1] = (struct prun_rlimit){RLIMIT_NOFILE, {100, 50}};
    CK_ERROR(argv, &o, -EINVAL,
             "rlimits[1]: the soft limit is above the hard one: Invalid argument");
    bad[1] = (struct prun_rlimit){RLIMIT_NOFILE, {RLIM_INFINITY, 50}};
    CK_ERROR(argv, &o, -EINVAL, NULL);
    o = (prun_opts){.rlimits = NULL, .n_rlimits = 1};
    CK_ERROR(argv, &o, -EINVAL, "n_rlimits is 1 but rlimits is NULL: Invalid argument");
}
END_TEST

/* Whether the process has capability cap in its effective set. */
static int has_cap(int cap)
{
    char *status = th_read_file("/proc/self/status", NULL);
    const char *line = status ? strstr(status, "\nCapEff:\t") : NULL;
    int has = line && (strtoull(line + 9, NULL, 16) >> cap & 1);
    free(status);
    return has;
}

/* Limits come before the credentials: root raises a hard limit above its
 * own, then the child becomes nobody. */
static int raise_hard_then_drop(struct helper *h, int arg)
{
    (void)arg;
    H_BECOME(AS_ROOT);
    if (!has_cap(CAP_SYS_RESOURCE))
        return helper_skip("root without CAP_SYS_RESOURCE cannot raise a hard limit");
    const struct rlimit mine = {1024, 1024};
    H_CHECK(setrlimit(RLIMIT_NOFILE, &mine) == 0);
    const struct prun_rlimit raise[] = {{RLIMIT_NOFILE, {8192, 8192}}};
    prun_opts o = {.rlimits = raise, .n_rlimits = 1, .user = "nobody"};
    H_OUTPUT(SH("id -u; ulimit -n; ulimit -Hn"), &o, "65534\n8192\n8192\n");
    H_CHECK(same_limit(RLIMIT_NOFILE, &mine));
    return PASSED;
}

START_TEST(rlimits_before_credentials)
{
    RUN_IN_HELPER(raise_hard_then_drop, 0);
}
END_TEST

/* An unprivileged child cannot raise its hard limit: the failed step is
 * named, with the limit at its index. */
static int raise_hard_unprivileged(struct helper *h, int arg)
{
    (void)arg;
    struct rlimit nofile;
    H_CHECK(getrlimit(RLIMIT_NOFILE, &nofile) == 0 && nofile.rlim_max != RLIM_INFINITY);
    if (geteuid() == 0 && nofile.rlim_max > 4096) {  /* below the kernel's nr_open */
        nofile = (struct rlimit){1024, 4096};
        H_CHECK(setrlimit(RLIMIT_NOFILE, &nofile) == 0);
    }
    H_BECOME(AS_UNPRIVILEGED);
    const struct prun_rlimit raise[] = {
        {RLIMIT_CORE, {0, 0}},
        {RLIMIT_NOFILE, {nofile.rlim_max + 1, nofile.rlim_max + 1}},
    };
    prun_opts o = {.rlimits = raise, .n_rlimits = 2};
    char *argv[] = {"true", NULL};
    H_ERROR(argv, &o, -EPERM, "cannot set the nofile limit of 'true': Operation not permitted");
    H_CHECK(same_limit(RLIMIT_NOFILE, &nofile));
    return PASSED;
}

START_TEST(rlimits_failed_step)
{
    RUN_IN_HELPER(raise_hard_unprivileged, 0);
}
END_TEST

/* A limit on fds below the caller's highest fd is the program's: the
 * child must still set up its streams (here /dev/null, which takes a new
 * fd, and a pipe end numbered above the limit).
 * It used to fail: child.c applied the
 * limits before redirect(), so open("/dev/null") in the child got the
 * lowest free fd, which is above the new RLIMIT_NOFILE when the caller
 * has more fds open than that: -EMFILE, "cannot open /dev/null as the
 * stdin of 'sh': Too many open files", on both engines.  Python applies
 * a preexec_fn's setrlimit after its dup2s.  The child now sets up its
 * fds first. */
START_TEST(rlimits_nofile_below_callers_fds)
{
    int fds[64], n = 0, top = -1;
    while (n < 64 && (top = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0) {
        fds[n++] = top;
        if (top >= 40)
            break;
    }
    ck_assert_int_ge(top, 40);
    const struct prun_rlimit low[] = {{RLIMIT_NOFILE, {16, 16}}};
    prun_opts o = {.stdin_io = PRUN_DEVNULL, .rlimits = low, .n_rlimits = 1};
    char *f = check_output(__LINE__, SH("ulimit -n; cat"), &o, "16\n");
    for (int i = 0; i < n; i++)
        close(fds[i]);
    CK(f);
}
END_TEST

/* ---- the run family and pipelines ------------------------------------- */

static const struct prun_rlimit nofile_123[] = {{RLIMIT_NOFILE, {123, 456}}};

/* user (when root), umask and rlimits, and the uid the child gets. */
static prun_opts child_opts(unsigned *uid)
{
    int root = geteuid() == 0;
    *uid = root ? NOBODY : (unsigned)geteuid();
    prun_opts o = {.user = root ? "nobody" : NULL, .umask = PRUN_UMASK(053),
                   .rlimits = nofile_123, .n_rlimits = 1};
    return o;
}

START_TEST(run_family)
{
    unsigned uid;
    prun_opts o = child_opts(&uid);
    char want[64], test[128];
    snprintf(want, sizeof want, "%u 0053 123\n", uid);
    snprintf(test, sizeof test, "test \"$(id -u) $(umask) $(ulimit -n)\" = \"%u 0053 123\"", uid);
    char *show = "echo $(id -u) $(umask) $(ulimit -n)";

    prun_opts cap = o;
    cap.capture_output = 1;
    prun_result res;
    ck_assert_msg(prun_run(SH(show), &cap, &res) == 0, "%s", prun_last_error());
    ck_assert_int_eq(res.returncode, 0);
    th_assert_buf_eq(res.out, want);
    prun_result_free(&res);

    prun_buf out;
    ck_assert_msg(prun_check_output(SH(show), &o, &out) == 0, "%s", prun_last_error());
    th_assert_buf_eq(out, want);
    prun_buf_free(&out);

    int rc = -1;
    ck_assert_int_eq(prun_call(SH(test), &o, &rc), 0);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(prun_check_call(SH(test), &o), 0);
    /* The control: the same test without the options fails. */
    ck_assert_int_eq(prun_call(SH(test), NULL, &rc), 0);
    ck_assert_int_eq(rc, 1);

    /* Errors through the family, with nothing left behind. */
    int fds = th_count_fds();
    cap.umask = 022;
    ck_assert_int_eq(prun_run(SH(show), &cap, &res), -EINVAL);
    prun_result_free(&res);
    th_assert_no_leaks(fds);
    cap = o;
    cap.user = "prun-no-such-user";
    ck_assert_int_eq(prun_call(SH(show), &cap, &rc), -ENOENT);
    ck_assert_str_eq(prun_last_error(),
                     "no user 'prun-no-such-user' in the user database: No such file or directory");
    th_assert_no_leaks(fds);
    cap.user = NULL;
    cap.pdeathsig = 99;
    ck_assert_int_eq(prun_check_output(SH(show), &cap, &out), -EINVAL);
    prun_buf_free(&out);
    th_assert_no_leaks(fds);
}
END_TEST

/* Every stage of a pipeline gets the options. */
START_TEST(pipeline_every_stage)
{
    unsigned uid;
    prun_opts o = child_opts(&uid);
    o.capture_output = 1;
    char *first[] = {"sh", "-c", "echo 1 $(id -u) $(umask) $(ulimit -n)", NULL};
    char *second[] = {"sh", "-c", "cat; echo 2 $(id -u) $(umask) $(ulimit -n)", NULL};
    char *const *stages[] = {first, second};
    char want[128];
    snprintf(want, sizeof want, "1 %u 0053 123\n2 %u 0053 123\n", uid, uid);
    prun_result res;
    ck_assert_msg(prun_pipeline_run(2, stages, &o, &res) == 0, "%s", prun_last_error());
    ck_assert_int_eq(res.returncode, 0);
    th_assert_buf_eq(res.out, want);
    prun_result_free(&res);
}
END_TEST

/* A pipeline refused for its options, or whose first stage cannot become
 * the user, leaves nothing behind. */
static int pipeline_refused(struct helper *h, int who)
{
    H_BECOME(who);
    char *first[] = {"sh", "-c", "echo 1", NULL}, *second[] = {"cat", NULL};
    char *const *stages[] = {first, second};
    int fds = th_count_fds();
    prun_pipeline *pl = (prun_pipeline *)&fds;
    size_t failed = 99;
    prun_opts o = {.user = "prun-no-such-user", .stdout_io = PRUN_PIPE};
    H_CHECK(prun_pipeline_start(&pl, 2, stages, &o, &failed) == -ENOENT);
    H_CHECK(pl == NULL && failed == 0);
    H_CHECK(th_count_fds() == fds && th_count_children() == 0);
    if (who == AS_UNPRIVILEGED) {
        o.user = "root";
        H_CHECK(prun_pipeline_start(&pl, 2, stages, &o, &failed) == -EPERM);
        H_CHECK(strcmp(prun_last_error(),
                       "cannot run 'sh' as user 'root': Operation not permitted") == 0);
        H_CHECK(pl == NULL && failed == 0);
        H_CHECK(th_count_fds() == fds && th_count_children() == 0);
    }
    return PASSED;
}

START_TEST(pipeline_errors)
{
    RUN_IN_HELPER(pipeline_refused, _i);
}
END_TEST

/* ---- a failed setup step is reported as that step --------------------- */

/* In a mount namespace of its own, with an empty tmpfs over /dev: no
 * /dev/null, and the sentence says so rather than "cannot run". */
static int devnull_missing(struct helper *h, int arg)
{
    (void)arg;
    H_BECOME(AS_ROOT);
    if (unshare(CLONE_NEWNS) < 0)
        return helper_skip("cannot make a mount namespace");
    if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 ||
        mount("prun-test", "/dev", "tmpfs", MS_NOSUID, "size=64k") < 0)
        return helper_skip("cannot mount a tmpfs over /dev");
    H_CHECK(access("/dev/null", F_OK) < 0 && errno == ENOENT);
    static const char *const names[] = {"stdin", "stdout", "stderr"};
    char *argv[] = {"true", NULL};
    for (int stream = 0; stream < 3; stream++) {
        prun_opts o = {0};
        enum prun_io *io[] = {&o.stdin_io, &o.stdout_io, &o.stderr_io};
        *io[stream] = PRUN_DEVNULL;
        int fds = th_count_fds();
        prun_result res;
        char want[128];
        snprintf(want, sizeof want,
                 "cannot open /dev/null as the %s of 'true': No such file or directory",
                 names[stream]);
        int r = prun_run(argv, &o, &res);
        prun_result_free(&res);
        H_CHECK(r == -ENOENT);
        if (strcmp(prun_last_error(), want) != 0)
            return helper_fail(h, "the error is \"%s\", expected \"%s\"", prun_last_error(), want);
        H_CHECK(th_count_fds() == fds && th_count_children() == 0);
    }
    return PASSED;
}

START_TEST(devnull_step_reported)
{
    RUN_IN_HELPER(devnull_missing, 0);
}
END_TEST

/* ---- the PATH search rule ---------------------------------------------- */

struct path_dirs {
    char *top, *dir[3], *env[2], *marker;
};

/* Three directories for PATH, and the file a working `tool` creates. */
static struct path_dirs path_dirs(void)
{
    struct path_dirs d = {th_mkdtemp(), {NULL}, {NULL, NULL}, NULL};
    ck_assert_ptr_nonnull(d.top);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_ge(asprintf(&d.dir[i], "%s/d%d", d.top, i), 0);
        ck_assert_int_eq(mkdir(d.dir[i], 0755), 0);
    }
    ck_assert_int_ge(asprintf(&d.marker, "%s/ran", d.top), 0);
    return d;
}

static void path_dirs_free(struct path_dirs *d)
{
    th_rm_rf(d->top);
    for (int i = 0; i < 3; i++)
        free(d->dir[i]);
    free(d->env[0]);
    free(d->marker);
    free(d->top);
}

enum tool_kind { WORKS, NOT_EXECUTABLE, NO_SHEBANG };

/* dir i's `tool`: a script that creates the marker, the same without x
 * bits, or a file without #! (which sh would run, creating the marker). */
static void put_tool(const struct path_dirs *d, int i, enum tool_kind kind)
{
    char *path, *text;
    ck_assert_int_ge(asprintf(&path, "%s/tool", d->dir[i]), 0);
    ck_assert_int_ge(asprintf(&text, "%s: > %s\necho %d\n", kind == NO_SHEBANG ? "" : "#!/bin/sh\n",
                              d->marker, i), 0);
    th_write_file(path, text, kind == NOT_EXECUTABLE ? 0644 : 0755);
    free(text);
    free(path);
}

/* o's env with PATH=path. */
static prun_opts path_opts(struct path_dirs *d, const char *path)
{
    free(d->env[0]);
    ck_assert_int_ge(asprintf(&d->env[0], "PATH=%s", path), 0);
    d->env[1] = NULL;
    prun_opts o = {.env = d->env};
    return o;
}

static char *const tool_argv[] = {"tool", NULL};

/* ENOEXEC is about a program that was found: the search stops there, even
 * though a later directory has a working tool. */
START_TEST(path_stops_at_enoexec)
{
    struct path_dirs d = path_dirs();
    put_tool(&d, 0, NO_SHEBANG);
    put_tool(&d, 1, WORKS);
    char *path;
    ck_assert_int_ge(asprintf(&path, "%s:%s", d.dir[0], d.dir[1]), 0);
    prun_opts o = path_opts(&d, path);
    CK_ERROR(tool_argv, &o, -ENOEXEC, "cannot run 'tool': Exec format error");
    ck_assert_int_ne(access(d.marker, F_OK), 0);
    free(path);
    path_dirs_free(&d);
}
END_TEST

/* EACCES is remembered and the search goes on: a later hit wins; a later
 * error other than not-found wins too; with nothing later, EACCES. */
START_TEST(path_eacces_remembered)
{
    struct path_dirs d = path_dirs();
    char *path;
    put_tool(&d, 0, NOT_EXECUTABLE);
    put_tool(&d, 2, WORKS);
    ck_assert_int_ge(asprintf(&path, "%s:%s:%s", d.dir[0], d.dir[1], d.dir[2]), 0);
    prun_opts o = path_opts(&d, path);
    CK_OUTPUT(tool_argv, &o, "2\n");
    put_tool(&d, 1, NO_SHEBANG);
    CK_ERROR(tool_argv, &o, -ENOEXEC, "cannot run 'tool': Exec format error");
    free(path);
    ck_assert_int_ge(asprintf(&path, "%s:%s/missing", d.dir[0], d.top), 0);
    o = path_opts(&d, path);
    CK_ERROR(tool_argv, &o, -EACCES, "cannot run 'tool': Permission denied");
    free(path);
    path_dirs_free(&d);
}
END_TEST

/* ENOENT and ENOTDIR (a PATH entry that is a file) go on to the next. */
START_TEST(path_skips_enoent_and_enotdir)
{
    struct path_dirs d = path_dirs();
    char *file, *path;
    ck_assert_int_ge(asprintf(&file, "%s/file", d.top), 0);
    th_write_file(file, "", 0644);
    put_tool(&d, 2, WORKS);
    ck_assert_int_ge(asprintf(&path, "%s/missing:%s:%s:%s", d.top, file, d.dir[0], d.dir[2]), 0);
    prun_opts o = path_opts(&d, path);
    CK_OUTPUT(tool_argv, &o, "2\n");
    free(path);
    free(file);
    path_dirs_free(&d);
}
END_TEST

/* Arguments too big for execve: -E2BIG, not "not found". */
START_TEST(path_e2big)
{
    enum { N_ARGS = 80, ARG_LEN = 100000 };  /* 8 MB: above any execve limit (6 MiB) */
    char **argv = calloc(N_ARGS + 2, sizeof *argv);
    char *big = malloc(ARG_LEN + 1);
    ck_assert(argv && big);
    memset(big, 'x', ARG_LEN);
    big[ARG_LEN] = '\0';
    argv[0] = "true";
    for (int i = 1; i <= N_ARGS; i++)
        argv[i] = big;
    char *f = check_error(__LINE__, argv, NULL, -E2BIG, "cannot run 'true': Argument list too long");
    free(big);
    free(argv);
    CK(f);
}
END_TEST

/* ---- spawn cost flat in the caller's fd table ------------------------- */

enum { FEW_FDS = 10, MANY_FDS = 15000, ROUNDS = 20 };

/* One prun_popen of /bin/true with the streams inherited, in ns, or -1.
 * The caller is suspended until the child execs (CLONE_VFORK), so this
 * includes the child's handling of the fd table. */
static int64_t spawn_ns(void)
{
    char *argv[] = {"/bin/true", NULL};
    prun_proc *p;
    int rc = -1;
    int64_t t0 = prun_clock_ns();
    int r = prun_popen(&p, argv, NULL);
    int64_t t = prun_clock_ns() - t0;
    if (r)
        return -1;
    r = prun_wait(p, PRUN_FOREVER, &rc);
    prun_free(p);
    return r == 0 && rc == 0 ? t : -1;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static double median_ms(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_i64);
    return (double)(v[n / 2 - 1] + v[n / 2]) / 2e6;
}

/* The highest open fd (fds the test inherited may be anywhere). */
static int highest_fd(void)
{
    DIR *d = opendir("/proc/self/fd");
    int top = -1;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d));)
        if (e->d_name[0] != '.' && atoi(e->d_name) != dirfd(d) && atoi(e->d_name) > top)
            top = atoi(e->d_name);
    closedir(d);
    return top;
}

enum { WARM = 2, ATTEMPTS = 3 };

/* The last of WARM + 1 spawns, in ns, or -1: the untimed ones come after
 * the burst of dup2s or the close_range. */
static int64_t settled_spawn_ns(void)
{
    int64_t t = -1;
    for (int i = 0; i <= WARM; i++)
        if ((t = spawn_ns()) < 0)
            return -1;
    return t;
}

/* The medians of ROUNDS spawns with FEW_FDS fds open and of ROUNDS with
 * MANY_FDS more (inheritable ones, which the child must not pass on),
 * taken in turns, so that a load that comes and goes weighs on both
 * alike.  0, or -1. */
static int medians(int base, int first_many, double *few_ms, double *many_ms)
{
    int64_t few[ROUNDS], many[ROUNDS];
    for (int i = 0; i < ROUNDS; i++) {
        if ((few[i] = settled_spawn_ns()) < 0)
            return -1;
        for (int fd = first_many; fd < first_many + MANY_FDS; fd++)
            if (dup2(base, fd) != fd)
                return -1;
        if (th_count_fds() != FEW_FDS + MANY_FDS || (many[i] = settled_spawn_ns()) < 0)
            return -1;
        if (syscall(SYS_close_range, first_many, ~0U, 0) < 0)
            return -1;
    }
    *few_ms = median_ms(few, ROUNDS);
    *many_ms = median_ms(many, ROUNDS);
    return 0;
}

/* A cost that grows with the table shows in every attempt (the fallback
 * engine: 15 to 25 times here); a loaded machine's noise (other suites
 * run in parallel) seldom does three times running. */
static int flat_cost(struct helper *h, int arg)
{
    (void)arg;
    struct rlimit lim;
    H_CHECK(getrlimit(RLIMIT_NOFILE, &lim) == 0);
    rlim_t need = (rlim_t)highest_fd() + MANY_FDS + 64;
    if (lim.rlim_cur < need) {
        lim.rlim_cur = need;
        if (lim.rlim_max < need)
            lim.rlim_max = need;
        if (setrlimit(RLIMIT_NOFILE, &lim) < 0)
            return helper_skip("cannot raise RLIMIT_NOFILE for 15000 fds");
    }
    /* Where allowed, the helper's wake-ups (the end of each vfork) come
     * first, so that a machine busy with other suites does not decide. */
    (void)setpriority(PRIO_PROCESS, 0, -20);
    int base = open("/dev/null", O_RDONLY);
    H_CHECK(base >= 0);
    while (th_count_fds() < FEW_FDS)
        H_CHECK(dup(base) >= 0);
    H_CHECK(th_count_fds() == FEW_FDS);
    int first_many = highest_fd() + 1;
    double few_ms = 0, many_ms = 0;
    for (int attempt = 1; attempt <= ATTEMPTS; attempt++) {
        H_CHECK(medians(base, first_many, &few_ms, &many_ms) == 0);
        fprintf(stderr, "test_child: median spawn of /bin/true: %.3f ms with %d fds, %.3f ms "
                "with %d (attempt %d)\n", few_ms, FEW_FDS, many_ms, FEW_FDS + MANY_FDS, attempt);
        if (many_ms <= 2 * few_ms)
            return PASSED;
    }
    return helper_fail(h, "spawn cost %.3f ms with %d fds, %.3f ms with %d: more than 2x",
                       few_ms, FEW_FDS, many_ms, FEW_FDS + MANY_FDS);
}

/* The clone3 engine shares the fd table and unshares only what the child
 * keeps; posix_spawn copies the table, so the fallback is not flat. */
START_TEST(spawn_cost_flat_in_fds)
{
    if (th_fallback()) {
        fprintf(stderr, "test_child: spawn_cost_flat_in_fds: skipped on the fallback engine\n");
        return;
    }
    RUN_IN_HELPER(flat_cost, 0);
}
END_TEST

/* ---- suite -------------------------------------------------------------- */

static Suite *child_suite(void)
{
    Suite *s = suite_create("child");
    TCase *tc;

    tc = th_tcase(s, "user_group", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, user_alone_is_that_user_entirely);
    tcase_add_test(tc, user_gets_database_groups);
    tcase_add_test(tc, group_alone_sets_gid);
    tcase_add_test(tc, user_and_group);
    tcase_add_test(tc, extra_groups_set_the_groups);
    tcase_add_test(tc, extra_groups_repeated_group);
    tcase_add_test(tc, credentials_keep_caller_dumpable);
    tcase_add_loop_test(tc, small_thread_stack, 0, 2);
    tcase_add_test(tc, numeric_ids_without_entries);
    tcase_add_test(tc, unknown_user_or_group);
    tcase_add_test(tc, unprivileged_as_itself);
    tcase_add_test(tc, unprivileged_as_another);
    tcase_add_test(tc, root_without_setid_capabilities);
    tcase_add_test(tc, long_database_entries);

    tc = th_tcase(s, "umask", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, umask_set);
    tcase_add_test(tc, umask_zero_keeps_callers);
    tcase_add_test(tc, umask_invalid);
    tcase_add_test(tc, umask_without_clone_pidfd);

    tc = th_tcase(s, "signals", TH_CHECK_TIMEOUT);
    tcase_add_loop_test(tc, signals_restore, 0, 2);
    tcase_add_loop_test(tc, signals_keep, 0, 2);
    tcase_add_loop_test(tc, signals_default, 0, 2);
    tcase_add_test(tc, signals_invalid);

    tc = th_tcase(s, "pdeathsig", TH_CHECK_TIMEOUT);
    tcase_add_loop_test(tc, pdeathsig_on_parent_death, 0, 4);
    tcase_add_loop_test(tc, pdeathsig_thread_exit, 0, 2);
    tcase_add_test(tc, pdeathsig_invalid);
    tcase_add_test(tc, pdeathsig_pid_namespace);
    tcase_add_test(tc, pdeathsig_parent_died_first);

    tc = th_tcase(s, "rlimits", TH_CHECK_TIMEOUT);
    tcase_add_loop_test(tc, rlimits_set_in_child, AS_ROOT, AS_UNPRIVILEGED + 1);
    tcase_add_test(tc, rlimits_invalid);
    tcase_add_test(tc, rlimits_before_credentials);
    tcase_add_test(tc, rlimits_failed_step);
    tcase_add_test(tc, rlimits_nofile_below_callers_fds);

    tc = th_tcase(s, "run_pipeline", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, run_family);
    tcase_add_test(tc, pipeline_every_stage);
    tcase_add_loop_test(tc, pipeline_errors, AS_ROOT, AS_UNPRIVILEGED + 1);

    tc = th_tcase(s, "setup_steps", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, devnull_step_reported);

    tc = th_tcase(s, "path", TH_CHECK_TIMEOUT);
    tcase_add_test(tc, path_stops_at_enoexec);
    tcase_add_test(tc, path_eacces_remembered);
    tcase_add_test(tc, path_skips_enoent_and_enotdir);
    tcase_add_test(tc, path_e2big);

    tc = th_tcase(s, "flat", 300);
    tcase_add_test(tc, spawn_cost_flat_in_fds);
    tcase_add_test(tc, caller_handler_never_runs_in_child);

    return s;
}

int main(void)
{
    return th_run_suite(child_suite());
}
