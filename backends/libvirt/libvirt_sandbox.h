/* The libvirt backend's state of one sandbox: everything a later runtime process needs to
 * find the domain again (name, uuid, uri) and to clean up after it, saved as JSON. */
#ifndef KATA_LIBVIRT_SANDBOX_H
#define KATA_LIBVIRT_SANDBOX_H

#include <stdbool.h>
#include <json-c/json.h>

#include "error.h"
#include "hypervisor.h"
#include "nic_hotplug.h"

enum libvirt_phase {
	LIBVIRT_PHASE_CREATED = 0, /* prepared, never started */
	LIBVIRT_PHASE_STARTED,     /* start() succeeded: the domain should be running */
	LIBVIRT_PHASE_STOPPED,     /* stop() or cleanup() ended it */
};

struct libvirt_sandbox {
	char *id;
	char *name; /* the domain's */
	char *uuid; /* 36 characters */
	char *uri;  /* the connection it was created on */
	char *dir;
	char *shared_dir; /* NULL: none */
	bool created_dir; /* cleanup() removes dir only then */
	bool debug;
	enum libvirt_phase phase;
	char *channel_paths[2];
	char *console_path;
	char *console_log_path; /* NULL unless debug */
	char *xml;              /* the domain, fixed at create time */
	/* NICs given at create, hot-plugged by start() (libvirt_nic.c): copies of the taps'
	 * fds, closed once plugged; never saved. */
	struct hypervisor_nic pending_nics[NIC_HOTPLUG_MAX];
	size_t n_pending_nics;
};

void libvirt_sandbox_free(struct libvirt_sandbox *sb);
json_object *libvirt_sandbox_to_json(const struct libvirt_sandbox *sb);
/* Checks what it reads: types, absolute paths, a well-formed uuid, a known phase. */
struct libvirt_sandbox *libvirt_sandbox_from_json(json_object *obj, kata_error_t *err);
/* Whether s is a uuid in libvirt's string form (8-4-4-4-12 hex digits). */
bool libvirt_uuid_is_valid(const char *s);

#endif
