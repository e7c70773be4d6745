/* One virtio-serial port to the host (control or I/O): frames in, queued bytes out, and
 * the host end coming and going (the port reads end-of-file and polls as hung up while
 * nothing is connected on the host side; what is queued stays queued meanwhile). */
#ifndef KATA_AGENT_CHANNEL_H
#define KATA_AGENT_CHANNEL_H

#include "bytequeue.h"
#include "agent_frame.h"
#include "loop.h"

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
	int fd;
	struct agent_watch *watch;
	struct agent_frame_decoder decoder;
	struct bytequeue out;
	size_t low_water;
	bool host_connected;
	bool reading;
	bool above_low_water;
	struct agent_channel_ops ops;
	void *opaque;
};

/* Takes ownership of fd (a /dev/vportNpM opened O_RDWR). io selects the frame format. */
int agent_channel_open(struct agent_channel *ch, struct agent_loop *loop, const char *name, int fd,
                       bool io, const struct agent_channel_ops *ops, void *opaque,
                       kata_error_t *err);
void agent_channel_close(struct agent_channel *ch);

/* Queues one frame (header then payload) and writes what the port takes now. */
void agent_channel_send(struct agent_channel *ch, const void *header, size_t header_len,
                        const void *payload, size_t payload_len);
void agent_channel_set_reading(struct agent_channel *ch, bool reading);
/* Re-checks a disconnected port (called periodically as a fallback to its wake-up). */
void agent_channel_poll_host(struct agent_channel *ch);

static inline size_t agent_channel_queued(const struct agent_channel *ch)
{
	return bytequeue_len(&ch->out);
}

#endif
