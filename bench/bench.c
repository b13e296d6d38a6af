/* SPDX-License-Identifier: MIT */
/* bench.c - the benchmark's cases, measured for several contenders.
 *
 *   prun-bench list                         the case/contender pairs built in
 *   prun-bench CASE CONTENDER...            measure each, in this order
 *
 * Every contender runs in a fresh child process forked from this one (which
 * does nothing else), so no contender inflates another's peak RSS or warms
 * its caches; in the spawn cases each child grows its own resident memory
 * first (and in spawn-fds-* opens its extra fds).  The contenders "python"
 * and "python-creds" exec $BENCH_PYTHON $PYBENCH CASE STAMP_EXIT, which
 * measures the same case the same way.  bench/run.sh calls this once
 * per case and round, rotating the order, and takes the medians.
 *
 * The cases of issue 10: capture-256M (and raw-reused, the reused-buffer
 * loop, in every capture and round-trip case); capture-writes-1 and -64,
 * a child (bench/writer) that writes 1 or 64 bytes per write(2);
 * wait-any-1000 and wait-any-500-together, many children collected by
 * prun_wait_any or waitpid(-1); readline-1M, prun_readline over `seq
 * 1000000` against a line splitter of its own.
 *
 * A result line: "result CASE CONTENDER t_ms=T key=value...", where T is
 * the case's time (per call, per transfer, per wake-up or per batch of
 * children; lower is better), and cpu_ms, where there is one, the CPU
 * time (user + system) of the measuring process over the same span;
 * a contender that fails prints "failed CASE CONTENDER" instead.
 * BENCH_QUICK=1 in the environment shortens the per-process budgets.
 */
#include "bench.h"

#include <prun.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define KiB ((size_t)1024)
#define MiB (1024 * KiB)
#define GiB (1024 * MiB)

static const struct contender *const contenders[] = {
    &bench_libprun, &bench_raw, &bench_raw_reused, &bench_fork,
#ifdef BENCH_HAVE_GLIB
    &bench_glib_spawn_sync, &bench_glib_subprocess,
#endif
#ifdef BENCH_HAVE_LIBPIPELINE
    &bench_libpipeline,
#endif
#ifdef BENCH_HAVE_LIBUV
    &bench_libuv,
#endif
};
#define N_CONTENDERS (sizeof contenders / sizeof contenders[0])

/* Peers configure did not find: listed so the driver can say so. */
static const char *const missing_peers[] = {
#ifndef BENCH_HAVE_GLIB
    "glib (libglib2.0-dev)",
#endif
#ifndef BENCH_HAVE_LIBPIPELINE
    "libpipeline (libpipeline-dev)",
#endif
#ifndef BENCH_HAVE_LIBUV
    "libuv (libuv1-dev)",
#endif
    NULL,
};

/* ---- utilities shared with the contenders ---- */

int bench_fail(const char *what)
{
    fprintf(stderr, "prun-bench: %s: %s\n", what, errno ? strerror(errno) : "failed");
    return -1;
}

int64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int grow_buf_reserve(struct grow_buf *b, size_t want)
{
    if (b->cap - b->len >= want)
        return 0;
    size_t cap = b->cap ? b->cap : want;
    while (cap - b->len < want)
        cap *= 2;
    char *d = realloc(b->data, cap);
    if (!d)
        return -1;
    b->data = d;
    b->cap = cap;
    return 0;
}

int grow_buf_read(struct grow_buf *b, int fd, size_t chunk)
{
    if (grow_buf_reserve(b, chunk))
        return bench_fail("realloc");
    ssize_t got;
    do
        got = read(fd, b->data + b->len, chunk);
    while (got < 0 && errno == EINTR);
    if (got < 0)
        return bench_fail("read");
    b->len += (size_t)got;
    return got > 0;
}

int grow_buf_append(struct grow_buf *b, const char *data, size_t len)
{
    if (grow_buf_reserve(b, len))
        return bench_fail("realloc");
    memcpy(b->data + b->len, data, len);
    b->len += len;
    return 0;
}

int bench_creds_lookup(struct bench_creds *c)
{
    struct passwd pw, *found = NULL;
    char buf[16384];
    int r = getpwnam_r(BENCH_CREDS_USER, &pw, buf, sizeof buf, &found);
    if (!found) {
        errno = r;
        return bench_fail("getpwnam_r(" BENCH_CREDS_USER ")");
    }
    c->uid = pw.pw_uid;
    c->gid = pw.pw_gid;
    c->n_groups = (int)(sizeof c->groups / sizeof c->groups[0]);
    if (getgrouplist(pw.pw_name, pw.pw_gid, c->groups, &c->n_groups) < 0) {
        errno = ERANGE;
        return bench_fail("getgrouplist(" BENCH_CREDS_USER ")");
    }
    c->parent = getpid();
    return 0;
}

/* libprun's order: the limit, the umask, the groups, the gid, the uid,
 * then the parent-death signal (which a change of credentials clears),
 * and if the parent is already gone, that signal at once. */
int bench_creds_apply(const struct bench_creds *c)
{
    const struct rlimit no_core = {0, 0};
    if (setrlimit(RLIMIT_CORE, &no_core) < 0)
        return -1;
    umask(022);
    if (setgroups((size_t)c->n_groups, c->groups) < 0 || setgid(c->gid) < 0 || setuid(c->uid) < 0)
        return -1;
    if (prctl(PR_SET_PDEATHSIG, SIGTERM) < 0)
        return -1;
    if (getppid() != c->parent)
        raise(SIGTERM);
    return 0;
}

/* ---- measuring ---- */

static int quick(void)
{
    const char *q = getenv("BENCH_QUICK");
    return q && *q && strcmp(q, "0") != 0;
}

/* A field of /proc/self/status in KiB (VmRSS, VmHWM). */
static long status_kib(const char *field)
{
    FILE *f = fopen("/proc/self/status", "re");
    char line[256];
    long v = -1;
    size_t n = strlen(field);
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, field, n) == 0 && line[n] == ':') {
            v = strtol(line + n + 1, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static double hwm_mib(void)
{
    return status_kib("VmHWM") / 1024.0;
}

static double rss_mib(void)
{
    return status_kib("VmRSS") / 1024.0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static double ms_since(int64_t t0)
{
    return (double)(bench_now_ns() - t0) / 1e6;
}

/* The CPU time this process has used (user + system, RUSAGE_SELF: its
 * children's are not in it), in ms. */
static double cpu_ms(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
           (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

/* Grows this process's anonymous resident memory to about `target` bytes
 * of private, written pages, as a big program's heap would be (untouched
 * pages would cost a fork nothing).  MAP_POPULATE maps them all in one
 * call, which is much faster than a fault per page on some machines and
 * leaves the same state behind; the memset then writes them. */
static char *make_resident(size_t target, size_t *len)
{
    size_t now = (size_t)status_kib("RssAnon") * KiB;
    size_t n = target > now ? target - now : 1;
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    memset(p, 1, n);
    __asm__ volatile("" : : "r"(p) : "memory");  /* keep the stores */
    *len = n;
    return p;
}

/* Runs the command with stdout on /dev/null and waits: the tool cases. */
static int run_quietly(char *const argv[])
{
    posix_spawn_file_actions_t fa;
    pid_t pid;
    int status;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    int r = posix_spawn(&pid, argv[0], &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (r) {
        errno = r;
        return bench_fail(argv[0]);
    }
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return bench_fail("waitpid");
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        fprintf(stderr, "prun-bench: %s: status 0x%x\n", argv[0], status);
        return -1;
    }
    return 0;
}

/* The per-call median of `call(arg)`: one untimed warm-up call (the same
 * for every contender), then calls until max_calls or the time budget,
 * but at least min_calls. */
struct repeat {
    size_t min_calls, max_calls;
    double budget_ms;
};

static int repeat_median(int (*call)(const void *), const void *arg, struct repeat rep,
                         double *med, size_t *n_out)
{
    double *t = malloc(rep.max_calls * sizeof *t);
    size_t n = 0;
    int r = -1;
    if (!t || call(arg))
        goto out;
    int64_t start = bench_now_ns();
    while (n < rep.max_calls && (n < rep.min_calls || ms_since(start) < rep.budget_ms)) {
        int64_t t0 = bench_now_ns();
        if (call(arg))
            goto out;
        t[n++] = ms_since(t0);
    }
    *med = median(t, n);
    *n_out = n;
    r = 0;
out:
    free(t);
    return r;
}

/* ---- the cases ---- */

struct paths {
    char *head, *cat, *timeout, *sh;
    char *stamp_exit;  /* the wake-up case's child, next to prun-bench */
    const char *tool;  /* the prun tool, from $PRUN_TOOL */
    char *tiny_exit;   /* the child of spawn-tiny*, spawn-fds-*: bench/tiny-exit */
    char *writer;      /* the child of capture-writes-*: bench/writer */
    char *seq, *sleep; /* readline-1M's and wait-any-1000's children */
};

struct spawn_call {
    int (*spawn)(char *const argv[]);
    char *const *argv;
};

static int call_spawn(const void *arg)
{
    const struct spawn_call *s = arg;
    return s->spawn(s->argv);
}

static int case_spawn(const char *name, const struct contender *c, size_t resident)
{
    char *const argv[] = {(char *)"/bin/true", NULL};
    struct spawn_call call = {c->spawn, argv};
    struct repeat rep = quick() ? (struct repeat){5, 60, 300} : (struct repeat){10, 400, 1500};
    double med;
    size_t n, ballast_len;
    char *ballast = make_resident(resident, &ballast_len);
    if (!ballast)
        return bench_fail("mmap");
    double rss = rss_mib();
    int r = repeat_median(call_spawn, &call, rep, &med, &n);
    if (r == 0)
        printf("result %s %s t_ms=%.4f n=%zu rss_mib=%.0f\n", name, c->name, med, n, rss);
    munmap(ballast, ballast_len);
    return r;
}

/* Two things to time in turns, call by call, in one process (who goes
 * first alternates), after one untimed warm-up call each: both then see
 * the same load at the same moments, which separate processes a second
 * apart do not on a busy machine.  The per-call medians go to med[]. */
static int interleave(int (*call)(const void *), const void *const arg[2], struct repeat rep,
                      double med[2], size_t *n_out)
{
    double *t[2] = {malloc(rep.max_calls * sizeof(double)), malloc(rep.max_calls * sizeof(double))};
    size_t n = 0;
    int r = -1;
    if (!t[0] || !t[1] || call(arg[0]) || call(arg[1]))
        goto out;
    int64_t start = bench_now_ns();
    for (; n < rep.max_calls && (n < rep.min_calls || ms_since(start) < rep.budget_ms); n++)
        for (int k = 0; k < 2; k++) {
            int i = (int)((n + (size_t)k) % 2);
            int64_t t0 = bench_now_ns();
            if (call(arg[i]))
                goto out;
            t[i][n] = ms_since(t0);
        }
    med[0] = median(t[0], n);
    med[1] = median(t[1], n);
    *n_out = n;
    r = 0;
out:
    free(t[0]);
    free(t[1]);
    return r;
}

/* libprun and raw posix_spawn keep no global state, so they can share a
 * process and take turns.  (Not fork: after a fork every page the parent
 * writes takes a write-protect fault, which would charge the next call
 * for fork's work.) */
static int case_spawn_interleaved(const char *name, size_t resident, char *child)
{
    char *const argv[] = {child, NULL};
    struct spawn_call calls[2] = {{bench_libprun.spawn, argv}, {bench_raw.spawn, argv}};
    const char *const who[2] = {bench_libprun.name, bench_raw.name};
    const void *const arg[2] = {&calls[0], &calls[1]};
    struct repeat rep = quick() ? (struct repeat){5, 60, 600} : (struct repeat){10, 400, 3000};
    double med[2];
    size_t n, ballast_len;
    char *ballast = make_resident(resident, &ballast_len);
    if (!ballast)
        return bench_fail("mmap");
    double rss = rss_mib();
    int r = interleave(call_spawn, arg, rep, med, &n);
    for (int i = 0; r == 0 && i < 2; i++)
        printf("result %s %s t_ms=%.4f n=%zu rss_mib=%.0f\n", name, who[i], med[i], n, rss);
    munmap(ballast, ballast_len);
    return r;
}

/* spawn-fds-*: n more open fds in this process, not close-on-exec, as a
 * server with many connections has (opens of /dev/null, each a file of
 * its own), RLIMIT_NOFILE raised first to make room. */
static int hold_fds(int n)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)n + 256;
    if (n == 0)
        return 0;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return bench_fail("getrlimit");
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        if (rl.rlim_max < want)
            rl.rlim_max = want;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
            return bench_fail("setrlimit(RLIMIT_NOFILE)");
    }
    for (int i = 0; i < n; i++)
        if (open("/dev/null", O_RDONLY) < 0)
            return bench_fail("open(/dev/null)");
    return 0;
}

/* The spawn cases of issue 9, one contender (spawner) per process, as
 * case_spawn: the same budgets, the same ballast, then n_fds more fds. */
static int case_spawner(const char *name, const struct spawner *s, char *child, size_t resident,
                        int n_fds)
{
    char *const argv[] = {child, NULL};
    struct spawn_call call = {s->spawn, argv};
    struct repeat rep = quick() ? (struct repeat){5, 60, 300} : (struct repeat){10, 400, 1500};
    double med;
    size_t n, ballast_len;
    char *ballast = make_resident(resident, &ballast_len);
    if (!ballast)
        return bench_fail("mmap");
    double rss = rss_mib();
    int r = hold_fds(n_fds);
    if (r == 0)
        r = repeat_median(call_spawn, &call, rep, &med, &n);
    if (r == 0 && n_fds)
        printf("result %s %s t_ms=%.4f n=%zu rss_mib=%.0f fds=%d\n", name, s->name, med, n, rss, n_fds);
    else if (r == 0)
        printf("result %s %s t_ms=%.4f n=%zu rss_mib=%.0f\n", name, s->name, med, n, rss);
    munmap(ballast, ballast_len);
    return r;
}

static int all_zero(const char *data, size_t len)
{
    static const char zeros[64 * 1024];
    for (size_t off = 0; off < len; off += sizeof zeros) {
        size_t n = len - off < sizeof zeros ? len - off : sizeof zeros;
        if (memcmp(data + off, zeros, n) != 0)
            return 0;
    }
    return 1;
}

/* How a capture case is set up: SIZE bytes from `head -c SIZE /dev/zero`
 * (chunk 0), or from `bench/writer SIZE CHUNK`, a write(2) per CHUNK
 * bytes; only these contenders (NULL: every one with a capture). */
struct capture_with {
    size_t size;
    size_t chunk;
    const char *const *only;
};

static int case_capture(const char *name, const struct contender *c, const struct paths *pp,
                        const struct capture_with *w)
{
    const size_t size = w->size;
    char size_s[32], chunk_s[32];
    snprintf(size_s, sizeof size_s, "%zu", size);
    snprintf(chunk_s, sizeof chunk_s, "%zu", w->chunk);
    char *const head_argv[] = {pp->head, (char *)"-c", size_s, (char *)"/dev/zero", NULL};
    char *const writer_argv[] = {pp->writer, size_s, chunk_s, NULL};
    char *out = NULL;
    size_t len = 0;
    if (w->chunk && !pp->writer) {
        fprintf(stderr, "prun-bench: writer not found next to prun-bench (make writer)\n");
        return -1;
    }
    double cpu0 = cpu_ms();
    int64_t t0 = bench_now_ns();
    if (c->capture(w->chunk ? writer_argv : head_argv, &out, &len))
        return -1;
    double ms = ms_since(t0);
    double cpu = cpu_ms() - cpu0;
    double hwm = hwm_mib();
    /* g_spawn_sync cannot say how long its output is; its exit status was checked. */
    int ok = len == (size_t)-1 || (len == size && all_zero(out, len));
    free(out);
    if (!ok) {
        fprintf(stderr, "prun-bench: %s: wrong output (%zu bytes)\n", c->name, len);
        return -1;
    }
    printf("result %s %s t_ms=%.1f mb_s=%.0f hwm_mib=%.0f hwm_ratio=%.3f cpu_ms=%.1f\n", name,
           c->name, ms, (double)size / 1e3 / ms, hwm, hwm * (double)MiB / (double)size, cpu);
    return 0;
}

static int case_roundtrip(const char *name, const struct contender *c, const struct paths *pp)
{
    const size_t size = 256 * MiB;
    char *const argv[] = {pp->cat, NULL};
    char *in = malloc(size), *out = NULL;
    size_t len = 0;
    if (!in)
        return bench_fail("malloc");
    for (size_t i = 0; i < size; i++)  /* a 4 KiB pattern, repeated: pybench.py's too */
        in[i] = (char)(((uint32_t)(i % 4096) * 2654435761u) >> 13);
    double cpu0 = cpu_ms();
    int64_t t0 = bench_now_ns();
    int r = c->roundtrip(argv, in, size, &out, &len);
    double ms = ms_since(t0);
    double cpu = cpu_ms() - cpu0;
    double hwm = hwm_mib();
    if (r == 0 && (len != size || memcmp(in, out, size) != 0)) {
        fprintf(stderr, "prun-bench: %s: output differs from input (%zu bytes)\n", c->name, len);
        r = -1;
    }
    if (r == 0)
        printf("result %s %s t_ms=%.1f mb_s=%.0f hwm_mib=%.0f cpu_ms=%.1f\n", name, c->name, ms,
               (double)size / 1e3 / ms, hwm, cpu);
    free(in);
    free(out);
    return r;
}

struct counter {
    unsigned long long bytes;
};

static int count_output(void *userdata, int stream, const char *data, size_t len)
{
    (void)stream, (void)data;
    ((struct counter *)userdata)->bytes += len;
    return 0;
}

/* 4 GiB streamed through on_output: peak RSS must stay small. */
static int case_on_output(const char *name, const struct paths *pp)
{
    const unsigned long long size = 4 * (unsigned long long)GiB;
    char *const argv[] = {pp->head, (char *)"-c", (char *)"4294967296", (char *)"/dev/zero", NULL};
    struct counter count = {0};
    prun_opts o = {.stdout_io = PRUN_PIPE, .on_output = count_output, .userdata = &count};
    prun_result res;
    int64_t t0 = bench_now_ns();
    int r = prun_run(argv, &o, &res);
    double ms = ms_since(t0);
    prun_result_free(&res);
    if (r || res.returncode != 0 || count.bytes != size) {
        fprintf(stderr, "prun-bench: on_output: %s, %llu bytes\n", prun_strerror(r), count.bytes);
        return -1;
    }
    printf("result %s libprun t_ms=%.1f mb_s=%.0f hwm_mib=%.1f\n", name, ms,
           (double)size / 1e3 / ms, hwm_mib());
    return 0;
}

/* 4 GiB offered, max_output 1 MiB: PRUN_ETOOBIG at once, 1 MiB kept. */
static int case_max_output(const char *name, const struct paths *pp)
{
    char *const argv[] = {pp->head, (char *)"-c", (char *)"4294967296", (char *)"/dev/zero", NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE, .max_output = MiB};
    prun_result res;
    int64_t t0 = bench_now_ns();
    int r = prun_run(argv, &o, &res);
    double ms = ms_since(t0);
    int ok = r == PRUN_ETOOBIG && res.out.len == MiB && all_zero(res.out.data, res.out.len);
    prun_result_free(&res);
    if (!ok) {
        fprintf(stderr, "prun-bench: max_output: got %s\n", prun_strerror(r));
        return -1;
    }
    printf("result %s libprun t_ms=%.2f hwm_mib=%.1f\n", name, ms, hwm_mib());
    return 0;
}

/* Starts the stamp-exit child with stdout on a pipe, waits for it (with a
 * 10 s timeout for libprun, a plain blocking waitpid for raw), returns the
 * delay from the child's stamp to the wait's return in *ms. */
static int wake_once(const char *contender, const struct paths *pp, int life_ms, double *ms)
{
    char life[16];
    snprintf(life, sizeof life, "%d", life_ms);
    char *const argv[] = {pp->stamp_exit, life, NULL};
    prun_opts o = {.stdout_io = PRUN_PIPE};
    prun_proc *p;
    int rc, r;
    int64_t woke;
    char buf[32] = "";
    if ((r = prun_popen(&p, argv, &o))) {
        fprintf(stderr, "prun-bench: %s\n", prun_last_error());
        return -1;
    }
    if (strcmp(contender, "libprun") == 0) {
        r = prun_wait(p, 10000, &rc);
        woke = bench_now_ns();
    } else {
        int status;
        r = waitpid(prun_pid(p), &status, 0) < 0 ? -errno : 0;
        woke = bench_now_ns();
        rc = r == 0 && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    }
    ssize_t got = r == 0 ? read(prun_stdout(p), buf, sizeof buf - 1) : -1;
    prun_free(p);  /* after waitpid it finds the child gone: ECHILD, handled */
    if (r || rc != 0 || got <= 0)
        return bench_fail("stamp-exit child");
    *ms = (double)(woke - strtoll(buf, NULL, 10)) / 1e6;
    return 0;
}

static int case_wakeup(const char *name, const char *contender, const struct paths *pp)
{
    enum { MAX_WAKES = 12 };
    double lat[MAX_WAKES], worst = 0;
    size_t n = quick() ? 4 : MAX_WAKES;
    for (size_t i = 0; i < n; i++) {  /* lifetimes 20, 25, ... ms: the same for everyone */
        if (wake_once(contender, pp, 20 + 5 * (int)i, &lat[i]))
            return -1;
        if (lat[i] > worst)
            worst = lat[i];
    }
    printf("result %s %s t_ms=%.4f max_ms=%.4f n=%zu\n", name, contender, median(lat, n), worst, n);
    return 0;
}

static int call_quietly(const void *arg)
{
    return run_quietly((char *const *)arg);
}

/* The tool against its classic counterpart, in turns in one process:
 * external commands, so nothing of one can linger in the other. */
static int case_tool(const char *name, const struct paths *pp)
{
    char *const prun_true[] = {(char *)pp->tool, (char *)"--timeout", (char *)"5", (char *)"true", NULL};
    char *const timeout_true[] = {pp->timeout, (char *)"5", (char *)"true", NULL};
    char *const prun_pipe[] = {(char *)pp->tool, (char *)"yes", (char *)"|", (char *)"head",
                               (char *)"-c", (char *)"1073741824", NULL};
    char *const sh_pipe[] = {pp->sh, (char *)"-c", (char *)"yes | head -c 1073741824", NULL};
    int is_true = strcmp(name, "tool-true") == 0;
    const void *const arg[2] = {is_true ? prun_true : prun_pipe, is_true ? timeout_true : sh_pipe};
    const char *who[2] = {"prun", is_true ? "timeout" : "sh"};
    struct repeat rep = is_true ? (quick() ? (struct repeat){5, 60, 300} : (struct repeat){10, 300, 1500})
                                : (quick() ? (struct repeat){1, 1, 0} : (struct repeat){5, 5, 0});
    double med[2];
    size_t n;
    if (!pp->tool)
        return bench_fail("PRUN_TOOL is not set");
    if (interleave(call_quietly, arg, rep, med, &n))
        return -1;
    for (int i = 0; i < 2; i++)
        printf("result %s %s t_ms=%.4f n=%zu\n", name, who[i], med[i], n);
    return 0;
}

/* ---- the cases of issue 10: many children at once, lines ---- */

struct many_ops {
    int (*start)(char *const argv[], size_t n, int in_fd, int quiet, pid_t *pids, void **state);
    int (*collect)(void *state, size_t n);
    int (*read_lines)(char *const argv[], size_t *lines, size_t *bytes);
};

static const struct many_ops *ops_of(const char *contender)
{
    static const struct many_ops libprun = {bench_libprun_start_many, bench_libprun_collect_many,
                                            bench_libprun_readline};
    static const struct many_ops raw = {bench_raw_start_many, bench_raw_collect_many,
                                        bench_raw_readline};
    return strcmp(contender, "libprun") == 0 ? &libprun : strcmp(contender, "raw") == 0 ? &raw : NULL;
}

/* Room for n more fds (libprun holds a pidfd per child). */
static int room_for_fds(size_t n)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)n + 256;
    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return bench_fail("getrlimit");
    if (rl.rlim_cur >= want)
        return 0;
    rl.rlim_cur = want;
    if (rl.rlim_max < want)
        rl.rlim_max = want;
    return setrlimit(RLIMIT_NOFILE, &rl) < 0 ? bench_fail("setrlimit(RLIMIT_NOFILE)") : 0;
}

/* wait-any-1000: 1,000 `sleep 0.2` started one after the other, then
 * all collected (libprun: prun_wait_any over the array until -ECHILD,
 * then prun_free; raw: waitpid(-1) until ECHILD).  The time is the
 * whole batch, start to the last reap, and cpu_ms this process's CPU
 * over it; the start and collect phases are given apart too.  Starting
 * takes longer than 0.2 s, so the first children are gone before the
 * last ones start: the collector finds most of them exited and the rest
 * exiting one by one. */
static int case_wait_any(const char *name, const char *contender, const struct paths *pp)
{
    enum { N = 1000 };
    char *const argv[] = {pp->sleep, (char *)"0.2", NULL};
    const struct many_ops *ops = ops_of(contender);
    static pid_t pids[N];
    void *state = NULL;
    if (!pp->sleep)
        return bench_fail("sleep not found on PATH");
    if (room_for_fds(N))
        return -1;
    double c0 = cpu_ms();
    int64_t t0 = bench_now_ns();
    if (ops->start(argv, N, -1, 0, pids, &state))
        return -1;
    double c1 = cpu_ms();
    int64_t t1 = bench_now_ns();
    if (ops->collect(state, N))
        return -1;
    double c2 = cpu_ms();
    int64_t t2 = bench_now_ns();
    printf("result %s %s t_ms=%.1f cpu_ms=%.1f start_ms=%.1f collect_ms=%.1f start_cpu_ms=%.1f "
           "collect_cpu_ms=%.1f n=%d\n",
           name, contender, (double)(t2 - t0) / 1e6, c2 - c0, (double)(t1 - t0) / 1e6,
           (double)(t2 - t1) / 1e6, c1 - c0, c2 - c1, N);
    return 0;
}

/* Is pid asleep in a read of a pipe (or, where the kernel does not say
 * where a task sleeps, asleep at all)? */
static int blocked_in_pipe_read(pid_t pid)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "re");
    if (!f)
        return 0;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *close_paren = strrchr(buf, ')');
    if (!close_paren || close_paren[1] != ' ' || close_paren[2] != 'S')
        return 0;
    snprintf(path, sizeof path, "/proc/%d/wchan", (int)pid);
    if (!(f = fopen(path, "re")))
        return 1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    return n == 0 || strcmp(buf, "0") == 0 || strstr(buf, "pipe_read") != NULL;
}

/* wait-any-500-together: 500 `cat`s, stdin on one pipe whose only write
 * end this process holds, stdout on /dev/null.  Once every one of them
 * sleeps in its read, the write end is closed: all 500 see EOF and exit
 * at the same moment.  The time and cpu_ms are those of collecting them,
 * from that close to the last reap (and the frees). */
static int case_wait_together(const char *name, const char *contender, const struct paths *pp)
{
    enum { N = 500 };
    char *const argv[] = {pp->cat, NULL};
    const struct many_ops *ops = ops_of(contender);
    static pid_t pids[N];
    void *state = NULL;
    int p[2];
    if (room_for_fds(N))
        return -1;
    if (pipe2(p, O_CLOEXEC) < 0)
        return bench_fail("pipe2");
    if (ops->start(argv, N, p[0], 1, pids, &state))
        return -1;
    close(p[0]);
    int64_t wait0 = bench_now_ns();
    size_t ready = 0;
    while (ready < N && ms_since(wait0) < 30000) {
        for (ready = 0; ready < N && blocked_in_pipe_read(pids[ready]); ready++)
            ;
        if (ready < N) {
            struct timespec nap = {0, 20 * 1000000};
            nanosleep(&nap, NULL);
        }
    }
    if (ready < N)
        fprintf(stderr, "prun-bench: %s: only %zu of %d children asleep in read after 30 s\n",
                name, ready, N);
    double settle = ms_since(wait0);
    double c0 = cpu_ms();
    int64_t t0 = bench_now_ns();
    close(p[1]);
    if (ops->collect(state, N))
        return -1;
    double c1 = cpu_ms();
    printf("result %s %s t_ms=%.1f cpu_ms=%.1f settle_ms=%.0f n=%d\n", name, contender,
           ms_since(t0), c1 - c0, settle, N);
    return 0;
}

struct lines_call {
    int (*read_lines)(char *const argv[], size_t *lines, size_t *bytes);
    char *const *argv;
};

static int call_read_lines(const void *arg)
{
    const struct lines_call *a = arg;
    size_t lines, bytes;
    if (a->read_lines(a->argv, &lines, &bytes))
        return -1;
    /* seq 1000000: 9 lines of 2 bytes, 90 of 3, ..., 900,000 of 7, one of 8 */
    if (lines != 1000000 || bytes != 6888896) {
        fprintf(stderr, "prun-bench: readline: %zu lines, %zu bytes\n", lines, bytes);
        return -1;
    }
    return 0;
}

/* readline-1M: the lines of `seq 1000000`, one at a time: per-call
 * median over several runs (each a few tens of ms). */
static int case_readline(const char *name, const char *contender, const struct paths *pp)
{
    char *const argv[] = {pp->seq, (char *)"1000000", NULL};
    struct lines_call arg = {ops_of(contender)->read_lines, argv};
    struct repeat rep = quick() ? (struct repeat){3, 30, 300} : (struct repeat){10, 200, 2000};
    double med;
    size_t n;
    if (!pp->seq)
        return bench_fail("seq not found on PATH");
    double c0 = cpu_ms();
    if (repeat_median(call_read_lines, &arg, rep, &med, &n))
        return -1;
    /* the CPU per call: the mean over the calls (and the warm-up one) */
    printf("result %s %s t_ms=%.3f cpu_ms=%.3f n=%zu\n", name, contender, med,
           (cpu_ms() - c0) / (double)(n + 1), n);
    return 0;
}

/* ---- the table of cases ---- */

/* The contenders of the spawn cases of issue 9 (see bench.h). */
static int libprun_plain(char *const argv[])
{
    return bench_libprun.spawn(argv);
}

static int raw_plain(char *const argv[])
{
    return bench_raw.spawn(argv);
}

/* A tiny static child: the spawner's own cost, nearly alone. */
static const struct spawner tiny_spawners[] = {
    {"libprun", libprun_plain},
    {"raw", raw_plain},
    {"vfork", bench_vfork_spawn},
};
/* Extra fds held by the caller, streams inherited: both close them. */
static const struct spawner fds_spawners[] = {
    {"libprun", libprun_plain},
    {"raw-closefrom", bench_raw_closefrom_spawn},
};
/* The same with stdout on a pipe, whose end the child gets above them. */
static const struct spawner fds_pipe_spawners[] = {
    {"libprun", bench_libprun_pipe},
    {"raw-closefrom", bench_raw_closefrom_pipe},
};
/* user, umask, an rlimit and pdeathsig, against a plain libprun spawn
 * ("libprun", the reference of the ratio column). */
static const struct spawner creds_spawners[] = {
    {"libprun", libprun_plain},
    {"libprun-creds", bench_libprun_creds},
    {"fork-creds", bench_fork_creds},
#ifdef BENCH_HAVE_GLIB
    {"glib-child_setup", bench_glib_child_setup},
#endif
};
#define SPAWNERS(a) a, sizeof a / sizeof a[0]

/* The cases with the tiny child (spawn-tiny*, spawn-fds-*) run on the
 * CPU they started on, the children too (they inherit the affinity).  Unpinned, a guest's scheduler puts
 * the new child on the other, idle vCPU in some processes and not in
 * others, and waking a halted vCPU costs tens of microseconds: each
 * contender's median then jumps between about 0.05 and 0.15 ms from one
 * process to the next, whoever the spawner, which hides the spawner's own
 * work that these cases measure (BENCHMARKS.md). */
static int pin_to_this_cpu(void)
{
    cpu_set_t one;
    int cpu = sched_getcpu();
    CPU_ZERO(&one);
    CPU_SET(cpu < 0 ? 0 : cpu, &one);
    if (sched_setaffinity(0, sizeof one, &one) == 0)
        return 0;
    return bench_fail("sched_setaffinity");
}

/* How a spawn case of issue 9 is set up. */
struct spawn_with {
    const struct spawner *spawners; /* SPAWN_WITH: the contenders */
    size_t n_spawners;
    int tiny;                       /* the child is tiny-exit, not /bin/true */
    size_t resident;                /* the caller's resident memory */
    int n_fds;                      /* the extra fds it holds */
};
static const struct spawn_with tiny_with = {SPAWNERS(tiny_spawners), 1, 16 * MiB, 0};
static const struct spawn_with tiny_interleaved_with = {NULL, 0, 1, 16 * MiB, 0};
static const struct spawn_with fds_10_with = {SPAWNERS(fds_spawners), 1, 16 * MiB, 10};
static const struct spawn_with fds_15000_with = {SPAWNERS(fds_spawners), 1, 16 * MiB, 15000};
static const struct spawn_with fds_pipe_10_with = {SPAWNERS(fds_pipe_spawners), 1, 16 * MiB, 10};
static const struct spawn_with fds_pipe_15000_with = {SPAWNERS(fds_pipe_spawners), 1, 16 * MiB, 15000};
static const struct spawn_with creds_16M_with = {SPAWNERS(creds_spawners), 0, 16 * MiB, 0};
static const struct spawn_with creds_2G_with = {SPAWNERS(creds_spawners), 0, 2 * GiB, 0};

/* The capture cases: 1 GiB (issue 5) and 256 MiB of `head -c`, every
 * capture contender; 4 MiB in 1-byte writes and 128 MiB in 64-byte
 * writes (bench/writer), libprun against the two raw loops (issue 10). */
static const char *const writes_contenders[] = {"libprun", "raw", "raw-reused", NULL};
static const struct capture_with capture_1G = {GiB, 0, NULL};
static const struct capture_with capture_256M = {256 * MiB, 0, NULL};
static const struct capture_with capture_writes_1 = {4 * MiB, 1, writes_contenders};
static const struct capture_with capture_writes_64 = {128 * MiB, 64, writes_contenders};

enum kind {
    SPAWN, SPAWN_INTERLEAVED, CAPTURE, ROUNDTRIP, ON_OUTPUT, MAX_OUTPUT, WAKEUP, TOOL, SPAWN_WITH,
    MANY_ANY, MANY_TOGETHER, LINES,
};

static const struct bench_case {
    const char *name;
    enum kind kind;
    const char *extra[2];  /* the contenders that are not struct contenders */
    const struct spawn_with *with;  /* the spawn cases of issue 9, else NULL */
    const struct capture_with *cap; /* CAPTURE: its size, its child, its contenders */
} cases[] = {
    {"spawn-16M", SPAWN, {NULL, NULL}, NULL, NULL},
    {"spawn-2G", SPAWN, {NULL, NULL}, NULL, NULL},
    {"spawn-16M-interleaved", SPAWN_INTERLEAVED, {"libprun+raw", NULL}, NULL, NULL},
    {"spawn-2G-interleaved", SPAWN_INTERLEAVED, {"libprun+raw", NULL}, NULL, NULL},
    {"capture-1G", CAPTURE, {NULL, NULL}, NULL, &capture_1G},
    {"roundtrip-256M", ROUNDTRIP, {NULL, NULL}, NULL, NULL},
    {"bounded-on_output-4G", ON_OUTPUT, {"libprun", NULL}, NULL, NULL},
    {"bounded-max_output-1M", MAX_OUTPUT, {"libprun", NULL}, NULL, NULL},
    {"wakeup", WAKEUP, {"libprun", "raw"}, NULL, NULL},
    {"tool-true", TOOL, {"prun+timeout", NULL}, NULL, NULL},
    {"tool-pipe", TOOL, {"prun+sh", NULL}, NULL, NULL},
    {"spawn-tiny", SPAWN_WITH, {NULL, NULL}, &tiny_with, NULL},
    {"spawn-tiny-interleaved", SPAWN_INTERLEAVED, {"libprun+raw", NULL}, &tiny_interleaved_with, NULL},
    {"spawn-fds-10", SPAWN_WITH, {NULL, NULL}, &fds_10_with, NULL},
    {"spawn-fds-15000", SPAWN_WITH, {NULL, NULL}, &fds_15000_with, NULL},
    {"spawn-fds-pipe-10", SPAWN_WITH, {NULL, NULL}, &fds_pipe_10_with, NULL},
    {"spawn-fds-pipe-15000", SPAWN_WITH, {NULL, NULL}, &fds_pipe_15000_with, NULL},
    {"spawn-creds-16M", SPAWN_WITH, {NULL, NULL}, &creds_16M_with, NULL},
    {"spawn-creds-2G", SPAWN_WITH, {NULL, NULL}, &creds_2G_with, NULL},
    {"capture-256M", CAPTURE, {NULL, NULL}, NULL, &capture_256M},
    {"capture-writes-1", CAPTURE, {NULL, NULL}, NULL, &capture_writes_1},
    {"capture-writes-64", CAPTURE, {NULL, NULL}, NULL, &capture_writes_64},
    {"wait-any-1000", MANY_ANY, {"libprun", "raw"}, NULL, NULL},
    {"wait-any-500-together", MANY_TOGETHER, {"libprun", "raw"}, NULL, NULL},
    {"readline-1M", LINES, {"libprun", "raw"}, NULL, NULL},
};
#define N_CASES (sizeof cases / sizeof cases[0])

static int offers(const struct contender *c, const struct bench_case *bc)
{
    enum kind k = bc->kind;
    if (k == CAPTURE && bc->cap && bc->cap->only) {
        size_t i = 0;
        while (bc->cap->only[i] && strcmp(bc->cap->only[i], c->name) != 0)
            i++;
        if (!bc->cap->only[i])
            return 0;
    }
    return (k == SPAWN && c->spawn) || (k == CAPTURE && c->capture) || (k == ROUNDTRIP && c->roundtrip);
}

static void list(void)
{
    for (size_t i = 0; i < N_CASES; i++) {
        for (size_t j = 0; j < N_CONTENDERS; j++)
            if (offers(contenders[j], &cases[i]))
                printf("%s %s\n", cases[i].name, contenders[j]->name);
        for (size_t j = 0; cases[i].with && j < cases[i].with->n_spawners; j++)
            printf("%s %s\n", cases[i].name, cases[i].with->spawners[j].name);
        for (size_t j = 0; j < 2 && cases[i].extra[j]; j++)
            printf("%s %s\n", cases[i].name, cases[i].extra[j]);
    }
    for (size_t i = 0; missing_peers[i]; i++)
        printf("missing %s\n", missing_peers[i]);
}

/* The absolute path of a program on $PATH, so that every contender runs
 * the same file without searching (malloc'd; NULL if not found). */
static char *which(const char *name)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/bin:/usr/bin";
    for (const char *dir = path;; dir++) {
        const char *end = strchrnul(dir, ':');
        char *file;
        if (end > dir && asprintf(&file, "%.*s/%s", (int)(end - dir), dir, name) >= 0) {
            if (access(file, X_OK) == 0)
                return file;
            free(file);
        }
        if (!*end)
            return NULL;
        dir = end;
    }
}

/* A program in prun-bench's own directory (malloc'd; NULL if missing). */
static char *sibling(const char *name)
{
    char *self = realpath("/proc/self/exe", NULL), *file = NULL;
    char *slash = self ? strrchr(self, '/') : NULL;
    if (slash && asprintf(&file, "%.*s/%s", (int)(slash - self), self, name) >= 0 &&
        access(file, X_OK) != 0) {
        free(file);
        file = NULL;
    }
    free(self);
    return file;
}

static int run_case(const struct bench_case *bc, const char *contender, const struct paths *pp)
{
    const struct contender *c = NULL;
    for (size_t j = 0; j < N_CONTENDERS; j++)
        if (strcmp(contenders[j]->name, contender) == 0 && offers(contenders[j], bc))
            c = contenders[j];
    const struct spawner *s = NULL;
    const struct spawn_with *w = bc->with;
    for (size_t j = 0; w && j < w->n_spawners; j++)
        if (strcmp(w->spawners[j].name, contender) == 0)
            s = &w->spawners[j];
    int extra = (bc->extra[0] && strcmp(bc->extra[0], contender) == 0) ||
                (bc->extra[1] && strcmp(bc->extra[1], contender) == 0);
    if (!c && !s && !extra) {
        fprintf(stderr, "prun-bench: no contender '%s' in case '%s'\n", contender, bc->name);
        return -1;
    }
    char *child = w && w->tiny ? pp->tiny_exit : (char *)"/bin/true";
    if (!child) {
        fprintf(stderr, "prun-bench: tiny-exit not found next to prun-bench (make tiny-exit)\n");
        return -1;
    }
    size_t resident = w ? w->resident : strncmp(bc->name, "spawn-2G", 8) == 0 ? 2 * GiB : 16 * MiB;
    if (w && w->tiny && pin_to_this_cpu())
        return -1;
    switch (bc->kind) {
    case SPAWN: return case_spawn(bc->name, c, resident);
    case SPAWN_INTERLEAVED: return case_spawn_interleaved(bc->name, resident, child);
    case SPAWN_WITH: return case_spawner(bc->name, s, child, resident, w->n_fds);
    case CAPTURE: return case_capture(bc->name, c, pp, bc->cap);
    case ROUNDTRIP: return case_roundtrip(bc->name, c, pp);
    case ON_OUTPUT: return case_on_output(bc->name, pp);
    case MAX_OUTPUT: return case_max_output(bc->name, pp);
    case WAKEUP: return case_wakeup(bc->name, contender, pp);
    case TOOL: return case_tool(bc->name, pp);
    case MANY_ANY: return case_wait_any(bc->name, contender, pp);
    case MANY_TOGETHER: return case_wait_together(bc->name, contender, pp);
    case LINES: return case_readline(bc->name, contender, pp);
    }
    return -1;
}

/* Runs one contender in a fresh child and waits for it. */
static int run_forked(const struct bench_case *bc, const char *contender, const struct paths *pp)
{
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    if (pid < 0)
        return bench_fail("fork");
    if (pid == 0) {
        if (strcmp(contender, "python") == 0 || strcmp(contender, "python-creds") == 0) {
            const char *py = getenv("BENCH_PYTHON"), *script = getenv("PYBENCH");
            if (py && script)
                execl(py, py, script, bc->name, pp->stamp_exit, (char *)NULL);
            bench_fail("cannot run $BENCH_PYTHON $PYBENCH");
            _exit(1);
        }
        int r = run_case(bc, contender, pp);
        fflush(stdout);
        _exit(r == 0 ? 0 : 1);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return bench_fail("waitpid");
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static const struct bench_case *find_case(const char *name)
{
    for (size_t i = 0; i < N_CASES; i++)
        if (strcmp(cases[i].name, name) == 0)
            return &cases[i];
    return NULL;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "list") == 0) {
        list();
        return 0;
    }
    const struct bench_case *bc = argc >= 3 ? find_case(argv[1]) : NULL;
    if (!bc) {
        fprintf(stderr, "usage: prun-bench list | CASE CONTENDER...\n");
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct paths pp = {which("head"), which("cat"), which("timeout"), which("sh"),
                       sibling("stamp-exit"), getenv("PRUN_TOOL"), sibling("tiny-exit"),
                       sibling("writer"), which("seq"), which("sleep")};
    int ready = pp.head && pp.cat && pp.timeout && pp.sh && pp.stamp_exit, failed = !ready;
    if (!ready)
        fprintf(stderr, "prun-bench: head, cat, timeout, sh or stamp-exit not found\n");
    for (int i = 2; i < argc && ready; i++)
        if (run_forked(bc, argv[i], &pp)) {  /* reported; the other contenders still run */
            printf("failed %s %s\n", bc->name, argv[i]);
            failed = 1;
        }
    free(pp.head), free(pp.cat), free(pp.timeout), free(pp.sh), free(pp.stamp_exit), free(pp.tiny_exit);
    free(pp.writer), free(pp.seq), free(pp.sleep);
    return failed;
}
