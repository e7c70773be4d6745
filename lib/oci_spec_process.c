/* The OCI spec's process: reading, validating, writing back. */
#include "oci_spec.h"
#include "oci_spec_internal.h"
#include "cleanup.h"

#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

struct rlimit_name {
	const char *name;
	int resource;
};

static const struct rlimit_name rlimit_names[] = {
	{ "RLIMIT_AS", RLIMIT_AS },
	{ "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_CPU", RLIMIT_CPU },
	{ "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS },
	{ "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK },
	{ "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE },
	{ "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE },
	{ "RLIMIT_NPROC", RLIMIT_NPROC },
	{ "RLIMIT_RSS", RLIMIT_RSS },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO },
	{ "RLIMIT_RTTIME", RLIMIT_RTTIME },
	{ "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_STACK", RLIMIT_STACK },
};

_Static_assert(RLIM_NLIMITS <= 32, "rlimit numbers fit a 32-bit set");

int oci_rlimit_resource(const char *name)
{
	for (size_t i = 0; i < sizeof(rlimit_names) / sizeof(rlimit_names[0]); i++)
		if (strcmp(name, rlimit_names[i].name) == 0)
			return rlimit_names[i].resource;
	return -1;
}

/* struct winsize holds unsigned shorts. */
#define CONSOLE_SIZE_MAX 65535u

static int read_console_size(json_object *obj, const char *path, struct oci_process *process,
                             kata_error_t *err)
{
	cleanup_free char *box_path = json_path_key(path, "consoleSize");
	json_object *box;
	int r = json_get_object(obj, "consoleSize", path, false, &box, err);

	if (r <= 0)
		return r;
	if (json_get_uint32(box, "height", box_path, true, &process->console_height, err) < 0 ||
	    json_get_uint32(box, "width", box_path, true, &process->console_width, err) < 0)
		return -1;
	if (process->console_height > CONSOLE_SIZE_MAX || process->console_width > CONSOLE_SIZE_MAX)
		return oci_invalid(err, box_path, "%ux%u is larger than a terminal can be (%u)",
		                   process->console_height, process->console_width,
		                   CONSOLE_SIZE_MAX);
	process->has_console_size = true;
	return 1;
}

static int read_user(json_object *obj, const char *path, struct oci_user *user, kata_error_t *err)
{
	cleanup_free char *user_path = json_path_key(path, "user");
	cleanup_free char *gids_path = NULL;
	json_object *value, *gids;
	size_t n;
	int r = json_get_object(obj, "user", path, false, &value, err);

	if (r <= 0)
		return r;
	if (json_get_uint32(value, "uid", user_path, false, &user->uid, err) < 0 ||
	    json_get_uint32(value, "gid", user_path, false, &user->gid, err) < 0 ||
	    oci_optional(json_get_uint32(value, "umask", user_path, false, &user->umask, err),
	                 &user->has_umask) < 0 ||
	    json_get_string(value, "username", user_path, false, &user->username, err) < 0)
		return -1;
	r = json_get_array(value, "additionalGids", user_path, false, &gids, err);
	if (r <= 0)
		return r;
	gids_path = json_path_key(user_path, "additionalGids");
	n = json_object_array_length(gids);
	user->additional_gids = xcalloc(n, sizeof(*user->additional_gids));
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *gid_path = json_path_index(gids_path, i);

		if (json_as_uint32(json_object_array_get_idx(gids, i), gid_path,
		                   &user->additional_gids[i], err) < 0)
			return -1;
		user->n_additional_gids++;
	}
	return 1;
}

static int read_capabilities(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_capabilities *caps = element;

	if (json_get_string_array(value, "bounding", path, false, &caps->bounding, err) < 0 ||
	    json_get_string_array(value, "effective", path, false, &caps->effective, err) < 0 ||
	    json_get_string_array(value, "inheritable", path, false, &caps->inheritable, err) < 0 ||
	    json_get_string_array(value, "permitted", path, false, &caps->permitted, err) < 0 ||
	    json_get_string_array(value, "ambient", path, false, &caps->ambient, err) < 0)
		return -1;
	return 0;
}

static void clear_capabilities(void *element)
{
	struct oci_capabilities *caps = element;

	strv_free(caps->bounding);
	strv_free(caps->effective);
	strv_free(caps->inheritable);
	strv_free(caps->permitted);
	strv_free(caps->ambient);
}

static int read_rlimit(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_rlimit *rlimit = element;
	cleanup_free char *type_path = json_path_key(path, "type");

	if (json_get_string(value, "type", path, true, &rlimit->type, err) < 0 ||
	    json_get_uint64(value, "hard", path, true, &rlimit->hard, err) < 0 ||
	    json_get_uint64(value, "soft", path, true, &rlimit->soft, err) < 0)
		return -1;
	rlimit->resource = oci_rlimit_resource(rlimit->type);
	if (rlimit->resource < 0)
		return oci_invalid(err, type_path, "unknown rlimit \"%s\"", rlimit->type);
	if (rlimit->soft > rlimit->hard)
		return oci_invalid(err, path, "soft limit %llu is above hard limit %llu",
		                   (unsigned long long)rlimit->soft,
		                   (unsigned long long)rlimit->hard);
	return 0;
}

static void clear_rlimit(void *element)
{
	struct oci_rlimit *rlimit = element;

	free(rlimit->type);
}

static int check_process(const struct oci_process *process, const char *path, kata_error_t *err)
{
	cleanup_free char *args_path = json_path_key(path, "args");
	cleanup_free char *cwd_path = json_path_key(path, "cwd");
	cleanup_free char *rlimits_path = json_path_key(path, "rlimits");
	uint32_t seen_rlimits = 0;

	if (process->args == NULL || process->args[0] == NULL)
		return oci_invalid(err, args_path, "must not be empty");
	if (oci_check_absolute(process->cwd, cwd_path, err) < 0)
		return -1;
	for (size_t i = 0; process->env != NULL && process->env[i] != NULL; i++) {
		const char *eq = strchr(process->env[i], '=');

		if (eq == NULL || eq == process->env[i]) {
			cleanup_free char *env_path = json_path_key(path, "env");
			cleanup_free char *entry_path = json_path_index(env_path, i);

			return oci_invalid(err, entry_path, "\"%s\" is not NAME=VALUE",
			                   process->env[i]);
		}
	}
	/* A set of resource numbers (all below RLIM_NLIMITS), not a quadratic scan: the list
	 * may be long in a hostile file. */
	for (size_t i = 0; i < process->n_rlimits; i++) {
		int resource = process->rlimits[i].resource;

		if (seen_rlimits & (1u << resource)) {
			cleanup_free char *p = json_path_index(rlimits_path, i);

			return oci_invalid(err, p, "%s is set twice", process->rlimits[i].type);
		}
		seen_rlimits |= 1u << resource;
	}
	if (process->has_oom_score_adj &&
	    (process->oom_score_adj < -1000 || process->oom_score_adj > 1000)) {
		cleanup_free char *p = json_path_key(path, "oomScoreAdj");

		return oci_invalid(err, p, "%d is outside -1000..1000",
		                   (int)process->oom_score_adj);
	}
	return 0;
}

int oci_read_process(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_process *process = element;
	void *p = NULL;

	if (json_get_bool(value, "terminal", path, false, &process->terminal, err) < 0 ||
	    read_console_size(value, path, process, err) < 0 ||
	    read_user(value, path, &process->user, err) < 0 ||
	    json_get_string_array(value, "args", path, false, &process->args, err) < 0 ||
	    json_get_string_array(value, "env", path, false, &process->env, err) < 0 ||
	    json_get_string(value, "cwd", path, false, &process->cwd, err) < 0 ||
	    json_get_bool(value, "noNewPrivileges", path, false, &process->no_new_privileges, err) <
	            0 ||
	    json_get_string(value, "apparmorProfile", path, false, &process->apparmor_profile,
	                    err) < 0 ||
	    oci_optional(
	            json_get_int32(value, "oomScoreAdj", path, false, &process->oom_score_adj, err),
	            &process->has_oom_score_adj) < 0 ||
	    json_get_string(value, "selinuxLabel", path, false, &process->selinux_label, err) < 0)
		return -1;
	if (oci_read_object(value, "capabilities", path, sizeof(struct oci_capabilities),
	                    read_capabilities, clear_capabilities, &p, err) < 0)
		return -1;
	process->capabilities = p;
	p = NULL;
	if (oci_read_array(value, "rlimits", path, sizeof(struct oci_rlimit), read_rlimit,
	                   clear_rlimit, &p, &process->n_rlimits, err) < 0)
		return -1;
	process->rlimits = p;
	return check_process(process, path, err);
}

void oci_process_clear(void *element)
{
	struct oci_process *process = element;

	free(process->user.additional_gids);
	free(process->user.username);
	strv_free(process->args);
	strv_free(process->env);
	free(process->cwd);
	if (process->capabilities != NULL) {
		clear_capabilities(process->capabilities);
		free(process->capabilities);
	}
	oci_free_array(process->rlimits, process->n_rlimits, sizeof(struct oci_rlimit),
	               clear_rlimit);
	free(process->apparmor_profile);
	free(process->selinux_label);
}

static json_object *user_to_json(const struct oci_user *user)
{
	json_object *obj = json_object_new_object();

	oci_add_int64(obj, "uid", user->uid);
	oci_add_int64(obj, "gid", user->gid);
	if (user->has_umask)
		oci_add_int64(obj, "umask", user->umask);
	if (user->additional_gids != NULL) {
		json_object *gids = json_object_new_array();

		for (size_t i = 0; i < user->n_additional_gids; i++)
			json_object_array_add(gids,
			                      json_object_new_int64(user->additional_gids[i]));
		json_object_object_add(obj, "additionalGids", gids);
	}
	json_add_string(obj, "username", user->username);
	return obj;
}

static json_object *capabilities_to_json(const struct oci_capabilities *caps)
{
	json_object *obj = json_object_new_object();

	json_add_string_array(obj, "bounding", caps->bounding);
	json_add_string_array(obj, "effective", caps->effective);
	json_add_string_array(obj, "inheritable", caps->inheritable);
	json_add_string_array(obj, "permitted", caps->permitted);
	json_add_string_array(obj, "ambient", caps->ambient);
	return obj;
}

json_object *oci_process_to_json(const struct oci_process *process)
{
	json_object *obj = json_object_new_object();

	if (process->terminal)
		oci_add_bool(obj, "terminal", true);
	if (process->has_console_size) {
		json_object *box = json_object_new_object();

		oci_add_int64(box, "height", process->console_height);
		oci_add_int64(box, "width", process->console_width);
		json_object_object_add(obj, "consoleSize", box);
	}
	json_object_object_add(obj, "user", user_to_json(&process->user));
	json_add_string_array(obj, "args", process->args);
	json_add_string_array(obj, "env", process->env);
	json_add_string(obj, "cwd", process->cwd);
	if (process->capabilities != NULL)
		json_object_object_add(obj, "capabilities",
		                       capabilities_to_json(process->capabilities));
	if (process->rlimits != NULL) {
		json_object *rlimits = json_object_new_array();

		for (size_t i = 0; i < process->n_rlimits; i++) {
			json_object *r = json_object_new_object();

			json_add_string(r, "type", process->rlimits[i].type);
			oci_add_uint64(r, "hard", process->rlimits[i].hard);
			oci_add_uint64(r, "soft", process->rlimits[i].soft);
			json_object_array_add(rlimits, r);
		}
		json_object_object_add(obj, "rlimits", rlimits);
	}
	if (process->no_new_privileges)
		oci_add_bool(obj, "noNewPrivileges", true);
	json_add_string(obj, "apparmorProfile", process->apparmor_profile);
	if (process->has_oom_score_adj)
		oci_add_int64(obj, "oomScoreAdj", process->oom_score_adj);
	json_add_string(obj, "selinuxLabel", process->selinux_label);
	return obj;
}
