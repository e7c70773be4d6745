#include "rootfs_check.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdbool.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static bool is_kernel_fs(const char *type)
{
	return type != NULL && (strcmp(type, "proc") == 0 || strcmp(type, "sysfs") == 0);
}

static int check_ordinary_directory(int rootfd, const char *dest, kata_error_t *err)
{
	struct open_how how = {
		.flags = O_PATH | O_CLOEXEC,
		.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	const char *rel = dest;
	cleanup_close int fd = -1;
	struct stat st;

	while (*rel == '/')
		rel++;
	if (*rel == '\0')
		return kata_error_set(err, EINVAL, "mount destination `%s`: the root itself", dest);
	fd = (int)syscall(SYS_openat2, rootfd, rel, &how, sizeof(how));
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP)
		return kata_error_set(
		        err, ELOOP,
		        "mount destination `%s` must be mounted on ordinary directory: "
		        "a symlink is on its path in the rootfs",
		        dest);
	if (fd < 0)
		return kata_error_sys(err, "mount destination `%s` in the rootfs", dest);
	if (fstat(fd, &st) < 0)
		return kata_error_sys(err, "mount destination `%s`", dest);
	if (!S_ISDIR(st.st_mode))
		return kata_error_set(
		        err, ENOTDIR,
		        "mount destination `%s` must be mounted on ordinary directory: "
		        "it is not a directory in the rootfs",
		        dest);
	return 0;
}

int rootfs_check_mount_destinations(const char *rootfs, const struct oci_spec *spec,
                                    kata_error_t *err)
{
	cleanup_close int rootfd = open(rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC);

	if (rootfd < 0)
		return kata_error_sys(err, "root filesystem `%s`", rootfs);
	/* Without mounts the agent mounts the usual ones, proc and sysfs among them. */
	if (spec->n_mounts == 0)
		return check_ordinary_directory(rootfd, "/proc", err) < 0 ||
		                       check_ordinary_directory(rootfd, "/sys", err) < 0
		               ? -1
		               : 0;
	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];

		if (is_kernel_fs(m->type) &&
		    check_ordinary_directory(rootfd, m->destination, err) < 0)
			return kata_error_wrap(err, "mounts[%zu]", i);
	}
	return 0;
}
