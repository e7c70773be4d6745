/*
 * bench-floor: boot a bare VM with no runtime, proxy or shim, and time it: the floor that
 * kata-runtime's figures are compared with.
 *
 *   bench-floor --ctl SOCK --io SOCK [--channel] [--timeout SECONDS] -- QEMU [ARGS...]
 *
 * qemu runs in the foreground (the caller removes -daemonize). The control and I/O channel
 * sockets (qemu listens on them) are connected as soon as they exist, as kata-proxy does.
 * Default mode, for the agent's initrd: wait for the agent's READY frame on the control
 * channel, send DESTROYPOD (the agent powers the VM off) and wait for qemu to exit. Prints
 *   connected=S ready=S exit=S cpu=S     (seconds since qemu was started; cpu: qemu's)
 * --channel, for bench's vport-writer initrd: count the bytes the guest writes on the I/O
 * channel until qemu exits. Prints
 *   connected=S bytes=N first=S last=S exit=S cpu=S
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd_util.h"
#include "agent_frame.h"
#include "agent_proto.h"

#define READ_CHUNK (256 * 1024)

static double start;

static double elapsed(void)
{
	return (double)now_ns() / 1e9 - start;
}

static void fail(const char *what, const char *why)
{
	fprintf(stderr, "bench-floor: %s: %s\n", what, why);
}

static int connect_unix(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return -1;
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool qemu_gone(pid_t qemu, int *status, struct rusage *ru)
{
	return wait4(qemu, status, WNOHANG, ru) == qemu;
}

/* Both channels, retried until qemu listens on them. */
static int connect_channels(pid_t qemu, const char *ctl, const char *io, int fds[2], double end)
{
	fds[0] = fds[1] = -1;
	while (elapsed() < end) {
		if (fds[0] < 0)
			fds[0] = connect_unix(ctl);
		if (fds[1] < 0)
			fds[1] = connect_unix(io);
		if (fds[0] >= 0 && fds[1] >= 0)
			return 0;
		if (kill(qemu, 0) < 0)
			break;
		usleep(1000);
	}
	return -1;
}

/* The first control frame's code, or -1 for a frame of impossible length. */
static bool first_frame(void *opaque, enum agent_frame_event event, uint64_t code,
                        const unsigned char *payload, size_t length)
{
	int *first = opaque;

	*first = event == AGENT_FRAME_OK ? (int)code : -1;
	return false;
}

/* Reads one control frame (the lib's decoder); returns its code or -1. */
static int read_ctl_frame(int fd, double end)
{
	struct agent_frame_decoder d;
	unsigned char buf[4096];
	int code = -1;

	agent_frame_decoder_init_ctl(&d);
	while (elapsed() <= end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, 50) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n <= 0 || agent_frame_feed(&d, buf, (size_t)n, first_frame, &code) > 0)
			break;
	}
	agent_frame_decoder_free(&d);
	return code;
}

static int send_destroypod(int fd)
{
	static const char payload[] = "{}";
	unsigned char frame[AGENT_CTL_HEADER_SIZE + sizeof(payload) - 1];

	agent_frame_put_ctl_header(frame, AGENT_DESTROYPOD, sizeof(payload) - 1);
	memcpy(frame + AGENT_CTL_HEADER_SIZE, payload, sizeof(payload) - 1);
	return write(fd, frame, sizeof(frame)) == (ssize_t)sizeof(frame) ? 0 : -1;
}

/* Reads the I/O channel until qemu is gone; when it is, *status and *ru are filled. */
static void count_channel(int fd, pid_t qemu, double end, unsigned long long *bytes, double *first,
                          double *last, int *status, struct rusage *ru)
{
	static char buf[READ_CHUNK];

	while (elapsed() < end) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		if (fd >= 0 && poll(&pfd, 1, 20) > 0) {
			ssize_t n = read(fd, buf, sizeof(buf));

			if (n > 0) {
				*last = elapsed();
				if (*bytes == 0)
					*first = *last;
				*bytes += (unsigned long long)n;
				continue;
			}
			fd = -1;
		}
		if (fd < 0)
			usleep(5000);
		if (qemu_gone(qemu, status, ru))
			return;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "ctl", required_argument, NULL, 'c' },
		{ "io", required_argument, NULL, 'i' },
		{ "channel", no_argument, NULL, 'C' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	const char *ctl = NULL, *io = NULL;
	bool channel = false;
	double timeout_s = 120, t_connected, t_ready = 0, t_exit, first = 0, last = 0;
	unsigned long long bytes = 0;
	struct rusage ru = { 0 };
	int fds[2], status = 0, c, code;
	pid_t qemu;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			ctl = optarg;
			break;
		case 'i':
			io = optarg;
			break;
		case 'C':
			channel = true;
			break;
		case 't':
			timeout_s = atof(optarg);
			break;
		default:
			return 2;
		}
	}
	if (ctl == NULL || io == NULL || optind >= argc) {
		fprintf(stderr, "usage: bench-floor --ctl SOCK --io SOCK [--channel] "
		                "[--timeout S] -- QEMU ARGS...\n");
		return 2;
	}
	start = (double)now_ns() / 1e9;
	qemu = fork();
	if (qemu < 0)
		return 1;
	if (qemu == 0) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		execvp(argv[optind], argv + optind);
		fail(argv[optind], "exec failed");
		_exit(127);
	}
	if (connect_channels(qemu, ctl, io, fds, timeout_s) < 0) {
		fail(ctl, "qemu never listened on the channels");
		goto kill_qemu;
	}
	t_connected = elapsed();
	if (channel) {
		count_channel(fds[1], qemu, timeout_s, &bytes, &first, &last, &status, &ru);
	} else {
		if (read_ctl_frame(fds[0], timeout_s) != AGENT_READY) {
			fail(ctl, "no READY from the agent");
			goto kill_qemu;
		}
		t_ready = elapsed();
		if (send_destroypod(fds[0]) < 0) {
			fail(ctl, "DESTROYPOD not sent");
			goto kill_qemu;
		}
		/* Drain the ACK and anything else until qemu is gone. */
		count_channel(fds[0], qemu, timeout_s, &bytes, &first, &last, &status, &ru);
	}
	t_exit = elapsed();
	if (t_exit >= timeout_s) {
		fail(ctl, "qemu did not exit in time");
		goto kill_qemu;
	}
	code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	printf("connected=%.6f", t_connected);
	if (channel)
		printf(" bytes=%llu first=%.6f last=%.6f", bytes, first, last);
	else
		printf(" ready=%.6f", t_ready);
	printf(" exit=%.6f cpu=%.6f status=%d\n", t_exit,
	       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	               ru.ru_stime.tv_usec / 1e6,
	       code);
	return code == 0 ? 0 : 1;
kill_qemu:
	kill(qemu, SIGKILL);
	waitpid(qemu, NULL, 0);
	return 1;
}
