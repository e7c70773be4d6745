/* The state store: one directory per container under the runtime's root (--root), holding
 * its state document (state.json, written atomically) and serialised by an advisory lock.
 *
 *   ROOT/            mode 0711
 *     ID/            mode 0700, flock()ed by whoever changes the container
 *       state.json   written with json_write_file_atomic()
 *
 * `list` and `state` read only this. The lock is taken on the container's directory
 * itself; a holder that finds the directory unlinked after waiting treats the container
 * as gone (another caller deleted it meanwhile).
 */
#ifndef KATA_STATE_H
#define KATA_STATE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <sys/types.h>

#include "agent_proto.h"
#include "error.h"

#define STATE_FILE_NAME "state.json"
/* runc's rule for container ids: letters, digits, and _ . - after the first character; and
 * the agent's length limit, the one limit of every component. */
#define STATE_ID_MAX AGENT_ID_MAX

/* A locked container: the lock is released by state_unlock (or by exit). */
struct state_handle {
	char *dir; /* ROOT/ID */
	char *id;
	int lock_fd;
};

bool state_id_is_valid(const char *id);

/* Creates ROOT/ID and locks it; fails with EEXIST ("container ID already exists"). */
int state_create(const char *root, const char *id, struct state_handle *handle, kata_error_t *err);
/* Locks an existing container; fails with ENOENT ("container ID does not exist"). */
int state_open(const char *root, const char *id, struct state_handle *handle, kata_error_t *err);
void state_unlock(struct state_handle *handle);

int state_write(const struct state_handle *handle, json_object *state, kata_error_t *err);
/* Reads the state; the handle need not be locked for a reader (writes are atomic). Fails
 * with ENOENT when the container does not exist, ENODATA when its directory has no state
 * file yet (a create running, or killed before its first write), EBADMSG when the file is
 * damaged (truncated, not JSON). */
json_object *state_read(const struct state_handle *handle, kata_error_t *err);
json_object *state_read_unlocked(const char *root, const char *id, kata_error_t *err);

/* Removes the container's directory and everything in it, then unlocks. */
int state_destroy(struct state_handle *handle, kata_error_t *err);

/* Ids of every container under root, sorted; an absent root is an empty list. */
int state_list(const char *root, char ***ids, kata_error_t *err);

/* mkdir -p: the missing parents with parent_mode, path itself with mode. *created (may
 * be NULL) tells whether path was made here. */
int mkdir_all(const char *path, mode_t parent_mode, mode_t mode, bool *created, kata_error_t *err);

/* Removes a directory tree (an absolute path) without following symlinks. It refuses
 * (EBUSY) to descend into a mount point, bind mounts included, so a tree that still has
 * something mounted in it keeps what is mounted there. */
int remove_tree(const char *path, kata_error_t *err);
#define REMOVE_TREE_MAX_DEPTH 256

#endif
