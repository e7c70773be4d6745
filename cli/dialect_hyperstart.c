/* The container and process messages of runV's hyperstart (v1.1.0), as its parser takes
 * them (docs/dialects.md):
 *
 *   NEWCONTAINER {"id", "image", "rootfs", "fsmap": [{"source", "path", "readOnly"}],
 *                 "process": PROCESS}
 *   EXECCMD      {"container", "process": PROCESS}
 *   PROCESS      {"id", "terminal", "args", "envs": [{"env", "value"}], "workdir",
 *                 "user", "group", "additionalGroups"}   (the proxy adds "stdio", "stderr")
 *
 * hyperstart mounts the share at its own path and takes paths relative to it: the
 * container's root is SHARE/image/rootfs, a bind mount's source SHARE/source. */
#include "cleanup.h"
#include "dialect.h"
#include "dialect_hyperstart.h"
#include "json_util.h"
#include "log.h"
#include "share.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

static json_object *envs_json(char *const *env)
{
	json_object *envs = json_object_new_array();

	for (char *const *e = env; e != NULL && *e != NULL; e++) {
		json_object *pair = json_object_new_object();
		const char *eq = strchr(*e, '=');
		cleanup_free char *name = eq ? xstrndup(*e, (size_t)(eq - *e)) : xstrdup(*e);

		json_add_string(pair, "env", name);
		json_add_string(pair, "value", eq ? eq + 1 : "");
		json_object_array_add(envs, pair);
	}
	return envs;
}

static json_object *id_string(uint32_t id)
{
	char text[16];

	snprintf(text, sizeof(text), "%u", id);
	return json_object_new_string(text);
}

/* hyperstart looks the user and groups up in the container's /etc/passwd and /etc/group,
 * by name or number; without a user it runs the process as root. */
static void add_user(json_object *process, const struct oci_user *user)
{
	json_object *groups;

	if (user->uid == 0 && user->gid == 0 && user->n_additional_gids == 0)
		return;
	json_object_object_add(process, "user", id_string(user->uid));
	json_object_object_add(process, "group", id_string(user->gid));
	if (user->n_additional_gids == 0)
		return;
	groups = json_object_new_array();
	for (size_t i = 0; i < user->n_additional_gids; i++)
		json_object_array_add(groups, id_string(user->additional_gids[i]));
	json_object_object_add(process, "additionalGroups", groups);
}

/* What the OCI process asks for that hyperstart has no key for: said once, not refused,
 * since nearly every config.json asks for some of it. */
static void warn_unapplied(const struct oci_process *p)
{
	if (p->capabilities != NULL || p->n_rlimits > 0 || p->no_new_privileges ||
	    p->apparmor_profile != NULL || p->has_oom_score_adj || p->user.has_umask)
		log_warning("the hyperstart dialect does not apply the process's capabilities, "
		            "rlimits, noNewPrivileges, apparmorProfile, oomScoreAdj or umask");
}

static void add_arg(json_object *array, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add_arg(json_object *array, const char *fmt, ...)
{
	va_list ap;
	char *text;

	va_start(ap, fmt);
	if (vasprintf(&text, fmt, ap) < 0)
		abort();
	va_end(ap);
	json_object_array_add(array, json_object_new_string(text));
	free(text);
}

/* With kata-hyperstart-wait, it sets the ids: hyperstart would look them up in the
 * container's /etc/passwd and /etc/group and fail when they are not there. */
static json_object *args_json(const char *id, const struct oci_process *p, bool with_wait)
{
	const struct oci_user *user = &p->user;
	char *const *args = p->args;
	json_object *array = json_object_new_array();

	if (with_wait) {
		add_arg(array, "%s", HYPERSTART_WAIT_GUEST_DIR "/" HYPERSTART_WAIT_NAME);
		if (user->uid != 0 || user->gid != 0 || user->n_additional_gids > 0) {
			add_arg(array, "--uid=%u", user->uid);
			add_arg(array, "--gid=%u", user->gid);
		}
		if (user->n_additional_gids > 0) {
			cleanup_free char *groups =
			        xasprintf("--groups=%u", user->additional_gids[0]);
			for (size_t i = 1; i < user->n_additional_gids; i++) {
				char *more = xasprintf("%s,%u", groups, user->additional_gids[i]);
				free(groups);
				groups = more;
			}
			add_arg(array, "%s", groups);
		}
		add_arg(array, "--status=%s/%s", HYPERSTART_STATUS_GUEST_DIR, id);
		add_arg(array, "--");
	}
	for (char *const *a = args; a != NULL && *a != NULL; a++)
		json_object_array_add(array, json_object_new_string(*a));
	return array;
}

static json_object *process_json(const char *id, const struct oci_process *p, bool with_wait)
{
	json_object *process = json_object_new_object();

	warn_unapplied(p);
	json_add_string(process, "id", id);
	json_object_object_add(process, "terminal", json_object_new_boolean(p->terminal));
	json_object_object_add(process, "args", args_json(id, p, with_wait));
	json_object_object_add(process, "envs", envs_json(p->env));
	json_add_string(process, "workdir", p->cwd ?: "/");
	if (!with_wait)
		add_user(process, &p->user);
	return process;
}

static bool has_option(char *const *options, const char *option)
{
	for (char *const *o = options; o != NULL && *o != NULL; o++)
		if (strcmp(*o, option) == 0)
			return true;
	return false;
}

static json_object *fsmap_entry(const char *source, const char *path, bool readonly)
{
	json_object *map = json_object_new_object();

	json_add_string(map, "source", source);
	json_add_string(map, "path", path);
	json_object_object_add(map, "readOnly", json_object_new_boolean(readonly));
	return map;
}

/* The bind mounts that share_bind_mounts() put in the share, as hyperstart's fsmap. */
static json_object *fsmap_json(const char *id, const struct oci_spec *spec, bool with_wait)
{
	cleanup_free char *prefix = xasprintf("%s/%s/mounts/", SHARE_GUEST_PATH, id);
	size_t share_len = strlen(SHARE_GUEST_PATH) + 1;
	json_object *fsmap = json_object_new_array();
	size_t skipped = 0;

	for (size_t i = 0; i < spec->n_mounts; i++) {
		const struct oci_mount *m = &spec->mounts[i];

		if (m->source == NULL || strncmp(m->source, prefix, strlen(prefix)) != 0) {
			skipped++;
			continue;
		}
		json_object_array_add(fsmap, fsmap_entry(m->source + share_len, m->destination,
		                                         has_option(m->options, "ro")));
	}
	if (with_wait) {
		cleanup_free char *status_dir = xasprintf("%s/" HYPERSTART_STATUS_SHARE_DIR, id);
		json_object_array_add(fsmap, fsmap_entry(HYPERSTART_WAIT_SHARE_DIR,
		                                         HYPERSTART_WAIT_GUEST_DIR, true));
		json_object_array_add(fsmap,
		                      fsmap_entry(status_dir, HYPERSTART_STATUS_GUEST_DIR, false));
	}
	if (skipped > 0)
		log_info(
		        "the hyperstart dialect mounts its own /proc, /sys, /dev, /dev/pts and "
		        "/dev/shm: %zu mount(s) of config.json other than bind mounts are not made",
		        skipped);
	return fsmap;
}

json_object *hyperstart_newcontainer(const char *id, const struct oci_spec *spec, bool with_wait,
                                     kata_error_t *err)
{
	json_object *container;

	if (spec->process == NULL) {
		kata_error_set(err, EINVAL, "config.json: process: missing");
		return NULL;
	}
	if (spec->root != NULL && spec->root->readonly)
		log_warning("the hyperstart dialect cannot make the root filesystem read-only");
	container = json_object_new_object();
	json_add_string(container, "id", id);
	json_add_string(container, "image", id); /* SHARE/ID, see cli/share.h */
	json_add_string(container, "rootfs", "rootfs");
	json_object_object_add(container, "fsmap", fsmap_json(id, spec, with_wait));
	json_object_object_add(container, "process", process_json(id, spec->process, with_wait));
	return container;
}

json_object *hyperstart_execcmd(const char *container, const char *exec_id,
                                const struct oci_process *p, bool with_wait, kata_error_t *err)
{
	json_object *request;

	if (p->args == NULL || p->args[0] == NULL) {
		kata_error_set(err, EINVAL, "the process has no args");
		return NULL;
	}
	request = json_object_new_object();
	json_add_string(request, "container", container);
	json_object_object_add(request, "process", process_json(exec_id, p, with_wait));
	return request;
}
