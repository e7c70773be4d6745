/* What the two VM backends (qemu and libvirt) build alike: both run the same qemu binary, and
 * the guest gets the same kernel command line from either, so it cannot tell them apart
 * (docs/hypervisor.md explains each parameter). Pure: reads no host state. */
#ifndef KATA_BACKENDS_MACHINE_H
#define KATA_BACKENDS_MACHINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

/* Kata's guest kernel parameters (GUEST-BOOT.md: they save 0.35-0.4 s under TCG). */
#define MACHINE_KATA_KERNEL_PARAMS                                                                 \
	"tsc=reliable no_timer_check rcupdate.rcu_expedited=1 i8042.direct=1 i8042.dumbkbd=1 "     \
	"i8042.nopnp=1 i8042.noaux=1 noreplace-smp cryptomgr.notests pci=lastbus=0 panic=1"
/* Free page reporting in blocks of 2^N pages: docs/performance.md, "Memory". */
#define MACHINE_PAGE_REPORTING_ORDER 5

/* What the kernel command line depends on besides the configuration. */
struct machine_kernel_plan {
	enum kata_accelerator accelerator; /* resolved: KVM or TCG */
	uint32_t vcpus, maxvcpus;
	uint32_t host_tsc_khz;           /* microvm: tsc_early_khz; 0 unknown */
	bool debug;                      /* no `quiet` */
	bool serial_console;             /* console=ttyS0 rather than hvc0 */
	const char *shared_dir;          /* NULL: no share */
	const char *extra_kernel_params; /* the sandbox's, after the configuration's */
};

/* The qemu binary to run: the configured path, which must match valid_hypervisor_paths
 * (glob patterns) when that list is set. */
char *machine_qemu_binary(const struct kata_hypervisor_config *hc, kata_error_t *err);
/* The 9p msize: the configured one, or the default. */
uint32_t machine_msize_9p(const struct kata_hypervisor_config *hc);
/* The guest kernel command line. */
char *machine_kernel_params(const struct kata_hypervisor_config *hc,
                            const struct machine_kernel_plan *plan);

#endif
