/* Checks of the bundle's rootfs made on the host before anything is created. The guest's
 * agent mounts every destination resolved inside the rootfs (agent/child_rootfs.c), and
 * refuses the same; the host refuses first, with the bundle's names, and boots nothing. */
#ifndef KATA_CLI_ROOTFS_CHECK_H
#define KATA_CLI_ROOTFS_CHECK_H

#include "error.h"
#include "oci_spec.h"

/* proc and sysfs must be mounted on an ordinary directory, as runc requires: a destination
 * with a symlink on its path (a /proc that links to /etc) or that is not a directory is
 * refused; a missing one is fine (the agent creates it). */
int rootfs_check_mount_destinations(const char *rootfs, const struct oci_spec *spec,
                                    kata_error_t *err);

#endif
