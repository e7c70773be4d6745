#include "container.h"
#include "cleanup.h"
#include "json_util.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char *const status_names[] = {
	[CONTAINER_CREATING] = "creating", [CONTAINER_CREATED] = "created",
	[CONTAINER_RUNNING] = "running",   [CONTAINER_PAUSED] = "paused",
	[CONTAINER_STOPPED] = "stopped",   [CONTAINER_UNKNOWN] = "unknown",
};

const char *container_status_name(enum container_status status)
{
	return status_names[status];
}

int container_status_parse(const char *name, enum container_status *status, kata_error_t *err)
{
	for (size_t i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++) {
		if (strcmp(name, status_names[i]) == 0) {
			*status = (enum container_status)i;
			return 0;
		}
	}
	return kata_error_set(err, EINVAL, "unknown container status `%s`", name);
}

json_object *container_record_to_json(const struct container_record *record)
{
	json_object *obj = json_object_new_object();
	json_object *sandbox = json_object_new_object();
	const struct sandbox_record *sb = &record->sandbox;

	json_add_string(obj, "id", record->id);
	json_add_string(obj, "bundle", record->bundle);
	json_add_string(obj, "config_path", record->config_path);
	json_add_string(obj, "status", container_status_name(record->saved_status));
	json_add_string(obj, "created", record->created);
	json_add_string(obj, "owner", record->owner);
	json_object_object_add(obj, "shim", process_id_to_json(&record->shim));
	json_add_string_map(obj, "annotations", record->annotations);
	if (record->deferred_newcontainer != NULL) {
		json_object *deferred = json_object_new_object();
		json_add_string(deferred, "token", record->deferred_token);
		json_object_object_add(deferred, "newcontainer",
		                       json_object_get(record->deferred_newcontainer));
		json_object_object_add(obj, "deferred", deferred);
	}

	json_add_string(sandbox, "id", sb->id);
	json_add_string(sandbox, "dir", sb->dir);
	json_add_string(sandbox, "shared_dir", sb->shared_dir);
	if (sb->hypervisor != NULL)
		json_object_object_add(sandbox, "hypervisor", json_object_get(sb->hypervisor));
	json_object_object_add(sandbox, "proxy", process_id_to_json(&sb->proxy));
	json_add_string(sandbox, "proxy_socket", sb->proxy_socket);
	json_add_string_array(sandbox, "mounts", sb->mounts);
	json_object_object_add(sandbox, "vcpus", json_object_new_int64(sb->vcpus));
	json_object_object_add(sandbox, "memory_mib", json_object_new_int64(sb->memory_mib));
	if (sb->network != NULL)
		json_object_object_add(sandbox, "network", json_object_get(sb->network));
	json_object_object_add(obj, "sandbox", sandbox);
	return obj;
}

int container_record_from_json(json_object *obj, struct container_record *record, kata_error_t *err)
{
	cleanup_free char *status = NULL;
	struct sandbox_record *sb = &record->sandbox;
	json_object *sandbox = NULL;
	json_object *hypervisor = NULL;
	json_object *network = NULL;
	json_object *deferred = NULL;
	json_object *newcontainer = NULL;

	memset(record, 0, sizeof(*record));
	if (json_get_string(obj, "id", "", true, &record->id, err) < 0 ||
	    json_get_string(obj, "bundle", "", false, &record->bundle, err) < 0 ||
	    json_get_string(obj, "config_path", "", false, &record->config_path, err) < 0 ||
	    json_get_string(obj, "status", "", true, &status, err) < 0 ||
	    container_status_parse(status, &record->saved_status, err) < 0 ||
	    json_get_string(obj, "created", "", false, &record->created, err) < 0 ||
	    json_get_string(obj, "owner", "", false, &record->owner, err) < 0 ||
	    process_id_from_json(obj, "shim", "", &record->shim, err) < 0 ||
	    json_get_string_map(obj, "annotations", "", false, &record->annotations, err) < 0 ||
	    json_get_object(obj, "sandbox", "", true, &sandbox, err) < 0 ||
	    json_get_object(obj, "deferred", "", false, &deferred, err) < 0)
		goto fail;
	if (deferred != NULL &&
	    (json_get_string(deferred, "token", "deferred", true, &record->deferred_token, err) <
	             0 ||
	     json_get_object(deferred, "newcontainer", "deferred", true, &newcontainer, err) < 0))
		goto fail;
	if (newcontainer != NULL)
		record->deferred_newcontainer = json_object_get(newcontainer);
	if (json_get_string(sandbox, "id", "sandbox", false, &sb->id, err) < 0 ||
	    json_get_string(sandbox, "dir", "sandbox", false, &sb->dir, err) < 0 ||
	    json_get_string(sandbox, "shared_dir", "sandbox", false, &sb->shared_dir, err) < 0 ||
	    json_get_object(sandbox, "hypervisor", "sandbox", false, &hypervisor, err) < 0 ||
	    process_id_from_json(sandbox, "proxy", "sandbox", &sb->proxy, err) < 0 ||
	    json_get_string(sandbox, "proxy_socket", "sandbox", false, &sb->proxy_socket, err) <
	            0 ||
	    json_get_string_array(sandbox, "mounts", "sandbox", false, &sb->mounts, err) < 0 ||
	    json_get_uint32(sandbox, "vcpus", "sandbox", false, &sb->vcpus, err) < 0 ||
	    json_get_uint32(sandbox, "memory_mib", "sandbox", false, &sb->memory_mib, err) < 0 ||
	    json_get_object(sandbox, "network", "sandbox", false, &network, err) < 0)
		goto fail;
	if (hypervisor != NULL)
		sb->hypervisor = json_object_get(hypervisor);
	if (network != NULL)
		sb->network = json_object_get(network);
	return 0;
fail:
	container_record_clear(record);
	return kata_error_wrap(err, "container state");
}

void container_record_clear(struct container_record *record)
{
	struct sandbox_record *sb = &record->sandbox;

	free(record->id);
	free(record->bundle);
	free(record->config_path);
	free(record->created);
	free(record->owner);
	strv_free(record->annotations);
	free(record->deferred_token);
	json_object_put(record->deferred_newcontainer);
	free(sb->id);
	free(sb->dir);
	free(sb->shared_dir);
	json_object_put(sb->hypervisor);
	json_object_put(sb->network);
	free(sb->proxy_socket);
	strv_free(sb->mounts);
	memset(record, 0, sizeof(*record));
}

enum container_status container_current_status(const struct container_record *record)
{
	switch (record->saved_status) {
	case CONTAINER_CREATED:
	case CONTAINER_RUNNING:
	case CONTAINER_PAUSED:
		if (record->shim.pid <= 0 || !process_is_alive(&record->shim))
			return CONTAINER_STOPPED;
		return record->saved_status;
	default:
		return record->saved_status;
	}
}

char *container_timestamp_now(void)
{
	struct timespec ts;
	struct tm tm;
	char date[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	return xasprintf("%s.%09ldZ", date, ts.tv_nsec);
}

static int record_from_state(json_object *obj, struct container_record *record, kata_error_t *err)
{
	if (obj == NULL)
		return -1;
	if (container_record_from_json(obj, record, err) < 0) {
		if (err != NULL && *err != NULL)
			(*err)->errno_value = EBADMSG; /* well-formed JSON, but not a record */
		return -1;
	}
	return 0;
}

int container_read(const struct state_handle *handle, struct container_record *record,
                   kata_error_t *err)
{
	cleanup_json json_object *obj = state_read(handle, err);

	return record_from_state(obj, record, err);
}

int container_load(const char *root, const char *id, struct state_handle *handle,
                   struct container_record *record, kata_error_t *err)
{
	cleanup_json json_object *obj = NULL;

	if (handle != NULL) {
		if (state_open(root, id, handle, err) < 0)
			return -1;
		if (container_read(handle, record, err) < 0) {
			state_unlock(handle);
			return -1;
		}
		return 0;
	}
	obj = state_read_unlocked(root, id, err);
	return record_from_state(obj, record, err);
}

void container_record_bare(struct container_record *record, const char *id)
{
	memset(record, 0, sizeof(*record));
	record->id = xstrdup(id);
	record->saved_status = CONTAINER_CREATING;
}

int container_save(const struct state_handle *handle, const struct container_record *record,
                   kata_error_t *err)
{
	cleanup_json json_object *obj = container_record_to_json(record);

	return state_write(handle, obj, err);
}

json_object *container_oci_state(const struct container_record *record,
                                 enum container_status status)
{
	json_object *obj = json_object_new_object();
	bool has_pid = status == CONTAINER_CREATED || status == CONTAINER_RUNNING ||
	               status == CONTAINER_PAUSED;

	json_add_string(obj, "ociVersion", OCI_SPEC_VERSION);
	json_add_string(obj, "id", record->id);
	json_add_string(obj, "status", container_status_name(status));
	json_object_object_add(obj, "pid", json_object_new_int(has_pid ? record->shim.pid : 0));
	json_add_string(obj, "bundle", record->bundle);
	json_add_string_map(obj, "annotations", record->annotations);
	return obj;
}
