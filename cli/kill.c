/* `kata-runtime kill [--all] ID [SIGNAL]`: sends a signal (default SIGTERM) to the
 * container's init, or with --all to every process of the container. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>

#include "agent_call.h"
#include "dialect.h"
#include "cleanup.h"
#include "hypervisor.h"
#include "json_util.h"
#include "lifecycle.h"
#include "log.h"
#include "signal_name.h"

/* A paused VM cannot run its agent: SIGKILL resumes it first, as the process must die. */
static int resume_for_kill(struct cli_context *ctx, struct container_record *record,
                           const struct state_handle *handle, kata_error_t *err)
{
	struct hypervisor *hv;
	int ret;

	if (lifecycle_load_config(ctx, record, err) < 0)
		return -1;
	hv = hypervisor_restore(ctx->config, record->sandbox.hypervisor, err);
	if (hv == NULL)
		return -1;
	ret = hypervisor_resume(hv, 0, err);
	hypervisor_free(hv);
	if (ret < 0)
		return -1;
	record->saved_status = CONTAINER_RUNNING;
	return container_save(handle, record, err);
}

static int container_kill(struct cli_context *ctx, const char *id, int signo, bool all,
                          kata_error_t *err)
{
	struct container_record record;
	struct state_handle handle;
	enum container_status status;
	cleanup_json json_object *request = NULL;
	cleanup_error kata_error_t call_err = NULL;
	int ret = -1;

	if (container_load(ctx->root, id, &handle, &record, err) < 0)
		return -1;
	kata_log_set_field("container", id);
	status = container_current_status(&record);
	if (status == CONTAINER_STOPPED || status == CONTAINER_CREATING) {
		/* "container not running": what containerd's runc shim takes for a process that
		 * is already gone (as runc says it), not for a failure. */
		kata_error_set(err, ESRCH,
		               "container `%s` is %s: container not running, no process to signal",
		               id, container_status_name(status));
		goto out;
	}
	if (status == CONTAINER_PAUSED) {
		if (signo != SIGKILL) {
			kata_error_set(err, EBUSY, "container `%s` is paused: resume it first", id);
			goto out;
		}
		if (resume_for_kill(ctx, &record, &handle, err) < 0)
			goto out;
	}
	if (lifecycle_load_config(ctx, &record, err) < 0)
		goto out;
	request = dialect_kill_request(ctx->config, id, signo, all);
	ret = agent_call(&record.sandbox, "killcontainer", request, AGENT_CALL_TIMEOUT_MS, NULL,
	                 &call_err);
	if (ret < 0 && signo == SIGKILL) {
		/* The agent is unreachable (the VM died?): the engine still needs its process
		 * to go, and the shim is that process. */
		log_warning("kill: %s; killing the shim", call_err->message);
		ret = process_signal(&record.shim, SIGKILL, err);
	} else if (ret < 0) {
		kata_error_move(err, &call_err);
	}
out:
	state_unlock(&handle);
	container_record_clear(&record);
	return ret < 0 ? kata_error_wrap(err, "kill") : 0;
}

int cli_kill(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	const struct option options[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	int signo = SIGTERM;
	int c;

	while ((c = getopt_long_only(argc, argv, "+a", options, NULL)) != -1) {
		if (c != 'a')
			return kata_error_set(err, EINVAL, "kill: unknown option `%s`",
			                      argv[optind - 1]);
		all = true;
	}
	if (optind != argc - 1 && optind != argc - 2)
		return kata_error_set(err, EINVAL, "usage: %s kill [--all] CONTAINER_ID [SIGNAL]",
		                      ctx->program);
	if (optind == argc - 2 && signal_parse(argv[optind + 1], &signo, err) < 0)
		return -1;
	return container_kill(ctx, argv[optind], signo, all, err);
}
