#include "spawn.h"
#include "cleanup.h"
#include "fd_util.h"
#include "process_launch.h"
#include "unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

/* Moves fd to target (which may be fd itself) with close-on-exec cleared. */
static int move_fd(int fd, int target)
{
	if (fd == target)
		return fcntl(fd, F_SETFD, 0);
	return dup2(fd, target) < 0 ? -1 : 0;
}

static void shim_child_setup(const struct shim_stdio *stdio)
{
	launch_reset_signals();
	if (stdio->console_fd >= 0) {
		setsid();
		if (ioctl(stdio->console_fd, TIOCSCTTY, 0) < 0 ||
		    move_fd(stdio->console_fd, STDIN_FILENO) < 0 ||
		    move_fd(stdio->console_fd, STDOUT_FILENO) < 0 ||
		    move_fd(stdio->console_fd, STDERR_FILENO) < 0)
			_exit(127);
		if (stdio->console_fd > STDERR_FILENO)
			close(stdio->console_fd);
	}
}

int spawn_shim(char *const argv[], const struct shim_stdio *stdio, struct process_id *shim,
               kata_error_t *err)
{
	pid_t pid = fork();

	if (pid < 0)
		return kata_error_sys(err, "fork");
	if (pid == 0) {
		shim_child_setup(stdio);
		execv(argv[0], argv);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (process_identify(pid, shim, err) < 0)
		return kata_error_wrap(err, "start shim");
	return 0;
}

int exec_shim(char *const argv[], const struct shim_stdio *stdio, kata_error_t *err)
{
	if (stdio->console_fd >= 0) {
		/* A terminal needs a session of its own; setsid fails in a group leader. */
		if (getpgrp() == getpid()) {
			pid_t pid = fork();
			if (pid < 0)
				return kata_error_sys(err, "fork");
			if (pid > 0) {
				int status;
				while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
					;
				_exit(WIFEXITED(status) ? WEXITSTATUS(status)
				                        : 128 + WTERMSIG(status));
			}
		}
		shim_child_setup(stdio);
	}
	execv(argv[0], argv);
	return kata_error_sys(err, "exec `%s`", argv[0]);
}

static int send_fd(int sock, int fd, const char *name, kata_error_t *err)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = (void *)name, .iov_len = strlen(name) };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;

	memset(control, 0, sizeof(control));
	cmsg = CMSG_FIRSTHDR(&msg);
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	while (sendmsg(sock, &msg, 0) < 0) {
		if (errno != EINTR)
			return kata_error_sys(err, "send the console");
	}
	return 0;
}

int console_open_and_send(const char *console_socket, int *slave_fd, kata_error_t *err)
{
	cleanup_close int master = -1;
	cleanup_close int slave = -1;
	cleanup_close int sock = -1;
	char name[64];

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
	    ptsname_r(master, name, sizeof(name)) != 0)
		return kata_error_sys(err, "open a pty");
	slave = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (slave < 0)
		return kata_error_sys(err, "open `%s`", name);
	sock = unix_socket_connect(console_socket, 0, err);
	if (sock < 0)
		return kata_error_wrap(err, "console socket");
	if (send_fd(sock, master, name, err) < 0)
		return -1;
	*slave_fd = steal_fd(&slave);
	return 0;
}

int write_pid_file(const char *path, pid_t pid, kata_error_t *err)
{
	char text[24];
	int len = snprintf(text, sizeof(text), "%d", pid);

	if (file_write_atomic(path, text, (size_t)len, 0644, err) < 0)
		return kata_error_wrap(err, "pid file");
	return 0;
}
