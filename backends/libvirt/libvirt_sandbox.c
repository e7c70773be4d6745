/* Saving and restoring the libvirt backend's sandbox state (see libvirt_sandbox.h). The saved
 * object is written by the runtime, but read back with the same care as any input. */
#include "libvirt_sandbox.h"
#include "libvirt_nic.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

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

static void add_string(json_object *obj, const char *key, const char *value)
{
	if (value != NULL)
		json_object_object_add(obj, key, json_object_new_string(value));
}

json_object *libvirt_sandbox_to_json(const struct libvirt_sandbox *sb)
{
	json_object *obj = json_object_new_object();

	add_string(obj, "id", sb->id);
	add_string(obj, "name", sb->name);
	add_string(obj, "uuid", sb->uuid);
	add_string(obj, "uri", sb->uri);
	add_string(obj, "dir", sb->dir);
	add_string(obj, "shared_dir", sb->shared_dir);
	json_object_object_add(obj, "created_dir", json_object_new_boolean(sb->created_dir));
	json_object_object_add(obj, "debug", json_object_new_boolean(sb->debug));
	add_string(obj, "phase", phase_names[sb->phase]);
	add_string(obj, "ctl_channel", sb->channel_paths[0]);
	add_string(obj, "io_channel", sb->channel_paths[1]);
	add_string(obj, "console", sb->console_path);
	add_string(obj, "console_log", sb->console_log_path);
	add_string(obj, "xml", sb->xml);
	return obj;
}

/* Paths are handed to unlink() and rmdir(): absolute ones only. */
static int get_string(json_object *obj, const char *key, bool required, bool path, char **out,
                      kata_error_t *err)
{
	json_object *value;
	const char *s;

	if (!json_object_object_get_ex(obj, key, &value) ||
	    json_object_is_type(value, json_type_null)) {
		if (required)
			return kata_error_set(err, EINVAL, "saved libvirt state: \"%s\" missing",
			                      key);
		return 0;
	}
	if (!json_object_is_type(value, json_type_string))
		return kata_error_set(err, EINVAL, "saved libvirt state: \"%s\": expected a string",
		                      key);
	s = json_object_get_string(value);
	if (path && s[0] != '/')
		return kata_error_set(
		        err, EINVAL, "saved libvirt state: \"%s\": expected an absolute path", key);
	if ((size_t)json_object_get_string_len(value) > MAX_SAVED_XML)
		return kata_error_set(err, EINVAL, "saved libvirt state: \"%s\": too long", key);
	*out = xstrdup(s);
	return 0;
}

static int get_bool(json_object *obj, const char *key, bool *out, kata_error_t *err)
{
	json_object *value;

	if (!json_object_object_get_ex(obj, key, &value))
		return 0;
	if (!json_object_is_type(value, json_type_boolean))
		return kata_error_set(err, EINVAL,
		                      "saved libvirt state: \"%s\": expected a boolean", key);
	*out = json_object_get_boolean(value);
	return 0;
}

struct libvirt_sandbox *libvirt_sandbox_from_json(json_object *obj, kata_error_t *err)
{
	struct libvirt_sandbox *sb = xzalloc(sizeof(*sb));
	cleanup_free char *phase = NULL;
	bool found = false;

	if (!json_object_is_type(obj, json_type_object)) {
		kata_error_set(err, EINVAL, "saved libvirt state: expected an object");
		goto fail;
	}
	if (get_string(obj, "id", true, false, &sb->id, err) < 0 ||
	    get_string(obj, "name", true, false, &sb->name, err) < 0 ||
	    get_string(obj, "uuid", true, false, &sb->uuid, err) < 0 ||
	    get_string(obj, "uri", true, false, &sb->uri, err) < 0 ||
	    get_string(obj, "dir", true, true, &sb->dir, err) < 0 ||
	    get_string(obj, "shared_dir", false, true, &sb->shared_dir, err) < 0 ||
	    get_bool(obj, "created_dir", &sb->created_dir, err) < 0 ||
	    get_bool(obj, "debug", &sb->debug, err) < 0 ||
	    get_string(obj, "phase", true, false, &phase, err) < 0 ||
	    get_string(obj, "ctl_channel", true, true, &sb->channel_paths[0], err) < 0 ||
	    get_string(obj, "io_channel", true, true, &sb->channel_paths[1], err) < 0 ||
	    get_string(obj, "console", true, true, &sb->console_path, err) < 0 ||
	    get_string(obj, "console_log", false, true, &sb->console_log_path, err) < 0 ||
	    get_string(obj, "xml", true, false, &sb->xml, err) < 0)
		goto fail;
	if (!libvirt_uuid_is_valid(sb->uuid)) {
		kata_error_set(err, EINVAL, "saved libvirt state: \"uuid\": not a uuid");
		goto fail;
	}
	for (size_t i = 0; i < sizeof(phase_names) / sizeof(phase_names[0]); i++) {
		if (strcmp(phase, phase_names[i]) == 0) {
			sb->phase = (enum libvirt_phase)i;
			found = true;
		}
	}
	if (!found) {
		kata_error_set(err, EINVAL, "saved libvirt state: unknown phase '%s'", phase);
		goto fail;
	}
	return sb;
fail:
	libvirt_sandbox_free(sb);
	return NULL;
}
