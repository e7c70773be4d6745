/* `kata-runtime events [--stats] [--interval DURATION] ID`: the container's statistics,
 * once (--stats) or every interval, and its OOM kills, as runc's JSON events. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_call.h"
#include "dialect.h"
#include "cleanup.h"
#include "json_util.h"
#include "lifecycle.h"

/* "5s", "500ms", "1m", or plain seconds. */
static int parse_duration_ms(const char *text, long *ms, kata_error_t *err)
{
	char *end;
	double value;

	errno = 0;
	value = strtod(text, &end);
	if (errno != 0 || end == text || value <= 0)
		return kata_error_set(err, EINVAL, "invalid interval `%s`", text);
	if (strcmp(end, "ms") == 0)
		*ms = (long)value;
	else if (strcmp(end, "s") == 0 || *end == '\0')
		*ms = (long)(value * 1000);
	else if (strcmp(end, "m") == 0)
		*ms = (long)(value * 60000);
	else
		return kata_error_set(err, EINVAL, "invalid interval `%s`", text);
	if (*ms < 1)
		*ms = 1;
	return 0;
}

static json_object *pick(json_object *obj, const char *section, const char *key)
{
	json_object *s = NULL, *v = NULL;

	if (json_object_object_get_ex(obj, section, &s))
		json_object_object_get_ex(s, key, &v);
	return json_object_new_int64(v != NULL ? json_object_get_int64(v) : 0);
}

/* The agent's cgroup figures in the shape of runc's stats event. */
static json_object *stats_event(const char *id, json_object *stats)
{
	json_object *event = json_object_new_object();
	json_object *data = json_object_new_object();
	json_object *cpu = json_object_new_object(), *cpu_usage = json_object_new_object();
	json_object *memory = json_object_new_object(), *mem_usage = json_object_new_object();
	json_object *pids = json_object_new_object();

	json_object_object_add(cpu_usage, "total", pick(stats, "cpu", "usage"));
	json_object_object_add(cpu_usage, "user", pick(stats, "cpu", "user"));
	json_object_object_add(cpu_usage, "kernel", pick(stats, "cpu", "system"));
	json_object_object_add(cpu, "usage", cpu_usage);
	json_object_object_add(mem_usage, "usage", pick(stats, "memory", "usage"));
	json_object_object_add(mem_usage, "max", pick(stats, "memory", "max_usage"));
	json_object_object_add(mem_usage, "limit", pick(stats, "memory", "limit"));
	json_object_object_add(mem_usage, "failcnt", pick(stats, "memory", "failcnt"));
	json_object_object_add(memory, "usage", mem_usage);
	json_object_object_add(pids, "current", pick(stats, "pids", "current"));
	json_object_object_add(pids, "limit", pick(stats, "pids", "limit"));
	json_object_object_add(data, "cpu", cpu);
	json_object_object_add(data, "memory", memory);
	json_object_object_add(data, "pids", pids);
	json_add_string(event, "type", "stats");
	json_add_string(event, "id", id);
	json_object_object_add(event, "data", data);
	return event;
}

static void print_event(json_object *event)
{
	printf("%s\n", json_object_to_json_string_ext(event, JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
}

/* The count of the container's processes its guest memory cgroup OOM-killed; -1 when the
 * agent does not say (an older agent). Checked: the answer is the guest's. */
static int64_t oom_kills_of(json_object *stats)
{
	json_object *memory = NULL, *kills = NULL;

	if (!json_object_object_get_ex(stats, "memory", &memory) ||
	    !json_object_object_get_ex(memory, "oom_kills", &kills) ||
	    !json_object_is_type(kills, json_type_int) || json_object_get_int64(kills) < 0)
		return -1;
	return json_object_get_int64(kills);
}

/* One stats event; before it, as runc's events does, an {"type":"oom"} event when the
 * guest's OOM killer ended a process of the container since the last look (*oom_kills:
 * the count seen then, -1 at first). */
static int print_stats(struct cli_context *ctx, const char *id, int64_t *oom_kills,
                       kata_error_t *err)
{
	struct container_record record;
	cleanup_json json_object *target = agent_target(id, NULL);
	cleanup_json json_object *answer = NULL;
	cleanup_json json_object *event = NULL;
	int64_t kills;
	int ret;

	if (container_load(ctx->root, id, NULL, &record, err) < 0)
		return -1;
	if (container_current_status(&record) == CONTAINER_STOPPED) {
		container_record_clear(&record);
		return kata_error_set(err, ESRCH, "container `%s` is stopped", id);
	}
	if (lifecycle_load_config(ctx, &record, err) < 0 ||
	    dialect_require(ctx->config, "events --stats", err) < 0) {
		container_record_clear(&record);
		return -1;
	}
	ret = agent_call(&record.sandbox, "statscontainer", target, AGENT_CALL_TIMEOUT_MS, &answer,
	                 err);
	container_record_clear(&record);
	if (ret < 0)
		return -1;
	kills = oom_kills_of(answer);
	if (*oom_kills >= 0 && kills > *oom_kills) {
		cleanup_json json_object *oom = json_object_new_object();

		json_add_string(oom, "type", "oom");
		json_add_string(oom, "id", id);
		print_event(oom);
	}
	*oom_kills = kills;
	event = stats_event(id, answer);
	print_event(event);
	return 0;
}

int cli_events(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	const struct option options[] = {
		{ "stats", no_argument, NULL, 's' },
		{ "interval", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	bool once = false;
	long interval_ms = 5000;
	int64_t oom_kills = -1;
	int c;

	while ((c = getopt_long_only(argc, argv, "+", options, NULL)) != -1) {
		if (c == 's')
			once = true;
		else if (c == 'i') {
			if (parse_duration_ms(optarg, &interval_ms, err) < 0)
				return -1;
		} else
			return kata_error_set(err, EINVAL, "events: unknown option `%s`",
			                      argv[optind - 1]);
	}
	if (optind != argc - 1)
		return kata_error_set(err, EINVAL,
		                      "usage: %s events [--stats] [--interval 5s] CONTAINER_ID",
		                      ctx->program);
	for (;;) {
		if (print_stats(ctx, argv[optind], &oom_kills, err) < 0)
			return kata_error_wrap(err, "events");
		if (once)
			return 0;
		usleep((useconds_t)interval_ms * 1000);
	}
}
