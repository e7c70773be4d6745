/* The JSON payloads of the control channel's commands, parsed and validated into C
 * structures (docs/agent-protocol.md). Pure code: no system calls, unit-tested and
 * fuzzed. Everything here comes from the host and is checked: ids are short and
 * harmless as path components, paths stay inside the share, numbers are in range. */
#ifndef KATA_AGENT_REQUEST_H
#define KATA_AGENT_REQUEST_H

#include "agent_proto.h"
#include "error.h"
#include "guest_network.h"
#include "oci_spec.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define AGENT_MAX_ID_LEN AGENT_ID_MAX

/* What to run and where its stdio goes: hyperstart's "process" object, possibly
 * overridden by an OCI process object. */
struct agent_process_request {
	char *id;
	uint64_t stdio_seq;  /* stdin + stdout; 0: none */
	uint64_t stderr_seq; /* 0: none (or merged into the terminal) */
	struct oci_process *process;
};

struct agent_startpod_request {
	char *hostname;
	char **dns;                  /* name server addresses, NULL-terminated, may be NULL */
	char *share_tag;             /* mount tag of the shared directory, NULL: no share */
	char *share_fstype;          /* "9p" or "virtiofs" */
	struct agent_net_config net; /* "interfaces" and "routes" */
};

struct agent_newcontainer_request {
	char *id;
	char *rootfs; /* relative to the share, no ".." */
	struct oci_spec *spec;
	struct agent_process_request process;
};

struct agent_execcmd_request {
	char *container;
	struct agent_process_request process;
};

/* KILLCONTAINER, SIGNALPROCESS, WINSIZE and the commands naming only a container. */
struct agent_target_request {
	char *container;
	char *process; /* NULL for the container's init */
	int signal;
	bool all;
	uint16_t row;
	uint16_t column;
};

bool agent_valid_id(const char *id);
/* A relative path without "..", "." or empty components. */
bool agent_valid_relative_path(const char *path);
/* A signal number (1..64) or a name with or without "SIG" ("KILL", "SIGTERM"). */
int agent_parse_signal(json_object *value, const char *path, int *signo, kata_error_t *err);

int agent_parse_process(json_object *process, json_object *oci_process, const char *path,
                        struct agent_process_request *out, kata_error_t *err);
int agent_parse_startpod(json_object *req, struct agent_startpod_request *out, kata_error_t *err);
int agent_parse_newcontainer(json_object *req, struct agent_newcontainer_request *out,
                             kata_error_t *err);
int agent_parse_execcmd(json_object *req, struct agent_execcmd_request *out, kata_error_t *err);
/* want_process / want_signal / want_winsize select the keys that are required. */
int agent_parse_target(json_object *req, bool want_process, bool want_signal, bool want_winsize,
                       struct agent_target_request *out, kata_error_t *err);

void agent_process_request_clear(struct agent_process_request *r);
void agent_startpod_request_clear(struct agent_startpod_request *r);
void agent_newcontainer_request_clear(struct agent_newcontainer_request *r);
void agent_execcmd_request_clear(struct agent_execcmd_request *r);
void agent_target_request_clear(struct agent_target_request *r);

#endif
