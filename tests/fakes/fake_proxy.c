#include "fake_proxy.h"
#include "byte_order.h"
#include "cleanup.h"
#include "fd_util.h"
#include "proxy_frame.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Frames larger than this from a client end its connection (it is a test fake). */
#define FAKE_PROXY_MAX_FRAME  (16u << 20)
#define CAPTURE_DEFAULT_ROUND (64u * 1024)

struct fake_proxy {
	char *path;
	int listen_fd;
	int client_fd;
	unsigned connections;
	bool client_closed;

	uint8_t *out; /* queued for the client */
	size_t out_head, out_len, out_cap;

	uint8_t *in; /* received, not yet a whole frame */
	size_t in_len, in_cap;

	struct fake_proxy_frame *frames;
	size_t frame_count, frame_cap;

	struct fake_capture *captures[FAKE_PROXY_MAX_CAPTURES];
	int capture_count;
};

struct fake_proxy *fake_proxy_new(const char *socket_path, kata_error_t *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct fake_proxy *fp;

	if (socket_path == NULL) { /* only a pump for a client's captures */
		fp = xzalloc(sizeof(*fp));
		fp->client_fd = fp->listen_fd = -1;
		fp->path = xstrdup("");
		return fp;
	}
	if (strlen(socket_path) >= sizeof(addr.sun_path)) {
		kata_error_set(err, ENAMETOOLONG, "fake proxy: socket path too long");
		return NULL;
	}
	fp = xzalloc(sizeof(*fp));
	fp->client_fd = -1;
	fp->path = xstrdup(socket_path);
	memcpy(addr.sun_path, socket_path, strlen(socket_path) + 1);
	fp->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fp->listen_fd < 0 || bind(fp->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 ||
	    listen(fp->listen_fd, 8) < 0) {
		kata_error_sys(err, "fake proxy: listen on `%s`", socket_path);
		fake_proxy_free(fp);
		return NULL;
	}
	return fp;
}

void fake_proxy_free(struct fake_proxy *fp)
{
	if (fp == NULL)
		return;
	fake_proxy_disconnect(fp);
	fake_proxy_stop_listening(fp);
	for (size_t i = 0; i < fp->frame_count; i++)
		free(fp->frames[i].payload);
	free(fp->frames);
	free(fp->out);
	free(fp->in);
	free(fp->path);
	free(fp);
}

const char *fake_proxy_socket_path(const struct fake_proxy *fp)
{
	return fp->path;
}

void fake_proxy_add_capture(struct fake_proxy *fp, struct fake_capture *capture)
{
	if (fp->capture_count < FAKE_PROXY_MAX_CAPTURES)
		fp->captures[fp->capture_count++] = capture;
}

void fake_capture_free(struct fake_capture *capture)
{
	free(capture->data);
	capture->data = NULL;
	capture->len = capture->cap = 0;
	if (capture->fd >= 0)
		close(capture->fd);
	capture->fd = -1;
}

/* --- connections ------------------------------------------------------------------- */

bool fake_proxy_connected(const struct fake_proxy *fp)
{
	return fp->client_fd >= 0;
}

unsigned fake_proxy_connection_count(const struct fake_proxy *fp)
{
	return fp->connections;
}

bool fake_proxy_client_closed(const struct fake_proxy *fp)
{
	return fp->client_closed;
}

void fake_proxy_disconnect(struct fake_proxy *fp)
{
	if (fp->client_fd >= 0)
		close(fp->client_fd);
	fp->client_fd = -1;
	fp->out_head = fp->out_len = 0;
	fp->in_len = 0;
}

void fake_proxy_stop_listening(struct fake_proxy *fp)
{
	if (fp->listen_fd < 0)
		return;
	close(fp->listen_fd);
	fp->listen_fd = -1;
	unlink(fp->path);
}

static bool connected_done(struct fake_proxy *fp, void *data)
{
	return fp->client_fd >= 0;
}

int fake_proxy_accept(struct fake_proxy *fp, int timeout_ms)
{
	return fake_proxy_pump_until(fp, timeout_ms, connected_done, NULL) ? 0 : -1;
}

/* --- sending --------------------------------------------------------------------------- */

void fake_proxy_queue_raw(struct fake_proxy *fp, const void *bytes, size_t len)
{
	if (fp->out_head > 0 && fp->out_head + fp->out_len + len > fp->out_cap) {
		memmove(fp->out, fp->out + fp->out_head, fp->out_len);
		fp->out_head = 0;
	}
	if (fp->out_len + len > fp->out_cap) {
		size_t cap = fp->out_cap ? fp->out_cap : 4096;
		while (cap < fp->out_len + len)
			cap *= 2;
		fp->out = xrealloc(fp->out, cap);
		fp->out_cap = cap;
	}
	memcpy(fp->out + fp->out_head + fp->out_len, bytes, len);
	fp->out_len += len;
}

void fake_proxy_queue_frame_ext(struct fake_proxy *fp, uint16_t version, uint8_t header_words,
                                uint8_t flags, uint8_t type, uint8_t opcode, const void *payload,
                                uint32_t length)
{
	uint8_t h[PROXY_HEADER_SIZE] = { 0 };

	/* Any version and header length, good or not: the shim's reader is under test. */
	put_be16(h + PROXY_VERSION_OFFSET, version);
	h[PROXY_HEADER_LENGTH_OFFSET] = header_words;
	h[PROXY_FLAGS_TYPE_OFFSET] = (flags & PROXY_FLAGS_MASK) | (type & PROXY_TYPE_MASK);
	h[PROXY_OPCODE_OFFSET] = opcode;
	put_be32(h + PROXY_PAYLOAD_LENGTH_OFFSET, length);
	fake_proxy_queue_raw(fp, h, sizeof(h));
	if (payload != NULL && length > 0)
		fake_proxy_queue_raw(fp, payload, length);
}

void fake_proxy_queue_frame(struct fake_proxy *fp, uint8_t flags, uint8_t type, uint8_t opcode,
                            const void *payload, uint32_t length)
{
	fake_proxy_queue_frame_ext(fp, PROXY_PROTO_VERSION, PROXY_HEADER_WORDS, flags, type, opcode,
	                           payload, length);
}

void fake_proxy_queue_stream(struct fake_proxy *fp, uint8_t stream, const void *data, size_t len,
                             size_t chunk)
{
	const uint8_t *p = data;

	if (chunk == 0)
		chunk = 32 * 1024;
	while (len > 0) {
		size_t n = len < chunk ? len : chunk;
		fake_proxy_queue_frame(fp, 0, PROXY_TYPE_STREAM, stream, p, (uint32_t)n);
		p += n;
		len -= n;
	}
}

void fake_proxy_queue_response(struct fake_proxy *fp, uint8_t opcode, const char *error_json)
{
	if (error_json == NULL)
		fake_proxy_queue_frame(fp, 0, PROXY_TYPE_RESPONSE, opcode, NULL, 0);
	else
		fake_proxy_queue_frame(fp, PROXY_FLAG_ERROR, PROXY_TYPE_RESPONSE, opcode,
		                       error_json, (uint32_t)strlen(error_json));
}

void fake_proxy_queue_exit(struct fake_proxy *fp, uint8_t status)
{
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_NOTIFICATION, PROXY_NOTIFY_PROCESS_EXITED, &status,
	                       1);
}

size_t fake_proxy_unsent(const struct fake_proxy *fp)
{
	return fp->out_len;
}

/* --- pumping --------------------------------------------------------------------------- */

static void parse_frames(struct fake_proxy *fp)
{
	size_t off = 0;

	for (;;) {
		const uint8_t *h = fp->in + off;
		cleanup_error kata_error_t err = NULL;
		struct proxy_frame pf;
		struct fake_proxy_frame *f;
		ssize_t n =
		        proxy_frame_decode(h, fp->in_len - off, FAKE_PROXY_MAX_FRAME, &pf, &err);

		if (n < 0) {
			/* not a frame: the client under test is broken */
			fake_proxy_disconnect(fp);
			fp->client_closed = true;
			return;
		}
		if (n == 0)
			break;
		if (fp->frame_count == fp->frame_cap) {
			fp->frame_cap = fp->frame_cap ? fp->frame_cap * 2 : 64;
			fp->frames = xrealloc(fp->frames, fp->frame_cap * sizeof(*fp->frames));
		}
		f = &fp->frames[fp->frame_count++];
		memset(f, 0, sizeof(*f));
		f->connection = fp->connections;
		memcpy(f->header, h, PROXY_HEADER_SIZE);
		f->version = pf.version;
		f->header_words = pf.header_words;
		f->flags = pf.flags;
		f->type = pf.type;
		f->opcode = pf.opcode;
		f->length = pf.payload_length;
		f->payload = xmalloc((size_t)pf.payload_length + 1);
		memcpy(f->payload, pf.payload, pf.payload_length);
		f->payload[pf.payload_length] = '\0';
		off += (size_t)n;
	}
	memmove(fp->in, fp->in + off, fp->in_len - off);
	fp->in_len -= off;
}

static void read_client(struct fake_proxy *fp)
{
	ssize_t n;

	if (fp->in_cap - fp->in_len < 65536) {
		fp->in_cap = fp->in_cap ? fp->in_cap * 2 : 131072;
		fp->in = xrealloc(fp->in, fp->in_cap);
	}
	n = read(fp->client_fd, fp->in + fp->in_len, fp->in_cap - fp->in_len);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		fake_proxy_disconnect(fp);
		fp->client_closed = true;
		return;
	}
	fp->in_len += (size_t)n;
	parse_frames(fp);
}

static void write_client(struct fake_proxy *fp)
{
	while (fp->out_len > 0) {
		ssize_t n = send(fp->client_fd, fp->out + fp->out_head, fp->out_len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			fake_proxy_disconnect(fp);
			fp->client_closed = true;
			return;
		}
		fp->out_head += (size_t)n;
		fp->out_len -= (size_t)n;
	}
	fp->out_head = 0;
}

static void read_capture(struct fake_capture *c)
{
	size_t limit = c->max_per_round ? c->max_per_round : CAPTURE_DEFAULT_ROUND;
	ssize_t n;

	if (c->cap - c->len < limit) {
		while (c->cap - c->len < limit)
			c->cap = c->cap ? c->cap * 2 : 65536;
		c->data = xrealloc(c->data, c->cap + 1);
	}
	n = read(c->fd, c->data + c->len, limit);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0) {
		c->eof = true;
		return;
	}
	c->len += (size_t)n;
	c->data[c->len] = '\0';
}

void fake_proxy_pump_once(struct fake_proxy *fp, int timeout_ms)
{
	struct pollfd pfds[2 + FAKE_PROXY_MAX_CAPTURES];
	struct fake_capture *polled[FAKE_PROXY_MAX_CAPTURES];
	int n = 0, listen_at = -1, client_at = -1, first_capture;

	if (fp->listen_fd >= 0 && fp->client_fd < 0) {
		listen_at = n;
		pfds[n++] = (struct pollfd){ .fd = fp->listen_fd, .events = POLLIN };
	}
	if (fp->client_fd >= 0) {
		client_at = n;
		pfds[n++] = (struct pollfd){ .fd = fp->client_fd,
			                     .events = POLLIN | (fp->out_len ? POLLOUT : 0) };
	}
	first_capture = n;
	for (int i = 0; i < fp->capture_count; i++) {
		struct fake_capture *c = fp->captures[i];
		if (c->fd < 0 || c->eof || c->paused)
			continue;
		polled[n - first_capture] = c;
		pfds[n++] = (struct pollfd){ .fd = c->fd, .events = POLLIN };
	}
	if (poll(pfds, (nfds_t)n, timeout_ms) <= 0)
		return;
	if (listen_at >= 0 && (pfds[listen_at].revents & POLLIN)) {
		int fd = accept4(fp->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd >= 0) {
			fp->client_fd = fd;
			fp->client_closed = false;
			fp->connections++;
		}
	}
	if (client_at >= 0 && (pfds[client_at].revents & POLLOUT))
		write_client(fp);
	if (client_at >= 0 && fp->client_fd >= 0 &&
	    (pfds[client_at].revents & (POLLIN | POLLHUP | POLLERR)))
		read_client(fp);
	for (int i = first_capture; i < n; i++)
		if (pfds[i].revents & (POLLIN | POLLHUP | POLLERR))
			read_capture(polled[i - first_capture]);
}

void fake_proxy_pump_for(struct fake_proxy *fp, int ms)
{
	int64_t end = now_ms() + ms;
	int64_t now;

	while ((now = now_ms()) < end)
		fake_proxy_pump_once(fp, (int)(end - now));
}

bool fake_proxy_pump_until(struct fake_proxy *fp, int timeout_ms,
                           bool (*done)(struct fake_proxy *fp, void *data), void *data)
{
	int64_t end = now_ms() + timeout_ms;
	int64_t now;

	while (!done(fp, data)) {
		now = now_ms();
		if (now >= end)
			return false;
		/* Short rounds: done() may depend on things poll does not see (a child). */
		fake_proxy_pump_once(fp, end - now < 20 ? (int)(end - now) : 20);
	}
	return true;
}

struct child_wait {
	pid_t pid;
	int status;
	bool reaped;
};

static bool child_done(struct fake_proxy *fp, void *data)
{
	struct child_wait *w = data;

	if (!w->reaped && waitpid(w->pid, &w->status, WNOHANG) == w->pid)
		w->reaped = true;
	return w->reaped;
}

int fake_proxy_wait_child(struct fake_proxy *fp, pid_t pid, int timeout_ms, int *status)
{
	struct child_wait w = { .pid = pid };

	if (!fake_proxy_pump_until(fp, timeout_ms, child_done, &w))
		return -1;
	/* What the child wrote just before exiting is still in the pipes. */
	for (int i = 0; i < 50; i++)
		fake_proxy_pump_once(fp, 0);
	*status = w.status;
	return 0;
}

/* --- what the client sent ----------------------------------------------------------------- */

size_t fake_proxy_frame_count(const struct fake_proxy *fp)
{
	return fp->frame_count;
}

const struct fake_proxy_frame *fake_proxy_frame_at(const struct fake_proxy *fp, size_t index)
{
	return index < fp->frame_count ? &fp->frames[index] : NULL;
}

struct frame_wait {
	int type, opcode;
	size_t from;
	long found;
};

static bool frame_done(struct fake_proxy *fp, void *data)
{
	struct frame_wait *w = data;

	for (size_t i = w->from; i < fp->frame_count; i++) {
		if ((w->type < 0 || fp->frames[i].type == w->type) &&
		    (w->opcode < 0 || fp->frames[i].opcode == w->opcode)) {
			w->found = (long)i;
			return true;
		}
	}
	return false;
}

long fake_proxy_wait_frame(struct fake_proxy *fp, int type, int opcode, size_t from, int timeout_ms)
{
	struct frame_wait w = { .type = type, .opcode = opcode, .from = from, .found = -1 };

	fake_proxy_pump_until(fp, timeout_ms, frame_done, &w);
	return w.found;
}

uint8_t *fake_proxy_frame_bytes(const struct fake_proxy_frame *frame, size_t *len)
{
	uint8_t *bytes = xmalloc(PROXY_HEADER_SIZE + (size_t)frame->length);

	memcpy(bytes, frame->header, PROXY_HEADER_SIZE);
	memcpy(bytes + PROXY_HEADER_SIZE, frame->payload, frame->length);
	*len = PROXY_HEADER_SIZE + (size_t)frame->length;
	return bytes;
}

/* --- a client process ---------------------------------------------------------------------- */

void fake_proxy_remove_capture(struct fake_proxy *fp, struct fake_capture *capture)
{
	for (int i = 0; i < fp->capture_count; i++) {
		if (fp->captures[i] == capture) {
			fp->captures[i] = fp->captures[--fp->capture_count];
			return;
		}
	}
}

static void exec_child(char *const argv[], int in, int out, int err_fd)
{
	sigset_t none;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int signo = 1; signo < 32; signo++)
		signal(signo, SIG_DFL);
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(err_fd, 2) < 0)
		_exit(126);
	execv(argv[0], argv);
	_exit(127);
}

int fake_proxy_spawn(struct fake_proxy *fp, char *const argv[], const char *stdin_path,
                     const char *stdout_path, struct fake_client *client, kata_error_t *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, errp[2] = { -1, -1 };
	pid_t pid;

	memset(client, 0, sizeof(*client));
	client->stdin_fd = -1;
	client->out.fd = client->err.fd = -1;
	if (stdin_path != NULL)
		in[0] = open(stdin_path, O_RDONLY | O_CLOEXEC);
	else if (pipe2(in, O_CLOEXEC) < 0)
		in[0] = -1;
	if (stdout_path != NULL)
		out[1] = open(stdout_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	else if (pipe2(out, O_CLOEXEC) < 0)
		out[1] = -1;
	if (in[0] < 0 || out[1] < 0 || pipe2(errp, O_CLOEXEC) < 0) {
		kata_error_sys(err, "fake client: stdio");
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		kata_error_sys(err, "fake client: fork");
		goto fail;
	}
	if (pid == 0)
		exec_child(argv, in[0], out[1], errp[1]);
	client->pid = pid;
	close(in[0]);
	close(out[1]);
	close(errp[1]);
	client->stdin_fd = in[1];
	if (client->stdin_fd >= 0)
		fcntl(client->stdin_fd, F_SETFL, O_NONBLOCK);
	client->out.fd = out[0];
	client->err.fd = errp[0];
	if (client->out.fd >= 0) {
		fcntl(client->out.fd, F_SETFL, O_NONBLOCK);
		fake_proxy_add_capture(fp, &client->out);
	}
	fcntl(client->err.fd, F_SETFL, O_NONBLOCK);
	fake_proxy_add_capture(fp, &client->err);
	return 0;
fail:
	for (int i = 0; i < 2; i++) {
		if (in[i] >= 0)
			close(in[i]);
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	return -1;
}

int fake_client_write_stdin(struct fake_proxy *fp, struct fake_client *client, const void *data,
                            size_t len, int timeout_ms)
{
	const uint8_t *p = data;
	int64_t end = now_ms() + timeout_ms;

	while (len > 0) {
		ssize_t n = write(client->stdin_fd, p, len);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (now_ms() >= end)
			return -1;
		fake_proxy_pump_once(fp, 5);
	}
	return 0;
}

void fake_client_close_stdin(struct fake_client *client)
{
	if (client->stdin_fd >= 0)
		close(client->stdin_fd);
	client->stdin_fd = -1;
}

int fake_client_wait(struct fake_proxy *fp, struct fake_client *client, int timeout_ms)
{
	if (client->pid <= 0)
		return client->status;
	if (fake_proxy_wait_child(fp, client->pid, timeout_ms, &client->status) < 0)
		return -1;
	client->pid = 0;
	return client->status;
}

void fake_client_release(struct fake_proxy *fp, struct fake_client *client)
{
	if (client->pid > 0) {
		kill(client->pid, SIGKILL);
		waitpid(client->pid, &client->status, 0);
		client->pid = 0;
	}
	fake_client_close_stdin(client);
	if (fp != NULL) {
		fake_proxy_remove_capture(fp, &client->out);
		fake_proxy_remove_capture(fp, &client->err);
	}
	fake_capture_free(&client->out);
	fake_capture_free(&client->err);
}
