/* Where kata-hyperstart-wait is, for cli/dialect_hyperstart*.c (docs/dialects.md). */
#ifndef KATA_CLI_DIALECT_HYPERSTART_H
#define KATA_CLI_DIALECT_HYPERSTART_H

/* Its name, beside the shim on the host and in the share. */
#define HYPERSTART_WAIT_NAME "kata-hyperstart-wait"
/* Its directory in the share, relative to the share's root (hyperstart's fsmap source). */
#define HYPERSTART_WAIT_SHARE_DIR ".kata-hyperstart"
/* That directory in the container: in the /dev that hyperstart mounts (a devtmpfs of the
 * guest), so that the mount point is not made in the container's own root filesystem. */
#define HYPERSTART_WAIT_GUEST_DIR "/dev/.kata-hyperstart"

#endif
