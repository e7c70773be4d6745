/* Facts about the host that the qemu command line needs. */
#ifndef KATA_QEMU_HOST_INFO_H
#define KATA_QEMU_HOST_INFO_H

#include <stdint.h>

/* Total RAM in MiB (maxmem for memory hotplug); 0 if unknown. */
uint64_t host_memory_mib(void);
/* The host TSC frequency in kHz, which is what the guest's TSC runs at under TCG; 0 if
 * unknown. From /proc/cpuinfo's "cpu MHz" when the TSC is constant. */
uint32_t host_tsc_khz(void);

#endif
