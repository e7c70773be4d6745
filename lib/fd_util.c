/* Clock, descriptor and file helpers (fd_util.h). */
#include "fd_util.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t now_ms(void)
{
	return now_ns() / 1000000;
}

int fd_wait(int fd, short events, int64_t deadline, kata_error_t *err)
{
	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = events };
		int64_t left = deadline - now_ms();
		int n;

		if (left <= 0)
			return kata_error_set(err, ETIMEDOUT, "timed out");
		n = poll(&pfd, 1, left > INT32_MAX ? INT32_MAX : (int)left);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kata_error_sys(err, "poll");
		if (n > 0)
			return 0;
	}
}

int fd_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
                      kata_error_t *err)
{
	cleanup_free char *dir_copy = xstrdup(path);
	cleanup_free char *base_copy = xstrdup(path);
	cleanup_free char *tmp = NULL;
	cleanup_close int fd = -1;
	cleanup_close int dirfd = -1;
	const char *dir = dirname(dir_copy);

	tmp = xasprintf("%s/.%s.XXXXXX", dir, basename(base_copy));
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return kata_error_sys(err, "%s: create temporary file", path);
	if (fchmod(fd, mode) < 0 || fd_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		kata_error_sys(err, "%s: write", tmp);
		unlink(tmp);
		return -1;
	}
	if (close(steal_fd(&fd)) < 0) {
		kata_error_sys(err, "%s: close", tmp);
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path) < 0) {
		kata_error_sys(err, "%s: rename", path);
		unlink(tmp);
		return -1;
	}
	/* The rename itself must survive a crash too. */
	dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd >= 0)
		(void)fsync(dirfd);
	return 0;
}
