/*
 * vport-writer: a static /init for bench's channel floor. It writes BENCH_CHANNEL_BYTES
 * (256 MiB) of a fixed pattern to the virtio-serial port sh.hyper.channel.1, in 64 KiB
 * writes (the size of the agent's stream frames), as fast as the port takes them, then
 * powers the VM off. No agent, no framing, no flow control: what the bare channel carries.
 * The host end (bench-floor --channel) counts the bytes.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define PORT_NAME           "sh.hyper.channel.1"
#define BENCH_CHANNEL_BYTES (256ull << 20)
#define WRITE_SIZE          (64 * 1024)
#define WAIT_STEPS          500 /* 10 ms each */

static void poweroff(void)
{
	sync();
	/* qemu runs with -no-reboot: a reboot ends the VM. A power-off without ACPI (microvm,
	 * acpi=off) would only halt the CPU, and qemu would never exit. */
	reboot(RB_AUTOBOOT);
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}

static int find_port(char *dev, size_t size)
{
	DIR *dir = opendir("/sys/class/virtio-ports");
	struct dirent *de;
	int found = -1;

	if (dir == NULL)
		return -1;
	while (found < 0 && (de = readdir(dir)) != NULL) {
		char path[300], name[64] = "";
		int fd;
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		fd = open(path, O_RDONLY);
		if (fd < 0)
			continue;
		n = read(fd, name, sizeof(name) - 1);
		close(fd);
		if (n > 0 && strncmp(name, PORT_NAME, strlen(PORT_NAME)) == 0) {
			snprintf(dev, size, "/dev/%s", de->d_name);
			found = 0;
		}
	}
	closedir(dir);
	return found;
}

int main(void)
{
	static char buf[WRITE_SIZE];
	unsigned long long left = BENCH_CHANNEL_BYTES;
	char dev[300];
	int fd = -1;

	mkdir("/dev", 0755);
	mkdir("/sys", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	for (int i = 0; i < WAIT_STEPS && fd < 0; i++) {
		if (find_port(dev, sizeof(dev)) == 0)
			fd = open(dev, O_WRONLY);
		if (fd < 0)
			usleep(10000);
	}
	if (fd < 0)
		poweroff();
	/* The host end is connected when the port stops reporting a hang-up. */
	for (int i = 0; i < WAIT_STEPS; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLOUT };

		if (poll(&pfd, 1, 10) > 0 && !(pfd.revents & POLLHUP))
			break;
		usleep(10000);
	}
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)('a' + i % 26);
	while (left > 0) {
		ssize_t n = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		left -= (unsigned long long)n;
	}
	close(fd);
	usleep(500000); /* what qemu still holds reaches the host before power-off */
	poweroff();
	return 0;
}
