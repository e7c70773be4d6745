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

/* Where kata-hyperstart-wait writes each process's exit status: SHARED/ID/.kata-status/PROCESS
 * on the host (kata-proxy reads it there), mapped to this directory of container ID. */
#define HYPERSTART_STATUS_SHARE_DIR ".kata-status"
#define HYPERSTART_STATUS_GUEST_DIR "/dev/.kata-status"

#endif
