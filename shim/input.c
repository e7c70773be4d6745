/* stdin: read in chunks and sent as stdin stream frames while the proxy's queue has
 * room; its end becomes a zero-length stdin frame. */
#include "shim_internal.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* A file epoll cannot watch is read on this timer instead, while there is room. */
#define STDIN_POLL_MS 1
/* Chunks read per timer tick at most. */
#define STDIN_CHUNKS_PER_TICK 8

static bool proxy_has_room(const struct shim *s)
{
	return s->proxy != NULL && !s->exiting && event_fd_queued(s->proxy) < SHIM_PROXY_HIGH;
}

static void stdin_ended(struct shim *s)
{
	s->stdin_eof = true;
	shim_send_stdin_eof(s); /* or shim_connected() will */
}

static void stdin_readable(struct event_fd *efd, void *data)
{
	struct shim *s = data;
	uint8_t buf[SHIM_STDIN_CHUNK];
	ssize_t n;

	if (!proxy_has_room(s)) {
		event_fd_set_reading(efd, false); /* shim_stdin_resume() */
		return;
	}
	n = event_fd_read(efd, buf, sizeof(buf));
	if (n > 0)
		shim_proxy_send(s, PROXY_TYPE_STREAM, PROXY_STREAM_STDIN, buf, (size_t)n);
	/* 0 or -1: nothing now, or the end (stdin_hangup() follows) */
}

static void stdin_hangup(struct event_fd *efd, void *data)
{
	struct shim *s = data;

	event_fd_close(efd);
	s->stdin_efd = NULL;
	stdin_ended(s);
}

static void stdin_tick(struct event_timer *timer, void *data)
{
	struct shim *s = data;
	uint8_t buf[SHIM_STDIN_CHUNK];

	for (int i = 0; i < STDIN_CHUNKS_PER_TICK; i++) {
		ssize_t n;

		if (!proxy_has_room(s)) {
			event_timer_disarm(timer); /* shim_stdin_resume() */
			return;
		}
		n = read(s->stdin_io.fd, buf, sizeof(buf));
		if (n > 0) {
			shim_proxy_send(s, PROXY_TYPE_STREAM, PROXY_STREAM_STDIN, buf, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n < 0)
			log_debug("stdin: %s", strerror(errno));
		event_timer_free(timer);
		s->stdin_timer = NULL;
		stdin_ended(s);
		return;
	}
}

int shim_stdin_open(struct shim *s, kata_error_t *err)
{
	static const struct event_fd_ops ops = {
		.readable = stdin_readable,
		.hangup = stdin_hangup,
	};
	cleanup_error kata_error_t add_err = NULL;

	shim_stdio_open(&s->stdin_io, STDIN_FILENO, O_RDONLY);
	if (s->stdin_io.fd < 0) {
		s->stdin_eof = true; /* not open: an empty stdin */
		return 0;
	}
	s->stdin_efd = event_fd_add(s->loop, s->stdin_io.fd, &ops, s, EVENT_FD_NO_CLOSE, &add_err);
	if (s->stdin_efd != NULL) {
		event_fd_set_reading(s->stdin_efd, false); /* until connected */
		return 0;
	}
	if (add_err->errno_value != EPERM) {
		kata_error_move(err, &add_err);
		return kata_error_wrap(err, "stdin");
	}
	s->stdin_timer = event_timer_add(s->loop, STDIN_POLL_MS, STDIN_POLL_MS, stdin_tick, s, err);
	if (s->stdin_timer == NULL)
		return kata_error_wrap(err, "stdin");
	event_timer_disarm(s->stdin_timer); /* until connected */
	return 0;
}

void shim_stdin_resume(struct shim *s)
{
	if (!proxy_has_room(s))
		return;
	if (s->stdin_efd != NULL)
		event_fd_set_reading(s->stdin_efd, true);
	else if (s->stdin_timer != NULL)
		event_timer_rearm(s->stdin_timer, STDIN_POLL_MS, STDIN_POLL_MS);
}

void shim_stdin_stop(struct shim *s)
{
	event_fd_close(s->stdin_efd);
	s->stdin_efd = NULL;
	event_timer_free(s->stdin_timer);
	s->stdin_timer = NULL;
}

void shim_stdin_close(struct shim *s)
{
	s->stdin_efd = NULL; /* freed with the loop */
	s->stdin_timer = NULL;
	shim_stdio_close(&s->stdin_io);
}
