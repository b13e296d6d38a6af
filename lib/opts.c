/* SPDX-License-Identifier: MIT */
/* opts.c - the structures callers pass in and get back, sized the way the
 * kernel's extensible structs are (clone3, openat2: the caller's size
 * travels with the call), and the checks on prun_opts.
 *
 * A structure only grows at its end.  One from an older prun.h is shorter:
 * the fields it lacks read as zero, their defaults.  One from a newer
 * prun.h is longer: if its unknown tail is all zero nothing was asked of
 * this library that it cannot do; otherwise the call is refused with
 * -E2BIG, as copy_struct_from_user() refuses it.  Structures the library
 * writes get what both sides know, and zero beyond that.
 */
#include "internal.h"

#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The first layout of prun_opts that came with a size: libprun 1.0's
 * fields.  A shorter one is not a prun_opts at all. */
#define OPTS_SIZE_VER0 (offsetof(prun_opts, take_tty) + sizeof(int))

/* New fields come in whole 8-byte units, so a zero tail is really zero
 * (padding at the end could hold anything, and an older library would
 * take a field there for its own padding). */
_Static_assert(OPTS_SIZE_VER0 % 8 == 0, "prun_opts VER0 ends in padding");
_Static_assert(offsetof(prun_opts, sigmask) + sizeof(void *) == sizeof(prun_opts),
               "prun_opts ends in padding");

const char *prun_version(void)
{
    return PRUN_VERSION;
}

int prun__opts_in(prun_opts *dst, const prun_opts *src, size_t opts_size)
{
    memset(dst, 0, sizeof *dst);
    if (!src)
        return 0;
    if (opts_size < OPTS_SIZE_VER0)
        return prun__fail(-EINVAL, "prun_opts of %zu bytes is smaller than any libprun's (%zu)",
                          opts_size, (size_t)OPTS_SIZE_VER0);
    const unsigned char *bytes = (const unsigned char *)src;
    for (size_t i = sizeof *dst; i < opts_size; i++)
        if (bytes[i])
            return prun__fail(-E2BIG, "prun_opts sets an option that libprun %s does not know "
                              "(byte %zu of %zu): the program was built against a newer prun.h",
                              PRUN_VERSION, i, opts_size);
    memcpy(dst, src, opts_size < sizeof *dst ? opts_size : sizeof *dst);
    return 0;
}

int prun__out_size_ok(size_t size, size_t min_size, const char *type)
{
    if (size < min_size)
        return prun__fail(-EINVAL, "%s of %zu bytes is smaller than any libprun's (%zu)", type,
                          size, min_size);
    return 0;
}

void prun__struct_out(void *dst, size_t dst_size, const void *src, size_t src_size)
{
    if (dst_size <= src_size) {
        memcpy(dst, src, dst_size);
        return;
    }
    memcpy(dst, src, src_size);
    memset((char *)dst + src_size, 0, dst_size - src_size);
}

int prun_check_cwd(const char *dir)
{
    struct stat st;
    int err = 0;
    if (!dir)
        err = -EINVAL;
    else if (stat(dir, &st) < 0)
        err = -errno;
    else if (!S_ISDIR(st.st_mode))
        err = -ENOTDIR;
    else if (access(dir, X_OK) < 0)
        err = -errno;
    if (err)
        return prun__fail(err, "cannot change directory to '%s'", dir ? dir : "(null)");
    return 0;
}

static int check_stream(enum prun_io io, int fd, const char *name)
{
    if ((unsigned)io > PRUN_FD)
        return prun__fail(-EINVAL, "invalid %s_io %d", name, (int)io);
    if (io == PRUN_FD && !prun__fd_is_open(fd))
        return prun__fail(-EBADF, "invalid %s_fd %d", name, fd);
    return 0;
}

/* The options of libprun 2.0: user and groups are checked as they are
 * looked up (creds.c), the rest here. */
static int check_child_opts(const prun_opts *o)
{
    if (o->reserved0)
        return prun__fail(-E2BIG, "prun_opts sets an option that libprun %s does not know "
                          "(reserved0): the program was built against a newer prun.h",
                          PRUN_VERSION);
    if (o->umask & ~(PRUN_UMASK(0) | 0777))
        return prun__fail(-EINVAL, "invalid umask %#x: write PRUN_UMASK(mode)", (unsigned)o->umask);
    if (o->umask && !(o->umask & PRUN_UMASK(0)))
        return prun__fail(-EINVAL, "umask %#o without PRUN_UMASK(): write PRUN_UMASK(0%o)",
                          (unsigned)o->umask, (unsigned)o->umask & 0777);
    if (o->signals < PRUN_SIGNALS_RESTORE || o->signals > PRUN_SIGNALS_DEFAULT)
        return prun__fail(-EINVAL, "invalid signals %d: PRUN_SIGNALS_RESTORE, _KEEP or _DEFAULT",
                          o->signals);
    if (o->pdeathsig < 0 || o->pdeathsig > SIGRTMAX)
        return prun__fail(-EINVAL, "invalid pdeathsig %d", o->pdeathsig);
    if (o->n_rlimits && !o->rlimits)
        return prun__fail(-EINVAL, "n_rlimits is %zu but rlimits is NULL", o->n_rlimits);
    for (size_t i = 0; i < o->n_rlimits; i++) {
        const struct prun_rlimit *l = &o->rlimits[i];
        if (l->resource < 0 || l->resource >= RLIMIT_NLIMITS)
            return prun__fail(-EINVAL, "rlimits[%zu]: unknown resource %d", i, l->resource);
        if (l->limit.rlim_max != RLIM_INFINITY && l->limit.rlim_cur > l->limit.rlim_max)
            return prun__fail(-EINVAL, "rlimits[%zu]: the soft limit is above the hard one", i);
    }
    if (o->extra_groups)
        for (size_t i = 0; o->extra_groups[i]; i++)
            if (!*o->extra_groups[i])
                return prun__fail(-EINVAL, "extra_groups[%zu] is empty", i);
    if ((o->user && !*o->user) || (o->group && !*o->group))
        return prun__fail(-EINVAL, "user and group must not be empty strings");
    return 0;
}

int prun__check_opts(const prun_opts *o)
{
    int r;
    if ((r = check_child_opts(o)))
        return r;
    if ((r = check_stream(o->stdin_io, o->stdin_fd, "stdin")) ||
        (r = check_stream(o->stdout_io, o->stdout_fd, "stdout")) ||
        (r = check_stream(o->stderr_io, o->stderr_fd, "stderr")))
        return r;
    if (o->stdin_io == PRUN_STDOUT || o->stdout_io == PRUN_STDOUT)
        return prun__fail(-EINVAL, "PRUN_STDOUT is only valid for stderr");
    if (o->n_pass_fds && !o->pass_fds)
        return prun__fail(-EINVAL, "n_pass_fds is %zu but pass_fds is NULL", o->n_pass_fds);
    for (size_t i = 0; i < o->n_pass_fds; i++)
        if (!prun__fd_is_open(o->pass_fds[i]))
            return prun__fail(-EBADF, "invalid pass_fds entry %d", o->pass_fds[i]);
    return 0;
}
