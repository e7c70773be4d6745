/* Pods: one VM for every container of a Kubernetes pod (docs/pods.md).
 *
 * The engine says which container is the pod's sandbox (the pause container) and which
 * sandbox every other container belongs to with annotations, as Kata Containers 1.x read
 * them: containerd's CRI plugin and CRI-O each have their own pair. The sandbox container
 * boots the VM; a container of the pod is created in that VM (cli/pod_create.c) and
 * deleted from it (cli/pod_delete.c). A container without these annotations has its own
 * VM.
 *
 * Locks: whatever adds a container to a pod or removes one holds the sandbox container's
 * lock first, then the container's: two calls for one pod are serialised on the pod.
 */
#ifndef KATA_CLI_POD_H
#define KATA_CLI_POD_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "container.h"
#include "error.h"
#include "oci_spec.h"
#include "state.h"

#define POD_CRI_CONTAINER_TYPE  "io.kubernetes.cri.container-type"
#define POD_CRI_SANDBOX_ID      "io.kubernetes.cri.sandbox-id"
#define POD_CRIO_CONTAINER_TYPE "io.kubernetes.cri-o.ContainerType"
#define POD_CRIO_SANDBOX_ID     "io.kubernetes.cri-o.SandboxID"

/* Kata 1.x's annotations for the VM's size, read from a sandbox at boot (cli/pod_size.c). */
#define POD_ANNOTATION_VCPUS  "io.katacontainers.config.hypervisor.default_vcpus"
#define POD_ANNOTATION_MEMORY "io.katacontainers.config.hypervisor.default_memory"

enum pod_role {
	POD_NONE = 0, /* no annotation: a VM of its own */
	POD_SANDBOX,  /* boots the pod's VM */
	POD_CONTAINER /* runs in its sandbox's VM */
};

struct pod_ref {
	enum pod_role role;
	char *sandbox_id; /* POD_CONTAINER: its sandbox; POD_SANDBOX: its own id */
};

/* Reads the role of container id from its annotations (pairs, NULL-terminated). Both
 * kinds may be given when they agree; any disagreement, an unknown type, a container
 * without a sandbox id, or a sandbox naming another sandbox is EINVAL. */
int pod_ref_from_annotations(char *const *annotations, const char *id, struct pod_ref *ref,
                             kata_error_t *err);
void pod_ref_clear(struct pod_ref *ref);

/* From a record (whose annotations create checked): */
bool pod_record_is_sandbox(const struct container_record *record);
/* The sandbox a container of a pod runs in, or NULL for any other container. */
char *pod_record_sandbox_id(const struct container_record *record);

/* The sandbox of container id if its last record says it is a container of a pod, else
 * NULL; read without the lock (which a pod's delete takes in its own order). */
char *pod_sandbox_of(const char *root, const char *id);

/* The guest's spec of a container of a pod: its ipc, uts and pid namespaces that name a
 * path (the engine's pause container's, on the host) become the sandbox container's in the
 * guest (AGENT_POD_NS_PREFIX, lib/agent_proto.h); its other namespaces are its own. */
void pod_guest_namespaces(json_object *oci, const char *sandbox_id);

struct sandbox_resources;
struct kata_config;
/* Sets the VM's base vCPUs and memory (MiB) from the annotations above, in place of the
 * configured defaults, keeping what sandbox_size_for() added for the container's limits;
 * a value that is not a sane number is EINVAL. */
int pod_size_from_annotations(char *const *annotations, const struct kata_config *config,
                              struct sandbox_resources *resources, kata_error_t *err);

/* What a container's limits add to its pod's VM: ceil(quota / period) vCPUs and its memory
 * limit in MiB (rounded up); 0 for what it does not limit. */
void pod_growth_for(const struct oci_spec *spec, uint32_t *vcpus, uint32_t *memory_mib);
/* Grows the pod's VM that record joined (pod_container_join) by what its limits ask for, and
 * waits until the guest sees it; sets record's vcpus and memory_mib to the VM's new size. On
 * microvm, nothing (the pod is sized at boot); a backend that cannot hot-plug, or a VM
 * without room (maxcpus, slots, maxmem), is an error naming the container, and then nothing
 * was plugged. */
int pod_container_grow(const struct kata_config *config, struct container_record *record,
                       const struct oci_spec *spec, kata_error_t *err);

/* Locks the sandbox container sandbox_id and reads its record; fails, unlocked, unless it is
 * a pod's sandbox whose VM runs (created or running, its proxy alive). */
int pod_sandbox_lock(const char *root, const char *sandbox_id, struct state_handle *handle,
                     struct container_record *sandbox, kata_error_t *err);

/* Makes record a container of the pod whose sandbox is sandbox: it shares its VM (the
 * record's sandbox part names the VM, and its own mounts only) and gets its rootfs and bind
 * mounts under the VM's shared directory. Undone by pod_container_undo(). */
int pod_container_join(const struct container_record *sandbox, struct container_record *record,
                       struct oci_spec *spec, kata_error_t *err);
/* Takes a container of a pod out of its VM: REMOVECONTAINER when the VM still runs
 * (vm_alive), the shim ended, its mounts and directory under the shared directory gone.
 * The record stays (the caller destroys it). Returns the first failure, after trying all. */
int pod_container_undo(struct cli_context *ctx, struct container_record *record, bool vm_alive,
                       kata_error_t *err);

/* The ids of the containers of the pod whose sandbox is sandbox_id, as their records say
 * (not the sandbox itself); an empty list when there are none. */
char **pod_members(const char *root, const char *sandbox_id, kata_error_t *err);

/* Delete of a container of a pod (from container_delete, before anything is locked). */
int pod_container_delete(struct cli_context *ctx, const char *id, const char *sandbox_id,
                         bool force, kata_error_t *err);
/* The containers of the pod go before its sandbox: called by the delete of a sandbox,
 * which holds its lock. Without force, refuses (EBUSY) while one has a process. */
int pod_sandbox_remove_containers(struct cli_context *ctx, const char *sandbox_id, bool force,
                                  kata_error_t *err);

#endif
