/* The scripted fake QMP server (see fake_qmp.h). */
#include "fake_qmp.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <json-c/json.h>

#include "cleanup.h"
#include "fd_util.h"
#include "process_launch.h"

struct server {
	int listen_fd;
	int fd;
	char buf[256 * 1024];
	size_t len;
	char last_id[64];
	json_object *last_args; /* the last command's "arguments", or NULL */
	bool paused;
	int received_fd; /* the last file descriptor that came with the bytes, -1: none */
};

static void __attribute__((noreturn, format(printf, 1, 2))) fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "fake_qmp: ");
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n");
	_exit(1);
}

static void send_text(struct server *s, const char *text)
{
	char out[64 * 1024 + 256];
	size_t len = 0;

	for (const char *p = text; *p && len < sizeof(out) - 64;) {
		if (strncmp(p, "@ID@", 4) == 0) {
			len += (size_t)snprintf(out + len, sizeof(out) - len, "%s", s->last_id);
			p += 4;
		} else {
			out[len++] = *p++;
		}
	}
	for (size_t off = 0; off < len;) {
		ssize_t n = send(s->fd, out + off, len - off, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return; /* the client went away: the script decides whether that matters */
		off += (size_t)n;
	}
}

/* recv, keeping a file descriptor that comes with the bytes (SCM_RIGHTS) as qemu does. */
static ssize_t receive(struct server *s)
{
	struct iovec iov = { .iov_base = s->buf + s->len, .iov_len = sizeof(s->buf) - s->len };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control;
	struct msghdr msg = { .msg_iov = &iov,
		              .msg_iovlen = 1,
		              .msg_control = control.buf,
		              .msg_controllen = sizeof(control.buf) };
	ssize_t n = recvmsg(s->fd, &msg, MSG_CMSG_CLOEXEC);
	struct cmsghdr *cmsg = n > 0 ? CMSG_FIRSTHDR(&msg) : NULL;

	if (cmsg != NULL && cmsg->cmsg_level == SOL_SOCKET && cmsg->cmsg_type == SCM_RIGHTS) {
		if (s->received_fd >= 0)
			close(s->received_fd);
		memcpy(&s->received_fd, CMSG_DATA(cmsg), sizeof(int));
	}
	return n;
}

/* Reads one line and returns the command's name (static buffer), NULL at EOF. */
static const char *read_command(struct server *s)
{
	static char name[256];

	for (;;) {
		char *nl = memchr(s->buf, '\n', s->len);

		if (nl != NULL) {
			json_object *obj;
			*nl = '\0';
			obj = json_tokener_parse(s->buf);
			s->len -= (size_t)(nl + 1 - s->buf);
			memmove(s->buf, nl + 1, s->len);
			json_object *execute = NULL, *id = NULL, *args = NULL;
			if (obj == NULL || !json_object_object_get_ex(obj, "execute", &execute))
				fail("not a command: %s", "(unparsable)");
			json_object_put(s->last_args);
			s->last_args = json_object_object_get_ex(obj, "arguments", &args)
			                       ? json_object_get(args)
			                       : NULL;
			snprintf(name, sizeof(name), "%s", json_object_get_string(execute));
			if (json_object_object_get_ex(obj, "id", &id))
				snprintf(s->last_id, sizeof(s->last_id), "%s",
				         json_object_to_json_string(id));
			else
				snprintf(s->last_id, sizeof(s->last_id), "null");
			json_object_put(obj);
			return name;
		}
		if (s->len == sizeof(s->buf))
			fail("%s", "command line too long");
		ssize_t n = receive(s);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return NULL;
		s->len += (size_t)n;
	}
}

static void accept_client(struct server *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = accept(s->listen_fd, NULL, NULL);
	s->len = 0;
	if (s->fd < 0)
		fail("accept: %s", strerror(errno));
}

static void __attribute__((noreturn)) serve_forever(struct server *s)
{
	for (;;) {
		const char *cmd;

		accept_client(s);
		send_text(s, FAKE_QMP_GREETING);
		while ((cmd = read_command(s)) != NULL) {
			if (strcmp(cmd, "qmp_capabilities") == 0) {
				send_text(s, FAKE_QMP_RETURN_EMPTY);
			} else if (strcmp(cmd, "query-status") == 0) {
				send_text(s,
				          s->paused ? "{\"return\": {\"status\": \"paused\", "
				                      "\"singlestep\": false, \"running\": false}, "
				                      "\"id\": @ID@}\r\n"
				                    : "{\"return\": {\"status\": \"running\", "
				                      "\"singlestep\": false, \"running\": true}, "
				                      "\"id\": @ID@}\r\n");
			} else if (strcmp(cmd, "stop") == 0) {
				s->paused = true;
				send_text(s,
				          "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
				          "\"event\": \"STOP\"}\r\n");
				send_text(s, FAKE_QMP_RETURN_EMPTY);
			} else if (strcmp(cmd, "cont") == 0) {
				s->paused = false;
				send_text(s,
				          "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
				          "\"event\": \"RESUME\"}\r\n");
				send_text(s, FAKE_QMP_RETURN_EMPTY);
			} else if (strcmp(cmd, "quit") == 0) {
				send_text(s, FAKE_QMP_RETURN_EMPTY);
				send_text(s,
				          "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 2}, "
				          "\"event\": \"SHUTDOWN\", \"data\": {\"guest\": "
				          "false}}\r\n");
				_exit(0);
			} else {
				char reply[512];
				snprintf(
				        reply, sizeof(reply),
				        "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": "
				        "\"The command %s has not been found\"}, \"id\": @ID@}\r\n",
				        cmd);
				send_text(s, reply);
			}
		}
	}
}

/* What the fake does with a descriptor it was given, so that the test can see which file
 * or socket the client passed. */
static void expect_fd_writable(int fd)
{
	if (write(fd, "fake-qmp\n", 9) != 9)
		fail("write to the received fd: %s", strerror(errno));
}

static void expect_fd_readable(int fd)
{
	char buf[9];

	if (read(fd, buf, sizeof(buf)) != (ssize_t)sizeof(buf) || memcmp(buf, "fake-qmp\n", 9) != 0)
		fail("the received fd does not read \"fake-qmp\\n\"");
}

/* FAKE_QMP_EXPECT_ARGS: "NAME {JSON}" */
static void expect_args(struct server *s, const char *text)
{
	const char *space = strchr(text, ' ');
	size_t name_len = space != NULL ? (size_t)(space - text) : strlen(text);
	const char *cmd = read_command(s);
	json_object *want;

	if (cmd == NULL)
		fail("expected %.*s, got EOF", (int)name_len, text);
	if (strlen(cmd) != name_len || strncmp(cmd, text, name_len) != 0)
		fail("unexpected command %s", cmd);
	want = json_tokener_parse(space != NULL ? space + 1 : "{}");
	if (want == NULL)
		fail("bad script arguments: %s", text);
	json_object_object_foreach(want, key, value)
	{
		json_object *got = NULL;

		if (s->last_args == NULL || !json_object_object_get_ex(s->last_args, key, &got) ||
		    !json_object_equal(got, value))
			fail("%s: argument %s is %s, expected %s", cmd, key,
			     got != NULL ? json_object_to_json_string(got) : "absent",
			     json_object_to_json_string(value));
	}
	json_object_put(want);
}

static void __attribute__((noreturn))
run_script(struct server *s, const struct fake_qmp_step *script, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		const char *cmd;

		switch (script[i].op) {
		case FAKE_QMP_ACCEPT:
			accept_client(s);
			break;
		case FAKE_QMP_SEND:
			send_text(s, script[i].text);
			break;
		case FAKE_QMP_EXPECT:
			cmd = read_command(s);
			if (cmd == NULL)
				fail("expected %s, got EOF", script[i].text);
			if (strcmp(cmd, script[i].text) != 0)
				fail("unexpected command %s", cmd);
			break;
		case FAKE_QMP_EXPECT_FD:
		case FAKE_QMP_EXPECT_FD_READ:
			cmd = read_command(s);
			if (cmd == NULL)
				fail("expected %s, got EOF", script[i].text);
			if (strcmp(cmd, script[i].text) != 0)
				fail("unexpected command %s", cmd);
			if (s->received_fd < 0)
				fail("%s came without a file descriptor", cmd);
			if (script[i].op == FAKE_QMP_EXPECT_FD)
				expect_fd_writable(s->received_fd);
			else
				expect_fd_readable(s->received_fd);
			close(s->received_fd);
			s->received_fd = -1;
			break;
		case FAKE_QMP_EXPECT_ARGS:
			expect_args(s, script[i].text);
			break;
		case FAKE_QMP_EXPECT_CLOSE:
			cmd = read_command(s);
			if (cmd != NULL)
				fail("unexpected command %s", cmd);
			break;
		case FAKE_QMP_HANG:
			for (;;)
				pause();
		case FAKE_QMP_CLOSE:
			close(s->fd);
			s->fd = -1;
			break;
		case FAKE_QMP_SERVE:
			serve_forever(s);
		}
	}
	_exit(0);
}

struct fake_qmp *fake_qmp_start(const char *socket_path, const struct fake_qmp_step *script,
                                size_t n_steps)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	struct fake_qmp *fq = xzalloc(sizeof(*fq));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0 || strlen(socket_path) >= sizeof(addr.sun_path))
		abort();
	strcpy(addr.sun_path, socket_path);
	unlink(socket_path);
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 8) < 0)
		abort();
	fq->socket_path = xstrdup(socket_path);
	fq->pid = fork();
	if (fq->pid < 0)
		abort();
	if (fq->pid == 0) {
		struct server *s = xzalloc(sizeof(*s));

		/* Dies with the test that started it, also when an assertion ends that test. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() == 1)
			_exit(1);
		signal(SIGPIPE, SIG_IGN);
		s->listen_fd = fd;
		s->fd = -1;
		s->received_fd = -1;
		snprintf(s->last_id, sizeof(s->last_id), "null");
		run_script(s, script, n_steps);
	}
	close(fd);
	return fq;
}

int fake_qmp_finish(struct fake_qmp *fq, int timeout_ms)
{
	int status;

	if (launch_wait(fq->pid, now_ms() + timeout_ms, &status, NULL) != 1)
		return -1;
	fq->pid = -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void fake_qmp_stop(struct fake_qmp *fq)
{
	if (fq == NULL)
		return;
	if (fq->pid > 0) {
		kill(fq->pid, SIGKILL);
		while (waitpid(fq->pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	unlink(fq->socket_path);
	free(fq->socket_path);
	free(fq);
}
