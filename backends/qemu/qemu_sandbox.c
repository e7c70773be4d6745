/* Saving and restoring the qemu backend's sandbox state (see qemu_sandbox.h). The saved
 * file is written by the runtime, but read back with the same care as any input. */
#include "qemu_sandbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

void qemu_sandbox_free(struct qemu_sandbox *sb)
{
	if (sb == NULL)
		return;
	free(sb->tap_fds);
	free(sb->id);
	free(sb->dir);
	free(sb->shared_dir);
	free(sb->qmp_path);
	free(sb->channel_paths[0]);
	free(sb->channel_paths[1]);
	free(sb->console_path);
	free(sb->console_log_path);
	free(sb->pid_path);
	free(sb->virtiofsd_socket);
	free(sb->virtiofsd_log);
	strv_free(sb->argv);
	strv_free(sb->boot_argv);
	strv_free(sb->virtiofsd_argv);
	free(sb);
}

static const char *const phase_names[] = { "created", "started", "stopped" };

static void add_string(json_object *obj, const char *key, const char *value)
{
	if (value != NULL)
		json_object_object_add(obj, key, json_object_new_string(value));
}

static json_object *strv_to_json(char **strv)
{
	json_object *array = json_object_new_array();

	for (char **s = strv; s != NULL && *s != NULL; s++)
		json_object_array_add(array, json_object_new_string(*s));
	return array;
}

static json_object *process_to_json(const struct process_id *proc)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "pid", json_object_new_int(proc->pid));
	json_object_object_add(obj, "start_time", json_object_new_uint64(proc->start_time));
	return obj;
}

json_object *qemu_sandbox_to_json(const struct qemu_sandbox *sb)
{
	json_object *obj = json_object_new_object();

	add_string(obj, "id", sb->id);
	add_string(obj, "dir", sb->dir);
	add_string(obj, "shared_dir", sb->shared_dir);
	json_object_object_add(obj, "created_dir", json_object_new_boolean(sb->created_dir));
	json_object_object_add(obj, "debug", json_object_new_boolean(sb->debug));
	add_string(obj, "phase", phase_names[sb->phase]);
	add_string(obj, "qmp", sb->qmp_path);
	add_string(obj, "ctl_channel", sb->channel_paths[0]);
	add_string(obj, "io_channel", sb->channel_paths[1]);
	add_string(obj, "console", sb->console_path);
	add_string(obj, "console_log", sb->console_log_path);
	add_string(obj, "pid_file", sb->pid_path);
	add_string(obj, "virtiofsd_socket", sb->virtiofsd_socket);
	add_string(obj, "virtiofsd_log", sb->virtiofsd_log);
	json_object_object_add(obj, "argv", strv_to_json(sb->argv));
	if (sb->boot_argv != NULL)
		json_object_object_add(obj, "boot_argv", strv_to_json(sb->boot_argv));
	if (sb->virtiofsd_argv != NULL)
		json_object_object_add(obj, "virtiofsd_argv", strv_to_json(sb->virtiofsd_argv));
	json_object_object_add(obj, "qemu", process_to_json(&sb->qemu));
	json_object_object_add(obj, "virtiofsd", process_to_json(&sb->virtiofsd));
	return obj;
}

/* Strings the backend will hand to open(), unlink() and exec(): absolute paths only. */
static int get_string(json_object *obj, const char *key, bool required, bool path, char **out,
                      kata_error_t *err)
{
	json_object *value;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &value) ||
	    json_object_is_type(value, json_type_null)) {
		if (required)
			return kata_error_set(err, EINVAL, "saved qemu state: \"%s\" missing", key);
		return 0;
	}
	if (!json_object_is_type(value, json_type_string))
		return kata_error_set(err, EINVAL, "saved qemu state: \"%s\": expected a string",
		                      key);
	s = json_object_get_string(value);
	if (path && s[0] != '/')
		return kata_error_set(err, EINVAL,
		                      "saved qemu state: \"%s\": expected an absolute path", key);
	*out = xstrdup(s);
	return 0;
}

static int get_bool(json_object *obj, const char *key, bool *out, kata_error_t *err)
{
	json_object *value;

	if (!json_object_object_get_ex(obj, key, &value))
		return 0;
	if (!json_object_is_type(value, json_type_boolean))
		return kata_error_set(err, EINVAL, "saved qemu state: \"%s\": expected a boolean",
		                      key);
	*out = json_object_get_boolean(value);
	return 0;
}

static int get_strv(json_object *obj, const char *key, bool required, char ***out,
                    kata_error_t *err)
{
	json_object *value;
	size_t n;
	char **strv;

	if (!json_object_object_get_ex(obj, key, &value)) {
		if (required)
			return kata_error_set(err, EINVAL, "saved qemu state: \"%s\" missing", key);
		return 0;
	}
	if (!json_object_is_type(value, json_type_array) ||
	    (n = json_object_array_length(value)) == 0 || n > 4096)
		return kata_error_set(err, EINVAL,
		                      "saved qemu state: \"%s\": expected a non-empty array", key);
	strv = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(value, i);

		if (!json_object_is_type(item, json_type_string)) {
			strv_free(strv);
			return kata_error_set(err, EINVAL,
			                      "saved qemu state: \"%s\"[%zu]: expected "
			                      "a string",
			                      key, i);
		}
		strv[i] = xstrdup(json_object_get_string(item));
	}
	*out = strv;
	return 0;
}

static int get_process(json_object *obj, const char *key, struct process_id *proc,
                       kata_error_t *err)
{
	json_object *value, *pid, *start;

	proc->pid = 0;
	proc->start_time = 0;
	if (!json_object_object_get_ex(obj, key, &value))
		return 0;
	if (!json_object_is_type(value, json_type_object) ||
	    !json_object_object_get_ex(value, "pid", &pid) ||
	    !json_object_is_type(pid, json_type_int) ||
	    !json_object_object_get_ex(value, "start_time", &start) ||
	    !json_object_is_type(start, json_type_int))
		return kata_error_set(err, EINVAL,
		                      "saved qemu state: \"%s\": expected {pid, start_time}", key);
	errno = 0;
	int64_t pid_value = json_object_get_int64(pid);
	if (pid_value < 0 || pid_value > 4194304)
		return kata_error_set(err, EINVAL, "saved qemu state: \"%s\".pid out of range",
		                      key);
	proc->pid = (pid_t)pid_value;
	proc->start_time = json_object_get_uint64(start);
	return 0;
}

struct qemu_sandbox *qemu_sandbox_from_json(json_object *obj, kata_error_t *err)
{
	struct qemu_sandbox *sb = xzalloc(sizeof(*sb));
	cleanup_free char *phase = NULL;
	bool found = false;

	if (!json_object_is_type(obj, json_type_object)) {
		kata_error_set(err, EINVAL, "saved qemu state: expected an object");
		goto fail;
	}
	if (get_string(obj, "id", true, false, &sb->id, err) < 0 ||
	    get_string(obj, "dir", true, true, &sb->dir, err) < 0 ||
	    get_string(obj, "shared_dir", false, true, &sb->shared_dir, err) < 0 ||
	    get_bool(obj, "created_dir", &sb->created_dir, err) < 0 ||
	    get_bool(obj, "debug", &sb->debug, err) < 0 ||
	    get_string(obj, "phase", true, false, &phase, err) < 0 ||
	    get_string(obj, "qmp", true, true, &sb->qmp_path, err) < 0 ||
	    get_string(obj, "ctl_channel", true, true, &sb->channel_paths[0], err) < 0 ||
	    get_string(obj, "io_channel", true, true, &sb->channel_paths[1], err) < 0 ||
	    get_string(obj, "console", false, true, &sb->console_path, err) < 0 ||
	    get_string(obj, "console_log", false, true, &sb->console_log_path, err) < 0 ||
	    get_string(obj, "pid_file", true, true, &sb->pid_path, err) < 0 ||
	    get_string(obj, "virtiofsd_socket", false, true, &sb->virtiofsd_socket, err) < 0 ||
	    get_string(obj, "virtiofsd_log", false, true, &sb->virtiofsd_log, err) < 0 ||
	    get_strv(obj, "argv", true, &sb->argv, err) < 0 ||
	    get_strv(obj, "boot_argv", false, &sb->boot_argv, err) < 0 ||
	    get_strv(obj, "virtiofsd_argv", false, &sb->virtiofsd_argv, err) < 0 ||
	    get_process(obj, "qemu", &sb->qemu, err) < 0 ||
	    get_process(obj, "virtiofsd", &sb->virtiofsd, err) < 0)
		goto fail;
	for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++) {
		if (strcmp(phase, phase_names[i]) == 0) {
			sb->phase = (enum qemu_phase)i;
			found = true;
		}
	}
	if (!found) {
		kata_error_set(err, EINVAL, "saved qemu state: unknown phase '%s'", phase);
		goto fail;
	}
	return sb;
fail:
	qemu_sandbox_free(sb);
	return NULL;
}
