/* What a container process does to itself between fork and execve (in the child, never
 * in the agent): the root filesystem of a new container, then the process's identity,
 * limits and confinement. Every function follows the error contract; the child reports
 * the message to the agent over its sync socket and exits. */
#ifndef KATA_AGENT_CHILD_H
#define KATA_AGENT_CHILD_H

#include "error.h"
#include "oci_spec.h"

#include <stdbool.h>

/* In the container's fresh mount namespace: mounts, /dev, pivot_root into rootfs,
 * masked and read-only paths, sysctls. console: the pty slave's path or NULL. */
int agent_child_setup_rootfs(const struct oci_spec *spec, const char *rootfs,
                             const char *container_id, const char *console, bool in_userns,
                             kata_error_t *err);

/* Limits, identity and capabilities of the process; loads the seccomp filter here when
 * noNewPrivileges is off (it needs CAP_SYS_ADMIN then), else *seccomp_later is set. */
int agent_child_setup_process(const struct oci_process *process, const struct oci_spec *spec,
                              bool *seccomp_later, kata_error_t *err);
int agent_child_load_seccomp(const struct oci_seccomp *seccomp, bool no_new_privs,
                             kata_error_t *err);

/* Finds args[0] in the PATH of env (or a default PATH) and execs; returns only on error. */
int agent_child_exec(const struct oci_process *process, kata_error_t *err);

/* Mount options of the OCI spec ("ro", "nosuid", "rbind", "mode=755"...) as flags,
 * propagation flags and the remaining data string. Pure, unit-tested. */
struct agent_mount_options {
	unsigned long flags;
	unsigned long clear; /* flags explicitly turned off ("rw", "suid"...) */
	unsigned long propagation;
	char *data; /* NULL when none */
};
void agent_parse_mount_options(char *const *options, struct agent_mount_options *out);

/* "CAP_NET_ADMIN" -> 12; -1 when unknown. Pure. */
int agent_capability_number(const char *name);

#endif
