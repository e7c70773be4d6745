/* Output in bulk. A pipe's worth is read from the process's pipe with one readv(2), straight
 * into frame slots that leave room for each frame's header, so the writer is woken once per
 * pipe-full and nothing is copied again in the agent; each frame then goes to the port with
 * write(2). What the port does not take goes to the channel's queue, in order.
 *
 * Not splice(2) to the port: virtio_console takes the pipe's pages before it knows whether
 * its virtqueue will accept them, and frees them when it does not (a splice that returns 0
 * has lost the bytes). A write that the port refuses leaves the bytes with the agent. Under
 * TCG the two cost about the same (docs/performance.md, "Streams"). */
#include "relay.h"

#include "agent_proto.h"
#include "agent_frame.h"
#include "child_spawn.h"

#include <errno.h>
#include <stdbool.h>
#include <sys/uio.h>
#include <unistd.h>

#define FRAME_PAYLOAD AGENT_IO_MAX_PAYLOAD
#define RELAY_FRAMES  ((int)((AGENT_STREAM_PIPE_SIZE + FRAME_PAYLOAD - 1) / FRAME_PAYLOAD))

static unsigned char slots[RELAY_FRAMES][AGENT_IO_MAX_FRAME];

/* Writes what the port takes of a frame; returns how much it took. */
static size_t write_frame(int fd, const unsigned char *frame, size_t len)
{
	size_t done = 0;

	while (done < len) {
		ssize_t n = write(fd, frame + done, len - done);

		if (n > 0)
			done += (size_t)n;
		else if (!(n < 0 && errno == EINTR))
			break; /* full (EAGAIN), or gone: the channel's queue deals with it */
	}
	return done;
}

/* Frames total bytes held in the slots and sends them: to the port while it takes them,
 * then, from the first byte it did not take, to the channel's queue. */
static void send_frames(struct agent_channel *io, uint64_t seq, size_t total)
{
	bool queueing = false;

	for (size_t i = 0, off = 0; off < total; i++) {
		size_t len = total - off < FRAME_PAYLOAD ? total - off : FRAME_PAYLOAD;
		size_t frame_len = AGENT_IO_HEADER_SIZE + len;
		size_t sent = 0;

		agent_frame_put_io_header(slots[i], seq, len);
		if (!queueing) {
			sent = write_frame(agent_channel_fd(io), slots[i], frame_len);
			queueing = sent < frame_len;
		}
		if (sent < frame_len)
			agent_channel_send(io, slots[i] + sent, frame_len - sent, NULL, 0);
		off += len;
	}
}

ssize_t agent_relay_send(struct agent_channel *io, int src, uint64_t seq, size_t max)
{
	struct iovec iov[RELAY_FRAMES];
	int count = 0;
	ssize_t n;

	if (!agent_channel_host_connected(io) || agent_channel_queued(io) > 0) {
		errno = EBUSY;
		return -1;
	}
	for (size_t left = max; left > 0 && count < RELAY_FRAMES; count++) {
		size_t len = left < FRAME_PAYLOAD ? left : FRAME_PAYLOAD;

		iov[count].iov_base = slots[count] + AGENT_IO_HEADER_SIZE;
		iov[count].iov_len = len;
		left -= len;
	}
	if (count == 0) {
		errno = EAGAIN; /* nothing asked for: not an end of file */
		return -1;
	}
	do
		n = readv(src, iov, count);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		send_frames(io, seq, (size_t)n);
	return n;
}
