/* UPDATECONTAINER (new resource limits) and ONLINECPUMEM (hot-plugged CPUs and memory). */
#include "agent.h"

#include "cgroup.h"
#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "request.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int agent_cmd_updatecontainer(struct agent *a, json_object *req, json_object **result,
                              kata_error_t *err)
{
	cleanup_free char *container = NULL;
	json_object *resources = NULL;
	json_object *wrapper;
	struct oci_spec *spec;
	int ret;

	if (json_check_type(req, json_type_object, "UPDATECONTAINER", err) < 0 ||
	    json_get_string(req, "container", "", true, &container, err) < 0 ||
	    json_get_object(req, "resources", "", true, &resources, err) < 0)
		return -1;
	if (!agent_valid_id(container) || agent_container_find(a, container) == NULL)
		return kata_error_set(err, ENOENT, "no container `%s`", container);
	/* The OCI reader validates resources as part of a spec: give it one. */
	wrapper = json_object_new_object();
	json_object_object_add(wrapper, "linux", json_object_new_object());
	json_object_object_add(json_object_object_get(wrapper, "linux"), "resources",
	                       json_object_get(resources));
	spec = oci_spec_from_json(wrapper, err);
	json_object_put(wrapper);
	if (spec == NULL)
		return kata_error_wrap(err, "resources");
	ret = spec->linux_spec && spec->linux_spec->resources
	              ? agent_cgroup_update(container, spec->linux_spec->resources, err)
	              : 0;
	oci_spec_free(spec);
	return ret;
}

/* Writes `value` to every DIR/<prefix>N/FILE that reads `offline`. Returns how many. */
static int online_all(const char *dir, const char *prefix, const char *file, const char *offline,
                      const char *value)
{
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL) {
		cleanup_free char *path = NULL;
		cleanup_close int fd = -1;
		char state[32] = "";
		ssize_t len;

		if (strncmp(de->d_name, prefix, strlen(prefix)) != 0)
			continue;
		path = xasprintf("%s/%s/%s", dir, de->d_name, file);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue; /* cpu0 has no online file */
		len = read(fd, state, sizeof(state) - 1);
		if (len <= 0 || strncmp(state, offline, strlen(offline)) != 0)
			continue;
		if (pwrite(fd, value, strlen(value), 0) < 0)
			log_warning("online %s: %m", path);
		else
			n++;
	}
	return n;
}

int agent_cmd_onlinecpumem(struct agent *a, json_object *req, json_object **result,
                           kata_error_t *err)
{
	int cpus = online_all("/sys/devices/system/cpu", "cpu", "online", "0", "1");
	int memory =
	        online_all("/sys/devices/system/memory", "memory", "state", "offline", "online");

	log_info("onlined %d cpus and %d memory blocks", cpus, memory);
	*result = json_object_new_object();
	json_object_object_add(*result, "cpus", json_object_new_int(cpus));
	json_object_object_add(*result, "memory", json_object_new_int(memory));
	return 0;
}
