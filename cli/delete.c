/* `kata-runtime delete [--force] ID`: removes a container and its VM. Nothing is left
 * behind: no qemu, proxy or shim, no mount, no directory. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fault_point.h"
#include "hooks.h"
#include "json_util.h"
#include "lifecycle.h"
#include "log.h"
#include "oci_spec.h"
#include "pod.h"
#include "sandbox.h"

#define SHIM_EXIT_TIMEOUT_MS 2000

void container_run_poststop_hooks(const struct container_record *record)
{
	cleanup_free char *path = NULL;
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *state = NULL;
	struct oci_spec *spec;

	if (record->bundle == NULL)
		return;
	path = xasprintf("%s/config.json", record->bundle);
	state = container_oci_state(record, CONTAINER_STOPPED);
	spec = oci_spec_load(path, &err);
	if (spec == NULL || hooks_run(spec->hooks, OCI_HOOK_POSTSTOP, state, &err) < 0)
		log_warning("poststop: %s", err->message);
	oci_spec_free(spec);
}

/* The record as far as it can be read. A create killed before its first write left
 * none yet (ENODATA): a "creating" container of which only the id is known. A damaged
 * one is, under --force, the same; without, an error that says how to remove it. */
static int read_record(const struct state_handle *handle, const char *id, bool force,
                       struct container_record *record, kata_error_t *err)
{
	kata_error_t read_err = NULL;

	if (container_read(handle, record, &read_err) == 0)
		return 0;
	if (read_err->errno_value == ENODATA || (force && read_err->errno_value == EBADMSG)) {
		if (read_err->errno_value == EBADMSG)
			log_warning("%s: removing it with what can be found of its sandbox",
			            read_err->message);
		kata_error_free(&read_err);
		container_record_bare(record, id);
		return 0;
	}
	if (read_err->errno_value == EBADMSG) {
		kata_error_set(err, EBADMSG, "%s (delete --force %s removes it)", read_err->message,
		               id);
		kata_error_free(&read_err);
		return -1;
	}
	return kata_error_move(err, &read_err);
}

/* The sandbox directory is named by (root, id) alone: a record that never said where it
 * is, or says nothing any more, still finds it. */
static void complete_sandbox(const char *root, const char *id, struct sandbox_record *sb)
{
	if (sb->id == NULL)
		sb->id = xstrdup(id);
	if (sb->dir == NULL)
		sb->dir = sandbox_dir_for(root, id);
}

/* A sandbox directory without a record: what a failed create could not remove, or what a
 * runtime killed during delete left after the record went. Taken under the container's
 * lock (a record made for the while), so that a create of the id waits. */
static int delete_orphan_sandbox(struct cli_context *ctx, const char *id, kata_error_t *err)
{
	cleanup_free char *dir = sandbox_dir_for(ctx->root, id);
	cleanup_error kata_error_t lock_err = NULL;
	struct container_record record;
	struct state_handle handle;
	int ret;

	if (access(dir, F_OK) < 0)
		return 0; /* as runc: forcing the deletion of what does not exist is no error */
	if (state_create(ctx->root, id, &handle, &lock_err) < 0)
		return 0; /* a create of this id has just begun: the directory is its own */
	log_warning("container `%s` has no record but its sandbox `%s` remains: removing it", id,
	            dir);
	container_record_bare(&record, id);
	complete_sandbox(ctx->root, id, &record.sandbox);
	ret = sandbox_teardown(ctx->config, &record.sandbox, err);
	state_destroy(&handle, NULL);
	container_record_clear(&record);
	return ret;
}

int container_delete(struct cli_context *ctx, const char *id, bool force, kata_error_t *err)
{
	struct container_record record;
	struct state_handle handle;
	enum container_status status;
	kata_error_t config_err = NULL;
	kata_error_t open_err = NULL;
	cleanup_free char *pod_sandbox = pod_sandbox_of(ctx->root, id);
	int ret;

	if (pod_sandbox != NULL)
		return pod_container_delete(ctx, id, pod_sandbox, force, err);
	if (state_open(ctx->root, id, &handle, &open_err) < 0) {
		if (force && open_err->errno_value == ENOENT) {
			kata_error_free(&open_err);
			if (delete_orphan_sandbox(ctx, id, err) < 0)
				return kata_error_wrap(err, "delete");
			return 0;
		}
		return kata_error_move(err, &open_err);
	}
	if (read_record(&handle, id, force, &record, err) < 0) {
		state_unlock(&handle);
		return kata_error_wrap(err, "delete");
	}
	fault_point("delete-locked");
	kata_log_set_field("container", id);
	status = container_current_status(&record);
	if (!force && (status == CONTAINER_RUNNING || status == CONTAINER_PAUSED)) {
		kata_error_set(err, EBUSY,
		               "cannot delete container `%s` that is %s: stop it first or use "
		               "--force",
		               id, container_status_name(status));
		goto fail;
	}
	/* A pod's containers go before its VM (with --force, running ones too). */
	if (pod_record_is_sandbox(&record) &&
	    pod_sandbox_remove_containers(ctx, id, force, err) < 0)
		goto fail;
	complete_sandbox(ctx->root, id, &record.sandbox);
	if (lifecycle_load_config(ctx, &record, &config_err) < 0) {
		if (!force) {
			kata_error_move(err, &config_err);
			goto fail;
		}
		/* Without it the VM's handle cannot be restored; the sweep still ends it. */
		log_warning("delete --force: %s", config_err->message);
		kata_error_free(&config_err);
	}
	/* The VM is the container's own and goes with it: nothing in the guest (a
	 * REMOVECONTAINER, an UnregisterVM) is worth a round trip first. */
	ret = sandbox_teardown(ctx->config, &record.sandbox, err);
	if (ret < 0 && !force)
		goto fail;
	/* With the VM gone the shim exits by itself; make sure of it. */
	if (record.shim.pid > 0)
		process_terminate(&record.shim, SHIM_EXIT_TIMEOUT_MS, NULL);
	container_run_poststop_hooks(&record);
	fault_point("delete-torn-down");
	/* --force removes the record whatever was left: what was is named in the error, and
	 * a later delete --force finds it by the sandbox directory. */
	if (state_destroy(&handle, ret < 0 ? NULL : err) < 0 && ret == 0)
		ret = -1;
	container_record_clear(&record);
	return ret < 0 ? kata_error_wrap(err, "delete") : 0;
fail:
	state_unlock(&handle);
	container_record_clear(&record);
	return kata_error_wrap(err, "delete");
}

int cli_delete(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	const struct option options[] = {
		{ "force", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool force = false;
	int c;

	while ((c = getopt_long_only(argc, argv, "+f", options, NULL)) != -1) {
		if (c != 'f')
			return kata_error_set(err, EINVAL, "delete: unknown option `%s`",
			                      argv[optind - 1]);
		force = true;
	}
	if (optind != argc - 1)
		return kata_error_set(err, EINVAL, "usage: %s delete [--force] CONTAINER_ID",
		                      ctx->program);
	return container_delete(ctx, argv[optind], force, err);
}
