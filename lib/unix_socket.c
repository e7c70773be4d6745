/* Unix socket connect with a deadline (unix_socket.h). */
#include "unix_socket.h"
#include "cleanup.h"
#include "fd_util.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

/* Fills addr for path. A path too long for sun_path is reached through an O_PATH descriptor
 * of its directory (*dirfd, kept open while connecting): /proc/self/fd/N/name. */
static int unix_socket_address(const char *path, struct sockaddr_un *addr, int *dirfd,
                               kata_error_t *err)
{
	cleanup_free char *dir_copy = NULL;
	cleanup_free char *base_copy = NULL;
	int r;

	if (strlen(path) < sizeof(addr->sun_path)) {
		memcpy(addr->sun_path, path, strlen(path) + 1);
		return 0;
	}
	dir_copy = xstrdup(path);
	base_copy = xstrdup(path);
	*dirfd = open(dirname(dir_copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (*dirfd < 0)
		return kata_error_sys(err, "open the directory of `%s`", path);
	r = snprintf(addr->sun_path, sizeof(addr->sun_path), "/proc/self/fd/%d/%s", *dirfd,
	             basename(base_copy));
	if (r < 0 || (size_t)r >= sizeof(addr->sun_path))
		return kata_error_set(err, ENAMETOOLONG,
		                      "socket path `%s`: its name is too long for a Unix socket",
		                      path);
	return 0;
}

int unix_socket_connect(const char *path, int timeout_ms, kata_error_t *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_close int dirfd = -1;
	int64_t deadline = now_ms() + timeout_ms;

	if (unix_socket_address(path, &addr, &dirfd, err) < 0)
		return -1;
	for (;;) {
		cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int r;

		if (fd < 0)
			return kata_error_sys(err, "socket");
		do
			r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
		while (r < 0 && errno == EINTR);
		if (r == 0)
			return steal_fd(&fd);
		if ((errno != ENOENT && errno != ECONNREFUSED) || now_ms() >= deadline)
			return kata_error_sys(err, "connect to `%s`", path);
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
}
