/* Zero-copy output. The bytes move as page references: a pipe's worth from the process's
 * pipe into the agent's data pipe at once (so the writer is woken once, not once a frame),
 * then a frame at a time behind its header in the agent's frame pipe, and to the port, which
 * takes a whole frame as one buffer (virtio_console's splice_write). Under TCG each copy of
 * a frame and each port write is emulated: this is most of a stream's cost. */
#include "relay.h"

#include "agent_proto.h"
#include "frame.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>

#define FRAME_PAYLOAD (AGENT_IO_MAX_FRAME - AGENT_IO_HEADER_SIZE)
/* The frame pipe holds a header and a frame's pages, each in its own slot. */
#define FRAME_PIPE_SIZE (2 * FRAME_PAYLOAD)
#define DATA_PIPE_SIZE  (1024 * 1024)
#define SPLICE_FLAGS    (SPLICE_F_MOVE | SPLICE_F_NONBLOCK)

static struct {
	int data[2];
	int frame[2];
	size_t data_size;
	bool opened;
	bool unusable; /* no pipes, or a port that cannot be spliced to: copy instead */
} relay = { { -1, -1 }, { -1, -1 }, 0, false, false };

static bool relay_open(void)
{
	int size;

	if (relay.unusable)
		return false;
	if (relay.opened)
		return true;
	if (pipe2(relay.data, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    pipe2(relay.frame, O_CLOEXEC | O_NONBLOCK) < 0 ||
	    fcntl(relay.frame[1], F_SETPIPE_SZ, FRAME_PIPE_SIZE) < 0) {
		log_warning("relay: no pipes (%m): output is copied");
		relay.unusable = true;
		return false;
	}
	/* A smaller data pipe only means more rounds. */
	(void)fcntl(relay.data[1], F_SETPIPE_SZ, DATA_PIPE_SIZE);
	size = fcntl(relay.data[1], F_GETPIPE_SZ);
	relay.data_size = size > 0 ? (size_t)size : FRAME_PAYLOAD;
	relay.opened = true;
	return true;
}

/* Reads exactly len bytes (or what there is) of a relay pipe into buf. */
static size_t read_pipe(int fd, unsigned char *buf, size_t len)
{
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	return got;
}

/* The port took no more: the frame in the frame pipe, the rest of its payload (frame_left
 * bytes at the head of the data pipe) and then the data pipe's other bytes, framed, go to
 * the channel's queue, which writes them when the port has room. */
static void queue_rest(struct agent_channel *io, uint64_t seq, size_t frame_left)
{
	static unsigned char buf[AGENT_IO_MAX_FRAME];
	size_t len = read_pipe(relay.frame[0], buf, sizeof(buf));

	len += read_pipe(relay.data[0], buf + len, frame_left);
	if (len > 0)
		agent_channel_send(io, buf, len, NULL, 0);
	for (;;) {
		len = read_pipe(relay.data[0], buf + AGENT_IO_HEADER_SIZE, FRAME_PAYLOAD);
		if (len == 0)
			break;
		agent_frame_put_io_header(buf, seq, len);
		agent_channel_send(io, buf, AGENT_IO_HEADER_SIZE + len, NULL, 0);
	}
}

/* One frame from the data pipe to the port. Returns how much of its payload was not put
 * into the frame pipe (0 normally), or -1 when the whole frame went to the port. */
static ssize_t send_frame(struct agent_channel *io, uint64_t seq, size_t len)
{
	unsigned char header[AGENT_IO_HEADER_SIZE];
	ssize_t moved, sent;
	size_t frame_len;

	agent_frame_put_io_header(header, seq, len);
	if (write(relay.frame[1], header, sizeof(header)) != (ssize_t)sizeof(header)) {
		/* Cannot happen with an empty pipe; keep the stream whole anyway. */
		log_warning("relay: frame pipe: %m");
		agent_channel_send(io, header, sizeof(header), NULL, 0);
		return (ssize_t)len;
	}
	moved = splice(relay.data[0], NULL, relay.frame[1], NULL, len, SPLICE_FLAGS);
	if (moved < 0)
		moved = 0;
	frame_len = sizeof(header) + (size_t)moved;
	sent = splice(relay.frame[0], NULL, io->fd, NULL, frame_len, SPLICE_FLAGS);
	if (sent == 0) {
		/* virtio_console frees the pages of a buffer its virtqueue refused */
		log_warning("relay: the port dropped a frame of %zu bytes", frame_len);
	} else if (sent < 0 && errno != EAGAIN && errno != EINTR) {
		log_warning("relay: splice to the port: %m; output is copied from now on");
		relay.unusable = true;
	}
	if (sent == (ssize_t)frame_len && (size_t)moved == len)
		return -1;
	return (ssize_t)(len - (size_t)moved);
}

ssize_t agent_relay_send(struct agent_channel *io, int src, uint64_t seq, size_t max)
{
	ssize_t n;
	size_t left;

	if (!io->host_connected || agent_channel_queued(io) > 0 || !relay_open()) {
		errno = EBUSY;
		return -1;
	}
	if (max > relay.data_size)
		max = relay.data_size;
	n = splice(src, NULL, relay.data[1], NULL, max, SPLICE_FLAGS);
	if (n <= 0)
		return n; /* 0: end of file; EAGAIN: empty; EINVAL: not a pipe */
	for (left = (size_t)n; left > 0;) {
		size_t len = left < FRAME_PAYLOAD ? left : FRAME_PAYLOAD;
		ssize_t frame_left = send_frame(io, seq, len);

		left -= len;
		if (frame_left >= 0) {
			queue_rest(io, seq, (size_t)frame_left);
			break;
		}
	}
	return n;
}
