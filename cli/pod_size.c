/* The size of a pod's VM at boot (docs/pods.md, "Sizing"): microvm cannot hot-plug, so a pod
 * is sized once, from its sandbox container; on q35 and pc the sandbox's VM gets room to
 * grow as its containers come (cli/pod_grow.c). Kata 1.x's annotations, which containerd passes
 * on to the sandbox when its runtime's pod_annotations allow them, set the base instead of
 * the configured default_vcpus and default_memory. */
#include "pod.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sandbox.h"

static int annotation_u32(char *const *annotations, const char *key, uint32_t min, uint32_t max,
                          uint32_t *value, bool *found, kata_error_t *err)
{
	*found = false;
	for (size_t i = 0;
	     annotations != NULL && annotations[i] != NULL && annotations[i + 1] != NULL; i += 2) {
		const char *text = annotations[i + 1];
		char *end;
		unsigned long long v;

		if (strcmp(annotations[i], key) != 0)
			continue;
		errno = 0;
		v = strtoull(text, &end, 10);
		if (errno != 0 || end == text || *end != '\0' || text[0] == '-' || v < min ||
		    v > max)
			return kata_error_set(err, EINVAL,
			                      "annotation %s: `%s` is not a number from %u to %u",
			                      key, text, min, max);
		*value = (uint32_t)v;
		*found = true;
	}
	return 0;
}

static bool is_pod_sandbox(char *const *annotations)
{
	for (size_t i = 0;
	     annotations != NULL && annotations[i] != NULL && annotations[i + 1] != NULL; i += 2)
		if ((strcmp(annotations[i], POD_CRI_CONTAINER_TYPE) == 0 ||
		     strcmp(annotations[i], POD_CRIO_CONTAINER_TYPE) == 0) &&
		    strcmp(annotations[i + 1], "sandbox") == 0)
			return true;
	return false;
}

/* Hot-plug room (maxcpus, memory slots) costs boot time under TCG: only a pod's sandbox
 * gets it, and only where pod_container_grow() can use it (qemu, not microvm, no template,
 * whose clones cannot have it). */
static bool pod_can_grow(char *const *annotations, const struct kata_config *config)
{
	const struct kata_hypervisor_config *hc = &config->hypervisor;

	return is_pod_sandbox(annotations) && hc->name != NULL && strcmp(hc->name, "qemu") == 0 &&
	       strcmp(kata_machine_type(hc), "microvm") != 0 && !config->factory.enable_template;
}

int pod_size_from_annotations(char *const *annotations, const struct kata_config *config,
                              struct sandbox_resources *resources, kata_error_t *err)
{
	uint32_t vcpus = 0, memory = 0;
	bool has_vcpus, has_memory;

	if (annotation_u32(annotations, POD_ANNOTATION_VCPUS, 1, 1024, &vcpus, &has_vcpus, err) <
	            0 ||
	    annotation_u32(annotations, POD_ANNOTATION_MEMORY, 64, 1 << 20, &memory, &has_memory,
	                   err) < 0)
		return -1;
	/* What the sandbox's own limits added stays added to the new base. */
	if (has_vcpus)
		resources->vcpus = resources->vcpus - config->hypervisor.default_vcpus + vcpus;
	if (has_memory)
		resources->memory_mib =
		        resources->memory_mib - config->hypervisor.default_memory + memory;
	if (config->hypervisor.default_maxvcpus > 0 &&
	    resources->vcpus > config->hypervisor.default_maxvcpus)
		resources->vcpus = config->hypervisor.default_maxvcpus;
	resources->hotplug = pod_can_grow(annotations, config);
	return 0;
}
