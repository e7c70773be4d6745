/* The VM's companion daemon: virtiofsd serves the guest's root filesystems, and a VM
 * whose virtiofsd died runs on with every container's files gone (qemu does not stop when
 * its vhost-user backend leaves). Kata's runtime stopped such a sandbox; here the proxy,
 * which lives as long as the VM, watches the daemon's pidfd and kills the VM's process
 * when it exits. The channels then close, and everything ends as on any VM death: the
 * shims exit 255, the container is stopped, delete removes the rest. */
#include "proxy.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* Field 22 of /proc/PID/stat, after the command name (which may hold spaces and ')'). */
static int read_start_time(int pid, uint64_t *start_time)
{
	char path[64], buf[1024];
	cleanup_close int fd = -1;
	ssize_t n;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
		return -1;
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (p == NULL)
		return -1;
	/* Each step finds the space before field `field`: ") S ppid ..." starts field 3. */
	for (int field = 3; field <= 22; field++) {
		p = strchr(p + 1, ' ');
		if (p == NULL)
			return -1;
	}
	return sscanf(p + 1, "%" SCNu64, start_time) == 1 ? 0 : -1;
}

/* A pidfd of exactly that process (the pidfd pins the pid, then the start time is
 * checked), or -1 with errno ESRCH when it is gone. */
static int open_process(const struct proxy_pid *proc)
{
	int fd = (int)syscall(SYS_pidfd_open, proc->pid, 0);
	uint64_t start;

	if (fd < 0)
		return -1;
	if (proc->start_time != 0 &&
	    (read_start_time(proc->pid, &start) < 0 || start != proc->start_time)) {
		close(fd);
		errno = ESRCH;
		return -1;
	}
	return fd;
}

static void kill_vm(struct proxy *proxy)
{
	if (proxy->vm_pidfd < 0)
		return;
	log_error("virtiofsd (pid %d) exited: the VM cannot run without it, killing it (pid %d)",
	          proxy->opts->watch_pid.pid, proxy->opts->vm_pid.pid);
	if (syscall(SYS_pidfd_send_signal, proxy->vm_pidfd, SIGKILL, NULL, 0) < 0 && errno != ESRCH)
		log_error("kill the VM: %s", strerror(errno));
	close(proxy->vm_pidfd);
	proxy->vm_pidfd = -1;
}

static void on_watched_exit(struct event_fd *efd, void *data)
{
	struct proxy *proxy = data;

	proxy->watched = NULL;
	event_fd_close(efd);
	kill_vm(proxy);
}

static const struct event_fd_ops watched_ops = {
	.readable = on_watched_exit,
	.hangup = on_watched_exit,
};

int proxy_watch_start(struct proxy *proxy, kata_error_t *err)
{
	const struct proxy_options *opts = proxy->opts;
	int fd;

	if (opts->watch_pid.pid == 0)
		return 0;
	proxy->vm_pidfd = open_process(&opts->vm_pid);
	if (proxy->vm_pidfd < 0)
		return kata_error_sys(err, "-vm-pid %d", opts->vm_pid.pid);
	fd = open_process(&opts->watch_pid);
	if (fd < 0) {
		kill_vm(proxy); /* gone before we looked: the VM is already without it */
		return 0;
	}
	proxy->watched = event_fd_add(proxy->loop, fd, &watched_ops, proxy, 0, err);
	if (proxy->watched == NULL) {
		close(fd);
		return -1;
	}
	return 0;
}

void proxy_watch_stop(struct proxy *proxy)
{
	if (proxy->watched != NULL)
		event_fd_close(proxy->watched);
	proxy->watched = NULL;
	if (proxy->vm_pidfd >= 0)
		close(proxy->vm_pidfd);
	proxy->vm_pidfd = -1;
}
