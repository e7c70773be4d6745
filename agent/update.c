/* UPDATECONTAINER (new resource limits) and ONLINECPUMEM (hot-plugged CPUs and memory). */
#include "agent.h"

#include "cgroup.h"
#include "cleanup.h"
#include "fd_util.h"
#include "json_util.h"
#include "log.h"
#include "request.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *agent_system_devices_root = "/sys/devices/system";

/* How long hot-plugged CPUs and memory may take to appear in the guest (TCG is slow), and
 * how often the agent looks meanwhile. */
#define AGENT_ONLINE_TIMEOUT_MS 20000
#define AGENT_ONLINE_POLL_MS    20

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

/* "0-2,4" (the kernel's cpu list format): how many CPUs it names. */
static uint32_t count_cpu_list(const char *list)
{
	uint32_t n = 0;

	while (*list != '\0' && *list != '\n') {
		char *end;
		unsigned long first = strtoul(list, &end, 10), last = first;

		if (end == list)
			break;
		if (*end == '-')
			last = strtoul(end + 1, &end, 10);
		if (last >= first && last - first < 4096)
			n += (uint32_t)(last - first + 1);
		list = *end == ',' ? end + 1 : end;
		if (*end != ',')
			break;
	}
	return n;
}

static uint32_t online_cpus(void)
{
	char list[1024] = "";
	cleanup_free char *path = xasprintf("%s/cpu/online", agent_system_devices_root);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, list, sizeof(list) - 1) : -1;

	return len > 0 ? count_cpu_list(list) : 0;
}

/* MiB in online memory blocks: the boot memory rounded up to whole blocks, plus every
 * hot-plugged DIMM (the host makes those whole blocks). */
static uint64_t online_memory_mib(void)
{
	cleanup_free char *dir = xasprintf("%s/memory", agent_system_devices_root);
	cleanup_free char *size_path = xasprintf("%s/block_size_bytes", dir);
	cleanup_closedir DIR *d = opendir(dir);
	char text[64] = "";
	cleanup_close int fd = open(size_path, O_RDONLY | O_CLOEXEC);
	ssize_t len = fd >= 0 ? read(fd, text, sizeof(text) - 1) : -1;
	uint64_t block = len > 0 ? strtoull(text, NULL, 16) : 0, blocks = 0;
	struct dirent *de;

	if (d == NULL || block == 0)
		return 0;
	while ((de = readdir(d)) != NULL) {
		cleanup_free char *path = NULL;
		cleanup_close int state_fd = -1;
		char state[16] = "";

		if (strncmp(de->d_name, "memory", 6) != 0 || de->d_name[6] < '0' ||
		    de->d_name[6] > '9')
			continue;
		path = xasprintf("%s/%s/state", dir, de->d_name);
		state_fd = open(path, O_RDONLY | O_CLOEXEC);
		if (state_fd >= 0 && read(state_fd, state, sizeof(state) - 1) > 0 &&
		    strncmp(state, "online", 6) == 0)
			blocks++;
	}
	return blocks * block / (1024 * 1024);
}

/* ONLINECPUMEM waiting on the loop for hot-plugged devices to appear. */
struct agent_online_wait {
	struct event_timer *timer;
	uint32_t want_cpus, want_mib;
	int64_t deadline; /* now_ms() */
	int onlined_cpus, onlined_memory;
};

/* Onlines what is there; true once the guest sees what is wanted. */
static bool online_step(struct agent_online_wait *w, uint32_t *cpus, uint64_t *mib)
{
	cleanup_free char *cpu_dir = xasprintf("%s/cpu", agent_system_devices_root);
	cleanup_free char *memory_dir = xasprintf("%s/memory", agent_system_devices_root);

	w->onlined_cpus += online_all(cpu_dir, "cpu", "online", "0", "1");
	w->onlined_memory += online_all(memory_dir, "memory", "state", "offline", "online");
	*cpus = online_cpus();
	*mib = online_memory_mib();
	return *cpus >= w->want_cpus && *mib >= w->want_mib;
}

/* The answer: what was onlined and what the guest sees, or why not enough. */
static int online_result(const struct agent_online_wait *w, uint32_t cpus, uint64_t mib,
                         json_object **result, kata_error_t *err)
{
	log_info("onlined %d cpus and %d memory blocks: %u cpus, %llu MiB online", w->onlined_cpus,
	         w->onlined_memory, cpus, (unsigned long long)mib);
	if ((w->onlined_cpus > 0 || w->want_cpus > 0) && agent_cgroup_cpuset_follow_online(err) < 0)
		return -1;
	if (cpus < w->want_cpus || mib < w->want_mib)
		return kata_error_set(err, ETIMEDOUT,
		                      "the guest sees %u CPUs and %llu MiB online, not %u and %u",
		                      cpus, (unsigned long long)mib, w->want_cpus, w->want_mib);
	*result = json_object_new_object();
	json_object_object_add(*result, "cpus", json_object_new_int(w->onlined_cpus));
	json_object_object_add(*result, "memory", json_object_new_int(w->onlined_memory));
	json_object_object_add(*result, "onlineCpus", json_object_new_int64(cpus));
	json_object_object_add(*result, "onlineMemoryMiB", json_object_new_int64((int64_t)mib));
	return 0;
}

static void online_tick(struct event_timer *timer, void *data)
{
	struct agent *a = data;
	struct agent_online_wait *w = a->online_wait;
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *result = NULL;
	uint32_t cpus;
	uint64_t mib;

	if (!online_step(w, &cpus, &mib) && now_ms() < w->deadline)
		return;
	if (online_result(w, cpus, mib, &result, &err) < 0)
		kata_error_wrap(&err, "ONLINECPUMEM");
	a->online_wait = NULL;
	event_timer_free(w->timer);
	free(w);
	agent_ctl_answer(a, result, err);
}

/* Optional {"cpus": N, "memoryMiB": M}: what the host hot-plugged, in all. ACPI announces a
 * new CPU or DIMM a moment after qemu's device_add returns, so the agent onlines what is
 * there every AGENT_ONLINE_POLL_MS, from its loop, until it sees that much, within
 * AGENT_ONLINE_TIMEOUT_MS. Without them (hyperstart's form), it onlines what is there once.
 * Answers how many CPUs and memory blocks it onlined and what the guest sees online. */
int agent_cmd_onlinecpumem(struct agent *a, json_object *req, json_object **result,
                           kata_error_t *err)
{
	struct agent_online_wait first = { 0 }, *w;
	uint32_t cpus;
	uint64_t mib;

	if (req != NULL && (json_check_type(req, json_type_object, "ONLINECPUMEM", err) < 0 ||
	                    json_get_uint32(req, "cpus", "", false, &first.want_cpus, err) < 0 ||
	                    json_get_uint32(req, "memoryMiB", "", false, &first.want_mib, err) < 0))
		return -1;
	if (online_step(&first, &cpus, &mib))
		return online_result(&first, cpus, mib, result, err);
	w = xmalloc(sizeof(*w));
	*w = first;
	w->deadline = now_ms() + AGENT_ONLINE_TIMEOUT_MS;
	w->timer = event_timer_add(a->loop, AGENT_ONLINE_POLL_MS, AGENT_ONLINE_POLL_MS, online_tick,
	                           a, err);
	if (w->timer == NULL) {
		free(w);
		return -1;
	}
	a->online_wait = w;
	return AGENT_CMD_LATER;
}
