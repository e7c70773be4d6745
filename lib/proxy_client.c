/* The runtime's proxy protocol client (proxy_client.h). */
#include "proxy_client.h"
#include "cleanup.h"
#include "fd_util.h"
#include "json_util.h"
#include "proxy_frame.h"
#include "unix_socket.h"

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct proxy_conn {
	int fd;
	int timeout_ms;
	struct proxy_frame_buffer in;
};

void proxy_io_tokens_clear(struct proxy_io_tokens *io)
{
	free(io->url);
	for (size_t i = 0; i < io->count; i++)
		free(io->tokens[i]);
	free(io->tokens);
	memset(io, 0, sizeof(*io));
}

struct proxy_conn *proxy_conn_connect(const char *socket_path, int timeout_ms, kata_error_t *err)
{
	struct proxy_conn *conn;
	int fd = unix_socket_connect(socket_path, timeout_ms, err);

	if (fd < 0)
		return kata_error_wrap(err, "the proxy"), NULL;
	conn = xzalloc(sizeof(*conn));
	conn->fd = fd;
	conn->timeout_ms = timeout_ms;
	proxy_frame_buffer_init(&conn->in, PROXY_MAX_PAYLOAD);
	return conn;
}

void proxy_conn_close(struct proxy_conn *conn)
{
	if (conn == NULL)
		return;
	close(conn->fd);
	proxy_frame_buffer_free(&conn->in);
	free(conn);
}

void proxy_conn_set_timeout(struct proxy_conn *conn, int timeout_ms)
{
	conn->timeout_ms = timeout_ms;
}

int proxy_conn_get_fd(const struct proxy_conn *conn)
{
	return conn->fd;
}

static int wait_fd(int fd, short events, int64_t deadline, kata_error_t *err)
{
	if (fd_wait(fd, events, deadline, err) < 0)
		return kata_error_wrap(err, "the proxy did not answer");
	return 0;
}

static int send_all(struct proxy_conn *conn, const unsigned char *buf, size_t len, int64_t deadline,
                    kata_error_t *err)
{
	while (len > 0) {
		ssize_t n = send(conn->fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(conn->fd, POLLOUT, deadline, err) < 0)
				return -1;
			continue;
		}
		if (n < 0)
			return kata_error_sys(err, "send to the proxy");
		buf += n;
		len -= n;
	}
	return 0;
}

/* The next response frame (streams and notifications are skipped). */
static int read_response(struct proxy_conn *conn, struct proxy_frame *frame, int64_t deadline,
                         kata_error_t *err)
{
	for (;;) {
		size_t room;
		unsigned char *p;
		ssize_t n;
		int r = proxy_frame_buffer_next(&conn->in, frame, err);

		if (r < 0)
			return kata_error_wrap(err, "bad frame from the proxy");
		if (r > 0) {
			if (frame->version == PROXY_PROTO_VERSION &&
			    frame->type == PROXY_TYPE_RESPONSE)
				return 0;
			continue;
		}
		if (wait_fd(conn->fd, POLLIN, deadline, err) < 0)
			return -1;
		p = proxy_frame_buffer_space(&conn->in, 64 * 1024, &room);
		n = recv(conn->fd, p, room, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0)
			return kata_error_sys(err, "read from the proxy");
		if (n == 0)
			return kata_error_set(err, ECONNRESET, "the proxy closed the connection");
		proxy_frame_buffer_commit(&conn->in, n);
	}
}

json_object *proxy_conn_command(struct proxy_conn *conn, uint8_t opcode, json_object *payload,
                                kata_error_t *err)
{
	int64_t deadline = now_ms() + conn->timeout_ms;
	const char *text = NULL;
	size_t len = 0, size;
	cleanup_free unsigned char *frame_bytes = NULL;
	struct proxy_frame frame;
	json_object *result;

	if (payload != NULL)
		text = json_object_to_json_string_length(payload, JSON_C_TO_STRING_PLAIN, &len);
	if (len > PROXY_MAX_PAYLOAD)
		return kata_error_set(err, EMSGSIZE, "%s: payload too large",
		                      proxy_command_name(opcode)),
		       NULL;
	frame_bytes = proxy_frame_encode(PROXY_TYPE_COMMAND, opcode, 0, text, (uint32_t)len, &size);
	if (send_all(conn, frame_bytes, size, deadline, err) < 0 ||
	    read_response(conn, &frame, deadline, err) < 0) {
		kata_error_wrap(err, "%s", proxy_command_name(opcode));
		return NULL;
	}
	if (frame.opcode != opcode)
		return kata_error_set(err, EPROTO, "%s: response to %s instead",
		                      proxy_command_name(opcode), proxy_command_name(frame.opcode)),
		       NULL;
	if (frame.payload_length == 0)
		result = frame.flags & PROXY_FLAG_ERROR ? NULL : json_object_new_object();
	else
		result = json_parse_text((const char *)frame.payload, frame.payload_length, err);
	if (frame.flags & PROXY_FLAG_ERROR) {
		json_object *msg = NULL;
		kata_error_free(err);
		if (result != NULL && json_object_is_type(result, json_type_object))
			json_object_object_get_ex(result, "msg", &msg);
		kata_error_set(err, EIO, "%s: %s", proxy_command_name(opcode),
		               msg != NULL ? json_object_get_string(msg) : "error");
		json_object_put(result);
		return NULL;
	}
	if (result == NULL)
		kata_error_wrap(err, "%s: response", proxy_command_name(opcode));
	return result;
}

static int parse_io(json_object *result, struct proxy_io_tokens *io, kata_error_t *err)
{
	json_object *obj = NULL, *tokens = NULL;
	char *url = NULL;
	size_t n;

	if (json_get_object(result, "io", "", false, &obj, err) <= 0)
		return *err ? -1 : 0;
	if (json_get_string(obj, "url", "io", false, &url, err) < 0 ||
	    json_get_array(obj, "tokens", "io", true, &tokens, err) < 0) {
		free(url);
		return -1;
	}
	n = json_object_array_length(tokens);
	proxy_io_tokens_clear(io);
	io->url = url;
	io->tokens = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *path = json_path_index("io.tokens", i);
		if (json_as_string(json_object_array_get_idx(tokens, i), path, &io->tokens[i],
		                   err) < 0) {
			proxy_io_tokens_clear(io);
			return -1;
		}
		io->count++;
	}
	return 0;
}

static int vm_command(struct proxy_conn *conn, uint8_t opcode, json_object *req, int num_tokens,
                      struct proxy_io_tokens *io, kata_error_t *err)
{
	json_object *result;
	int r = 0;

	if (num_tokens > 0)
		json_object_object_add(req, "numIOStreams", json_object_new_int(num_tokens));
	result = proxy_conn_command(conn, opcode, req, err);
	json_object_put(req);
	if (result == NULL)
		return -1;
	if (num_tokens > 0 && io != NULL) {
		r = parse_io(result, io, err);
		if (r == 0 && io->count != (size_t)num_tokens)
			r = kata_error_set(err, EPROTO, "%s: asked for %d tokens, got %zu",
			                   proxy_command_name(opcode), num_tokens, io->count);
		if (r < 0)
			kata_error_wrap(err, "%s", proxy_command_name(opcode));
	}
	json_object_put(result);
	return r;
}

int proxy_register_vm(struct proxy_conn *conn, const char *container_id, const char *ctl_serial,
                      const char *io_serial, const char *console, int num_tokens,
                      struct proxy_io_tokens *io, kata_error_t *err)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "containerId", json_object_new_string(container_id));
	if (ctl_serial != NULL)
		json_object_object_add(req, "ctlSerial", json_object_new_string(ctl_serial));
	if (io_serial != NULL)
		json_object_object_add(req, "ioSerial", json_object_new_string(io_serial));
	if (console != NULL)
		json_object_object_add(req, "console", json_object_new_string(console));
	return vm_command(conn, PROXY_CMD_REGISTER_VM, req, num_tokens, io, err);
}

int proxy_attach_vm(struct proxy_conn *conn, const char *container_id, int num_tokens,
                    struct proxy_io_tokens *io, kata_error_t *err)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "containerId", json_object_new_string(container_id));
	return vm_command(conn, PROXY_CMD_ATTACH_VM, req, num_tokens, io, err);
}

int proxy_unregister_vm(struct proxy_conn *conn, const char *container_id, kata_error_t *err)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "containerId", json_object_new_string(container_id));
	return vm_command(conn, PROXY_CMD_UNREGISTER_VM, req, 0, NULL, err);
}

json_object *proxy_hyper(struct proxy_conn *conn, const char *name, const char *const *tokens,
                         size_t n_tokens, json_object *data, kata_error_t *err)
{
	json_object *req = json_object_new_object();
	json_object *result, *array;

	json_object_object_add(req, "hyperName", json_object_new_string(name));
	if (n_tokens > 0) {
		array = json_object_new_array();
		for (size_t i = 0; i < n_tokens; i++)
			json_object_array_add(array, json_object_new_string(tokens[i]));
		json_object_object_add(req, "tokens", array);
	}
	if (data != NULL)
		json_object_object_add(req, "data", json_object_get(data));
	result = proxy_conn_command(conn, PROXY_CMD_HYPER, req, err);
	json_object_put(req);
	if (result == NULL)
		return NULL;
	/* an ACK without payload comes back as an empty object: say "nothing" */
	if (json_object_is_type(result, json_type_object) &&
	    json_object_object_length(result) == 0) {
		json_object_put(result);
		return NULL;
	}
	return result;
}
