/* SPDX-License-Identifier: MIT */
/* peer_libpipeline.c - libpipeline (man-db's): pipeline_run() to spawn,
 * pipeline_read() in 64 KiB requests into a doubling buffer to capture. */
#include "bench.h"

#include <pipeline.h>
#include <stdlib.h>

enum { CHUNK = 64 * 1024 };

static pipeline *new_pipeline(char *const argv[])
{
    pipecmd *cmd = pipecmd_new(argv[0]);
    for (size_t i = 1; argv[i]; i++)
        pipecmd_arg(cmd, argv[i]);
    return pipeline_new_commands(cmd, (void *)0);
}

static int libpipeline_spawn(char *const argv[])
{
    return pipeline_run(new_pipeline(argv)) == 0 ? 0 : bench_fail("child failed");
}

static int libpipeline_capture(char *const argv[], char **out, size_t *len)
{
    pipeline *p = new_pipeline(argv);
    struct grow_buf b = {0};
    int r = 0;
    pipeline_want_out(p, -1);
    pipeline_start(p);
    for (;;) {
        size_t n = CHUNK;
        const char *data = pipeline_read(p, &n);
        if (!data || n == 0)
            break;
        if ((r = grow_buf_append(&b, data, n)))
            break;
    }
    int status = pipeline_wait(p);
    pipeline_free(p);
    if (r || status != 0) {
        free(b.data);
        return bench_fail("libpipeline capture");
    }
    *out = b.data;
    *len = b.len;
    return 0;
}

const struct contender bench_libpipeline = {"libpipeline", libpipeline_spawn, libpipeline_capture,
                                            NULL};
