/* The runtime's side of the proxy protocol (docs/proxy-protocol.md): a blocking client
 * with a deadline on every exchange. Stream and notification frames, which only shims
 * receive, are skipped.
 *
 *	struct proxy_client *c = proxy_client_connect("/run/.../proxy.sock", 5000, &err);
 *	proxy_register_vm(c, id, ctl, io, NULL, 1, &io_tokens, &err);
 *	result = proxy_hyper(c, "startpod", NULL, 0, data, &err);
 *	proxy_unregister_vm(c, id, &err);
 *	proxy_client_close(c);
 */
#ifndef KATA_PROXY_CLIENT_H
#define KATA_PROXY_CLIENT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct proxy_conn;

/* The tokens a RegisterVM or AttachVM handed out, and where shims connect. */
struct proxy_io_tokens {
	char *url; /* "unix:///path/to/proxy.sock" */
	char **tokens;
	size_t count;
};

void proxy_io_tokens_clear(struct proxy_io_tokens *io);

/* Connects to the proxy's socket, retrying while it does not exist yet, for at most
 * timeout_ms. Later exchanges each have timeout_ms too (proxy_conn_set_timeout). */
struct proxy_conn *proxy_conn_connect(const char *socket_path, int timeout_ms, kata_error_t *err);
void proxy_conn_close(struct proxy_conn *conn);
void proxy_conn_set_timeout(struct proxy_conn *conn, int timeout_ms);
int proxy_conn_get_fd(const struct proxy_conn *conn);

/* Sends one command and waits for its response. Returns the response's JSON (an empty
 * object when it had no payload); an error response fails with its "msg". */
json_object *proxy_conn_command(struct proxy_conn *conn, uint8_t opcode, json_object *payload,
                                kata_error_t *err);

/* num_tokens: how many process I/O tokens to ask for (0 is fine; then io is untouched). */
int proxy_register_vm(struct proxy_conn *conn, const char *container_id, const char *ctl_serial,
                      const char *io_serial, const char *console, int num_tokens,
                      struct proxy_io_tokens *io, kata_error_t *err);
int proxy_attach_vm(struct proxy_conn *conn, const char *container_id, int num_tokens,
                    struct proxy_io_tokens *io, kata_error_t *err);
int proxy_unregister_vm(struct proxy_conn *conn, const char *container_id, kata_error_t *err);
/* Forwards an agent command ("startpod", "newcontainer", "execcmd", ...); data may be
 * NULL. Returns the agent's answer: a JSON value, or NULL with *err unset when the agent
 * answered without a payload. */
json_object *proxy_hyper(struct proxy_conn *conn, const char *name, const char *const *tokens,
                         size_t n_tokens, json_object *data, kata_error_t *err);

#endif
