/* Entering the container's network namespace, and the taps made inside it. */
#include <net/if.h> /* before the linux/ headers */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include "cleanup.h"
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
