/* SPDX-License-Identifier: MIT */
/* peer_glib.c - GLib: g_spawn_sync(), the classic call, and GSubprocess,
 * the newer one with g_subprocess_communicate(); for the spawn-creds
 * cases, g_spawn_sync() with the options set in a child_setup function
 * (GLib's way to run code in the child, which makes it fork). */
#include "bench.h"

#include <gio/gio.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static int report(const char *what, GError *err)
{
    fprintf(stderr, "%s: %s\n", what, err ? err->message : "failed");
    if (err)
        g_error_free(err);
    return -1;
}

static int spawn_sync_spawn(char *const argv[])
{
    GError *err = NULL;
    gint status;
    if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, NULL, NULL,
                      &status, &err))
        return report("g_spawn_sync", err);
    if (!g_spawn_check_wait_status(status, &err))
        return report("g_spawn_sync", err);
    return 0;
}

/* g_spawn_sync gives stdout as a string, without its length: the caller
 * of this one gets the bytes up to the first NUL, so the case checks the
 * exit status rather than the length. */
static int spawn_sync_capture(char *const argv[], char **out, size_t *len)
{
    GError *err = NULL;
    gchar *data = NULL;
    gint status;
    if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, &data, NULL,
                      &status, &err))
        return report("g_spawn_sync", err);
    if (!g_spawn_check_wait_status(status, &err)) {
        g_free(data);
        return report("g_spawn_sync", err);
    }
    *out = data;
    *len = (size_t)-1;  /* unknown: see above */
    return 0;
}

static int subprocess_run(char *const argv[], GSubprocessFlags flags, GBytes *in, char **out,
                          size_t *len)
{
    GError *err = NULL;
    GBytes *got = NULL;
    GSubprocess *sp = g_subprocess_newv((const gchar *const *)argv, flags, &err);
    if (!sp)
        return report("g_subprocess_newv", err);
    if (!g_subprocess_communicate(sp, in, NULL, out ? &got : NULL, NULL, &err)) {
        g_object_unref(sp);
        return report("g_subprocess_communicate", err);
    }
    int ok = g_subprocess_get_successful(sp);
    g_object_unref(sp);
    if (out) {
        gsize n = 0;
        *out = g_bytes_unref_to_data(got, &n);  /* takes the buffer over when it can */
        *len = n;
    }
    return ok ? 0 : bench_fail("child failed");
}

static int subprocess_capture(char *const argv[], char **out, size_t *len)
{
    return subprocess_run(argv, G_SUBPROCESS_FLAGS_STDOUT_PIPE, NULL, out, len);
}

static int subprocess_roundtrip(char *const argv[], const char *in, size_t in_len, char **out,
                                size_t *len)
{
    GBytes *bytes = g_bytes_new_static(in, in_len);
    int r = subprocess_run(argv, G_SUBPROCESS_FLAGS_STDIN_PIPE | G_SUBPROCESS_FLAGS_STDOUT_PIPE,
                           bytes, out, len);
    g_bytes_unref(bytes);
    return r;
}

/* In the forked child, before the exec: a failure exits 127, which the
 * status check below reports. */
static void creds_setup(gpointer data)
{
    if (bench_creds_apply(data))
        _exit(127);
}

int bench_glib_child_setup(char *const argv[])
{
    GError *err = NULL;
    struct bench_creds c;
    gint status;
    if (bench_creds_lookup(&c))
        return -1;
    if (!g_spawn_sync(NULL, (gchar **)argv, NULL, G_SPAWN_DEFAULT, creds_setup, &c, NULL, NULL,
                      &status, &err))
        return report("g_spawn_sync", err);
    if (!g_spawn_check_wait_status(status, &err))
        return report("g_spawn_sync", err);
    return 0;
}

const struct contender bench_glib_spawn_sync = {"glib-spawn_sync", spawn_sync_spawn,
                                                spawn_sync_capture, NULL};
const struct contender bench_glib_subprocess = {"glib-GSubprocess", NULL, subprocess_capture,
                                                subprocess_roundtrip};
