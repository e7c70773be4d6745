#include "share.h"
#include "cleanup.h"
#include "log.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* Creates the mount point (a directory, or an empty file for a file source). */
static int make_mount_point(const char *target, bool directory, kata_error_t *err)
{
	cleanup_free char *parent = xstrdup(target);
	int fd;

	*strrchr(parent, '/') = '\0';
	if (mkdir_all(parent, 0755, 0755, NULL, err) < 0)
		return -1;
	if (directory)
		return mkdir_all(target, 0755, 0755, NULL, err);
	fd = open(target, O_CREAT | O_WRONLY | O_CLOEXEC, 0644);
	if (fd < 0)
		return kata_error_sys(err, "create `%s`", target);
	close(fd);
	return 0;
}

static int bind_into(const char *source, const char *target, bool recursive, char ***mounts,
                     kata_error_t *err)
{
	unsigned long flags = MS_BIND | (recursive ? MS_REC : 0);

	if (mount(source, target, NULL, flags, NULL) < 0)
		return kata_error_sys(err, "bind `%s` on `%s`", source, target);
	strv_append(mounts, target);
	/* Keep the guest's view private: nothing mounted later on the host leaks in. */
	if (mount(NULL, target, NULL, MS_PRIVATE | (recursive ? MS_REC : 0), NULL) < 0)
		return kata_error_sys(err, "make `%s` private", target);
	return 0;
}

int share_rootfs(const char *shared_dir, const char *id, const char *rootfs, char ***mounts,
                 kata_error_t *err)
{
	cleanup_free char *target = xasprintf("%s/%s/rootfs", shared_dir, id);
	struct stat st;

	if (stat(rootfs, &st) < 0)
		return kata_error_sys(err, "root filesystem `%s`", rootfs);
	if (!S_ISDIR(st.st_mode))
		return kata_error_set(err, ENOTDIR, "root filesystem `%s` is not a directory",
		                      rootfs);
	if (make_mount_point(target, true, err) < 0)
		return -1;
	return bind_into(rootfs, target, true, mounts, err);
}

static bool is_bind_mount(const struct oci_mount *m)
{
	if (m->type != NULL && strcmp(m->type, "bind") == 0)
		return true;
	for (char **o = m->options; o != NULL && *o != NULL; o++) {
		if (strcmp(*o, "bind") == 0 || strcmp(*o, "rbind") == 0)
			return true;
	}
	return false;
}

static bool wants_recursive(const struct oci_mount *m)
{
	for (char **o = m->options; o != NULL && *o != NULL; o++) {
		if (strcmp(*o, "rbind") == 0)
			return true;
	}
	return false;
}

int share_bind_mounts(const char *shared_dir, const char *id, struct oci_spec *spec, char ***mounts,
                      kata_error_t *err)
{
	for (size_t i = 0; i < spec->n_mounts; i++) {
		struct oci_mount *m = &spec->mounts[i];
		cleanup_free char *target = NULL;
		struct stat st;

		if (!is_bind_mount(m) || m->source == NULL)
			continue;
		if (stat(m->source, &st) < 0)
			return kata_error_sys(err, "mounts[%zu]: source `%s`", i, m->source);
		if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode))
			return kata_error_set(err, EINVAL,
			                      "mounts[%zu]: source `%s` is neither a file nor a "
			                      "directory (devices are not shared with the VM)",
			                      i, m->source);
		target = xasprintf("%s/%s/mounts/%zu", shared_dir, id, i);
		if (make_mount_point(target, S_ISDIR(st.st_mode), err) < 0 ||
		    bind_into(m->source, target, wants_recursive(m), mounts, err) < 0)
			return kata_error_wrap(err, "mounts[%zu]", i);
		free(m->source);
		m->source = xasprintf("%s/%s/mounts/%zu", SHARE_GUEST_PATH, id, i);
	}
	return 0;
}

int share_unmount_all(char *const *mounts, kata_error_t *err)
{
	size_t n = strv_length(mounts);
	int ret = 0;

	while (n-- > 0) {
		if (umount2(mounts[n], MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT) {
			log_warning("unmount `%s`: %s", mounts[n], strerror(errno));
			if (ret == 0)
				ret = kata_error_sys(err, "unmount `%s`", mounts[n]);
		}
	}
	return ret;
}

/* mountinfo escapes space, tab, newline and backslash in paths as octal (\040). */
static char *unescape_mount_path(const char *field)
{
	char *out = xmalloc(strlen(field) + 1), *o = out;

	for (const char *p = field; *p != '\0'; p++) {
		if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
		    p[3] >= '0' && p[3] <= '7') {
			*o++ = (char)((p[1] - '0') * 64 + (p[2] - '0') * 8 + (p[3] - '0'));
			p += 3;
		} else {
			*o++ = *p;
		}
	}
	*o = '\0';
	return out;
}

static bool is_at_or_below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	return strncmp(path, dir, n) == 0 && (path[n] == '\0' || path[n] == '/');
}

static int compare_depth_descending(const void *a, const void *b)
{
	size_t la = strlen(*(char *const *)a), lb = strlen(*(char *const *)b);

	return la < lb ? 1 : la > lb ? -1 : 0;
}

int share_unmount_below(const char *dir, kata_error_t *err)
{
	cleanup_fclose FILE *f = fopen("/proc/self/mountinfo", "re");
	cleanup_strv char **points = NULL;
	cleanup_free char *line = NULL;
	size_t cap = 0;

	if (f == NULL)
		return kata_error_sys(err, "open /proc/self/mountinfo");
	/* Fields: id parent major:minor root mount-point options ... */
	while (getline(&line, &cap, f) > 0) {
		char mount_point[4096];
		cleanup_free char *path = NULL;

		if (sscanf(line, "%*s %*s %*s %*s %4095s", mount_point) != 1)
			continue;
		path = unescape_mount_path(mount_point);
		if (is_at_or_below(path, dir))
			strv_append(&points, path);
	}
	if (points == NULL)
		return 0;
	qsort(points, strv_length(points), sizeof(char *), compare_depth_descending);
	for (char **p = points; *p != NULL; p++) {
		if (umount2(*p, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
			return kata_error_sys(err, "unmount `%s`", *p);
	}
	return 0;
}
