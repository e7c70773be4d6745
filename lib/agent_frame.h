/* The agent wire format's frames (agent_proto.h), both channels, both sides: the one
 * encoder and the one decoder that kata-agent, kata-proxy, the fake agent and the test
 * tools share. The decoder is incremental (bytes go in as they arrive from a virtio-serial
 * port, whole frames come out through a callback) and bounded: a length field is never
 * trusted, a frame above the channel's maximum is reported and skipped, never allocated.
 * Pure code, no I/O: unit-tested and fuzzed (tests/fuzz/fuzz_agent_frame.c). */
#ifndef KATA_AGENT_FRAME_H
#define KATA_AGENT_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum agent_frame_event {
	AGENT_FRAME_OK = 0,
	/* The length field is smaller than the header: the frame is taken as header-only. */
	AGENT_FRAME_TOO_SHORT,
	/* The length field is above the maximum: the payload is skipped unseen. */
	AGENT_FRAME_TOO_LONG,
};

/* id is the code (control channel) or the sequence number (I/O channel). For the two
 * error events payload is NULL and length is the declared frame length. For a frame the
 * payload is never NULL (an empty one is "") and is NUL-terminated, payload[length] == 0,
 * for the JSON parser; it is valid during the call only. Returning false stops the feed:
 * the bytes not yet decoded are dropped (the peer is being given up). */
typedef bool (*agent_frame_cb)(void *opaque, enum agent_frame_event event, uint64_t id,
                               const unsigned char *payload, size_t length);

struct agent_frame_decoder {
	size_t header_size; /* AGENT_CTL_HEADER_SIZE or AGENT_IO_HEADER_SIZE */
	size_t length_offset;
	uint32_t max_frame;
	unsigned char header[16];
	size_t header_have;
	uint64_t id;
	unsigned char *payload; /* payload being gathered, of payload_size bytes */
	size_t payload_size;
	size_t payload_have;
	uint64_t discard_left; /* bytes of an oversized frame still to skip */
};

void agent_frame_decoder_init_ctl(struct agent_frame_decoder *d);
void agent_frame_decoder_init_io(struct agent_frame_decoder *d);
/* Drops any partial frame (the peer went away). */
void agent_frame_decoder_reset(struct agent_frame_decoder *d);
void agent_frame_decoder_free(struct agent_frame_decoder *d);

/* Feeds len bytes; calls cb once per complete frame or framing error, in order, until it
 * returns false. The callback must not feed the same decoder; it may reset or free it (the
 * peer went away) only if it then returns false. Returns the number of callbacks made. */
size_t agent_frame_feed(struct agent_frame_decoder *d, const unsigned char *buf, size_t len,
                        agent_frame_cb cb, void *opaque);

/* Encoders: fill a header for a frame whose payload is payload_len bytes. */
void agent_frame_put_ctl_header(unsigned char header[8], uint32_t code, size_t payload_len);
void agent_frame_put_io_header(unsigned char header[12], uint64_t seq, size_t payload_len);

#endif
