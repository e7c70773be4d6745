/* OCI hooks, run on the host with the container's state on their stdin. */
#ifndef KATA_CLI_HOOKS_H
#define KATA_CLI_HOOKS_H

#include <json-c/json.h>

#include "error.h"
#include "oci_spec.h"

/* Runs every hook of one kind in order; the first failure stops and is returned.
 * A hook without a timeout gets a generous default so a stuck hook cannot hang forever. */
int hooks_run(const struct oci_hooks *hooks, enum oci_hook_kind kind, json_object *state,
              kata_error_t *err);

#define HOOK_DEFAULT_TIMEOUT_SECONDS 120

#endif
