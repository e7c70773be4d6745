/* Deleting the containers of a pod (cli/pod.h): one leaves the VM and the others as they
 * are; the sandbox's delete takes the rest of the pod's containers with it. */
#include "pod.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "lifecycle.h"
#include "log.h"

static bool has_process(enum container_status status)
{
	return status == CONTAINER_CREATED || status == CONTAINER_RUNNING ||
	       status == CONTAINER_PAUSED;
}

/* Removes a locked container of the pod, and its record. */
static int remove_locked(struct cli_context *ctx, struct state_handle *handle,
                         struct container_record *record, bool force, bool vm_alive,
                         kata_error_t *err)
{
	enum container_status status = container_current_status(record);

	if (!force && (status == CONTAINER_RUNNING || status == CONTAINER_PAUSED))
		return kata_error_set(err, EBUSY,
		                      "cannot delete container `%s` that is %s: stop it first or "
		                      "use --force",
		                      record->id, container_status_name(status));
	if (pod_container_undo(ctx, record, vm_alive, err) < 0 && !force)
		return -1;
	container_run_poststop_hooks(record);
	return state_destroy(handle, err);
}

int pod_container_delete(struct cli_context *ctx, const char *id, const char *sandbox_id,
                         bool force, kata_error_t *err)
{
	struct state_handle sandbox_handle = { .lock_fd = -1 };
	struct state_handle handle;
	struct container_record sandbox = { 0 };
	struct container_record record = { 0 };
	kata_error_t open_err = NULL;
	bool vm_alive = false;
	int ret = -1;

	/* The pod first, then the container: the order every pod operation takes. */
	if (state_open(ctx->root, sandbox_id, &sandbox_handle, &open_err) < 0) {
		/* The sandbox is gone (and its VM with it): only this container's part is left. */
		log_debug("pod sandbox `%s`: %s", sandbox_id, open_err->message);
		kata_error_free(&open_err);
		sandbox_handle.lock_fd = -1;
	} else if (container_read(&sandbox_handle, &sandbox, NULL) == 0) {
		vm_alive =
		        sandbox.sandbox.proxy.pid > 0 && process_is_alive(&sandbox.sandbox.proxy);
	}
	if (state_open(ctx->root, id, &handle, &open_err) < 0) {
		/* Deleted meanwhile (by the sandbox's delete): as runc, no error under --force. */
		if (force && open_err->errno_value == ENOENT) {
			kata_error_free(&open_err);
			ret = 0;
		} else {
			kata_error_move(err, &open_err);
		}
		goto out;
	}
	if (container_read(&handle, &record, err) < 0) {
		state_unlock(&handle);
		goto out;
	}
	kata_log_set_field("container", id);
	if (lifecycle_load_config(ctx, &record, &open_err) < 0) {
		if (!force) {
			kata_error_move(err, &open_err);
			state_unlock(&handle);
			goto out;
		}
		log_warning("delete --force: %s", open_err->message);
		kata_error_free(&open_err);
	}
	ret = remove_locked(ctx, &handle, &record, force, vm_alive, err);
	if (ret < 0)
		state_unlock(&handle);
out:
	if (sandbox_handle.lock_fd >= 0)
		state_unlock(&sandbox_handle);
	container_record_clear(&sandbox);
	container_record_clear(&record);
	return ret < 0 ? kata_error_wrap(err, "delete") : 0;
}

char **pod_members(const char *root, const char *sandbox_id, kata_error_t *err)
{
	char **ids = NULL;
	char **members = NULL;

	if (state_list(root, &ids, err) < 0)
		return NULL;
	for (size_t i = 0; ids != NULL && ids[i] != NULL; i++) {
		struct container_record record;
		cleanup_free char *sandbox = NULL;

		if (strcmp(ids[i], sandbox_id) == 0 ||
		    container_load(root, ids[i], NULL, &record, NULL) < 0)
			continue;
		sandbox = pod_record_sandbox_id(&record);
		if (sandbox != NULL && strcmp(sandbox, sandbox_id) == 0)
			strv_append(&members, ids[i]);
		container_record_clear(&record);
	}
	strv_free(ids);
	if (members == NULL)
		members = xzalloc(sizeof(char *));
	return members;
}

int pod_sandbox_remove_containers(struct cli_context *ctx, const char *sandbox_id, bool force,
                                  kata_error_t *err)
{
	char **members = pod_members(ctx->root, sandbox_id, err);
	int ret = 0;

	if (members == NULL)
		return -1;
	/* Without --force, nothing is removed while one of them still has a process. */
	for (size_t i = 0; !force && members[i] != NULL; i++) {
		struct container_record record;
		enum container_status status;

		if (container_load(ctx->root, members[i], NULL, &record, NULL) < 0)
			continue;
		status = container_current_status(&record);
		container_record_clear(&record);
		if (has_process(status)) {
			ret = kata_error_set(
			        err, EBUSY,
			        "the pod of sandbox `%s` still has container `%s` (%s): "
			        "delete it first or use --force",
			        sandbox_id, members[i], container_status_name(status));
			goto out;
		}
	}
	for (size_t i = 0; members[i] != NULL; i++) {
		struct container_record record;
		struct state_handle handle;
		kata_error_t step = NULL;

		if (state_open(ctx->root, members[i], &handle, NULL) < 0)
			continue; /* deleted meanwhile */
		if (container_read(&handle, &record, &step) < 0) {
			kata_error_free(&step);
			container_record_bare(&record, members[i]);
		}
		/* The VM goes next: nothing in the guest is worth a round trip first. */
		if (remove_locked(ctx, &handle, &record, true, false, &step) < 0) {
			log_warning("pod of `%s`: %s", sandbox_id, step->message);
			kata_error_free(&step);
			state_unlock(&handle);
		}
		container_record_clear(&record);
	}
out:
	strv_free(members);
	return ret;
}
