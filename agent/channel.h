/* One virtio-serial port to the host (control or I/O): frames in, queued bytes out, and
 * the host end coming and going (the port reads end-of-file and polls as hung up while
 * nothing is connected on the host side; what is queued stays queued meanwhile: lib/event's
 * EVENT_FD_RECONNECTS). */
#ifndef KATA_AGENT_CHANNEL_H
#define KATA_AGENT_CHANNEL_H

#include "agent_frame.h"
#include "event.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct agent_channel;

struct agent_channel_ops {
	agent_frame_cb frame;
	/* The output queue fell to or below the low-water mark. */
	void (*drained)(struct agent_channel *ch, void *opaque);
};

struct agent_channel {
	const char *name;
	struct event_fd *efd;
	struct agent_frame_decoder decoder;
	struct agent_channel_ops ops;
	void *opaque;
};

/* Takes ownership of fd (a /dev/vportNpM opened O_RDWR). io selects the frame format. */
int agent_channel_open(struct agent_channel *ch, struct event_loop *loop, const char *name, int fd,
                       bool io, const struct agent_channel_ops *ops, void *opaque,
                       kata_error_t *err);
void agent_channel_close(struct agent_channel *ch);

/* Queues one frame (header then payload) and writes what the port takes now. */
void agent_channel_send(struct agent_channel *ch, const void *header, size_t header_len,
                        const void *payload, size_t payload_len);
void agent_channel_set_reading(struct agent_channel *ch, bool reading);

static inline bool agent_channel_host_connected(const struct agent_channel *ch)
{
	return !event_fd_is_hung_up(ch->efd);
}

static inline size_t agent_channel_queued(const struct agent_channel *ch)
{
	return event_fd_queued(ch->efd);
}

static inline int agent_channel_fd(const struct agent_channel *ch)
{
	return event_fd_get_fd(ch->efd);
}

#endif
