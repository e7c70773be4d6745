/* The control channel: one command frame in, one ACK or ERROR out, in order. */
#include "agent.h"

#include "agent_proto.h"
#include "cleanup.h"
#include "agent_frame.h"
#include "json_util.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* A command frame that came while an earlier command's answer was pending. */
struct agent_ctl_backlog {
	struct agent_ctl_backlog *next;
	enum agent_frame_event event;
	uint32_t code;
	size_t length;
	unsigned char payload[]; /* NUL-terminated, as the decoder's */
};

/* Commands are read while no answer is pending and the host reads its answers. */
static void update_reading(struct agent *a)
{
	agent_channel_set_reading(&a->ctl,
	                          !a->ctl_answer_pending && a->ctl_backlog == NULL &&
	                                  agent_channel_queued(&a->ctl) < AGENT_CTL_MAX_FRAME);
}

void agent_send_ctl(struct agent *a, uint32_t code, const void *payload, size_t len)
{
	unsigned char header[AGENT_CTL_HEADER_SIZE];

	agent_frame_put_ctl_header(header, code, len);
	agent_channel_send(&a->ctl, header, sizeof(header), payload, len);
	/* A host that sends commands but never reads the answers gets no more answers. */
	update_reading(a);
}

void agent_send_ctl_json(struct agent *a, uint32_t code, json_object *obj)
{
	size_t len = 0;
	const char *text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);

	agent_send_ctl(a, code, text, len);
}

void agent_ctl_drained(struct agent_channel *ch, void *opaque)
{
	update_reading(opaque);
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

/* What a command makes of its payload. */
enum cmd_payload {
	PAYLOAD_IGNORED,  /* commands without arguments ignore whatever comes with them */
	PAYLOAD_JSON,     /* required */
	PAYLOAD_OPTIONAL, /* JSON when there is one (req NULL otherwise) */
};

static const struct {
	uint32_t code;
	const char *name;
	agent_cmd_fn fn;
	enum cmd_payload payload;
} commands[] = {
	{ AGENT_STARTPOD, "STARTPOD", agent_cmd_startpod, PAYLOAD_JSON },
	{ AGENT_DESTROYPOD, "DESTROYPOD", agent_cmd_destroypod, PAYLOAD_IGNORED },
	{ AGENT_EXECCMD, "EXECCMD", agent_cmd_execcmd, PAYLOAD_JSON },
	{ AGENT_WINSIZE, "WINSIZE", agent_cmd_winsize, PAYLOAD_JSON },
	{ AGENT_PING, "PING", cmd_ping, PAYLOAD_IGNORED },
	{ AGENT_NEWCONTAINER, "NEWCONTAINER", agent_cmd_newcontainer, PAYLOAD_JSON },
	{ AGENT_KILLCONTAINER, "KILLCONTAINER", agent_cmd_killcontainer, PAYLOAD_JSON },
	{ AGENT_REMOVECONTAINER, "REMOVECONTAINER", agent_cmd_removecontainer, PAYLOAD_JSON },
	{ AGENT_SIGNALPROCESS, "SIGNALPROCESS", agent_cmd_signalprocess, PAYLOAD_JSON },
	{ AGENT_STARTCONTAINER, "STARTCONTAINER", agent_cmd_startcontainer, PAYLOAD_JSON },
	{ AGENT_PSCONTAINER, "PSCONTAINER", agent_cmd_pscontainer, PAYLOAD_JSON },
	{ AGENT_STATSCONTAINER, "STATSCONTAINER", agent_cmd_statscontainer, PAYLOAD_JSON },
	{ AGENT_UPDATECONTAINER, "UPDATECONTAINER", agent_cmd_updatecontainer, PAYLOAD_JSON },
	{ AGENT_ONLINECPUMEM, "ONLINECPUMEM", agent_cmd_onlinecpumem, PAYLOAD_OPTIONAL },
	{ AGENT_SETUPINTERFACE, "SETUPINTERFACE", agent_cmd_setupinterface, PAYLOAD_JSON },
	{ AGENT_SETUPROUTE, "SETUPROUTE", agent_cmd_setuproute, PAYLOAD_JSON },
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
		int ret;

		if (commands[i].code != code)
			continue;
		if (length > 0 && commands[i].payload != PAYLOAD_IGNORED) {
			req = json_parse_text((const char *)payload, length, &err);
			if (req == NULL) {
				kata_error_wrap(&err, "%s: malformed JSON", commands[i].name);
				goto fail;
			}
		} else if (commands[i].payload == PAYLOAD_JSON) {
			kata_error_set(&err, EINVAL, "%s: a JSON payload is required",
			               commands[i].name);
			goto fail;
		}
		log_debug("command %s", commands[i].name);
		ret = commands[i].fn(a, req, &result, &err);
		if (ret < 0) {
			kata_error_wrap(&err, "%s", commands[i].name);
			goto fail;
		}
		if (ret == AGENT_CMD_LATER) {
			a->ctl_answer_pending = true;
			update_reading(a);
			return;
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

static void handle_frame(struct agent *a, enum agent_frame_event event, uint32_t code,
                         const unsigned char *payload, size_t length)
{
	switch (event) {
	case AGENT_FRAME_TOO_SHORT:
		send_error(a, "frame length shorter than its header");
		return;
	case AGENT_FRAME_TOO_LONG:
		/* Its payload is skipped as it arrives; the stream stays in step. */
		send_error(a, "frame longer than the maximum of 1 MiB");
		return;
	case AGENT_FRAME_OK:
		break;
	}
	dispatch(a, code, payload, length);
}

bool agent_ctl_frame(void *opaque, enum agent_frame_event event, uint64_t id,
                     const unsigned char *payload, size_t length)
{
	struct agent *a = opaque;
	struct agent_ctl_backlog *b, **tail;

	if (!a->ctl_answer_pending) {
		handle_frame(a, event, (uint32_t)id, payload, length);
		return true;
	}
	/* Answers go in order: this one waits for the pending answer. Reading stopped with
	 * it, so only what came in the same read waits here. */
	b = xzalloc(sizeof(*b) + (event == AGENT_FRAME_OK ? length : 0) + 1);
	b->event = event;
	b->code = (uint32_t)id;
	b->length = length;
	if (event == AGENT_FRAME_OK)
		memcpy(b->payload, payload, length);
	for (tail = &a->ctl_backlog; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = b;
	return true;
}

void agent_ctl_answer(struct agent *a, json_object *result, kata_error_t err)
{
	if (err != NULL) {
		log_warning("%s", err->message);
		send_error(a, err->message);
	} else if (result != NULL) {
		agent_send_ctl_json(a, AGENT_ACK, result);
	} else {
		agent_send_ctl(a, AGENT_ACK, NULL, 0);
	}
	a->ctl_answer_pending = false;
	while (a->ctl_backlog != NULL && !a->ctl_answer_pending) {
		struct agent_ctl_backlog *b = a->ctl_backlog;

		a->ctl_backlog = b->next;
		handle_frame(a, b->event, b->code, b->event == AGENT_FRAME_OK ? b->payload : NULL,
		             b->length);
		free(b);
	}
	update_reading(a);
}
