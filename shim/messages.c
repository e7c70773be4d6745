#include "messages.h"
#include "cleanup.h"
#include "json_util.h"

#include <signal.h>
#include <string.h>

static char *to_string(json_object *obj)
{
	return xstrdup(json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN |
	                                                           JSON_C_TO_STRING_NOSLASHESCAPE));
}

char *shim_message_connect(const char *token)
{
	cleanup_json json_object *obj = json_object_new_object();

	json_object_object_add(obj, "token", json_object_new_string(token));
	return to_string(obj);
}

char *shim_message_signal(int signo)
{
	cleanup_json json_object *obj = json_object_new_object();

	json_object_object_add(obj, "signalNumber", json_object_new_int(signo));
	return to_string(obj);
}

char *shim_message_winsize(unsigned rows, unsigned columns)
{
	cleanup_json json_object *obj = json_object_new_object();

	json_object_object_add(obj, "signalNumber", json_object_new_int(SIGWINCH));
	json_object_object_add(obj, "rows", json_object_new_int64(rows));
	json_object_object_add(obj, "columns", json_object_new_int64(columns));
	return to_string(obj);
}

/* Printable ASCII only (a hostile peer must not drive the user's terminal). */
static char *sanitize(const char *text, size_t len)
{
	char *out;

	if (len > SHIM_MESSAGE_MAX)
		len = SHIM_MESSAGE_MAX;
	out = xmalloc(len + 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)text[i];
		out[i] = (c >= 0x20 && c < 0x7f) ? (char)c : '?';
	}
	out[len] = '\0';
	return out;
}

char *shim_message_error_text(const uint8_t *payload, size_t len)
{
	static const char *const keys[] = { "msg", "error", "message" };
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *obj = NULL;

	if (len == 0)
		return xstrdup("(no message)");
	obj = json_parse_text((const char *)payload, len, &err);
	if (obj != NULL && json_object_is_type(obj, json_type_string))
		return sanitize(json_object_get_string(obj), json_object_get_string_len(obj));
	if (obj != NULL && json_object_is_type(obj, json_type_object)) {
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
			json_object *value;
			if (json_object_object_get_ex(obj, keys[i], &value) &&
			    json_object_is_type(value, json_type_string))
				return sanitize(json_object_get_string(value),
				                json_object_get_string_len(value));
		}
	}
	return sanitize((const char *)payload, len);
}
