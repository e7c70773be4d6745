/* containerd's TaskOOM, published through `containerd publish` (shim/oom_event.h). The
 * protobuf bytes are written here: two length-delimited fields each, no dependency. */
#include "oom_event.h"
#include "cleanup.h"
#include "log.h"
#include "process_launch.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define TASK_OOM_TYPE_URL "containerd.events.TaskOOM"
#define TASK_DIR          "/io.containerd.runtime.v2.task/"
/* containerd's limit on a namespace name */
#define NAMESPACE_MAX 76

/* A length-delimited field (wire type 2) of number field: tag, varint length, bytes.
 * Returns the new offset, or 0 when it does not fit. */
static size_t put_bytes_field(uint8_t *buf, size_t cap, size_t at, unsigned field, const void *data,
                              size_t len)
{
	size_t need = 1 + (len < 128 ? 1 : 2) + len;

	if (len >= 1u << 14 || at + need > cap)
		return 0;
	buf[at++] = (uint8_t)(field << 3 | 2);
	if (len < 128) {
		buf[at++] = (uint8_t)len;
	} else {
		buf[at++] = (uint8_t)(0x80 | (len & 0x7f));
		buf[at++] = (uint8_t)(len >> 7);
	}
	memcpy(buf + at, data, len);
	return at + len;
}

size_t shim_oom_event_encode(const char *id, uint8_t *buf, size_t cap)
{
	uint8_t task_oom[SHIM_OOM_MAX_ID + 4];
	size_t id_len = strlen(id), value_len, at;

	if (id_len == 0 || id_len > SHIM_OOM_MAX_ID)
		return 0;
	value_len = put_bytes_field(task_oom, sizeof(task_oom), 0, 1, id, id_len);
	at = put_bytes_field(buf, cap, 0, 1, TASK_OOM_TYPE_URL, strlen(TASK_OOM_TYPE_URL));
	if (value_len == 0 || at == 0)
		return 0;
	return put_bytes_field(buf, cap, at, 2, task_oom, value_len);
}

char *shim_oom_containerd_address(const char *grpc_env, const char *ttrpc_env)
{
	size_t len;

	if (grpc_env != NULL && grpc_env[0] != '\0')
		return xstrdup(grpc_env);
	if (ttrpc_env == NULL)
		return NULL;
	len = strlen(ttrpc_env);
	if (len <= strlen(".ttrpc") || strcmp(ttrpc_env + len - strlen(".ttrpc"), ".ttrpc") != 0)
		return NULL;
	return xstrndup(ttrpc_env, len - strlen(".ttrpc"));
}

/* containerd's rule: labels of letters and digits joined by one of '.', '_', '-'. */
static bool namespace_is_valid(const char *ns, size_t len)
{
	bool after_separator = true;

	if (len == 0 || len > NAMESPACE_MAX)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = ns[i];
		bool alnum =
		        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');

		if (alnum)
			after_separator = false;
		else if ((c == '.' || c == '_' || c == '-') && !after_separator)
			after_separator = true;
		else
			return false;
	}
	return !after_separator;
}

char *shim_oom_containerd_namespace(const char *ns_env, const char *cwd)
{
	const char *ns, *end, *at;

	if (ns_env != NULL && ns_env[0] != '\0')
		return namespace_is_valid(ns_env, strlen(ns_env)) ? xstrdup(ns_env) : NULL;
	if (cwd == NULL)
		return NULL;
	at = strstr(cwd, TASK_DIR);
	if (at == NULL)
		return NULL;
	ns = at + strlen(TASK_DIR);
	end = strchr(ns, '/');
	/* NS, then one more component (the task's id), nothing after it */
	if (end == NULL || end[1] == '\0' || strchr(end + 1, '/') != NULL ||
	    !namespace_is_valid(ns, (size_t)(end - ns)))
		return NULL;
	return xstrndup(ns, (size_t)(end - ns));
}

/* The first executable `name` in PATH (absolute directories only). */
static char *find_in_path(const char *name)
{
	const char *path = getenv("PATH");
	cleanup_free char *copy = xstrdup(path != NULL ? path : "/usr/local/bin:/usr/bin:/bin");
	char *save = NULL;

	for (char *dir = strtok_r(copy, ":", &save); dir != NULL;
	     dir = strtok_r(NULL, ":", &save)) {
		cleanup_free char *candidate = NULL;

		if (dir[0] != '/')
			continue;
		candidate = xasprintf("%s/%s", dir, name);
		if (access(candidate, X_OK) == 0)
			return steal_pointer(&candidate);
	}
	return NULL;
}

int shim_oom_publish(const char *id, kata_error_t *err)
{
	cleanup_free char *address =
	        shim_oom_containerd_address(getenv("GRPC_ADDRESS"), getenv("TTRPC_ADDRESS"));
	cleanup_free char *cwd = NULL, *ns = NULL, *containerd = NULL;
	cleanup_close int in = -1;
	uint8_t event[SHIM_OOM_MAX_ID + 64];
	size_t len = shim_oom_event_encode(id, event, sizeof(event));
	struct launch_result result = { 0 };
	int pipefd[2];

	if (address == NULL) {
		log_debug("OOM kill: not under containerd (no TTRPC_ADDRESS), nothing published");
		return 0;
	}
	cwd = getcwd(NULL, 0);
	ns = shim_oom_containerd_namespace(getenv("NAMESPACE"), cwd);
	if (ns == NULL)
		return kata_error_set(err, EINVAL,
		                      "no containerd namespace (NAMESPACE, or a working directory "
		                      ".../io.containerd.runtime.v2.task/NS/ID; it is %s)",
		                      cwd != NULL ? cwd : "unknown");
	if (len == 0)
		return kata_error_set(err, EINVAL, "container id `%s` cannot be put in an event",
		                      id);
	containerd = find_in_path("containerd");
	if (containerd == NULL)
		return kata_error_set(err, ENOENT, "no containerd in PATH");
	/* the event fits a pipe's buffer: written whole before containerd starts */
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return kata_error_set(err, errno, "pipe");
	in = pipefd[0];
	if (write(pipefd[1], event, len) != (ssize_t)len) {
		int saved = errno;

		close(pipefd[1]);
		return kata_error_set(err, saved, "pipe write");
	}
	close(pipefd[1]);

	char *argv[] = { containerd,   "--address",   address, "publish", "--topic",
		         "/tasks/oom", "--namespace", ns,      NULL };
	struct launch_setup setup = { .in = in, .out = LAUNCH_CAPTURE, .err = LAUNCH_CAPTURE };

	if (launch_run(argv, &setup, SHIM_OOM_PUBLISH_TIMEOUT_MS, 4096, &result, err) < 0)
		return kata_error_wrap(err, "containerd publish");
	if (result.timed_out || !WIFEXITED(result.status) || WEXITSTATUS(result.status) != 0) {
		kata_error_set(err, EIO, "containerd publish %s: %s",
		               result.timed_out ? "timed out" : "failed",
		               result.output != NULL ? result.output : "");
		free(result.output);
		return -1;
	}
	free(result.output);
	log_debug("OOM kill: /tasks/oom published to %s, namespace %s", address, ns);
	return 0;
}
