/* SPDX-License-Identifier: MIT */
/* fuzz_signal.c - libFuzzer target for parse_signal and signal_name
 * (parse.c).  Oracles: an accepted name is a real signal, its printed
 * name parses back to it, and case and the SIG prefix do not matter. */
#include "parse.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1), name[16], prefixed[24];
    memcpy(text, data, size);
    text[size] = '\0';
    int sig, again;
    if (parse_signal(text, &sig) == 0) {
        CHECK(sig >= 1 && sig <= SIGRTMAX);
        signal_name(sig, name, sizeof name);
        CHECK(parse_signal(name, &again) == 0 && again == sig);
        snprintf(prefixed, sizeof prefixed, "sig%s", name);
        if (name[0] < '0' || name[0] > '9')
            CHECK(parse_signal(prefixed, &again) == 0 && again == sig);
    }
    free(text);
    return 0;
}
