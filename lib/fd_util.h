/* Clock, descriptor and file helpers every program shares: one monotonic clock for
 * deadlines, one wait for a descriptor with a deadline, one atomic file write. */
#ifndef KATA_FD_UTIL_H
#define KATA_FD_UTIL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* Monotonic milliseconds, for deadlines (never the wall clock, which jumps). */
int64_t now_ms(void);
/* The same clock in nanoseconds, for measurements finer than a millisecond (bench/). */
int64_t now_ns(void);

/* Waits until fd reports one of events (POLLIN, POLLOUT, ...) or deadline (a now_ms()
 * value) passes. Returns 0 when ready; -1 with err ETIMEDOUT ("timed out") at the
 * deadline, or the poll failure. */
int fd_wait(int fd, short events, int64_t deadline, kata_error_t *err);

/* Writes all of data to fd, retrying short writes and EINTR. Returns 0 or -1 with errno. */
int fd_write_all(int fd, const void *data, size_t len);

/* Replaces path with data atomically: a temporary file in the same directory with the given
 * mode, fsync, rename over path, fsync of the directory. A reader sees the old content or
 * the new, never a part; on failure the temporary file is removed and path is untouched. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      kata_error_t *err);

#endif
