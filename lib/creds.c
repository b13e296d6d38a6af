/* SPDX-License-Identifier: MIT */
/* creds.c - the user and groups a child runs as, looked up in the caller
 * before the spawn (the child can make system calls only: no NSS).
 *
 * `user` alone makes the child that user entirely: its uid, its primary
 * group, its supplementary groups from the databases, as runuser, su and
 * `setpriv --init-groups` do.  (Python keeps the caller's groups, which
 * leaks root's groups into a child that runs as nobody.)  `group` sets
 * the gid, `extra_groups` the supplementary groups, either with or
 * without `user`.
 */
#include "internal.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FIRST_BUF = 1024, MAX_BUF = 1 << 20, FIRST_GROUPS = 64, MAX_EINTR = 100 };

/* A decimal id, as the whole string: 0, or -1. */
static int parse_id(const char *s, unsigned *id)
{
    unsigned long v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        v = v * 10 + (unsigned)(*s - '0');
        if (v > UINT_MAX - 1)  /* (uid_t)-1 means "unchanged" to setresuid */
            return -1;
    }
    *id = (unsigned)v;
    return 0;
}

/* getpwnam_r or getpwuid_r, growing the buffer on ERANGE: 1 found, 0 not,
 * or -errno.  *buf is the caller's to free. */
static int find_user(const char *name, uid_t uid, struct passwd *pw, char **buf)
{
    int interrupted = 0;
    for (size_t size = FIRST_BUF; size <= MAX_BUF;) {
        struct passwd *found = NULL;
        char *b = realloc(*buf, size);
        if (!b)
            return -ENOMEM;
        *buf = b;
        int r = name ? getpwnam_r(name, pw, b, size, &found) : getpwuid_r(uid, pw, b, size, &found);
        if (r == EINTR && interrupted++ < MAX_EINTR)  /* an NSS module's socket: again */
            continue;
        if (r == ERANGE) {
            size *= 2;
            continue;
        }
        if (r == 0 || r == ENOENT || r == ESRCH || r == EBADF || r == EPERM)
            return found != NULL;  /* the "not found" answers getpwnam(3) allows */
        return -r;
    }
    return -ERANGE;
}

static int find_group(const char *name, gid_t *gid)
{
    unsigned id;
    if (parse_id(name, &id) == 0) {
        *gid = id;
        return 1;
    }
    char *buf = NULL;
    int r = -ERANGE, interrupted = 0;
    for (size_t size = FIRST_BUF; size <= MAX_BUF;) {
        struct group gr, *found = NULL;
        char *b = realloc(buf, size);
        if (!b) {
            r = -ENOMEM;
            break;
        }
        buf = b;
        int e = getgrnam_r(name, &gr, b, size, &found);
        if (e == EINTR && interrupted++ < MAX_EINTR)
            continue;
        if (e == ERANGE) {
            size *= 2;
            continue;
        }
        if (e == 0 || e == ENOENT || e == ESRCH || e == EBADF || e == EPERM) {
            r = found != NULL;
            if (found)
                *gid = gr.gr_gid;
        } else
            r = -e;
        break;
    }
    free(buf);
    return r;
}

/* The groups the databases give `name`, whose primary group is gid. */
static int user_groups(struct prun_creds *c, const char *name, gid_t gid)
{
    int n = FIRST_GROUPS, interrupted = 0;
    for (;;) {
        gid_t *g = realloc(c->groups, (size_t)n * sizeof *g);
        if (!g)
            return -ENOMEM;
        c->groups = g;
        int want = n;
        errno = 0;
        if (getgrouplist(name, gid, g, &want) >= 0) {
            c->n_groups = (size_t)want;
            return 0;
        }
        if (errno == EINTR && interrupted++ < MAX_EINTR)
            continue;
        if (want <= n)  /* it failed without saying how many */
            want = n * 2;
        if (want > 65536)
            return errno ? -errno : -ENOMEM;
        n = want;
    }
}

static int resolve_user(struct prun_creds *c, const prun_opts *o)
{
    struct passwd pw;
    char *buf = NULL;
    unsigned id = 0;
    int numeric = parse_id(o->user, &id) == 0;
    /* A number with its group and groups given needs no database. */
    int r = 0, found = numeric && o->group && o->extra_groups
                           ? 0 : find_user(numeric ? NULL : o->user, (uid_t)id, &pw, &buf);
    if (found < 0)
        r = prun__fail(found, "cannot look up user '%s'", o->user);
    else if (!found && !numeric)
        r = prun__fail(-ENOENT, "no user '%s' in the user database", o->user);
    else if (!found && !o->group)
        r = prun__fail(-ENOENT, "user %s is not in the user database, so its group is unknown: "
                       "set group too", o->user);
    else {
        c->set_uid = 1;
        c->uid = found ? pw.pw_uid : (uid_t)id;
        if (found && !o->group) {
            c->set_gid = 1;
            c->gid = pw.pw_gid;
        }
        if (!o->extra_groups) {  /* the user's own; none for an id with no entry */
            c->set_groups = 1;
            if (found && (r = user_groups(c, pw.pw_name, pw.pw_gid)))
                r = prun__fail(r, "cannot look up the groups of user '%s'", o->user);
        }
    }
    free(buf);
    return r;
}

static int has_gid(const gid_t *set, size_t n, gid_t g)
{
    for (size_t i = 0; i < n; i++)
        if (set[i] == g)
            return 1;
    return 0;
}

/* The groups named, each once (a name and its number are one group). */
static int resolve_groups(struct prun_creds *c, const prun_opts *o)
{
    size_t n = 0;
    while (o->extra_groups[n])
        n++;
    free(c->groups);
    c->n_groups = 0;
    c->groups = malloc((n ? n : 1) * sizeof *c->groups);
    if (!c->groups)
        return prun__fail(-ENOMEM, "cannot look up the groups");
    for (size_t i = 0; i < n; i++) {
        gid_t gid;
        int r = find_group(o->extra_groups[i], &gid);
        if (r <= 0)
            return r < 0 ? prun__fail(r, "cannot look up group '%s'", o->extra_groups[i])
                         : prun__fail(-ENOENT, "no group '%s' in the group database",
                                      o->extra_groups[i]);
        if (!has_gid(c->groups, c->n_groups, gid))
            c->groups[c->n_groups++] = gid;
    }
    c->set_groups = 1;
    return 0;
}

/* setgroups needs CAP_SETGID even to set the groups a process has, so a
 * child that would get the caller's own, as a set, does without the call.
 * (Their number can be up to NGROUPS_MAX, 65536: on the heap.) */
static void skip_unchanged_groups(struct prun_creds *c)
{
    int n = getgroups(0, NULL);
    gid_t *mine = n > 0 ? malloc((size_t)n * sizeof *mine) : NULL;
    if (n < 0 || (n > 0 && (!mine || (n = getgroups(n, mine)) < 0))) {
        free(mine);
        return;  /* not known to be the same: the child sets them */
    }
    int same = 1;
    for (size_t i = 0; i < c->n_groups && same; i++)
        same = has_gid(mine, (size_t)n, c->groups[i]);
    for (int j = 0; j < n && same; j++)
        same = has_gid(c->groups, c->n_groups, mine[j]);
    free(mine);
    if (same)
        c->set_groups = 0;
}

int prun__creds_resolve(struct prun_creds *c, const prun_opts *o)
{
    int r = 0;
    memset(c, 0, sizeof *c);
    if (o->user && (r = resolve_user(c, o)))
        goto fail;
    if (o->group) {
        if ((r = find_group(o->group, &c->gid)) <= 0) {
            r = r < 0 ? prun__fail(r, "cannot look up group '%s'", o->group)
                      : prun__fail(-ENOENT, "no group '%s' in the group database", o->group);
            goto fail;
        }
        c->set_gid = 1;
        r = 0;
    }
    if (o->extra_groups && (r = resolve_groups(c, o)))
        goto fail;
    if (c->set_groups)
        skip_unchanged_groups(c);
    return 0;
fail:
    prun__creds_free(c);
    return r;
}

void prun__creds_free(struct prun_creds *c)
{
    free(c->groups);
    c->groups = NULL;
    c->n_groups = 0;
}
