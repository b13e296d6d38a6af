/* SPDX-License-Identifier: MIT */
/* fuzz_duration.c - libFuzzer target for parse_duration (parse.c).
 * Oracles: an accepted DURATION is a non-negative number, starts with a
 * digit or '.', and means the same in every unit it can be written in. */
#include "parse.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* Equal but for rounding; subnormal values keep too few bits to compare. */
static int same(double a, double b)
{
    return a == b || (fabs(a) < 1e-290 && fabs(b) < 1e-290) || fabs(a - b) <= 1e-12 * fmax(fabs(a), fabs(b)) || (isinf(a) && isinf(b));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 3);
    memcpy(text, data, size);
    text[size] = '\0';
    double seconds, again;
    if (parse_duration(text, &seconds) == 0) {
        CHECK(!isnan(seconds) && seconds >= 0);
        CHECK((text[0] >= '0' && text[0] <= '9') || text[0] == '.');
        size_t len = strlen(text);
        char last = len ? text[len - 1] : 0;
        if (last >= '0' && last <= '9') {  /* no unit: seconds, as with "s" */
            memcpy(text + len, "s", 2);
            CHECK(parse_duration(text, &again) == 0 && same(seconds, again));
            memcpy(text + len, "ms", 3);
            CHECK(parse_duration(text, &again) == 0 && same(seconds, again * 1000));
        }
    }
    free(text);
    return 0;
}
