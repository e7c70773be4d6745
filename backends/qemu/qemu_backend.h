/* Internal to the qemu backend, exposed for its unit tests. */
#ifndef KATA_QEMU_BACKEND_H
#define KATA_QEMU_BACKEND_H

#include "hypervisor.h"

/* Maps query-status's "status" to a sandbox state. */
enum hypervisor_state qemu_state_from_status(const char *status);

/* The accelerator probe's cache (env KATA_ACCEL_CACHE overrides the file). */
#define ACCEL_CACHE_FILE        "/var/cache/kata-containers/accelerator.json"
#define ACCEL_PROBE_TIMEOUT_MS  10000 /* env KATA_ACCEL_PROBE_TIMEOUT_MS overrides */
#define ACCEL_CACHE_MAX_ENTRIES 16

/* The cache key of a probe: host kernel release, guest kernel (path, size, mtime), qemu
 * binary and machine type. Allocated; NULL with *err if the kernel cannot be stat'ed. */
char *accel_cache_key(const struct kata_config *config, kata_error_t *err);
/* Whether the console output shows the guest kernel got as far as running /init. */
bool accel_console_shows_boot(const char *console, size_t len);

/* qemu_nic_hotplug.c: hot-plugs nic as NIC number index over the open QMP connection qmp,
 * into the port nic_hotplug_port_id() names on q35, the root bus on pc. */
struct qmp;
int qemu_nic_hotplug_on(struct qmp *qmp, const char *machine, const struct hypervisor_nic *nic,
                        unsigned index, kata_error_t *err);
/* The same over a connection of its own to the QMP socket at qmp_path. qemu's monitor serves
 * one client at a time: not while another connection to it is open (the clone's). */
int qemu_nic_hotplug_over(const char *qmp_path, const char *machine,
                          const struct hypervisor_nic *nic, unsigned index, kata_error_t *err);
/* The ops table's hotplug_nic. */
int qemu_hotplug_nic(struct hypervisor *hv, const struct hypervisor_nic *nic, unsigned index,
                     unsigned flags, kata_error_t *err);

#endif
