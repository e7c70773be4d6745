/* kata-proxy test harness (proxy_harness.h). */
#include "proxy_harness.h"
#include "cleanup.h"
#include "tests/unit/check_main.h"
#include "process_launch.h"
#include "unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	return type == FTW_DP ? rmdir(path) : unlink(path);
}

/* The test directory and all in it: sockets, the log, the hyperstart share's status files. */
static void remove_dir(const char *dir)
{
	nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS);
}

int harness_mkdtemp(char dir[64])
{
	if (unit_test_dir == NULL) {
		fprintf(stderr, "proxy harness: the test program's unit_test names no test_dir\n");
		return -1;
	}
	if (snprintf(dir, 64, "%s/p.XXXXXX", unit_test_dir) >= 64)
		return -1;
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int start(struct proxy_harness *h, const struct fake_agent_config *config,
                 const char *const *extra, bool channels)
{
	cleanup_error kata_error_t err = NULL;
	const char *build = getenv("KATA_BUILD_DIR");
	cleanup_free char *binary = NULL, *log = NULL;
	const char *argv[32];
	int argc = 0;

	memset(h, 0, sizeof(*h));
	h->pid = -1;
	if (harness_mkdtemp(h->dir) < 0)
		return -1;
	/* hyperstart's exit statuses come through the share (docs/dialects.md) */
	if (config->dialect == FAKE_AGENT_HYPERSTART) {
		struct fake_agent_config with_share = *config;
		h->share_dir = xasprintf("%s/share", h->dir);
		if (mkdir(h->share_dir, 0755) < 0)
			return -1;
		with_share.share_dir = h->share_dir;
		h->agent = fake_agent_start(h->dir, &with_share, &err);
	} else {
		h->agent = fake_agent_start(h->dir, config, &err);
	}
	if (h->agent == NULL) {
		fprintf(stderr, "fake agent: %s\n", err->message);
		return -1;
	}
	h->socket_path = xasprintf("%s/proxy.sock", h->dir);
	binary = xasprintf("%s/kata-proxy", build ? build : "build");
	log = xasprintf("%s/proxy.log", h->dir);
	argv[argc++] = binary;
	argv[argc++] = "-listen-socket";
	argv[argc++] = h->socket_path;
	if (channels) {
		argv[argc++] = "-ctl-socket";
		argv[argc++] = fake_agent_ctl_path(h->agent);
		argv[argc++] = "-io-socket";
		argv[argc++] = fake_agent_io_path(h->agent);
	}
	argv[argc++] = "-agent-timeout";
	argv[argc++] = "3";
	argv[argc++] = "-debug";
	argv[argc++] = "-log";
	argv[argc++] = getenv("PROXY_TEST_LOG_STDERR") ? "-" : log;
	if (h->share_dir != NULL) {
		argv[argc++] = "-share-dir";
		argv[argc++] = h->share_dir;
	}
	for (size_t i = 0; extra != NULL && extra[i] != NULL && argc < 30; i++)
		argv[argc++] = extra[i];
	argv[argc] = NULL;
	h->pid = fork();
	if (h->pid < 0)
		return -1;
	if (h->pid == 0) {
		sigset_t none;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(binary, (char **)argv);
		_exit(127);
	}
	h->conn = proxy_conn_connect(h->socket_path, 20000, &err); /* loaded CI hosts */
	if (h->conn == NULL) {
		fprintf(stderr, "connect: %s\n", err->message);
		return -1;
	}
	return 0;
}

int harness_start(struct proxy_harness *h, const struct fake_agent_config *config,
                  const char *const *extra)
{
	return start(h, config, extra, true);
}

int harness_start_without_channels(struct proxy_harness *h, const struct fake_agent_config *config,
                                   const char *const *extra)
{
	return start(h, config, extra, false);
}

int harness_wait_exit(struct proxy_harness *h, int timeout_ms)
{
	int status;

	if (h->pid <= 0 || launch_wait(h->pid, now_ms() + timeout_ms, &status, NULL) != 1)
		return -1;
	h->pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void harness_stop(struct proxy_harness *h)
{
	proxy_conn_close(h->conn);
	h->conn = NULL;
	if (h->pid > 0) {
		kill(h->pid, SIGKILL);
		waitpid(h->pid, NULL, 0);
		h->pid = -1;
	}
	if (getenv("PROXY_TEST_SHOW_LOG")) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "cat %s/proxy.log >&2", h->dir);
		(void)!system(cmd);
	}
	fake_agent_stop(h->agent);
	h->agent = NULL;
	free(h->share_dir);
	h->share_dir = NULL;
	free(h->socket_path);
	h->socket_path = NULL;
	remove_dir(h->dir);
}

int harness_register(struct proxy_harness *h, int n, struct proxy_io_tokens *io)
{
	cleanup_error kata_error_t err = NULL;

	if (proxy_register_vm(h->conn, "sandbox", NULL, NULL, NULL, n, io, &err) < 0) {
		fprintf(stderr, "RegisterVM: %s\n", err->message);
		return -1;
	}
	return 0;
}

/* --- shims ---------------------------------------------------------------------------------- */

int shim_send_raw(struct test_shim *s, const void *bytes, size_t len)
{
	const unsigned char *p = bytes;

	while (len > 0) {
		ssize_t n = send(s->fd, p, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int shim_send(struct test_shim *s, uint8_t type, uint8_t opcode, const void *payload, size_t len)
{
	size_t size;
	cleanup_free unsigned char *frame =
	        proxy_frame_encode(type, opcode, 0, payload, (uint32_t)len, &size);

	return shim_send_raw(s, frame, size);
}

int shim_connect(struct test_shim *s, const char *socket_path, const char *token)
{
	json_object *obj;
	const char *text;
	size_t len;
	int r;

	memset(s, 0, sizeof(*s));
	s->exit_code = -1;
	proxy_frame_buffer_init(&s->in, PROXY_MAX_PAYLOAD);
	s->fd = unix_socket_connect(socket_path, 0, NULL);
	if (s->fd < 0)
		return -1;
	if (token == NULL)
		return 0;
	obj = json_object_new_object();
	json_object_object_add(obj, "token", json_object_new_string(token));
	text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	r = shim_send(s, 0, 4, text, len);
	json_object_put(obj);
	return r;
}

void shim_close(struct test_shim *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	proxy_frame_buffer_free(&s->in);
	free(s->out);
	free(s->err);
	s->out = s->err = NULL;
}

static void append(unsigned char **buf, size_t *len, const unsigned char *p, size_t n)
{
	*buf = xrealloc(*buf, *len + n + 1);
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
}

static void handle(struct test_shim *s, const struct proxy_frame *f)
{
	if (f->type == 2 && f->opcode == 1)
		append(&s->out, &s->out_len, f->payload, f->payload_length);
	else if (f->type == 2 && f->opcode == 2)
		append(&s->err, &s->err_len, f->payload, f->payload_length);
	else if (f->type == 3 && f->opcode == 0 && f->payload_length >= 1)
		s->exit_code = f->payload[0];
	else if (f->type == 3 && f->opcode == 1) {
		s->oom_notifications++;
		s->oom_after_exit += s->exit_code >= 0;
	} else if (f->type == 1) {
		s->responses++;
		if (f->flags & 0x10) {
			size_t n = f->payload_length < 255 ? f->payload_length : 255;
			s->error_responses++;
			memcpy(s->last_error, f->payload, n);
			s->last_error[n] = '\0';
		}
	}
}

void shim_pump(struct test_shim *s, int timeout_ms)
{
	struct pollfd pfd = { .fd = s->fd, .events = POLLIN };
	struct proxy_frame f;
	size_t room;
	unsigned char *p;
	ssize_t n;
	cleanup_error kata_error_t err = NULL;

	if (s->closed || poll(&pfd, 1, timeout_ms) <= 0)
		return;
	p = proxy_frame_buffer_space(&s->in, 256 * 1024, &room);
	n = recv(s->fd, p, room, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		s->closed = true;
		return;
	}
	if (n < 0)
		return;
	proxy_frame_buffer_commit(&s->in, n);
	while (proxy_frame_buffer_next(&s->in, &f, &err) > 0)
		handle(s, &f);
}

int shim_wait_exit(struct test_shim *s, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (s->exit_code < 0 && !s->closed && now_ms() < deadline)
		shim_pump(s, 20);
	return s->exit_code;
}

bool shim_wait_responses(struct test_shim *s, int n, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;

	while (s->responses < n && !s->closed && now_ms() < deadline)
		shim_pump(s, 20);
	return s->responses >= n;
}
