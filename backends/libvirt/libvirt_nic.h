/* NICs on the libvirt backend (docs/network.md, "libvirt backend"): libvirtd cannot open a tap
 * in the container's network namespace nor take one's fd for a qemu domain, so each NIC is
 * hot-plugged once the domain runs, through libvirt's monitor passthrough with files
 * (virDomainQemuMonitorCommandWithFiles, libvirt >= 8.2), into an empty pcie-root-port the
 * domain XML has for it (q35) or the root bus (pc). */
#ifndef KATA_LIBVIRT_NIC_H
#define KATA_LIBVIRT_NIC_H

#include "libvirt_dl.h"
#include "libvirt_sandbox.h"

/* Keeps copies of the NICs' fds in sb for start(). */
int libvirt_nics_keep(struct libvirt_sandbox *sb, const struct hypervisor_nic *nics, size_t n,
                      kata_error_t *err);
/* Closes what is kept. */
void libvirt_nics_release(struct libvirt_sandbox *sb);
/* Hot-plugs every kept NIC into the running domain, in order, then releases them. */
int libvirt_nics_plug(struct libvirt_sandbox *sb, const struct kata_hypervisor_config *hc,
                      virDomainPtr dom, kata_error_t *err);
/* The ops table's hotplug_nic. */
int libvirt_hotplug_nic(struct hypervisor *hv, const struct hypervisor_nic *nic, unsigned index,
                        unsigned flags, kata_error_t *err);

#endif
