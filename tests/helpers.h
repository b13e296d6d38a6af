/* helpers.h - small utilities shared by the Check suites. */
#ifndef PRUN_TEST_HELPERS_H
#define PRUN_TEST_HELPERS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int th_count_fds(void);          /* entries in /proc/self/fd (minus the one used to list it) */
int th_count_children(void);     /* processes whose parent is us, zombies included */
int64_t th_now_ms(void);         /* CLOCK_MONOTONIC */
char *th_read_all(int fd, size_t *len);                 /* to EOF; NUL-terminated; free() */
char *th_read_file(const char *path, size_t *len);      /* whole file; NUL-terminated; free() */
void th_write_file(const char *path, const char *data, mode_t mode);
char *th_mkdtemp(void);          /* a new directory under $TMPDIR or /tmp; free() the name */
void th_rm_rf(const char *dir);

#endif
