/* `kata-runtime list [--format table|json] [--quiet]`: every container under --root. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "container.h"
#include "json_util.h"
#include "log.h"

enum list_format { LIST_TABLE, LIST_JSON };

static int parse_list_options(int argc, char **argv, enum list_format *format, bool *quiet,
                              kata_error_t *err)
{
	const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long_only(argc, argv, "f:q", options, NULL)) != -1) {
		switch (c) {
		case 'f':
			if (strcmp(optarg, "table") == 0)
				*format = LIST_TABLE;
			else if (strcmp(optarg, "json") == 0)
				*format = LIST_JSON;
			else
				return kata_error_set(
				        err, EINVAL, "invalid format `%s` (table or json)", optarg);
			break;
		case 'q':
			*quiet = true;
			break;
		default:
			return kata_error_set(err, EINVAL, "list: unknown option `%s`",
			                      argv[optind - 1]);
		}
	}
	if (optind != argc)
		return kata_error_set(err, EINVAL, "list takes no arguments");
	return 0;
}

int cli_list(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	enum list_format format = LIST_TABLE;
	cleanup_strv char **ids = NULL;
	cleanup_json json_object *array = json_object_new_array();
	bool quiet = false;

	if (parse_list_options(argc, argv, &format, &quiet, err) < 0 ||
	    state_list(ctx->root, &ids, err) < 0)
		return -1;
	if (format == LIST_TABLE && !quiet)
		printf("%-12s %-8s %-10s %-40s %-30s %s\n", "ID", "PID", "STATUS", "BUNDLE",
		       "CREATED", "OWNER");
	for (char **id = ids; *id != NULL; id++) {
		cleanup_error kata_error_t read_err = NULL;
		struct container_record record;
		enum container_status status;
		json_object *entry;

		/* A container deleted meanwhile is left out; one without a record yet (a create
		 * running or killed) is "creating", a damaged one "unknown": both are listed,
		 * for delete --force removes them. */
		if (container_load(ctx->root, *id, NULL, &record, &read_err) < 0) {
			if (read_err->errno_value == ENOENT)
				continue;
			if (read_err->errno_value != ENODATA)
				log_warning("list: %s", read_err->message);
			container_record_bare(&record, *id);
			if (read_err->errno_value != ENODATA)
				record.saved_status = CONTAINER_UNKNOWN;
		}
		status = container_current_status(&record);
		if (quiet) {
			printf("%s\n", record.id);
		} else if (format == LIST_TABLE) {
			printf("%-12s %-8d %-10s %-40s %-30s %s\n", record.id,
			       status == CONTAINER_STOPPED || status == CONTAINER_UNKNOWN
			               ? 0
			               : record.shim.pid,
			       container_status_name(status), record.bundle ?: "",
			       record.created ?: "", record.owner ?: "root");
		} else {
			entry = container_oci_state(&record, status);
			json_add_string(entry, "created", record.created);
			json_add_string(entry, "owner", record.owner);
			json_object_array_add(array, entry);
		}
		container_record_clear(&record);
	}
	if (format == LIST_JSON && !quiet)
		printf("%s\n",
		       json_object_to_json_string_ext(
		               array, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	return 0;
}
