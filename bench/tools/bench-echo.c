/*
 * bench-echo: the latency of a small stdin-to-stdout round trip through a command that
 * copies its stdin to its stdout (`probe echo` in a container).
 *
 *   bench-echo [--count N] [--size BYTES] [--timeout SECONDS] -- COMMAND [ARGS...]
 *
 * The first round trip waits for the command to come up (a VM boot) and is not counted;
 * then N round trips of SIZE bytes (default 20 of 64) are timed one at a time. Prints the
 * round-trip times in seconds, one per line as rtt=S, then the command's exit status
 * after its stdin was closed (status=N).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd_util.h"

#define MAX_SIZE 4096

static double now(void)
{
	return (double)now_ns() / 1e9;
}

/* Writes SIZE bytes and reads them back; returns the round trip in seconds or -1. */
static double round_trip(int in, int out, const char *msg, size_t size, double timeout_s)
{
	char back[MAX_SIZE];
	size_t got = 0;
	double t0 = now();

	if (write(in, msg, size) != (ssize_t)size)
		return -1;
	while (got < size) {
		struct pollfd pfd = { .fd = out, .events = POLLIN };
		ssize_t n;

		if (now() - t0 > timeout_s)
			return -1;
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = read(out, back + got, size - got);
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	if (memcmp(back, msg, size) != 0)
		return -1;
	return now() - t0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	long count = 20, size = 64;
	double timeout_s = 120;
	int in_pipe[2], out_pipe[2], c, status = 0;
	char msg[MAX_SIZE];
	pid_t child;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			count = atol(optarg);
			break;
		case 's':
			size = atol(optarg);
			break;
		case 't':
			timeout_s = atof(optarg);
			break;
		default:
			return 2;
		}
	}
	if (optind >= argc || size <= 0 || size > MAX_SIZE || count <= 0) {
		fprintf(stderr, "usage: bench-echo [--count N] [--size B] -- COMMAND...\n");
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(in_pipe, O_CLOEXEC) < 0 || pipe2(out_pipe, O_CLOEXEC) < 0)
		return 1;
	child = fork();
	if (child < 0)
		return 1;
	if (child == 0) {
		dup2(in_pipe[0], STDIN_FILENO);
		dup2(out_pipe[1], STDOUT_FILENO);
		execvp(argv[optind], argv + optind);
		_exit(127);
	}
	close(in_pipe[0]);
	close(out_pipe[1]);
	for (long i = 0; i < size; i++)
		msg[i] = (char)('A' + i % 26);
	for (long i = 0; i <= count; i++) {
		double rtt;

		msg[0] = (char)('a' + i % 26); /* each trip's bytes differ from the last */
		rtt = round_trip(in_pipe[1], out_pipe[0], msg, (size_t)size,
		                 i == 0 ? timeout_s : 10);
		if (rtt < 0) {
			fprintf(stderr, "bench-echo: round trip %ld failed\n", i);
			kill(child, SIGKILL);
			waitpid(child, NULL, 0);
			return 1;
		}
		if (i > 0)
			printf("rtt=%.6f\n", rtt);
	}
	close(in_pipe[1]);
	/* Drain until EOF so that the command is never blocked on a full pipe. */
	for (char sink[4096]; read(out_pipe[0], sink, sizeof(sink)) > 0;)
		;
	waitpid(child, &status, 0);
	printf("status=%d\n", WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
	return 0;
}
