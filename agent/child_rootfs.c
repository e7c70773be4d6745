/* The container's root filesystem, built in the child inside its new mount namespace. */
#include "agent.h"
#include "child.h"

#include "cgroup.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const struct {
	const char *name;
	bool clear;
	unsigned long flag;
} mount_flags[] = {
	{ "ro", false, MS_RDONLY },
	{ "rw", true, MS_RDONLY },
	{ "nosuid", false, MS_NOSUID },
	{ "suid", true, MS_NOSUID },
	{ "nodev", false, MS_NODEV },
	{ "dev", true, MS_NODEV },
	{ "noexec", false, MS_NOEXEC },
	{ "exec", true, MS_NOEXEC },
	{ "sync", false, MS_SYNCHRONOUS },
	{ "async", true, MS_SYNCHRONOUS },
	{ "dirsync", false, MS_DIRSYNC },
	{ "remount", false, MS_REMOUNT },
	{ "mand", false, MS_MANDLOCK },
	{ "nomand", true, MS_MANDLOCK },
	{ "noatime", false, MS_NOATIME },
	{ "atime", true, MS_NOATIME },
	{ "nodiratime", false, MS_NODIRATIME },
	{ "diratime", true, MS_NODIRATIME },
	{ "relatime", false, MS_RELATIME },
	{ "norelatime", true, MS_RELATIME },
	{ "strictatime", false, MS_STRICTATIME },
	{ "nostrictatime", true, MS_STRICTATIME },
	{ "bind", false, MS_BIND },
	{ "rbind", false, MS_BIND | MS_REC },
};

static const struct {
	const char *name;
	unsigned long flag;
} propagation_flags[] = {
	{ "private", MS_PRIVATE },       { "rprivate", MS_PRIVATE | MS_REC },
	{ "shared", MS_SHARED },         { "rshared", MS_SHARED | MS_REC },
	{ "slave", MS_SLAVE },           { "rslave", MS_SLAVE | MS_REC },
	{ "unbindable", MS_UNBINDABLE }, { "runbindable", MS_UNBINDABLE | MS_REC },
};

void agent_parse_mount_options(char *const *options, struct agent_mount_options *out)
{
	size_t data_len = 0;

	memset(out, 0, sizeof(*out));
	for (size_t i = 0; options && options[i]; i++) {
		const char *o = options[i];
		bool known = false;

		for (size_t j = 0; j < sizeof(mount_flags) / sizeof(mount_flags[0]) && !known;
		     j++) {
			if (strcmp(o, mount_flags[j].name) != 0)
				continue;
			known = true;
			if (mount_flags[j].clear) {
				out->flags &= ~mount_flags[j].flag;
				out->clear |= mount_flags[j].flag;
			} else {
				out->flags |= mount_flags[j].flag;
				out->clear &= ~mount_flags[j].flag;
			}
		}
		for (size_t j = 0;
		     j < sizeof(propagation_flags) / sizeof(propagation_flags[0]) && !known; j++) {
			if (strcmp(o, propagation_flags[j].name) == 0) {
				known = true;
				out->propagation = propagation_flags[j].flag;
			}
		}
		/* runc's extension, meaningless here. */
		if (known || strcmp(o, "tmpcopyup") == 0)
			continue;
		out->data = xrealloc(out->data, data_len + strlen(o) + 2);
		if (data_len > 0)
			out->data[data_len++] = ',';
		strcpy(out->data + data_len, o);
		data_len += strlen(o);
	}
}

/* openat2 confined to the rootfs: symlinks in the image cannot lead outside. */
static int open_in_root(int rootfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};

	while (*path == '/')
		path++;
	if (*path == '\0')
		path = ".";
	return (int)syscall(SYS_openat2, rootfd, path, &how, sizeof(how));
}

/* Creates path (and its parents) inside the rootfs as a directory or an empty file, and
 * returns an O_PATH descriptor of it. */
static int make_in_root(int rootfd, const char *path, bool directory, kata_error_t *err)
{
	cleanup_free char *copy = xstrdup(path);
	char *p = copy;
	int fd;

	fd = open_in_root(rootfd, path, O_PATH);
	if (fd >= 0)
		return fd;
	if (errno != ENOENT)
		return kata_error_sys(err, "resolve %s in the rootfs", path);
	while (*p == '/')
		p++;
	for (;;) {
		char *slash = strchr(p, '/');
		bool last = slash == NULL;
		cleanup_close int parent = -1;
		const char *name;
		char *cut;

		if (slash)
			*slash = '\0';
		/* The parent of this component, resolved within the root again. */
		cut = strrchr(copy, '/');
		name = cut ? cut + 1 : copy;
		if (cut) {
			*cut = '\0';
			parent = open_in_root(rootfd, copy[0] ? copy : "/", O_PATH | O_DIRECTORY);
			*cut = '/';
		} else {
			parent = open_in_root(rootfd, "/", O_PATH | O_DIRECTORY);
		}
		if (parent < 0)
			return kata_error_sys(err, "resolve the parent of %s", path);
		if (*name != '\0') {
			if (last && !directory) {
				int f = openat(parent, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);

				if (f < 0 && errno != EEXIST && errno != EISDIR)
					return kata_error_sys(err, "create %s", path);
				if (f >= 0)
					close(f);
			} else if (mkdirat(parent, name, 0755) < 0 && errno != EEXIST) {
				return kata_error_sys(err, "mkdir %s", copy);
			}
		}
		if (last)
			break;
		*slash = '/';
		p = slash + 1;
	}
	fd = open_in_root(rootfd, path, O_PATH);
	if (fd < 0)
		return kata_error_sys(err, "resolve %s in the rootfs", path);
	return fd;
}

/* proc and sysfs go on an ordinary directory, as runc requires: with a symlink on the
 * destination's path (a /proc that links to /etc), procfs would cover what the link names. */
static bool needs_ordinary_directory(const char *type)
{
	return strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0;
}

static int check_ordinary_directory(int rootfd, const char *dest, kata_error_t *err)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = dest;
	struct stat st;
	int fd;

	while (*rel == '/')
		rel++;
	fd = (int)syscall(SYS_openat2, rootfd, *rel ? rel : ".", &how, sizeof(how));
	if (fd < 0 && errno == ENOENT)
		return 0; /* made as a directory below */
	if (fd < 0 && errno == ELOOP)
		return kata_error_set(err, ELOOP,
		                      "%s must be mounted on ordinary directory: a symlink is on "
		                      "its path",
		                      dest);
	if (fd < 0)
		return kata_error_sys(err, "resolve %s in the rootfs", dest);
	if (fstat(fd, &st) < 0 || !S_ISDIR(st.st_mode)) {
		close(fd);
		return kata_error_set(err, ENOTDIR,
		                      "%s must be mounted on ordinary directory: not a directory",
		                      dest);
	}
	close(fd);
	return 0;
}

static char *fd_path(int fd)
{
	return xasprintf("/proc/self/fd/%d", fd);
}

/* After a mount on it, a descriptor opened before still names the directory underneath:
 * open the path again to reach the new mount. */
static int reopen(int rootfd, const char *dest, int *fd, char **path, kata_error_t *err)
{
	close(*fd);
	free(*path);
	*path = NULL;
	*fd = open_in_root(rootfd, dest, O_PATH);
	if (*fd < 0)
		return kata_error_sys(err, "open %s after mounting it", dest);
	*path = fd_path(*fd);
	return 0;
}

static int remount_bind(const char *target, unsigned long flags, kata_error_t *err)
{
	struct statvfs sv;
	unsigned long keep = 0;

	/* A bind remount must repeat the locked flags it inherited. */
	if (statvfs(target, &sv) == 0)
		keep = sv.f_flag & (MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY);
	if (mount(NULL, target, NULL, MS_BIND | MS_REMOUNT | keep | flags, NULL) < 0)
		return kata_error_sys(err, "remount %s", target);
	return 0;
}

static const char *share_source(const char *source, char **owned)
{
	if (source == NULL)
		return NULL;
	if (source[0] == '/')
		return source;
	*owned = xasprintf("%s/%s", AGENT_SHARED_DIR, source);
	return *owned;
}

/* The "cgroup" mount: the container's own directories of each v1 hierarchy. */
static int mount_cgroups(int rootfd, const char *dest, const char *container_id, bool readonly,
                         kata_error_t *err)
{
	cleanup_close int target_fd = make_in_root(rootfd, dest, true, err);
	cleanup_free char *target = NULL;

	if (target_fd < 0)
		return -1;
	target = fd_path(target_fd);
	if (mount("cgroup", target, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=755") < 0)
		return kata_error_sys(err, "mount cgroup tmpfs");
	/* The descriptor still names the directory under the new mount. */
	if (reopen(rootfd, dest, &target_fd, &target, err) < 0)
		return -1;
	for (const char *const *c = agent_cgroup_controllers(); *c; c++) {
		cleanup_free char *src = xasprintf("%s/%s/%s/%s", agent_cgroup_root, *c,
		                                   AGENT_CGROUP_PARENT, container_id);
		cleanup_close int dir = -1;
		cleanup_free char *dst = NULL;

		if (mkdirat(target_fd, *c, 0755) < 0 && errno != EEXIST)
			return kata_error_sys(err, "mkdir cgroup %s", *c);
		dir = openat(target_fd, *c, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return kata_error_sys(err, "open cgroup %s", *c);
		dst = fd_path(dir);
		if (mount(src, dst, NULL, MS_BIND, NULL) < 0)
			return kata_error_sys(err, "bind cgroup %s", *c);
		close(dir);
		free(dst);
		dir = openat(target_fd, *c, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (dir < 0)
			return kata_error_sys(err, "open cgroup %s", *c);
		dst = fd_path(dir);
		if (readonly && remount_bind(dst, MS_RDONLY, err) < 0)
			return -1;
	}
	if (readonly &&
	    mount(NULL, target, NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          "mode=755") < 0)
		return kata_error_sys(err, "remount cgroup tmpfs read-only");
	return 0;
}

static int do_mount(int rootfd, const struct oci_mount *m, const char *container_id,
                    kata_error_t *err)
{
	struct agent_mount_options o;
	cleanup_free char *data = NULL;
	cleanup_free char *owned_source = NULL;
	cleanup_close int target_fd = -1;
	cleanup_free char *target = NULL;
	const char *type = m->type ? m->type : "none";
	const char *source = m->source;
	bool bind;
	int ret = -1;

	agent_parse_mount_options(m->options, &o);
	data = o.data;
	bind = (o.flags & MS_BIND) || strcmp(type, "bind") == 0;
	if (bind) {
		struct stat st;

		source = share_source(source, &owned_source);
		if (source == NULL || stat(source, &st) < 0)
			return kata_error_sys(err, "bind source %s", source ? source : "(none)");
		target_fd = make_in_root(rootfd, m->destination, S_ISDIR(st.st_mode), err);
		if (target_fd < 0)
			return -1;
		target = fd_path(target_fd);
		if (mount(source, target, NULL, MS_BIND | (o.flags & MS_REC), NULL) < 0)
			return kata_error_sys(err, "bind %s on %s", source, m->destination);
		if (reopen(rootfd, m->destination, &target_fd, &target, err) < 0)
			return -1;
		if ((o.flags & ~(MS_BIND | MS_REC)) != 0 &&
		    remount_bind(target, o.flags & ~(MS_BIND | MS_REC | MS_REMOUNT), err) < 0)
			return -1;
	} else {
		if (strcmp(type, "cgroup") == 0 || strcmp(type, "cgroup2") == 0) {
			ret = mount_cgroups(rootfd, m->destination, container_id,
			                    o.flags & MS_RDONLY, err);
			if (ret < 0)
				return kata_error_wrap(err, "mount %s", m->destination);
			return 0;
		}
		if (needs_ordinary_directory(type) &&
		    check_ordinary_directory(rootfd, m->destination, err) < 0)
			return -1;
		target_fd = make_in_root(rootfd, m->destination, true, err);
		if (target_fd < 0)
			return -1;
		target = fd_path(target_fd);
		if (mount(source ? source : type, target, type, o.flags, data) < 0) {
			/* Without its own network namespace a user namespace may not mount
			 * sysfs: give it the guest's, as runc does. */
			if (strcmp(type, "sysfs") == 0 && errno == EPERM) {
				if (mount("/sys", target, NULL, MS_BIND | MS_REC, NULL) < 0)
					return kata_error_sys(err, "bind /sys on %s",
					                      m->destination);
			} else {
				return kata_error_sys(err, "mount %s (%s) on %s",
				                      source ? source : type, type, m->destination);
			}
		}
	}
	if (o.propagation && reopen(rootfd, m->destination, &target_fd, &target, err) < 0)
		return -1;
	if (o.propagation && mount(NULL, target, NULL, o.propagation, NULL) < 0)
		return kata_error_sys(err, "set propagation of %s", m->destination);
	return 0;
}

static int mount_simple(int rootfd, const char *dest, const char *type, unsigned long flags,
                        const char *data, kata_error_t *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *target = NULL;

	if (needs_ordinary_directory(type) && check_ordinary_directory(rootfd, dest, err) < 0)
		return -1;
	fd = make_in_root(rootfd, dest, true, err);
	if (fd < 0)
		return -1;
	target = fd_path(fd);
	if (mount(type, target, type, flags, data) < 0)
		return kata_error_sys(err, "mount %s on %s", type, dest);
	return 0;
}

static bool spec_mounts(const struct oci_spec *spec, const char *dest)
{
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (strcmp(spec->mounts[i].destination, dest) == 0)
			return true;
	return false;
}

static const struct {
	const char *name;
	unsigned int major, minor;
} default_devices[] = {
	{ "null", 1, 3 },   { "zero", 1, 5 },    { "full", 1, 7 },
	{ "random", 1, 8 }, { "urandom", 1, 9 }, { "tty", 5, 0 },
};

static int create_device(int rootfd, const char *path, mode_t mode, dev_t dev, uid_t uid, gid_t gid,
                         bool in_userns, kata_error_t *err)
{
	cleanup_close int dirfd = -1;
	cleanup_free char *copy = xstrdup(path);
	char *slash = strrchr(copy, '/');
	const char *name = slash ? slash + 1 : copy;

	if (slash) {
		*slash = '\0';
		dirfd = make_in_root(rootfd, copy[0] ? copy : "/", true, err);
		if (dirfd < 0)
			return -1;
		close(dirfd);
		dirfd = open_in_root(rootfd, copy[0] ? copy : "/", O_DIRECTORY);
	} else {
		dirfd = open_in_root(rootfd, "/", O_DIRECTORY);
	}
	if (dirfd < 0)
		return kata_error_sys(err, "open the directory of %s", path);
	(void)unlinkat(dirfd, name, 0);
	if (!in_userns && mknodat(dirfd, name, mode, dev) == 0) {
		/* The mode exactly, whatever the umask. */
		if (fchmodat(dirfd, name, mode & 07777, 0) < 0)
			return kata_error_sys(err, "chmod %s", path);
		if (fchownat(dirfd, name, uid, gid, 0) < 0)
			return kata_error_sys(err, "chown %s", path);
		return 0;
	}
	/* A user namespace may not create devices: bind the guest's node instead. */
	if (S_ISCHR(mode) || S_ISBLK(mode)) {
		cleanup_free char *src = xasprintf("/dev/%s", name);
		cleanup_close int fd = -1;
		cleanup_free char *target = NULL;

		fd = openat(dirfd, name, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
		if (fd < 0)
			return kata_error_sys(err, "create %s", path);
		close(fd);
		fd = open_in_root(rootfd, path, O_PATH);
		if (fd < 0)
			return kata_error_sys(err, "open %s", path);
		target = fd_path(fd);
		if (mount(src, target, NULL, MS_BIND, NULL) < 0)
			return kata_error_sys(err, "bind %s", src);
		return 0;
	}
	return kata_error_sys(err, "mknod %s", path);
}

static int populate_dev(int rootfd, const struct oci_spec *spec, const char *console,
                        bool in_userns, kata_error_t *err)
{
	static const char *const links[][2] = {
		{ "/proc/self/fd", "/dev/fd" },       { "/proc/self/fd/0", "/dev/stdin" },
		{ "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
		{ "pts/ptmx", "/dev/ptmx" },
	};
	cleanup_close int devfd = open_in_root(rootfd, "/dev", O_DIRECTORY);

	if (devfd < 0)
		return kata_error_sys(err, "open /dev in the rootfs");
	for (size_t i = 0; i < sizeof(default_devices) / sizeof(default_devices[0]); i++) {
		cleanup_free char *path = xasprintf("/dev/%s", default_devices[i].name);

		if (create_device(rootfd, path, S_IFCHR | 0666,
		                  makedev(default_devices[i].major, default_devices[i].minor), 0, 0,
		                  in_userns, err) < 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(links) / sizeof(links[0]); i++) {
		(void)unlinkat(devfd, links[i][1] + 5, 0);
		if (symlinkat(links[i][0], devfd, links[i][1] + 5) < 0 && errno != EEXIST)
			return kata_error_sys(err, "symlink %s", links[i][1]);
	}
	for (size_t i = 0; spec->linux_spec && i < spec->linux_spec->n_devices; i++) {
		const struct oci_device *d = &spec->linux_spec->devices[i];
		mode_t mode = d->has_file_mode ? (d->file_mode & 07777) : 0666;

		switch (d->type[0]) {
		case 'b':
			mode |= S_IFBLK;
			break;
		case 'p':
			mode |= S_IFIFO;
			break;
		default:
			mode |= S_IFCHR;
			break;
		}
		if (create_device(rootfd, d->path, mode, makedev(d->major, d->minor),
		                  d->has_uid ? d->uid : 0, d->has_gid ? d->gid : 0, in_userns,
		                  err) < 0)
			return -1;
	}
	if (console != NULL) {
		cleanup_close int fd = make_in_root(rootfd, "/dev/console", false, err);
		cleanup_free char *target = NULL;

		if (fd < 0)
			return -1;
		target = fd_path(fd);
		if (mount(console, target, NULL, MS_BIND, NULL) < 0)
			return kata_error_sys(err, "bind the console");
	}
	return 0;
}

static unsigned long root_propagation(const struct oci_spec *spec)
{
	const char *p = spec->linux_spec ? spec->linux_spec->rootfs_propagation : NULL;

	for (size_t j = 0; p && j < sizeof(propagation_flags) / sizeof(propagation_flags[0]); j++)
		if (strcmp(p, propagation_flags[j].name) == 0)
			return propagation_flags[j].flag | MS_REC;
	return MS_PRIVATE | MS_REC;
}

/* pivot_root(2) refuses a new root, or a parent of it, that is shared: a shared root
 * (rootfsPropagation "shared"/"rshared") is private while it pivots and shared again after. */
static int pivot_into(const char *rootfs, unsigned long propagation, kata_error_t *err)
{
	bool shared = (propagation & MS_SHARED) != 0;

	if (chdir(rootfs) < 0)
		return kata_error_sys(err, "chdir %s", rootfs);
	if (shared && mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
		return kata_error_sys(err, "make / private to pivot");
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return kata_error_sys(err, "pivot_root %s", rootfs);
	/* The old root is stacked under the new one: detach it. */
	if (mount(NULL, ".", NULL, MS_SLAVE | MS_REC, NULL) < 0)
		return kata_error_sys(err, "make the old root a slave");
	if (umount2(".", MNT_DETACH) < 0)
		return kata_error_sys(err, "detach the old root");
	if (chdir("/") < 0)
		return kata_error_sys(err, "chdir /");
	if (shared && mount(NULL, "/", NULL, propagation, NULL) < 0)
		return kata_error_sys(err, "set the propagation of the new /");
	return 0;
}

static int mask_paths(char *const *paths, kata_error_t *err)
{
	for (size_t i = 0; paths && paths[i]; i++) {
		struct stat st;

		if (stat(paths[i], &st) < 0)
			continue; /* absent: nothing to hide */
		if (S_ISDIR(st.st_mode)) {
			if (mount("tmpfs", paths[i], "tmpfs", MS_RDONLY, "size=0k") < 0)
				return kata_error_sys(err, "mask %s", paths[i]);
		} else if (mount("/dev/null", paths[i], NULL, MS_BIND, NULL) < 0) {
			return kata_error_sys(err, "mask %s", paths[i]);
		}
	}
	return 0;
}

static int readonly_paths(char *const *paths, kata_error_t *err)
{
	for (size_t i = 0; paths && paths[i]; i++) {
		if (access(paths[i], F_OK) < 0)
			continue;
		if (mount(paths[i], paths[i], NULL, MS_BIND | MS_REC, NULL) < 0)
			return kata_error_sys(err, "bind %s", paths[i]);
		if (remount_bind(paths[i], MS_RDONLY, err) < 0)
			return -1;
	}
	return 0;
}

static int apply_sysctls(char *const *pairs, kata_error_t *err)
{
	for (size_t i = 0; pairs && pairs[i] && pairs[i + 1]; i += 2) {
		cleanup_free char *path = xasprintf("/proc/sys/%s", pairs[i]);
		cleanup_close int fd = -1;
		size_t len = strlen(pairs[i + 1]);

		if (strstr(pairs[i], "..") || pairs[i][0] == '/')
			return kata_error_set(err, EINVAL, "sysctl %s: invalid name", pairs[i]);
		for (char *p = path + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			return kata_error_sys(err, "sysctl %s", pairs[i]);
		if (write(fd, pairs[i + 1], len) != (ssize_t)len)
			return kata_error_sys(err, "sysctl %s = %s", pairs[i], pairs[i + 1]);
	}
	return 0;
}

int agent_child_setup_rootfs(const struct oci_spec *spec, const char *rootfs,
                             const char *container_id, const char *console, bool in_userns,
                             kata_error_t *err)
{
	cleanup_close int rootfd = -1;
	bool no_mounts = spec->n_mounts == 0;

	if (mount(NULL, "/", NULL, root_propagation(spec), NULL) < 0)
		return kata_error_sys(err, "set the propagation of /");
	if (mount(rootfs, rootfs, NULL, MS_BIND | MS_REC, NULL) < 0)
		return kata_error_sys(err, "bind the rootfs %s", rootfs);
	rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (rootfd < 0)
		return kata_error_sys(err, "open the rootfs %s", rootfs);

	/* Without a /dev of the spec's, a tmpfs with the default devices, as runc. */
	if (!spec_mounts(spec, "/dev") &&
	    mount_simple(rootfd, "/dev", "tmpfs", MS_NOSUID | MS_STRICTATIME,
	                 "mode=755,size=65536k", err) < 0)
		return -1;
	/* A spec without mounts (hyperstart's dialect sends none) gets the usual ones. */
	if (no_mounts &&
	    (mount_simple(rootfd, "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) <
	             0 ||
	     mount_simple(rootfd, "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
	                  NULL, err) < 0 ||
	     mount_simple(rootfd, "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	                  "mode=1777,size=65536k", err) < 0 ||
	     mount_simple(rootfd, "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL,
	                  err) < 0))
		return -1;
	if (!spec_mounts(spec, "/dev/pts") &&
	    mount_simple(rootfd, "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	                 "newinstance,ptmxmode=0666,mode=0620", err) < 0)
		return -1;
	for (size_t i = 0; i < spec->n_mounts; i++)
		if (do_mount(rootfd, &spec->mounts[i], container_id, err) < 0)
			return -1;
	if (populate_dev(rootfd, spec, console, in_userns, err) < 0)
		return -1;
	if (pivot_into(rootfs, root_propagation(spec), err) < 0)
		return -1;
	if (spec->linux_spec != NULL && (apply_sysctls(spec->linux_spec->sysctl, err) < 0 ||
	                                 mask_paths(spec->linux_spec->masked_paths, err) < 0 ||
	                                 readonly_paths(spec->linux_spec->readonly_paths, err) < 0))
		return -1;
	if (spec->root != NULL && spec->root->readonly && remount_bind("/", MS_RDONLY, err) < 0)
		return -1;
	return 0;
}
