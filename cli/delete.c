/* `kata-runtime delete [--force] ID`: removes a container and its VM. Nothing is left
 * behind: no qemu, proxy or shim, no mount, no directory. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <string.h>

#include "cleanup.h"
#include "hooks.h"
#include "json_util.h"
#include "lifecycle.h"
#include "log.h"
#include "oci_spec.h"
#include "sandbox.h"

#define SHIM_EXIT_TIMEOUT_MS 2000

static void run_poststop_hooks(const struct container_record *record)
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

int container_delete(struct cli_context *ctx, const char *id, bool force, kata_error_t *err)
{
	struct container_record record;
	struct state_handle handle;
	enum container_status status;
	int ret;

	if (container_load(ctx->root, id, &handle, &record, err) < 0) {
		/* As runc: forcing the deletion of what does not exist is no error. */
		if (force && err != NULL && *err != NULL && (*err)->errno_value == ENOENT) {
			kata_error_free(err);
			return 0;
		}
		return -1;
	}
	kata_log_set_field("container", id);
	status = container_current_status(&record);
	if (!force && (status == CONTAINER_RUNNING || status == CONTAINER_PAUSED)) {
		kata_error_set(err, EBUSY,
		               "cannot delete container `%s` that is %s: stop it first or use "
		               "--force",
		               id, container_status_name(status));
		goto fail;
	}
	if (lifecycle_load_config(ctx, &record, err) < 0)
		goto fail;
	/* The VM is the container's own and goes with it: nothing in the guest (a
	 * REMOVECONTAINER, an UnregisterVM) is worth a round trip first. */
	if (sandbox_teardown(ctx->config, &record.sandbox, err) < 0)
		goto fail;
	/* With the VM gone the shim exits by itself; make sure of it. */
	if (record.shim.pid > 0)
		process_terminate(&record.shim, SHIM_EXIT_TIMEOUT_MS, NULL);
	run_poststop_hooks(&record);
	ret = state_destroy(&handle, err);
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
