/* Classifying QMP lines (see qmp_message.h). */
#include "qmp_message.h"

#include <errno.h>
#include <string.h>

#include "cleanup.h"
#include "json_util.h"

static const char *string_member(json_object *obj, const char *key)
{
	json_object *value;

	if (!json_object_object_get_ex(obj, key, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	return json_object_get_string(value);
}

static int classify(struct qmp_message *msg, kata_error_t *err)
{
	json_object *root = msg->root, *value, *id;

	if (json_object_object_get_ex(root, "id", &id)) {
		/* Anything else than our integers is a reply to somebody else: has_id stays false. */
		if (json_object_is_type(id, json_type_int)) {
			msg->has_id = true;
			msg->id = json_object_get_int64(id);
		}
	}
	if (json_object_object_get_ex(root, "return", &value)) {
		msg->type = QMP_MESSAGE_RETURN;
		msg->value = value;
		return 0;
	}
	if (json_object_object_get_ex(root, "error", &value)) {
		if (!json_object_is_type(value, json_type_object))
			return kata_error_set(err, EPROTO, "QMP: \"error\" is not an object");
		msg->type = QMP_MESSAGE_ERROR;
		msg->value = value;
		msg->error_class = string_member(value, "class");
		msg->error_desc = string_member(value, "desc");
		if (msg->error_desc == NULL)
			msg->error_desc = "(no description)";
		return 0;
	}
	if (json_object_object_get_ex(root, "event", &value)) {
		if (!json_object_is_type(value, json_type_string))
			return kata_error_set(err, EPROTO, "QMP: \"event\" is not a string");
		msg->type = QMP_MESSAGE_EVENT;
		msg->event = json_object_get_string(value);
		if (!json_object_object_get_ex(root, "data", &msg->value))
			msg->value = NULL;
		return 0;
	}
	if (json_object_object_get_ex(root, "QMP", &value)) {
		if (!json_object_is_type(value, json_type_object))
			return kata_error_set(err, EPROTO, "QMP: greeting is not an object");
		msg->type = QMP_MESSAGE_GREETING;
		msg->value = value;
		return 0;
	}
	return kata_error_set(err, EPROTO,
	                      "QMP: message is neither return, error, event nor greeting");
}

int qmp_message_parse(const char *line, size_t len, struct qmp_message *msg, kata_error_t *err)
{
	cleanup_error kata_error_t parse_err = NULL;
	json_object *root;

	memset(msg, 0, sizeof(*msg));
	if (len > QMP_MAX_LINE)
		return kata_error_set(err, E2BIG, "QMP: message of %zu bytes is too long", len);
	/* Strict JSON, valid UTF-8, no NUL byte, nothing after the value but white space. */
	root = json_parse_text_depth(line, len, QMP_MAX_DEPTH, &parse_err);
	if (root == NULL)
		return kata_error_set(err, EPROTO, "QMP: %s", parse_err->message);
	if (!json_object_is_type(root, json_type_object)) {
		json_object_put(root);
		return kata_error_set(err, EPROTO, "QMP: message is not a JSON object");
	}
	msg->root = root;
	if (classify(msg, err) < 0) {
		qmp_message_clear(msg);
		return -1;
	}
	return 0;
}

void qmp_message_clear(struct qmp_message *msg)
{
	json_object_put(msg->root);
	memset(msg, 0, sizeof(*msg));
}
