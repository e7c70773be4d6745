/* Process launching for the qemu backend (see launch.h). */
#include "launch.h"

#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "process_launch.h"

static int run_daemonizing(char *const argv[], const struct launch_setup *setup, int timeout_ms,
                           kata_error_t *err);

int launch_daemonizing(char *const argv[], int timeout_ms, kata_error_t *err)
{
	return launch_daemonizing_fds(argv, NULL, 0, 3, timeout_ms, err);
}

/* The foreground process exits once the daemon is ready; the daemon points its own stderr at
 * /dev/null before that, so the output reaches EOF too. */
static int daemonizing_with_fds(char *const argv[], const int *fds, size_t n_fds, int first_fd,
                                bool no_huge_pages, int timeout_ms, kata_error_t *err)
{
	const struct launch_setup setup = {
		.in = LAUNCH_NULL,
		.out = LAUNCH_NULL,
		.err = LAUNCH_CAPTURE,
		.keep_fds = fds,
		.n_keep_fds = n_fds,
		.keep_first = first_fd,
		.no_huge_pages = no_huge_pages,
	};

	return run_daemonizing(argv, &setup, timeout_ms, err);
}

int launch_daemonizing_fds(char *const argv[], const int *fds, size_t n_fds, int first_fd,
                           int timeout_ms, kata_error_t *err)
{
	return daemonizing_with_fds(argv, fds, n_fds, first_fd, false, timeout_ms, err);
}

int launch_daemonizing_clone(char *const argv[], const int *fds, size_t n_fds, int first_fd,
                             int timeout_ms, kata_error_t *err)
{
	return daemonizing_with_fds(argv, fds, n_fds, first_fd, true, timeout_ms, err);
}

static int run_daemonizing(char *const argv[], const struct launch_setup *setup, int timeout_ms,
                           kata_error_t *err)
{
	struct launch_result run;
	cleanup_free char *output = NULL;
	size_t len;

	if (launch_run(argv, setup, timeout_ms, LAUNCH_MAX_STDERR, &run, err) < 0)
		return kata_error_wrap(err, "run %s", argv[0]);
	output = run.output;
	len = run.output_len;
	while (len > 0 && (output[len - 1] == '\n' || output[len - 1] == '\r'))
		output[--len] = '\0';
	if (run.timed_out)
		return kata_error_set(err, ETIMEDOUT, "%s did not start within %d ms%s%s", argv[0],
		                      timeout_ms, len ? ": " : "", output);
	if (WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0)
		return 0;
	if (WIFSIGNALED(run.status))
		return kata_error_set(err, ECHILD, "%s killed by signal %d%s%s", argv[0],
		                      WTERMSIG(run.status), len ? ": " : "", output);
	return kata_error_set(err, ECHILD, "%s exited with status %d%s%s", argv[0],
	                      WEXITSTATUS(run.status), len ? ": " : "", output);
}

int read_pid_file(const char *path, pid_t *pid, kata_error_t *err)
{
	char buf[32];
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	ssize_t n;
	char *end;
	long value;

	if (fd < 0)
		return kata_error_sys(err, "open %s", path);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0)
		return kata_error_set(err, EINVAL, "%s: empty", path);
	buf[n] = '\0';
	errno = 0;
	value = strtol(buf, &end, 10);
	if (errno != 0 || end == buf || value <= 0 || value > INT_MAX ||
	    (*end != '\0' && *end != '\n'))
		return kata_error_set(err, EINVAL, "%s: not a pid", path);
	*pid = (pid_t)value;
	return 0;
}
