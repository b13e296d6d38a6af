/* SPDX-License-Identifier: MIT */
/* app.c - the smallest program built against an installed libprun:
 * built by make installcheck with pkg-config and with CMake. */
#include <prun.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
    char *argv[] = {"echo", "installed", NULL};
    prun_opts opts = {.stdout_io = PRUN_PIPE};
    prun_result res;
    int err = prun_run(argv, &opts, &res);
    if (err < 0) {
        fprintf(stderr, "%s\n", prun_last_error());
        return 1;
    }
    int ok = res.returncode == 0 && strcmp(res.out.data, "installed\n") == 0 &&
             strcmp(prun_version(), PRUN_VERSION) == 0;
    printf("%s: libprun %s, %s", ok ? "ok" : "wrong", prun_version(), res.out.data);
    prun_result_free(&res);
    return ok ? 0 : 1;
}
