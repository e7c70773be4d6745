/* One QMP message (a line of JSON from qemu's monitor), classified. Everything here comes
 * from a process the guest may have compromised: parsing is bounded and never trusts it. */
#ifndef KATA_QMP_MESSAGE_H
#define KATA_QMP_MESSAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "error.h"

#define QMP_MAX_LINE  (64 * 1024) /* longer lines are refused: we never ask for big replies */
#define QMP_MAX_DEPTH 32

enum qmp_message_type {
	QMP_MESSAGE_GREETING = 0, /* {"QMP": {"version": ..., "capabilities": [...]}} */
	QMP_MESSAGE_RETURN,       /* {"return": VALUE, "id": ID} */
	QMP_MESSAGE_ERROR,        /* {"error": {"class": C, "desc": D}, "id": ID} */
	QMP_MESSAGE_EVENT,        /* {"event": NAME, "data": {...}, "timestamp": {...}} */
};

struct qmp_message {
	enum qmp_message_type type;
	json_object *root;       /* owned */
	json_object *value;      /* borrowed from root: return value, event data or greeting */
	const char *event;       /* borrowed: event name */
	const char *error_class; /* borrowed */
	const char *error_desc;  /* borrowed; never NULL for an error */
	bool has_id;
	int64_t id; /* only integer ids are ours */
};

/* Parses one line (without its newline) with json_util's strict parser, bounded by
 * QMP_MAX_LINE and QMP_MAX_DEPTH. Returns 0, or -1 with *err (EPROTO, or E2BIG for a long
 * line) for anything that is not one well-formed QMP message. */
int qmp_message_parse(const char *line, size_t len, struct qmp_message *msg, kata_error_t *err);
void qmp_message_clear(struct qmp_message *msg);

#endif
