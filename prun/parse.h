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
 * in seconds (possibly huge: the caller saturates).  A nonzero number
 * that underflows (1e-10000) is the smallest positive double, never 0,
 * which means "no limit".  0 or -1. */
int parse_duration(const char *text, double *seconds);

/* TERM, SIGTERM, sigterm, 15, RTMIN+2, RTMAX-1...: 0 with *sig set, or -1. */
int parse_signal(const char *text, int *sig);

/* -s: what parse_signal takes, or 0 (digits, all zeros), the null
 * signal, which GNU timeout accepts too. */
int parse_timeout_signal(const char *text, int *sig);

/* A bit per signal: bit N-1 for signal N (Linux has 64). */
typedef unsigned long long sig_bits;
#define SIG_BIT(sig) (1ULL << ((sig) - 1))

/* SIGS of env(1)'s --default-signal=SIGS and friends: signals as
 * parse_signal takes them, separated by commas; empty items are skipped
 * (so "" is no signal at all), as GNU env does.  0 with *set filled in,
 * or -1 with the item that is not a signal at text + *bad, *bad_len
 * bytes long. */
int parse_signal_list(const char *text, sig_bits *set, size_t *bad, size_t *bad_len);

/* --umask=MODE: octal digits, at most 0777.  0 or -1. */
int parse_umask(const char *text, unsigned *mode);

/* --rlimit=RESOURCE=SOFT[:HARD]: RESOURCE as prlimit(1) names it, each
 * limit a decimal number or "unlimited" (or "infinity"); SOFT alone sets
 * both; an empty SOFT or HARD beside the other keeps that one as it is
 * (keep_soft, keep_hard: the caller fills it in). */
struct rlimit_spec {
    int resource;              /* RLIMIT_NOFILE, ... */
    int keep_soft, keep_hard;
    unsigned long long soft, hard; /* rlim_t; RLIM_INFINITY for unlimited */
};

enum rlimit_status {
    RLIMIT_SPEC_OK = 0,
    RLIMIT_SPEC_SYNTAX,        /* not RESOURCE=SOFT[:HARD] */
    RLIMIT_SPEC_RESOURCE,      /* an unknown RESOURCE */
    RLIMIT_SPEC_VALUE,         /* a limit that is not a number or unlimited */
    RLIMIT_SPEC_ORDER,         /* SOFT above HARD */
};

/* 0, or -1 with *status saying why and text + *bad, *bad_len the part
 * at fault (the resource or the limit). */
int parse_rlimit(const char *text, struct rlimit_spec *out, enum rlimit_status *status,
                 size_t *bad, size_t *bad_len);
/* prlimit(1)'s name of an RLIMIT_* resource, or NULL. */
const char *rlimit_name(int resource);

/* --groups=LIST: names or numbers separated by commas; "" is the empty
 * list.  0 with *out a malloc'ed NULL-terminated vector (one block: free
 * it alone), or -1: *out NULL and, when an item is empty, *bad its
 * offset (out of memory: *bad is (size_t)-1). */
int parse_group_list(const char *text, char ***out, size_t *bad);

/* The name without "SIG" (TERM, RTMIN+2), or the number in decimal;
 * written to buf (16 bytes are always enough), which is returned. */
const char *signal_name(int sig, char *buf, size_t size);

#endif
