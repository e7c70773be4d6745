/* The OCI spec's linux.resources: devices cgroup rules, memory, cpu, pids, blockIO weight
 * and cgroup v2 "unified" files. hugepageLimits, network, rdma and blockIO throttling are
 * ignored. */
#include "oci_spec.h"
#include "oci_spec_internal.h"
#include "cleanup.h"

#include <stdlib.h>
#include <string.h>

static const char *const rule_types[] = { "a", "c", "b" };

static int read_device_rule(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_device_rule *rule = element;

	if (json_get_bool(value, "allow", path, false, &rule->allow, err) < 0 ||
	    json_get_string(value, "type", path, false, &rule->type, err) < 0 ||
	    oci_optional(json_get_int64(value, "major", path, false, &rule->major, err),
	                 &rule->has_major) < 0 ||
	    oci_optional(json_get_int64(value, "minor", path, false, &rule->minor, err),
	                 &rule->has_minor) < 0 ||
	    json_get_string(value, "access", path, false, &rule->access, err) < 0)
		return -1;
	if (rule->type != NULL && rule->type[0] != '\0' &&
	    oci_name_index(rule->type, rule_types, 3) < 0) {
		cleanup_free char *p = json_path_key(path, "type");

		return oci_invalid(err, p, "unknown device type \"%s\" (a, c or b)", rule->type);
	}
	if (rule->access != NULL && strspn(rule->access, "rwm") != strlen(rule->access)) {
		cleanup_free char *p = json_path_key(path, "access");

		return oci_invalid(err, p, "\"%s\" is not made of r, w and m", rule->access);
	}
	return 0;
}

static void clear_device_rule(void *element)
{
	struct oci_device_rule *rule = element;

	free(rule->type);
	free(rule->access);
}

static int read_memory(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_memory *m = element;

	if (oci_optional(json_get_int64(value, "limit", path, false, &m->limit, err),
	                 &m->has_limit) < 0 ||
	    oci_optional(json_get_int64(value, "reservation", path, false, &m->reservation, err),
	                 &m->has_reservation) < 0 ||
	    oci_optional(json_get_int64(value, "swap", path, false, &m->swap, err), &m->has_swap) <
	            0 ||
	    oci_optional(json_get_int64(value, "kernel", path, false, &m->kernel, err),
	                 &m->has_kernel) < 0 ||
	    oci_optional(json_get_int64(value, "kernelTCP", path, false, &m->kernel_tcp, err),
	                 &m->has_kernel_tcp) < 0 ||
	    oci_optional(json_get_uint64(value, "swappiness", path, false, &m->swappiness, err),
	                 &m->has_swappiness) < 0 ||
	    oci_optional(json_get_bool(value, "disableOOMKiller", path, false,
	                               &m->disable_oom_killer, err),
	                 &m->has_disable_oom_killer) < 0)
		return -1;
	return 0;
}

static int read_cpu(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_cpu *c = element;

	if (oci_optional(json_get_uint64(value, "shares", path, false, &c->shares, err),
	                 &c->has_shares) < 0 ||
	    oci_optional(json_get_int64(value, "quota", path, false, &c->quota, err),
	                 &c->has_quota) < 0 ||
	    oci_optional(json_get_uint64(value, "period", path, false, &c->period, err),
	                 &c->has_period) < 0 ||
	    oci_optional(json_get_int64(value, "realtimeRuntime", path, false, &c->realtime_runtime,
	                                err),
	                 &c->has_realtime_runtime) < 0 ||
	    oci_optional(
	            json_get_uint64(value, "realtimePeriod", path, false, &c->realtime_period, err),
	            &c->has_realtime_period) < 0 ||
	    json_get_string(value, "cpus", path, false, &c->cpus, err) < 0 ||
	    json_get_string(value, "mems", path, false, &c->mems, err) < 0)
		return -1;
	return 0;
}

static void clear_cpu(void *element)
{
	struct oci_cpu *c = element;

	free(c->cpus);
	free(c->mems);
}

static int read_pids(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_pids *pids = element;

	return json_get_int64(value, "limit", path, false, &pids->limit, err) < 0 ? -1 : 0;
}

static int read_block_io(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_block_io *b = element;

	if (oci_optional(json_get_uint16(value, "weight", path, false, &b->weight, err),
	                 &b->has_weight) < 0 ||
	    oci_optional(json_get_uint16(value, "leafWeight", path, false, &b->leaf_weight, err),
	                 &b->has_leaf_weight) < 0)
		return -1;
	return 0;
}

static void clear_plain(void *element)
{
}

int oci_read_resources(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_resources *r = element;
	void *p = NULL;
	int present;

	present = oci_read_array(value, "devices", path, sizeof(struct oci_device_rule),
	                         read_device_rule, clear_device_rule, &p, &r->n_devices, err);
	if (present < 0)
		return -1;
	r->devices = p;
	r->devices_present = present > 0;
	p = NULL;
	if (oci_read_object(value, "memory", path, sizeof(struct oci_memory), read_memory,
	                    clear_plain, &p, err) < 0)
		return -1;
	r->memory = p;
	p = NULL;
	if (oci_read_object(value, "cpu", path, sizeof(struct oci_cpu), read_cpu, clear_cpu, &p,
	                    err) < 0)
		return -1;
	r->cpu = p;
	p = NULL;
	if (oci_read_object(value, "pids", path, sizeof(struct oci_pids), read_pids, clear_plain,
	                    &p, err) < 0)
		return -1;
	r->pids = p;
	p = NULL;
	if (oci_read_object(value, "blockIO", path, sizeof(struct oci_block_io), read_block_io,
	                    clear_plain, &p, err) < 0)
		return -1;
	r->block_io = p;
	return json_get_string_map(value, "unified", path, false, &r->unified, err) < 0 ? -1 : 0;
}

void oci_resources_clear(void *element)
{
	struct oci_resources *r = element;

	oci_free_array(r->devices, r->n_devices, sizeof(struct oci_device_rule), clear_device_rule);
	free(r->memory);
	if (r->cpu != NULL) {
		clear_cpu(r->cpu);
		free(r->cpu);
	}
	free(r->pids);
	free(r->block_io);
	strv_free(r->unified);
}

static json_object *memory_to_json(const struct oci_memory *m)
{
	json_object *obj = json_object_new_object();

	if (m->has_limit)
		oci_add_int64(obj, "limit", m->limit);
	if (m->has_reservation)
		oci_add_int64(obj, "reservation", m->reservation);
	if (m->has_swap)
		oci_add_int64(obj, "swap", m->swap);
	if (m->has_kernel)
		oci_add_int64(obj, "kernel", m->kernel);
	if (m->has_kernel_tcp)
		oci_add_int64(obj, "kernelTCP", m->kernel_tcp);
	if (m->has_swappiness)
		oci_add_uint64(obj, "swappiness", m->swappiness);
	if (m->has_disable_oom_killer)
		oci_add_bool(obj, "disableOOMKiller", m->disable_oom_killer);
	return obj;
}

static json_object *cpu_to_json(const struct oci_cpu *c)
{
	json_object *obj = json_object_new_object();

	if (c->has_shares)
		oci_add_uint64(obj, "shares", c->shares);
	if (c->has_quota)
		oci_add_int64(obj, "quota", c->quota);
	if (c->has_period)
		oci_add_uint64(obj, "period", c->period);
	if (c->has_realtime_runtime)
		oci_add_int64(obj, "realtimeRuntime", c->realtime_runtime);
	if (c->has_realtime_period)
		oci_add_uint64(obj, "realtimePeriod", c->realtime_period);
	json_add_string(obj, "cpus", c->cpus);
	json_add_string(obj, "mems", c->mems);
	return obj;
}

json_object *oci_resources_to_json(const struct oci_resources *r)
{
	json_object *obj = json_object_new_object();

	if (r->devices_present || r->n_devices > 0) {
		json_object *array = json_object_new_array();

		for (size_t i = 0; i < r->n_devices; i++) {
			const struct oci_device_rule *rule = &r->devices[i];
			json_object *d = json_object_new_object();

			oci_add_bool(d, "allow", rule->allow);
			json_add_string(d, "type", rule->type);
			if (rule->has_major)
				oci_add_int64(d, "major", rule->major);
			if (rule->has_minor)
				oci_add_int64(d, "minor", rule->minor);
			json_add_string(d, "access", rule->access);
			json_object_array_add(array, d);
		}
		json_object_object_add(obj, "devices", array);
	}
	if (r->memory != NULL)
		json_object_object_add(obj, "memory", memory_to_json(r->memory));
	if (r->cpu != NULL)
		json_object_object_add(obj, "cpu", cpu_to_json(r->cpu));
	if (r->pids != NULL) {
		json_object *pids = json_object_new_object();

		oci_add_int64(pids, "limit", r->pids->limit);
		json_object_object_add(obj, "pids", pids);
	}
	if (r->block_io != NULL) {
		json_object *b = json_object_new_object();

		if (r->block_io->has_weight)
			oci_add_int64(b, "weight", r->block_io->weight);
		if (r->block_io->has_leaf_weight)
			oci_add_int64(b, "leafWeight", r->block_io->leaf_weight);
		json_object_object_add(obj, "blockIO", b);
	}
	json_add_string_map(obj, "unified", r->unified);
	return obj;
}
