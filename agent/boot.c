/* The guest's early boot, done by the agent as PID 1: filesystems, cgroups, kernel
 * modules, the virtio-serial ports, and powering off. */
#include "agent.h"

#include "cgroup.h"
#include "cleanup.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

/* One line per module, a path relative to /lib/modules, in dependency order. */
#define AGENT_MODULES_LIST "/lib/modules/kata-agent.modules"

static const struct {
	const char *target;
	const char *type;
	unsigned long flags;
	const char *data;
} boot_mounts[] = {
	{ "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "/dev", "devtmpfs", MS_NOSUID, "mode=0755" },
	{ "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620" },
	{ "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	{ "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755" },
	{ "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777" },
	{ "/sys/fs/cgroup", NULL, 0, NULL }, /* agent_cgroup_mount_all() */
};

int agent_boot_mounts(kata_error_t *err)
{
	for (size_t i = 0; i < sizeof(boot_mounts) / sizeof(boot_mounts[0]); i++) {
		const char *target = boot_mounts[i].target;

		if (mkdir(target, 0755) < 0 && errno != EEXIST)
			return kata_error_sys(err, "mkdir %s", target);
		if (boot_mounts[i].type == NULL) {
			if (agent_cgroup_mount_all(err) < 0)
				return -1;
			continue;
		}
		if (mount(boot_mounts[i].type, target, boot_mounts[i].type, boot_mounts[i].flags,
		          boot_mounts[i].data) < 0 &&
		    errno != EBUSY)
			return kata_error_sys(err, "mount %s on %s", boot_mounts[i].type, target);
	}
	/* The kernel's own console is where the agent logs. Non-blocking: a console nobody
	 * reads on the host must cost log lines, never stall the agent. */
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		close(null);
	}
	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
		if (fd > STDERR_FILENO)
			close(fd);
	}
	return 0;
}

int agent_load_modules(kata_error_t *err)
{
	cleanup_fclose FILE *f = fopen(AGENT_MODULES_LIST, "re");
	char line[512];

	if (f == NULL)
		return 0; /* the usual case: everything is built into the kernel */
	while (fgets(line, sizeof(line), f)) {
		cleanup_free char *path = NULL;
		cleanup_close int fd = -1;

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0' || line[0] == '#' || strstr(line, ".."))
			continue;
		path = xasprintf("/lib/modules/%s", line);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return kata_error_sys(err, "open module %s", path);
		if (syscall(SYS_finit_module, fd, "", 0) < 0 && errno != EEXIST)
			return kata_error_sys(err, "load module %s", path);
		log_debug("loaded module %s", path);
	}
	return 0;
}

static char *port_by_name(const char *name)
{
	cleanup_closedir DIR *dir = opendir("/sys/class/virtio-ports");
	struct dirent *de;

	if (dir == NULL)
		return NULL;
	while ((de = readdir(dir)) != NULL) {
		cleanup_free char *path = NULL;
		cleanup_fclose FILE *f = NULL;
		char buf[128];

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("/sys/class/virtio-ports/%s/name", de->d_name);
		f = fopen(path, "re");
		if (f == NULL || fgets(buf, sizeof(buf), f) == NULL)
			continue;
		buf[strcspn(buf, "\n")] = '\0';
		if (strcmp(buf, name) == 0)
			return xasprintf("/dev/%s", de->d_name);
	}
	return NULL;
}

char *agent_find_port(const char *name, int timeout_ms, kata_error_t *err)
{
	/* The virtio console driver may still be probing: poll for the port and its node. */
	for (int waited = 0;; waited += 5) {
		char *dev = port_by_name(name);

		if (dev != NULL && access(dev, R_OK | W_OK) == 0)
			return dev;
		free(dev);
		if (waited >= timeout_ms)
			break;
		usleep(5000);
	}
	kata_error_set(err, ENOENT, "no virtio-serial port named %s", name);
	return NULL;
}

int agent_switch_root(kata_error_t *err)
{
	static const char *const dirs[] = { "proc", "sys", "dev", "run", "tmp", "etc" };

	if (mkdir("/newroot", 0755) < 0 && errno != EEXIST)
		return kata_error_sys(err, "mkdir /newroot");
	if (mount("root", "/newroot", "tmpfs", 0, "mode=0755") < 0)
		return kata_error_sys(err, "mount tmpfs on /newroot");
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		cleanup_free char *path = xasprintf("/newroot/%s", dirs[i]);

		if (mkdir(path, 0755) < 0)
			return kata_error_sys(err, "mkdir %s", path);
	}
	/* The agent's own binary stays mapped from the initramfs underneath: no copy, no
	 * re-exec, only the root changes. */
	if (chdir("/newroot") < 0 || mount(".", "/", NULL, MS_MOVE, NULL) < 0 || chroot(".") < 0 ||
	    chdir("/") < 0)
		return kata_error_sys(err, "switch the root to a tmpfs");
	return 0;
}

void agent_poweroff(void)
{
	sync();
	/* Without ACPI (microvm) the kernel cannot power off, and reboot(RB_POWER_OFF) would
	 * halt the guest for good; a reboot ends the VM as well (qemu -no-reboot, libvirt's
	 * on_reboot=destroy). */
	if (access("/sys/firmware/acpi", F_OK) == 0)
		reboot(RB_POWER_OFF);
	reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}

void agent_fatal(const char *fmt, ...)
{
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_error("fatal: %s", buf);
	/* Also straight to the console, in case logging itself is what failed. */
	dprintf(STDERR_FILENO, "kata-agent: fatal: %s\n", buf);
	if (getpid() == 1)
		agent_poweroff();
	_exit(1);
}
