/* Finding the proxy: at start, and again when the connection is lost (as cc-shim did:
 * every SHIM_RECONNECT_INTERVAL_MS, for SHIM_RECONNECT_TIMEOUT_MS, then give up). */
#include "shim_internal.h"
#include "cleanup.h"
#include "fd_util.h"
#include "log.h"
#include "unix_socket.h"

#include <stdlib.h>
#include <unistd.h>

static int try_connect(struct shim *s)
{
	cleanup_error kata_error_t err = NULL;
	int fd = unix_socket_connect(s->opts->socket_path, 0, &err);

	if (fd >= 0 && shim_proxy_attach(s, fd, &err) < 0) {
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		free(s->last_connect_error);
		s->last_connect_error = xstrdup(err->message);
		return -1;
	}
	s->connected_once = true;
	shim_connected(s);
	return 0;
}

static void reconnect_tick(struct event_timer *timer, void *data)
{
	struct shim *s = data;

	if (s->done || try_connect(s) == 0) {
		event_timer_disarm(timer);
		return;
	}
	if (now_ms() - s->lost_at_ms < SHIM_RECONNECT_TIMEOUT_MS)
		return;
	event_timer_disarm(timer);
	if (s->connected_once)
		shim_fail(s, SHIM_EXIT_PROXY_LOST,
		          "lost the connection to the proxy at %s and could not reconnect "
		          "within %d ms: %s",
		          s->opts->socket_path, SHIM_RECONNECT_TIMEOUT_MS, s->last_connect_error);
	else
		shim_fail(s, SHIM_EXIT_PROXY_LOST,
		          "could not connect to the proxy at %s within %d ms: %s",
		          s->opts->socket_path, SHIM_RECONNECT_TIMEOUT_MS, s->last_connect_error);
}

static int arm_retries(struct shim *s, kata_error_t *err)
{
	s->lost_at_ms = now_ms();
	if (s->reconnect_timer != NULL) {
		event_timer_rearm(s->reconnect_timer, SHIM_RECONNECT_INTERVAL_MS,
		                  SHIM_RECONNECT_INTERVAL_MS);
		return 0;
	}
	s->reconnect_timer = event_timer_add(s->loop, SHIM_RECONNECT_INTERVAL_MS,
	                                     SHIM_RECONNECT_INTERVAL_MS, reconnect_tick, s, err);
	return s->reconnect_timer == NULL ? -1 : 0;
}

int shim_reconnect_first(struct shim *s, kata_error_t *err)
{
	if (try_connect(s) == 0)
		return 0;
	log_debug("proxy: %s; retrying", s->last_connect_error);
	return arm_retries(s, err);
}

void shim_reconnect_start(struct shim *s)
{
	cleanup_error kata_error_t err = NULL;

	s->proxy_lost = false;
	proxy_frame_buffer_reset(&s->reader); /* a new connection starts on a frame */
	log_info("proxy: connection lost, reconnecting");
	if (arm_retries(s, &err) < 0)
		shim_fail(s, SHIM_EXIT_PROXY_LOST, "reconnect: %s", err->message);
}
