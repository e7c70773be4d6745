/* Hot-plugging a NIC into the qemu backend's running VM over its own QMP socket: the tap's fd
 * goes to qemu with SCM_RIGHTS before `getfd` (nic_hotplug.h has the sequence). q35 plugs
 * into the pcie-root-port made for it on the command line (qemu_cmdline.c, nic_ports), pc
 * into its root bus (ACPI hot-plug); microvm has no hot-plug. */
#include "backends.h"
#include "nic_hotplug.h"
#include "qemu_backend.h"
#include "qemu_cmdline.h"
#include "qemu_sandbox.h"
#include "qmp.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"

#define QEMU_NIC_QMP_TIMEOUT_MS 10000

static int qmp_monitor_execute(void *opaque, const char *command, json_object *args, int fd,
                               kata_error_t *err)
{
	struct qmp *qmp = opaque;

	if (fd >= 0 && qmp_send_fd(qmp, fd, err) < 0)
		return kata_error_wrap(err, "%s", command);
	return qmp_execute(qmp, command, args, NULL, QEMU_NIC_QMP_TIMEOUT_MS, err);
}

static bool can_hotplug(const char *machine, kata_error_t *err)
{
	if (strcmp(machine, "q35") == 0 || strcmp(machine, "pc") == 0)
		return true;
	kata_error_set(err, ENOTSUP, "machine type %s has no PCI hot-plug", machine);
	return false;
}

int qemu_nic_hotplug_on(struct qmp *qmp, const char *machine, const struct hypervisor_nic *nic,
                        unsigned index, kata_error_t *err)
{
	struct nic_hotplug_monitor mon = { .execute = qmp_monitor_execute, .opaque = qmp };
	char port[32];

	if (!can_hotplug(machine, err))
		return -1;
	nic_hotplug_port_id(index, port);
	return nic_hotplug_run(&mon, nic, index, strcmp(machine, "q35") == 0 ? port : NULL, err);
}

int qemu_nic_hotplug_over(const char *qmp_path, const char *machine,
                          const struct hypervisor_nic *nic, unsigned index, kata_error_t *err)
{
	cleanup_qmp struct qmp *qmp = NULL;

	if (!can_hotplug(machine, err))
		return -1;
	qmp = qmp_connect(qmp_path, QEMU_NIC_QMP_TIMEOUT_MS, err);
	if (qmp == NULL)
		return -1;
	return qemu_nic_hotplug_on(qmp, machine, nic, index, err);
}

int qemu_hotplug_nic(struct hypervisor *hv, const struct hypervisor_nic *nic, unsigned index,
                     unsigned flags, kata_error_t *err)
{
	struct qemu_sandbox *sb = hv->priv;

	if (sb == NULL)
		return kata_error_set(err, EINVAL, "hotplug_nic: no sandbox");
	if (sb->phase != QEMU_PHASE_STARTED)
		return kata_error_set(err, EINVAL, "hotplug_nic: sandbox %s is not started",
		                      sb->id);
	if (qemu_nic_hotplug_over(sb->qmp_path, kata_machine_type(&hv->config->hypervisor), nic,
	                          index, err) < 0)
		return kata_error_wrap(err, "hotplug_nic");
	return 0;
}
