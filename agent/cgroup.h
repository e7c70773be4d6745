/* The containers' cgroups, in the guest's cgroup v1 hierarchies: one directory
 * kata/<container id> per controller mounted (docs/agent-protocol.md lists them). */
#ifndef KATA_AGENT_CGROUP_H
#define KATA_AGENT_CGROUP_H

#include "error.h"
#include "oci_spec.h"

#include <json-c/json.h>
#include <stdint.h>
#include <sys/types.h>

/* The root of the hierarchies; tests point it elsewhere. */
extern const char *agent_cgroup_root;

/* Boot: a tmpfs on the root and one v1 hierarchy per controller the kernel has enabled. */
int agent_cgroup_mount_all(kata_error_t *err);
/* Names of the controllers mounted under the root (static, NULL-terminated). */
const char *const *agent_cgroup_controllers(void);

int agent_cgroup_create(const char *id, const struct oci_resources *resources, kata_error_t *err);
/* New limits for a running container (UPDATECONTAINER). */
int agent_cgroup_update(const char *id, const struct oci_resources *resources, kata_error_t *err);
int agent_cgroup_enter(const char *id, pid_t pid, kata_error_t *err);
/* The pids in the container's cgroup (read from the pids, memory or freezer controller). */
int agent_cgroup_procs(const char *id, pid_t **pids, size_t *n, kata_error_t *err);
/* Best effort: the directories go once their processes have. */
void agent_cgroup_remove(const char *id);
/* Hot-plugged CPUs: the root cpuset follows the online CPUs, a cgroup v1 child does not. Gives
 * the containers' parent the root's CPUs, so that containers created from now on can use
 * them (those already there keep their cpuset). */
int agent_cgroup_cpuset_follow_online(kata_error_t *err);
/* How many of the container's processes its memory cgroup's OOM killer has killed
 * (memory.oom_control's oom_kill, Linux 4.13); -1 when it cannot be read. */
int64_t agent_cgroup_oom_kills(const char *id);
/* {"memory": {"usage", "max_usage", "limit", "failcnt", "oom_kills"}, "cpu": {"usage", "user", "system"},
 *  "pids": {"current", "limit"}}; absent controllers are left out. */
json_object *agent_cgroup_stats(const char *id);
/* Writes a value to one control file of the container ("memory", "memory.limit_in_bytes"). */
int agent_cgroup_write(const char *id, const char *controller, const char *file, const char *value,
                       kata_error_t *err);

#endif
