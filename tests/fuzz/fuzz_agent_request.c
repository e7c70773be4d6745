/* libFuzzer target: bytes as the host would send them on the agent's control channel.
 * They go through the frame decoder, and each frame's payload through the JSON parser and
 * the request parser its code selects, as the agent does before acting on a command.
 * Any crash, leak or sanitizer report is a bug in what the agent exposes to the host. */
#include "agent_frame.h"
#include "agent/request.h"
#include "agent_proto.h"
#include "cleanup.h"
#include "json_util.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void parse_one(uint32_t code, json_object *req)
{
	cleanup_error kata_error_t err = NULL;

	switch (code) {
	case AGENT_STARTPOD: {
		struct agent_startpod_request r;

		if (agent_parse_startpod(req, &r, &err) == 0)
			agent_startpod_request_clear(&r);
		break;
	}
	case AGENT_NEWCONTAINER: {
		struct agent_newcontainer_request r;

		if (agent_parse_newcontainer(req, &r, &err) == 0)
			agent_newcontainer_request_clear(&r);
		break;
	}
	case AGENT_EXECCMD: {
		struct agent_execcmd_request r;

		if (agent_parse_execcmd(req, &r, &err) == 0)
			agent_execcmd_request_clear(&r);
		break;
	}
	default: {
		struct agent_target_request r;
		bool process = code == AGENT_SIGNALPROCESS;
		bool signal = code == AGENT_SIGNALPROCESS || code == AGENT_KILLCONTAINER;
		bool winsize = code == AGENT_WINSIZE;

		if (agent_parse_target(req, process, signal, winsize, &r, &err) == 0)
			agent_target_request_clear(&r);
		break;
	}
	}
}

static bool on_frame(void *opaque, enum agent_frame_event event, uint64_t id,
                     const unsigned char *payload, size_t length)
{
	cleanup_error kata_error_t err = NULL;
	json_object *req;

	(void)opaque;
	if (event != AGENT_FRAME_OK || length == 0)
		return true;
	req = json_parse_text((const char *)payload, length, &err);
	if (req == NULL)
		return true;
	parse_one((uint32_t)id, req);
	json_object_put(req);
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct agent_frame_decoder ctl, io;

	/* The whole input as control frames, then as I/O frames. */
	agent_frame_decoder_init_ctl(&ctl);
	agent_frame_feed(&ctl, data, size, on_frame, NULL);
	agent_frame_decoder_free(&ctl);
	agent_frame_decoder_init_io(&io);
	agent_frame_feed(&io, data, size, on_frame, NULL);
	agent_frame_decoder_free(&io);
	/* And as a bare JSON payload of each command that takes one. */
	{
		cleanup_error kata_error_t err = NULL;
		json_object *req = json_parse_text((const char *)data, size, &err);
		static const uint32_t codes[] = { AGENT_STARTPOD,       AGENT_NEWCONTAINER,
			                          AGENT_EXECCMD,        AGENT_KILLCONTAINER,
			                          AGENT_SIGNALPROCESS,  AGENT_WINSIZE,
			                          AGENT_REMOVECONTAINER };

		if (req != NULL) {
			for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
				parse_one(codes[i], req);
			json_object_put(req);
		}
	}
	return 0;
}
