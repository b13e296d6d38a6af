/* SPDX-License-Identifier: MIT */
/* peer_libuv.c - libuv: uv_spawn() on the default loop, run until the
 * exit callback has closed the handle. */
#include "bench.h"

#include <stdio.h>
#include <uv.h>

static void on_exit_cb(uv_process_t *proc, int64_t status, int sig)
{
    *(int *)proc->data = status == 0 && sig == 0 ? 0 : -1;
    uv_close((uv_handle_t *)proc, NULL);
}

static int libuv_spawn(char *const argv[])
{
    uv_loop_t *loop = uv_default_loop();
    uv_process_t proc;
    int result = -1;
    uv_stdio_container_t stdio[3] = {
        {.flags = UV_INHERIT_FD, .data.fd = 0},
        {.flags = UV_INHERIT_FD, .data.fd = 1},
        {.flags = UV_INHERIT_FD, .data.fd = 2},
    };
    uv_process_options_t opts = {
        .exit_cb = on_exit_cb, .file = argv[0], .args = (char **)argv,
        .stdio_count = 3, .stdio = stdio,
    };
    proc.data = &result;
    int r = uv_spawn(loop, &proc, &opts);
    if (r) {
        fprintf(stderr, "uv_spawn: %s\n", uv_strerror(r));
        uv_close((uv_handle_t *)&proc, NULL);
        uv_run(loop, UV_RUN_DEFAULT);
        return -1;
    }
    uv_run(loop, UV_RUN_DEFAULT);
    return result;
}

const struct contender bench_libuv = {"libuv", libuv_spawn, NULL, NULL};
