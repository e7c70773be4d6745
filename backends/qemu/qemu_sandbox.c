/* Saving and restoring the qemu backend's sandbox state (see qemu_sandbox.h). The saved
 * file is written by the runtime, but read back with the same care as any input. */
#include "qemu_sandbox.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"

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
#define PHASE_COUNT (sizeof(phase_names) / sizeof(phase_names[0]))

/* No argv is longer; a saved one that is (or is empty) was not written by the runtime. */
#define MAX_SAVED_ARGS 4096

json_object *qemu_sandbox_to_json(const struct qemu_sandbox *sb)
{
	json_object *obj = json_object_new_object();

	json_add_string(obj, "id", sb->id);
	json_add_string(obj, "dir", sb->dir);
	json_add_string(obj, "shared_dir", sb->shared_dir);
	json_object_object_add(obj, "created_dir", json_object_new_boolean(sb->created_dir));
	json_object_object_add(obj, "debug", json_object_new_boolean(sb->debug));
	json_add_string(obj, "phase", phase_names[sb->phase]);
	json_add_string(obj, "qmp", sb->qmp_path);
	json_add_string(obj, "ctl_channel", sb->channel_paths[0]);
	json_add_string(obj, "io_channel", sb->channel_paths[1]);
	json_add_string(obj, "console", sb->console_path);
	json_add_string(obj, "console_log", sb->console_log_path);
	json_add_string(obj, "pid_file", sb->pid_path);
	json_add_string(obj, "virtiofsd_socket", sb->virtiofsd_socket);
	json_add_string(obj, "virtiofsd_log", sb->virtiofsd_log);
	json_object_object_add(obj, "argv", json_string_array_new(sb->argv));
	json_add_string_array(obj, "boot_argv", sb->boot_argv);
	json_add_string_array(obj, "virtiofsd_argv", sb->virtiofsd_argv);
	json_object_object_add(obj, "qemu", process_id_to_json(&sb->qemu));
	json_object_object_add(obj, "virtiofsd", process_id_to_json(&sb->virtiofsd));
	return obj;
}

/* An argv: 1 to MAX_SAVED_ARGS strings. */
static int get_argv(json_object *obj, const char *key, bool required, char ***out,
                    kata_error_t *err)
{
	json_object *array;
	size_t n;
	int r = json_get_array(obj, key, "", required, &array, err);

	if (r <= 0)
		return r;
	n = json_object_array_length(array);
	if (n == 0 || n > MAX_SAVED_ARGS)
		return kata_error_set(err, EINVAL, "%s: expected 1 to %d strings, got %zu", key,
		                      MAX_SAVED_ARGS, n);
	return json_get_string_array(obj, key, "", true, out, err);
}

struct qemu_sandbox *qemu_sandbox_from_json(json_object *obj, kata_error_t *err)
{
	struct qemu_sandbox *sb = xzalloc(sizeof(*sb));
	int phase = 0;

	/* Paths are handed to open(), unlink() and exec(): absolute ones only. */
	if (json_check_type(obj, json_type_object, "", err) < 0 ||
	    json_get_string(obj, "id", "", true, &sb->id, err) < 0 ||
	    json_get_absolute_path(obj, "dir", "", true, &sb->dir, err) < 0 ||
	    json_get_absolute_path(obj, "shared_dir", "", false, &sb->shared_dir, err) < 0 ||
	    json_get_bool(obj, "created_dir", "", false, &sb->created_dir, err) < 0 ||
	    json_get_bool(obj, "debug", "", false, &sb->debug, err) < 0 ||
	    json_get_enum(obj, "phase", "", true, phase_names, PHASE_COUNT, &phase, err) < 0 ||
	    json_get_absolute_path(obj, "qmp", "", true, &sb->qmp_path, err) < 0 ||
	    json_get_absolute_path(obj, "ctl_channel", "", true, &sb->channel_paths[0], err) < 0 ||
	    json_get_absolute_path(obj, "io_channel", "", true, &sb->channel_paths[1], err) < 0 ||
	    json_get_absolute_path(obj, "console", "", false, &sb->console_path, err) < 0 ||
	    json_get_absolute_path(obj, "console_log", "", false, &sb->console_log_path, err) < 0 ||
	    json_get_absolute_path(obj, "pid_file", "", true, &sb->pid_path, err) < 0 ||
	    json_get_absolute_path(obj, "virtiofsd_socket", "", false, &sb->virtiofsd_socket, err) <
	            0 ||
	    json_get_absolute_path(obj, "virtiofsd_log", "", false, &sb->virtiofsd_log, err) < 0 ||
	    get_argv(obj, "argv", true, &sb->argv, err) < 0 ||
	    get_argv(obj, "boot_argv", false, &sb->boot_argv, err) < 0 ||
	    get_argv(obj, "virtiofsd_argv", false, &sb->virtiofsd_argv, err) < 0 ||
	    process_id_from_json(obj, "qemu", "", &sb->qemu, err) < 0 ||
	    process_id_from_json(obj, "virtiofsd", "", &sb->virtiofsd, err) < 0) {
		kata_error_wrap(err, "saved qemu state");
		goto fail;
	}
	sb->phase = (enum qemu_phase)phase;
	return sb;
fail:
	qemu_sandbox_free(sb);
	return NULL;
}
