/* The steps shared by the lifecycle verbs (create and run, start and run, delete and run). */
#ifndef KATA_CLI_LIFECYCLE_H
#define KATA_CLI_LIFECYCLE_H

#include <stdbool.h>

#include "cli.h"
#include "container.h"
#include "error.h"
#include "process.h"

struct create_options {
	const char *bundle;
	const char *console_socket;
	const char *pid_file;
	const char *id;
	bool detach; /* run only */
	bool start;  /* run: start within create when nothing has to happen in between */
};

int create_options_parse(int argc, char **argv, struct create_options *opts, kata_error_t *err);

/* Creates the container; on success its init's shim is running and *shim names it.
 * *started: opts->start was honoured, the container runs its program already. */
int container_create(struct cli_context *ctx, const struct create_options *opts,
                     struct process_id *shim, bool *started, kata_error_t *err);
/* Lets a created container run its program. */
int container_start(struct cli_context *ctx, const char *id, kata_error_t *err);
/* Removes the container and its sandbox; force: whatever state it is in. */
int container_delete(struct cli_context *ctx, const char *id, bool force, kata_error_t *err);

/* The poststop hooks of the container's bundle (failures are logged). */
void container_run_poststop_hooks(const struct container_record *record);

/* Loads the configuration the container was created with (its record names it), so that
 * later calls agree with create even if the system's file changed meanwhile. */
int lifecycle_load_config(struct cli_context *ctx, const struct container_record *record,
                          kata_error_t *err);

#endif
