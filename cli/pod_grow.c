/* A container of a pod grows its VM by what its limits ask for (docs/pods.md, "Sizing"), as
 * Kata 1.x did: vCPUs and memory hot-plugged on q35 and pc, the guest's agent onlining
 * them and confirming it sees them before the container is created. microvm cannot
 * hot-plug: its pods are sized at boot (cli/pod_size.c). */
#include "pod.h"

#include <errno.h>
#include <string.h>

#include "agent_call.h"
#include "cleanup.h"
#include "hypervisor.h"
#include "json_util.h"
#include "log.h"

void pod_growth_for(const struct oci_spec *spec, uint32_t *vcpus, uint32_t *memory_mib)
{
	const struct oci_resources *r =
	        spec != NULL && spec->linux_spec != NULL ? spec->linux_spec->resources : NULL;

	*vcpus = 0;
	*memory_mib = 0;
	if (r == NULL)
		return;
	if (r->memory != NULL && r->memory->has_limit && r->memory->limit > 0)
		*memory_mib = (uint32_t)(((uint64_t)r->memory->limit + (1 << 20) - 1) >> 20);
	if (r->cpu != NULL && r->cpu->has_quota && r->cpu->quota > 0 && r->cpu->has_period &&
	    r->cpu->period > 0)
		*vcpus =
		        (uint32_t)(((uint64_t)r->cpu->quota + r->cpu->period - 1) / r->cpu->period);
}

/* ONLINECPUMEM with what the guest must see: the agent onlines the new CPUs (the kernel
 * onlines memory itself), waits until it sees them all and says what it sees. */
static int guest_confirms(const struct sandbox_record *sb, const struct hypervisor_size *size,
                          kata_error_t *err)
{
	cleanup_json json_object *want = json_object_new_object();
	cleanup_json json_object *seen = NULL;
	uint32_t cpus = 0, memory = 0;

	json_object_object_add(want, "cpus", json_object_new_int64(size->vcpus));
	json_object_object_add(want, "memoryMiB", json_object_new_int64(size->memory_mib));
	if (agent_call(sb, "onlinecpumem", want, AGENT_CALL_TIMEOUT_MS, &seen, err) < 0)
		return kata_error_wrap(err,
		                       "the guest did not take the hot-plugged vCPUs and memory");
	/* the agent's answer is the guest's: checked, not trusted */
	if (seen == NULL ||
	    json_get_uint32(seen, "onlineCpus", "onlinecpumem", true, &cpus, err) < 0 ||
	    json_get_uint32(seen, "onlineMemoryMiB", "onlinecpumem", true, &memory, err) < 0)
		return seen == NULL ? kata_error_set(err, EPROTO, "onlinecpumem: no answer") : -1;
	if (cpus < size->vcpus || memory < size->memory_mib)
		return kata_error_set(err, EIO, "the guest sees %u vCPUs and %u MiB, not %u and %u",
		                      cpus, memory, size->vcpus, size->memory_mib);
	return 0;
}

int pod_container_grow(const struct kata_config *config, struct container_record *record,
                       const struct oci_spec *spec, kata_error_t *err)
{
	struct sandbox_record *sb = &record->sandbox;
	struct hypervisor_size size = { 0 };
	cleanup_hypervisor struct hypervisor *hv = NULL;
	uint32_t vcpus, memory_mib;

	pod_growth_for(spec, &vcpus, &memory_mib);
	if (vcpus == 0 && memory_mib == 0)
		return 0;
	if (strcmp(kata_machine_type(&config->hypervisor), "microvm") == 0) {
		log_debug("container `%s` asks for %u vCPUs and %u MiB: microvm cannot hot-plug, "
		          "the pod was sized at boot",
		          record->id, vcpus, memory_mib);
		return 0;
	}
	hv = hypervisor_restore(config, sb->hypervisor, err);
	if (hv == NULL || hypervisor_grow(hv, vcpus, memory_mib, &size, 0, err) < 0 ||
	    guest_confirms(sb, &size, err) < 0)
		return kata_error_wrap(
		        err, "grow the pod's VM by %u vCPUs and %u MiB for container `%s`", vcpus,
		        memory_mib, record->id);
	log_debug("pod VM of `%s` grown for `%s`: %u vCPUs, %u MiB", sb->id, record->id, size.vcpus,
	          size.memory_mib);
	sb->vcpus = size.vcpus;
	sb->memory_mib = size.memory_mib;
	return 0;
}
