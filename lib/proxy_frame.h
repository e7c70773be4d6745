/* Encoding and decoding of proxy protocol frames (proxy_proto.h): the one codec of that
 * wire, shared by kata-proxy, kata-shim and kata-runtime's proxy client.
 *
 * Decoding is incremental: feed whatever bytes arrived into a struct proxy_frame_buffer
 * and take complete frames out of it. Nothing a peer sends can make it allocate more than
 * its header size plus max_payload (plus the room asked for the next read). A buffer gives
 * up on a frame it cannot take (the proxy ends that client), or, in resync mode (the shim,
 * which has no other peer to talk to, as cc-shim did), drops it and stays in step by
 * skipping its bytes as they arrive.
 */
#ifndef KATA_PROXY_FRAME_H
#define KATA_PROXY_FRAME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "event.h"
#include "proxy_proto.h"

struct proxy_frame {
	uint16_t version;
	uint8_t header_words; /* header length in 32-bit words, >= PROXY_HEADER_WORDS */
	uint8_t flags;        /* high nibble of byte 6, e.g. PROXY_FLAG_ERROR */
	uint8_t type;         /* enum proxy_frame_type */
	uint8_t opcode;
	uint32_t payload_length;
	const unsigned char *payload; /* points into the decoded buffer */
};

/* Decodes one frame from buf[0..len). Returns the frame's whole size (> 0) when a frame is
 * complete, 0 when more bytes are needed, -1 with *err set when the bytes can never be a
 * valid frame (header length below 3 words, payload above max_payload): the stream
 * cannot be resynchronised. A frame whose version is not PROXY_PROTO_VERSION is still
 * returned (its version says so) so that the caller can drop it and go on. */
ssize_t proxy_frame_decode(const void *buf, size_t len, uint32_t max_payload,
                           struct proxy_frame *frame, kata_error_t *err);

/* Writes a version-2, 3-word header. */
void proxy_frame_put_header(unsigned char header[PROXY_HEADER_SIZE], uint8_t type, uint8_t opcode,
                            uint8_t flags, uint32_t payload_length);

/* A whole frame in a new buffer of *size bytes. */
unsigned char *proxy_frame_encode(uint8_t type, uint8_t opcode, uint8_t flags, const void *payload,
                                  uint32_t payload_length, size_t *size);

/* Queues one frame (header and payload) on an event-loop descriptor (event_fd_writev). */
int proxy_frame_send(struct event_fd *efd, uint8_t type, uint8_t opcode, uint8_t flags,
                     const void *payload, size_t len, kata_error_t *err);

/* Accumulates bytes read from a stream socket. */
struct proxy_frame_buffer {
	unsigned char *data;
	size_t len, cap;
	size_t consumed; /* bytes of data already handed out as frames */
	uint32_t max_payload;
	bool resync;   /* drop a bad frame and go on, rather than give up */
	uint64_t skip; /* resync: bytes of a dropped frame still to discard */
};

/* What proxy_frame_buffer_next() found. */
enum proxy_frame_status {
	PROXY_FRAME_BROKEN = -1,   /* not a frame (*err says why): the stream cannot go on */
	PROXY_FRAME_NEED_MORE = 0, /* read more bytes into the buffer */
	PROXY_FRAME_READY = 1,     /* *frame holds a whole frame */
	PROXY_FRAME_DROPPED = 2,   /* resync mode: a frame was dropped (*err says why) */
};

void proxy_frame_buffer_init(struct proxy_frame_buffer *fb, uint32_t max_payload);
/* Resync mode: frames of another version, with a header below 3 words or a payload above
 * max_payload are dropped whole (their bytes are skipped as they arrive, never stored). */
void proxy_frame_buffer_init_resync(struct proxy_frame_buffer *fb, uint32_t max_payload);
/* Forgets every byte buffered or still to skip (a new connection starts on a frame). */
void proxy_frame_buffer_reset(struct proxy_frame_buffer *fb);
void proxy_frame_buffer_free(struct proxy_frame_buffer *fb);
/* Bytes buffered and not yet handed out as frames. */
size_t proxy_frame_buffer_pending(const struct proxy_frame_buffer *fb);
/* Room for at least `want` more bytes: returns where to read(2) to and how much fits. */
unsigned char *proxy_frame_buffer_space(struct proxy_frame_buffer *fb, size_t want, size_t *room);
void proxy_frame_buffer_commit(struct proxy_frame_buffer *fb, size_t n);
/* Takes out the next complete frame: PROXY_FRAME_READY when *frame is set (valid until the
 * next call to any function of the buffer), PROXY_FRAME_NEED_MORE when none is complete yet,
 * PROXY_FRAME_BROKEN (never in resync mode) or PROXY_FRAME_DROPPED with *err set. */
int proxy_frame_buffer_next(struct proxy_frame_buffer *fb, struct proxy_frame *frame,
                            kata_error_t *err);

/* "command", "response", ... for logs. */
const char *proxy_frame_type_name(uint8_t type);
const char *proxy_command_name(uint8_t opcode);

#endif
