/* The agent messages whose shape depends on the guest's agent ([agent] dialect,
 * docs/dialects.md). The kata agent takes this project's shapes (cli/create.c, cli/exec.c
 * build them); runV's hyperstart parses strictly and refuses any key it does not know, so
 * its messages are built here and in cli/dialect_hyperstart.c. */
#ifndef KATA_CLI_DIALECT_H
#define KATA_CLI_DIALECT_H

#include <json-c/json.h>
#include <stdbool.h>

#include "config.h"
#include "error.h"
#include "oci_spec.h"

/* Completes STARTPOD: startpod holds the keys every dialect takes (hostname, shareDir, and
 * the network's interfaces and routes); this adds the dialect's own, or fails when the
 * configuration asks for what the dialect's agent cannot do. */
int dialect_startpod(const struct kata_config *config, json_object *startpod, kata_error_t *err);

/* Rewrites STARTPOD's "interfaces" and "routes" (cli/network.c's shape) into the keys
 * runV's hyperstart takes, or fails naming what it cannot configure (IPv6, an interface
 * without an IPv4 address): cli/dialect_hyperstart_net.c. */
int hyperstart_startpod_network(json_object *startpod, kata_error_t *err);

/* Fails, naming the operation and the dialect, when the guest's agent has no message for
 * it (e.g. `ps` with hyperstart). */
int dialect_require(const struct kata_config *config, const char *operation, kata_error_t *err);

/* KILLCONTAINER's request. */
json_object *dialect_kill_request(const struct kata_config *config, const char *id, int signo,
                                  bool all);

/* hyperstart reports a death by signal as exit status 0: the runtime starts each process
 * through kata-hyperstart-wait (guest/hyperstart-wait.c), found beside the shim, copied
 * into the share and mapped into the container, with container id's directory for the exit
 * statuses it writes (kata-proxy reads them: hyperstart does not report them here). Returns 1 when it is in the share, 0 when
 * it was not installed (statuses are then hyperstart's own, with a warning), -1 on error. */
int hyperstart_share_wait(const struct kata_config *config, const char *shared_dir, const char *id,
                          kata_error_t *err);
/* Whether the share of shared_dir holds it (so its containers have it). */
bool hyperstart_wait_shared(const char *shared_dir);

/* hyperstart's NEWCONTAINER for container id, whose rootfs and bind mounts are in the
 * shared directory (cli/share.h; spec's bind mount sources already rewritten); with_wait:
 * the process runs through kata-hyperstart-wait. */
json_object *hyperstart_newcontainer(const char *id, const struct oci_spec *spec, bool with_wait,
                                     kata_error_t *err);

/* hyperstart's EXECCMD: process p in container, named exec_id. */
json_object *hyperstart_execcmd(const char *container, const char *exec_id,
                                const struct oci_process *p, bool with_wait, kata_error_t *err);

#endif
