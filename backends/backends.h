/* Internal to backends/: the built-in ops tables. */
#ifndef KATA_BACKENDS_H
#define KATA_BACKENDS_H

#include <stdbool.h>
#include <sys/types.h>

#include "hypervisor.h"

extern const struct hypervisor_ops hypervisor_qemu_ops;
extern const struct hypervisor_ops hypervisor_libvirt_ops;

/* backends/sandbox_setup.c: shared by the VM backends. */
/* DIR/NAME; a socket's path must fit a sockaddr_un (ENAMETOOLONG). */
char *backend_sandbox_path(const char *dir, const char *name, bool is_socket, kata_error_t *err);
/* The configured accelerator, with `auto` decided by hypervisor_probe_accelerator(). */
int backend_resolve_accelerator(const struct kata_config *config, enum kata_accelerator *accel,
                                kata_error_t *err);

#endif
