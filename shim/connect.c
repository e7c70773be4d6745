/* Connecting to the proxy's unix socket, whatever the length of its path. */
#include "connect.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int shim_connect_unix(const char *path, kata_error_t *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_close int fd = -1;
	cleanup_close int dirfd = -1;
	int r;

	if (strlen(path) < sizeof(addr.sun_path)) {
		memcpy(addr.sun_path, path, strlen(path) + 1);
	} else {
		/* Too long for sun_path: go through a descriptor of its directory. */
		cleanup_free char *dir_copy = xstrdup(path);
		cleanup_free char *base_copy = xstrdup(path);
		const char *base = basename(base_copy);

		dirfd = open(dirname(dir_copy), O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dirfd < 0)
			return kata_error_sys(err, "open the directory of `%s`", path);
		r = snprintf(addr.sun_path, sizeof(addr.sun_path), "/proc/self/fd/%d/%s", dirfd,
		             base);
		if (r < 0 || (size_t)r >= sizeof(addr.sun_path))
			return kata_error_set(err, ENAMETOOLONG, "socket path `%s`: name too long",
			                      path);
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return kata_error_sys(err, "socket");
	do
		r = connect(fd, (struct sockaddr *)&addr, sizeof(addr));
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return kata_error_sys(err, "connect to `%s`", path);
	return steal_fd(&fd);
}
