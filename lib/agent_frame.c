/* The agent wire format's frames: encoders and the bounded, incremental decoder. */
#include "agent_frame.h"

#include "agent_proto.h"
#include "cleanup.h"

#include <stdlib.h>
#include <string.h>

void agent_frame_decoder_init_ctl(struct agent_frame_decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->header_size = AGENT_CTL_HEADER_SIZE;
	d->length_offset = AGENT_CTL_LENGTH_OFFSET;
	d->max_frame = AGENT_CTL_MAX_FRAME;
}

void agent_frame_decoder_init_io(struct agent_frame_decoder *d)
{
	memset(d, 0, sizeof(*d));
	d->header_size = AGENT_IO_HEADER_SIZE;
	d->length_offset = AGENT_IO_LENGTH_OFFSET;
	d->max_frame = AGENT_IO_MAX_FRAME;
}

void agent_frame_decoder_reset(struct agent_frame_decoder *d)
{
	free(d->payload);
	d->payload = NULL;
	d->payload_size = 0;
	d->payload_have = 0;
	d->header_have = 0;
	d->discard_left = 0;
}

void agent_frame_decoder_free(struct agent_frame_decoder *d)
{
	agent_frame_decoder_reset(d);
}

/* A whole header is in: decide what the frame is. Returns the number of callbacks made
 * (0 or 1); *go_on is what the callback returned. */
static size_t header_complete(struct agent_frame_decoder *d, agent_frame_cb cb, void *opaque,
                              bool *go_on)
{
	uint32_t length = get_be32(d->header + d->length_offset);

	if (d->header_size == AGENT_IO_HEADER_SIZE)
		d->id = get_be64(d->header);
	else
		d->id = get_be32(d->header);
	d->header_have = 0;

	if (length < d->header_size) {
		*go_on = cb(opaque, AGENT_FRAME_TOO_SHORT, d->id, NULL, length);
		return 1;
	}
	if (length > d->max_frame) {
		d->discard_left = length - d->header_size;
		*go_on = cb(opaque, AGENT_FRAME_TOO_LONG, d->id, NULL, length);
		return 1;
	}
	d->payload_size = length - d->header_size;
	d->payload_have = 0;
	if (d->payload_size == 0) {
		*go_on = cb(opaque, AGENT_FRAME_OK, d->id, (const unsigned char *)"", 0);
		return 1;
	}
	/* One extra byte keeps a JSON payload NUL-terminated for the parser. */
	d->payload = xmalloc(d->payload_size + 1);
	return 0;
}

size_t agent_frame_feed(struct agent_frame_decoder *d, const unsigned char *buf, size_t len,
                        agent_frame_cb cb, void *opaque)
{
	size_t calls = 0;
	bool go_on = true;

	while (len > 0 && go_on) {
		size_t n;

		if (d->discard_left > 0) {
			n = d->discard_left < len ? d->discard_left : len;
			d->discard_left -= n;
			buf += n;
			len -= n;
			continue;
		}
		if (d->payload != NULL) {
			n = d->payload_size - d->payload_have;
			if (n > len)
				n = len;
			memcpy(d->payload + d->payload_have, buf, n);
			d->payload_have += n;
			buf += n;
			len -= n;
			if (d->payload_have == d->payload_size) {
				unsigned char *payload = d->payload;

				d->payload = NULL;
				payload[d->payload_size] = '\0';
				go_on = cb(opaque, AGENT_FRAME_OK, d->id, payload, d->payload_size);
				free(payload);
				calls++;
			}
			continue;
		}
		n = d->header_size - d->header_have;
		if (n > len)
			n = len;
		memcpy(d->header + d->header_have, buf, n);
		d->header_have += n;
		buf += n;
		len -= n;
		if (d->header_have == d->header_size)
			calls += header_complete(d, cb, opaque, &go_on);
	}
	return calls;
}

void agent_frame_put_ctl_header(unsigned char header[8], uint32_t code, size_t payload_len)
{
	put_be32(header + AGENT_CTL_CODE_OFFSET, code);
	put_be32(header + AGENT_CTL_LENGTH_OFFSET, (uint32_t)(payload_len + AGENT_CTL_HEADER_SIZE));
}

void agent_frame_put_io_header(unsigned char header[12], uint64_t seq, size_t payload_len)
{
	put_be64(header + AGENT_IO_SEQ_OFFSET, seq);
	put_be32(header + AGENT_IO_LENGTH_OFFSET, (uint32_t)(payload_len + AGENT_IO_HEADER_SIZE));
}
