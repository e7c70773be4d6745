/* Entering the container's network namespace, making one, the process that stands in it for
 * the hooks, and the taps made inside it. */
#include <net/if.h> /* before the linux/ headers */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <linux/if_tun.h>

#include "cleanup.h"
#include "log.h"
#include "network.h"

int netns_enter(const char *path, int *saved, kata_error_t *err)
{
	cleanup_close int target = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_close int self = -1;

	if (target < 0)
		return kata_error_sys(err, "network namespace `%s`", path);
	self = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return kata_error_sys(err, "open /proc/self/ns/net");
	if (setns(target, CLONE_NEWNET) < 0)
		return kata_error_sys(err, "network namespace `%s`: enter", path);
	*saved = steal_fd(&self);
	return 0;
}

int netns_return(int *saved, kata_error_t *err)
{
	cleanup_close int fd = steal_fd(saved);

	if (fd >= 0 && setns(fd, CLONE_NEWNET) < 0)
		return kata_error_sys(err, "return to the runtime's network namespace");
	return 0;
}

int network_tap_open(const char *name, kata_error_t *err)
{
	cleanup_close int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	struct ifreq ifr = { 0 };

	if (fd < 0)
		return kata_error_sys(err, "open /dev/net/tun");
	if (strlen(name) >= sizeof(ifr.ifr_name))
		return kata_error_set(err, ENAMETOOLONG, "tap name `%s` is too long", name);
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	/* A vnet header lets qemu pass segmentation offloads through. */
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0)
		return kata_error_sys(err, "create tap `%s`", name);
	return steal_fd(&fd);
}

void network_format_mac(const unsigned char mac[6], char out[18])
{
	snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1], mac[2], mac[3], mac[4],
	         mac[5]);
}

int netns_create_at(const char *path, kata_error_t *err)
{
	cleanup_close int file = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0444);
	cleanup_close int self = -1;
	int ret = 0;

	if (file < 0)
		return kata_error_sys(err, "network namespace `%s`: create", path);
	/* thread-self: unshare and setns act on the calling thread only */
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		ret = kata_error_sys(err, "open /proc/thread-self/ns/net");
	} else if (unshare(CLONE_NEWNET) < 0) {
		ret = kata_error_sys(err, "network namespace `%s`: unshare", path);
	} else {
		/* The bind mount keeps the namespace alive; sandbox_teardown unmounts it. */
		if (mount("/proc/thread-self/ns/net", path, NULL, MS_BIND, NULL) < 0)
			ret = kata_error_sys(err, "network namespace `%s`: bind mount", path);
		if (setns(self, CLONE_NEWNET) < 0) {
			/* cannot happen with a valid fd; the runtime must not go on in it */
			log_error("return to the runtime's network namespace: %s", strerror(errno));
			abort();
		}
	}
	if (ret < 0)
		unlink(path);
	return ret;
}

/* The holder's life: enter the namespace, say so, wait until the runtime closes its end. */
static void netns_holder_run(int target, int ready, int release)
{
	char c = 'r';

	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    (target >= 0 && setns(target, CLONE_NEWNET) < 0))
		_exit(1);
	if (write(ready, &c, 1) != 1)
		_exit(1);
	while (read(release, &c, 1) < 0 && errno == EINTR)
		;
	_exit(0);
}

int netns_holder_start(const char *path, struct netns_holder *holder, kata_error_t *err)
{
	cleanup_close int target = -1;
	cleanup_close int ready_r = -1, ready_w = -1, release_r = -1, release_w = -1;
	int fds[2];
	char c;
	ssize_t n;

	holder->pid = -1;
	holder->release_fd = -1;
	if (path != NULL && (target = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return kata_error_sys(err, "network namespace `%s`", path);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return kata_error_sys(err, "pipe");
	ready_r = fds[0];
	ready_w = fds[1];
	if (pipe2(fds, O_CLOEXEC) < 0)
		return kata_error_sys(err, "pipe");
	release_r = fds[0];
	release_w = fds[1];
	holder->pid = fork();
	if (holder->pid < 0)
		return kata_error_sys(err, "fork");
	if (holder->pid == 0) {
		close(release_w); /* its read ends when the runtime's copy is closed */
		netns_holder_run(target, ready_w, release_r);
	}
	close(steal_fd(&ready_w));
	do
		n = read(ready_r, &c, 1);
	while (n < 0 && errno == EINTR);
	holder->release_fd = steal_fd(&release_w);
	if (n != 1) {
		netns_holder_stop(holder);
		return kata_error_set(err, ECHILD,
		                      "network namespace `%s`: the hooks' process could not "
		                      "enter it",
		                      path ?: "(the runtime's)");
	}
	return 0;
}

void netns_holder_stop(struct netns_holder *holder)
{
	if (holder->release_fd >= 0)
		close(steal_fd(&holder->release_fd));
	if (holder->pid > 0) {
		while (waitpid(holder->pid, NULL, 0) < 0 && errno == EINTR)
			;
		holder->pid = -1;
	}
}
