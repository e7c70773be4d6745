/*
 * bench-run: time one command the way a benchmark needs it, and print key=value figures.
 *
 *   bench-run [--stdin FILE] [--stdout FILE | --count-stdout] [--stderr FILE]
 *             [--timeout SECONDS] [--no-tree] -- COMMAND [ARGS...]
 *
 * It is a subreaper, so that what the command daemonizes (qemu, kata-proxy) is reparented
 * here: their CPU time is counted and "tree" is when the last of them is gone. Printed:
 *   start=EPOCH      wall-clock time the command was started (to line up with logs)
 *   status=N         the command's exit status (128+N for death by signal N)
 *   wall=S           start until the command itself exited
 *   tree=S           start until every descendant exited (not with --no-tree)
 *   cpu=S            user+system CPU time of every descendant reaped
 *   bytes=N first=S last=S   with --count-stdout: bytes read from its stdout, and when the
 *                    first and the last of them arrived
 * --no-tree: do not wait for descendants that outlive the command (run -d, daemons).
 * --timeout: the command's process group is killed after that many seconds (status 124).
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
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fd_util.h"

#define READ_CHUNK (256 * 1024)

struct options {
	const char *stdin_path, *stdout_path, *stderr_path;
	bool count_stdout, no_tree;
	double timeout_s;
};

static double now(void)
{
	return (double)now_ns() / 1e9;
}

static double epoch(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what)
{
	fprintf(stderr, "bench-run: %s: %s\n", what, strerror(errno));
	exit(125);
}

static void redirect(const char *path, int target, int flags)
{
	int fd;

	if (path == NULL)
		return;
	fd = open(path, flags | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, target) < 0)
		die(path);
	close(fd);
}

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "stdin", required_argument, NULL, 'i' },
		{ "stdout", required_argument, NULL, 'o' },
		{ "stderr", required_argument, NULL, 'e' },
		{ "count-stdout", no_argument, NULL, 'c' },
		{ "no-tree", no_argument, NULL, 'n' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+", longopts, NULL)) != -1) {
		switch (c) {
		case 'i':
			o->stdin_path = optarg;
			break;
		case 'o':
			o->stdout_path = optarg;
			break;
		case 'e':
			o->stderr_path = optarg;
			break;
		case 'c':
			o->count_stdout = true;
			break;
		case 'n':
			o->no_tree = true;
			break;
		case 't':
			o->timeout_s = atof(optarg);
			break;
		default:
			return -1;
		}
	}
	return optind < argc ? optind : -1;
}

static int exit_code(int status)
{
	return WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
}

int main(int argc, char **argv)
{
	struct options o = { .stdin_path = "/dev/null", .timeout_s = 600 };
	int first = parse_options(argc, argv, &o);
	int out_pipe[2] = { -1, -1 };
	static char buf[READ_CHUNK];
	unsigned long long bytes = 0;
	double start, t_first = 0, t_last = 0, t_exit = 0, t_tree = 0, deadline;
	double start_epoch;
	int status = 0, code = -1;
	bool child_done = false, timed_out = false;
	pid_t child;
	struct rusage ru;

	if (first < 0) {
		fprintf(stderr, "usage: bench-run [--stdin F] [--stdout F | --count-stdout] "
		                "[--stderr F] [--timeout S] [--no-tree] -- COMMAND...\n");
		return 125;
	}
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		die("PR_SET_CHILD_SUBREAPER");
	if (o.count_stdout && pipe2(out_pipe, O_CLOEXEC) < 0)
		die("pipe");
	start_epoch = epoch();
	start = now();
	deadline = start + o.timeout_s;
	child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		setpgid(0, 0);
		redirect(o.stdin_path, STDIN_FILENO, O_RDONLY);
		if (o.count_stdout)
			dup2(out_pipe[1], STDOUT_FILENO);
		else
			redirect(o.stdout_path ? o.stdout_path : "/dev/null", STDOUT_FILENO,
			         O_WRONLY | O_CREAT | O_TRUNC);
		redirect(o.stderr_path, STDERR_FILENO, O_WRONLY | O_CREAT | O_TRUNC);
		execvp(argv[first], argv + first);
		fprintf(stderr, "bench-run: exec %s: %s\n", argv[first], strerror(errno));
		_exit(127);
	}
	setpgid(child, child);
	if (o.count_stdout)
		close(out_pipe[1]);

	/* Read the command's stdout (when counted) while reaping whatever exits. */
	for (;;) {
		pid_t pid;
		int st;

		while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
			if (pid == child) {
				status = st;
				child_done = true;
				t_exit = now();
			}
		}
		if (pid < 0 && errno == ECHILD) {
			t_tree = now();
			break;
		}
		if (child_done && out_pipe[0] < 0 && o.no_tree)
			break;
		if (now() > deadline && !timed_out) {
			timed_out = true;
			kill(-child, SIGKILL);
		}
		if (out_pipe[0] >= 0) {
			struct pollfd pfd = { .fd = out_pipe[0], .events = POLLIN };

			if (poll(&pfd, 1, 20) > 0) {
				ssize_t n = read(out_pipe[0], buf, sizeof(buf));

				if (n > 0) {
					t_last = now();
					if (bytes == 0)
						t_first = t_last;
					bytes += (unsigned long long)n;
				} else if (n == 0 || errno != EINTR) {
					close(out_pipe[0]);
					out_pipe[0] = -1;
				}
			}
		} else {
			usleep(2000);
		}
	}
	getrusage(RUSAGE_CHILDREN, &ru);
	code = timed_out ? 124 : exit_code(status);
	printf("start=%.6f status=%d wall=%.6f", start_epoch, code, t_exit - start);
	if (!o.no_tree)
		printf(" tree=%.6f", t_tree - start);
	printf(" cpu=%.6f", ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	                            ru.ru_stime.tv_usec / 1e6);
	if (o.count_stdout)
		printf(" bytes=%llu first=%.6f last=%.6f", bytes, t_first ? t_first - start : 0,
		       t_last ? t_last - start : 0);
	printf("\n");
	return code == 0 ? 0 : 1;
}
