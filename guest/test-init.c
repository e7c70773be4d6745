/*
 * test-init: a tiny static /init for testing and timing the guest kernel without the agent.
 *
 * It prints "kata-test-init: start" as soon as it runs, mounts /proc, /sys, /dev and the
 * shared directory (9p or virtio-fs tag "kataShared", when the VM has one), prints
 * "kata-test-init: READY", then reports what the kernel offers as key=value lines
 * (CPUs, virtio-serial ports by name, filesystems, namespaces, cgroup controllers,
 * seccomp), says hello on every named virtio-serial port, echoes one line read from the
 * first port, and powers the VM off (ACPI) or reboots it (no ACPI; qemu runs -no-reboot).
 * With katatest=quick on the kernel command line it powers off right after READY.
 * tests/e2e/guest_boot.sh and guest/measure-boot.sh read its console output.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/seccomp.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#define PREFIX       "kata-test-init: "
#define SHARED_TAG   "kataShared"
#define SHARED_DIR   "/run/kataShared"
#define PORT_WAIT_MS 5000

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	va_list ap;

	fputs(PREFIX, stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

/* Without /dev/console in the initramfs the kernel starts us with no stdio at all. */
static void ensure_console(void)
{
	int fd;

	if (fcntl(STDOUT_FILENO, F_GETFD) >= 0)
		return;
	mkdir("/dev", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void mount_or_report(const char *source, const char *target, const char *type,
                            unsigned long flags, const char *data)
{
	mkdir(target, 0755);
	if (mount(source, target, type, flags, data) < 0 && errno != EBUSY)
		say("mount-error=%s:%s", target, strerror(errno));
}

static int read_small_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Is there a virtio device of the given driver whose mount_tag is SHARED_TAG? */
static int has_shared_tag(const char *driver_dir)
{
	DIR *dir = opendir(driver_dir);
	struct dirent *de;
	int found = 0;

	if (!dir)
		return 0;
	while (!found && (de = readdir(dir))) {
		char path[512], tag[128];

		if (strncmp(de->d_name, "virtio", 6))
			continue;
		snprintf(path, sizeof(path), "%s/%s/mount_tag", driver_dir, de->d_name);
		found = read_small_file(path, tag, sizeof(tag)) == 0 && !strcmp(tag, SHARED_TAG);
	}
	closedir(dir);
	return found;
}

static void mount_shared_dir(void)
{
	const char *type = "9p";

	mkdir(SHARED_DIR, 0755);
	if (has_shared_tag("/sys/bus/virtio/drivers/9pnet_virtio")) {
		if (mount(SHARED_TAG, SHARED_DIR, "9p", MS_NODEV,
		          "trans=virtio,version=9p2000.L,cache=mmap") < 0) {
			say("mount-error=%s:%s", SHARED_DIR, strerror(errno));
			return;
		}
	} else {
		/* virtio-fs has no tag in sysfs on 6.1: try, and stay quiet when absent. */
		type = "virtiofs";
		if (mount(SHARED_TAG, SHARED_DIR, "virtiofs", MS_NODEV, NULL) < 0)
			return;
	}
	say("shared=%s:%s", type, SHARED_DIR);
}

static void report_shared_dir(void)
{
	char buf[256];

	if (read_small_file(SHARED_DIR "/kata-test-file", buf, sizeof(buf)) == 0)
		say("shared-file=%s", buf);
}

/* One comma-separated line of the first words of the lines of a file that match. */
static void report_list(const char *key, const char *path, const char *const *wanted)
{
	FILE *f = fopen(path, "re");
	char line[256], out[1024] = "";

	if (!f) {
		say("%s=unreadable", key);
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *word = line + strspn(line, "\t "), *p;

		if (!strncmp(line, "nodev", 5))
			word = line + 5 + strspn(line + 5, "\t ");
		p = word + strcspn(word, "\t \n");
		*p = '\0';
		for (const char *const *w = wanted; *w; w++)
			if (!strcmp(word, *w) && strlen(out) + strlen(word) + 2 < sizeof(out)) {
				if (out[0])
					strcat(out, ",");
				strcat(out, word);
			}
	}
	fclose(f);
	say("%s=%s", key, out);
}

static void report_kernel(void)
{
	static const char *const filesystems[] = { "9p",      "virtiofs", "fuse",     "overlay",
		                                   "tmpfs",   "devpts",   "devtmpfs", "cgroup",
		                                   "cgroup2", "proc",     "sysfs",    "mqueue",
		                                   NULL };
	static const char *const controllers[] = { "cpuset",  "cpu",     "cpuacct", "memory",
		                                   "devices", "freezer", "pids",    NULL };
	static const char *const namespaces[] = { "mnt", "uts", "ipc", "pid", "net", "user", NULL };
	char buf[256], out[256] = "";
	unsigned int kill_action = SECCOMP_RET_KILL_PROCESS;

	say("cpus=%ld", sysconf(_SC_NPROCESSORS_ONLN));
	if (read_small_file("/proc/sys/kernel/osrelease", buf, sizeof(buf)) == 0)
		say("kernel=%s", buf);
	report_list("filesystems", "/proc/filesystems", filesystems);
	report_list("cgroup-controllers", "/proc/cgroups", controllers);
	for (const char *const *ns = namespaces; *ns; ns++) {
		char path[64];

		snprintf(path, sizeof(path), "/proc/self/ns/%s", *ns);
		if (access(path, F_OK) == 0) {
			if (out[0])
				strcat(out, ",");
			strcat(out, *ns);
		}
	}
	say("namespaces=%s", out);
	/* Filter mode works when the kernel can tell which filter actions it has. */
	say("seccomp=%s", syscall(SYS_seccomp, SECCOMP_GET_ACTION_AVAIL, 0, &kill_action) == 0
	                          ? "filter"
	                          : "none");
	say("pty=%s", access("/dev/ptmx", F_OK) == 0 ? "yes" : "no");
	say("hwrng=%s",
	    read_small_file("/sys/class/misc/hw_random/rng_current", buf, sizeof(buf)) == 0
	            ? buf
	            : "none");
}

/* Wait until the host end of a port is connected and writable, then write. */
static int port_write(int fd, const char *msg)
{
	struct pollfd pfd = { .fd = fd, .events = POLLOUT };

	if (poll(&pfd, 1, PORT_WAIT_MS) <= 0 || !(pfd.revents & POLLOUT))
		return -1;
	return write(fd, msg, strlen(msg)) == (ssize_t)strlen(msg) ? 0 : -1;
}

static void port_echo_line(int fd, const char *name)
{
	char buf[128];
	size_t len = 0;

	while (len < sizeof(buf) - 1) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&pfd, 1, PORT_WAIT_MS) <= 0)
			break;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			break;
		len += (size_t)n;
		if (memchr(buf, '\n', len))
			break;
	}
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	say("port-received=%s:%s", name, len ? buf : "(nothing)");
}

/* The agent finds its channels the same way: /sys/class/virtio-ports/vportNpM/name. */
static void greet_ports(void)
{
	DIR *dir = opendir("/sys/class/virtio-ports");
	struct dirent *de;

	if (!dir) {
		say("ports=none");
		return;
	}
	while ((de = readdir(dir))) {
		char path[512], name[128], msg[256];
		int fd;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/virtio-ports/%s/name", de->d_name);
		if (read_small_file(path, name, sizeof(name)) < 0 || !name[0])
			continue;
		say("port=%s:/dev/%s", name, de->d_name);
		snprintf(path, sizeof(path), "/dev/%s", de->d_name);
		fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			say("port-error=%s:%s", name, strerror(errno));
			continue;
		}
		snprintf(msg, sizeof(msg), "hello from %s\n", name);
		if (port_write(fd, msg) < 0)
			say("port-error=%s:host end not connected", name);
		else if (!strcmp(name, "sh.hyper.channel.0"))
			port_echo_line(fd, name);
		close(fd);
	}
	closedir(dir);
}

static int quick_mode(void)
{
	const char *mode = getenv("katatest");

	return mode && !strcmp(mode, "quick");
}

int main(void)
{
	ensure_console();
	say("start");
	mount_or_report("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_or_report("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	mount_or_report("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755");
	mount_shared_dir();
	say("READY");

	/* The kernel hands unknown parameters without a dot to init as environment:
	 * katatest=quick (guest/measure-boot.sh) powers off right after READY. */
	if (!quick_mode()) {
		report_kernel();
		report_shared_dir();
		greet_ports();
	}

	say("POWEROFF");
	sync();
	/* ACPI power-off where there is ACPI (q35, pc); a reboot otherwise (microvm), which
	 * makes qemu exit under -no-reboot. */
	if (access("/sys/firmware/acpi/tables", F_OK) == 0)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	say("reboot failed: %s", strerror(errno));
	for (;;)
		pause();
}
