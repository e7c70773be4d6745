/* `kata-runtime run [--detach] [create options] ID`: create and start; without --detach,
 * wait for the container's process and exit with its status, then delete it (as runc). */
#include <errno.h>
#include <signal.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "lifecycle.h"
#include "log.h"

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
	if (container_delete(ctx, opts.id, true, &delete_err) < 0)
		log_warning("run: %s", delete_err->message);
	return status;
}
