/* libFuzzer target: the agent wire as kata-proxy reads it from the guest. The bytes arrive
 * in pieces whose sizes the input chooses (the first byte of each piece), through the one
 * decoder (lib/agent_frame.c), as control frames and as I/O frames; decoding stops at the
 * first refused frame, as the proxy then gives the VM up. A decoded frame must be within
 * the channel's maximum and NUL-terminated; control payloads go on to the ACK and ERROR
 * readers the proxy uses. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_frame.h"
#include "agent_proto.h"
#include "json_util.h"
#include "proxy/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Every payload byte is read, so that ASan sees any byte outside the decoder's buffer. */
static void touch(const unsigned char *payload, size_t length, size_t max)
{
	volatile unsigned char sum = 0;

	if (payload == NULL || length > max || payload[length] != '\0')
		abort();
	for (size_t i = 0; i < length; i++)
		sum += payload[i];
	(void)sum;
}

static bool ctl_decoded(void *opaque, enum agent_frame_event event, uint64_t code,
                        const unsigned char *payload, size_t length)
{
	kata_error_t err = NULL;
	bool *refused = opaque;

	if (event != AGENT_FRAME_OK)
		return !(*refused = true);
	if (code > UINT32_MAX)
		abort();
	touch(payload, length, AGENT_CTL_MAX_FRAME - AGENT_CTL_HEADER_SIZE);
	if (code == AGENT_ACK) {
		json_object_put(proxy_hyper_ack_result(payload, length, &err));
		kata_error_free(&err);
	} else if (code == AGENT_ERROR) {
		free(proxy_hyper_error_message(payload, length));
	}
	return true;
}

static bool io_decoded(void *opaque, enum agent_frame_event event, uint64_t seq,
                       const unsigned char *payload, size_t length)
{
	bool *refused = opaque;

	(void)seq;
	if (event != AGENT_FRAME_OK)
		return !(*refused = true);
	touch(payload, length, AGENT_IO_MAX_PAYLOAD);
	return true;
}

static void read_in_pieces(struct agent_frame_decoder *d, agent_frame_cb decoded,
                           const uint8_t *data, size_t size)
{
	size_t pos = 0;
	bool refused = false;

	while (pos < size && !refused) {
		size_t piece = (size_t)data[pos++] + 1;

		if (piece > size - pos)
			piece = size - pos;
		/* A refused frame drops the rest: the proxy reads no further from that VM. */
		agent_frame_feed(d, data + pos, piece, decoded, &refused);
		pos += piece;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_frame_decoder d;

	agent_frame_decoder_init_ctl(&d);
	read_in_pieces(&d, ctl_decoded, data, size);
	agent_frame_decoder_free(&d);
	agent_frame_decoder_init_io(&d);
	read_in_pieces(&d, io_decoded, data, size);
	agent_frame_decoder_free(&d);
	return 0;
}
