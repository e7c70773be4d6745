/* A container of a pod joins its sandbox's VM (cli/pod.h): no VM of its own, its rootfs
 * under the VM's shared directory, its own shim and guest container. */
#include "pod.h"

#include <errno.h>
#include <string.h>

#include "agent_call.h"
#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "share.h"

#define POD_SHIM_EXIT_TIMEOUT_MS 2000

int pod_sandbox_lock(const char *root, const char *sandbox_id, struct state_handle *handle,
                     struct container_record *sandbox, kata_error_t *err)
{
	kata_error_t open_err = NULL;
	enum container_status status;

	if (state_open(root, sandbox_id, handle, &open_err) < 0) {
		if (open_err->errno_value != ENOENT)
			return kata_error_move(err, &open_err);
		kata_error_free(&open_err);
		return kata_error_set(err, ENOENT, "the pod's sandbox `%s` does not exist",
		                      sandbox_id);
	}
	if (container_read(handle, sandbox, err) < 0) {
		state_unlock(handle);
		return kata_error_wrap(err, "the pod's sandbox `%s`", sandbox_id);
	}
	status = container_current_status(sandbox);
	if (!pod_record_is_sandbox(sandbox))
		kata_error_set(err, EINVAL,
		               "container `%s` is not a pod's sandbox (it has no sandbox "
		               "annotation)",
		               sandbox_id);
	else if (status != CONTAINER_CREATED && status != CONTAINER_RUNNING)
		kata_error_set(err, ESRCH, "the pod's sandbox `%s` is %s", sandbox_id,
		               container_status_name(status));
	else if (sandbox->sandbox.proxy.pid <= 0 || !process_is_alive(&sandbox->sandbox.proxy))
		kata_error_set(err, ESRCH, "the VM of the pod's sandbox `%s` is gone", sandbox_id);
	else
		return 0;
	state_unlock(handle);
	container_record_clear(sandbox);
	return -1;
}

int pod_container_join(const struct container_record *sandbox, struct container_record *record,
                       struct oci_spec *spec, kata_error_t *err)
{
	const struct sandbox_record *vm = &sandbox->sandbox;
	struct sandbox_record *sb = &record->sandbox;
	cleanup_free char *rootfs = NULL;

	sb->id = xstrdup(vm->id);
	sb->dir = xstrdup(vm->dir);
	sb->shared_dir = xstrdup(vm->shared_dir);
	sb->hypervisor = json_object_get(vm->hypervisor);
	sb->proxy = vm->proxy;
	sb->proxy_socket = xstrdup(vm->proxy_socket);
	sb->vcpus = vm->vcpus;
	sb->memory_mib = vm->memory_mib;
	rootfs = spec->root->path[0] == '/' ? xstrdup(spec->root->path)
	                                    : xasprintf("%s/%s", record->bundle, spec->root->path);
	if (share_rootfs(sb->shared_dir, record->id, rootfs, &sb->mounts, err) < 0 ||
	    share_bind_mounts(sb->shared_dir, record->id, spec, &sb->mounts, err) < 0)
		return kata_error_wrap(err, "share the rootfs of `%s` with the pod's VM",
		                       record->id);
	return 0;
}

static void keep_first(kata_error_t *first, kata_error_t *next)
{
	if (*first == NULL)
		kata_error_move(first, next);
	else
		kata_error_free(next);
}

int pod_container_undo(struct cli_context *ctx, struct container_record *record, bool vm_alive,
                       kata_error_t *err)
{
	struct sandbox_record *sb = &record->sandbox;
	kata_error_t first = NULL, step = NULL;
	cleanup_free char *dir = NULL;

	(void)ctx;
	if (vm_alive && sb->proxy_socket != NULL) {
		cleanup_json json_object *target = agent_target(record->id, NULL);

		/* The agent kills what is left of the container and frees its cgroup. A
		 * container the guest never got is not an error here. */
		if (agent_call(sb, "removecontainer", target, AGENT_CALL_SHORT_TIMEOUT_MS, NULL,
		               &step) < 0) {
			log_debug("removecontainer `%s`: %s", record->id, step->message);
			kata_error_free(&step);
		}
	}
	if (record->shim.pid > 0)
		process_terminate(&record->shim, POD_SHIM_EXIT_TIMEOUT_MS, NULL);
	if (sb->shared_dir == NULL)
		return 0;
	dir = xasprintf("%s/%s", sb->shared_dir, record->id);
	if (share_unmount_all(sb->mounts, &step) < 0 || share_unmount_below(dir, &step) < 0)
		keep_first(&first, &step); /* never remove a tree with a rootfs still in it */
	else if (remove_tree(dir, &step) < 0 && step->errno_value != ENOENT)
		keep_first(&first, &step);
	kata_error_free(&step);
	if (first != NULL) {
		kata_error_move(err, &first);
		return kata_error_wrap(err, "take container `%s` out of its pod", record->id);
	}
	return 0;
}
