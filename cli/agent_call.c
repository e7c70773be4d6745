#include "agent_call.h"
#include "cleanup.h"
#include "json_util.h"

#include <errno.h>

struct proxy_conn *agent_connect(const struct sandbox_record *sb, int timeout_ms, kata_error_t *err)
{
	struct proxy_conn *conn;

	if (sb->proxy_socket == NULL) {
		kata_error_set(err, ENOTCONN, "sandbox `%s` has no proxy", sb->id ?: "?");
		return NULL;
	}
	conn = proxy_conn_connect(sb->proxy_socket, timeout_ms, err);
	if (conn == NULL)
		kata_error_wrap(err, "connect to the proxy of sandbox `%s`", sb->id);
	return conn;
}

int agent_call(const struct sandbox_record *sb, const char *name, json_object *data, int timeout_ms,
               json_object **result, kata_error_t *err)
{
	struct proxy_conn *conn = agent_connect(sb, timeout_ms, err);
	kata_error_t call_err = NULL;
	json_object *answer;

	if (conn == NULL)
		return -1;
	answer = proxy_hyper(conn, name, NULL, 0, data, &call_err);
	proxy_conn_close(conn);
	if (call_err != NULL) {
		json_object_put(answer);
		kata_error_move(err, &call_err);
		return kata_error_wrap(err, "agent %s", name);
	}
	if (result != NULL)
		*result = answer;
	else
		json_object_put(answer);
	return 0;
}

json_object *agent_target(const char *container, const char *process)
{
	json_object *obj = json_object_new_object();

	json_add_string(obj, "container", container);
	json_add_string(obj, "process", process);
	return obj;
}
