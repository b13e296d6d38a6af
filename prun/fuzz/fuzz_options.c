/* SPDX-License-Identifier: MIT */
/* fuzz_options.c - libFuzzer target for the option parsers of parse.c:
 * signal lists, --umask, --rlimit, --groups, and -s's signal 0.
 * Oracles: what is accepted is in range and reads back the same when
 * written out again; what is refused points into the input. */
#include "parse.h"

#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

static void signal_lists(const char *text, size_t size)
{
    sig_bits set, again;
    size_t at, len;
    if (parse_signal_list(text, &set, &at, &len) == 0) {
        char *out = malloc(16 * 64 + 1), name[16];
        out[0] = '\0';
        for (int sig = 1; sig <= 64; sig++)
            if (set & SIG_BIT(sig)) {
                CHECK(sig <= SIGRTMAX);
                strcat(out, ",");
                strcat(out, signal_name(sig, name, sizeof name));
            }
        CHECK(parse_signal_list(out, &again, &at, &len) == 0 && again == set);
        free(out);
    } else {
        CHECK(at <= size && len <= size - at);
        CHECK(memchr(text + at, ',', len) == NULL);
    }
}

static void umasks(const char *text)
{
    unsigned mode, again;
    char buf[8];
    if (parse_umask(text, &mode) == 0) {
        CHECK(mode <= 0777);
        snprintf(buf, sizeof buf, "%o", mode);
        CHECK(parse_umask(buf, &again) == 0 && again == mode);
    }
}

static void limit_text(char *buf, unsigned long long v)
{
    if (v == (unsigned long long)RLIM_INFINITY)
        strcpy(buf, "unlimited");
    else
        sprintf(buf, "%llu", v);
}

static void rlimits(const char *text, size_t size)
{
    struct rlimit_spec r, again;
    enum rlimit_status st;
    size_t at, len;
    if (parse_rlimit(text, &r, &st, &at, &len) == 0) {
        CHECK(st == RLIMIT_SPEC_OK && rlimit_name(r.resource));
        CHECK(r.keep_soft || r.keep_hard || r.hard == (unsigned long long)RLIM_INFINITY ||
              r.soft <= r.hard);
        char out[96], soft[24] = "", hard[24] = "";
        if (!r.keep_soft)
            limit_text(soft, r.soft);
        if (!r.keep_hard)
            limit_text(hard, r.hard);
        snprintf(out, sizeof out, "%s=%s:%s", rlimit_name(r.resource), soft, hard);
        CHECK(parse_rlimit(out, &again, &st, &at, &len) == 0);
        CHECK(again.resource == r.resource && again.keep_soft == r.keep_soft &&
              again.keep_hard == r.keep_hard);
        CHECK(r.keep_soft || again.soft == r.soft);
        CHECK(r.keep_hard || again.hard == r.hard);
    } else {
        CHECK(st != RLIMIT_SPEC_OK && at <= size && len <= size - at);
    }
}

static void group_lists(const char *text, size_t size)
{
    char **v;
    size_t bad;
    if (parse_group_list(text, &v, &bad) == 0) {
        char *out = malloc(size + 2);
        out[0] = '\0';
        for (size_t i = 0; v[i]; i++) {
            CHECK(v[i][0] != '\0' && !strchr(v[i], ','));
            if (i)
                strcat(out, ",");
            strcat(out, v[i]);
        }
        CHECK(strcmp(out, text) == 0);
        free(out);
        free(v);
    } else {
        CHECK(bad == (size_t)-1 || bad <= size);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = '\0';
    size = strlen(text);  /* what a command line can hold */
    int sig;
    if (parse_timeout_signal(text, &sig) == 0)
        CHECK(sig >= 0 && sig <= SIGRTMAX);
    signal_lists(text, size);
    umasks(text);
    rlimits(text, size);
    group_lists(text, size);
    free(text);
    return 0;
}
