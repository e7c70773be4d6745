/* libFuzzer target: the proxy frame decoder and accumulation buffer fed arbitrary bytes in
 * arbitrary pieces, and what kata-proxy does with a decoded payload from a hostile peer:
 * the ACK/ERROR payload readers and the process rewriting of NEWCONTAINER/EXECCMD. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h"
#include "json_util.h"
#include "proxy/proxy.h"
#include "proxy_frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void payload(const unsigned char *p, size_t len)
{
	kata_error_t err = NULL;
	json_object *obj = proxy_hyper_ack_result(p, len, &err);
	struct proxy_token token = { .stdio_seq = 1, .stderr_seq = 2 };
	struct proxy_binding bind;

	json_object_put(obj);
	kata_error_free(&err);
	free(proxy_hyper_error_message(p, len));
	obj = json_parse_text((const char *)p, len, &err);
	kata_error_free(&err);
	if (obj != NULL) {
		for (uint32_t code = AGENT_EXECCMD; code <= AGENT_NEWCONTAINER; code += 11) {
			if (proxy_hyper_rewrite_process(code, obj, &token, &bind, &err) == 0)
				proxy_binding_clear(&bind);
			kata_error_free(&err);
		}
		json_object_put(obj);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_frame_buffer fb;
	struct proxy_frame frame;
	size_t off = 0;
	/* the first byte picks how the input is cut into reads */
	size_t piece = size > 0 ? (size_t)data[0] % 17 + 1 : 1;

	proxy_frame_buffer_init(&fb, 64 * 1024);
	while (off < size) {
		size_t n = size - off < piece ? size - off : piece, room;
		unsigned char *p = proxy_frame_buffer_space(&fb, n, &room);
		kata_error_t err = NULL;
		int r;

		memcpy(p, data + off, n);
		proxy_frame_buffer_commit(&fb, n);
		off += n;
		while ((r = proxy_frame_buffer_next(&fb, &frame, &err)) > 0)
			payload(frame.payload, frame.payload_length);
		kata_error_free(&err);
		if (r < 0)
			break;
	}
	proxy_frame_buffer_free(&fb);
	return 0;
}
