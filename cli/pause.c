/* `kata-runtime pause ID` and `resume ID`: stop and continue the container's VM. */
#include <errno.h>
#include <string.h>

#include "hypervisor.h"
#include "lifecycle.h"
#include "cleanup.h"
#include "log.h"
#include "pod.h"

/* The VM of a pod is every container's: the others of the pod that were in state `from`
 * are recorded `to` as well, one lock at a time (never two held: no order to get wrong). */
static void pod_follow_vm(struct cli_context *ctx, const char *sandbox_id, const char *done,
                          enum container_status from, enum container_status to)
{
	cleanup_error kata_error_t err = NULL;
	char **ids = pod_members(ctx->root, sandbox_id, &err);

	if (ids == NULL) {
		log_warning("pod of `%s`: %s", sandbox_id, err->message);
		return;
	}
	strv_append(&ids, sandbox_id);
	for (size_t i = 0; ids[i] != NULL; i++) {
		struct container_record record;
		struct state_handle handle;
		kata_error_t step = NULL;

		if (strcmp(ids[i], done) == 0 ||
		    container_load(ctx->root, ids[i], &handle, &record, NULL) < 0)
			continue; /* the one named, or gone meanwhile */
		if (container_current_status(&record) == from) {
			record.saved_status = to;
			if (container_save(&handle, &record, &step) < 0) {
				log_warning("pod of `%s`: %s", sandbox_id, step->message);
				kata_error_free(&step);
			}
		}
		state_unlock(&handle);
		container_record_clear(&record);
	}
	strv_free(ids);
}

static int set_paused(struct cli_context *ctx, int argc, char **argv, bool pause, kata_error_t *err)
{
	enum container_status want = pause ? CONTAINER_RUNNING : CONTAINER_PAUSED;
	struct container_record record;
	struct state_handle handle;
	enum container_status status;
	struct hypervisor *hv = NULL;
	cleanup_free char *pod_sandbox = NULL;
	int ret = -1;

	if (argc != 2)
		return kata_error_set(err, EINVAL, "usage: %s %s CONTAINER_ID", ctx->program,
		                      argv[0]);
	if (container_load(ctx->root, argv[1], &handle, &record, err) < 0)
		return -1;
	kata_log_set_field("container", argv[1]);
	status = container_current_status(&record);
	pod_sandbox = pod_record_sandbox_id(&record);
	if (status != want) {
		kata_error_set(err, EINVAL, "container `%s` is %s, not %s", argv[1],
		               container_status_name(status), container_status_name(want));
		goto out;
	}
	if (lifecycle_load_config(ctx, &record, err) < 0)
		goto out;
	if (pod_sandbox != NULL || pod_record_is_sandbox(&record))
		log_warning(
		        "%s of container `%s` %s the whole VM of its pod (every container in it)",
		        argv[0], argv[1], pause ? "pauses" : "resumes");
	hv = hypervisor_restore(ctx->config, record.sandbox.hypervisor, err);
	if (hv == NULL)
		goto out;
	if ((pause ? hypervisor_pause(hv, 0, err) : hypervisor_resume(hv, 0, err)) < 0)
		goto out;
	record.saved_status = pause ? CONTAINER_PAUSED : CONTAINER_RUNNING;
	ret = container_save(&handle, &record, err);
out:
	hypervisor_free(hv);
	state_unlock(&handle);
	if (ret == 0 && (pod_sandbox != NULL || pod_record_is_sandbox(&record)))
		pod_follow_vm(ctx, pod_sandbox != NULL ? pod_sandbox : record.id, argv[1], want,
		              record.saved_status);
	container_record_clear(&record);
	return ret < 0 ? kata_error_wrap(err, "%s", argv[0]) : 0;
}

int cli_pause(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	return set_paused(ctx, argc, argv, true, err);
}

int cli_resume(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	return set_paused(ctx, argc, argv, false, err);
}
