/* prun.c - placeholder until the tool's issue lands. */
#include <prun.h>
#include <stdio.h>

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: prun COMMAND [ARG]...\n");
        return 125;
    }
    int rc;
    int r = prun_call(argv + 1, NULL, &rc);
    if (r < 0 && r != PRUN_ECHECK) {
        fprintf(stderr, "prun: %s\n", prun_last_error());
        return r == -2 ? 127 : 126;
    }
    return rc < 0 ? 128 - rc : rc;
}
