/* Hot-plugging a NIC into a running VM through qemu's monitor (docs/network.md, "Hot-plug"):
 * the same three QMP commands whoever carries them, libvirt's monitor passthrough or the
 * qemu backend's own QMP socket:
 *   getfd       fdname=katanetfdN           (with the tap's fd attached: a tap's, or a
 *                                            macvtap's /dev/tapN, taken alike)
 *   netdev_add  type=tap id=katanetN fd=katanetfdN vhost=false
 *   device_add  virtio-net-pci id=katanicN netdev=katanetN mac=.. [bus=PORT]
 * A step that fails undoes the ones before it (netdev_del, closefd), so a refused NIC
 * leaves nothing in the VM. */
#ifndef KATA_NIC_HOTPLUG_H
#define KATA_NIC_HOTPLUG_H

#include <json-c/json.h>

#include "hypervisor.h"

/* The highest NIC index (exclusive) a VM is given a hot-plug port for. */
#define NIC_HOTPLUG_MAX 8

/* How a backend runs one QMP command: args borrowed; fd >= 0 rides along with it
 * (SCM_RIGHTS), -1 when none. A QMP error comes back as an error with its "desc". */
struct nic_hotplug_monitor {
	int (*execute)(void *opaque, const char *command, json_object *args, int fd,
	               kata_error_t *err);
	void *opaque;
};

/* The id of the pcie-root-port the NIC of index goes into on q35 ("katanicport0"), as the
 * backend names it when it makes the VM; qemu's id of the device. */
void nic_hotplug_port_id(unsigned index, char out[32]);

/* Runs the sequence for nic as NIC number index (0 .. NIC_HOTPLUG_MAX-1). bus: the port's
 * qemu id on q35, NULL on pc (ACPI hot-plug on the root bus). */
int nic_hotplug_run(const struct nic_hotplug_monitor *mon, const struct hypervisor_nic *nic,
                    unsigned index, const char *bus, kata_error_t *err);

#endif
