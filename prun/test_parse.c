/* SPDX-License-Identifier: MIT */
/* test_parse.c - unit tests of the tool's pure parts: the -c splitter,
 * DURATION, signal names (parse.c), JSON strings (report.c) and the
 * environment after -i/-u/-E (env.c). */
#include "env.h"
#include "parse.h"
#include "report.h"

#include <check.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static double duration(const char *text)
{
    double s = -1;
    ck_assert_msg(parse_duration(text, &s) == 0, "'%s' rejected", text);
    return s;
}

START_TEST(durations)
{
    ck_assert(duration("0") == 0);
    ck_assert(duration("5") == 5);
    ck_assert(duration("5s") == 5);
    ck_assert(duration("1.5m") == 90);
    ck_assert(duration("100ms") == 0.1);
    ck_assert(duration("2h") == 7200);
    ck_assert(duration("1d") == 86400);
    ck_assert(duration(".5") == 0.5);
    ck_assert(duration("5.") == 5);
    ck_assert(duration("1e3") == 1000);
    ck_assert(duration("2.5e-1s") == 0.25);
    ck_assert(duration("1e400") > 1e300);  /* huge: the caller saturates */
    /* too small for a double, but not zero: the shortest positive time */
    ck_assert(duration("1e-10000") > 0);
    ck_assert(duration("1e-10000") < 1e-300);
    ck_assert(duration("0.0001e-9999s") > 0);
    ck_assert(duration("1e-10000ms") > 0);
    ck_assert(duration("1e-320ms") > 0);   /* subnormal, then divided */
    ck_assert(duration("5e-324") > 0);
    ck_assert(duration("0e-10000") == 0);  /* zero stays zero: no limit */
    ck_assert(duration("0.000e-10000ms") == 0);
    ck_assert(duration("00.0") == 0);
    static const char *const bad[] = {
        "", "-1", "+1", " 1", "1 ", "1..2", ".", "e5", "1e", "1e+", "0x10", "inf", "nan",
        "5x", "5sec", "1.5mm", "5 s", "5S", "1,5", "ms", "1m5", "--1",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        double s;
        ck_assert_msg(parse_duration(bad[i], &s) == -1, "'%s' accepted", bad[i]);
    }
}
END_TEST

static int signal_of(const char *text)
{
    int sig = -1;
    ck_assert_msg(parse_signal(text, &sig) == 0, "'%s' rejected", text);
    return sig;
}

START_TEST(signal_names)
{
    ck_assert_int_eq(signal_of("TERM"), SIGTERM);
    ck_assert_int_eq(signal_of("SIGTERM"), SIGTERM);
    ck_assert_int_eq(signal_of("sigterm"), SIGTERM);
    ck_assert_int_eq(signal_of("Kill"), SIGKILL);
    ck_assert_int_eq(signal_of("9"), SIGKILL);
    ck_assert_int_eq(signal_of("009"), SIGKILL);
    ck_assert_int_eq(signal_of("CLD"), SIGCHLD);
    ck_assert_int_eq(signal_of("IOT"), SIGABRT);
    ck_assert_int_eq(signal_of("RTMIN"), SIGRTMIN);
    ck_assert_int_eq(signal_of("RTMIN+2"), SIGRTMIN + 2);
    ck_assert_int_eq(signal_of("sigrtmax-1"), SIGRTMAX - 1);
    ck_assert_int_eq(signal_of("64"), 64);
    static const char *const bad[] = {
        "", "0", "65", "-15", "+15", "15x", "SIG", "SIGSIGTERM", "TERM ", "RTMIN+", "RTMIN-1",
        "RTMAX+1", "RTMIN+31", "99999999999999999999", "NOSUCH", "SIGXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int sig;
        ck_assert_msg(parse_signal(bad[i], &sig) == -1, "'%s' accepted", bad[i]);
    }
    char buf[16];
    ck_assert_str_eq(signal_name(SIGTERM, buf, sizeof buf), "TERM");
    ck_assert_str_eq(signal_name(SIGCHLD, buf, sizeof buf), "CHLD");
    ck_assert_str_eq(signal_name(SIGIO, buf, sizeof buf), "IO");
    ck_assert_str_eq(signal_name(SIGRTMIN, buf, sizeof buf), "RTMIN");
    ck_assert_str_eq(signal_name(SIGRTMIN + 3, buf, sizeof buf), "RTMIN+3");
    ck_assert_str_eq(signal_name(SIGRTMAX - 1, buf, sizeof buf), "RTMAX-1");
    ck_assert_str_eq(signal_name(SIGRTMAX, buf, sizeof buf), "RTMAX");
    ck_assert_str_eq(signal_name(32, buf, sizeof buf), "32");
    for (int sig = 1; sig <= SIGRTMAX; sig++) {  /* every name reads back */
        int again = 0;
        ck_assert_int_eq(parse_signal(signal_name(sig, buf, sizeof buf), &again), 0);
        ck_assert_int_eq(again, sig);
    }
}
END_TEST

START_TEST(timeout_signals)
{
    int sig = -1;
    ck_assert_int_eq(parse_timeout_signal("0", &sig), 0);
    ck_assert_int_eq(sig, 0);
    ck_assert_int_eq(parse_timeout_signal("000", &sig), 0);
    ck_assert_int_eq(sig, 0);
    ck_assert_int_eq(parse_timeout_signal("TERM", &sig), 0);
    ck_assert_int_eq(sig, SIGTERM);
    ck_assert_int_eq(parse_timeout_signal("09", &sig), 0);
    ck_assert_int_eq(sig, SIGKILL);
    static const char *const bad[] = {"", "-0", "0x", "EXIT", "65", "+0", "0 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse_timeout_signal(bad[i], &sig) == -1, "'%s' accepted", bad[i]);
}
END_TEST

static sig_bits signal_list(const char *text)
{
    sig_bits set = 0;
    size_t at, len;
    ck_assert_msg(parse_signal_list(text, &set, &at, &len) == 0, "'%s' rejected", text);
    return set;
}

START_TEST(signal_lists)
{
    ck_assert(signal_list("") == 0);
    ck_assert(signal_list(",") == 0);
    ck_assert(signal_list("INT") == SIG_BIT(SIGINT));
    ck_assert(signal_list("int,SIGPIPE,15") == (SIG_BIT(SIGINT) | SIG_BIT(SIGPIPE) | SIG_BIT(SIGTERM)));
    ck_assert(signal_list(",,HUP,,HUP,") == SIG_BIT(SIGHUP));  /* empty items skipped */
    ck_assert(signal_list("RTMIN+1,64") == (SIG_BIT(SIGRTMIN + 1) | SIG_BIT(64)));
    ck_assert(signal_list("KILL,STOP") == (SIG_BIT(SIGKILL) | SIG_BIT(SIGSTOP)));
    static const struct { const char *text; size_t at, len; } bad[] = {
        {"FOO", 0, 3}, {"INT,FOO", 4, 3}, {"INT,0,PIPE", 4, 1}, {"PIPE,65", 5, 2},
        {"HUP, INT", 4, 4}, {",XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX,INT", 1, 39},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        sig_bits set = 7;
        size_t at = 99, len = 99;
        ck_assert_msg(parse_signal_list(bad[i].text, &set, &at, &len) == -1, "'%s' accepted", bad[i].text);
        ck_assert_uint_eq(at, bad[i].at);
        ck_assert_uint_eq(len, bad[i].len);
        ck_assert(set == 7);  /* untouched */
    }
}
END_TEST

START_TEST(umasks)
{
    unsigned mode = 1;
    ck_assert_int_eq(parse_umask("022", &mode), 0);
    ck_assert_uint_eq(mode, 022);
    ck_assert_int_eq(parse_umask("0", &mode), 0);
    ck_assert_uint_eq(mode, 0);
    ck_assert_int_eq(parse_umask("777", &mode), 0);
    ck_assert_uint_eq(mode, 0777);
    ck_assert_int_eq(parse_umask("0000077", &mode), 0);
    ck_assert_uint_eq(mode, 077);
    static const char *const bad[] = {"", "8", "1000", "0o22", "u=rwx", "-022", " 022", "022 ", "99999999999"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(parse_umask(bad[i], &mode) == -1, "'%s' accepted", bad[i]);
}
END_TEST

static struct rlimit_spec rlimit_of(const char *text)
{
    struct rlimit_spec r;
    enum rlimit_status st;
    size_t at, len;
    ck_assert_msg(parse_rlimit(text, &r, &st, &at, &len) == 0, "'%s' rejected", text);
    ck_assert_int_eq(st, RLIMIT_SPEC_OK);
    return r;
}

START_TEST(rlimits)
{
    struct rlimit_spec r = rlimit_of("nofile=100");
    ck_assert(r.resource == RLIMIT_NOFILE && r.soft == 100 && r.hard == 100 && !r.keep_soft && !r.keep_hard);
    r = rlimit_of("core=0:unlimited");
    ck_assert(r.resource == RLIMIT_CORE && r.soft == 0 && r.hard == RLIM_INFINITY);
    r = rlimit_of("cpu=unlimited");
    ck_assert(r.soft == RLIM_INFINITY && r.hard == RLIM_INFINITY);
    r = rlimit_of("stack=infinity:infinity");
    ck_assert(r.resource == RLIMIT_STACK && r.soft == RLIM_INFINITY && r.hard == RLIM_INFINITY);
    r = rlimit_of("nproc=10:");
    ck_assert(r.resource == RLIMIT_NPROC && r.soft == 10 && r.keep_hard && !r.keep_soft);
    r = rlimit_of("fsize=:4096");
    ck_assert(r.resource == RLIMIT_FSIZE && r.hard == 4096 && r.keep_soft && !r.keep_hard);
    r = rlimit_of("as=18446744073709551615");
    ck_assert(r.soft == 18446744073709551615ULL);
    r = rlimit_of("msgqueue=5:unlimited");
    ck_assert(r.soft == 5 && r.hard == RLIM_INFINITY);
    static const char *const names[] = {"as", "core", "cpu", "data", "fsize", "locks", "memlock",
        "msgqueue", "nice", "nofile", "nproc", "rss", "rtprio", "rttime", "sigpending", "stack"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char text[32];
        snprintf(text, sizeof text, "%s=1", names[i]);
        ck_assert_str_eq(rlimit_name(rlimit_of(text).resource), names[i]);
    }
    ck_assert_ptr_null(rlimit_name(-1));
    static const struct { const char *text; enum rlimit_status st; size_t at, len; } bad[] = {
        {"nofile", RLIMIT_SPEC_SYNTAX, 0, 6}, {"=5", RLIMIT_SPEC_SYNTAX, 0, 2},
        {"nofile=:", RLIMIT_SPEC_SYNTAX, 0, 8}, {"nofile=", RLIMIT_SPEC_VALUE, 7, 0},
        {"foo=1", RLIMIT_SPEC_RESOURCE, 0, 3}, {"NOFILE=1", RLIMIT_SPEC_RESOURCE, 0, 6},
        {"nofil=1", RLIMIT_SPEC_RESOURCE, 0, 5}, {"nofile=abc", RLIMIT_SPEC_VALUE, 7, 3},
        {"nofile=1:x", RLIMIT_SPEC_VALUE, 9, 1}, {"nofile=-1", RLIMIT_SPEC_VALUE, 7, 2},
        {"nofile=1:2:3", RLIMIT_SPEC_VALUE, 9, 3}, {"nofile=18446744073709551616", RLIMIT_SPEC_VALUE, 7, 20},
        {"nofile=10:5", RLIMIT_SPEC_ORDER, 7, 4}, {"nofile=unlimited:5", RLIMIT_SPEC_ORDER, 7, 11},
        {"nofile= 1", RLIMIT_SPEC_VALUE, 7, 2}, {"nofile=1k", RLIMIT_SPEC_VALUE, 7, 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct rlimit_spec out;
        enum rlimit_status st;
        size_t at = 99, len = 99;
        ck_assert_msg(parse_rlimit(bad[i].text, &out, &st, &at, &len) == -1, "'%s' accepted", bad[i].text);
        ck_assert_msg(st == bad[i].st && at == bad[i].at && len == bad[i].len,
                      "'%s': status %d at %zu len %zu", bad[i].text, (int)st, at, len);
    }
}
END_TEST

static char *groups_joined(const char *text)
{
    char **v;
    size_t bad;
    static char out[128];
    ck_assert_msg(parse_group_list(text, &v, &bad) == 0, "'%s' rejected", text);
    out[0] = '\0';
    for (char **g = v; *g; g++) {
        strcat(out, "<");
        strcat(out, *g);
        strcat(out, ">");
    }
    free(v);
    return out;
}

START_TEST(group_lists)
{
    ck_assert_str_eq(groups_joined(""), "");
    ck_assert_str_eq(groups_joined("wheel"), "<wheel>");
    ck_assert_str_eq(groups_joined("wheel,10,audio"), "<wheel><10><audio>");
    static const struct { const char *text; size_t at; } bad[] = {
        {",", 0}, {"a,", 2}, {",a", 0}, {"a,,b", 2},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char **v = (char **)1;
        size_t at = 99;
        ck_assert_msg(parse_group_list(bad[i].text, &v, &at) == -1, "'%s' accepted", bad[i].text);
        ck_assert_ptr_null(v);
        ck_assert_uint_eq(at, bad[i].at);
    }
}
END_TEST

/* The stages joined as "a b|c", for comparing in one string. */
static char *split_joined(const char *line)
{
    struct cmd_pipeline pl;
    struct split_error err;
    ck_assert_msg(split_command(line, &pl, &err) == 0, "'%s' rejected", line);
    static char out[256];
    out[0] = '\0';
    for (size_t i = 0; i < pl.n_stages; i++) {
        if (i)
            strcat(out, "|");
        for (char *const *w = pl.stages[i]; *w; w++) {
            if (w != pl.stages[i])
                strcat(out, " ");
            strcat(out, "<");
            strcat(out, *w);
            strcat(out, ">");
        }
    }
    cmd_pipeline_free(&pl);
    return out;
}

START_TEST(split_words_and_stages)
{
    ck_assert_str_eq(split_joined("ps aux | grep bash"), "<ps> <aux>|<grep> <bash>");
    ck_assert_str_eq(split_joined(" a\t b "), "<a> <b>");
    ck_assert_str_eq(split_joined("a|b|c"), "<a>|<b>|<c>");
    ck_assert_str_eq(split_joined("'a b' \"c d\" e\\ f"), "<a b> <c d> <e f>");
    ck_assert_str_eq(split_joined("'' \"\" x"), "<> <> <x>");
    ck_assert_str_eq(split_joined("\"\\\"\\\\\\$\\`\\x\""), "<\"\\$`\\x>");
    ck_assert_str_eq(split_joined("'\\' \\'"), "<\\> <'>");
    ck_assert_str_eq(split_joined("a'|'b \"|\" \\|"), "<a|b> <|> <|>");
    ck_assert_str_eq(split_joined("a~ b# '~' \"#\" \\~ \\#"), "<a~> <b#> <~> <#> <~> <#>");
    ck_assert_str_eq(split_joined("'*?[;&<>()' \"*?[;&<>()\""), "<*?[;&<>()> <*?[;&<>()>");
    ck_assert_str_eq(split_joined("'a\nb'"), "<a\nb>");
}
END_TEST

static struct split_error split_fails(const char *line)
{
    struct cmd_pipeline pl;
    struct split_error err;
    ck_assert_msg(split_command(line, &pl, &err) == -1, "'%s' accepted", line);
    ck_assert_ptr_null(pl.stages);
    return err;
}

START_TEST(split_rejects)
{
    static const char meta[] = "$`*?[;&<>()\n";
    char line[16];
    for (const char *m = meta; *m; m++) {
        snprintf(line, sizeof line, "echo a%cb", *m);
        struct split_error e = split_fails(line);
        ck_assert_int_eq(e.status, SPLIT_META);
        ck_assert_int_eq(e.offset, 6);
        ck_assert_int_eq(e.ch, *m);
    }
    struct split_error e = split_fails("ls ~/x");
    ck_assert(e.status == SPLIT_META && e.ch == '~' && e.offset == 3);
    e = split_fails("ls #x");
    ck_assert(e.status == SPLIT_META && e.ch == '#');
    e = split_fails("echo \"$HOME\"");
    ck_assert(e.status == SPLIT_META && e.ch == '$' && e.offset == 6);
    e = split_fails("echo a\\\nb");
    ck_assert(e.status == SPLIT_META && e.ch == '\n');
    e = split_fails("echo 'abc");
    ck_assert(e.status == SPLIT_QUOTE && e.ch == '\'' && e.offset == 5);
    e = split_fails("echo \"abc\\\"");
    ck_assert(e.status == SPLIT_QUOTE && e.ch == '"');
    e = split_fails("echo \\");
    ck_assert_int_eq(e.status, SPLIT_BACKSLASH);
    ck_assert_int_eq(split_fails("").status, SPLIT_EMPTY);
    ck_assert_int_eq(split_fails(" \t ").status, SPLIT_EMPTY);
    e = split_fails("a | | b");
    ck_assert(e.status == SPLIT_EMPTY_STAGE && e.offset == 4);
    ck_assert_int_eq(split_fails("| a").status, SPLIT_EMPTY_STAGE);
    ck_assert_int_eq(split_fails("a |").status, SPLIT_EMPTY_STAGE);
    ck_assert_int_eq(split_fails("a || b").status, SPLIT_EMPTY_STAGE);

    char msg[256];
    e = split_fails("echo $HOME");
    split_error_message(&e, msg, sizeof msg);
    ck_assert_str_eq(msg, "a shell would interpret '$' at column 6; quote or escape it, "
                          "or use --shell to run the line with /bin/sh");
}
END_TEST

static char *json(const char *s)
{
    static char buf[256];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    json_string(f, s);
    fclose(f);
    return buf;
}

START_TEST(json_strings)
{
    ck_assert_str_eq(json("plain"), "\"plain\"");
    ck_assert_str_eq(json("q\"b\\"), "\"q\\\"b\\\\\"");
    ck_assert_str_eq(json("\n\t\r\b\f\x01\x1f\x7f"), "\"\\n\\t\\r\\b\\f\\u0001\\u001f\\u007f\"");
    ck_assert_str_eq(json("\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80"), "\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"");
    /* not UTF-8: a lone continuation byte, an overlong '/', a surrogate,
     * past U+10FFFF, a truncated sequence */
    ck_assert_str_eq(json("a\x80z"), "\"a\\ufffdz\"");
    ck_assert_str_eq(json("\xc0\xaf"), "\"\\ufffd\\ufffd\"");
    ck_assert_str_eq(json("\xed\xa0\x80"), "\"\\ufffd\\ufffd\\ufffd\"");
    ck_assert_str_eq(json("\xf4\x90\x80\x80"), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    ck_assert_str_eq(json("\xe2\x82"), "\"\\ufffd\\ufffd\"");
}
END_TEST

START_TEST(environment)
{
    char *base[] = {"A=1", "B=2", "PATH=/bin", NULL};
    struct env_change changes[4];
    struct cli cli = {.env_changes = changes};
    char **env;

    ck_assert_int_eq(env_build(base, &cli, &env), 0);
    ck_assert_ptr_null(env);  /* unchanged: the caller's environ */

    changes[0] = (struct env_change){1, "A"};
    changes[1] = (struct env_change){0, "B=3"};
    changes[2] = (struct env_change){0, "C=x=y"};
    changes[3] = (struct env_change){0, "B=4"};
    cli.n_env_changes = 4;
    ck_assert_int_eq(env_build(base, &cli, &env), 0);
    ck_assert_str_eq(env[0], "PATH=/bin");
    ck_assert_str_eq(env[1], "C=x=y");
    ck_assert_str_eq(env[2], "B=4");
    ck_assert_ptr_null(env[3]);
    free(env);

    cli.ignore_environment = 1;
    changes[0] = (struct env_change){0, "AB=1"};
    changes[1] = (struct env_change){1, "A"};  /* not AB */
    cli.n_env_changes = 2;
    ck_assert_int_eq(env_build(base, &cli, &env), 0);
    ck_assert_str_eq(env[0], "AB=1");
    ck_assert_ptr_null(env[1]);
    free(env);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("prun tool parsers");
    TCase *tc = tcase_create("parse");
    tcase_add_test(tc, durations);
    tcase_add_test(tc, signal_names);
    tcase_add_test(tc, timeout_signals);
    tcase_add_test(tc, signal_lists);
    tcase_add_test(tc, umasks);
    tcase_add_test(tc, rlimits);
    tcase_add_test(tc, group_lists);
    tcase_add_test(tc, split_words_and_stages);
    tcase_add_test(tc, split_rejects);
    tcase_add_test(tc, json_strings);
    tcase_add_test(tc, environment);
    suite_add_tcase(s, tc);
    SRunner *sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
