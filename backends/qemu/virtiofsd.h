/* virtiofsd, the vhost-user daemon that serves the shared directory over virtio-fs. It runs
 * detached next to qemu, serves exactly one qemu and exits when qemu disconnects. */
#ifndef KATA_QEMU_VIRTIOFSD_H
#define KATA_QEMU_VIRTIOFSD_H

#include "config.h"
#include "error.h"
#include "process.h"

char **virtiofsd_build_cmdline(const struct kata_hypervisor_config *hc, const char *shared_dir,
                               const char *socket_path);
/* Starts it and waits until its socket listens. Never connects to it: virtiofsd takes a
 * single connection and exits when it closes. */
int virtiofsd_start(char *const argv[], const char *socket_path, const char *log_path,
                    struct process_id *proc, int timeout_ms, kata_error_t *err);
/* Whether a unix socket with that path is listening (from /proc/net/unix). */
bool unix_socket_is_listening(const char *path);

#endif
