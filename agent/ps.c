/* PSCONTAINER and STATSCONTAINER: what the container's cgroup holds. */
#include "agent.h"

#include "cgroup.h"
#include "cleanup.h"
#include "request.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *read_proc(pid_t pid, const char *file, size_t max, size_t *len)
{
	cleanup_free char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char *buf;
	ssize_t n;

	if (fd < 0)
		return NULL;
	buf = xmalloc(max + 1);
	n = read(fd, buf, max);
	if (n < 0) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = (size_t)n;
	return buf;
}

/* One process: {"pid", "ppid", "uid", "nspid", "cmd"}; NULL if it is gone already. */
static json_object *describe(pid_t pid)
{
	size_t len;
	cleanup_free char *stat = read_proc(pid, "stat", 1024, &len);
	cleanup_free char *status = NULL;
	cleanup_free char *cmdline = NULL;
	json_object *obj;
	char *paren;
	int ppid = 0;
	long uid = -1, nspid = -1;

	if (stat == NULL)
		return NULL;
	/* The command name may hold spaces and parentheses: parse after the last ')'. */
	paren = strrchr(stat, ')');
	if (paren == NULL || sscanf(paren + 1, " %*c %d", &ppid) != 1)
		return NULL;
	status = read_proc(pid, "status", 4096, &len);
	for (char *line = status; line && *line;) {
		char *nl = strchr(line, '\n');

		if (strncmp(line, "Uid:", 4) == 0)
			uid = strtol(line + 4, NULL, 10);
		if (strncmp(line, "NSpid:", 6) == 0) {
			/* The last number is the pid inside the container's namespace. */
			char *end = nl ? nl : line + strlen(line);
			char *last = end;

			while (last > line + 6 && last[-1] != '\t' && last[-1] != ' ')
				last--;
			nspid = strtol(last, NULL, 10);
		}
		line = nl ? nl + 1 : NULL;
	}
	cmdline = read_proc(pid, "cmdline", 4096, &len);
	for (size_t i = 0; cmdline && i + 1 < len; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
	obj = json_object_new_object();
	json_object_object_add(obj, "pid", json_object_new_int(pid));
	json_object_object_add(obj, "ppid", json_object_new_int(ppid));
	json_object_object_add(obj, "uid", json_object_new_int64(uid));
	json_object_object_add(obj, "nspid", json_object_new_int64(nspid));
	json_object_object_add(obj, "cmd", json_object_new_string(cmdline ? cmdline : ""));
	return obj;
}

static struct agent_container *target(struct agent *a, json_object *req, kata_error_t *err)
{
	struct agent_target_request r;
	struct agent_container *c;

	if (agent_parse_target(req, false, false, false, &r, err) < 0)
		return NULL;
	c = agent_container_find(a, r.container);
	if (c == NULL)
		kata_error_set(err, ENOENT, "no container `%s`", r.container);
	agent_target_request_clear(&r);
	return c;
}

int agent_cmd_pscontainer(struct agent *a, json_object *req, json_object **result,
                          kata_error_t *err)
{
	struct agent_container *c = target(a, req, err);
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	json_object *list;

	if (c == NULL || agent_cgroup_procs(c->id, &pids, &n, err) < 0)
		return -1;
	list = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *p = describe(pids[i]);

		if (p != NULL)
			json_object_array_add(list, p);
	}
	*result = json_object_new_object();
	json_object_object_add(*result, "processes", list);
	return 0;
}

int agent_cmd_statscontainer(struct agent *a, json_object *req, json_object **result,
                             kata_error_t *err)
{
	struct agent_container *c = target(a, req, err);

	if (c == NULL)
		return -1;
	*result = agent_cgroup_stats(c->id);
	return 0;
}
