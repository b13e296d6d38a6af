/* SPDX-License-Identifier: MIT */
/* test_stress.c - many spawns, one after another and from several threads
 * at once, each with pipes and communicate and its output compared; the
 * caller's fd count must be the same afterwards and no child may be left
 * (no fd leaked, no zombie).
 *
 * make check runs the short version (2,000 sequential spawns, 4 threads x
 * 200); PRUN_STRESS=long (make stress) the long one (100,000 sequential,
 * 16 threads x 2,000).
 */
#include "helpers.h"

#include <check.h>
#include <prun.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sizes {
    unsigned sequential, threads, per_thread;
};

static int long_run(void)
{
    const char *s = getenv("PRUN_STRESS");
    return s && strcmp(s, "long") == 0;
}

static struct sizes stress_sizes(void)
{
    return long_run() ? (struct sizes){100000, 16, 2000} : (struct sizes){2000, 4, 200};
}

/* What went wrong, for the thread that found it. */
struct failure {
    char msg[256];
};

static int report(struct failure *f, unsigned id, const char *what, int r)
{
    snprintf(f->msg, sizeof f->msg, "spawn %u: %s (%d: %s; %s)", id, what, r, prun_strerror(r),
             prun_last_error());
    return -1;
}

static int expect_output(struct failure *f, unsigned id, const prun_buf *got, const char *want)
{
    if (got->data && got->len == strlen(want) && memcmp(got->data, want, got->len) == 0)
        return 0;
    snprintf(f->msg, sizeof f->msg, "spawn %u: output '%.60s' (%zu bytes), expected '%s'", id,
             got->data ? got->data : "(null)", got->len, want);
    return -1;
}

/* prun_run: input through cat, stdout and stderr captured. */
static int run_cat(unsigned id, const char *line, struct failure *f)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.input = line, .input_len = strlen(line), .capture_output = 1};
    prun_result res;
    int r = prun_run(argv, &o, &res);
    if (r == 0 && res.returncode != 0)
        r = report(f, id, "cat's returncode", res.returncode);
    else if (r)
        report(f, id, "prun_run", r);
    else if (expect_output(f, id, &res.out, line) || expect_output(f, id, &res.err, ""))
        r = -1;
    prun_result_free(&res);
    return r;
}

/* prun_popen + prun_communicate: the output of echo, stdin left alone. */
static int popen_echo(unsigned id, const char *line, struct failure *f)
{
    char word[64];
    snprintf(word, sizeof word, "%.*s", (int)strcspn(line, "\n"), line);
    char *argv[] = {"/bin/echo", word, NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_proc *p;
    prun_buf out;
    int rc, r = prun_popen(&p, argv, &o);
    if (r)
        return report(f, id, "prun_popen", r);
    if ((r = prun_communicate(p, NULL, 0, PRUN_FOREVER, &out, NULL)))
        report(f, id, "prun_communicate", r);
    else if ((r = prun_wait(p, PRUN_FOREVER, &rc)) || rc != 0)
        r = report(f, id, "echo's returncode", r ? r : rc);
    else
        r = expect_output(f, id, &out, line);
    prun_buf_free(&out);
    prun_free(p);
    return r;
}

/* prun_popen with three different streams; communicate feeds cat. */
static int popen_cat(unsigned id, const char *line, struct failure *f)
{
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE, .stderr_io = PRUN_DEVNULL};
    prun_proc *p;
    prun_buf out, err;
    int r = prun_popen(&p, argv, &o);
    if (r)
        return report(f, id, "prun_popen", r);
    if ((r = prun_communicate(p, line, strlen(line), PRUN_FOREVER, &out, &err)))
        report(f, id, "prun_communicate", r);
    else if (err.data)
        r = report(f, id, "stderr was not a pipe but came back non-NULL", 0);
    else
        r = expect_output(f, id, &out, line);
    prun_buf_free(&out);
    prun_free(p);  /* waits for cat */
    return r;
}

/* One spawn; the three forms take turns.  `id` makes every output unique. */
static int one_spawn(unsigned id, struct failure *f)
{
    char line[64];
    snprintf(line, sizeof line, "stress-%u\n", id);
    switch (id % 3) {
    case 0: return run_cat(id, line, f);
    case 1: return popen_echo(id, line, f);
    default: return popen_cat(id, line, f);
    }
}

START_TEST(sequential_spawns)
{
    struct sizes sz = stress_sizes();
    struct failure f = {""};
    int fds = th_count_fds();
    for (unsigned i = 0; i < sz.sequential; i++)
        ck_assert_msg(one_spawn(i, &f) == 0, "%s", f.msg);
    th_assert_no_leaks(fds);
}
END_TEST

struct worker {
    pthread_t thread;
    unsigned first, count;
    unsigned done;
    struct failure f;
};

static void *work(void *arg)
{
    struct worker *w = arg;
    for (w->done = 0; w->done < w->count; w->done++)
        if (one_spawn(w->first + w->done, &w->f))
            break;
    return NULL;
}

START_TEST(threaded_spawns)
{
    struct sizes sz = stress_sizes();
    struct worker *w = calloc(sz.threads, sizeof *w);
    ck_assert_ptr_nonnull(w);
    int fds = th_count_fds();
    for (unsigned t = 0; t < sz.threads; t++) {
        w[t].first = t * sz.per_thread;
        w[t].count = sz.per_thread;
        ck_assert_int_eq(pthread_create(&w[t].thread, NULL, work, &w[t]), 0);
    }
    for (unsigned t = 0; t < sz.threads; t++)
        pthread_join(w[t].thread, NULL);
    for (unsigned t = 0; t < sz.threads; t++)
        ck_assert_msg(w[t].done == w[t].count, "thread %u: %s", t, w[t].f.msg);
    th_assert_no_leaks(fds);
    free(w);
}
END_TEST

/* ---- one handle, many threads ---- */

/* While one thread communicates with a child (8 MiB through cat), the
 * others poll it and signal it (signal 0, and SIGCONT, which cat
 * ignores), as the man page allows: the reaping and the signalling are
 * serialised inside the handle, and ThreadSanitizer must see no race. */
enum { SHARING_THREADS = 16, SHARED_INPUT = 8 << 20 };

struct sharer {
    pthread_t thread;
    prun_proc *p;
    _Atomic int *done;
    int polls, errors;
};

static void *poll_and_signal(void *arg)
{
    struct sharer *s = arg;
    while (!*s->done) {
        int rc;
        s->errors += prun_poll(s->p, &rc) < 0;
        s->errors += prun_send_signal(s->p, s->polls % 2 ? 0 : SIGCONT) != 0;
        s->polls++;
    }
    return NULL;
}

START_TEST(threads_share_one_handle)
{
    int fds = th_count_fds();
    char *in = malloc(SHARED_INPUT);
    ck_assert_ptr_nonnull(in);
    for (size_t i = 0; i < SHARED_INPUT; i++)
        in[i] = (char)(i * 13 + i / 4096);
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE, .stdout_io = PRUN_PIPE};
    prun_proc *p;
    TH_POPEN_OK(&p, argv, &o);
    _Atomic int done = 0;
    struct sharer sh[SHARING_THREADS];
    for (int t = 0; t < SHARING_THREADS; t++) {
        sh[t] = (struct sharer){.p = p, .done = &done};
        ck_assert_int_eq(pthread_create(&sh[t].thread, NULL, poll_and_signal, &sh[t]), 0);
    }
    prun_buf out;
    int r = prun_communicate(p, in, SHARED_INPUT, 120000, &out, NULL);
    done = 1;
    int polls = 0;
    for (int t = 0; t < SHARING_THREADS; t++) {
        pthread_join(sh[t].thread, NULL);
        ck_assert_int_eq(sh[t].errors, 0);
        polls += sh[t].polls;
    }
    ck_assert_int_eq(r, 0);
    ck_assert_uint_eq(out.len, SHARED_INPUT);
    ck_assert(memcmp(out.data, in, SHARED_INPUT) == 0);
    ck_assert_int_eq(th_returncode(p, 10000), 0);
    ck_assert_int_gt(polls, SHARING_THREADS);
    prun_buf_free(&out);
    prun_free(p);
    free(in);
    th_assert_no_leaks(fds);
}
END_TEST

/* Sixteen threads, each spawning and communicating with its own
 * children, while also signalling and polling a handle they share. */
struct mixed {
    pthread_t thread;
    prun_proc *shared;
    struct failure f;
    unsigned first, done;
};

static void *spawn_and_share(void *arg)
{
    struct mixed *m = arg;
    for (m->done = 0; m->done < 40; m->done++) {
        if (one_spawn(m->first + m->done, &m->f))
            break;
        int rc;
        prun_poll(m->shared, &rc);
        prun_send_signal(m->shared, 0);
    }
    return NULL;
}

START_TEST(sixteen_threads_spawn_and_share)
{
    int fds = th_count_fds();
    char *argv[] = {"cat", NULL};
    prun_opts o = {.stdin_io = PRUN_PIPE};
    prun_proc *shared;
    TH_POPEN_OK(&shared, argv, &o);
    struct mixed m[SHARING_THREADS];
    for (unsigned t = 0; t < SHARING_THREADS; t++) {
        m[t] = (struct mixed){.shared = shared, .first = t * 40};
        ck_assert_int_eq(pthread_create(&m[t].thread, NULL, spawn_and_share, &m[t]), 0);
    }
    for (unsigned t = 0; t < SHARING_THREADS; t++) {
        pthread_join(m[t].thread, NULL);
        ck_assert_msg(m[t].done == 40, "thread %u: %s", t, m[t].f.msg);
    }
    ck_assert_int_eq(prun_close_stream(shared, 0), 0);  /* cat sees EOF and exits */
    ck_assert_int_eq(th_returncode(shared, 10000), 0);
    prun_free(shared);
    th_assert_no_leaks(fds);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("stress");
    /* Minutes on a slow machine under ASan; the long run has no bound. */
    TCase *tc = th_tcase(s, long_run() ? "long" : "short", 600);
    if (long_run())
        tcase_set_timeout(tc, 0);
    tcase_add_test(tc, sequential_spawns);
    tcase_add_test(tc, threaded_spawns);
    tcase_add_test(tc, threads_share_one_handle);
    tcase_add_test(tc, sixteen_threads_spawn_and_share);
    return th_run_suite(s);
}
