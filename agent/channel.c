#include "channel.h"

#include "cleanup.h"
#include "log.h"

#include <stdint.h>
#include <string.h>

#define READ_CHUNK (64u * 1024)
#define LOW_WATER  (64u * 1024)

static void channel_readable(struct event_fd *efd, void *data)
{
	struct agent_channel *ch = data;
	unsigned char buf[READ_CHUNK];
	ssize_t n = event_fd_read(efd, buf, sizeof(buf));

	if (n < 0)
		log_warning("channel %s: read: %m", ch->name);
	if (n > 0)
		agent_frame_feed(&ch->decoder, buf, (size_t)n, ch->ops.frame, ch->opaque);
}

static void channel_hangup(struct event_fd *efd, void *data)
{
	struct agent_channel *ch = data;

	log_debug("channel %s: host disconnected", ch->name);
	/* A frame cut in half by the disconnect can never be completed. */
	agent_frame_decoder_reset(&ch->decoder);
}

static void channel_reconnected(struct event_fd *efd, void *data)
{
	struct agent_channel *ch = data;

	log_debug("channel %s: host connected", ch->name);
}

static void channel_drained(struct event_fd *efd, void *data)
{
	struct agent_channel *ch = data;

	if (ch->ops.drained != NULL)
		ch->ops.drained(ch, ch->opaque);
}

int agent_channel_open(struct agent_channel *ch, struct event_loop *loop, const char *name, int fd,
                       bool io, const struct agent_channel_ops *ops, void *opaque,
                       kata_error_t *err)
{
	static const struct event_fd_ops channel_ops = {
		.readable = channel_readable,
		.hangup = channel_hangup,
		.drained = channel_drained,
		.reconnected = channel_reconnected,
	};

	memset(ch, 0, sizeof(*ch));
	ch->name = name;
	ch->ops = *ops;
	ch->opaque = opaque;
	if (io)
		agent_frame_decoder_init_io(&ch->decoder);
	else
		agent_frame_decoder_init_ctl(&ch->decoder);
	ch->efd = event_fd_add(loop, fd, &channel_ops, ch, EVENT_FD_RECONNECTS, err);
	if (ch->efd == NULL) {
		agent_frame_decoder_free(&ch->decoder);
		return kata_error_wrap(err, "channel %s", name);
	}
	/* The agent bounds what it queues itself (it stops reading its sources). */
	event_fd_set_write_limit(ch->efd, SIZE_MAX);
	event_fd_set_low_water(ch->efd, LOW_WATER);
	if (agent_channel_host_connected(ch))
		log_debug("channel %s: host connected", name);
	return 0;
}

void agent_channel_close(struct agent_channel *ch)
{
	event_fd_close(ch->efd);
	ch->efd = NULL;
	agent_frame_decoder_free(&ch->decoder);
}

void agent_channel_send(struct agent_channel *ch, const void *header, size_t header_len,
                        const void *payload, size_t payload_len)
{
	struct iovec iov[2] = { { .iov_base = (void *)header, .iov_len = header_len },
		                { .iov_base = (void *)payload, .iov_len = payload_len } };
	cleanup_error kata_error_t err = NULL;

	/* Nothing fails but a closed channel: without a limit, a write error or an absent
	 * host keeps the bytes queued. */
	if (event_fd_writev(ch->efd, iov, 2, &err) < 0)
		log_warning("channel %s: %s", ch->name, err->message);
}

void agent_channel_set_reading(struct agent_channel *ch, bool reading)
{
	event_fd_set_reading(ch->efd, reading);
}
