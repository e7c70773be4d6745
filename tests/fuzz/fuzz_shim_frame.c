/* libFuzzer target: what kata-shim reads from its proxy, through lib/proxy_frame's buffer in
 * resync mode (a bad frame is dropped, the stream goes on). The bytes arrive in pieces whose
 * sizes the input itself chooses; the reader must never crash, read out of bounds, hand out
 * a frame longer than its limit or of another version, or hold more than a frame and a read. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PAYLOAD 4096
#define FUZZ_READ        256

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_frame_buffer fb;
	size_t pos = 0;

	proxy_frame_buffer_init_resync(&fb, FUZZ_MAX_PAYLOAD);
	while (pos < size) {
		/* The first byte of each piece says how long the piece is. */
		size_t piece = (size_t)data[pos++] + 1, room;
		unsigned char *space;
		struct proxy_frame frame;
		int status;

		if (piece > size - pos)
			piece = size - pos;
		if (piece == 0)
			break;
		space = proxy_frame_buffer_space(&fb, FUZZ_READ, &room);
		if (room < piece)
			abort();
		memcpy(space, data + pos, piece);
		proxy_frame_buffer_commit(&fb, piece);
		pos += piece;
		for (;;) {
			kata_error_t err = NULL;

			status = proxy_frame_buffer_next(&fb, &frame, &err);
			kata_error_free(&err);
			if (status == PROXY_FRAME_NEED_MORE)
				break;
			if (status == PROXY_FRAME_BROKEN)
				abort(); /* never in resync mode */
			if (status == PROXY_FRAME_READY) {
				if (frame.payload_length > FUZZ_MAX_PAYLOAD ||
				    frame.version != PROXY_PROTO_VERSION)
					abort();
				/* Touch every payload byte: ASan checks they are in the buffer. */
				volatile uint8_t sum = 0;
				for (uint32_t i = 0; i < frame.payload_length; i++)
					sum += frame.payload[i];
				(void)sum;
			}
		}
		/* Bounded: the largest header and payload, plus room for one read, doubled. */
		if (fb.cap > 2 * (255u * 4 + FUZZ_MAX_PAYLOAD + FUZZ_READ))
			abort();
	}
	proxy_frame_buffer_free(&fb);
	return 0;
}
