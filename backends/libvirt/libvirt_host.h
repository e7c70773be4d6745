/* What the libvirt backend needs from the host, checked by kata-check (docs/libvirt.md):
 * libvirt reachable at the configured uri, and the host's libvirtd able to run qemu with KVM. */
#ifndef KATA_LIBVIRT_HOST_H
#define KATA_LIBVIRT_HOST_H

#include <stdbool.h>

#include "hypervisor.h"

/* The backend's check operation (hypervisor_ops.check). */
int libvirt_check(struct hypervisor *hv, hypervisor_check_report_fn report, void *opaque,
                  unsigned int flags, kata_error_t *err);

/* The user the local libvirtd runs qemu as: `user` in qemu_conf (NULL: the system's
 * /etc/libvirt/qemu.conf), else Debian's default, libvirt-qemu. Allocated. */
char *libvirt_qemu_user(const char *qemu_conf);

/* Whether USER (with its groups) may open /dev/kvm (the path: kvm_path) read-write. When it
 * may not, libvirt 9.0 finds its cached capabilities of qemu (probed with KVM) stale on every
 * lookup and probes qemu again, some 20 times per domain start. *why says what was seen. */
bool libvirt_user_can_use_kvm(const char *user, const char *kvm_path, char **why);

#endif
