/* SPDX-License-Identifier: MIT */
/* tree.c - the caller's process tree: every process below it, and the
 * exited ones a child subreaper (PR_SET_CHILD_SUBREAPER) adopts.  For a
 * supervisor such as prun(1), whose commands may leave descendants that
 * moved to a session or process group of their own, where a signal to
 * the commands' group does not reach them.
 *
 * The tree comes from /proc.  A pid read there may be reused before it is
 * signalled; so each process is signalled through a pidfd, opened and
 * then checked to be the process read (the same start time): once the
 * pidfd exists, the process it names cannot be replaced.  (Not that its
 * parent is still in the tree: signalling a parent first reparents its
 * children.)
 *
 * /proc's numbers are those of the PID namespace it was mounted in, which
 * need not be the caller's (unshare --pid without --mount-proc): then the
 * caller's pid there is not getpid(), and the scan would find strangers'
 * children, so both calls refuse.
 */
#include "internal.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_send_signal
#define SYS_pidfd_send_signal 424
#endif

struct proc_entry {
    pid_t pid, ppid;
    char state;
    unsigned long long start;  /* clock ticks after boot: with the pid, who it is */
};

struct proc_list {
    struct proc_entry *p;
    size_t n, capacity;
};

/* The state, parent and start time of pid from /proc/PID/stat: 0, 1 if
 * it is gone, or -errno.  Only a process that is gone may be passed over:
 * out of fds, every one would be, and the caller told nothing is left. */
static int read_stat(pid_t pid, struct proc_entry *pe)
{
    char path[64], buf[512];
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ESRCH ? 1 : -errno;
    ssize_t len;
    do
        len = read(fd, buf, sizeof buf - 1);
    while (len < 0 && errno == EINTR);
    int err = errno;
    close(fd);
    if (len < 0)  /* ESRCH: reaped since the open */
        return err == ESRCH ? 1 : -err;
    if (len == 0)
        return 1;
    buf[len] = '\0';
    const char *rp = strrchr(buf, ')');  /* the command may hold anything but ')' at its end */
    int pp;
    if (!rp || sscanf(rp + 1, " %c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
                      "%*d %*d %llu", &pe->state, &pp, &pe->start) != 3)
        return 1;
    pe->pid = pid;
    pe->ppid = pp;
    return 0;
}

/* pe appended to l, which grows by doubling: 0 or -ENOMEM. */
static int list_add(struct proc_list *l, struct proc_entry pe)
{
    if (l->n == l->capacity) {
        size_t cap = l->capacity ? l->capacity * 2 : 64;
        struct proc_entry *p = realloc(l->p, cap * sizeof *p);
        if (!p)
            return prun__fail(-ENOMEM, "cannot list the processes");
        l->p = p;
        l->capacity = cap;
    }
    l->p[l->n++] = pe;
    return 0;
}

/* A child (or a thread) of self, whose state and start are not read. */
static int add_child(struct proc_list *l, pid_t pid, pid_t self)
{
    return list_add(l, (struct proc_entry){pid, self, '?', 0});
}

static int list_processes(struct proc_list *l)
{
    DIR *d = opendir("/proc");
    if (!d)
        return prun__fail(-errno, "cannot read /proc");
    int r = 0;
    for (;;) {
        errno = 0;  /* readdir's NULL is the end only without an errno */
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                r = prun__fail(-errno, "cannot read /proc");
            break;
        }
        if (!isdigit((unsigned char)e->d_name[0]))
            continue;
        struct proc_entry pe;
        int s = read_stat((pid_t)atoi(e->d_name), &pe);
        if (s < 0) {
            r = prun__fail(s, "cannot read /proc/%s/stat", e->d_name);
            break;
        }
        if (s == 0 && (r = list_add(l, pe)))
            break;
    }
    closedir(d);
    return r;
}

/* The caller's pid as /proc numbers it, if that is getpid(); or -ENOTSUP. */
static int proc_self(pid_t *self)
{
    char buf[32];
    ssize_t n = readlink("/proc/self", buf, sizeof buf - 1);
    if (n < 0)
        return prun__fail(-errno, "cannot read /proc/self");
    buf[n] = '\0';
    *self = getpid();
    if (strtol(buf, NULL, 10) != (long)*self)
        return prun__fail(-ENOTSUP, "/proc is another PID namespace's: it calls this process %s, "
                          "not %d", buf, (int)*self);
    return 0;
}

static int in_tree(const struct proc_list *l, const unsigned char *below, pid_t pid, pid_t self)
{
    if (pid == self)
        return 1;
    for (size_t i = 0; i < l->n; i++)
        if (l->p[i].pid == pid)
            return below[i];
    return 0;
}

/* below[i]: process i descends from self.  Passes until nothing changes,
 * as /proc lists parents and children in no particular order. */
static void mark_descendants(const struct proc_list *l, unsigned char *below, pid_t self)
{
    for (int changed = 1; changed;) {
        changed = 0;
        for (size_t i = 0; i < l->n; i++)
            if (!below[i] && in_tree(l, below, l->p[i].ppid, self))
                below[i] = changed = 1;
    }
}

/* Signals the process read as `was` if, with its pidfd open, it is still
 * that process: 1, 0 if it is gone, or -errno (-EPERM: not ours to signal). */
static int signal_same(const struct proc_entry *was, int sig)
{
    struct proc_entry now;
    int fd = (int)syscall(SYS_pidfd_open, was->pid, 0);
    if (fd < 0)
        return errno == ESRCH ? 0 : -errno;
    int r = read_stat(was->pid, &now);
    if (r == 0 && now.start == was->start && now.state != 'Z')
        r = syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) == 0 ? 1 : errno == ESRCH ? 0 : -errno;
    else if (r >= 0)  /* gone, or another process on its pid now */
        r = 0;
    close(fd);
    return r;
}

/* As kill(2) to a process group: those the caller may not signal are
 * skipped, and are an error (-EPERM) only if they are all there is. */
static int signal_marked(const struct proc_list *l, const unsigned char *below, int sig)
{
    int sent = 0, refused = 0;
    pid_t refused_pid = 0;
    for (size_t i = 0; i < l->n; i++) {
        int s = below[i] && l->p[i].state != 'Z' ? signal_same(&l->p[i], sig) : 0;
        if (s == -EPERM) {  /* every one skipped, not only the first */
            if (!refused++)
                refused_pid = l->p[i].pid;
        } else if (s < 0)
            return prun__fail(s, "cannot send signal %d to process %d", sig, (int)l->p[i].pid);
        else
            sent += s;
    }
    if (!sent && refused == 1)
        return prun__fail(-EPERM, "cannot send signal %d to process %d", sig, (int)refused_pid);
    if (!sent && refused)
        return prun__fail(-EPERM, "cannot send signal %d to process %d or the %d others below it",
                          sig, (int)refused_pid, refused - 1);
    return sent;
}

/* Whether the caller has a child, of any exit signal.  With none,
 * nothing can be below it (an orphan below a subreaper would be its
 * child), and reading all of /proc, which costs with every process of
 * the system, can be spared: prun(1) asks before it starts anything. */
static int has_children(void)
{
    siginfo_t si;
    int r;
    do
        r = waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT | __WALL);
    while (r < 0 && errno == EINTR);
    return !(r < 0 && errno == ECHILD);
}

int prun_signal_descendants(int sig)
{
    struct proc_list l = {0};
    unsigned char *below = NULL;
    pid_t self;
    int r = proc_self(&self);
    if (r || !has_children() || (r = list_processes(&l)))
        goto out;
    if (!(below = calloc(l.n ? l.n : 1, 1))) {
        r = prun__fail(-ENOMEM, "cannot list the processes");
        goto out;
    }
    mark_descendants(&l, below, self);
    r = signal_marked(&l, below, sig);
out:
    free(below);
    free(l.p);
    return r;
}

static int is_stage(const prun_pipeline *keep, pid_t pid)
{
    if (!keep)
        return 0;
    const struct prun_group *g = prun__pipeline_group(keep);
    for (size_t i = 0; i < g->n; i++)
        if (g->child[i].pid == pid)
            return 1;
    return 0;
}

/* The children of thread tid of self from its children file (pids
 * separated by spaces): 0, 1 if there is none (a thread gone, or a
 * kernel without the files), -errno. */
static int read_children(pid_t self, pid_t tid, struct proc_list *l)
{
    char path[96], buf[512];
    snprintf(path, sizeof path, "/proc/%d/task/%d/children", (int)self, (int)tid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ESRCH ? 1 : prun__fail(-errno, "cannot read %s", path);
    long pid = -1;  /* the number being read, across reads */
    int r = 0;
    while (!r) {
        ssize_t len = read(fd, buf, sizeof buf);
        if (len < 0 && errno == EINTR)
            continue;
        if (len < 0)
            r = prun__fail(-errno, "cannot read %s", path);
        if (len <= 0)
            break;
        for (ssize_t i = 0; i < len && !r; i++) {
            if (isdigit((unsigned char)buf[i]))
                pid = (pid < 0 ? 0 : pid * 10) + (buf[i] - '0');
            else if (pid >= 0)
                r = add_child(l, (pid_t)pid, self), pid = -1;
        }
    }
    if (!r && pid >= 0)
        r = add_child(l, (pid_t)pid, self);
    close(fd);
    return r;
}

/* The threads of self but its main one, in tids (as pids), from
 * /proc/PID/task: closed before any children file is opened, so that the
 * reading needs one fd, however many threads there are. */
static int list_threads(pid_t self, struct proc_list *tids)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", (int)self);
    DIR *d = opendir(path);
    if (!d)
        return prun__fail(-errno, "cannot read %s", path);
    int r = 0;
    while (!r) {
        errno = 0;
        struct dirent *e = readdir(d);
        if (!e) {
            if (errno)
                r = prun__fail(-errno, "cannot read %s", path);
            break;
        }
        pid_t tid = isdigit((unsigned char)e->d_name[0]) ? (pid_t)atoi(e->d_name) : self;
        if (tid != self)
            r = add_child(tids, tid, self);
    }
    closedir(d);
    return r;
}

/* The children of self, from the children files of its threads (Linux
 * 3.5, CONFIG_PROC_CHILDREN): as many reads as threads, where every
 * process's stat is one per process of the system.  0, 1 where the
 * kernel has no such files (the caller reads every stat), or -errno.  A
 * thread that exits meanwhile may hide the children it passes on. */
static int list_children(pid_t self, struct proc_list *l)
{
    struct proc_list tids = {0};
    int r = read_children(self, self, l);  /* the main thread's tells if the files exist */
    if (!r)
        r = list_threads(self, &tids);
    for (size_t i = 0; i < tids.n && !r; i++)
        if ((r = read_children(self, tids.p[i].pid, l)) > 0)
            r = 0;  /* a thread gone since the listing */
    free(tids.p);
    return r;
}

/* The exited children that are not keep's stages (whose statuses are
 * keep's to collect): the orphans a subreaper adopted, once they exit. */
int prun_reap_adopted(const prun_pipeline *keep)
{
    struct proc_list l = {0};
    pid_t self;
    int r = proc_self(&self), reaped = 0;
    if (!r && has_children() && (r = list_children(self, &l)) == 1)
        r = list_processes(&l);
    for (size_t i = 0; i < l.n && !r; i++) {
        siginfo_t si;
        /* A child that runs still is left by WNOHANG. */
        if (l.p[i].ppid != self || is_stage(keep, l.p[i].pid))
            continue;
        memset(&si, 0, sizeof si);
        if (waitid(P_PID, (id_t)l.p[i].pid, &si, WEXITED | WNOHANG | __WALL) == 0 && si.si_pid)
            reaped++;
    }
    free(l.p);
    return r < 0 ? r : reaped;
}
