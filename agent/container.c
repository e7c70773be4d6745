/* Container commands: NEWCONTAINER, STARTCONTAINER, EXECCMD, KILLCONTAINER,
 * SIGNALPROCESS, WINSIZE, REMOVECONTAINER. */
#include "agent.h"

#include "cgroup.h"
#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "request.h"
#include "child_spawn.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct agent_container *agent_container_find(struct agent *a, const char *id)
{
	for (struct agent_container *c = a->containers; c; c = c->next)
		if (strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

static struct agent_container *find_or_fail(struct agent *a, const char *id, kata_error_t *err)
{
	struct agent_container *c = agent_container_find(a, id);

	if (c == NULL)
		kata_error_set(err, ENOENT, "no container `%s`", id);
	return c;
}

void agent_container_free(struct agent_container *c)
{
	struct agent *a = c->agent;
	struct agent_process *p = a->processes;

	while (p != NULL) {
		struct agent_process *next = p->next;

		if (p->container == c)
			agent_process_free(p);
		p = next;
	}
	for (struct agent_container **cc = &a->containers; *cc; cc = &(*cc)->next) {
		if (*cc == c) {
			*cc = c->next;
			break;
		}
	}
	if (c->sync_fd >= 0)
		close(c->sync_fd);
	free(c->id);
	free(c->rootfs);
	oci_spec_free(c->spec);
	free(c);
}

/* The rootfs must be a directory that really is inside the share. */
static char *resolve_rootfs(const char *relative, kata_error_t *err)
{
	cleanup_free char *joined = xasprintf("%s/%s", AGENT_SHARED_DIR, relative);
	char resolved[PATH_MAX];
	struct stat st;
	size_t len = strlen(AGENT_SHARED_DIR);

	if (realpath(joined, resolved) == NULL) {
		kata_error_sys(err, "rootfs %s", relative);
		return NULL;
	}
	if (strncmp(resolved, AGENT_SHARED_DIR, len) != 0 || resolved[len] != '/') {
		kata_error_set(err, EINVAL, "rootfs %s leads outside the shared directory",
		               relative);
		return NULL;
	}
	if (stat(resolved, &st) < 0 || !S_ISDIR(st.st_mode)) {
		kata_error_set(err, ENOTDIR, "rootfs %s is not a directory", relative);
		return NULL;
	}
	return xstrdup(resolved);
}

static int check_streams(struct agent *a, const struct agent_process_request *r, kata_error_t *err)
{
	if (agent_seq_in_use(a, r->stdio_seq) || agent_seq_in_use(a, r->stderr_seq))
		return kata_error_set(err, EBUSY, "stream sequence number already in use");
	return 0;
}

int agent_cmd_newcontainer(struct agent *a, json_object *req, json_object **result,
                           kata_error_t *err)
{
	struct agent_newcontainer_request r;
	struct agent_container *c;
	int ret = -1;

	if (agent_parse_newcontainer(req, &r, err) < 0)
		return -1;
	if (agent_container_find(a, r.id) != NULL) {
		kata_error_set(err, EEXIST, "container `%s` exists", r.id);
		goto out;
	}
	if (check_streams(a, &r.process, err) < 0)
		goto out;
	c = xzalloc(sizeof(*c));
	c->agent = a;
	c->sync_fd = -1;
	c->id = xstrdup(r.id);
	c->rootfs = resolve_rootfs(r.rootfs, err);
	c->spec = steal_pointer(&r.spec);
	c->next = a->containers;
	a->containers = c;
	if (c->rootfs == NULL ||
	    agent_cgroup_create(c->id, c->spec->linux_spec ? c->spec->linux_spec->resources : NULL,
	                        err) < 0 ||
	    agent_spawn_init(a, c, &r.process, err) < 0) {
		agent_cgroup_remove(c->id);
		agent_container_free(c);
		goto out;
	}
	log_debug("container %s created, init pid %d", c->id, (int)c->init_pid);
	*result = json_object_new_object();
	json_object_object_add(*result, "pid", json_object_new_int(c->init_pid));
	ret = 0;
out:
	agent_newcontainer_request_clear(&r);
	return ret;
}

int agent_cmd_startcontainer(struct agent *a, json_object *req, json_object **result,
                             kata_error_t *err)
{
	struct agent_target_request r;
	struct agent_container *c;
	int ret = -1;

	if (agent_parse_target(req, false, false, false, &r, err) < 0)
		return -1;
	c = find_or_fail(a, r.container, err);
	if (c != NULL) {
		if (c->started) {
			kata_error_set(err, EINVAL, "container `%s` was started already", c->id);
		} else if (c->init == NULL || c->init->exited) {
			kata_error_set(err, EINVAL, "container `%s` is stopped", c->id);
		} else {
			c->started = true;
			ret = agent_spawn_start(c, err);
		}
	}
	agent_target_request_clear(&r);
	return ret;
}

int agent_cmd_execcmd(struct agent *a, json_object *req, json_object **result, kata_error_t *err)
{
	struct agent_execcmd_request r;
	struct agent_container *c;
	int ret = -1;

	if (agent_parse_execcmd(req, &r, err) < 0)
		return -1;
	c = find_or_fail(a, r.container, err);
	if (c == NULL)
		goto out;
	if (agent_process_find(a, c->id, r.process.id) != NULL) {
		kata_error_set(err, EEXIST, "process `%s` exists in container `%s`", r.process.id,
		               c->id);
		goto out;
	}
	if (check_streams(a, &r.process, err) < 0)
		goto out;
	ret = agent_spawn_exec(a, c, &r.process, err);
out:
	agent_execcmd_request_clear(&r);
	return ret;
}

static int kill_all(struct agent_container *c, int signo, kata_error_t *err)
{
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;

	if (agent_cgroup_procs(c->id, &pids, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (kill(pids[i], signo) < 0 && errno != ESRCH)
			return kata_error_sys(err, "kill %d", (int)pids[i]);
	return 0;
}

int agent_cmd_killcontainer(struct agent *a, json_object *req, json_object **result,
                            kata_error_t *err)
{
	struct agent_target_request r;
	struct agent_container *c;
	int ret = -1;

	if (agent_parse_target(req, false, true, false, &r, err) < 0)
		return -1;
	c = find_or_fail(a, r.container, err);
	if (c == NULL)
		goto out;
	if (r.all) {
		ret = kill_all(c, r.signal, err);
	} else if (c->init == NULL || c->init->exited) {
		kata_error_set(err, ESRCH, "container `%s` is not running", c->id);
	} else if (kill(c->init_pid, r.signal) < 0) {
		kata_error_sys(err, "kill");
	} else {
		ret = 0;
	}
out:
	agent_target_request_clear(&r);
	return ret;
}

static struct agent_process *target_process(struct agent *a, const struct agent_target_request *r,
                                            kata_error_t *err)
{
	struct agent_container *c = find_or_fail(a, r->container, err);
	struct agent_process *p;

	if (c == NULL)
		return NULL;
	p = r->process ? agent_process_find(a, c->id, r->process) : c->init;
	if (p == NULL)
		kata_error_set(err, ENOENT, "no process `%s` in container `%s`",
		               r->process ? r->process : "(init)", c->id);
	return p;
}

int agent_cmd_signalprocess(struct agent *a, json_object *req, json_object **result,
                            kata_error_t *err)
{
	struct agent_target_request r;
	struct agent_process *p;
	int ret = -1;

	if (agent_parse_target(req, true, true, false, &r, err) < 0)
		return -1;
	p = target_process(a, &r, err);
	if (p != NULL) {
		if (p->exited)
			kata_error_set(err, ESRCH, "process `%s` has exited", p->id);
		else if (kill(p->pid, r.signal) < 0)
			kata_error_sys(err, "kill");
		else
			ret = 0;
	}
	agent_target_request_clear(&r);
	return ret;
}

int agent_cmd_winsize(struct agent *a, json_object *req, json_object **result, kata_error_t *err)
{
	struct agent_target_request r;
	struct agent_process *p;
	int ret = -1;

	if (agent_parse_target(req, false, false, true, &r, err) < 0)
		return -1;
	p = target_process(a, &r, err);
	if (p != NULL) {
		struct winsize ws = { .ws_row = r.row, .ws_col = r.column };

		if (p->pty_master < 0)
			kata_error_set(err, ENOTTY, "process `%s` has no terminal", p->id);
		else if (ioctl(p->pty_master, TIOCSWINSZ, &ws) < 0)
			kata_error_sys(err, "TIOCSWINSZ");
		else
			ret = 0;
	}
	agent_target_request_clear(&r);
	return ret;
}

/* Waits (bounded) for a child of the agent to exit, and records it. */
static void reap_now(struct agent *a, pid_t pid, int timeout_ms)
{
	for (int waited = 0; waited <= timeout_ms; waited += 10) {
		int status;
		pid_t r = waitpid(pid, &status, WNOHANG);

		if (r == pid || (r < 0 && errno == ECHILD)) {
			struct agent_process *p = agent_process_by_pid(a, pid);

			if (p != NULL && r == pid)
				agent_process_exited(p, status);
			return;
		}
		usleep(10000);
	}
	log_warning("pid %d did not exit after SIGKILL", (int)pid);
}

static void stop_container(struct agent_container *c)
{
	cleanup_error kata_error_t err = NULL;

	if (c->init == NULL || c->init->exited)
		return;
	if (kill_all(c, SIGKILL, &err) < 0)
		log_warning("%s", err->message);
	kill(c->init_pid, SIGKILL);
	reap_now(c->agent, c->init_pid, 5000);
}

int agent_cmd_removecontainer(struct agent *a, json_object *req, json_object **result,
                              kata_error_t *err)
{
	struct agent_target_request r;
	struct agent_container *c;

	if (agent_parse_target(req, false, false, false, &r, err) < 0)
		return -1;
	c = find_or_fail(a, r.container, err);
	agent_target_request_clear(&r);
	if (c == NULL)
		return -1;
	stop_container(c);
	agent_cgroup_remove(c->id);
	log_debug("container %s removed", c->id);
	agent_container_free(c);
	return 0;
}

void agent_kill_everything(struct agent *a)
{
	for (struct agent_container *c = a->containers; c; c = c->next)
		stop_container(c);
	while (a->containers != NULL) {
		agent_cgroup_remove(a->containers->id);
		agent_container_free(a->containers);
	}
}
