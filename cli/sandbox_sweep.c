#include "sandbox_sweep.h"
#include "cleanup.h"
#include "log.h"
#include "process.h"
#include "fd_util.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SWEEP_CMDLINE_MAX  65536
#define SWEEP_TERM_MS      2000
#define SWEEP_KILL_WAIT_MS 2000
#define SWEEP_MAX          64

bool sandbox_cmdline_names(const char *cmdline, size_t len, const char *dir)
{
	size_t dir_len = strlen(dir);

	for (size_t off = 0; off < len;) {
		const char *arg = cmdline + off;
		size_t arg_len = strnlen(arg, len - off);

		/* "DIR/" followed by a name: a bare "DIR/" is someone looking at it (pgrep). */
		for (const char *p = arg;
		     (p = memmem(p, arg_len - (size_t)(p - arg), dir, dir_len)) != NULL; p++) {
			if ((p == arg || strchr("=/,:", p[-1]) != NULL) &&
			    (size_t)(p - arg) + dir_len + 1 < arg_len && p[dir_len] == '/')
				return true;
		}
		off += arg_len + 1;
	}
	return false;
}

static bool process_names_dir(pid_t pid, const char *dir)
{
	cleanup_free char *path = xasprintf("/proc/%d/cmdline", pid);
	cleanup_free char *buf = xmalloc(SWEEP_CMDLINE_MAX);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	ssize_t n;

	if (fd < 0)
		return false;
	while (len < SWEEP_CMDLINE_MAX && (n = read(fd, buf + len, SWEEP_CMDLINE_MAX - len)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return false;
		}
		len += (size_t)n;
	}
	return sandbox_cmdline_names(buf, len, dir);
}

/* The live processes naming dir, at most SWEEP_MAX of them. */
static size_t find_processes(const char *dir, struct process_id *found)
{
	cleanup_closedir DIR *proc = opendir("/proc");
	pid_t self = getpid(), parent = getppid();
	struct dirent *de;
	size_t n = 0;

	if (proc == NULL)
		return 0;
	while (n < SWEEP_MAX && (de = readdir(proc)) != NULL) {
		struct process_id id = { 0 };
		pid_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (pid_t)strtol(de->d_name, NULL, 10);
		if (pid == self || pid == parent || !process_names_dir(pid, dir) ||
		    process_identify(pid, &id, NULL) < 0 || !process_is_alive(&id))
			continue;
		found[n++] = id;
	}
	return n;
}

static size_t wait_all_gone(const struct process_id *procs, size_t n, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t alive;

	for (;;) {
		alive = 0;
		for (size_t i = 0; i < n; i++)
			alive += process_is_alive(&procs[i]) ? 1 : 0;
		if (alive == 0 || now_ms() >= deadline)
			return alive;
		usleep(10000);
	}
}

int sandbox_sweep_processes(const char *dir, kata_error_t *err)
{
	struct process_id procs[SWEEP_MAX];
	size_t n = find_processes(dir, procs);

	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		log_debug("sweep: process %d names %s: terminating it", procs[i].pid, dir);
		process_signal(&procs[i], SIGTERM, NULL);
	}
	if (wait_all_gone(procs, n, SWEEP_TERM_MS) == 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		process_signal(&procs[i], SIGKILL, NULL);
	if (wait_all_gone(procs, n, SWEEP_KILL_WAIT_MS) == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (process_is_alive(&procs[i]))
			return kata_error_set(err, EBUSY, "process %d (of `%s`) survived SIGKILL",
			                      procs[i].pid, dir);
	}
	return 0;
}
