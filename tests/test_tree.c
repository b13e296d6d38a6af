/* SPDX-License-Identifier: MIT */
/* test_tree.c - the caller's process tree: prun_signal_descendants
 * reaches what left the commands' group and session, and
 * prun_reap_adopted reaps what a subreaper adopted, never a stage. */
#include "helpers.h"

#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <prun.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

/* The first line the child writes (a pid here): a marker, never a sleep. */
static pid_t read_pid(prun_proc *p)
{
    char line[32];
    FILE *f = fdopen(dup(prun_stdout(p)), "r");
    ck_assert_ptr_nonnull(f);
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    return (pid_t)atoi(line);
}

/* A grandchild in a session of its own is out of reach of the commands'
 * process group, not of the tree. */
START_TEST(descendants_that_left_the_session)
{
    int fds = th_count_fds();
    char *argv[] = {"setsid sleep 100 & echo $!; wait", NULL};
    prun_opts o = {.shell = 1, .stdout_io = PRUN_PIPE, .new_pgroup = 1};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, &o);
    pid_t grandchild = read_pid(p);
    ck_assert_int_gt(grandchild, 0);
    ck_assert_int_ge(prun_signal_descendants(SIGTERM), 2);  /* sh and sleep */
    ck_assert_int_eq(th_wait_gone(grandchild, 20000), 1);
    ck_assert_int_eq(th_returncode(p, 20000), -SIGTERM);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

START_TEST(no_descendants_no_signal)
{
    ck_assert_int_eq(prun_signal_descendants(0), 0);
}
END_TEST

/* In a forked helper that makes itself a child subreaper: an orphaned
 * grandchild comes to it, is signalled, and its zombie is reaped; the
 * pipeline's own stage is left to the pipeline. */
static int subreaper_helper(void)
{
    if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
        return 1;
    char *orphaner[] = {"sh", "-c", "(sleep 100 & echo $!) ; exit 0", NULL};
    char *const *stages[] = {orphaner};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_pipeline *pl;
    if (prun_pipeline_start(&pl, 1, stages, &o, NULL))
        return 2;
    char line[32];
    FILE *f = fdopen(dup(prun_pipeline_stdout(pl)), "r");
    if (!f || !fgets(line, sizeof line, f))
        return 3;
    fclose(f);
    pid_t orphan = (pid_t)atoi(line);
    int status;
    if (prun_pipeline_wait(pl, 20000, &status) || status != 0)
        return 4;
    /* sh waited for the subshell, whose exit gave the sleep to us: it is
     * ours by the time the stage is reaped. */
    char path[64], buf[512], state;
    pid_t ppid = 0;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)orphan);
    FILE *s = fopen(path, "re");
    if (!s)
        return 5;
    size_t n = fread(buf, 1, sizeof buf - 1, s);
    fclose(s);
    buf[n] = '\0';
    if (sscanf(strrchr(buf, ')') + 1, " %c %d", &state, &ppid) != 2 || ppid != getpid())
        return 5;
    if (prun_signal_descendants(SIGKILL) != 1)
        return 6;
    if (!th_wait_gone(orphan, 20000))
        return 7;
    /* Gone, but a zombie of ours until reaped. */
    if (prun_reap_adopted(pl) != 1 || th_count_children() != 0)
        return 8;
    prun_pipeline_free(pl);
    return 0;
}

START_TEST(subreaper_adopts_and_reaps)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exit(subreaper_helper());
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper failed at step %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
END_TEST

/* A stage that has exited is the pipeline's to reap, with its status. */
START_TEST(reap_adopted_leaves_the_stages)
{
    char *argv[] = {"sh", "-c", "exit 5", NULL};
    char *const *stages[] = {argv};
    prun_pipeline *pl;
    ck_assert_int_eq(prun_pipeline_start(&pl, 1, stages, NULL, NULL), 0);
    prun_stage_info info;
    siginfo_t si;
    ck_assert_int_eq(prun_pipeline_stage(pl, 0, &info), 0);
    ck_assert_int_eq(waitid(P_PID, (id_t)info.pid, &si, WEXITED | WNOWAIT), 0);
    ck_assert_int_eq(prun_reap_adopted(pl), 0);
    int status = -1;
    ck_assert_int_eq(prun_pipeline_wait(pl, 20000, &status), 0);
    ck_assert_int_eq(status, 5);
    prun_pipeline_free(pl);
}
END_TEST

/* In a forked helper run as root: two children started as root, then the
 * helper's real and effective uid dropped (the saved one kept, to come
 * back), then a child started as the new uid.  The root children may not
 * be signalled: they are skipped, and are an error only when they are all
 * there is, named in the sentence (the first, and how many others). */
static int refused_helper(void)
{
    char *argv[] = {"sleep", "100", NULL};
    prun_proc *root_child[2] = {NULL, NULL}, *own_child = NULL;
    char one[64];
    int r = 0;
    if (prun_popen(&root_child[0], argv, NULL) || prun_popen(&root_child[1], argv, NULL))
        return 2;
    snprintf(one, sizeof one, "cannot send signal 9 to process %d: ", (int)prun_pid(root_child[0]));
    if (setresuid(65534, 65534, 0) < 0)
        r = 3;
    else if (prun_popen(&own_child, argv, NULL))
        r = 4;
    else if (prun_signal_descendants(0) != 1)
        r = 5;
    else if (prun_kill(own_child) || th_returncode(own_child, 20000) != -SIGKILL)
        r = 6;
    else if (prun_signal_descendants(SIGKILL) != -EPERM ||
             !strstr(prun_last_error(), "cannot send signal 9 to process") ||
             !strstr(prun_last_error(), "or the 1 others below it: Operation not permitted"))
        r = 7;
    if (setresuid(0, 0, 0) < 0 && !r)
        r = 8;
    prun_kill(root_child[1]);  /* now one: the sentence names it alone */
    if (th_returncode(root_child[1], 20000) != -SIGKILL && !r)
        r = 9;
    if (!r && setresuid(65534, 65534, 0) < 0)
        r = 10;
    else if (!r && (prun_signal_descendants(SIGKILL) != -EPERM || !strstr(prun_last_error(), one)))
        r = 11;
    if (setresuid(0, 0, 0) < 0 && !r)
        r = 12;
    prun_kill(root_child[0]);
    if (th_returncode(root_child[0], 20000) != -SIGKILL && !r)
        r = 13;
    if (own_child) {  /* gone already, unless a step above failed */
        prun_kill(own_child);
        th_returncode(own_child, 20000);
    }
    prun_free(root_child[0]);
    prun_free(root_child[1]);
    prun_free(own_child);
    return r;
}

START_TEST(processes_it_may_not_signal_are_skipped)
{
    if (geteuid() != 0)
        return;  /* needs to make a child it may not signal */
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exit(refused_helper());
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "helper failed at step %d",
                  WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}
END_TEST

/* The first process of a new PID namespace, with its parent's /proc: the
 * numbers there are not its own, and both calls refuse. */
static int foreign_init(void)
{
    pid_t init = fork();
    if (init < 0)
        return 2;
    if (init == 0) {
        int sig = prun_signal_descendants(0), reap = prun_reap_adopted(NULL);
        exit(sig == -ENOTSUP && reap == -ENOTSUP && strstr(prun_last_error(), "PID namespace")
             ? 0 : 3);
    }
    int status;
    if (waitpid(init, &status, 0) != init || !WIFEXITED(status))
        return 4;
    return WEXITSTATUS(status);
}

static int foreign_proc_helper(void)
{
    int own = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
    if (own < 0)
        return 5;
    if (unshare(CLONE_NEWPID) < 0)
        return 100;  /* not allowed here: skipped */
    int r = foreign_init();
    /* Children in this process's own namespace again: LeakSanitizer's
     * tracer, cloned at exit, must see the process it stops. */
    if (setns(own, CLONE_NEWPID) < 0)
        return 6;
    close(own);
    return r;
}

START_TEST(a_foreign_proc_is_refused)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        exit(foreign_proc_helper());
    int status;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status));
    ck_assert_msg(WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 100,
                  "helper failed at step %d", WEXITSTATUS(status));
}
END_TEST

/* Any exited child that is not a stage of keep is reaped, keep NULL
 * included: here one the caller forked itself. */
START_TEST(reap_adopted_without_a_pipeline)
{
    fflush(NULL);
    pid_t pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0)
        _exit(0);
    siginfo_t si;
    ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);  /* a zombie now */
    ck_assert_int_eq(prun_reap_adopted(NULL), 1);
    ck_assert_int_eq(th_count_children(), 0);
    ck_assert_int_eq(prun_reap_adopted(NULL), 0);
}
END_TEST

/* Out of fds, /proc cannot be read: an error with its sentence, never a
 * count that would tell a supervisor nothing is left below it.  First no
 * fd at all (/proc itself), then one (/proc, but no /proc/PID/stat).
 * prun_reap_adopted reads its children files (/proc/PID/task/TID/children),
 * one at a time, after the task directory: one fd is all it needs, with
 * any number of threads (ThreadSanitizer has one of its own), and the
 * sleep is not to reap. */
START_TEST(unreadable_proc_is_an_error)
{
    int fds = th_count_fds();
    char *argv[] = {"sleep", "100", NULL};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, NULL);
    int lowest = open("/dev/null", O_RDONLY | O_CLOEXEC);  /* the next fd a call would get */
    ck_assert_int_ge(lowest, 0);
    close(lowest);
    struct rlimit old;
    ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
    int r[4];
    char said[4][256];
    for (int k = 0; k < 2; k++) {
        struct rlimit low = {(rlim_t)lowest + (rlim_t)k, old.rlim_max};
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
        r[2 * k] = prun_signal_descendants(0);
        snprintf(said[2 * k], sizeof said[0], "%s", prun_last_error());
        r[2 * k + 1] = prun_reap_adopted(NULL);
        snprintf(said[2 * k + 1], sizeof said[0], "%s", prun_last_error());
        ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
    }
    static const char *const want[4] = {"cannot read /proc: ", "cannot read /proc/",
                                        "cannot read /proc/", NULL};
    ck_assert_msg(r[3] == 0, "prun_reap_adopted with one fd: %d (%s)", r[3], said[3]);
    for (int i = 0; i < 3; i++) {
        ck_assert_msg(r[i] == -EMFILE, "call %d with fds exhausted: %d (%s)", i, r[i], said[i]);
        ck_assert_msg(strstr(said[i], want[i]) && strstr(said[i], "Too many open files"),
                      "call %d: the sentence \"%s\"", i, said[i]);
    }
    ck_assert_int_eq(prun_signal_descendants(0), 1);  /* with fds again, the sleep is there */
    ck_assert_int_eq(prun_kill(p), 0);
    ck_assert_int_eq(th_returncode(p, 20000), -SIGKILL);
    prun_free(p);
    th_assert_no_leaks(fds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("tree");
    TCase *tc = th_tcase(s, "tree", 60);
    tcase_add_test(tc, descendants_that_left_the_session);
    tcase_add_test(tc, no_descendants_no_signal);
    tcase_add_test(tc, subreaper_adopts_and_reaps);
    tcase_add_test(tc, reap_adopted_leaves_the_stages);
    tcase_add_test(tc, processes_it_may_not_signal_are_skipped);
    tcase_add_test(tc, a_foreign_proc_is_refused);
    tcase_add_test(tc, reap_adopted_without_a_pipeline);
    tcase_add_test(tc, unreadable_proc_is_an_error);
    return th_run_suite(s);
}
