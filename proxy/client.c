/* Connections to the proxy socket: kata-runtime (RegisterVM, AttachVM, Hyper,
 * UnregisterVM) and shims (ConnectShim, stdin, Signal, DisconnectShim). Every frame is
 * untrusted: a frame that cannot be decoded ends the connection after an error response;
 * a frame of another protocol version is dropped, as cc-shim expects. */
#include "proxy.h"
#include "agent_proto.h"
#include "cleanup.h"
#include "json_util.h"
#include "log.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READ_CHUNK         (64u * 1024)
#define CLIENT_WRITE_LIMIT (16u << 20)
#define CLIENT_LOW_WATER   (64u * 1024)
#define MAX_SIGNAL         64

static struct proxy_client *find_client(struct proxy *proxy, unsigned id)
{
	for (struct proxy_client *c = proxy->clients; c != NULL; c = c->next)
		if (c->id == id)
			return c;
	return NULL;
}

int proxy_client_send(struct proxy_client *client, uint8_t type, uint8_t opcode, uint8_t flags,
                      const void *payload, size_t len)
{
	cleanup_error kata_error_t err = NULL;

	if (client == NULL || client->efd == NULL)
		return -1;
	if (proxy_frame_send(client->efd, type, opcode, flags, payload, len, &err) < 0) {
		log_debug("client %u: frame not sent: %s", client->id, err->message);
		return -1;
	}
	return 0;
}

void proxy_client_send_response(struct proxy_client *client, uint8_t opcode, json_object *result)
{
	const char *text = NULL;
	size_t len = 0;

	if (result != NULL)
		text = json_object_to_json_string_length(result, JSON_C_TO_STRING_PLAIN, &len);
	proxy_client_send(client, PROXY_TYPE_RESPONSE, opcode, 0, text, len);
}

void proxy_client_send_error(struct proxy_client *client, uint8_t opcode, const char *fmt, ...)
{
	cleanup_free char *message = NULL;
	json_object *obj = json_object_new_object();
	const char *text;
	size_t len;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		abort();
	va_end(ap);
	log_info("client %u: %s: %s", client->id, proxy_command_name(opcode), message);
	json_object_object_add(obj, "msg", json_object_new_string(message));
	text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	proxy_client_send(client, PROXY_TYPE_RESPONSE, opcode, PROXY_FLAG_ERROR, text, len);
	json_object_put(obj);
}

/* --- RegisterVM, AttachVM, UnregisterVM ---------------------------------------------------- */

static json_object *io_response(struct proxy *proxy, int num_tokens, kata_error_t *err)
{
	json_object *result = json_object_new_object();
	json_object *io, *tokens;
	cleanup_free char *url = NULL;

	json_object_object_add(result, "version", json_object_new_int(PROXY_PROTO_VERSION));
	if (num_tokens == 0)
		return result;
	tokens = json_object_new_array();
	for (int i = 0; i < num_tokens; i++) {
		struct proxy_token *t = proxy_token_new(proxy, err);
		if (t == NULL) {
			json_object_put(tokens);
			json_object_put(result);
			return NULL;
		}
		json_object_array_add(tokens, json_object_new_string(t->token));
	}
	io = json_object_new_object();
	url = xasprintf("unix://%s", proxy->opts->listen_socket);
	json_object_object_add(io, "url", json_object_new_string(url));
	json_object_object_add(io, "tokens", tokens);
	json_object_object_add(result, "io", io);
	return result;
}

static int get_num_streams(json_object *req, int *num, kata_error_t *err)
{
	int32_t n = 0;

	if (json_get_int32(req, "numIOStreams", "", false, &n, err) < 0)
		return -1;
	if (n < 0 || n > PROXY_MAX_TOKENS_PER_CALL)
		return kata_error_set(err, EINVAL, "numIOStreams: %d is not within 0-%d", n,
		                      PROXY_MAX_TOKENS_PER_CALL);
	*num = n;
	return 0;
}

static void cmd_register_vm(struct proxy_client *client, json_object *req)
{
	struct proxy *proxy = client->proxy;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *id = NULL, *ctl = NULL, *io = NULL, *console = NULL;
	json_object *result;
	int num = 0;

	if (proxy->registered) {
		proxy_client_send_error(client, PROXY_CMD_REGISTER_VM,
		                        "a VM is already registered with this proxy (%s)",
		                        proxy->container_id);
		return;
	}
	if (json_get_string(req, "containerId", "", true, &id, &err) < 0 ||
	    json_get_string(req, "ctlSerial", "", false, &ctl, &err) < 0 ||
	    json_get_string(req, "ioSerial", "", false, &io, &err) < 0 ||
	    json_get_string(req, "console", "", false, &console, &err) < 0 ||
	    get_num_streams(req, &num, &err) < 0) {
		proxy_client_send_error(client, PROXY_CMD_REGISTER_VM, "%s", err->message);
		return;
	}
	if (id[0] == '\0') {
		proxy_client_send_error(client, PROXY_CMD_REGISTER_VM, "containerId is empty");
		return;
	}
	if (!proxy->agent_connected) {
		if (ctl == NULL || io == NULL) {
			proxy_client_send_error(
			        client, PROXY_CMD_REGISTER_VM,
			        "ctlSerial and ioSerial are required: the proxy was "
			        "started without -ctl-socket and -io-socket");
			return;
		}
		if (proxy_connect_agent(proxy, ctl, io, &err) < 0) {
			proxy_client_send_error(client, PROXY_CMD_REGISTER_VM, "%s", err->message);
			return;
		}
	} else if (ctl != NULL || io != NULL) {
		log_debug("RegisterVM: channels already known from the command line");
	}
	result = io_response(proxy, num, &err);
	if (result == NULL) {
		proxy_client_send_error(client, PROXY_CMD_REGISTER_VM, "%s", err->message);
		return;
	}
	proxy->registered = true;
	proxy->container_id = steal_pointer(&id);
	kata_log_set_field("sandbox", proxy->container_id);
	log_info("VM %s registered", proxy->container_id);
	proxy_client_send_response(client, PROXY_CMD_REGISTER_VM, result);
	json_object_put(result);
}

static int check_vm(struct proxy_client *client, uint8_t opcode, json_object *req)
{
	struct proxy *proxy = client->proxy;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *id = NULL;

	if (!proxy->registered) {
		proxy_client_send_error(client, opcode, "no VM is registered with this proxy");
		return -1;
	}
	if (json_get_string(req, "containerId", "", false, &id, &err) < 0) {
		proxy_client_send_error(client, opcode, "%s", err->message);
		return -1;
	}
	if (id != NULL && strcmp(id, proxy->container_id) != 0) {
		proxy_client_send_error(client, opcode, "unknown VM `%s` (this proxy serves `%s`)",
		                        id, proxy->container_id);
		return -1;
	}
	return 0;
}

static void cmd_attach_vm(struct proxy_client *client, json_object *req)
{
	cleanup_error kata_error_t err = NULL;
	json_object *result;
	int num = 0;

	if (check_vm(client, PROXY_CMD_ATTACH_VM, req) < 0)
		return;
	if (get_num_streams(req, &num, &err) < 0 ||
	    (result = io_response(client->proxy, num, &err)) == NULL) {
		proxy_client_send_error(client, PROXY_CMD_ATTACH_VM, "%s", err->message);
		return;
	}
	proxy_client_send_response(client, PROXY_CMD_ATTACH_VM, result);
	json_object_put(result);
}

static void cmd_unregister_vm(struct proxy_client *client, json_object *req)
{
	if (check_vm(client, PROXY_CMD_UNREGISTER_VM, req) < 0)
		return;
	log_info("VM %s unregistered", client->proxy->container_id);
	proxy_client_send_response(client, PROXY_CMD_UNREGISTER_VM, NULL);
	proxy_shutdown(client->proxy, 0);
}

/* --- Hyper ------------------------------------------------------------------------------------ */

struct hyper_call {
	unsigned client_id;
	uint8_t opcode; /* PROXY_CMD_HYPER, or PROXY_CMD_SIGNAL for a shim's signal */
	char token[PROXY_TOKEN_LENGTH + 1];
	struct proxy_binding bind;
};

static void hyper_done(struct proxy *proxy, struct proxy_request *req, const unsigned char *ack,
                       size_t ack_len, kata_error_t error, void *data)
{
	struct hyper_call *call = data;
	struct proxy_client *client = find_client(proxy, call->client_id);
	cleanup_error kata_error_t err = NULL;
	json_object *result;

	if (error != NULL) {
		if (client != NULL)
			proxy_client_send_error(client, call->opcode, "%s", error->message);
		goto out;
	}
	if (call->token[0] != '\0') {
		struct proxy_token *t = proxy_token_find(proxy, call->token);
		if (t != NULL && !t->bound) {
			t->bound = true;
			t->terminal = call->bind.terminal;
			t->container = steal_pointer(&call->bind.container);
			t->process = steal_pointer(&call->bind.process);
			log_debug("token bound to %s/%s (streams %llu, %llu)", t->container,
			          t->process, (unsigned long long)t->stdio_seq,
			          (unsigned long long)t->stderr_seq);
			proxy_io_token_bound(proxy, t);
		}
	}
	if (client == NULL)
		goto out;
	result = proxy_hyper_ack_result(ack, ack_len, &err);
	if (result == NULL && err != NULL)
		proxy_client_send_error(client, call->opcode, "%s", err->message);
	else
		proxy_client_send_response(client, call->opcode, result);
	json_object_put(result);
out:
	proxy_binding_clear(&call->bind);
	free(call);
}

static void submit_call(struct proxy_client *client, struct hyper_call *call, uint32_t code,
                        json_object *data)
{
	const char *text = NULL;
	size_t len = 0;

	if (data != NULL)
		text = json_object_to_json_string_length(data, JSON_C_TO_STRING_PLAIN, &len);
	proxy_request_submit(client->proxy, code, text, len, hyper_done, call);
}

static void cmd_hyper(struct proxy_client *client, json_object *req)
{
	struct proxy *proxy = client->proxy;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *name = NULL;
	json_object *tokens = NULL, *data = NULL;
	struct hyper_call *call;
	int code;

	if (!proxy->agent_connected) {
		proxy_client_send_error(client, PROXY_CMD_HYPER, "no VM is registered");
		return;
	}
	if (json_get_string(req, "hyperName", "", true, &name, &err) < 0) {
		proxy_client_send_error(client, PROXY_CMD_HYPER, "%s", err->message);
		return;
	}
	code = proxy_hyper_code(proxy->opts->dialect, name);
	if (code < 0) {
		proxy_client_send_error(client, PROXY_CMD_HYPER, "unknown agent command `%s`",
		                        name);
		return;
	}
	json_object_object_get_ex(req, "data", &data);
	if (json_object_object_get_ex(req, "tokens", &tokens) && tokens != NULL &&
	    !json_object_is_type(tokens, json_type_array)) {
		proxy_client_send_error(client, PROXY_CMD_HYPER, "tokens: expected an array");
		return;
	}
	call = xzalloc(sizeof(*call));
	call->client_id = client->id;
	call->opcode = PROXY_CMD_HYPER;
	if ((code == AGENT_NEWCONTAINER || code == AGENT_EXECCMD) && tokens != NULL &&
	    json_object_array_length(tokens) > 0) {
		json_object *t0 = json_object_array_get_idx(tokens, 0);
		struct proxy_token *t = NULL;

		if (json_object_array_length(tokens) > 1)
			kata_error_set(&err, EINVAL, "%s takes one token, not %zu", name,
			               json_object_array_length(tokens));
		else if (!json_object_is_type(t0, json_type_string) ||
		         (t = proxy_token_find(proxy, json_object_get_string(t0))) == NULL)
			kata_error_set(&err, ENOENT, "tokens[0]: unknown token");
		else if (t->bound)
			kata_error_set(&err, EBUSY, "tokens[0]: token already used by %s/%s",
			               t->container, t->process);
		else
			proxy_hyper_rewrite_process((uint32_t)code, data, t, &call->bind, &err);
		if (err != NULL) {
			proxy_client_send_error(client, PROXY_CMD_HYPER, "%s", err->message);
			proxy_binding_clear(&call->bind);
			free(call);
			return;
		}
		strcpy(call->token, t->token);
	}
	log_debug("client %u: Hyper %s (code %d)", client->id, name, code);
	proxy_hyperstart_note_kill(proxy, (uint32_t)code, data);
	submit_call(client, call, (uint32_t)code, data);
}

/* --- shims ------------------------------------------------------------------------------------ */

static void cmd_connect_shim(struct proxy_client *client, json_object *req)
{
	struct proxy *proxy = client->proxy;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *name = NULL;
	struct proxy_token *t;

	if (json_get_string(req, "token", "", true, &name, &err) < 0) {
		proxy_client_send_error(client, PROXY_CMD_CONNECT_SHIM, "%s", err->message);
		return;
	}
	if (client->token != NULL) {
		proxy_client_send_error(client, PROXY_CMD_CONNECT_SHIM,
		                        "this connection already has a token");
		return;
	}
	t = proxy_token_is_valid(name) ? proxy_token_find(proxy, name) : NULL;
	if (t == NULL) {
		proxy_client_send_error(client, PROXY_CMD_CONNECT_SHIM, "unknown token");
		return;
	}
	if (t->shim != NULL) {
		proxy_client_send_error(client, PROXY_CMD_CONNECT_SHIM,
		                        "another shim is connected with this token");
		return;
	}
	client->token = t;
	t->shim = client;
	log_debug("client %u: shim connected (streams %llu, %llu)", client->id,
	          (unsigned long long)t->stdio_seq, (unsigned long long)t->stderr_seq);
	proxy_client_send_response(client, PROXY_CMD_CONNECT_SHIM, NULL);
	proxy_io_shim_attached(proxy, t);
}

/* The shim leaves its token; the token goes once its process's exit was handed over. */
static void detach_shim(struct proxy_client *client)
{
	struct proxy_token *t = client->token;

	if (t == NULL)
		return;
	t->shim = NULL;
	client->token = NULL;
	if (t->exit_queued && t->backlog_len == 0)
		proxy_token_free(client->proxy, t);
}

static void cmd_disconnect_shim(struct proxy_client *client, json_object *req)
{
	if (client->token == NULL) {
		proxy_client_send_error(client, PROXY_CMD_DISCONNECT_SHIM, "not a shim connection");
		return;
	}
	client->disconnected_cleanly = true;
	detach_shim(client);
	proxy_client_send_response(client, PROXY_CMD_DISCONNECT_SHIM, NULL);
}

static void cmd_signal(struct proxy_client *client, json_object *req)
{
	struct proxy *proxy = client->proxy;
	struct proxy_token *t = client->token;
	cleanup_error kata_error_t err = NULL;
	int32_t signo = 0;
	uint16_t rows = 0, columns = 0;
	int has_rows = 0, has_columns = 0;
	struct hyper_call *call;
	json_object *data;
	int code;

	if (t == NULL) {
		proxy_client_send_error(client, PROXY_CMD_SIGNAL, "not a shim connection");
		return;
	}
	if (json_get_int32(req, "signalNumber", "", true, &signo, &err) < 0 ||
	    (has_rows = json_get_uint16(req, "rows", "", false, &rows, &err)) < 0 ||
	    (has_columns = json_get_uint16(req, "columns", "", false, &columns, &err)) < 0) {
		proxy_client_send_error(client, PROXY_CMD_SIGNAL, "%s", err->message);
		return;
	}
	if (signo <= 0 || signo > MAX_SIGNAL) {
		proxy_client_send_error(client, PROXY_CMD_SIGNAL, "signalNumber %d out of range",
		                        signo);
		return;
	}
	if (!t->bound || t->exited) {
		proxy_client_send_error(client, PROXY_CMD_SIGNAL, "the process %s",
		                        t->exited ? "has exited" : "does not exist yet");
		return;
	}
	data = json_object_new_object();
	json_object_object_add(data, "container", json_object_new_string(t->container));
	json_object_object_add(data, "process", json_object_new_string(t->process));
	if (signo == 28 && has_rows == 1 && has_columns == 1) {
		code = AGENT_WINSIZE;
		json_object_object_add(data, "row", json_object_new_int(rows));
		json_object_object_add(data, "column", json_object_new_int(columns));
	} else {
		code = proxy_hyper_code(proxy->opts->dialect, "signalprocess");
		json_object_object_add(data, "signal", json_object_new_int(signo));
		if (signo == SIGKILL)
			t->sigkill_sent = true;
	}
	if (code < 0) {
		proxy_client_send_error(client, PROXY_CMD_SIGNAL, "the %s dialect cannot signal",
		                        proxy_dialect_name(proxy->opts->dialect));
		json_object_put(data);
		return;
	}
	call = xzalloc(sizeof(*call));
	call->client_id = client->id;
	call->opcode = PROXY_CMD_SIGNAL;
	submit_call(client, call, (uint32_t)code, data);
	json_object_put(data);
}

/* --- frames ------------------------------------------------------------------------------------ */

static void handle_command(struct proxy_client *client, const struct proxy_frame *frame)
{
	cleanup_error kata_error_t err = NULL;
	json_object *req = NULL;

	if (frame->payload_length > 0) {
		req = json_parse_text((const char *)frame->payload, frame->payload_length, &err);
		if (req == NULL) {
			proxy_client_send_error(client, frame->opcode, "payload: %s", err->message);
			return;
		}
	} else {
		req = json_object_new_object();
	}
	if (!json_object_is_type(req, json_type_object)) {
		proxy_client_send_error(client, frame->opcode, "payload: expected a JSON object");
		json_object_put(req);
		return;
	}
	switch (frame->opcode) {
	case PROXY_CMD_REGISTER_VM:
		cmd_register_vm(client, req);
		break;
	case PROXY_CMD_UNREGISTER_VM:
		cmd_unregister_vm(client, req);
		break;
	case PROXY_CMD_ATTACH_VM:
		cmd_attach_vm(client, req);
		break;
	case PROXY_CMD_HYPER:
		cmd_hyper(client, req);
		break;
	case PROXY_CMD_CONNECT_SHIM:
		cmd_connect_shim(client, req);
		break;
	case PROXY_CMD_DISCONNECT_SHIM:
		cmd_disconnect_shim(client, req);
		break;
	case PROXY_CMD_SIGNAL:
		cmd_signal(client, req);
		break;
	default:
		proxy_client_send_error(client, frame->opcode, "unknown command %u", frame->opcode);
	}
	json_object_put(req);
}

static void handle_frame(struct proxy_client *client, const struct proxy_frame *frame)
{
	if (frame->version != PROXY_PROTO_VERSION) {
		log_debug("client %u: frame of version %u dropped", client->id, frame->version);
		return;
	}
	switch (frame->type) {
	case PROXY_TYPE_COMMAND:
		handle_command(client, frame);
		return;
	case PROXY_TYPE_STREAM:
		if (client->token != NULL && frame->opcode == PROXY_STREAM_STDIN) {
			proxy_io_stdin(client->proxy, client->token, frame->payload,
			               frame->payload_length);
			return;
		}
		log_debug("client %u: stream %u frame without a token, dropped", client->id,
		          frame->opcode);
		return;
	default:
		log_debug("client %u: %s frame dropped", client->id,
		          proxy_frame_type_name(frame->type));
	}
}

/* Handles the frames already buffered, unless reading was paused meanwhile. */
static void client_process_buffer(struct proxy_client *client)
{
	struct proxy_frame frame;

	while (client->efd != NULL && event_fd_is_reading(client->efd) &&
	       !client->proxy->shutting_down) {
		cleanup_error kata_error_t err = NULL;
		int r = proxy_frame_buffer_next(&client->in, &frame, &err);

		if (r == 0)
			return;
		if (r < 0) {
			proxy_client_send_error(client, frame.opcode, "bad frame: %s",
			                        err->message);
			event_fd_close_when_flushed(client->efd);
			client->efd = NULL;
			return;
		}
		handle_frame(client, &frame);
	}
}

static void client_readable(struct event_fd *efd, void *data)
{
	struct proxy_client *client = data;
	size_t room;
	unsigned char *p = proxy_frame_buffer_space(&client->in, READ_CHUNK, &room);
	ssize_t n = event_fd_read(efd, p, room);

	if (n <= 0)
		return;
	proxy_frame_buffer_commit(&client->in, n);
	client_process_buffer(client);
}

void proxy_client_resume(struct proxy_client *client)
{
	if (!client->stdin_paused)
		return;
	client->stdin_paused = false;
	if (client->efd == NULL)
		return;
	event_fd_set_reading(client->efd, true);
	client_process_buffer(client);
}

static void client_hangup(struct event_fd *efd, void *data)
{
	struct proxy_client *client = data;
	struct proxy_token *t = client->token;

	if (t != NULL && !client->disconnected_cleanly && t->bound && !t->exited && !t->killed) {
		/* DESIGN: killing the shim kills its process */
		log_info("shim of %s/%s vanished: killing the process", t->container, t->process);
		t->killed = true;
		t->sigkill_sent = true;
		proxy_request_signal_process(client->proxy, t->container, t->process, 9);
	}
	proxy_client_free(client);
}

static void client_drained(struct event_fd *efd, void *data)
{
	struct proxy_client *client = data;

	if (client->token != NULL)
		proxy_io_shim_drained(client->proxy, client->token);
}

static const struct event_fd_ops client_ops = {
	.readable = client_readable,
	.hangup = client_hangup,
	.drained = client_drained,
};

int proxy_client_accept(struct proxy *proxy, int fd, kata_error_t *err)
{
	struct proxy_client *client = xzalloc(sizeof(*client));

	client->proxy = proxy;
	client->id = ++proxy->next_client_id;
	proxy_frame_buffer_init(&client->in, PROXY_MAX_PAYLOAD);
	client->efd = event_fd_add(proxy->loop, fd, &client_ops, client, 0, err);
	if (client->efd == NULL) {
		proxy_frame_buffer_free(&client->in);
		free(client);
		return -1;
	}
	event_fd_set_write_limit(client->efd, CLIENT_WRITE_LIMIT);
	event_fd_set_low_water(client->efd, CLIENT_LOW_WATER);
	client->next = proxy->clients;
	proxy->clients = client;
	proxy->client_count++;
	log_debug("client %u connected", client->id);
	return 0;
}

void proxy_client_free(struct proxy_client *client)
{
	struct proxy_client **p;

	if (client == NULL)
		return;
	for (p = &client->proxy->clients; *p != NULL && *p != client; p = &(*p)->next)
		;
	if (*p == client) {
		*p = client->next;
		client->proxy->client_count--;
	}
	detach_shim(client);
	event_fd_close(client->efd);
	proxy_frame_buffer_free(&client->in);
	log_debug("client %u gone", client->id);
	free(client);
}
