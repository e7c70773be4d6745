/* stdout and stderr: queued non-blocking writes where epoll can watch the fd, direct
 * writes where it cannot (regular files, /dev/null), and nothing once the reader left. */
#include "shim_internal.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>

static void output_drained(struct event_fd *efd, void *data)
{
	struct shim_output *out = data;

	shim_pump_frames(out->shim);
	shim_maybe_finish(out->shim);
}

static void output_broken(struct shim_output *out, const char *why)
{
	if (out->broken)
		return;
	/* Not fatal: the process goes on, and its exit status still matters. */
	log_debug("%s: %s: its output is discarded from now on", out->name, why);
	out->broken = true;
}

static void output_hangup(struct event_fd *efd, void *data)
{
	struct shim_output *out = data;

	output_broken(out, "the reader went away");
	event_fd_close(efd);
	out->efd = NULL;
	shim_pump_frames(out->shim);
	shim_maybe_finish(out->shim);
}

int shim_output_open(struct shim *s, struct shim_output *out, int fd, const char *name,
                     kata_error_t *err)
{
	static const struct event_fd_ops ops = {
		.hangup = output_hangup,
		.drained = output_drained,
	};
	cleanup_error kata_error_t add_err = NULL;

	out->shim = s;
	out->name = name;
	out->efd = NULL;
	out->broken = false;
	shim_stdio_open(&out->io, fd, O_WRONLY);
	if (out->io.fd < 0) {
		output_broken(out, "not open");
		return 0;
	}
	out->efd = event_fd_add(s->loop, out->io.fd, &ops, out, EVENT_FD_NO_CLOSE, &add_err);
	if (out->efd == NULL) {
		if (add_err->errno_value == EPERM)
			return 0; /* a file: writes never wait, written directly */
		kata_error_move(err, &add_err);
		return kata_error_wrap(err, "%s", name);
	}
	event_fd_set_low_water(out->efd, 0);
	return 0;
}

static void write_directly(struct shim_output *out, const uint8_t *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(out->io.fd, buf, len);
		if (n > 0) {
			buf += n;
			len -= (size_t)n;
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			/* Someone else made the description non-blocking: wait for room. */
			struct pollfd pfd = { .fd = out->io.fd, .events = POLLOUT };
			poll(&pfd, 1, -1);
		} else {
			output_broken(out, n < 0 ? strerror(errno) : "write returned 0");
			return;
		}
	}
}

void shim_output_write(struct shim *s, struct shim_output *out, const void *buf, size_t len)
{
	cleanup_error kata_error_t err = NULL;

	if (out->broken || len == 0)
		return;
	if (out->efd == NULL) {
		write_directly(out, buf, len);
		return;
	}
	if (event_fd_write(out->efd, buf, len, &err) < 0) {
		if (err->errno_value == ENOBUFS)
			log_warning("%s: %zu bytes dropped: %s", out->name, len, err->message);
		else
			output_broken(out, err->message); /* output_hangup() follows */
	}
}

size_t shim_output_queued(const struct shim_output *out)
{
	if (out->broken || out->efd == NULL)
		return 0;
	return event_fd_queued(out->efd);
}

void shim_output_close(struct shim_output *out)
{
	out->efd = NULL; /* freed with the loop */
	shim_stdio_close(&out->io);
}
