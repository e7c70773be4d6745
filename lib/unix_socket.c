/* Unix socket connect with a deadline (unix_socket.h). */
#include "unix_socket.h"
#include "cleanup.h"

#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>

static int64_t monotonic_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int unix_socket_connect(const char *path, int timeout_ms, kata_error_t *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int64_t deadline = monotonic_ms() + timeout_ms;

	if (strlen(path) >= sizeof(addr.sun_path))
		return kata_error_set(err, ENAMETOOLONG, "socket path too long: `%s`", path);
	strcpy(addr.sun_path, path);
	for (;;) {
		cleanup_close int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd < 0)
			return kata_error_sys(err, "socket");
		if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) == 0)
			return steal_fd(&fd);
		if ((errno != ENOENT && errno != ECONNREFUSED) || monotonic_ms() >= deadline)
			return kata_error_sys(err, "connect to `%s`", path);
		nanosleep(&(struct timespec){ .tv_nsec = 10 * 1000000 }, NULL);
	}
}
