/* The qemu binary and the guest kernel command line, the same for both VM backends (see
 * machine.h). */
#include "machine.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

char *machine_qemu_binary(const struct kata_hypervisor_config *hc, kata_error_t *err)
{
	const char *path =
	        hc->path != NULL && hc->path[0] ? hc->path : KATA_DEFAULT_HYPERVISOR_PATH;

	if (path[0] != '/') {
		kata_error_set(err, EINVAL, "hypervisor path must be absolute: %s", path);
		return NULL;
	}
	if (hc->valid_hypervisor_paths != NULL && hc->valid_hypervisor_paths[0] != NULL) {
		bool allowed = false;

		for (char **p = hc->valid_hypervisor_paths; *p != NULL && !allowed; p++)
			allowed = fnmatch(*p, path, FNM_PATHNAME) == 0;
		if (!allowed) {
			kata_error_set(err, EPERM,
			               "hypervisor path %s is not in valid_hypervisor_paths", path);
			return NULL;
		}
	}
	return xstrdup(path);
}

uint32_t machine_msize_9p(const struct kata_hypervisor_config *hc)
{
	return hc->msize_9p != 0 ? hc->msize_9p : KATA_DEFAULT_MSIZE_9P;
}

char *machine_kernel_params(const struct kata_hypervisor_config *hc,
                            const struct machine_kernel_plan *plan)
{
	bool microvm = strcmp(kata_machine_type(hc), "microvm") == 0;
	char *params = xstrdup(MACHINE_KATA_KERNEL_PARAMS);

#define APPEND(...)                                                                                \
	do {                                                                                       \
		cleanup_free char *more_ = xasprintf(__VA_ARGS__);                                 \
		char *joined_ = xasprintf("%s %s", params, more_);                                 \
		free(params);                                                                      \
		params = joined_;                                                                  \
	} while (0)

	/* reboot=t: microvm has no keyboard controller, only a triple fault resets it. */
	APPEND("reboot=%s", microvm ? "t" : "k");
	/* Per-CPU areas in 4 KiB pages, not 2 MiB units: each later chunk of a 2 MiB unit gets
	 * a 4 MiB memory-cgroup map, zeroed, as soon as a container's cgroup exists. */
	APPEND("percpu_alloc=page");
	if (microvm && plan->host_tsc_khz != 0)
		APPEND("tsc_early_khz=%u",
		       plan->host_tsc_khz); /* TSC calibration hangs under TCG */
	/* Under TCG, calibrating the local APIC timer takes ~0.13 s of the boot; a guest that
	 * has and can get only one vCPU does well with the PIT instead (SMP guests need it). */
	if (plan->accelerator == KATA_ACCEL_TCG && plan->vcpus == 1 && plan->maxvcpus <= 1)
		APPEND("nolapic_timer");
	APPEND("console=%s", plan->serial_console ? "ttyS0" : "hvc0");
	if (!plan->debug)
		APPEND("quiet");
	if (plan->shared_dir != NULL && hc->shared_fs == KATA_SHARED_FS_9P)
		APPEND("agent.msize_9p=%u", machine_msize_9p(hc));
	/* Report freed memory in blocks of this order (the guest kernel's default, 4 MiB, is
	 * seldom free in a small VM; guest/kernel-patches/0002 makes the parameter count). */
	if (hc->reclaim_guest_freed_memory)
		APPEND("page_reporting.page_reporting_order=%u", MACHINE_PAGE_REPORTING_ORDER);
	if (hc->kernel_params != NULL && hc->kernel_params[0])
		APPEND("%s", hc->kernel_params); /* late, so that it can override */
	if (plan->extra_kernel_params != NULL && plan->extra_kernel_params[0])
		APPEND("%s", plan->extra_kernel_params);
#undef APPEND
	return params;
}
