/* `kata-runtime start ID`: lets a created container run its program. */
#include <errno.h>

#include "agent_call.h"
#include "cleanup.h"
#include "hooks.h"
#include "json_util.h"
#include "lifecycle.h"
#include "log.h"
#include "oci_spec.h"

/* The hooks are in the bundle's config.json, read again: the record keeps no copy. */
static void run_poststart_hooks(const struct container_record *record)
{
	cleanup_free char *path = xasprintf("%s/config.json", record->bundle);
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *state = container_oci_state(record, CONTAINER_RUNNING);
	struct oci_spec *spec = oci_spec_load(path, &err);

	if (spec == NULL || hooks_run(spec->hooks, OCI_HOOK_POSTSTART, state, &err) < 0)
		log_warning("poststart: %s", err->message);
	oci_spec_free(spec);
}

int container_start(struct cli_context *ctx, const char *id, kata_error_t *err)
{
	struct container_record record;
	struct state_handle handle;
	enum container_status status;
	cleanup_json json_object *target = NULL;
	int ret = -1;

	if (container_load(ctx->root, id, &handle, &record, err) < 0)
		return -1;
	kata_log_set_field("container", id);
	status = container_current_status(&record);
	if (status != CONTAINER_CREATED) {
		kata_error_set(err, EINVAL, "cannot start container `%s`: it is %s, not created",
		               id, container_status_name(status));
		goto out;
	}
	target = agent_target(id, NULL);
	if (agent_call(&record.sandbox, "startcontainer", target, AGENT_CALL_TIMEOUT_MS, NULL,
	               err) < 0)
		goto out;
	record.saved_status = CONTAINER_RUNNING;
	if (container_save(&handle, &record, err) < 0)
		goto out;
	run_poststart_hooks(&record);
	ret = 0;
out:
	state_unlock(&handle);
	container_record_clear(&record);
	return ret < 0 ? kata_error_wrap(err, "start") : 0;
}

int cli_start(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	if (argc != 2)
		return kata_error_set(err, EINVAL, "usage: %s start CONTAINER_ID", ctx->program);
	return container_start(ctx, argv[1], err);
}
