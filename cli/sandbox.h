/* A sandbox: the VM one container (or a pod) runs in, with its kata-proxy and the
 * directory that holds their sockets and the shared directory.
 *
 *   SANDBOX_BASE_DIR/HASH/      one per VM (HASH keeps socket paths under 108 bytes)
 *     id                        the sandbox's id
 *     vm/                       the backend's directory (qemu's sockets, console log)
 *     shared/                   exported to the guest as kataShared
 *     proxy.sock                kata-proxy's socket for the runtime and the shims
 */
#ifndef KATA_CLI_SANDBOX_H
#define KATA_CLI_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>

#include "companion_log.h"
#include "config.h"
#include "hypervisor.h"
#include "container.h"
#include "error.h"
#include "oci_spec.h"

/* Under the default --root, whose directories are containers: a name no container id can
 * have (ids start with a letter or digit), so that `list` never shows it and no
 * `create`, `delete` or `ctr run` of an id can reach it. */
#define SANDBOX_BASE_DIR "/run/kata-containers/.vm"

struct sandbox_resources {
	uint32_t vcpus;
	uint32_t memory_mib;
	bool hotplug; /* room to grow (a pod's sandbox on q35/pc: cli/pod_grow.c) */
	const struct hypervisor_nic *nics; /* the container's network (cli/network.h) */
	size_t n_nics;
};

/* Kata's sizing: the configured defaults plus what the container's limits ask for. */
void sandbox_size_for(const struct kata_config *config, const struct oci_spec *spec,
                      struct sandbox_resources *resources);

/* SANDBOX_BASE_DIR/HASH of container id under root: known without any record. */
char *sandbox_dir_for(const char *root, const char *id);

/* Names and creates the sandbox's directories; fills sb->id, dir, shared_dir. */
int sandbox_prepare(const char *root, const char *id, struct sandbox_record *sb, kata_error_t *err);

/* Called by sandbox_boot() each time the record gained a piece to undo (VM handle, proxy),
 * so that the caller can save it: a runtime killed half-way leaves what delete --force
 * needs. */
struct sandbox_checkpoint {
	void (*save)(void *opaque);
	void *opaque;
};

/* Boots the VM and starts its proxy; the record is updated as each piece comes up, so
 * that sandbox_teardown() can undo a boot that failed half-way. cp may be NULL. */
int sandbox_boot(const struct kata_config *config, struct sandbox_record *sb,
                 const struct sandbox_resources *resources, const struct companion_log *log,
                 const struct sandbox_checkpoint *cp, kata_error_t *err);

/* Stops proxy and VM, ends every other process that names the directory (sandbox_sweep.h),
 * unmounts what was shared and removes the directory, whatever state they are in. A record
 * that knows only sb->id and sb->dir (config may be NULL) is enough. Going on past
 * failures, it returns the first one. */
int sandbox_teardown(const struct kata_config *config, struct sandbox_record *sb,
                     kata_error_t *err);

#endif
