/* Saving and restoring the libvirt backend's sandbox state (see libvirt_sandbox.h). The saved
 * object is written by the runtime, but read back with the same care as any input. */
#include "libvirt_sandbox.h"
#include "libvirt_nic.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"

#define MAX_SAVED_XML (1024 * 1024)

void libvirt_sandbox_free(struct libvirt_sandbox *sb)
{
	if (sb == NULL)
		return;
	free(sb->id);
	free(sb->name);
	free(sb->uuid);
	free(sb->uri);
	free(sb->dir);
	free(sb->shared_dir);
	free(sb->channel_paths[0]);
	free(sb->channel_paths[1]);
	free(sb->console_path);
	free(sb->console_log_path);
	free(sb->xml);
	libvirt_nics_release(sb);
	free(sb);
}

static const char *const phase_names[] = { "created", "started", "stopped" };
#define PHASE_COUNT (sizeof(phase_names) / sizeof(phase_names[0]))

bool libvirt_uuid_is_valid(const char *s)
{
	static const int dashes[] = { 8, 13, 18, 23 };

	if (s == NULL || strlen(s) != 36)
		return false;
	for (int i = 0, d = 0; i < 36; i++) {
		if (d < 4 && i == dashes[d]) {
			if (s[i] != '-')
				return false;
			d++;
		} else if (!isxdigit((unsigned char)s[i])) {
			return false;
		}
	}
	return true;
}

json_object *libvirt_sandbox_to_json(const struct libvirt_sandbox *sb)
{
	json_object *obj = json_object_new_object();

	json_add_string(obj, "id", sb->id);
	json_add_string(obj, "name", sb->name);
	json_add_string(obj, "uuid", sb->uuid);
	json_add_string(obj, "uri", sb->uri);
	json_add_string(obj, "dir", sb->dir);
	json_add_string(obj, "shared_dir", sb->shared_dir);
	json_object_object_add(obj, "created_dir", json_object_new_boolean(sb->created_dir));
	json_object_object_add(obj, "debug", json_object_new_boolean(sb->debug));
	json_add_string(obj, "phase", phase_names[sb->phase]);
	json_add_string(obj, "ctl_channel", sb->channel_paths[0]);
	json_add_string(obj, "io_channel", sb->channel_paths[1]);
	json_add_string(obj, "console", sb->console_path);
	json_add_string(obj, "console_log", sb->console_log_path);
	json_add_string(obj, "xml", sb->xml);
	return obj;
}

struct libvirt_sandbox *libvirt_sandbox_from_json(json_object *obj, kata_error_t *err)
{
	struct libvirt_sandbox *sb = xzalloc(sizeof(*sb));
	int phase = 0;

	/* Paths are handed to unlink() and rmdir(): absolute ones only. */
	if (json_check_type(obj, json_type_object, "", err) < 0 ||
	    json_get_string(obj, "id", "", true, &sb->id, err) < 0 ||
	    json_get_string(obj, "name", "", true, &sb->name, err) < 0 ||
	    json_get_string(obj, "uuid", "", true, &sb->uuid, err) < 0 ||
	    json_get_string(obj, "uri", "", true, &sb->uri, err) < 0 ||
	    json_get_absolute_path(obj, "dir", "", true, &sb->dir, err) < 0 ||
	    json_get_absolute_path(obj, "shared_dir", "", false, &sb->shared_dir, err) < 0 ||
	    json_get_bool(obj, "created_dir", "", false, &sb->created_dir, err) < 0 ||
	    json_get_bool(obj, "debug", "", false, &sb->debug, err) < 0 ||
	    json_get_enum(obj, "phase", "", true, phase_names, PHASE_COUNT, &phase, err) < 0 ||
	    json_get_absolute_path(obj, "ctl_channel", "", true, &sb->channel_paths[0], err) < 0 ||
	    json_get_absolute_path(obj, "io_channel", "", true, &sb->channel_paths[1], err) < 0 ||
	    json_get_absolute_path(obj, "console", "", true, &sb->console_path, err) < 0 ||
	    json_get_absolute_path(obj, "console_log", "", false, &sb->console_log_path, err) < 0 ||
	    json_get_string(obj, "xml", "", true, &sb->xml, err) < 0) {
		kata_error_wrap(err, "saved libvirt state");
		goto fail;
	}
	if (strlen(sb->xml) > MAX_SAVED_XML) {
		kata_error_set(err, EINVAL, "saved libvirt state: xml: too long");
		goto fail;
	}
	if (!libvirt_uuid_is_valid(sb->uuid)) {
		kata_error_set(err, EINVAL, "saved libvirt state: \"uuid\": not a uuid");
		goto fail;
	}
	sb->phase = (enum libvirt_phase)phase;
	return sb;
fail:
	libvirt_sandbox_free(sb);
	return NULL;
}
