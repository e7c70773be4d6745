/* containerd's TaskOOM event, published by the shim when the proxy says its process was
 * OOM-killed in the guest and the shim runs under containerd (docs/shim.md): containerd's
 * CRI plugin then reports the container's reason as OOMKilled, as for runc. */
#ifndef KATA_SHIM_OOM_EVENT_H
#define KATA_SHIM_OOM_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "error.h"

/* Longest container id put in an event (containerd's ids are at most 76 bytes). */
#define SHIM_OOM_MAX_ID 1024
/* How long `containerd publish` may take. */
#define SHIM_OOM_PUBLISH_TIMEOUT_MS 5000

/* google.protobuf.Any{type_url "containerd.events.TaskOOM", value TaskOOM{container_id}},
 * the bytes `containerd publish` reads on stdin. Returns their length, or 0 when id is
 * empty, longer than SHIM_OOM_MAX_ID, or the bytes do not fit in cap. */
size_t shim_oom_event_encode(const char *id, uint8_t *buf, size_t cap);

/* containerd's gRPC address: GRPC_ADDRESS, or TTRPC_ADDRESS without its ".ttrpc" (what
 * containerd 1.6 gives its v2 shims, whose children we are). NULL: not under containerd. */
char *shim_oom_containerd_address(const char *grpc_env, const char *ttrpc_env);

/* The containerd namespace: NAMESPACE, or the NS of a working directory
 * .../io.containerd.runtime.v2.task/NS/ID (the bundle the runc v2 shim runs in). NULL when
 * neither gives a valid namespace name. */
char *shim_oom_containerd_namespace(const char *ns_env, const char *cwd);

/* Publishes /tasks/oom for container id through `containerd publish` (found in PATH), when
 * the environment says containerd started us; does nothing otherwise. Waits for it, at
 * most SHIM_OOM_PUBLISH_TIMEOUT_MS: the event must be in before the exit. */
int shim_oom_publish(const char *id, kata_error_t *err);

#endif
