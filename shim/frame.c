#include "frame.h"
#include "cleanup.h"

#include <stdlib.h>
#include <string.h>

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void shim_frame_reader_init(struct shim_frame_reader *reader, uint32_t max_payload)
{
	memset(reader, 0, sizeof(*reader));
	reader->max_payload = max_payload;
	/* The largest frame kept whole, so one always fits once the buffer is compacted. */
	reader->cap = SHIM_FRAME_MAX_HEADER + (size_t)max_payload;
	reader->buf = xmalloc(reader->cap);
}

void shim_frame_reader_reset(struct shim_frame_reader *reader)
{
	reader->start = 0;
	reader->end = 0;
	reader->skip = 0;
}

void shim_frame_reader_free(struct shim_frame_reader *reader)
{
	free(reader->buf);
	reader->buf = NULL;
	reader->cap = 0;
	shim_frame_reader_reset(reader);
}

uint8_t *shim_frame_reader_space(struct shim_frame_reader *reader, size_t *avail)
{
	if (reader->start == reader->end) {
		reader->start = 0;
		reader->end = 0;
	} else if (reader->end == reader->cap && reader->start > 0) {
		memmove(reader->buf, reader->buf + reader->start, reader->end - reader->start);
		reader->end -= reader->start;
		reader->start = 0;
	}
	*avail = reader->cap - reader->end;
	return reader->buf + reader->end;
}

void shim_frame_reader_commit(struct shim_frame_reader *reader, size_t n)
{
	if (n > reader->cap - reader->end)
		abort(); /* a caller bug, not a peer's */
	reader->end += n;
}

size_t shim_frame_reader_pending(const struct shim_frame_reader *reader)
{
	return reader->end - reader->start;
}

/* Discards what is buffered of a dropped frame; true when nothing is left to skip. */
static int skip_dropped(struct shim_frame_reader *reader)
{
	size_t have = reader->end - reader->start;
	size_t n = reader->skip < have ? (size_t)reader->skip : have;

	reader->start += n;
	reader->skip -= n;
	return reader->skip == 0;
}

enum shim_frame_status shim_frame_reader_next(struct shim_frame_reader *reader,
                                              struct shim_frame *frame, const char **why)
{
	const uint8_t *h;
	size_t have, header_size;
	uint8_t words;

	if (reader->skip > 0 && !skip_dropped(reader))
		return SHIM_FRAME_NEED_MORE;
	have = reader->end - reader->start;
	if (have < PROXY_HEADER_SIZE)
		return SHIM_FRAME_NEED_MORE;
	h = reader->buf + reader->start;
	frame->version = get_be16(h + PROXY_VERSION_OFFSET);
	words = h[PROXY_HEADER_LENGTH_OFFSET];
	frame->flags = h[PROXY_FLAGS_TYPE_OFFSET] & PROXY_FLAGS_MASK;
	frame->type = h[PROXY_FLAGS_TYPE_OFFSET] & PROXY_TYPE_MASK;
	frame->opcode = h[PROXY_OPCODE_OFFSET];
	frame->length = get_be32(h + PROXY_PAYLOAD_LENGTH_OFFSET);
	header_size = words < PROXY_HEADER_WORDS ? PROXY_HEADER_SIZE : (size_t)words * 4;

	if (frame->version != PROXY_PROTO_VERSION || words < PROXY_HEADER_WORDS ||
	    frame->length > reader->max_payload) {
		if (frame->version != PROXY_PROTO_VERSION)
			*why = "unsupported protocol version";
		else if (words < PROXY_HEADER_WORDS)
			*why = "header length below 3 words";
		else
			*why = "payload larger than the limit";
		reader->skip = (uint64_t)header_size + frame->length;
		skip_dropped(reader);
		return SHIM_FRAME_DROPPED;
	}
	if (have < header_size + frame->length)
		return SHIM_FRAME_NEED_MORE;
	frame->payload = h + header_size;
	reader->start += header_size + frame->length;
	return SHIM_FRAME_READY;
}
