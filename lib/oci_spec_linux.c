/* The OCI spec's "linux" object: namespaces, id mappings, devices, paths. Resources and
 * seccomp are in their own files. intelRdt, personality and the like are ignored. */
#include "oci_spec.h"
#include "oci_spec_internal.h"
#include "cleanup.h"

#include <sched.h>
#include <stdlib.h>
#include <string.h>

static const char *const namespace_names[OCI_NS_TYPES] = {
	[OCI_NS_PID] = "pid",       [OCI_NS_NETWORK] = "network", [OCI_NS_MOUNT] = "mount",
	[OCI_NS_IPC] = "ipc",       [OCI_NS_UTS] = "uts",         [OCI_NS_USER] = "user",
	[OCI_NS_CGROUP] = "cgroup",
};

static const int namespace_flags[OCI_NS_TYPES] = {
	[OCI_NS_PID] = CLONE_NEWPID,       [OCI_NS_NETWORK] = CLONE_NEWNET,
	[OCI_NS_MOUNT] = CLONE_NEWNS,      [OCI_NS_IPC] = CLONE_NEWIPC,
	[OCI_NS_UTS] = CLONE_NEWUTS,       [OCI_NS_USER] = CLONE_NEWUSER,
	[OCI_NS_CGROUP] = CLONE_NEWCGROUP,
};

const char *oci_namespace_type_name(enum oci_namespace_type type)
{
	if ((unsigned)type >= OCI_NS_TYPES)
		return NULL;
	return namespace_names[type];
}

int oci_namespace_clone_flag(enum oci_namespace_type type)
{
	if ((unsigned)type >= OCI_NS_TYPES)
		return 0;
	return namespace_flags[type];
}

static const char *const propagation_names[] = {
	"private", "rprivate", "slave", "rslave", "shared", "rshared", "unbindable", "runbindable",
};

static const char *const device_types[] = { "c", "b", "u", "p" };

/* --- namespaces ---------------------------------------------------------------------------- */

static int read_namespace(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_namespace *ns = element;
	cleanup_free char *type = NULL;
	cleanup_free char *type_path = json_path_key(path, "type");
	cleanup_free char *ns_path = json_path_key(path, "path");
	int index;

	if (json_get_string(value, "type", path, true, &type, err) < 0 ||
	    json_get_string(value, "path", path, false, &ns->path, err) < 0)
		return -1;
	index = oci_name_index(type, namespace_names, OCI_NS_TYPES);
	if (index < 0)
		return oci_invalid(err, type_path, "unknown namespace type \"%s\"", type);
	ns->type = (enum oci_namespace_type)index;
	if (ns->path != NULL && ns->path[0] != '\0' &&
	    oci_check_absolute(ns->path, ns_path, err) < 0)
		return -1;
	return 0;
}

static void clear_namespace(void *element)
{
	struct oci_namespace *ns = element;

	free(ns->path);
}

/* --- id mappings ----------------------------------------------------------------------------- */

static int read_id_mapping(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_id_mapping *map = element;

	if (json_get_uint32(value, "containerID", path, true, &map->container_id, err) < 0 ||
	    json_get_uint32(value, "hostID", path, true, &map->host_id, err) < 0 ||
	    json_get_uint32(value, "size", path, true, &map->size, err) < 0)
		return -1;
	return 0;
}

static void clear_nothing(void *element)
{
}

static json_object *id_mappings_to_json(const struct oci_id_mapping *maps, size_t n)
{
	json_object *array = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *obj = json_object_new_object();

		oci_add_int64(obj, "containerID", maps[i].container_id);
		oci_add_int64(obj, "hostID", maps[i].host_id);
		oci_add_int64(obj, "size", maps[i].size);
		json_object_array_add(array, obj);
	}
	return array;
}

/* --- devices --------------------------------------------------------------------------------- */

static int read_device(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_device *dev = element;
	cleanup_free char *path_path = json_path_key(path, "path");
	cleanup_free char *type_path = json_path_key(path, "type");

	if (json_get_string(value, "path", path, true, &dev->path, err) < 0 ||
	    json_get_string(value, "type", path, true, &dev->type, err) < 0 ||
	    json_get_int64(value, "major", path, false, &dev->major, err) < 0 ||
	    json_get_int64(value, "minor", path, false, &dev->minor, err) < 0 ||
	    oci_optional(json_get_uint32(value, "fileMode", path, false, &dev->file_mode, err),
	                 &dev->has_file_mode) < 0 ||
	    oci_optional(json_get_uint32(value, "uid", path, false, &dev->uid, err),
	                 &dev->has_uid) < 0 ||
	    oci_optional(json_get_uint32(value, "gid", path, false, &dev->gid, err),
	                 &dev->has_gid) < 0)
		return -1;
	if (oci_check_absolute(dev->path, path_path, err) < 0)
		return -1;
	if (oci_name_index(dev->type, device_types, 4) < 0)
		return oci_invalid(err, type_path, "unknown device type \"%s\" (c, b, u or p)",
		                   dev->type);
	return 0;
}

static void clear_device(void *element)
{
	struct oci_device *dev = element;

	free(dev->path);
	free(dev->type);
}

static json_object *device_to_json(const struct oci_device *dev)
{
	json_object *obj = json_object_new_object();

	json_add_string(obj, "path", dev->path);
	json_add_string(obj, "type", dev->type);
	oci_add_int64(obj, "major", dev->major);
	oci_add_int64(obj, "minor", dev->minor);
	if (dev->has_file_mode)
		oci_add_int64(obj, "fileMode", dev->file_mode);
	if (dev->has_uid)
		oci_add_int64(obj, "uid", dev->uid);
	if (dev->has_gid)
		oci_add_int64(obj, "gid", dev->gid);
	return obj;
}

/* --- the linux object ---------------------------------------------------------------------------- */

static int check_linux(const struct oci_linux *lx, const char *path, kata_error_t *err)
{
	bool seen[OCI_NS_TYPES] = { false };

	for (size_t i = 0; i < lx->n_namespaces; i++) {
		enum oci_namespace_type type = lx->namespaces[i].type;

		if (seen[type]) {
			cleanup_free char *ns_path = json_path_key(path, "namespaces");
			cleanup_free char *p = json_path_index(ns_path, i);

			return oci_invalid(err, p, "namespace \"%s\" is listed twice",
			                   namespace_names[type]);
		}
		seen[type] = true;
	}
	if (lx->rootfs_propagation != NULL && lx->rootfs_propagation[0] != '\0' &&
	    oci_name_index(lx->rootfs_propagation, propagation_names,
	                   sizeof(propagation_names) / sizeof(propagation_names[0])) < 0) {
		cleanup_free char *p = json_path_key(path, "rootfsPropagation");

		return oci_invalid(err, p, "unknown propagation \"%s\"", lx->rootfs_propagation);
	}
	return 0;
}

int oci_read_linux(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_linux *lx = element;
	void *p;

	if (json_get_string_map(value, "sysctl", path, false, &lx->sysctl, err) < 0 ||
	    json_get_string(value, "cgroupsPath", path, false, &lx->cgroups_path, err) < 0 ||
	    json_get_string(value, "rootfsPropagation", path, false, &lx->rootfs_propagation, err) <
	            0 ||
	    json_get_string_array(value, "maskedPaths", path, false, &lx->masked_paths, err) < 0 ||
	    json_get_string_array(value, "readonlyPaths", path, false, &lx->readonly_paths, err) <
	            0 ||
	    json_get_string(value, "mountLabel", path, false, &lx->mount_label, err) < 0)
		return -1;

	p = NULL;
	if (oci_read_array(value, "uidMappings", path, sizeof(struct oci_id_mapping),
	                   read_id_mapping, clear_nothing, &p, &lx->n_uid_mappings, err) < 0)
		return -1;
	lx->uid_mappings = p;
	p = NULL;
	if (oci_read_array(value, "gidMappings", path, sizeof(struct oci_id_mapping),
	                   read_id_mapping, clear_nothing, &p, &lx->n_gid_mappings, err) < 0)
		return -1;
	lx->gid_mappings = p;
	p = NULL;
	if (oci_read_array(value, "namespaces", path, sizeof(struct oci_namespace), read_namespace,
	                   clear_namespace, &p, &lx->n_namespaces, err) < 0)
		return -1;
	lx->namespaces = p;
	p = NULL;
	if (oci_read_array(value, "devices", path, sizeof(struct oci_device), read_device,
	                   clear_device, &p, &lx->n_devices, err) < 0)
		return -1;
	lx->devices = p;
	p = NULL;
	if (oci_read_object(value, "resources", path, sizeof(struct oci_resources),
	                    oci_read_resources, oci_resources_clear, &p, err) < 0)
		return -1;
	lx->resources = p;
	p = NULL;
	if (oci_read_object(value, "seccomp", path, sizeof(struct oci_seccomp), oci_read_seccomp,
	                    oci_seccomp_clear, &p, err) < 0)
		return -1;
	lx->seccomp = p;
	return check_linux(lx, path, err);
}

void oci_linux_clear(void *element)
{
	struct oci_linux *lx = element;

	free(lx->uid_mappings);
	free(lx->gid_mappings);
	strv_free(lx->sysctl);
	if (lx->resources != NULL) {
		oci_resources_clear(lx->resources);
		free(lx->resources);
	}
	free(lx->cgroups_path);
	oci_free_array(lx->namespaces, lx->n_namespaces, sizeof(struct oci_namespace),
	               clear_namespace);
	oci_free_array(lx->devices, lx->n_devices, sizeof(struct oci_device), clear_device);
	if (lx->seccomp != NULL) {
		oci_seccomp_clear(lx->seccomp);
		free(lx->seccomp);
	}
	free(lx->rootfs_propagation);
	strv_free(lx->masked_paths);
	strv_free(lx->readonly_paths);
	free(lx->mount_label);
}

json_object *oci_linux_to_json(const struct oci_linux *lx)
{
	json_object *obj = json_object_new_object();

	if (lx->uid_mappings != NULL)
		json_object_object_add(obj, "uidMappings",
		                       id_mappings_to_json(lx->uid_mappings, lx->n_uid_mappings));
	if (lx->gid_mappings != NULL)
		json_object_object_add(obj, "gidMappings",
		                       id_mappings_to_json(lx->gid_mappings, lx->n_gid_mappings));
	json_add_string_map(obj, "sysctl", lx->sysctl);
	if (lx->resources != NULL)
		json_object_object_add(obj, "resources", oci_resources_to_json(lx->resources));
	json_add_string(obj, "cgroupsPath", lx->cgroups_path);
	if (lx->namespaces != NULL) {
		json_object *array = json_object_new_array();

		for (size_t i = 0; i < lx->n_namespaces; i++) {
			json_object *ns = json_object_new_object();

			json_add_string(ns, "type", namespace_names[lx->namespaces[i].type]);
			json_add_string(ns, "path", lx->namespaces[i].path);
			json_object_array_add(array, ns);
		}
		json_object_object_add(obj, "namespaces", array);
	}
	if (lx->devices != NULL) {
		json_object *array = json_object_new_array();

		for (size_t i = 0; i < lx->n_devices; i++)
			json_object_array_add(array, device_to_json(&lx->devices[i]));
		json_object_object_add(obj, "devices", array);
	}
	if (lx->seccomp != NULL)
		json_object_object_add(obj, "seccomp", oci_seccomp_to_json(lx->seccomp));
	json_add_string(obj, "rootfsPropagation", lx->rootfs_propagation);
	json_add_string_array(obj, "maskedPaths", lx->masked_paths);
	json_add_string_array(obj, "readonlyPaths", lx->readonly_paths);
	json_add_string(obj, "mountLabel", lx->mount_label);
	return obj;
}
