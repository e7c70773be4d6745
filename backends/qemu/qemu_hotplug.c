/* vCPU and memory hot-plug over QMP (qemu_hotplug.h). */
#include "qemu_hotplug.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"
#include "log.h"

#define MIB (1024ull * 1024ull)

/* What the VM has and could take. */
struct qemu_capacity {
	json_object *cpus;   /* query-hotpluggable-cpus */
	uint32_t cpus_total; /* slots: maxcpus */
	uint32_t cpus_plugged;
	uint64_t memory_base;    /* bytes, -m SIZE */
	uint64_t memory_plugged; /* bytes in DIMMs */
	uint64_t memory_max;     /* bytes, maxmem; 0: no memory hot-plug */
	uint32_t slots, slots_used;
};

static void capacity_clear(struct qemu_capacity *c)
{
	json_object_put(c->cpus);
	c->cpus = NULL;
}

static int query(struct qmp *qmp, const char *command, json_object *args, enum json_type type,
                 json_object **out, int timeout_ms, kata_error_t *err)
{
	if (qmp_execute(qmp, command, args, out, timeout_ms, err) < 0)
		return -1;
	if (json_check_type(*out, type, command, err) < 0) {
		json_object_put(*out);
		*out = NULL;
		return -1;
	}
	return 0;
}

static int read_cpus(struct qmp *qmp, struct qemu_capacity *c, int timeout_ms, kata_error_t *err)
{
	if (query(qmp, "query-hotpluggable-cpus", NULL, json_type_array, &c->cpus, timeout_ms,
	          err) < 0)
		return -1;
	c->cpus_total = (uint32_t)json_object_array_length(c->cpus);
	for (size_t i = 0; i < json_object_array_length(c->cpus); i++) {
		json_object *cpu = json_object_array_get_idx(c->cpus, i);
		json_object *props = NULL;

		if (json_check_type(cpu, json_type_object, "query-hotpluggable-cpus[]", err) < 0 ||
		    !json_object_object_get_ex(cpu, "props", &props) ||
		    !json_object_is_type(props, json_type_object))
			return kata_error_set(err, EPROTO,
			                      "query-hotpluggable-cpus: an entry without props");
		if (json_object_object_get_ex(cpu, "qom-path", NULL))
			c->cpus_plugged++;
	}
	return 0;
}

static int read_memory(struct qmp *qmp, struct qemu_capacity *c, int timeout_ms, kata_error_t *err)
{
	cleanup_json json_object *args = json_object_new_object();
	cleanup_json json_object *machine = NULL;
	cleanup_json json_object *summary = NULL;
	cleanup_json json_object *devices = NULL;
	uint64_t size = 0;

	json_add_string(args, "path", "/machine");
	json_add_string(args, "property", "memory");
	if (query(qmp, "qom-get", args, json_type_object, &machine, timeout_ms, err) < 0 ||
	    json_get_uint64(machine, "size", "memory", true, &size, err) < 0 ||
	    json_get_uint64(machine, "max-size", "memory", false, &c->memory_max, err) < 0 ||
	    json_get_uint32(machine, "slots", "memory", false, &c->slots, err) < 0 ||
	    query(qmp, "query-memory-size-summary", NULL, json_type_object, &summary, timeout_ms,
	          err) < 0 ||
	    json_get_uint64(summary, "base-memory", "summary", true, &c->memory_base, err) < 0 ||
	    json_get_uint64(summary, "plugged-memory", "summary", false, &c->memory_plugged, err) <
	            0 ||
	    query(qmp, "query-memory-devices", NULL, json_type_array, &devices, timeout_ms, err) <
	            0)
		return -1;
	c->slots_used = (uint32_t)json_object_array_length(devices);
	/* max-size is what maxmem says: the base memory and every DIMM together */
	if (c->memory_max < size)
		c->memory_max = 0;
	return 0;
}

static int check_room(const struct qemu_capacity *c, uint32_t vcpus, uint64_t bytes,
                      kata_error_t *err)
{
	if (vcpus > c->cpus_total - c->cpus_plugged)
		return kata_error_set(err, ENOSPC,
		                      "no room for %u more vCPUs: %u of maxcpus=%u are plugged",
		                      vcpus, c->cpus_plugged, c->cpus_total);
	if (bytes == 0)
		return 0;
	if (c->memory_max == 0 || c->slots == 0)
		return kata_error_set(err, ENOSPC,
		                      "no memory hot-plug: the VM was started without slots and "
		                      "maxmem");
	if (c->slots_used >= c->slots)
		return kata_error_set(err, ENOSPC, "no free memory slot: %u of %u are used",
		                      c->slots_used, c->slots);
	if (c->memory_base + c->memory_plugged + bytes > c->memory_max)
		return kata_error_set(
		        err, ENOSPC,
		        "no room for %llu MiB more: %llu MiB of maxmem=%llu MiB are in "
		        "use",
		        (unsigned long long)(bytes / MIB),
		        (unsigned long long)((c->memory_base + c->memory_plugged) / MIB),
		        (unsigned long long)(c->memory_max / MIB));
	return 0;
}

static int plug_dimm(struct qmp *qmp, uint32_t index, uint64_t bytes, int timeout_ms,
                     kata_error_t *err)
{
	cleanup_free char *memdev = xasprintf("memdimm%u", index);
	cleanup_free char *dimm = xasprintf("dimm%u", index);
	cleanup_json json_object *backend = json_object_new_object();
	cleanup_json json_object *device = json_object_new_object();
	cleanup_json json_object *undo = json_object_new_object();

	json_add_string(backend, "qom-type", "memory-backend-ram");
	json_add_string(backend, "id", memdev);
	json_object_object_add(backend, "size", json_object_new_uint64(bytes));
	if (qmp_execute(qmp, "object-add", backend, NULL, timeout_ms, err) < 0)
		return kata_error_wrap(err, "object-add %s", memdev);
	json_add_string(device, "driver", "pc-dimm");
	json_add_string(device, "id", dimm);
	json_add_string(device, "memdev", memdev);
	if (qmp_execute(qmp, "device_add", device, NULL, timeout_ms, err) == 0)
		return 0;
	kata_error_wrap(err, "device_add %s", dimm);
	json_add_string(undo, "id", memdev);
	if (qmp_execute(qmp, "object-del", undo, NULL, timeout_ms, NULL) < 0)
		log_warning("hot-plug: %s left without its DIMM", memdev);
	return -1;
}

/* device_add of the CPU driver with the slot's own ids (socket, core, thread, node...). */
static int plug_cpu(struct qmp *qmp, json_object *slot, int timeout_ms, kata_error_t *err)
{
	cleanup_json json_object *device = json_object_new_object();
	json_object *type = NULL, *props = NULL;
	int64_t socket = 0, core = 0, thread = 0;
	cleanup_free char *id = NULL;

	if (!json_object_object_get_ex(slot, "type", &type) ||
	    !json_object_is_type(type, json_type_string))
		return kata_error_set(err, EPROTO,
		                      "query-hotpluggable-cpus: an entry without type");
	json_object_object_get_ex(slot, "props", &props);
	if (json_get_int64(props, "socket-id", "props", false, &socket, err) < 0 ||
	    json_get_int64(props, "core-id", "props", false, &core, err) < 0 ||
	    json_get_int64(props, "thread-id", "props", false, &thread, err) < 0)
		return -1;
	id = xasprintf("vcpu-s%lld-c%lld-t%lld", (long long)socket, (long long)core,
	               (long long)thread);
	json_add_string(device, "driver", json_object_get_string(type));
	json_add_string(device, "id", id);
	json_object_object_foreach(props, key, value)
	{
		if (!json_object_is_type(value, json_type_int))
			return kata_error_set(err, EPROTO, "query-hotpluggable-cpus: props.%s",
			                      key);
		json_object_object_add(device, key, json_object_get(value));
	}
	if (qmp_execute(qmp, "device_add", device, NULL, timeout_ms, err) < 0)
		return kata_error_wrap(err, "device_add %s", id);
	return 0;
}

static int plug_cpus(struct qmp *qmp, json_object *cpus, uint32_t n, int timeout_ms,
                     kata_error_t *err)
{
	/* qemu lists the highest ids first: the lowest free ones go in first */
	for (size_t i = json_object_array_length(cpus); i > 0 && n > 0; i--) {
		json_object *slot = json_object_array_get_idx(cpus, i - 1);

		if (json_object_object_get_ex(slot, "qom-path", NULL))
			continue;
		if (plug_cpu(qmp, slot, timeout_ms, err) < 0)
			return -1;
		n--;
	}
	return 0;
}

int qemu_hotplug_grow(struct qmp *qmp, uint32_t vcpus, uint32_t memory_mib,
                      struct hypervisor_size *size, int timeout_ms, kata_error_t *err)
{
	struct qemu_capacity c = { 0 };
	uint64_t mib = ((uint64_t)memory_mib + QEMU_DIMM_ALIGN_MIB - 1) / QEMU_DIMM_ALIGN_MIB *
	               QEMU_DIMM_ALIGN_MIB;
	int ret = -1;

	if (read_cpus(qmp, &c, timeout_ms, err) < 0 || read_memory(qmp, &c, timeout_ms, err) < 0 ||
	    check_room(&c, vcpus, mib * MIB, err) < 0)
		goto out;
	if (mib > 0 && plug_dimm(qmp, c.slots_used, mib * MIB, timeout_ms, err) < 0)
		goto out;
	if (plug_cpus(qmp, c.cpus, vcpus, timeout_ms, err) < 0) {
		if (mib > 0)
			kata_error_wrap(err, "(the %llu MiB DIMM plugged before stays)",
			                (unsigned long long)mib);
		goto out;
	}
	size->vcpus = c.cpus_plugged + vcpus;
	size->memory_mib = (uint32_t)((c.memory_base + c.memory_plugged) / MIB + mib);
	ret = 0;
out:
	capacity_clear(&c);
	return ret < 0 ? kata_error_wrap(err, "hot-plug %u vCPUs and %u MiB", vcpus, memory_mib)
	               : 0;
}
