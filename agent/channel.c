#include "channel.h"

#include "log.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define READ_CHUNK (64u * 1024)

static void update_events(struct agent_channel *ch)
{
	uint32_t events;

	if (!ch->host_connected) {
		/* Edge-triggered: the port polls as hung up all the time while the host is
		 * away; its wake-up when the host connects is the edge we wait for. */
		events = EPOLLIN | EPOLLOUT | EPOLLET;
	} else {
		events = (ch->reading ? EPOLLIN : 0) | (bytequeue_len(&ch->out) ? EPOLLOUT : 0);
	}
	agent_watch_set_events(ch->watch, events);
}

static void set_disconnected(struct agent_channel *ch)
{
	if (!ch->host_connected)
		return;
	log_info("channel %s: host disconnected", ch->name);
	ch->host_connected = false;
	/* A frame cut in half by the disconnect can never be completed. */
	agent_frame_decoder_reset(&ch->decoder);
	update_events(ch);
}

static void flush(struct agent_channel *ch)
{
	ssize_t n;

	if (!ch->host_connected || bytequeue_len(&ch->out) == 0)
		return;
	n = bytequeue_flush(&ch->out, ch->fd);
	if (n < 0 && errno != EAGAIN) {
		log_warning("channel %s: write: %m", ch->name);
		set_disconnected(ch);
		return;
	}
	update_events(ch);
	if (ch->above_low_water && bytequeue_len(&ch->out) <= ch->low_water) {
		ch->above_low_water = false;
		if (ch->ops.drained != NULL)
			ch->ops.drained(ch, ch->opaque);
	}
}

void agent_channel_poll_host(struct agent_channel *ch)
{
	struct pollfd pfd = { .fd = ch->fd, .events = POLLIN | POLLOUT };

	if (ch->host_connected)
		return;
	if (poll(&pfd, 1, 0) < 0 || (pfd.revents & (POLLHUP | POLLERR)))
		return;
	log_info("channel %s: host connected", ch->name);
	ch->host_connected = true;
	/* Force a fresh epoll registration state. */
	agent_watch_set_events(ch->watch, 0);
	update_events(ch);
	flush(ch);
}

static void read_frames(struct agent_channel *ch)
{
	unsigned char buf[READ_CHUNK];
	ssize_t n = read(ch->fd, buf, sizeof(buf));

	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		log_warning("channel %s: read: %m", ch->name);
		set_disconnected(ch);
		return;
	}
	if (n == 0) {
		set_disconnected(ch);
		return;
	}
	agent_frame_feed(&ch->decoder, buf, (size_t)n, ch->ops.frame, ch->opaque);
}

static void channel_ready(struct agent_watch *watch, uint32_t revents, void *data)
{
	struct agent_channel *ch = data;

	if (!ch->host_connected) {
		agent_channel_poll_host(ch);
		return;
	}
	if (revents & EPOLLOUT)
		flush(ch);
	if ((revents & EPOLLIN) && ch->reading && ch->host_connected)
		read_frames(ch);
	else if (revents & (EPOLLHUP | EPOLLERR))
		set_disconnected(ch);
}

int agent_channel_open(struct agent_channel *ch, struct agent_loop *loop, const char *name, int fd,
                       bool io, const struct agent_channel_ops *ops, void *opaque,
                       kata_error_t *err)
{
	memset(ch, 0, sizeof(*ch));
	ch->name = name;
	ch->fd = fd;
	ch->ops = *ops;
	ch->opaque = opaque;
	ch->reading = true;
	ch->low_water = 64u * 1024;
	if (io)
		agent_frame_decoder_init_io(&ch->decoder);
	else
		agent_frame_decoder_init_ctl(&ch->decoder);
	ch->watch = agent_watch_add(loop, fd, EPOLLIN | EPOLLOUT | EPOLLET, channel_ready, ch, err);
	if (ch->watch == NULL)
		return kata_error_wrap(err, "channel %s", name);
	agent_channel_poll_host(ch);
	return 0;
}

void agent_channel_close(struct agent_channel *ch)
{
	agent_watch_remove(ch->watch);
	ch->watch = NULL;
	if (ch->fd >= 0)
		close(ch->fd);
	ch->fd = -1;
	agent_frame_decoder_free(&ch->decoder);
	bytequeue_clear(&ch->out);
}

void agent_channel_send(struct agent_channel *ch, const void *header, size_t header_len,
                        const void *payload, size_t payload_len)
{
	bytequeue_append(&ch->out, header, header_len);
	bytequeue_append(&ch->out, payload, payload_len);
	if (bytequeue_len(&ch->out) > ch->low_water)
		ch->above_low_water = true;
	flush(ch);
	update_events(ch);
}

void agent_channel_set_reading(struct agent_channel *ch, bool reading)
{
	if (ch->reading == reading)
		return;
	ch->reading = reading;
	update_events(ch);
}
