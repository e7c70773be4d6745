#include "state.h"
#include "cleanup.h"
#include "json_util.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

bool state_id_is_valid(const char *id)
{
	size_t len = strlen(id);

	if (len == 0 || len > STATE_ID_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];
		bool alnum =
		        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '.' && c != '-')))
			return false;
	}
	return true;
}

static int check_id(const char *id, kata_error_t *err)
{
	if (!state_id_is_valid(id))
		return kata_error_set(err, EINVAL,
		                      "invalid container id `%s`: use letters, digits, _ . - "
		                      "(not first), at most %d characters",
		                      id, STATE_ID_MAX);
	return 0;
}

int mkdir_all(const char *path, mode_t parent_mode, mode_t mode, bool *created, kata_error_t *err)
{
	cleanup_free char *copy = xstrdup(path);

	if (created != NULL)
		*created = false;
	for (char *p = copy + 1; *p != '\0'; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, parent_mode) < 0 && errno != EEXIST)
			return kata_error_sys(err, "create `%s`", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) == 0) {
		if (created != NULL)
			*created = true;
		return 0;
	}
	if (errno != EEXIST)
		return kata_error_sys(err, "create `%s`", path);
	return 0;
}

/* Locks dir (an open directory fd); fails with ENOENT when it was unlinked meanwhile. */
static int lock_dir(int fd, const char *id, kata_error_t *err)
{
	struct stat st;

	while (flock(fd, LOCK_EX) < 0) {
		if (errno != EINTR)
			return kata_error_sys(err, "lock container `%s`", id);
	}
	if (fstat(fd, &st) < 0)
		return kata_error_sys(err, "stat container `%s`", id);
	if (st.st_nlink == 0)
		return kata_error_set(err, ENOENT, "container `%s` does not exist", id);
	return 0;
}

static void handle_init(struct state_handle *handle, const char *root, const char *id, int fd)
{
	handle->dir = xasprintf("%s/%s", root, id);
	handle->id = xstrdup(id);
	handle->lock_fd = fd;
}

int state_create(const char *root, const char *id, struct state_handle *handle, kata_error_t *err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int fd = -1;

	if (check_id(id, err) < 0 || mkdir_all(root, 0755, 0711, NULL, err) < 0)
		return -1;
	dir = xasprintf("%s/%s", root, id);
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return kata_error_set(err, EEXIST, "container `%s` already exists", id);
		return kata_error_sys(err, "create `%s`", dir);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return kata_error_sys(err, "open `%s`", dir);
	if (lock_dir(fd, id, err) < 0)
		return -1;
	handle_init(handle, root, id, steal_fd(&fd));
	return 0;
}

int state_open(const char *root, const char *id, struct state_handle *handle, kata_error_t *err)
{
	cleanup_free char *dir = NULL;
	cleanup_close int fd = -1;

	if (check_id(id, err) < 0)
		return -1;
	dir = xasprintf("%s/%s", root, id);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return kata_error_set(err, ENOENT, "container `%s` does not exist", id);
		return kata_error_sys(err, "open `%s`", dir);
	}
	if (lock_dir(fd, id, err) < 0)
		return -1;
	handle_init(handle, root, id, steal_fd(&fd));
	return 0;
}

void state_unlock(struct state_handle *handle)
{
	if (handle->lock_fd >= 0)
		close(handle->lock_fd);
	handle->lock_fd = -1;
	free(handle->dir);
	free(handle->id);
	handle->dir = handle->id = NULL;
}

int state_write(const struct state_handle *handle, json_object *state, kata_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/%s", handle->dir, STATE_FILE_NAME);

	if (json_write_file_atomic(path, state, 0600, err) < 0)
		return kata_error_wrap(err, "save state of container `%s`", handle->id);
	return 0;
}

static json_object *read_state_file(const char *dir, const char *id, kata_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, STATE_FILE_NAME);
	json_object *state;

	if (access(path, F_OK) < 0 && errno == ENOENT) {
		if (access(dir, F_OK) < 0 && errno == ENOENT)
			kata_error_set(err, ENOENT, "container `%s` does not exist", id);
		else
			kata_error_set(err, ENODATA,
			               "container `%s` has no state yet: its create is running or "
			               "was killed",
			               id);
		return NULL;
	}
	state = json_parse_file(path, 0, err);
	if (state == NULL) {
		if (err != NULL && *err != NULL && (*err)->errno_value != ENOENT)
			(*err)->errno_value = EBADMSG; /* damaged: see state.h */
		kata_error_wrap(err, "read state of container `%s`", id);
		return NULL;
	}
	return state;
}

json_object *state_read(const struct state_handle *handle, kata_error_t *err)
{
	return read_state_file(handle->dir, handle->id, err);
}

json_object *state_read_unlocked(const char *root, const char *id, kata_error_t *err)
{
	cleanup_free char *dir = NULL;

	if (check_id(id, err) < 0)
		return NULL;
	dir = xasprintf("%s/%s", root, id);
	return read_state_file(dir, id, err);
}

/* A directory that is the root of a mount (a bind mount looks like any directory, even on
 * the same filesystem): removing "its" files would delete the mounted tree's. */
static int is_mount_root(int dirfd, bool *mount_root)
{
	struct statx stx;

	if (statx(dirfd, "", AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW, STATX_BASIC_STATS, &stx) < 0)
		return -1;
	if (!(stx.stx_attributes_mask & STATX_ATTR_MOUNT_ROOT)) {
		errno = ENOTSUP; /* a kernel too old to tell: refuse rather than guess */
		return -1;
	}
	*mount_root = (stx.stx_attributes & STATX_ATTR_MOUNT_ROOT) != 0;
	return 0;
}

static int remove_dir_contents(int dirfd, const char *path, int depth, kata_error_t *err);

static int remove_entry_at(int dirfd, const char *name, const char *parent, int depth,
                           kata_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/%s", parent, name);
	cleanup_close int fd = -1;
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : kata_error_sys(err, "stat `%s`", path);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
			return kata_error_sys(err, "remove `%s`", path);
		return 0;
	}
	fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : kata_error_sys(err, "open `%s`", path);
	if (remove_dir_contents(fd, path, depth + 1, err) < 0)
		return -1;
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return kata_error_sys(err, "remove `%s`", path);
	return 0;
}

static int remove_dir_contents(int dirfd, const char *path, int depth, kata_error_t *err)
{
	cleanup_closedir DIR *dir = NULL;
	struct dirent *entry;
	bool mount_root;
	int fd;

	if (depth > REMOVE_TREE_MAX_DEPTH)
		return kata_error_set(err, ELOOP, "`%s` is nested too deeply to remove", path);
	if (is_mount_root(dirfd, &mount_root) < 0)
		return kata_error_sys(err, "stat `%s`", path);
	if (mount_root)
		return kata_error_set(err, EBUSY,
		                      "`%s` is a mount point: not removing what is in it", path);
	fd = dup(dirfd);
	if (fd < 0 || (dir = fdopendir(fd)) == NULL) {
		if (fd >= 0)
			close(fd);
		return kata_error_sys(err, "open `%s`", path);
	}
	while ((errno = 0, entry = readdir(dir)) != NULL) {
		if (strcmp(entry->d_name, ".") == 0 || strcmp(entry->d_name, "..") == 0)
			continue;
		if (remove_entry_at(dirfd, entry->d_name, path, depth, err) < 0)
			return -1;
	}
	if (errno != 0)
		return kata_error_sys(err, "read `%s`", path);
	return 0;
}

int remove_tree(const char *path, kata_error_t *err)
{
	cleanup_free char *parent = NULL;
	cleanup_close int parent_fd = -1;
	const char *slash = strrchr(path, '/');

	if (slash == NULL || slash[1] == '\0')
		return kata_error_set(err, EINVAL, "remove `%s`: not an absolute path to an entry",
		                      path);
	parent = xstrndup(path, slash == path ? 1 : (size_t)(slash - path));
	parent_fd = open(parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (parent_fd < 0)
		return errno == ENOENT ? 0 : kata_error_sys(err, "open `%s`", parent);
	return remove_entry_at(parent_fd, slash + 1, parent, 0, err);
}

int state_destroy(struct state_handle *handle, kata_error_t *err)
{
	int ret = remove_tree(handle->dir, err);

	if (ret < 0)
		kata_error_wrap(err, "delete container `%s`", handle->id);
	state_unlock(handle);
	return ret;
}

static int compare_strings(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int state_list(const char *root, char ***ids, kata_error_t *err)
{
	cleanup_closedir DIR *dir = opendir(root);
	char **list = NULL;
	size_t n = 0;
	struct dirent *entry;

	if (dir == NULL) {
		if (errno != ENOENT)
			return kata_error_sys(err, "open state root `%s`", root);
		*ids = xcalloc(1, sizeof(char *));
		return 0;
	}
	while ((entry = readdir(dir)) != NULL) {
		if (entry->d_type != DT_DIR || !state_id_is_valid(entry->d_name))
			continue;
		list = xrealloc(list, (n + 2) * sizeof(char *));
		list[n++] = xstrdup(entry->d_name);
	}
	if (list == NULL)
		list = xcalloc(1, sizeof(char *));
	list[n] = NULL;
	qsort(list, n, sizeof(char *), compare_strings);
	*ids = list;
	return 0;
}
