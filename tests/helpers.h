/* SPDX-License-Identifier: MIT */
/* helpers.h - small utilities shared by the Check suites. */
#ifndef PRUN_TEST_HELPERS_H
#define PRUN_TEST_HELPERS_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/types.h>

#include "prun.h"

/* prun_popen that must succeed; a failure shows the library's message. */
#define TH_POPEN_OK(...)                                                           \
    do {                                                                           \
        int r_ = prun_popen(__VA_ARGS__);                                          \
        ck_assert_msg(r_ == 0, "prun_popen: %d (%s)", r_, prun_last_error());     \
    } while (0)

/* A prun_buf holds exactly the string s: its length, its bytes, and the
 * terminating NUL that prun_buf promises (garbage after an empty read
 * would otherwise make a confusing string comparison). */
#define th_assert_buf_eq(b, s)                                                        \
    do {                                                                              \
        const prun_buf *b_ = &(b);                                                    \
        const char *s_ = (s);                                                         \
        ck_assert_msg(b_->data != NULL, "%s.data is NULL, expected \"%s\"", #b, s_);   \
        ck_assert_msg(b_->len == strlen(s_), "%s.len is %zu, expected %zu", #b, b_->len, \
                      strlen(s_));                                                    \
        ck_assert_msg(memcmp(b_->data, s_, b_->len) == 0, "%s is \"%.*s\", expected \"%s\"", \
                      #b, (int)(b_->len > 200 ? 200 : b_->len), b_->data, s_);        \
        ck_assert_msg(b_->data[b_->len] == '\0', "%s.data is not NUL-terminated", #b); \
    } while (0)

/* call fails with err and a sentence of its own containing want: a known
 * sentence is planted first, so that a stale one cannot pass. */
#define TH_EXPECT_FAIL(call, err, want)                                                  \
    do {                                                                                 \
        prun_pipeline_stage(NULL, 12345, NULL); /* "prun_pipeline_stage: no stage 12345" */\
        long r_ = (long)(call);                                                          \
        const char *e_ = prun_last_error();                                              \
        ck_assert_msg(r_ == (long)(err), "%s: %ld, expected %ld (%s)", #call, r_,        \
                      (long)(err), e_);                                                  \
        ck_assert_msg(strstr(e_, (want)) && !strstr(e_, "no stage 12345"),               \
                      "%s: the sentence \"%s\" lacks \"%s\"", #call, e_, (want));        \
    } while (0)

/* Waits up to timeout_ms for p to exit, which it must, and returns its
 * returncode.  Inline so that this library stays below libprun when
 * linking. */
static inline int th_returncode(prun_proc *p, int timeout_ms)
{
    int rc = 12345;
    int r = prun_wait(p, timeout_ms, &rc);
    ck_assert_msg(r == 0, "prun_wait: %d (%s)", r, prun_strerror(r));
    return rc;
}

int th_count_fds(void);          /* entries in /proc/self/fd (minus the one used to list it) */
int th_count_children(void);     /* processes whose parent is us, zombies included */
int64_t th_now_ms(void);         /* CLOCK_MONOTONIC */
char *th_read_all(int fd, size_t *len);                 /* to EOF; NUL-terminated; free() */
char *th_read_file(const char *path, size_t *len);      /* whole file; NUL-terminated; free() */
void th_write_file(const char *path, const char *data, mode_t mode);
char *th_mkdtemp(void);          /* a new directory under $TMPDIR or /tmp; free() the name */
void th_rm_rf(const char *dir);
int th_write_all(int fd, const char *s);                /* 0, or -1 on a failed write */
int th_wait_gone(pid_t pid, int ms);  /* a process, not necessarily our child: 1 gone, 0 not */
void th_assert_no_leaks(int fds_before);  /* as many fds as before, and no children */

/* A seccomp filter on this process and its children: the system calls
 * nrs[0..n) fail with err.  0, or -1 (the filter cannot be installed). */
int th_deny_syscalls(const long *nrs, size_t n, int err);

/* Whether the kernel keeps the exit status of a child reaped by someone
 * else for its pidfds (PIDFD_INFO_EXIT, Linux 6.15). */
int th_kernel_keeps_exit_status(void);
/* Root without the capabilities caps[0..n), the permitted set too: root's
 * ordinary refusals, while the uid (and with it the coverage counters'
 * files, which a process running as nobody cannot write) stays 0.
 * 0 or -1. */
int th_drop_caps(const int *caps, size_t n);

/* Whether this run is the one on the fallback engine (th_run_suite runs
 * every suite twice: on clone3, then with clone3 refused). */
int th_fallback(void);

/* A test case of s with a timeout in seconds (TH_CHECK_TIMEOUT: Check's
 * default, which CK_DEFAULT_TIMEOUT sets). */
enum { TH_CHECK_TIMEOUT = 0 };
TCase *th_tcase(Suite *s, const char *name, int timeout);
/* Runs and frees s: EXIT_SUCCESS or EXIT_FAILURE.  Then, unless
 * PRUN_TEST_ONE_ENGINE is set, the whole program once more on the
 * fallback engine, in a fresh process. */
int th_run_suite(Suite *s);

#endif
