/* `kata-runtime start ID`: lets a created container run its program. */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "agent_call.h"
#include "cleanup.h"
#include "fault_point.h"
#include "hooks.h"
#include "json_util.h"
#include "lifecycle.h"
#include "log.h"
#include "network.h"
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

/* A foreign agent runs the container's process as it creates it: start creates it. */
static int start_deferred(struct container_record *record, kata_error_t *err)
{
	const char *token = record->deferred_token;
	struct proxy_conn *conn = agent_connect(&record->sandbox, AGENT_CALL_TIMEOUT_MS, err);
	kata_error_t call_err = NULL;
	json_object *answer;

	if (conn == NULL)
		return -1;
	answer = proxy_hyper(conn, "newcontainer", &token, 1, record->deferred_newcontainer,
	                     &call_err);
	json_object_put(answer);
	proxy_conn_close(conn);
	if (call_err != NULL) {
		kata_error_move(err, &call_err);
		return kata_error_wrap(err, "agent newcontainer");
	}
	free(record->deferred_token);
	record->deferred_token = NULL;
	json_object_put(record->deferred_newcontainer);
	record->deferred_newcontainer = NULL;
	return 0;
}

/* Saves the record when the network set-up at start added something to undo. */
struct start_checkpoint {
	struct state_handle *handle;
	struct container_record *record;
};

static void save_checkpoint(void *opaque)
{
	struct start_checkpoint *cp = opaque;

	container_save(cp->handle, cp->record, NULL);
}

static int agent_setup(struct container_record *record, const char *request, json_object *payload,
                       kata_error_t *err)
{
	if (payload == NULL)
		return 0;
	if (agent_call(&record->sandbox, request, payload, AGENT_CALL_TIMEOUT_MS, NULL, err) < 0)
		return kata_error_wrap(err, "agent %s", request);
	return 0;
}

/* A namespace the runtime made at create (network.h) may have been filled since, by an engine
 * that configures the network between create and start (`ctr run --cni`): the new interface
 * is joined to the VM's standby NIC and the agent configures it, or start fails naming it,
 * rather than a container started without the network it was given. A container of a pod
 * has its sandbox's VM and network, settled when the sandbox started. */
static int join_late_network(struct state_handle *handle, struct container_record *record,
                             kata_error_t *err)
{
	struct start_checkpoint saved = { handle, record };
	struct network_checkpoint cp = { save_checkpoint, &saved };
	__attribute__((cleanup(network_late_clear))) struct network_late late = { NULL, NULL };
	cleanup_free char *netns = NULL;
	int joined;

	if (record->sandbox.dir == NULL || record->sandbox.id == NULL ||
	    strcmp(record->sandbox.id, record->id) != 0)
		return 0;
	netns = xasprintf("%s/" NETWORK_OWN_NETNS_FILE, record->sandbox.dir);
	if (access(netns, F_OK) < 0)
		return 0;
	joined = network_join_late(netns, record->sandbox.network, &cp, &late, err);
	if (joined <= 0)
		return joined;
	if (agent_setup(record, "setupinterface", late.setup_interface, err) < 0 ||
	    agent_setup(record, "setuproute", late.setup_route, err) < 0)
		return kata_error_wrap(err, "network");
	return 0;
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
	fault_point("start-locked");
	if (join_late_network(&handle, &record, err) < 0)
		goto out;
	if (record.deferred_newcontainer != NULL) {
		if (start_deferred(&record, err) < 0)
			goto out;
	} else {
		target = agent_target(id, NULL);
		if (agent_call(&record.sandbox, "startcontainer", target, AGENT_CALL_TIMEOUT_MS,
		               NULL, err) < 0)
			goto out;
	}
	fault_point("start-sent");
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
