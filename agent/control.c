/* The control channel: one command frame in, one ACK or ERROR out, in order. */
#include "agent.h"

#include "agent_proto.h"
#include "cleanup.h"
#include "agent_frame.h"
#include "json_util.h"
#include "log.h"

#include <errno.h>
#include <string.h>

void agent_send_ctl(struct agent *a, uint32_t code, const void *payload, size_t len)
{
	unsigned char header[AGENT_CTL_HEADER_SIZE];

	agent_frame_put_ctl_header(header, code, len);
	agent_channel_send(&a->ctl, header, sizeof(header), payload, len);
	/* A host that sends commands but never reads the answers gets no more answers. */
	agent_channel_set_reading(&a->ctl, agent_channel_queued(&a->ctl) < AGENT_CTL_MAX_FRAME);
}

void agent_send_ctl_json(struct agent *a, uint32_t code, json_object *obj)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);

	agent_send_ctl(a, code, text, len);
}

void agent_ctl_drained(struct agent_channel *ch, void *opaque)
{
	agent_channel_set_reading(ch, true);
}

static void send_error(struct agent *a, const char *message)
{
	cleanup_json json_object *obj = json_object_new_object();

	json_object_object_add(obj, "message", json_object_new_string(message));
	agent_send_ctl_json(a, AGENT_ERROR, obj);
}

static int cmd_ping(struct agent *a, json_object *req, json_object **result, kata_error_t *err)
{
	return 0;
}

static const struct {
	uint32_t code;
	const char *name;
	agent_cmd_fn fn;
	bool needs_json;
} commands[] = {
	{ AGENT_STARTPOD, "STARTPOD", agent_cmd_startpod, true },
	{ AGENT_DESTROYPOD, "DESTROYPOD", agent_cmd_destroypod, false },
	{ AGENT_EXECCMD, "EXECCMD", agent_cmd_execcmd, true },
	{ AGENT_WINSIZE, "WINSIZE", agent_cmd_winsize, true },
	{ AGENT_PING, "PING", cmd_ping, false },
	{ AGENT_NEWCONTAINER, "NEWCONTAINER", agent_cmd_newcontainer, true },
	{ AGENT_KILLCONTAINER, "KILLCONTAINER", agent_cmd_killcontainer, true },
	{ AGENT_REMOVECONTAINER, "REMOVECONTAINER", agent_cmd_removecontainer, true },
	{ AGENT_SIGNALPROCESS, "SIGNALPROCESS", agent_cmd_signalprocess, true },
	{ AGENT_STARTCONTAINER, "STARTCONTAINER", agent_cmd_startcontainer, true },
	{ AGENT_PSCONTAINER, "PSCONTAINER", agent_cmd_pscontainer, true },
	{ AGENT_STATSCONTAINER, "STATSCONTAINER", agent_cmd_statscontainer, true },
	{ AGENT_UPDATECONTAINER, "UPDATECONTAINER", agent_cmd_updatecontainer, true },
	{ AGENT_ONLINECPUMEM, "ONLINECPUMEM", agent_cmd_onlinecpumem, false },
};

static void dispatch(struct agent *a, uint32_t code, const unsigned char *payload, size_t length)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *req = NULL;
	cleanup_json json_object *result = NULL;

	if (code == AGENT_GETVERSION) {
		unsigned char version[4];

		/* As hyperstart: the ACK carries the API version as a u32. */
		put_be32(version, AGENT_PROTO_VERSION);
		agent_send_ctl(a, AGENT_ACK, version, sizeof(version));
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (commands[i].code != code)
			continue;
		/* Commands without arguments ignore whatever payload comes with them. */
		if (length > 0 && commands[i].needs_json) {
			req = json_parse_text((const char *)payload, length, &err);
			if (req == NULL) {
				kata_error_wrap(&err, "%s: malformed JSON", commands[i].name);
				goto fail;
			}
		} else if (commands[i].needs_json) {
			kata_error_set(&err, EINVAL, "%s: a JSON payload is required",
			               commands[i].name);
			goto fail;
		}
		log_debug("command %s", commands[i].name);
		if (commands[i].fn(a, req, &result, &err) < 0) {
			kata_error_wrap(&err, "%s", commands[i].name);
			goto fail;
		}
		if (result != NULL)
			agent_send_ctl_json(a, AGENT_ACK, result);
		else
			agent_send_ctl(a, AGENT_ACK, NULL, 0);
		return;
	}
	kata_error_set(&err, ENOSYS, "unknown command code %u", code);
fail:
	log_warning("%s", err->message);
	send_error(a, err->message);
}

bool agent_ctl_frame(void *opaque, enum agent_frame_event event, uint64_t id,
                     const unsigned char *payload, size_t length)
{
	struct agent *a = opaque;

	switch (event) {
	case AGENT_FRAME_TOO_SHORT:
		send_error(a, "frame length shorter than its header");
		return true;
	case AGENT_FRAME_TOO_LONG:
		/* Its payload is skipped as it arrives; the stream stays in step. */
		send_error(a, "frame longer than the maximum of 1 MiB");
		return true;
	case AGENT_FRAME_OK:
		break;
	}
	dispatch(a, (uint32_t)id, payload, length);
	return true;
}
