/* Proxy protocol frames: encoding, decoding, accumulation (proxy_frame.h). */
#include "proxy_frame.h"
#include "byte_order.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

ssize_t proxy_frame_decode(const void *buf, size_t len, uint32_t max_payload,
                           struct proxy_frame *frame, kata_error_t *err)
{
	const unsigned char *p = buf;
	size_t header_size;

	if (len < PROXY_HEADER_SIZE)
		return 0;
	frame->version = get_be16(p + PROXY_VERSION_OFFSET);
	frame->header_words = p[PROXY_HEADER_LENGTH_OFFSET];
	frame->flags = p[PROXY_FLAGS_TYPE_OFFSET] & PROXY_FLAGS_MASK;
	frame->type = p[PROXY_FLAGS_TYPE_OFFSET] & PROXY_TYPE_MASK;
	frame->opcode = p[PROXY_OPCODE_OFFSET];
	frame->payload_length = get_be32(p + PROXY_PAYLOAD_LENGTH_OFFSET);
	if (frame->header_words < PROXY_HEADER_WORDS)
		return kata_error_set(err, EPROTO, "frame header length %u words, below %u",
		                      frame->header_words, PROXY_HEADER_WORDS);
	if (frame->payload_length > max_payload)
		return kata_error_set(err, EMSGSIZE, "frame payload of %u bytes, above %u",
		                      frame->payload_length, max_payload);
	/* A longer header (a later version) is skipped: the payload follows it. */
	header_size = (size_t)frame->header_words * 4;
	if (len < header_size + frame->payload_length)
		return 0;
	frame->payload = p + header_size;
	return (ssize_t)(header_size + frame->payload_length);
}

void proxy_frame_put_header(unsigned char header[PROXY_HEADER_SIZE], uint8_t type, uint8_t opcode,
                            uint8_t flags, uint32_t payload_length)
{
	memset(header, 0, PROXY_HEADER_SIZE);
	put_be16(header + PROXY_VERSION_OFFSET, PROXY_PROTO_VERSION);
	header[PROXY_HEADER_LENGTH_OFFSET] = PROXY_HEADER_WORDS;
	header[PROXY_FLAGS_TYPE_OFFSET] = (flags & PROXY_FLAGS_MASK) | (type & PROXY_TYPE_MASK);
	header[PROXY_OPCODE_OFFSET] = opcode;
	put_be32(header + PROXY_PAYLOAD_LENGTH_OFFSET, payload_length);
}

unsigned char *proxy_frame_encode(uint8_t type, uint8_t opcode, uint8_t flags, const void *payload,
                                  uint32_t payload_length, size_t *size)
{
	unsigned char *frame = xmalloc(PROXY_HEADER_SIZE + (size_t)payload_length);

	proxy_frame_put_header(frame, type, opcode, flags, payload_length);
	if (payload_length > 0)
		memcpy(frame + PROXY_HEADER_SIZE, payload, payload_length);
	*size = PROXY_HEADER_SIZE + (size_t)payload_length;
	return frame;
}

int proxy_frame_send(struct event_fd *efd, uint8_t type, uint8_t opcode, uint8_t flags,
                     const void *payload, size_t len, kata_error_t *err)
{
	unsigned char header[PROXY_HEADER_SIZE];
	struct iovec iov[2] = { { header, sizeof(header) }, { (void *)payload, len } };

	proxy_frame_put_header(header, type, opcode, flags, (uint32_t)len);
	return event_fd_writev(efd, iov, 2, err);
}

void proxy_frame_buffer_init(struct proxy_frame_buffer *fb, uint32_t max_payload)
{
	memset(fb, 0, sizeof(*fb));
	fb->max_payload = max_payload;
}

void proxy_frame_buffer_init_resync(struct proxy_frame_buffer *fb, uint32_t max_payload)
{
	proxy_frame_buffer_init(fb, max_payload);
	fb->resync = true;
}

void proxy_frame_buffer_reset(struct proxy_frame_buffer *fb)
{
	fb->len = fb->consumed = 0;
	fb->skip = 0;
}

size_t proxy_frame_buffer_pending(const struct proxy_frame_buffer *fb)
{
	return fb->len - fb->consumed;
}

void proxy_frame_buffer_free(struct proxy_frame_buffer *fb)
{
	free(fb->data);
	memset(fb, 0, sizeof(*fb));
}

unsigned char *proxy_frame_buffer_space(struct proxy_frame_buffer *fb, size_t want, size_t *room)
{
	if (fb->consumed > 0) {
		memmove(fb->data, fb->data + fb->consumed, fb->len - fb->consumed);
		fb->len -= fb->consumed;
		fb->consumed = 0;
	}
	if (fb->cap - fb->len < want) {
		size_t cap = fb->cap ? fb->cap : 4096;
		while (cap - fb->len < want)
			cap *= 2;
		fb->data = xrealloc(fb->data, cap);
		fb->cap = cap;
	}
	*room = fb->cap - fb->len;
	return fb->data + fb->len;
}

void proxy_frame_buffer_commit(struct proxy_frame_buffer *fb, size_t n)
{
	fb->len += n;
}

/* Hands out n bytes of the buffer (a frame, or bytes skipped). */
static void buffer_consume(struct proxy_frame_buffer *fb, size_t n)
{
	fb->consumed += n;
	if (fb->consumed == fb->len)
		fb->consumed = fb->len = 0; /* a frame's bytes stay in place until next call */
}

/* Discards what is buffered of a dropped frame; true when nothing is left to skip. */
static bool skip_dropped(struct proxy_frame_buffer *fb)
{
	size_t have = fb->len - fb->consumed;
	size_t n = fb->skip < have ? (size_t)fb->skip : have;

	buffer_consume(fb, n);
	fb->skip -= n;
	return fb->skip == 0;
}

/* Resync mode: the header in *frame cannot be taken; its frame is skipped whole. */
static int drop_frame(struct proxy_frame_buffer *fb, const struct proxy_frame *frame,
                      kata_error_t *err)
{
	size_t header_size = frame->header_words < PROXY_HEADER_WORDS
	                             ? PROXY_HEADER_SIZE
	                             : (size_t)frame->header_words * 4;

	if (frame->version != PROXY_PROTO_VERSION) {
		kata_error_free(err);
		kata_error_set(err, EPROTO, "unsupported protocol version %u", frame->version);
	}
	fb->skip = (uint64_t)header_size + frame->payload_length;
	skip_dropped(fb);
	return PROXY_FRAME_DROPPED;
}

int proxy_frame_buffer_next(struct proxy_frame_buffer *fb, struct proxy_frame *frame,
                            kata_error_t *err)
{
	ssize_t n;

	if (fb->data == NULL || (fb->skip > 0 && !skip_dropped(fb)))
		return PROXY_FRAME_NEED_MORE;
	n = proxy_frame_decode(fb->data + fb->consumed, fb->len - fb->consumed, fb->max_payload,
	                       frame, err);
	if (fb->resync && fb->len - fb->consumed >= PROXY_HEADER_SIZE &&
	    (n < 0 || frame->version != PROXY_PROTO_VERSION))
		return drop_frame(fb, frame, err);
	if (n < 0)
		return PROXY_FRAME_BROKEN;
	if (n == 0)
		return PROXY_FRAME_NEED_MORE;
	buffer_consume(fb, (size_t)n);
	return PROXY_FRAME_READY;
}

const char *proxy_frame_type_name(uint8_t type)
{
	static const char *const names[] = { "command", "response", "stream", "notification" };

	return type < 4 ? names[type] : "unknown";
}

const char *proxy_command_name(uint8_t opcode)
{
	static const char *const names[] = { "RegisterVM",  "UnregisterVM",   "AttachVM", "Hyper",
		                             "ConnectShim", "DisconnectShim", "Signal" };

	return opcode < 7 ? names[opcode] : "unknown";
}
