#include "stdfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

void shim_stdio_ensure_open(void)
{
	for (int fd = 0; fd <= 2; fd++) {
		int null_fd;

		if (fcntl(fd, F_GETFD) >= 0 || errno != EBADF)
			continue;
		null_fd = open("/dev/null", O_RDWR);
		if (null_fd >= 0 && null_fd != fd) {
			/* A lower number was free too; it is filled in its own turn. */
			dup2(null_fd, fd);
			close(null_fd);
		}
	}
}

void shim_stdio_open(struct shim_stdio *io, int fd, int access)
{
	struct stat st;
	char path[64];
	int reopened;

	io->fd = -1;
	io->owned = false;
	io->restore_fd = -1;
	io->saved_flags = 0;
	if (fstat(fd, &st) < 0)
		return;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		/* O_NONBLOCK: opening a FIFO must not wait for its other end. */
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		reopened = open(path, access | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (reopened >= 0) {
			io->fd = reopened;
			io->owned = true;
			return;
		}
		if (errno == ENXIO && access == O_WRONLY)
			return; /* a FIFO nobody reads any more: output goes nowhere */
	}
	io->fd = fd;
	io->saved_flags = fcntl(fd, F_GETFL);
	if (io->saved_flags >= 0)
		io->restore_fd = fd;
}

void shim_stdio_close(struct shim_stdio *io)
{
	if (io->owned && io->fd >= 0)
		close(io->fd);
	if (io->restore_fd >= 0)
		fcntl(io->restore_fd, F_SETFL, io->saved_flags);
	io->fd = -1;
	io->owned = false;
	io->restore_fd = -1;
}
