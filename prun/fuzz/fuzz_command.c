/* SPDX-License-Identifier: MIT */
/* fuzz_command.c - libFuzzer target for the -c splitter (parse.c).
 * Oracle: a successful split, re-quoted word by word with '...' and
 * joined with blanks and '|', must split back to the same pipeline. */
#include "parse.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond) do { if (!(cond)) abort(); } while (0)

/* 'it'\''s' : each ' becomes '\'' */
static size_t quote_word(const char *w, char *out)
{
    size_t n = 0;
    out[n++] = '\'';
    for (; *w; w++) {
        if (*w == '\'') {
            memcpy(out + n, "'\\''", 4);
            n += 4;
        } else
            out[n++] = *w;
    }
    out[n++] = '\'';
    return n;
}

static char *join(const struct cmd_pipeline *pl, size_t size)
{
    char *line = malloc(9 * size + 8), *p = line;
    for (size_t i = 0; i < pl->n_stages; i++) {
        if (i)
            p += sprintf(p, " | ");
        for (char *const *w = pl->stages[i]; *w; w++) {
            if (w != pl->stages[i])
                *p++ = ' ';
            p += quote_word(*w, p);
        }
    }
    *p = '\0';
    return line;
}

static void check_same(const struct cmd_pipeline *a, const struct cmd_pipeline *b)
{
    CHECK(a->n_stages == b->n_stages);
    for (size_t i = 0; i < a->n_stages; i++) {
        size_t j = 0;
        for (; a->stages[i][j]; j++)
            CHECK(b->stages[i][j] && strcmp(a->stages[i][j], b->stages[i][j]) == 0);
        CHECK(!b->stages[i][j]);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    memcpy(line, data, size);
    line[size] = '\0';
    struct cmd_pipeline pl, again;
    struct split_error err;
    if (split_command(line, &pl, &err) == 0) {
        CHECK(pl.n_stages >= 1);
        for (size_t i = 0; i < pl.n_stages; i++)
            CHECK(pl.stages[i][0] != NULL);
        char *requoted = join(&pl, size);
        CHECK(split_command(requoted, &again, &err) == 0);
        check_same(&pl, &again);
        cmd_pipeline_free(&again);
        free(requoted);
        cmd_pipeline_free(&pl);
    } else {
        char msg[256];
        CHECK(err.status != SPLIT_OK && err.offset <= strlen(line));
        CHECK(pl.n_stages == 0 && pl.stages == NULL);
        split_error_message(&err, msg, sizeof msg);
        CHECK(msg[0] != '\0');
    }
    free(line);
    return 0;
}
