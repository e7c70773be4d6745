/* Internal to backends/: the built-in ops tables. */
#ifndef KATA_BACKENDS_H
#define KATA_BACKENDS_H

#include "hypervisor.h"

extern const struct hypervisor_ops hypervisor_qemu_ops;
extern const struct hypervisor_ops hypervisor_fake_ops;
extern const struct hypervisor_ops hypervisor_libvirt_ops;

#endif
