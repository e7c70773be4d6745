/* `kata-runtime update [options] ID`: new resource limits for a running container,
 * within what its VM was given (the VM itself is not resized). */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "agent_call.h"
#include "dialect.h"
#include "cleanup.h"
#include "json_util.h"
#include "lifecycle.h"

/* runc's byte sizes: plain bytes or with a k, m, g suffix (either case, optional b). */
static int parse_bytes(const char *text, int64_t *bytes, kata_error_t *err)
{
	char *end;
	long long value;
	int shift = 0;

	errno = 0;
	value = strtoll(text, &end, 10);
	if (errno != 0 || end == text || value < -1)
		return kata_error_set(err, EINVAL, "invalid size `%s`", text);
	switch (*end) {
	case 'k':
	case 'K':
		shift = 10;
		end++;
		break;
	case 'm':
	case 'M':
		shift = 20;
		end++;
		break;
	case 'g':
	case 'G':
		shift = 30;
		end++;
		break;
	default:
		break;
	}
	if (*end == 'b' || *end == 'B')
		end++;
	if (*end != '\0' || (value > 0 && value > (INT64_MAX >> shift)))
		return kata_error_set(err, EINVAL, "invalid size `%s`", text);
	*bytes = value > 0 ? (int64_t)value << shift : value;
	return 0;
}

static int parse_int(const char *name, const char *text, int64_t *out, kata_error_t *err)
{
	char *end;

	errno = 0;
	*out = strtoll(text, &end, 10);
	if (errno != 0 || end == text || *end != '\0')
		return kata_error_set(err, EINVAL, "--%s: invalid number `%s`", name, text);
	return 0;
}

static void set_in(json_object *resources, const char *section, const char *key, int64_t value)
{
	json_object *s = NULL;

	if (!json_object_object_get_ex(resources, section, &s)) {
		s = json_object_new_object();
		json_object_object_add(resources, section, s);
	}
	json_object_object_add(s, key, json_object_new_int64(value));
}

static int64_t get_in(json_object *resources, const char *section, const char *key)
{
	json_object *s = NULL, *v = NULL;

	if (json_object_object_get_ex(resources, section, &s) &&
	    json_object_object_get_ex(s, key, &v))
		return json_object_get_int64(v);
	return 0;
}

/* The guest cannot give a container more than the VM has. */
static int check_fits(json_object *resources, const struct sandbox_record *sb, kata_error_t *err)
{
	int64_t memory = get_in(resources, "memory", "limit");
	int64_t quota = get_in(resources, "cpu", "quota");
	int64_t period = get_in(resources, "cpu", "period");

	if (sb->memory_mib > 0 && memory > (int64_t)sb->memory_mib << 20)
		return kata_error_set(
		        err, EINVAL,
		        "memory limit %lld bytes exceeds the VM's %u MiB (set at create)",
		        (long long)memory, sb->memory_mib);
	if (sb->vcpus > 0 && quota > 0 && period > 0 && quota > period * (int64_t)sb->vcpus)
		return kata_error_set(err, EINVAL, "cpu quota %lld/%lld exceeds the VM's %u vCPUs",
		                      (long long)quota, (long long)period, sb->vcpus);
	return 0;
}

static int parse_update_options(int argc, char **argv, json_object **resources, kata_error_t *err)
{
	const struct option options[] = {
		{ "resources", required_argument, NULL, 'r' },
		{ "memory", required_argument, NULL, 'm' },
		{ "memory-reservation", required_argument, NULL, 'R' },
		{ "memory-swap", required_argument, NULL, 'S' },
		{ "cpu-quota", required_argument, NULL, 'q' },
		{ "cpu-period", required_argument, NULL, 'p' },
		{ "cpu-share", required_argument, NULL, 's' },
		{ "cpuset-cpus", required_argument, NULL, 'c' },
		{ "cpuset-mems", required_argument, NULL, 'M' },
		{ "pids-limit", required_argument, NULL, 'P' },
		{ NULL, 0, NULL, 0 },
	};
	int64_t value;
	int c;

	*resources = json_object_new_object();
	while ((c = getopt_long_only(argc, argv, "+r:", options, NULL)) != -1) {
		switch (c) {
		case 'r': {
			json_object *file = strcmp(optarg, "-") == 0
			                            ? json_parse_file("/dev/stdin", 0, err)
			                            : json_parse_file(optarg, 0, err);
			if (file == NULL)
				return -1;
			json_object_put(*resources);
			*resources = file;
			break;
		}
		case 'm':
		case 'R':
		case 'S':
			if (parse_bytes(optarg, &value, err) < 0)
				return -1;
			set_in(*resources, "memory",
			       c == 'm'   ? "limit"
			       : c == 'R' ? "reservation"
			                  : "swap",
			       value);
			break;
		case 'q':
		case 'p':
		case 's':
			if (parse_int(c == 'q'   ? "cpu-quota"
			              : c == 'p' ? "cpu-period"
			                         : "cpu-share",
			              optarg, &value, err) < 0)
				return -1;
			set_in(*resources, "cpu",
			       c == 'q'   ? "quota"
			       : c == 'p' ? "period"
			                  : "shares",
			       value);
			break;
		case 'P':
			if (parse_int("pids-limit", optarg, &value, err) < 0)
				return -1;
			set_in(*resources, "pids", "limit", value);
			break;
		case 'c':
		case 'M': {
			json_object *cpu = NULL;
			set_in(*resources, "cpu", "quota", get_in(*resources, "cpu", "quota"));
			json_object_object_get_ex(*resources, "cpu", &cpu);
			json_add_string(cpu, c == 'c' ? "cpus" : "mems", optarg);
			break;
		}
		default:
			return kata_error_set(err, EINVAL, "update: unknown option `%s`",
			                      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return kata_error_set(err, EINVAL, "usage: update [options] CONTAINER_ID");
	return 0;
}

int cli_update(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	cleanup_json json_object *resources = NULL;
	cleanup_json json_object *request = NULL;
	struct container_record record;
	enum container_status status;
	int ret;

	if (parse_update_options(argc, argv, &resources, err) < 0)
		return -1;
	if (container_load(ctx->root, argv[optind], NULL, &record, err) < 0)
		return -1;
	status = container_current_status(&record);
	if (status != CONTAINER_RUNNING && status != CONTAINER_CREATED) {
		kata_error_set(err, EINVAL, "container `%s` is %s", record.id,
		               container_status_name(status));
		container_record_clear(&record);
		return kata_error_wrap(err, "update");
	}
	if (check_fits(resources, &record.sandbox, err) < 0) {
		container_record_clear(&record);
		return kata_error_wrap(err, "update");
	}
	if (lifecycle_load_config(ctx, &record, err) < 0 ||
	    dialect_require(ctx->config, "update", err) < 0) {
		container_record_clear(&record);
		return -1;
	}
	request = agent_target(record.id, NULL);
	json_object_object_add(request, "resources", json_object_get(resources));
	ret = agent_call(&record.sandbox, "updatecontainer", request, AGENT_CALL_TIMEOUT_MS, NULL,
	                 err);
	container_record_clear(&record);
	return ret < 0 ? kata_error_wrap(err, "update") : 0;
}
