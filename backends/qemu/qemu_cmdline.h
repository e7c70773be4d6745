/* The qemu command line of a sandbox, from the configuration (docs/hypervisor.md explains
 * every argument). Pure: reads no host state except what the plan carries, so tests can
 * check it argument by argument. */
#ifndef KATA_QEMU_CMDLINE_H
#define KATA_QEMU_CMDLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"
#include "hypervisor.h"

/* Used when a field is empty (a configuration built by hand, e.g. in tests); the loader
 * fills the same defaults from config.h. */
#define QEMU_DEFAULT_ENTROPY    KATA_DEFAULT_ENTROPY_SOURCE
#define QEMU_DEFAULT_VIRTIOFSD  KATA_DEFAULT_VIRTIOFSD
#define QEMU_DEFAULT_MEMORY_MIB KATA_DEFAULT_MEMORY_MIB
#define QEMU_MAX_MSIZE_9P       (1024 * 1024)

/* VM templating (docs/templating.md): the template is booted with its RAM in a shared file
 * and paused (-S, so that the factory sees the whole console); a clone maps that file
 * privately (copy-on-write) and waits for the device state (-incoming defer). */
enum qemu_template_mode {
	QEMU_TEMPLATE_NONE = 0,
	QEMU_TEMPLATE_SAVE,  /* the template VM itself */
	QEMU_TEMPLATE_CLONE, /* a sandbox started from it */
};

/* Where each file of the sandbox lives, and what was decided about the host. */
struct qemu_plan {
	const char *id;
	const char *shared_dir;            /* NULL: no share */
	enum kata_accelerator accelerator; /* resolved: KVM or TCG */
	uint32_t vcpus, maxvcpus, memory_mib;
	bool memory_hotplug;      /* slots and maxmem, from memory_slots */
	uint64_t host_memory_mib; /* maxmem for memory hotplug */
	uint32_t host_tsc_khz;    /* microvm: tsc_early_khz; 0 unknown */
	bool debug;
	const char *extra_kernel_params; /* the sandbox's, after the configuration's */
	bool foreground;                 /* no -daemonize/-pidfile (the accelerator probe) */
	bool serial_console;             /* console on ttyS0 to console_log_path, no virtconsole */
	const char *qmp_path;
	const char *channel_paths[2];
	const char *console_path;     /* unix socket; NULL: none */
	const char *console_log_path; /* NULL: none */
	const char *pid_path;
	const char *virtiofsd_socket; /* virtio-fs only */
	/* Network cards: -netdev tap,fd=QEMU_NIC_FIRST_FD+i (the launcher puts the taps there) */
	const struct hypervisor_nic *nics;
	size_t n_nics;
	enum qemu_template_mode template_mode;
	const char *template_memory_path; /* the guest RAM file, unless QEMU_TEMPLATE_NONE */
};

/* The fd number qemu finds its first tap at (launch_daemonizing_fds() moves them there). */
#define QEMU_NIC_FIRST_FD 3

/* The guest kernel command line of this plan (machine_kernel_params()). */
char *qemu_kernel_params(const struct kata_hypervisor_config *hc, const struct qemu_plan *plan);
/* The whole argv, binary first. */
char **qemu_build_cmdline(const struct kata_hypervisor_config *hc, const struct qemu_plan *plan,
                          kata_error_t *err);
/* Doubles commas, as qemu's option syntax needs inside a value. */
char *qemu_opt_escape(const char *value);

/* Whether a VM template on this machine has a NIC of its own that its clones back with the
 * sandbox's one tap (microvm, which cannot hot-plug), rather than hot-plugging theirs. */
bool qemu_template_has_nic(const struct kata_hypervisor_config *hc);

#endif
