/* Watching detached processes through /proc and pidfds (see process.h). */
#include "process.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd_util.h"
#include "json_util.h"

int process_read_stat(pid_t pid, char *state, uint64_t *start_time)
{
	char path[64], buf[1024];
	cleanup_close int fd = -1;
	ssize_t n;
	char *p, *end;

	if (pid <= 0) {
		errno = ESRCH;
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n <= 0) {
		errno = n < 0 ? errno : ESRCH;
		return -1;
	}
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: the fields start after the last ')'. */
	p = strrchr(buf, ')');
	if (p == NULL || p[1] != ' ' || p[2] == '\0') {
		errno = EINVAL;
		return -1;
	}
	p += 2;
	if (state != NULL)
		*state = *p;
	/* field 3 is the state; start time is field 22, i.e. 19 fields further. */
	for (int field = 3; field < 22; field++) {
		p = strchr(p, ' ');
		if (p == NULL) {
			errno = EINVAL;
			return -1;
		}
		p++;
	}
	errno = 0;
	uint64_t value = strtoull(p, &end, 10);
	if (errno != 0 || end == p) {
		errno = EINVAL;
		return -1;
	}
	if (start_time != NULL)
		*start_time = value;
	return 0;
}

bool process_is_alive(const struct process_id *proc)
{
	char state;
	uint64_t start;

	if (proc == NULL || proc->pid <= 0)
		return false;
	if (process_read_stat(proc->pid, &state, &start) < 0)
		return false;
	if (state == 'Z' || state == 'X' || state == 'x')
		return false;
	return proc->start_time == 0 || proc->start_time == start;
}

int process_identify(pid_t pid, struct process_id *proc, kata_error_t *err)
{
	uint64_t start;

	if (process_read_stat(pid, NULL, &start) < 0)
		return kata_error_sys(err, "process %d", (int)pid);
	proc->pid = pid;
	proc->start_time = start;
	return 0;
}

int process_start_daemon(char *const argv[], const struct launch_setup *setup,
                         struct process_id *proc, kata_error_t *err)
{
	pid_t pid;

	if (launch_daemon(argv, setup, &pid, err) < 0)
		return -1;
	if (process_identify(pid, proc, err) < 0) {
		/* only when init reaped it already: it exited at once */
		return kata_error_wrap(err, "%s exited at once", argv[0]);
	}
	return 0;
}

static int pidfd_open_checked(const struct process_id *proc)
{
#ifdef SYS_pidfd_open
	int fd = (int)syscall(SYS_pidfd_open, proc->pid, 0);

	if (fd < 0)
		return -1;
	/* The pidfd pins the pid: checking identity after opening is race-free. */
	if (!process_is_alive(proc)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
#else
	errno = ENOSYS;
	return -1;
#endif
}

int process_wait_gone(const struct process_id *proc, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	cleanup_close int pidfd = -1;

	if (!process_is_alive(proc))
		return 0;
	pidfd = pidfd_open_checked(proc);
	for (;;) {
		int64_t left = deadline - now_ms();

		if (!process_is_alive(proc))
			return 0;
		if (left <= 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (pidfd >= 0) {
			/* A pidfd becomes readable when the process exits (zombie or not). */
			struct pollfd pfd = { .fd = pidfd, .events = POLLIN };

			if (poll(&pfd, 1, (int)(left > 1000 ? 1000 : left)) > 0)
				return 0;
		} else {
			struct timespec ts = { .tv_sec = 0, .tv_nsec = 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
}

int process_signal(const struct process_id *proc, int sig, kata_error_t *err)
{
	cleanup_close int pidfd = -1;

	if (!process_is_alive(proc))
		return 0;
	pidfd = pidfd_open_checked(proc);
#ifdef SYS_pidfd_send_signal
	if (pidfd >= 0) {
		if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
			return kata_error_sys(err, "signal %d to process %d", sig, (int)proc->pid);
		return 0;
	}
#endif
	if (!process_is_alive(proc))
		return 0;
	if (kill(proc->pid, sig) < 0 && errno != ESRCH)
		return kata_error_sys(err, "signal %d to process %d", sig, (int)proc->pid);
	return 0;
}

int process_terminate(const struct process_id *proc, int term_ms, kata_error_t *err)
{
	if (!process_is_alive(proc))
		return 0;
	if (term_ms > 0) {
		if (process_signal(proc, SIGTERM, err) < 0)
			return -1;
		if (process_wait_gone(proc, term_ms) == 0)
			return 0;
	}
	if (process_signal(proc, SIGKILL, err) < 0)
		return -1;
	if (process_wait_gone(proc, 10000) < 0)
		return kata_error_set(err, ETIMEDOUT, "process %d did not die after SIGKILL",
		                      (int)proc->pid);
	return 0;
}

json_object *process_id_to_json(const struct process_id *proc)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "pid", json_object_new_int(proc->pid));
	json_object_object_add(obj, "start_time", json_object_new_uint64(proc->start_time));
	return obj;
}

int process_id_from_json(json_object *obj, const char *key, const char *path,
                         struct process_id *proc, kata_error_t *err)
{
	cleanup_free char *sub_path = json_path_key(path, key);
	json_object *sub = NULL;
	int32_t pid = 0;
	int present;

	proc->pid = 0;
	proc->start_time = 0;
	present = json_get_object(obj, key, path, false, &sub, err);
	if (present <= 0)
		return present;
	if (json_get_int32(sub, "pid", sub_path, true, &pid, err) < 0 ||
	    json_get_uint64(sub, "start_time", sub_path, true, &proc->start_time, err) < 0)
		return -1;
	if (pid < 0 || pid > PROCESS_PID_MAX) {
		proc->start_time = 0;
		return kata_error_set(err, ERANGE, "%s.pid: %d out of range [0, %d]", sub_path, pid,
		                      PROCESS_PID_MAX);
	}
	proc->pid = pid;
	return 1;
}
