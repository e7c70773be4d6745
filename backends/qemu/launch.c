/* Process launching for the qemu backend (see launch.h). */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"

#ifndef CLOSE_RANGE_UNSHARE
#include <linux/close_range.h>
#endif

/* The fds a child keeps beyond 0-2: fds[i] becomes first + i. */
struct kept_fds {
	const int *fds;
	size_t n;
	int first;
};

/* In a forked child: moves the kept fds to their numbers (through copies above them, so that
 * no source is overwritten before it is copied) and closes every other fd above 2. */
static int place_kept_fds(const struct kept_fds *kept)
{
	int high[16];
	int above = kept->first + (int)kept->n;

	if (kept->n > sizeof(high) / sizeof(high[0]) || kept->first < 3)
		return -1;
	for (size_t i = 0; i < kept->n; i++) {
		high[i] = fcntl(kept->fds[i], F_DUPFD_CLOEXEC, above);
		if (high[i] < 0)
			return -1;
	}
	for (size_t i = 0; i < kept->n; i++)
		if (dup2(high[i], kept->first + (int)i) < 0) /* the copy is not close-on-exec */
			return -1;
	/* The copies above are close-on-exec: they go at exec. */
	if (close_range(3, (unsigned int)kept->first - 1, 0) < 0 && kept->first > 3)
		return -1;
	return 0;
}

/* In a forked child: a clean signal state and only fds 0-2 (and kept ones), then exec.
 * Never returns. */
static void __attribute__((noreturn))
exec_child_keeping(char *const argv[], int in, int out, int errfd, const struct kept_fds *kept)
{
	sigset_t all;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL); /* fails harmlessly for SIGKILL, SIGSTOP and RT gaps */
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(127);
	if (kept != NULL && kept->n > 0) {
		if (place_kept_fds(kept) < 0) {
			dprintf(2, "keep fds for %s: %s\n", argv[0], strerror(errno));
			_exit(127);
		}
		/* everything else is close-on-exec or closed above; fds past the kept
		 * ones may still be inheritable, so close them */
		close_range((unsigned int)(kept->first + (int)kept->n), ~0U, CLOSE_RANGE_CLOEXEC);
	} else if (close_range(3, ~0U, 0) < 0) {
		for (int fd = 3; fd < 1024; fd++)
			close(fd);
	}
	execv(argv[0], argv);
	dprintf(2, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static void __attribute__((noreturn)) exec_child(char *const argv[], int in, int out, int errfd)
{
	exec_child_keeping(argv, in, out, errfd, NULL);
}

static int open_log(const char *log_path, kata_error_t *err)
{
	int fd;

	if (log_path == NULL)
		fd = open("/dev/null", O_WRONLY | O_CLOEXEC);
	else
		fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return kata_error_sys(err, "open %s", log_path != NULL ? log_path : "/dev/null");
	return fd;
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int launch_daemonizing(char *const argv[], int timeout_ms, kata_error_t *err)
{
	return launch_daemonizing_fds(argv, NULL, 0, 3, timeout_ms, err);
}

int launch_daemonizing_fds(char *const argv[], const int *fds, size_t n_fds, int first_fd,
                           int timeout_ms, kata_error_t *err)
{
	struct kept_fds kept = { fds, n_fds, first_fd };
	int64_t deadline = process_now_ms() + timeout_ms;
	cleanup_close int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	cleanup_close int rd = -1, wr = -1;
	cleanup_free char *output = xzalloc(LAUNCH_MAX_STDERR + 1);
	size_t output_len = 0;
	int pipefd[2], status = 0;
	bool exited = false, eof = false;
	int64_t exited_at = 0;
	pid_t pid;

	if (null_fd < 0)
		return kata_error_sys(err, "open /dev/null");
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return kata_error_sys(err, "pipe");
	rd = pipefd[0];
	wr = pipefd[1];
	pid = fork();
	if (pid < 0)
		return kata_error_sys(err, "fork");
	if (pid == 0)
		exec_child_keeping(argv, null_fd, null_fd, wr, &kept);
	close(steal_fd(&wr));

	/* The foreground process exits once the daemon is ready; the daemon points its own
	 * stderr at /dev/null before that, so the pipe reaches EOF too. */
	while (!exited || !eof) {
		int64_t left = deadline - process_now_ms();
		struct pollfd pfd = { .fd = rd, .events = POLLIN };

		if (left <= 0) {
			if (!exited)
				kill_and_reap(pid);
			return kata_error_set(err, ETIMEDOUT, "%s did not start within %d ms%s%s",
			                      argv[0], timeout_ms, output_len ? ": " : "", output);
		}
		if (!eof && poll(&pfd, 1, (int)(left > 50 ? 50 : left)) > 0) {
			char buf[4096];
			ssize_t n = read(rd, buf, sizeof(buf));

			if (n > 0) {
				size_t keep = (size_t)n;

				if (keep > LAUNCH_MAX_STDERR - output_len)
					keep = LAUNCH_MAX_STDERR - output_len;
				memcpy(output + output_len, buf, keep);
				output_len += keep;
			} else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
				eof = true;
			}
		} else if (eof) {
			struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
		if (!exited) {
			pid_t r = waitpid(pid, &status, WNOHANG);

			if (r == pid)
				exited = true;
			else if (r < 0 && errno != EINTR)
				return kata_error_sys(err, "waitpid %s", argv[0]);
		}
		/* A daemon that forgot to close stderr must not hold us up. */
		if (exited && !eof) {
			if (exited_at == 0)
				exited_at = process_now_ms();
			else if (process_now_ms() - exited_at > 500)
				break;
		}
	}
	while (output_len > 0 && (output[output_len - 1] == '\n' || output[output_len - 1] == '\r'))
		output[--output_len] = '\0';
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return kata_error_set(err, ECHILD, "%s killed by signal %d%s%s", argv[0],
		                      WTERMSIG(status), output_len ? ": " : "", output);
	return kata_error_set(err, ECHILD, "%s exited with status %d%s%s", argv[0],
	                      WEXITSTATUS(status), output_len ? ": " : "", output);
}

int launch_detached(char *const argv[], const char *log_path, struct process_id *proc,
                    kata_error_t *err)
{
	cleanup_close int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	cleanup_close int log_fd = -1, rd = -1, wr = -1;
	int pipefd[2], status;
	pid_t child, grandchild = -1;
	ssize_t n;

	if (null_fd < 0)
		return kata_error_sys(err, "open /dev/null");
	log_fd = open_log(log_path, err);
	if (log_fd < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return kata_error_sys(err, "pipe");
	rd = pipefd[0];
	wr = pipefd[1];
	child = fork();
	if (child < 0)
		return kata_error_sys(err, "fork");
	if (child == 0) {
		pid_t pid;

		setsid();
		pid = fork();
		if (pid == 0)
			exec_child(argv, null_fd, log_fd, log_fd);
		/* Tell the runtime who the daemon is, then leave it to init. */
		(void)!write(wr, &pid, sizeof(pid));
		_exit(pid < 0 ? 1 : 0);
	}
	close(steal_fd(&wr));
	do {
		n = read(rd, &grandchild, sizeof(grandchild));
	} while (n < 0 && errno == EINTR);
	while (waitpid(child, &status, 0) < 0 && errno == EINTR)
		;
	if (n != sizeof(grandchild) || grandchild <= 0)
		return kata_error_set(err, ECHILD, "could not start %s", argv[0]);
	if (process_identify(grandchild, proc, err) < 0) {
		/* It exited already (exec failure): the zombie's stat is still readable, so
		 * this only happens when init reaped it. */
		return kata_error_wrap(err, "%s exited at once", argv[0]);
	}
	return 0;
}

pid_t launch_child(char *const argv[], const char *log_path, kata_error_t *err)
{
	cleanup_close int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	cleanup_close int log_fd = -1;
	pid_t pid;

	if (null_fd < 0)
		return kata_error_sys(err, "open /dev/null");
	log_fd = open_log(log_path, err);
	if (log_fd < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return kata_error_sys(err, "fork");
	if (pid == 0)
		exec_child(argv, null_fd, log_fd, log_fd);
	return pid;
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
