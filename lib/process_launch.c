/* The one way of starting programs (process_launch.h). */
#include "process_launch.h"
#include "cleanup.h"
#include "fd_util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CLOSE_RANGE_UNSHARE
#include <linux/close_range.h>
#endif

/* More kept descriptors than this is a caller's bug (qemu takes one per tap queue). */
#define LAUNCH_MAX_KEEP 64
/* How long launch_run waits for EOF after the program exited. */
#define LAUNCH_EXIT_GRACE_MS 500

extern char **environ;

/* The descriptors the parent opened for the child's streams. */
struct child_streams {
	int null_fd;
	int log_fd;
	int capture_fd;
};

/* The C library refuses to touch the signals it reserves for itself (32 and 33 in glibc),
 * yet an ignored one is inherited across exec: the kernel is told directly. All-zero past
 * the handler (no flags, no restorer, empty mask) is the same on every architecture. */
static void reset_reserved_signal(int sig)
{
	struct {
		void *handler;
		unsigned long flags;
		void *restorer;
		unsigned long mask;
	} kernel_action = { .handler = NULL }; /* SIG_DFL */

	(void)syscall(SYS_rt_sigaction, sig, &kernel_action, NULL, sizeof(kernel_action.mask));
}

void launch_reset_signals(void)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int sig = 1; sig < NSIG; sig++) {
		/* fails harmlessly for SIGKILL and SIGSTOP */
		if (signal(sig, SIG_DFL) == SIG_ERR && sig > SIGSYS && sig < SIGRTMIN)
			reset_reserved_signal(sig);
	}
}

static int stream_source(int choice, int target, const struct child_streams *c)
{
	switch (choice) {
	case LAUNCH_NULL:
		return c->null_fd;
	case LAUNCH_INHERIT:
		return target;
	case LAUNCH_CAPTURE:
		return c->capture_fd;
	case LAUNCH_LOG:
		return c->log_fd;
	default:
		return choice;
	}
}

/* Closes [first, last] (last may be ~0U). */
static void close_fds(unsigned int first, unsigned int last)
{
	long max = sysconf(_SC_OPEN_MAX);

	if (first > last || close_range(first, last, 0) == 0)
		return;
	for (long fd = first; fd <= (long)last && fd < (max > 0 ? max : 1024); fd++)
		close((int)fd);
}

static void __attribute__((noreturn)) child_fail(const char *what, const char *program)
{
	dprintf(STDERR_FILENO, "%s %s: %s\n", what, program, strerror(errno));
	_exit(127);
}

/* In the forked child: clean signal state, the chosen streams at 0-2 and the kept fds at
 * keep_first..., nothing else, then exec. Never returns. */
static void __attribute__((noreturn))
exec_child(char *const argv[], const struct launch_setup *s, const struct child_streams *c)
{
	int sources[3 + LAUNCH_MAX_KEEP], targets[3 + LAUNCH_MAX_KEEP], copies[3 + LAUNCH_MAX_KEEP];
	const char *program = s->path != NULL ? s->path : argv[0];
	size_t n = 3;
	int above = 3;

	launch_reset_signals();
	if (s->own_group)
		setpgid(0, 0);
	/* Best effort: without it the program only uses more memory. */
	if (s->no_huge_pages)
		(void)prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0);
	sources[0] = stream_source(s->in, STDIN_FILENO, c);
	sources[1] = stream_source(s->out, STDOUT_FILENO, c);
	sources[2] = stream_source(s->err, STDERR_FILENO, c);
	for (int i = 0; i < 3; i++)
		targets[i] = i;
	for (size_t i = 0; i < s->n_keep_fds; i++, n++) {
		sources[n] = s->keep_fds[i];
		targets[n] = s->keep_first + (int)i;
	}
	if (s->n_keep_fds > 0)
		above = s->keep_first + (int)s->n_keep_fds;
	/* Copies above every target first, so that no source is overwritten before it is
	 * copied; the copies are close-on-exec, the dup2'd targets are not. */
	for (size_t i = 0; i < n; i++) {
		copies[i] = fcntl(sources[i], F_DUPFD_CLOEXEC, above);
		/* an inherited stream the caller does not have stays closed */
		if (copies[i] < 0 && !(i < 3 && sources[i] == targets[i] && errno == EBADF))
			child_fail("set up descriptors for", program);
	}
	for (size_t i = 0; i < n; i++) {
		if (copies[i] < 0)
			close(targets[i]);
		else if (dup2(copies[i], targets[i]) < 0)
			child_fail("set up descriptors for", program);
	}
	if (s->n_keep_fds > 0) {
		close_fds(3, (unsigned int)s->keep_first - 1);
		close_fds((unsigned int)above, ~0U);
	} else {
		close_fds(3, ~0U);
	}
	execve(program, argv, s->envp != NULL ? s->envp : environ);
	child_fail("exec", program);
}

static bool wants(const struct launch_setup *s, int choice)
{
	return s->in == choice || s->out == choice || s->err == choice;
}

/* Opens /dev/null and the log the child's streams need. */
static int open_streams(const struct launch_setup *s, struct child_streams *c, kata_error_t *err)
{
	c->null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
	c->log_fd = -1;
	if (c->null_fd < 0)
		return kata_error_sys(err, "open /dev/null");
	if (!wants(s, LAUNCH_LOG) || s->log_path == NULL) {
		c->log_fd = c->null_fd;
		return 0;
	}
	c->log_fd = open(s->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (c->log_fd < 0)
		return kata_error_sys(err, "open %s", s->log_path);
	return 0;
}

static void close_streams(struct child_streams *c)
{
	if (c->log_fd >= 0 && c->log_fd != c->null_fd)
		close(c->log_fd);
	if (c->null_fd >= 0)
		close(c->null_fd);
	c->null_fd = c->log_fd = -1;
}

/* What the child could only report by exiting 127 is refused here, with a clear error. */
static int check_setup(char *const argv[], const struct launch_setup *s, bool capture,
                       kata_error_t *err)
{
	if (s->n_keep_fds > LAUNCH_MAX_KEEP || (s->n_keep_fds > 0 && s->keep_first < 3))
		return kata_error_set(err, EINVAL, "start `%s`: %zu fds kept from %d", argv[0],
		                      s->n_keep_fds, s->keep_first);
	if (!capture && wants(s, LAUNCH_CAPTURE))
		return kata_error_set(err, EINVAL, "start `%s`: output captured only by launch_run",
		                      argv[0]);
	return 0;
}

static pid_t fork_program(char *const argv[], const struct launch_setup *setup, int capture_fd,
                          kata_error_t *err)
{
	struct child_streams c = { -1, -1, capture_fd };
	pid_t pid;

	if (check_setup(argv, setup, capture_fd >= 0, err) < 0)
		return -1;
	if (open_streams(setup, &c, err) < 0) {
		close_streams(&c);
		return -1;
	}
	pid = fork();
	if (pid == 0)
		exec_child(argv, setup, &c);
	if (pid < 0)
		kata_error_sys(err, "fork");
	close_streams(&c);
	return pid;
}

pid_t launch_program(char *const argv[], const struct launch_setup *setup, kata_error_t *err)
{
	return fork_program(argv, setup, -1, err);
}

int launch_daemon(char *const argv[], const struct launch_setup *setup, pid_t *pid,
                  kata_error_t *err)
{
	struct child_streams c = { -1, -1, -1 };
	cleanup_close int rd = -1, wr = -1;
	pid_t middle, daemon_pid = -1;
	int pipefd[2];
	ssize_t n;

	if (check_setup(argv, setup, false, err) < 0)
		return -1;
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return kata_error_sys(err, "pipe");
	rd = pipefd[0];
	wr = pipefd[1];
	if (open_streams(setup, &c, err) < 0) {
		close_streams(&c);
		return -1;
	}
	middle = fork();
	if (middle == 0) {
		pid_t grandchild;

		setsid();
		grandchild = fork();
		if (grandchild == 0)
			exec_child(argv, setup, &c);
		/* Tell the caller who the daemon is, then leave it to be reparented. */
		(void)!write(wr, &grandchild, sizeof(grandchild));
		_exit(grandchild < 0 ? 1 : 0);
	}
	close_streams(&c);
	if (middle < 0)
		return kata_error_sys(err, "fork");
	close(steal_fd(&wr));
	do
		n = read(rd, &daemon_pid, sizeof(daemon_pid));
	while (n < 0 && errno == EINTR);
	while (waitpid(middle, NULL, 0) < 0 && errno == EINTR)
		;
	if (n != sizeof(daemon_pid) || daemon_pid <= 0)
		return kata_error_set(err, ECHILD, "start `%s`: fork failed", argv[0]);
	*pid = daemon_pid;
	return 0;
}

static int pidfd_open_child(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* Milliseconds to sleep or poll for: what is left, capped. */
static int poll_ms(int64_t left, int64_t cap)
{
	if (left < 0)
		return 0;
	return (int)(left < cap ? left : cap);
}

int launch_wait(pid_t pid, int64_t deadline, int *status, kata_error_t *err)
{
	/* A pidfd becomes readable when the child exits; without one, look every 10 ms. */
	cleanup_close int pidfd = pidfd_open_child(pid);

	for (;;) {
		pid_t r = waitpid(pid, status, WNOHANG);
		int64_t left;

		if (r == pid)
			return 1;
		if (r < 0 && errno != EINTR)
			return kata_error_sys(err, "wait for process %d", (int)pid);
		left = deadline - now_ms();
		if (left <= 0)
			return 0;
		if (pidfd >= 0)
			(void)poll(&(struct pollfd){ .fd = pidfd, .events = POLLIN }, 1,
			           poll_ms(left, INT_MAX));
		else
			(void)poll(NULL, 0, poll_ms(left, 10));
	}
}

void launch_kill_and_reap(pid_t pid, bool group, int *status)
{
	int ignored;

	if (group)
		kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
	while (waitpid(pid, status != NULL ? status : &ignored, 0) < 0 && errno == EINTR)
		;
}

/* Reads what is there into the result, dropping what exceeds max_output. Returns false at
 * EOF (or a read error). */
static bool read_output(int fd, struct launch_result *result, size_t max_output)
{
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	size_t take;

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return true;
	if (n <= 0)
		return false;
	take = (size_t)n < max_output - result->output_len ? (size_t)n
	                                                   : max_output - result->output_len;
	memcpy(result->output + result->output_len, chunk, take);
	result->output_len += take;
	return true;
}

int launch_run(char *const argv[], const struct launch_setup *setup, int timeout_ms,
               size_t max_output, struct launch_result *result, kata_error_t *err)
{
	int64_t deadline = now_ms() + timeout_ms, exited_at = 0;
	cleanup_close int rd = -1, wr = -1, pidfd = -1;
	bool exited = false, eof;
	pid_t pid;

	memset(result, 0, sizeof(*result));
	if (wants(setup, LAUNCH_CAPTURE)) {
		int pipefd[2];

		if (pipe2(pipefd, O_CLOEXEC) < 0)
			return kata_error_sys(err, "pipe");
		rd = pipefd[0];
		wr = pipefd[1];
	}
	pid = fork_program(argv, setup, wr, err);
	if (pid < 0)
		return -1;
	close(steal_fd(&wr));
	result->output = xzalloc(max_output + 1);
	eof = rd < 0;
	pidfd = pidfd_open_child(pid);
	while (!exited || !eof) {
		int64_t now = now_ms(), until;
		struct pollfd pfds[2];
		nfds_t n = 0;

		if (!exited && now >= deadline) {
			launch_kill_and_reap(pid, setup->own_group, &result->status);
			result->timed_out = true;
			break;
		}
		/* Something it started may keep the output open: that must not hold us up. */
		if (exited && (now >= deadline || now - exited_at >= LAUNCH_EXIT_GRACE_MS))
			break;
		until = exited && exited_at + LAUNCH_EXIT_GRACE_MS < deadline
		                ? exited_at + LAUNCH_EXIT_GRACE_MS
		                : deadline;
		if (!eof)
			pfds[n++] = (struct pollfd){ .fd = rd, .events = POLLIN };
		if (!exited && pidfd >= 0)
			pfds[n++] = (struct pollfd){ .fd = pidfd, .events = POLLIN };
		if (poll(pfds, n, poll_ms(until - now, exited || pidfd >= 0 ? INT_MAX : 10)) < 0 &&
		    errno != EINTR) {
			kata_error_sys(err, "poll");
			launch_kill_and_reap(pid, setup->own_group, NULL);
			free(steal_pointer(&result->output));
			return -1;
		}
		if (!eof && pfds[0].revents != 0)
			eof = !read_output(rd, result, max_output);
		if (!exited) {
			pid_t r = waitpid(pid, &result->status, WNOHANG);

			if (r == pid) {
				exited = true;
				exited_at = now_ms();
			} else if (r < 0 && errno != EINTR) {
				kata_error_sys(err, "wait for `%s`", argv[0]);
				free(steal_pointer(&result->output));
				return -1;
			}
		}
	}
	result->output[result->output_len] = '\0';
	return 0;
}
