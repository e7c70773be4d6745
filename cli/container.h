/* What the runtime remembers of a container between two calls: its record in the state
 * store (lib/state.h), and the status derived from it and from the living processes. */
#ifndef KATA_CLI_CONTAINER_H
#define KATA_CLI_CONTAINER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "error.h"
#include "process.h"
#include "state.h"

/* The OCI runtime specification this runtime implements. */
#define OCI_SPEC_VERSION "1.0.2"

enum container_status {
	CONTAINER_CREATING = 0, /* create has not finished (or died half-way) */
	CONTAINER_CREATED,
	CONTAINER_RUNNING,
	CONTAINER_PAUSED,
	CONTAINER_STOPPED,
	CONTAINER_UNKNOWN, /* only `list` says it: the record is damaged (docs/cli.md) */
};

/* The VM a container runs in. A container without pod annotations has its own. */
struct sandbox_record {
	char *id;
	char *dir;               /* per-VM directory: sockets, console log, shared directory */
	char *shared_dir;        /* exported to the guest as kataShared */
	json_object *hypervisor; /* the backend's saved handle (hypervisor_save) */
	struct process_id proxy;
	char *proxy_socket;
	char **mounts;  /* host mount points made for the guest, in the order they were made */
	uint32_t vcpus; /* what the VM was given */
	uint32_t memory_mib;
	json_object *network; /* the taps and filters made for the VM (cli/network.h); NULL: none */
};

struct container_record {
	char *id;
	char *bundle;
	char *config_path; /* configuration.toml used at create, so later calls agree */
	enum container_status saved_status;
	char *created;          /* RFC 3339, UTC */
	struct process_id shim; /* the init process's shim: the pid the engine sees */
	char **annotations;     /* pairs, from config.json */
	char *owner;            /* "root" */
	/* Foreign agents (hyperstart, cc dialects) run a container's process as soon as they
	 * create it: create keeps NEWCONTAINER here, with its token, and start sends it. */
	char *deferred_token;
	json_object *deferred_newcontainer;
	struct sandbox_record sandbox;
};

/* Reads a container's record. With a handle, locks the container first (the caller
 * unlocks with state_unlock); without, reads the last record written. Fails as
 * state_read() does: ENOENT (no such container), ENODATA (no record yet: a create running
 * or killed before its first write), EBADMSG (damaged: unreadable, or not a record). */
int container_load(const char *root, const char *id, struct state_handle *handle,
                   struct container_record *record, kata_error_t *err);
/* The record of a container already locked, with the same errors. */
int container_read(const struct state_handle *handle, struct container_record *record,
                   kata_error_t *err);
/* A record of which only the id is known, "creating": what a container without a record
 * yet (ENODATA) is taken as. */
void container_record_bare(struct container_record *record, const char *id);
int container_save(const struct state_handle *handle, const struct container_record *record,
                   kata_error_t *err);

/* The OCI state of the container (`state`, hooks' stdin). */
json_object *container_oci_state(const struct container_record *record,
                                 enum container_status status);

const char *container_status_name(enum container_status status);
int container_status_parse(const char *name, enum container_status *status, kata_error_t *err);

json_object *container_record_to_json(const struct container_record *record);
int container_record_from_json(json_object *obj, struct container_record *record,
                               kata_error_t *err);
void container_record_clear(struct container_record *record);

/* The status now: a saved created/running/paused container whose shim is gone is
 * stopped. A create that died half-way stays "creating" until `delete --force`. */
enum container_status container_current_status(const struct container_record *record);

/* "2026-11-28T04:43:52.123456789Z" for now. */
char *container_timestamp_now(void);

#endif
