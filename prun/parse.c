/* SPDX-License-Identifier: MIT */
/* parse.c - the -c splitter, DURATION and signal names (see parse.h). */
#include "parse.h"

#include <float.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* ---- -c LINE ---- */

struct splitter {
    const char *line;
    size_t pos;
    char *text;         /* the words, NUL-terminated, never longer than the line */
    size_t text_len;
    size_t *word_at;    /* where each word starts in text */
    size_t n_words;
    size_t *stage_end;  /* the word count at the end of each stage */
    size_t n_stages;
    struct split_error *err;
};

static int fail(struct splitter *s, enum split_status status, size_t offset, char ch)
{
    s->err->status = status;
    s->err->offset = offset;
    s->err->ch = ch;
    return -1;
}

static int is_blank(char c)
{
    return c == ' ' || c == '\t';
}

static int ends_word(char c)
{
    return c == '\0' || is_blank(c) || c == '|';
}

/* What a shell expands or interprets outside quotes ... */
static int is_meta(char c)
{
    return c != '\0' && strchr("$`*?[;&<>()\n", c) != NULL;
}

/* ... and at the start of a word only: ~ (tilde expansion), # (a comment). */
static int is_meta_at_start(char c)
{
    return c == '~' || c == '#';
}

static void put(struct splitter *s, char c)
{
    s->text[s->text_len++] = c;
}

static int single_quoted(struct splitter *s)
{
    size_t open = s->pos++;
    for (;;) {
        char c = s->line[s->pos];
        if (c == '\0')
            return fail(s, SPLIT_QUOTE, open, '\'');
        s->pos++;
        if (c == '\'')
            return 0;
        put(s, c);
    }
}

/* As in sh: a backslash escapes only " \ $ and ` here, and $ and ` are
 * still expansions, so they are rejected unless escaped. */
static int double_quoted(struct splitter *s)
{
    size_t open = s->pos++;
    for (;;) {
        char c = s->line[s->pos];
        if (c == '\0')
            return fail(s, SPLIT_QUOTE, open, '"');
        if (c == '"') {
            s->pos++;
            return 0;
        }
        if (c == '$' || c == '`')
            return fail(s, SPLIT_META, s->pos, c);
        if (c == '\\') {
            char next = s->line[s->pos + 1];
            if (next == '\n')  /* a line continuation in sh */
                return fail(s, SPLIT_META, s->pos + 1, next);
            if (next != '\0' && strchr("\"\\$`", next)) {
                c = next;
                s->pos++;
            }
        }
        put(s, c);
        s->pos++;
    }
}

static int unquoted(struct splitter *s, int at_word_start)
{
    char c = s->line[s->pos];
    if (c == '\\') {
        char next = s->line[s->pos + 1];
        if (next == '\0')
            return fail(s, SPLIT_BACKSLASH, s->pos, c);
        if (next == '\n')  /* a line continuation in sh */
            return fail(s, SPLIT_META, s->pos + 1, next);
        c = next;
        s->pos++;
    } else if (is_meta(c) || (at_word_start && is_meta_at_start(c)))
        return fail(s, SPLIT_META, s->pos, c);
    put(s, c);
    s->pos++;
    return 0;
}

static int read_word(struct splitter *s)
{
    s->word_at[s->n_words++] = s->text_len;
    for (int at_start = 1; !ends_word(s->line[s->pos]); at_start = 0) {
        char c = s->line[s->pos];
        int r = c == '\'' ? single_quoted(s) : c == '"' ? double_quoted(s) : unquoted(s, at_start);
        if (r)
            return r;
    }
    put(s, '\0');
    return 0;
}

/* At a '|' or at the end of the line. */
static int end_stage(struct splitter *s)
{
    size_t words_before = s->n_stages ? s->stage_end[s->n_stages - 1] : 0;
    if (s->n_words == words_before) {
        if (s->n_stages == 0 && s->line[s->pos] == '\0')
            return fail(s, SPLIT_EMPTY, 0, 0);
        return fail(s, SPLIT_EMPTY_STAGE, s->pos, s->line[s->pos]);
    }
    s->stage_end[s->n_stages++] = s->n_words;
    return 0;
}

static int split_all(struct splitter *s)
{
    for (;;) {
        while (is_blank(s->line[s->pos]))
            s->pos++;
        char c = s->line[s->pos];
        if (c == '\0')
            return end_stage(s);
        if (c == '|') {
            if (end_stage(s))
                return -1;
            s->pos++;
        } else if (read_word(s))
            return -1;
    }
}

/* The stages as argv vectors pointing into s->text, which out takes over. */
static int build_vectors(struct splitter *s, struct cmd_pipeline *out)
{
    out->stages = malloc(s->n_stages * sizeof *out->stages);
    out->vectors = malloc((s->n_words + s->n_stages) * sizeof *out->vectors);
    if (!out->stages || !out->vectors)
        return fail(s, SPLIT_NOMEM, 0, 0);
    size_t w = 0, v = 0;
    for (size_t i = 0; i < s->n_stages; i++) {
        out->stages[i] = &out->vectors[v];
        for (; w < s->stage_end[i]; w++)
            out->vectors[v++] = s->text + s->word_at[w];
        out->vectors[v++] = NULL;
    }
    out->n_stages = s->n_stages;
    out->text = s->text;
    s->text = NULL;
    return 0;
}

int split_command(const char *line, struct cmd_pipeline *out, struct split_error *err)
{
    struct splitter s = {.line = line, .err = err};
    memset(out, 0, sizeof *out);
    memset(err, 0, sizeof *err);
    /* Every word and every stage takes at least one character of the
     * line, and a word's text is never longer than its source. */
    size_t len = strlen(line);
    int r = -1;
    if (len >= SIZE_MAX / (2 * sizeof(size_t)) - 1) {
        fail(&s, SPLIT_NOMEM, 0, 0);
        goto out;
    }
    s.text = malloc(len + 1);
    s.word_at = malloc((len + 1) * sizeof *s.word_at);
    s.stage_end = malloc((len + 1) * sizeof *s.stage_end);
    if (!s.text || !s.word_at || !s.stage_end)
        fail(&s, SPLIT_NOMEM, 0, 0);
    else if ((r = split_all(&s)) == 0)
        r = build_vectors(&s, out);
out:
    if (r)
        cmd_pipeline_free(out);
    free(s.text);
    free(s.word_at);
    free(s.stage_end);
    return r;
}

void cmd_pipeline_free(struct cmd_pipeline *pl)
{
    free(pl->stages);
    free(pl->vectors);
    free(pl->text);
    memset(pl, 0, sizeof *pl);
}

void split_error_message(const struct split_error *e, char *buf, size_t size)
{
    static const char shell_hint[] = "quote or escape it, or use --shell to run the line with /bin/sh";
    size_t column = e->offset + 1;
    switch (e->status) {
    case SPLIT_OK:
        snprintf(buf, size, "no error");
        break;
    case SPLIT_NOMEM:
        snprintf(buf, size, "out of memory");
        break;
    case SPLIT_EMPTY:
        snprintf(buf, size, "empty command line");
        break;
    case SPLIT_EMPTY_STAGE:
        snprintf(buf, size, "empty command in the pipeline at column %zu", column);
        break;
    case SPLIT_QUOTE:
        snprintf(buf, size, "the quote (%c) at column %zu is never closed", e->ch, column);
        break;
    case SPLIT_BACKSLASH:
        snprintf(buf, size, "a backslash at the end of the line escapes nothing");
        break;
    case SPLIT_META:
        if (e->ch == '\n')
            snprintf(buf, size, "a shell would interpret the newline at column %zu; %s", column, shell_hint);
        else
            snprintf(buf, size, "a shell would interpret '%c' at column %zu; %s", e->ch, column, shell_hint);
        break;
    }
}

/* ---- DURATION ---- */

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static const char *skip_digits(const char *p, size_t *count)
{
    while (is_digit(*p)) {
        p++;
        (*count)++;
    }
    return p;
}

/* Where a plain decimal number (digits, '.', an exponent) ends, or NULL:
 * strtod alone would also take blanks, signs, hex, "inf" and "nan". */
static const char *decimal_end(const char *p)
{
    size_t digits = 0, exp_digits = 0;
    p = skip_digits(p, &digits);
    if (*p == '.')
        p = skip_digits(p + 1, &digits);
    if (digits == 0)
        return NULL;
    if (*p == 'e' || *p == 'E') {
        const char *q = p + 1;
        if (*q == '+' || *q == '-')
            q++;
        q = skip_digits(q, &exp_digits);
        if (exp_digits)
            p = q;
    }
    return p;
}

/* Whether the digits before the exponent are not all zeros. */
static int nonzero_mantissa(const char *p, const char *end)
{
    for (; p < end && *p != 'e' && *p != 'E'; p++)
        if (*p >= '1' && *p <= '9')
            return 1;
    return 0;
}

int parse_duration(const char *text, double *seconds)
{
    static const struct { const char *suffix; double per_unit; } units[] = {
        {"", 1}, {"s", 1}, {"ms", 0.001}, {"m", 60}, {"h", 3600}, {"d", 86400},
    };
    const char *end = decimal_end(text);
    if (!end)
        return -1;
    char *strtod_end;
    /* prun never calls setlocale(), so the decimal point is '.' */
    double value = strtod(text, &strtod_end);
    if (strtod_end != end)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(end, units[i].suffix) == 0) {
            /* dividing keeps 100ms at exactly the double nearest 0.1 */
            double s = units[i].per_unit < 1 ? value / 1000 : value * units[i].per_unit;
            /* A nonzero duration too small for a double (1e-10000) is the
             * shortest positive time, as in GNU timeout 9, not "no limit". */
            if (s == 0 && nonzero_mantissa(text, end))
                s = DBL_TRUE_MIN;
            *seconds = s;
            return 0;
        }
    return -1;
}

/* ---- signals ---- */

static const struct {
    int sig;
    const char *name;
} signal_table[] = {
    {SIGHUP, "HUP"}, {SIGINT, "INT"}, {SIGQUIT, "QUIT"}, {SIGILL, "ILL"},
    {SIGTRAP, "TRAP"}, {SIGABRT, "ABRT"}, {SIGBUS, "BUS"}, {SIGFPE, "FPE"},
    {SIGKILL, "KILL"}, {SIGUSR1, "USR1"}, {SIGSEGV, "SEGV"}, {SIGUSR2, "USR2"},
    {SIGPIPE, "PIPE"}, {SIGALRM, "ALRM"}, {SIGTERM, "TERM"},
#ifdef SIGSTKFLT
    {SIGSTKFLT, "STKFLT"},
#endif
    {SIGCHLD, "CHLD"}, {SIGCONT, "CONT"}, {SIGSTOP, "STOP"}, {SIGTSTP, "TSTP"},
    {SIGTTIN, "TTIN"}, {SIGTTOU, "TTOU"}, {SIGURG, "URG"}, {SIGXCPU, "XCPU"},
    {SIGXFSZ, "XFSZ"}, {SIGVTALRM, "VTALRM"}, {SIGPROF, "PROF"}, {SIGWINCH, "WINCH"},
    {SIGIO, "IO"},
#ifdef SIGPWR
    {SIGPWR, "PWR"},
#endif
    {SIGSYS, "SYS"},
    /* aliases: accepted, never printed (the first name of a number wins) */
    {SIGABRT, "IOT"}, {SIGCHLD, "CLD"}, {SIGIO, "POLL"},
};

/* digits only, at most max: 0 with *value set, else -1 */
static int parse_small_number(const char *p, int max, int *value)
{
    int v = 0;
    if (!*p)
        return -1;
    for (; *p; p++) {
        if (!is_digit(*p))
            return -1;
        v = v * 10 + (*p - '0');
        if (v > max)
            return -1;
    }
    *value = v;
    return 0;
}

/* RTMIN, RTMIN+n, RTMAX, RTMAX-n (n within the real-time range) */
static int parse_realtime(const char *name, int *sig)
{
    int span = SIGRTMAX - SIGRTMIN, n = 0;
    if (strncmp(name, "RTMIN", 5) == 0 && (name[5] == '\0' ||
        (name[5] == '+' && parse_small_number(name + 6, span, &n) == 0))) {
        *sig = SIGRTMIN + n;
        return 0;
    }
    if (strncmp(name, "RTMAX", 5) == 0 && (name[5] == '\0' ||
        (name[5] == '-' && parse_small_number(name + 6, span, &n) == 0))) {
        *sig = SIGRTMAX - n;
        return 0;
    }
    return -1;
}

static int lookup_name(const char *name, int *sig)
{
    for (size_t i = 0; i < sizeof signal_table / sizeof signal_table[0]; i++)
        if (strcmp(name, signal_table[i].name) == 0) {
            *sig = signal_table[i].sig;
            return 0;
        }
    return parse_realtime(name, sig);
}

int parse_signal(const char *text, int *sig)
{
    char upper[32];
    size_t len = strlen(text);
    if (is_digit(text[0])) {
        int n;
        if (parse_small_number(text, SIGRTMAX, &n) || n == 0)
            return -1;
        *sig = n;
        return 0;
    }
    if (len == 0 || len >= sizeof upper)
        return -1;
    for (size_t i = 0; i <= len; i++)
        upper[i] = text[i] >= 'a' && text[i] <= 'z' ? (char)(text[i] - 'a' + 'A') : text[i];
    if (lookup_name(upper, sig) == 0)
        return 0;
    return strncmp(upper, "SIG", 3) == 0 ? lookup_name(upper + 3, sig) : -1;
}

const char *signal_name(int sig, char *buf, size_t size)
{
    for (size_t i = 0; i < sizeof signal_table / sizeof signal_table[0]; i++)
        if (signal_table[i].sig == sig) {
            snprintf(buf, size, "%s", signal_table[i].name);
            return buf;
        }
    int rtmin = SIGRTMIN, rtmax = SIGRTMAX;
    if (sig >= rtmin && sig <= rtmax) {
        /* as gnulib's sig2str: the nearer end of the range */
        int from_min = sig <= rtmin + (rtmax - rtmin) / 2;
        int delta = from_min ? sig - rtmin : rtmax - sig;
        if (delta == 0)
            snprintf(buf, size, "%s", from_min ? "RTMIN" : "RTMAX");
        else
            snprintf(buf, size, "%s%c%d", from_min ? "RTMIN" : "RTMAX", from_min ? '+' : '-', delta);
        return buf;
    }
    snprintf(buf, size, "%d", sig);
    return buf;
}

int parse_timeout_signal(const char *text, int *sig)
{
    const char *p = text;
    while (*p == '0')
        p++;
    if (p != text && *p == '\0') {
        *sig = 0;
        return 0;
    }
    return parse_signal(text, sig);
}

int parse_signal_list(const char *text, sig_bits *set, size_t *bad, size_t *bad_len)
{
    sig_bits bits = 0;
    const char *p = text;
    while (*p) {
        size_t len = strcspn(p, ",");
        if (len) {
            char item[32];
            int sig;
            if (len >= sizeof item || (memcpy(item, p, len), item[len] = '\0', parse_signal(item, &sig))) {
                *bad = (size_t)(p - text);
                *bad_len = len;
                return -1;
            }
            bits |= SIG_BIT(sig);
        }
        p += len;
        if (*p == ',')
            p++;
    }
    *set = bits;
    return 0;
}

int parse_umask(const char *text, unsigned *mode)
{
    unsigned v = 0;
    if (!*text)
        return -1;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '7')
            return -1;
        v = v * 8 + (unsigned)(*p - '0');
        if (v > 0777)
            return -1;
    }
    *mode = v;
    return 0;
}

/* ---- resource limits ---- */

static const struct {
    int resource;
    const char *name;
} rlimit_table[] = {
    {RLIMIT_AS, "as"}, {RLIMIT_CORE, "core"}, {RLIMIT_CPU, "cpu"}, {RLIMIT_DATA, "data"},
    {RLIMIT_FSIZE, "fsize"}, {RLIMIT_LOCKS, "locks"}, {RLIMIT_MEMLOCK, "memlock"},
    {RLIMIT_MSGQUEUE, "msgqueue"}, {RLIMIT_NICE, "nice"}, {RLIMIT_NOFILE, "nofile"},
    {RLIMIT_NPROC, "nproc"}, {RLIMIT_RSS, "rss"}, {RLIMIT_RTPRIO, "rtprio"},
    {RLIMIT_RTTIME, "rttime"}, {RLIMIT_SIGPENDING, "sigpending"}, {RLIMIT_STACK, "stack"},
};

const char *rlimit_name(int resource)
{
    for (size_t i = 0; i < sizeof rlimit_table / sizeof rlimit_table[0]; i++)
        if (rlimit_table[i].resource == resource)
            return rlimit_table[i].name;
    return NULL;
}

/* One limit, len bytes at p: a decimal number that fits in rlim_t, or
 * unlimited / infinity. */
static int parse_limit(const char *p, size_t len, unsigned long long *value)
{
    if ((len == 9 && strncmp(p, "unlimited", 9) == 0) || (len == 8 && strncmp(p, "infinity", 8) == 0)) {
        *value = RLIM_INFINITY;
        return 0;
    }
    unsigned long long v = 0;
    if (len == 0)
        return -1;
    for (size_t i = 0; i < len; i++) {
        if (!is_digit(p[i]))
            return -1;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > ((unsigned long long)(rlim_t)-1 - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *value = v;
    return 0;
}

static int rlimit_fail(enum rlimit_status *status, enum rlimit_status why, size_t *bad,
                       size_t *bad_len, size_t at, size_t len)
{
    *status = why;
    *bad = at;
    *bad_len = len;
    return -1;
}

int parse_rlimit(const char *text, struct rlimit_spec *out, enum rlimit_status *status,
                 size_t *bad, size_t *bad_len)
{
    const char *eq = strchr(text, '=');
    size_t all = strlen(text);
    memset(out, 0, sizeof *out);
    *status = RLIMIT_SPEC_OK;
    if (!eq || eq == text)
        return rlimit_fail(status, RLIMIT_SPEC_SYNTAX, bad, bad_len, 0, all);
    size_t name_len = (size_t)(eq - text);
    out->resource = -1;
    for (size_t i = 0; i < sizeof rlimit_table / sizeof rlimit_table[0]; i++)
        if (strlen(rlimit_table[i].name) == name_len && strncmp(text, rlimit_table[i].name, name_len) == 0)
            out->resource = rlimit_table[i].resource;
    if (out->resource < 0)
        return rlimit_fail(status, RLIMIT_SPEC_RESOURCE, bad, bad_len, 0, name_len);
    const char *soft = eq + 1, *colon = strchr(soft, ':');
    size_t soft_len = colon ? (size_t)(colon - soft) : strlen(soft);
    if (!colon) {  /* SOFT alone sets both */
        if (parse_limit(soft, soft_len, &out->soft))
            return rlimit_fail(status, RLIMIT_SPEC_VALUE, bad, bad_len, (size_t)(soft - text), soft_len);
        out->hard = out->soft;
        return 0;
    }
    const char *hard = colon + 1;
    size_t hard_len = strlen(hard);
    if (soft_len == 0 && hard_len == 0)
        return rlimit_fail(status, RLIMIT_SPEC_SYNTAX, bad, bad_len, 0, all);
    out->keep_soft = soft_len == 0;
    out->keep_hard = hard_len == 0;
    if (!out->keep_soft && parse_limit(soft, soft_len, &out->soft))
        return rlimit_fail(status, RLIMIT_SPEC_VALUE, bad, bad_len, (size_t)(soft - text), soft_len);
    if (!out->keep_hard && parse_limit(hard, hard_len, &out->hard))
        return rlimit_fail(status, RLIMIT_SPEC_VALUE, bad, bad_len, (size_t)(hard - text), hard_len);
    if (!out->keep_soft && !out->keep_hard && out->hard != RLIM_INFINITY && out->soft > out->hard)
        return rlimit_fail(status, RLIMIT_SPEC_ORDER, bad, bad_len, (size_t)(soft - text),
                           all - (size_t)(soft - text));
    return 0;
}

/* ---- --groups ---- */

int parse_group_list(const char *text, char ***out, size_t *bad)
{
    size_t len = strlen(text), n = *text ? 1 : 0;
    *out = NULL;
    for (const char *p = text; *p; p++)
        n += *p == ',';
    for (size_t i = 0, start = 0; *text && i <= len; i++)
        if (text[i] == ',' || text[i] == '\0') {
            if (i == start) {
                *bad = start;
                return -1;
            }
            start = i + 1;
        }
    if (len >= SIZE_MAX / 2 - sizeof(char *) * (n + 1)) {
        *bad = (size_t)-1;
        return -1;
    }
    char **v = malloc((n + 1) * sizeof *v + len + 1);
    if (!v) {
        *bad = (size_t)-1;
        return -1;
    }
    char *copy = (char *)(v + n + 1);
    memcpy(copy, text, len + 1);
    size_t k = 0;
    if (*copy)
        for (char *item = copy;; item++) {
            v[k++] = item;
            item = strchr(item, ',');
            if (!item)
                break;
            *item = '\0';
        }
    v[k] = NULL;
    *out = v;
    return 0;
}
