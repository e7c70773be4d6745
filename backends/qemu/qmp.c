/* The QMP client (see qmp.h). */
#include "qmp.h"
#include "qmp_message.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd_util.h"
#include "unix_socket.h"
#include "log.h"

struct qmp {
	int fd;
	bool broken;
	int64_t next_id;
	size_t len;                   /* bytes in buf */
	char buf[QMP_MAX_LINE + 2];   /* one line and its "\r\n" at most */
	char *events[QMP_MAX_EVENTS]; /* names of unconsumed events, oldest first */
	size_t n_events;
};

static int broken(struct qmp *qmp, kata_error_t *err)
{
	qmp->broken = true;
	return -1;
}

static int wait_fd(struct qmp *qmp, short events, int64_t deadline, kata_error_t *err)
{
	if (fd_wait(qmp->fd, events, deadline, err) < 0) {
		kata_error_wrap(err, "QMP");
		return broken(qmp, err);
	}
	return 0;
}

static int send_all(struct qmp *qmp, const char *data, size_t len, int64_t deadline,
                    kata_error_t *err)
{
	while (len > 0) {
		ssize_t n = send(qmp->fd, data, len, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (wait_fd(qmp, POLLOUT, deadline, err) < 0)
				return -1;
			continue;
		}
		if (n < 0) {
			kata_error_sys(err, "QMP: send");
			return broken(qmp, err);
		}
		data += n;
		len -= (size_t)n;
	}
	return 0;
}

/* Reads the next complete line into msg. */
static int read_message(struct qmp *qmp, struct qmp_message *msg, int64_t deadline,
                        kata_error_t *err)
{
	for (;;) {
		char *nl = memchr(qmp->buf, '\n', qmp->len);
		ssize_t n;

		if (nl != NULL) {
			size_t line_len = (size_t)(nl - qmp->buf);
			int ret;

			if (line_len > 0 && qmp->buf[line_len - 1] == '\r')
				line_len--;
			ret = qmp_message_parse(qmp->buf, line_len, msg, err);
			qmp->len -= (size_t)(nl + 1 - qmp->buf);
			memmove(qmp->buf, nl + 1, qmp->len);
			if (ret < 0)
				return broken(qmp, err);
			return 0;
		}
		if (qmp->len >= sizeof(qmp->buf)) {
			kata_error_set(err, E2BIG, "QMP: line longer than %d bytes", QMP_MAX_LINE);
			return broken(qmp, err);
		}
		if (wait_fd(qmp, POLLIN, deadline, err) < 0)
			return -1;
		n = recv(qmp->fd, qmp->buf + qmp->len, sizeof(qmp->buf) - qmp->len, MSG_DONTWAIT);
		if (n < 0 && (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n < 0) {
			kata_error_sys(err, "QMP: receive");
			return broken(qmp, err);
		}
		if (n == 0) {
			kata_error_set(err, ECONNRESET,
			               qmp->len > 0 ? "QMP: connection closed mid-message"
			                            : "QMP: connection closed");
			return broken(qmp, err);
		}
		qmp->len += (size_t)n;
	}
}

static void remember_event(struct qmp *qmp, const char *name)
{
	log_debug("QMP event %s", name);
	if (qmp->n_events == QMP_MAX_EVENTS) {
		free(qmp->events[0]);
		memmove(qmp->events, qmp->events + 1, (QMP_MAX_EVENTS - 1) * sizeof(char *));
		qmp->n_events--;
	}
	qmp->events[qmp->n_events++] = xstrdup(name);
}

bool qmp_take_event(struct qmp *qmp, const char *event)
{
	for (size_t i = 0; i < qmp->n_events; i++) {
		if (strcmp(qmp->events[i], event) == 0) {
			free(qmp->events[i]);
			memmove(qmp->events + i, qmp->events + i + 1,
			        (qmp->n_events - i - 1) * sizeof(char *));
			qmp->n_events--;
			return true;
		}
	}
	return false;
}

static int check_usable(struct qmp *qmp, kata_error_t *err)
{
	if (qmp->broken)
		return kata_error_set(err, EPIPE,
		                      "QMP: connection unusable after an earlier error");
	return 0;
}

static int execute_at(struct qmp *qmp, const char *command, json_object *args, json_object **result,
                      int64_t deadline, kata_error_t *err)
{
	json_object *request = json_object_new_object();
	int64_t id = ++qmp->next_id;
	cleanup_free char *text = NULL;

	if (result != NULL)
		*result = NULL;
	json_object_object_add(request, "execute", json_object_new_string(command));
	if (args != NULL)
		json_object_object_add(request, "arguments", json_object_get(args));
	json_object_object_add(request, "id", json_object_new_int64(id));
	text = xasprintf("%s\n", json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN));
	json_object_put(request);

	if (send_all(qmp, text, strlen(text), deadline, err) < 0)
		return kata_error_wrap(err, "%s", command);
	for (;;) {
		struct qmp_message msg;

		if (read_message(qmp, &msg, deadline, err) < 0)
			return kata_error_wrap(err, "%s", command);
		if (msg.type == QMP_MESSAGE_EVENT) {
			remember_event(qmp, msg.event);
		} else if (msg.type == QMP_MESSAGE_GREETING) {
			kata_error_set(err, EPROTO, "%s: QMP: unexpected greeting", command);
			qmp_message_clear(&msg);
			return broken(qmp, err);
		} else if (msg.has_id && msg.id == id) {
			int ret = 0;

			if (msg.type == QMP_MESSAGE_ERROR)
				ret = kata_error_set(err, EIO, "%s: %s", command, msg.error_desc);
			else if (result != NULL)
				*result = json_object_get(msg.value);
			qmp_message_clear(&msg);
			return ret;
		} else {
			/* A late answer to an earlier request: not ours. */
			log_debug("QMP: dropping a reply that is not for request %lld",
			          (long long)id);
		}
		qmp_message_clear(&msg);
	}
}

int qmp_execute(struct qmp *qmp, const char *command, json_object *args, json_object **result,
                int timeout_ms, kata_error_t *err)
{
	if (check_usable(qmp, err) < 0)
		return -1;
	return execute_at(qmp, command, args, result, now_ms() + timeout_ms, err);
}

int qmp_wait_event(struct qmp *qmp, const char *event, int timeout_ms, kata_error_t *err)
{
	int64_t deadline = now_ms() + timeout_ms;

	if (qmp_take_event(qmp, event))
		return 0;
	if (check_usable(qmp, err) < 0)
		return -1;
	for (;;) {
		struct qmp_message msg;
		bool found;

		if (read_message(qmp, &msg, deadline, err) < 0)
			return kata_error_wrap(err, "waiting for event %s", event);
		found = msg.type == QMP_MESSAGE_EVENT && strcmp(msg.event, event) == 0;
		if (msg.type == QMP_MESSAGE_EVENT && !found)
			remember_event(qmp, msg.event);
		qmp_message_clear(&msg);
		if (found)
			return 0;
	}
}

char *qmp_query_status(struct qmp *qmp, int timeout_ms, kata_error_t *err)
{
	json_object *result = NULL, *status;
	char *ret = NULL;

	if (qmp_execute(qmp, "query-status", NULL, &result, timeout_ms, err) < 0)
		return NULL;
	if (json_object_object_get_ex(result, "status", &status) &&
	    json_object_is_type(status, json_type_string))
		ret = xstrdup(json_object_get_string(status));
	else
		kata_error_set(err, EPROTO, "query-status: no \"status\" string in the answer");
	json_object_put(result);
	return ret;
}

struct qmp *qmp_connect(const char *socket_path, int timeout_ms, kata_error_t *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	struct qmp *qmp;
	struct qmp_message msg;
	int fd;

	fd = unix_socket_connect(socket_path, 0, err);
	if (fd < 0)
		return kata_error_wrap(err, "QMP"), NULL;
	qmp = xzalloc(sizeof(*qmp));
	qmp->fd = fd;
	if (read_message(qmp, &msg, deadline, err) < 0) {
		kata_error_wrap(err, "QMP greeting");
		qmp_close(qmp);
		return NULL;
	}
	if (msg.type != QMP_MESSAGE_GREETING) {
		kata_error_set(err, EPROTO, "QMP: expected a greeting first");
		qmp_message_clear(&msg);
		qmp_close(qmp);
		return NULL;
	}
	qmp_message_clear(&msg);
	if (execute_at(qmp, "qmp_capabilities", NULL, NULL, deadline, err) < 0) {
		qmp_close(qmp);
		return NULL;
	}
	return qmp;
}

void qmp_close(struct qmp *qmp)
{
	if (qmp == NULL)
		return;
	close(qmp->fd);
	for (size_t i = 0; i < qmp->n_events; i++)
		free(qmp->events[i]);
	free(qmp);
}

void qmp_closep(struct qmp **qmp)
{
	qmp_close(*qmp);
	*qmp = NULL;
}

int qmp_send_fd(struct qmp *qmp, int fd, kata_error_t *err)
{
	char space = ' '; /* whitespace between messages: qemu's JSON parser skips it */
	struct iovec iov = { .iov_base = &space, .iov_len = 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} control = { 0 };
	struct msghdr msg = { .msg_iov = &iov,
		              .msg_iovlen = 1,
		              .msg_control = control.buf,
		              .msg_controllen = sizeof(control.buf) };
	struct cmsghdr *cmsg = CMSG_FIRSTHDR(&msg);
	ssize_t n;

	if (check_usable(qmp, err) < 0)
		return -1;
	cmsg->cmsg_level = SOL_SOCKET;
	cmsg->cmsg_type = SCM_RIGHTS;
	cmsg->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cmsg), &fd, sizeof(int));
	do
		n = sendmsg(qmp->fd, &msg, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n != 1) {
		kata_error_sys(err, "QMP: send a file descriptor");
		return broken(qmp, err);
	}
	return 0;
}
