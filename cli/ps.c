/* `kata-runtime ps [--format table|json] ID`: the processes of a container, as the guest
 * sees them (their pids are the guest's). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "agent_call.h"
#include "dialect.h"
#include "cleanup.h"
#include "json_util.h"
#include "lifecycle.h"

static void print_table(json_object *processes)
{
	printf("%-8s %-8s %-8s %s\n", "UID", "PID", "PPID", "CMD");
	for (size_t i = 0; i < json_object_array_length(processes); i++) {
		json_object *p = json_object_array_get_idx(processes, i);
		json_object *uid = NULL, *pid = NULL, *ppid = NULL, *cmd = NULL;

		json_object_object_get_ex(p, "uid", &uid);
		json_object_object_get_ex(p, "pid", &pid);
		json_object_object_get_ex(p, "ppid", &ppid);
		json_object_object_get_ex(p, "cmd", &cmd);
		printf("%-8lld %-8lld %-8lld %s\n", (long long)json_object_get_int64(uid),
		       (long long)json_object_get_int64(pid),
		       (long long)json_object_get_int64(ppid), json_object_get_string(cmd) ?: "");
	}
}

static void print_json(json_object *processes)
{
	cleanup_json json_object *pids = json_object_new_array();

	for (size_t i = 0; i < json_object_array_length(processes); i++) {
		json_object *pid = NULL;
		json_object_object_get_ex(json_object_array_get_idx(processes, i), "pid", &pid);
		json_object_array_add(pids, json_object_new_int64(json_object_get_int64(pid)));
	}
	printf("%s\n", json_object_to_json_string_ext(pids, JSON_C_TO_STRING_PLAIN));
}

int cli_ps(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	const struct option options[] = {
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *format = "table";
	struct container_record record;
	cleanup_json json_object *target = NULL;
	cleanup_json json_object *answer = NULL;
	json_object *processes = NULL;
	enum container_status status;
	int c, ret;

	while ((c = getopt_long_only(argc, argv, "+f:", options, NULL)) != -1) {
		if (c != 'f')
			return kata_error_set(err, EINVAL, "ps: unknown option `%s`",
			                      argv[optind - 1]);
		format = optarg;
	}
	if (strcmp(format, "table") != 0 && strcmp(format, "json") != 0)
		return kata_error_set(err, EINVAL, "invalid format `%s` (table or json)", format);
	/* runc passes what follows the id to ps(1); the guest's listing takes no options. */
	if (optind >= argc)
		return kata_error_set(err, EINVAL, "usage: %s ps [--format table|json] ID",
		                      ctx->program);
	if (container_load(ctx->root, argv[optind], NULL, &record, err) < 0)
		return -1;
	status = container_current_status(&record);
	if (status != CONTAINER_RUNNING && status != CONTAINER_CREATED) {
		kata_error_set(err, EINVAL, "container `%s` is %s", record.id,
		               container_status_name(status));
		container_record_clear(&record);
		return -1;
	}
	if (lifecycle_load_config(ctx, &record, err) < 0 ||
	    dialect_require(ctx->config, "ps", err) < 0) {
		container_record_clear(&record);
		return -1;
	}
	target = agent_target(record.id, NULL);
	ret = agent_call(&record.sandbox, "pscontainer", target, AGENT_CALL_TIMEOUT_MS, &answer,
	                 err);
	container_record_clear(&record);
	if (ret < 0)
		return kata_error_wrap(err, "ps");
	if (json_get_array(answer, "processes", "pscontainer", true, &processes, err) < 0)
		return kata_error_wrap(err, "ps: the agent's answer");
	if (strcmp(format, "json") == 0)
		print_json(processes);
	else
		print_table(processes);
	return 0;
}
