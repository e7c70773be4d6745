/* A sandbox from the VM template (template_clone.h). */
#include "template_clone.h"

#include "launch.h"
#include "template.h"
#include "nic_hotplug.h"
#include "qemu_backend.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"
#include "process.h"
#include "fd_util.h"

#define CLONE_START_TIMEOUT_MS 30000
#define CLONE_QMP_TIMEOUT_MS   10000
#define CLONE_LOAD_TIMEOUT_MS  30000

static const char *why_not_clone(const struct kata_hypervisor_config *hc,
                                 const struct qemu_plan *plan)
{
	uint32_t vcpus = hc->default_vcpus ? hc->default_vcpus : 1;
	uint32_t memory = hc->default_memory ? hc->default_memory : QEMU_DEFAULT_MEMORY_MIB;

	if (plan->n_nics > 1 && qemu_template_has_nic(hc))
		return "it has more than one network card, and a clone on microvm has the "
		       "template's one";
	if (plan->n_nics > NIC_HOTPLUG_MAX)
		return "it has more network cards than the template has hot-plug ports";
	if (plan->vcpus != vcpus || plan->memory_mib != memory)
		return "its vCPUs or memory (from the container's limits) are not the "
		       "template's";
	if (plan->memory_hotplug || plan->maxvcpus > plan->vcpus)
		return "it asks for hotplug capacity";
	if (plan->shared_dir == NULL)
		return "it has no shared directory";
	return NULL;
}

int qemu_clone_plan(const struct kata_config *config, const struct qemu_plan *plan,
                    char ***boot_argv, char ***argv, kata_error_t *err)
{
	struct qemu_plan clone = *plan;
	cleanup_free char *memory = NULL;
	const char *why;
	char **clone_argv;

	cleanup_error kata_error_t unsupported = NULL;

	/* A configuration that cannot have a template (virtio-fs, a foreign agent) boots as
	 * if templating were off; `factory init` says why. */
	if (qemu_template_supported(config, &unsupported) < 0) {
		log_info("sandbox %s boots without the template: %s", plan->id,
		         unsupported->message);
		return 0;
	}
	why = why_not_clone(&config->hypervisor, plan);
	if (why != NULL) {
		log_info("sandbox %s boots without the template: %s", plan->id, why);
		return 0;
	}
	memory = xasprintf("%s/%s", config->factory.template_path, QEMU_TEMPLATE_MEMORY);
	clone.template_mode = QEMU_TEMPLATE_CLONE;
	/* On q35 and pc its NICs are hot-plugged once the state is loaded (clone_plug_nics); on
	 * microvm its one tap backs the template's NIC (qemu_cmdline.c). */
	if (!qemu_template_has_nic(&config->hypervisor)) {
		clone.nics = NULL;
		clone.n_nics = 0;
	}
	clone.template_memory_path = memory;
	clone_argv = qemu_build_cmdline(&config->hypervisor, &clone, err);
	if (clone_argv == NULL)
		return kata_error_wrap(err, "template");
	*boot_argv = *argv;
	*argv = clone_argv;
	return 0;
}

/* The sandbox's NICs, into the running clone on q35 or pc (whose template has no NIC of its
 * own), over the clone's QMP connection: qemu would not greet a second one while it is
 * open. */
static int clone_plug_nics(const struct kata_config *config, struct qemu_sandbox *sb,
                           struct qmp *qmp, kata_error_t *err)
{
	int64_t started = now_ms();

	if (qemu_template_has_nic(&config->hypervisor))
		return 0;
	for (size_t i = 0; i < sb->n_tap_fds; i++)
		if (qemu_nic_hotplug_on(qmp, kata_machine_type(&config->hypervisor), &sb->nics[i],
		                        (unsigned)i, err) < 0)
			return -1;
	if (sb->n_tap_fds > 0)
		log_debug("sandbox %s: %zu NICs hot-plugged into the clone in %lld ms", sb->id,
		          sb->n_tap_fds, (long long)(now_ms() - started));
	return 0;
}

int qemu_clone_start(const struct kata_config *config, struct qemu_sandbox *sb)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_close int lock = -1;
	cleanup_qmp struct qmp *qmp = NULL;
	cleanup_free char *state = NULL;
	int64_t started = now_ms();
	bool nics_on_cmdline = qemu_template_has_nic(&config->hypervisor);
	pid_t pid;

	/* Held until the state is loaded: nobody replaces the template under the clone. */
	lock = qemu_template_acquire(config, &err);
	if (lock < 0)
		goto fail;
	state = xasprintf("%s/%s", config->factory.template_path, QEMU_TEMPLATE_STATE);
	if (launch_daemonizing_clone(sb->argv, sb->tap_fds, nics_on_cmdline ? sb->n_tap_fds : 0,
	                             QEMU_NIC_FIRST_FD, CLONE_START_TIMEOUT_MS, &err) < 0 ||
	    read_pid_file(sb->pid_path, &pid, &err) < 0 ||
	    process_identify(pid, &sb->qemu, &err) < 0)
		goto fail;
	qmp = qmp_connect(sb->qmp_path, CLONE_QMP_TIMEOUT_MS, &err);
	if (qmp == NULL || qemu_template_load_state(qmp, state, CLONE_LOAD_TIMEOUT_MS, &err) < 0)
		goto fail;
	if (clone_plug_nics(config, sb, qmp, &err) < 0)
		goto fail;
	log_debug("sandbox %s started from the template in %lld ms", sb->id,
	          (long long)(now_ms() - started));
	return 0;
fail:
	if (sb->qemu.pid > 0 && !process_is_alive(&sb->qemu))
		log_warning("sandbox %s: qemu could not load the template (%s); booting "
		            "normally",
		            sb->id, err != NULL ? err->message : "it exited");
	else
		log_warning("sandbox %s: not from the template: %s; booting normally", sb->id,
		            err != NULL ? err->message : "unknown error");
	return -1;
}
