/* SPDX-License-Identifier: MIT */
/* report.c - the JSON report of --report=FILE. */
#include "report.h"

#include "parse.h"

#include <sys/resource.h>
#include <sys/time.h>

/* The length of the well-formed UTF-8 sequence at s, or 0: overlong
 * forms, surrogates and code points past U+10FFFF are not UTF-8. */
static size_t utf8_length(const unsigned char *s)
{
    unsigned c = s[0], code, min;
    size_t n;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf) {
        n = 2, code = c & 0x1f, min = 0x80;
    } else if ((c & 0xf0) == 0xe0) {
        n = 3, code = c & 0x0f, min = 0x800;
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4, code = c & 0x07, min = 0x10000;
    } else
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)  /* the NUL at the end stops here too */
            return 0;
        code = code << 6 | (s[i] & 0x3f);
    }
    if (code < min || code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff))
        return 0;
    return n;
}

static void json_control(FILE *f, unsigned c)
{
    switch (c) {
    case '\b': fputs("\\b", f); break;
    case '\f': fputs("\\f", f); break;
    case '\n': fputs("\\n", f); break;
    case '\r': fputs("\\r", f); break;
    case '\t': fputs("\\t", f); break;
    default: fprintf(f, "\\u%04x", c); break;
    }
}

/* Arguments are bytes, JSON is Unicode: a byte that is not part of valid
 * UTF-8 becomes U+FFFD, so any JSON parser accepts the report. */
void json_string(FILE *f, const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    putc('"', f);
    while (*p) {
        unsigned c = *p;
        size_t n = 1;
        if (c == '"' || c == '\\') {
            putc('\\', f);
            putc((int)c, f);
        } else if (c < 0x20 || c == 0x7f)
            json_control(f, c);
        else if ((n = utf8_length(p)) == 0) {
            fputs("\\ufffd", f);
            n = 1;
        } else
            fwrite(p, 1, n, f);
        p += n;
    }
    putc('"', f);
}

static double seconds(struct timeval tv)
{
    return (double)tv.tv_sec + (double)tv.tv_usec / 1e6;
}

static void write_end(FILE *f, const struct report_stage *st)
{
    const prun_stage_info *in = &st->info;
    char name[16];
    if (!st->started || !in->exited)
        fputs("\"exit_code\":null,\"signal\":null,\"signal_number\":null,", f);
    else if (in->returncode >= 0)
        fprintf(f, "\"exit_code\":%d,\"signal\":null,\"signal_number\":null,", in->returncode);
    else {
        fputs("\"exit_code\":null,\"signal\":", f);
        json_string(f, signal_name(-in->returncode, name, sizeof name));
        fprintf(f, ",\"signal_number\":%d,", -in->returncode);
    }
}

static void write_stage(FILE *f, const struct report_stage *st)
{
    const prun_stage_info *in = &st->info;
    int have_info = st->started && in->exited;
    fputs("{\"argv\":[", f);
    for (size_t i = 0; st->argv[i]; i++) {
        if (i)
            putc(',', f);
        json_string(f, st->argv[i]);
    }
    fprintf(f, "],\"pid\":%ld,", st->started ? (long)in->pid : 0L);
    write_end(f, st);
    fprintf(f, "\"core_dumped\":%s,\"status\":%d,\"spawn_error\":",
            have_info && in->core_dumped ? "true" : "false", st->status);
    if (st->spawn_error)
        json_string(f, st->spawn_error);
    else
        fputs("null", f);
    fprintf(f, ",\"user_s\":%.6f,\"sys_s\":%.6f,\"maxrss_kb\":%ld}",
            have_info ? seconds(in->rusage.ru_utime) : 0.0,
            have_info ? seconds(in->rusage.ru_stime) : 0.0,
            have_info ? in->rusage.ru_maxrss : 0L);
}

static void json_string_or_null(FILE *f, const char *s)
{
    if (s)
        json_string(f, s);
    else
        fputs("null", f);
}

static void json_limit(FILE *f, unsigned long long v)
{
    if (v == (unsigned long long)RLIM_INFINITY)
        fputs("\"unlimited\"", f);
    else
        fprintf(f, "%llu", v);
}

/* "user", "group", "groups", "umask" and "rlimits", each null (or {})
 * when not asked for. */
static void write_credentials(FILE *f, const struct report *r)
{
    fputs(",\"user\":", f);
    json_string_or_null(f, r->user);
    fputs(",\"group\":", f);
    json_string_or_null(f, r->group);
    fputs(",\"groups\":", f);
    if (r->groups) {
        putc('[', f);
        for (size_t i = 0; r->groups[i]; i++) {
            if (i)
                putc(',', f);
            json_string(f, r->groups[i]);
        }
        putc(']', f);
    } else
        fputs("null", f);
    if (r->umask >= 0)
        fprintf(f, ",\"umask\":\"%04o\"", (unsigned)r->umask);
    else
        fputs(",\"umask\":null", f);
    fputs(",\"rlimits\":{", f);
    for (size_t i = 0; i < r->n_rlimits; i++) {
        const struct rlimit_spec *l = &r->rlimits[i];
        fprintf(f, "%s\"%s\":{\"soft\":", i ? "," : "", rlimit_name(l->resource));
        json_limit(f, l->soft);
        fputs(",\"hard\":", f);
        json_limit(f, l->hard);
        putc('}', f);
    }
    putc('}', f);
}

int report_write(FILE *f, const struct report *r)
{
    char name[16];
    fprintf(f, "{\"version\":1,\"exit_status\":%d,\"timed_out\":%s,\"signal_sent\":",
            r->exit_status, r->timed_out ? "true" : "false");
    if (r->signal_sent)
        json_string(f, signal_name(r->signal_sent, name, sizeof name));
    else
        fputs("null", f);
    fprintf(f, ",\"elapsed_s\":%.6f", r->elapsed_s);
    write_credentials(f, r);
    fputs(",\"stages\":[", f);
    for (size_t i = 0; i < r->n_stages; i++) {
        if (i)
            putc(',', f);
        write_stage(f, &r->stages[i]);
    }
    fputs("]}\n", f);
    return fflush(f) == 0 && !ferror(f) ? 0 : -1;
}
