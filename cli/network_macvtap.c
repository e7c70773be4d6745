/* internetworking_model = "macvtap": a macvtap in passthru mode on the engine's veth, whose
 * character device /dev/tapN (N: its interface index) qemu gets as its tap (network.h). */
#include <net/if.h> /* before the linux/ headers */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/if_tun.h>

#include "cleanup.h"
#include "network.h"
#include "network_netlink.h"

/* /dev/tapN is named by an interface index, which is unique within one network namespace
 * only, while /dev is the host's: a macvtap of another namespace with the same index would
 * own the node. So the macvtap gets an index chosen where no node exists yet, and the
 * device opened is checked to be it (its name and MAC address). */
#define MACVTAP_INDEX_FIRST 4096
#define MACVTAP_INDEX_SPAN  8192
#define MACVTAP_TRIES       16

static int open_checked(int ifindex, const char *name, const unsigned char mac[6],
                        kata_error_t *err)
{
	char path[32];
	struct ifreq ifr = { 0 };
	cleanup_close int fd = -1;

	snprintf(path, sizeof(path), "/dev/tap%d", ifindex);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return kata_error_sys(err, "macvtap `%s`: open `%s`", name, path);
	if (ioctl(fd, TUNGETIFF, &ifr) < 0)
		return kata_error_sys(err, "macvtap `%s`: `%s`: TUNGETIFF", name, path);
	if (strncmp(ifr.ifr_name, name, sizeof(ifr.ifr_name)) != 0)
		return kata_error_set(err, EADDRINUSE, "macvtap `%s`: `%s` is `%s`'s", name, path,
		                      ifr.ifr_name);
	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		return kata_error_sys(err, "macvtap `%s`: `%s`: SIOCGIFHWADDR", name, path);
	if (memcmp(ifr.ifr_hwaddr.sa_data, mac, 6) != 0)
		return kata_error_set(err, EADDRINUSE,
		                      "macvtap `%s`: `%s` belongs to another namespace's", name,
		                      path);
	return steal_fd(&fd);
}

int network_macvtap_open(struct mnl_socket *nl, int lower_ifindex, const unsigned char mac[6],
                         const char *name, int *ifindex, kata_error_t *err)
{
	int first = MACVTAP_INDEX_FIRST + (int)(getpid() % MACVTAP_INDEX_SPAN);
	kata_error_t last = NULL;

	for (int i = 0; i < MACVTAP_TRIES; i++) {
		int index = first + i;
		char path[32];
		int fd;

		snprintf(path, sizeof(path), "/dev/tap%d", index);
		if (access(path, F_OK) == 0)
			continue; /* another namespace's */
		kata_error_free(&last);
		if (nl_macvtap_add(nl, lower_ifindex, name, index, &last) < 0) {
			if (last->errno_value == EEXIST || last->errno_value == EBUSY)
				continue; /* the index is taken in this namespace */
			kata_error_move(err, &last);
			return kata_error_wrap(err, "macvtap `%s`", name);
		}
		fd = open_checked(index, name, mac, &last);
		if (fd >= 0) {
			*ifindex = index;
			return fd;
		}
		/* Another namespace's node, made meanwhile: this index is not ours to use. */
		if (nl_link_delete(nl, index, err) < 0) {
			kata_error_free(&last);
			return kata_error_wrap(err, "macvtap `%s`: remove", name);
		}
	}
	if (last != NULL) {
		kata_error_move(err, &last);
		return kata_error_wrap(err, "macvtap `%s`: no usable interface index in %d tries",
		                       name, MACVTAP_TRIES);
	}
	return kata_error_set(err, EADDRINUSE,
	                      "macvtap `%s`: /dev/tap%d to /dev/tap%d exist already", name, first,
	                      first + MACVTAP_TRIES - 1);
}
