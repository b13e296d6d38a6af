/* SPDX-License-Identifier: MIT */
/* parse.h - the pure parsers of the prun tool: the -c command line, the
 * DURATION of -t/-k, and signal names.  No I/O, no exit(), no global
 * state: they are unit-tested and fuzzed on their own (prun/fuzz/). */
#ifndef PRUN_PARSE_H
#define PRUN_PARSE_H

#include <stddef.h>

/* A -c LINE split into a pipeline: n_stages NULL-terminated argv vectors. */
struct cmd_pipeline {
    size_t n_stages;
    char ***stages;
    char **vectors; /* storage for the vectors, back to back */
    char *text;     /* storage for the words, NUL-separated */
};

enum split_status {
    SPLIT_OK = 0,
    SPLIT_NOMEM,
    SPLIT_EMPTY,        /* nothing but blanks */
    SPLIT_EMPTY_STAGE,  /* a '|' at the start or end, or two in a row */
    SPLIT_QUOTE,        /* a quote that is never closed */
    SPLIT_BACKSLASH,    /* a backslash at the end of the line */
    SPLIT_META,         /* something a shell would expand or interpret */
};

struct split_error {
    enum split_status status;
    size_t offset; /* where in the line (0-based) */
    char ch;       /* the quote or the metacharacter */
};

/* Splits LINE without a shell: words on blanks, '...' and "..." quotes,
 * backslash escapes, '|' between stages.  Returns 0, or -1 with *err
 * filled in (and *out empty). */
int split_command(const char *line, struct cmd_pipeline *out, struct split_error *err);
void cmd_pipeline_free(struct cmd_pipeline *pl);
/* The error as one line (without "prun: "), truncated to size. */
void split_error_message(const struct split_error *err, char *buf, size_t size);

/* A non-negative decimal number with an optional unit ms, s, m, h or d,
 * in seconds (possibly huge: the caller saturates).  0 or -1. */
int parse_duration(const char *text, double *seconds);

/* TERM, SIGTERM, sigterm, 15, RTMIN+2, RTMAX-1...: 0 with *sig set, or -1. */
int parse_signal(const char *text, int *sig);

/* The name without "SIG" (TERM, RTMIN+2), or the number in decimal;
 * written to buf (16 bytes are always enough), which is returned. */
const char *signal_name(int sig, char *buf, size_t size);

#endif
