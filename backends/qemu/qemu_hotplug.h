/* vCPU and memory hot-plug over QMP, for a pod's VM on q35 or pc (docs/pods.md, "Sizing").
 *
 * qemu runs with -smp V,maxcpus=M and -m SIZE,slots=S,maxmem=MAX. A vCPU goes in by
 * device_add of the CPU driver at a free socket/core/thread of query-hotpluggable-cpus; memory
 * by object-add of a memory-backend-ram and device_add of a pc-dimm on it. Everything is
 * checked before anything is plugged, so a refusal (maxcpus reached, no free slot, maxmem
 * exceeded) changes nothing. */
#ifndef KATA_QEMU_HOTPLUG_H
#define KATA_QEMU_HOTPLUG_H

#include <stdint.h>

#include "error.h"
#include "hypervisor.h"
#include "qmp.h"

/* A DIMM is a whole number of the guest's memory blocks (128 MiB on x86_64), or the rest of
 * its last block could never be onlined. */
#define QEMU_DIMM_ALIGN_MIB 128

/* Hot-plugs vcpus vCPUs and memory_mib MiB (rounded up to QEMU_DIMM_ALIGN_MIB, one DIMM);
 * *size: the VM's vCPUs and memory afterwards. */
int qemu_hotplug_grow(struct qmp *qmp, uint32_t vcpus, uint32_t memory_mib,
                      struct hypervisor_size *size, int timeout_ms, kata_error_t *err);

#endif
