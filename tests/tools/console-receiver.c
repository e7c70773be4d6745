/* console-receiver: the engine's end of runc's --console-socket, for the end-to-end tests.
 *
 *   console-receiver [options] SOCKET
 *
 * Listens on the unix socket SOCKET, accepts one connection and receives the pty master
 * that the runtime sends with SCM_RIGHTS (the message's bytes are the pty's name). Then
 * it relays: everything the terminal prints goes to stdout, and (with --stdin) its own
 * stdin goes to the terminal. It ends when the terminal hangs up (the last holder of the
 * pty's other end, the shim, exited): exit status 0. Options:
 *
 *   --rows N --cols N   set this window size on the pty as soon as it arrives
 *   --input TEXT        type TEXT into the terminal once, after --input-delay-ms
 *   --input-delay-ms N  (default 0)
 *   --stdin             relay stdin to the terminal; at its EOF type ^D once
 *   --timeout SECONDS   give up (exit status 2) after this long (default 60)
 *   --name-file PATH    write the pty's name, as the runtime sent it, into PATH
 *
 * Exit status: 0 hang-up seen, 1 usage or system error, 2 timeout.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "fd_util.h"

#define NAME_MAX_LEN 256
#define BUF_SIZE     4096

struct receiver_options {
	const char *socket_path;
	const char *input;
	const char *name_file;
	unsigned rows, cols;
	long input_delay_ms;
	long timeout_ms;
	bool relay_stdin;
};

static void die(const char *what)
{
	fprintf(stderr, "console-receiver: %s: %s\n", what, strerror(errno));
	exit(1);
}

static long parse_number(const char *text, const char *option)
{
	char *end;
	long value;

	errno = 0;
	value = strtol(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0' || value < 0) {
		fprintf(stderr, "console-receiver: %s: invalid number `%s`\n", option, text);
		exit(1);
	}
	return value;
}

static void parse_options(int argc, char **argv, struct receiver_options *o)
{
	const struct option options[] = {
		{ "rows", required_argument, NULL, 'r' },
		{ "cols", required_argument, NULL, 'c' },
		{ "input", required_argument, NULL, 'i' },
		{ "input-delay-ms", required_argument, NULL, 'D' },
		{ "stdin", no_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "name-file", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(o, 0, sizeof(*o));
	o->timeout_ms = 60000;
	while ((c = getopt_long(argc, argv, "", options, NULL)) != -1) {
		switch (c) {
		case 'r':
			o->rows = (unsigned)parse_number(optarg, "--rows");
			break;
		case 'c':
			o->cols = (unsigned)parse_number(optarg, "--cols");
			break;
		case 'i':
			o->input = optarg;
			break;
		case 'D':
			o->input_delay_ms = parse_number(optarg, "--input-delay-ms");
			break;
		case 's':
			o->relay_stdin = true;
			break;
		case 't':
			o->timeout_ms = parse_number(optarg, "--timeout") * 1000;
			break;
		case 'n':
			o->name_file = optarg;
			break;
		default:
			fprintf(stderr, "usage: console-receiver [options] SOCKET\n");
			exit(1);
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "usage: console-receiver [options] SOCKET\n");
		exit(1);
	}
	o->socket_path = argv[optind];
}

static int listen_on(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path)) {
		errno = ENAMETOOLONG;
		die(path);
	}
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die("socket");
	unlink(path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		die("bind");
	if (listen(fd, 1) < 0)
		die("listen");
	return fd;
}

/* Waits until fd is readable or the deadline passes (then exits with status 2). */
static void wait_readable(int fd, int64_t deadline)
{
	cleanup_error kata_error_t err = NULL;

	if (fd_wait(fd, POLLIN, deadline, &err) == 0)
		return;
	if (err->errno_value == ETIMEDOUT) {
		fprintf(stderr, "console-receiver: timed out waiting for the console\n");
		exit(2);
	}
	errno = err->errno_value;
	die("poll");
}

/* Receives one fd with SCM_RIGHTS; the message's bytes are the pty's name. */
static int receive_console(int conn, char *name, size_t name_size)
{
	char control[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { .iov_base = name, .iov_len = name_size - 1 };
	struct msghdr msg = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = control,
		.msg_controllen = sizeof(control),
	};
	struct cmsghdr *cmsg;
	ssize_t n;
	int fd;

	memset(control, 0, sizeof(control));
	do
		n = recvmsg(conn, &msg, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		die("recvmsg");
	name[n] = '\0';
	cmsg = CMSG_FIRSTHDR(&msg);
	if (cmsg == NULL || cmsg->cmsg_level != SOL_SOCKET || cmsg->cmsg_type != SCM_RIGHTS ||
	    cmsg->cmsg_len != CMSG_LEN(sizeof(int))) {
		fprintf(stderr, "console-receiver: the message carried no file descriptor\n");
		exit(1);
	}
	memcpy(&fd, CMSG_DATA(cmsg), sizeof(int));
	return fd;
}

static void write_name_file(const char *path, const char *name)
{
	FILE *f = fopen(path, "w");

	if (f == NULL)
		die(path);
	fprintf(f, "%s\n", name);
	if (fclose(f) != 0)
		die(path);
}

/* Copies the terminal to stdout (and stdin to the terminal) until the terminal hangs up. */
static int relay(int master, const struct receiver_options *o, long long deadline)
{
	long long input_at = now_ms() + o->input_delay_ms;
	bool input_pending = o->input != NULL;
	bool stdin_open = o->relay_stdin;
	char buf[BUF_SIZE];

	for (;;) {
		struct pollfd p[2] = { { .fd = master, .events = POLLIN },
			               { .fd = STDIN_FILENO, .events = POLLIN } };
		long long now = now_ms();
		long long wake = deadline;
		ssize_t n;
		int ready;

		if (input_pending && now >= input_at) {
			if (fd_write_all(master, o->input, strlen(o->input)) < 0)
				die("write to the terminal");
			input_pending = false;
		}
		if (input_pending && input_at < wake)
			wake = input_at;
		if (now >= deadline) {
			fprintf(stderr,
			        "console-receiver: timed out: the terminal did not hang up\n");
			return 2;
		}
		ready = poll(p, stdin_open ? 2 : 1, (int)(wake - now));
		if (ready < 0 && errno != EINTR)
			die("poll");
		if (ready <= 0)
			continue;
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			n = read(master, buf, sizeof(buf));
			/* EIO: nobody holds the pty's other end any more. */
			if (n == 0 || (n < 0 && errno == EIO))
				return 0;
			if (n < 0 && errno != EINTR && errno != EAGAIN)
				die("read the terminal");
			if (n > 0 && fd_write_all(STDOUT_FILENO, buf, (size_t)n) < 0)
				die("write stdout");
		}
		if (stdin_open && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read(STDIN_FILENO, buf, sizeof(buf));
			if (n > 0 && fd_write_all(master, buf, (size_t)n) < 0)
				die("write to the terminal");
			if (n == 0) {
				/* The terminal's end-of-file character, as a person would type it. */
				if (fd_write_all(master, "\x04", 1) < 0)
					die("write to the terminal");
				stdin_open = false;
			}
		}
	}
}

int main(int argc, char **argv)
{
	struct receiver_options o;
	char name[NAME_MAX_LEN];
	long long deadline;
	int listener, conn, master;

	parse_options(argc, argv, &o);
	deadline = now_ms() + o.timeout_ms;
	listener = listen_on(o.socket_path);
	wait_readable(listener, deadline);
	conn = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	if (conn < 0)
		die("accept");
	close(listener);
	unlink(o.socket_path);
	wait_readable(conn, deadline);
	master = receive_console(conn, name, sizeof(name));
	close(conn);
	fprintf(stderr, "console-receiver: received %s\n", name);
	if (o.name_file != NULL)
		write_name_file(o.name_file, name);
	if (o.rows > 0 && o.cols > 0) {
		struct winsize ws = { .ws_row = (unsigned short)o.rows,
			              .ws_col = (unsigned short)o.cols };
		if (ioctl(master, TIOCSWINSZ, &ws) < 0)
			die("set the window size");
	}
	return relay(master, &o, deadline);
}
