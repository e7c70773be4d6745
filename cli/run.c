/* `kata-runtime run [--detach] [create options] ID`: create and start; without --detach,
 * wait for the container's process and exit with its status, then delete it (as runc). */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>

#include <stdio.h>

#include "cleanup.h"
#include "hypervisor.h"
#include "lifecycle.h"
#include "log.h"

/* kata-shim's status when it lost the proxy for good (shim/shim.h). */
#define SHIM_STATUS_PROXY_LOST 255

/* A shim that lost its proxy has no status of the process to give: say why, if the VM or
 * the proxy died under it (the status alone, 255, would say nothing). */
static void explain_lost_process(struct cli_context *ctx, const char *id, int status)
{
	cleanup_error kata_error_t err = NULL;
	struct container_record record;
	struct hypervisor *hv = NULL;
	enum hypervisor_state vm = HYPERVISOR_STATE_RUNNING;
	bool proxy_alive;
	char *message;

	if (status != SHIM_STATUS_PROXY_LOST ||
	    container_load(ctx->root, id, NULL, &record, &err) < 0)
		return;
	if (record.sandbox.hypervisor != NULL && ctx->config != NULL)
		hv = hypervisor_restore(ctx->config, record.sandbox.hypervisor, &err);
	if (hv != NULL && hypervisor_get_state(hv, &vm, 0, &err) < 0)
		vm = HYPERVISOR_STATE_CRASHED;
	hypervisor_free(hv);
	proxy_alive = record.sandbox.proxy.pid > 0 && process_is_alive(&record.sandbox.proxy);
	if (vm == HYPERVISOR_STATE_RUNNING && proxy_alive)
		message = xasprintf("container `%s`: its shim lost the connection to kata-proxy; "
		                    "exit status %d is the shim's, not the process's",
		                    id, status);
	else
		message = xasprintf(
		        "container `%s`: its VM ended before its process (the VM is %s, "
		        "kata-proxy %s); exit status %d is the shim's, not the "
		        "process's",
		        id, hypervisor_state_name(vm), proxy_alive ? "runs" : "is gone", status);
	/* As main() tells an error: the log for engines, stderr for people. */
	log_error("run: %s", message);
	if (ctx->log_path != NULL)
		fprintf(stderr, "%s: run: %s\n", ctx->program, message);
	free(message);
	container_record_clear(&record);
}

/* The shim is the runtime's child: its status is the container's (128+N for signal N). */
static int wait_shim(pid_t pid, kata_error_t *err)
{
	int status;

	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return kata_error_sys(err, "wait for the shim");
	}
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WEXITSTATUS(status);
}

int cli_run(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	struct create_options opts;
	struct process_id shim;
	cleanup_error kata_error_t delete_err = NULL;
	bool started;
	int status;

	if (create_options_parse(argc, argv, &opts, err) < 0)
		return -1;
	opts.start = true;
	if (container_create(ctx, &opts, &shim, &started, err) < 0)
		return -1;
	if (!started && container_start(ctx, opts.id, err) < 0) {
		container_delete(ctx, opts.id, true, NULL);
		return -1;
	}
	if (opts.detach)
		return 0;
	/* Signals for the container reach it through the shim, not through us. */
	signal(SIGINT, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	status = wait_shim(shim.pid, err);
	if (status < 0)
		return -1;
	explain_lost_process(ctx, opts.id, status);
	if (container_delete(ctx, opts.id, true, &delete_err) < 0)
		log_warning("run: %s", delete_err->message);
	return status;
}
