/* `kata-runtime state ID`: the OCI state of a container, as JSON. */
#include <errno.h>
#include <stdio.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "json_util.h"

int cli_state(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	struct container_record record;
	cleanup_json json_object *state = NULL;
	kata_error_t load_err = NULL;

	if (argc != 2)
		return kata_error_set(err, EINVAL, "usage: %s state CONTAINER_ID", ctx->program);
	if (container_load(ctx->root, argv[1], NULL, &record, &load_err) < 0) {
		/* A create running, or killed before it wrote anything: "creating". */
		if (load_err->errno_value == EBADMSG) {
			kata_error_set(err, EBADMSG, "%s (delete --force %s removes it)",
			               load_err->message, argv[1]);
			kata_error_free(&load_err);
			return -1;
		}
		if (load_err->errno_value != ENODATA)
			return kata_error_move(err, &load_err);
		kata_error_free(&load_err);
		container_record_bare(&record, argv[1]);
	}
	state = container_oci_state(&record, container_current_status(&record));
	json_add_string(state, "created", record.created);
	json_add_string(state, "owner", record.owner);
	printf("%s\n", json_object_to_json_string_ext(
	                       state, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	container_record_clear(&record);
	return 0;
}
