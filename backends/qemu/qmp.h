/* A QMP client: qemu's JSON monitor over a unix socket (docs/hypervisor.md).
 *
 * Every exchange has a deadline; events that arrive between replies are kept (a bounded
 * number of the latest) for qmp_wait_event(); an error reply comes back as a kata_error with
 * QMP's own "desc". A connection that saw garbage, an oversized line or a timeout is marked
 * broken: the stream can no longer be trusted to be in step, so every later call fails.
 */
#ifndef KATA_QMP_H
#define KATA_QMP_H

#include <stdbool.h>
#include <json-c/json.h>

#include "error.h"

#define QMP_DEFAULT_TIMEOUT_MS 5000
#define QMP_MAX_EVENTS         32

struct qmp;

/* Connects, reads the greeting and negotiates capabilities, all within timeout_ms. */
struct qmp *qmp_connect(const char *socket_path, int timeout_ms, kata_error_t *err);
/* Runs a command. args may be NULL (borrowed). On success *result (may be NULL) receives the
 * "return" value, owned by the caller. */
int qmp_execute(struct qmp *qmp, const char *command, json_object *args, json_object **result,
                int timeout_ms, kata_error_t *err);
/* Hands fd to qemu (SCM_RIGHTS with one byte of whitespace): the next command that takes a
 * file descriptor (getfd, add-fd) receives it. */
int qmp_send_fd(struct qmp *qmp, int fd, kata_error_t *err);
/* Waits for an event by name (one that already arrived counts, and is consumed). */
int qmp_wait_event(struct qmp *qmp, const char *event, int timeout_ms, kata_error_t *err);
/* Whether the event arrived already (consumes it). */
bool qmp_take_event(struct qmp *qmp, const char *event);
/* The "status" of query-status: "running", "paused", "shutdown", ... (allocated). */
char *qmp_query_status(struct qmp *qmp, int timeout_ms, kata_error_t *err);
void qmp_close(struct qmp *qmp);
void qmp_closep(struct qmp **qmp);
#define cleanup_qmp __attribute__((cleanup(qmp_closep)))

#endif
