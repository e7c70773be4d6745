/* Talking to a sandbox's agent through its kata-proxy. */
#ifndef KATA_CLI_AGENT_CALL_H
#define KATA_CLI_AGENT_CALL_H

#include <json-c/json.h>
#include <stddef.h>

#include "container.h"
#include "error.h"
#include "proxy_client.h"

/* Deadline of one exchange with the proxy (the agent answers within it, or the proxy
 * gives up on it first). */
#define AGENT_CALL_TIMEOUT_MS 30000
/* Deadline for teardown requests to an agent that may already be gone. */
#define AGENT_CALL_SHORT_TIMEOUT_MS 3000

struct proxy_conn *agent_connect(const struct sandbox_record *sb, int timeout_ms,
                                 kata_error_t *err);

/* One agent command on a fresh connection; *result (may be NULL) gets the answer. */
int agent_call(const struct sandbox_record *sb, const char *name, json_object *data, int timeout_ms,
               json_object **result, kata_error_t *err);

/* {"container": id} plus, when given, "process". */
json_object *agent_target(const char *container, const char *process);

#endif
