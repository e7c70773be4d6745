/* Sharing host paths with the guest: the container's rootfs and its bind mounts are
 * bind-mounted into the sandbox's shared directory, which the VM exports as kataShared
 * (9p or virtio-fs). The agent mounts the share at SHARE_GUEST_PATH.
 *
 *   SHARED/ID/rootfs        the bundle's rootfs (recursive bind)
 *   SHARED/ID/mounts/N      the N-th bind mount of config.json (file or directory)
 */
#ifndef KATA_CLI_SHARE_H
#define KATA_CLI_SHARE_H

#include "error.h"
#include "oci_spec.h"

#define SHARE_GUEST_PATH "/run/kata-containers/shared"

/* Each function appends every mount point it makes to *mounts (a NULL-terminated vector,
 * may be NULL at first), so a failure half-way can still be undone. */
int share_rootfs(const char *shared_dir, const char *id, const char *rootfs, char ***mounts,
                 kata_error_t *err);
/* Rewrites the source of every bind mount in spec to its path in the guest. */
int share_bind_mounts(const char *shared_dir, const char *id, struct oci_spec *spec, char ***mounts,
                      kata_error_t *err);
/* Unmounts in reverse order (lazily: a mount still busy goes when its last user does). */
int share_unmount_all(char *const *mounts, kata_error_t *err);
/* Unmounts whatever is mounted at or below dir, as /proc/self/mountinfo says, deepest
 * first: what a runtime killed half-way through create may not have recorded. */
int share_unmount_below(const char *dir, kata_error_t *err);

#endif
