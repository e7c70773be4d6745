/* Proxy protocol frames: encoding, decoding, accumulation (proxy_frame.h). */
#include "proxy_frame.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static uint16_t get_u16(const unsigned char *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

static uint32_t get_u32(const unsigned char *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

ssize_t proxy_frame_decode(const void *buf, size_t len, uint32_t max_payload,
                           struct proxy_frame *frame, kata_error_t *err)
{
	const unsigned char *p = buf;
	size_t header_size;

	if (len < PROXY_HEADER_SIZE)
		return 0;
	frame->version = get_u16(p + PROXY_VERSION_OFFSET);
	frame->header_words = p[PROXY_HEADER_LENGTH_OFFSET];
	frame->flags = p[PROXY_FLAGS_TYPE_OFFSET] & PROXY_FLAGS_MASK;
	frame->type = p[PROXY_FLAGS_TYPE_OFFSET] & PROXY_TYPE_MASK;
	frame->opcode = p[PROXY_OPCODE_OFFSET];
	frame->payload_length = get_u32(p + PROXY_PAYLOAD_LENGTH_OFFSET);
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
	header[PROXY_VERSION_OFFSET] = PROXY_PROTO_VERSION >> 8;
	header[PROXY_VERSION_OFFSET + 1] = PROXY_PROTO_VERSION & 0xff;
	header[PROXY_HEADER_LENGTH_OFFSET] = PROXY_HEADER_WORDS;
	header[PROXY_FLAGS_TYPE_OFFSET] = (flags & PROXY_FLAGS_MASK) | (type & PROXY_TYPE_MASK);
	header[PROXY_OPCODE_OFFSET] = opcode;
	header[PROXY_PAYLOAD_LENGTH_OFFSET] = payload_length >> 24;
	header[PROXY_PAYLOAD_LENGTH_OFFSET + 1] = payload_length >> 16;
	header[PROXY_PAYLOAD_LENGTH_OFFSET + 2] = payload_length >> 8;
	header[PROXY_PAYLOAD_LENGTH_OFFSET + 3] = payload_length;
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

void proxy_frame_buffer_init(struct proxy_frame_buffer *fb, uint32_t max_payload)
{
	memset(fb, 0, sizeof(*fb));
	fb->max_payload = max_payload;
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

int proxy_frame_buffer_next(struct proxy_frame_buffer *fb, struct proxy_frame *frame,
                            kata_error_t *err)
{
	ssize_t n;

	if (fb->data == NULL)
		return 0;
	n = proxy_frame_decode(fb->data + fb->consumed, fb->len - fb->consumed, fb->max_payload,
	                       frame, err);
	if (n <= 0)
		return (int)n;
	fb->consumed += n;
	if (fb->consumed == fb->len)
		fb->consumed = fb->len = 0; /* the frame's bytes stay in place until next call */
	return 1;
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
