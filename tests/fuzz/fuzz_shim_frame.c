/* libFuzzer target: what kata-shim reads from its proxy. The bytes arrive in pieces whose
 * sizes the input itself chooses; the reader must never crash, read out of bounds, or hand
 * out a frame longer than its limit. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "shim/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_MAX_PAYLOAD 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct shim_frame_reader reader;
	size_t pos = 0;

	if (size < 1)
		return 0;
	shim_frame_reader_init(&reader, FUZZ_MAX_PAYLOAD);
	while (pos < size) {
		/* The first byte of each piece says how long the piece is. */
		size_t piece = (size_t)data[pos++] + 1, avail;
		uint8_t *space = shim_frame_reader_space(&reader, &avail);
		struct shim_frame frame;
		const char *why;
		enum shim_frame_status status;

		if (piece > size - pos)
			piece = size - pos;
		if (piece > avail)
			piece = avail;
		memcpy(space, data + pos, piece);
		shim_frame_reader_commit(&reader, piece);
		pos += piece;
		while ((status = shim_frame_reader_next(&reader, &frame, &why)) !=
		       SHIM_FRAME_NEED_MORE) {
			if (status == SHIM_FRAME_READY) {
				if (frame.length > FUZZ_MAX_PAYLOAD ||
				    frame.version != PROXY_PROTO_VERSION)
					abort();
				/* Touch every payload byte: ASan checks they are in the buffer. */
				volatile uint8_t sum = 0;
				for (uint32_t i = 0; i < frame.length; i++)
					sum += frame.payload[i];
				(void)sum;
			}
		}
	}
	shim_frame_reader_free(&reader);
	return 0;
}
