/* Agent commands: hyperstart names to codes per dialect, the rewriting of the process
 * object of NEWCONTAINER and EXECCMD for a token, and ACK/ERROR payloads turned into
 * proxy responses. */
#include "proxy.h"
#include "agent_proto.h"
#include "cleanup.h"
#include "json_util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

struct hyper_name {
	const char *name;
	uint32_t code;
};

/* hyperstart's names (runV's hyperstart API), plus this project's additions. */
static const struct hyper_name hyper_names[] = {
	{ "version", AGENT_GETVERSION },
	{ "getversion", AGENT_GETVERSION },
	{ "startpod", AGENT_STARTPOD },
	{ "destroypod", AGENT_DESTROYPOD },
	{ "execcmd", AGENT_EXECCMD },
	{ "exec", AGENT_EXECCMD }, /* Clear Containers' name */
	{ "winsize", AGENT_WINSIZE },
	{ "ping", AGENT_PING },
	{ "writefile", AGENT_WRITEFILE },
	{ "readfile", AGENT_READFILE },
	{ "newcontainer", AGENT_NEWCONTAINER },
	{ "killcontainer", AGENT_KILLCONTAINER },
	{ "onlinecpumem", AGENT_ONLINECPUMEM },
	{ "setupinterface", AGENT_SETUPINTERFACE },
	{ "setuproute", AGENT_SETUPROUTE },
	{ "removecontainer", AGENT_REMOVECONTAINER },
	{ "signalprocess", AGENT_SIGNALPROCESS },
	{ "deleteinterface", AGENT_DELETEINTERFACE },
	{ "startcontainer", AGENT_STARTCONTAINER },
	{ "pscontainer", AGENT_PSCONTAINER },
	{ "statscontainer", AGENT_STATSCONTAINER },
	{ "updatecontainer", AGENT_UPDATECONTAINER },
};

int proxy_hyper_code(enum proxy_dialect dialect, const char *name)
{
	if (dialect == PROXY_DIALECT_CC) {
		/* Clear Containers' agent: 23 is its ps, 24 its process event */
		if (strcmp(name, "pscontainer") == 0)
			return AGENT_CC_PSCONTAINER;
		if (strcmp(name, "signalprocess") == 0)
			return -1;
	}
	for (size_t i = 0; i < sizeof(hyper_names) / sizeof(hyper_names[0]); i++)
		if (strcmp(name, hyper_names[i].name) == 0)
			return (int)hyper_names[i].code;
	return -1;
}

uint32_t proxy_code_processasyncevent(enum proxy_dialect dialect)
{
	return dialect == PROXY_DIALECT_CC ? AGENT_CC_PROCESSASYNCEVENT : AGENT_PROCESSASYNCEVENT;
}

json_object *proxy_hyper_ack_result(const unsigned char *payload, size_t len, kata_error_t *err)
{
	cleanup_error kata_error_t parse_err = NULL;
	json_object *result;

	if (len == 0)
		return NULL;
	result = json_parse_text((const char *)payload, len, &parse_err);
	if (result != NULL)
		return result;
	/* hyperstart answers GETVERSION with a bare u32 */
	if (len == 4)
		return json_object_new_int64(get_be32(payload));
	kata_error_set(err, EPROTO, "the agent's answer is not JSON: %s", parse_err->message);
	return NULL;
}

char *proxy_hyper_error_message(const unsigned char *payload, size_t len)
{
	static const char *const keys[] = { "message", "msg", "error" };
	cleanup_error kata_error_t parse_err = NULL;
	json_object *obj = len ? json_parse_text((const char *)payload, len, &parse_err) : NULL;
	char *text;

	if (obj != NULL) {
		for (size_t i = 0; i < 3; i++) {
			json_object *v;
			if (json_object_is_type(obj, json_type_object) &&
			    json_object_object_get_ex(obj, keys[i], &v) &&
			    json_object_is_type(v, json_type_string)) {
				text = xstrndup(json_object_get_string(v), 1024);
				json_object_put(obj);
				goto sanitize;
			}
		}
		json_object_put(obj);
	}
	if (len == 0)
		return xstrdup("the agent answered ERROR");
	text = xstrndup((const char *)payload, len > 1024 ? 1024 : len);
sanitize:
	for (char *c = text; *c; c++)
		if (!isprint((unsigned char)*c))
			*c = '?';
	return text;
}

/* The NEWCONTAINER / EXECCMD process object, rewritten for the token. Records in *bind
 * what the token is being bound to. */
int proxy_hyper_rewrite_process(uint32_t code, json_object *data, const struct proxy_token *token,
                                struct proxy_binding *bind, kata_error_t *err)
{
	json_object *process, *v;
	const char *container = NULL;
	bool terminal = false;

	memset(bind, 0, sizeof(*bind));
	if (!json_object_is_type(data, json_type_object))
		return kata_error_set(err, EINVAL, "data: expected an object");
	if (!json_object_object_get_ex(data, "process", &process) ||
	    !json_object_is_type(process, json_type_object))
		return kata_error_set(err, EINVAL, "data.process: expected an object");
	if (code == AGENT_NEWCONTAINER) {
		if (json_object_object_get_ex(data, "id", &v) &&
		    json_object_is_type(v, json_type_string))
			container = json_object_get_string(v);
		if (container == NULL)
			return kata_error_set(err, EINVAL, "data.id: expected a string");
	} else {
		if ((json_object_object_get_ex(data, "container", &v) ||
		     json_object_object_get_ex(data, "containerId", &v)) &&
		    json_object_is_type(v, json_type_string))
			container = json_object_get_string(v);
		if (container == NULL)
			return kata_error_set(err, EINVAL, "data.container: expected a string");
	}
	if (json_object_object_get_ex(process, "terminal", &v)) {
		if (!json_object_is_type(v, json_type_boolean))
			return kata_error_set(err, EINVAL,
			                      "data.process.terminal: expected a boolean");
		terminal = json_object_get_boolean(v);
	}
	if (json_object_object_get_ex(process, "id", &v) &&
	    !json_object_is_type(v, json_type_null)) {
		if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0)
			return kata_error_set(err, EINVAL, "data.process.id: expected a string");
		bind->process = xstrdup(json_object_get_string(v));
	} else {
		/* the init process is named after its container; an exec after its stream */
		bind->process =
		        code == AGENT_NEWCONTAINER
		                ? xstrdup(container)
		                : xasprintf("exec-%llu", (unsigned long long)token->stdio_seq);
		json_object_object_add(process, "id", json_object_new_string(bind->process));
	}
	bind->container = xstrdup(container);
	bind->terminal = terminal;
	json_object_object_add(process, "stdio", json_object_new_uint64(token->stdio_seq));
	json_object_object_add(process, "stderr",
	                       json_object_new_uint64(terminal ? 0 : token->stderr_seq));
	return 0;
}

void proxy_binding_clear(struct proxy_binding *bind)
{
	free(bind->container);
	free(bind->process);
	memset(bind, 0, sizeof(*bind));
}
