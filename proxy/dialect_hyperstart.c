/* hyperstart and exit statuses (docs/dialects.md).
 *
 * hyperstart v1.1.0 does not reap a container's processes under this project's guest kernel,
 * so it never reports their end; kata-hyperstart-wait, through which the runtime starts them,
 * writes each one's status to SHARE/CONTAINER/.kata-status/PROCESS before it exits, that is
 * before the end of its stdout: the proxy reads it there at that end (-share-dir). The file is
 * the guest's: opened without following links, without blocking, only a regular file, a
 * few bytes, a number 0-255, removed once read.
 *
 * hyperstart reports a process killed by a signal as exit status 0. The runtime starts every
 * process through kata-hyperstart-wait, which turns a death by signal N of the program into
 * the exit status 128+N (docs/dialects.md); what it cannot turn is its own death by SIGKILL,
 * which takes its program with it. So the proxy notes every SIGKILL it passes to the agent
 * (SIGNALPROCESS for a process, KILLCONTAINER for every process of a container, since
 * hyperstart kills them all when the container's init dies) and reports such a process's
 * status 0 as 137. */
#include "proxy.h"
#include "agent_proto.h"
#include "json_util.h"

#include "cleanup.h"
#include "log.h"

#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

void proxy_hyperstart_note_kill(struct proxy *proxy, uint32_t code, json_object *data)
{
	json_object *container, *signo;

	if (proxy->opts->dialect != PROXY_DIALECT_HYPERSTART || code != AGENT_KILLCONTAINER ||
	    !json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, "container", &container) ||
	    !json_object_is_type(container, json_type_string) ||
	    !json_object_object_get_ex(data, "signal", &signo) ||
	    !json_object_is_type(signo, json_type_int) || json_object_get_int(signo) != SIGKILL)
		return;
	for (struct proxy_token *t = proxy->tokens; t != NULL; t = t->next)
		if (t->bound && strcmp(t->container, json_object_get_string(container)) == 0)
			t->sigkill_sent = true;
}

int proxy_hyperstart_status(const struct proxy *proxy, const struct proxy_token *token, int status)
{
	if (proxy->opts->dialect == PROXY_DIALECT_HYPERSTART && status == 0 && token->sigkill_sent)
		return 128 + SIGKILL;
	return status;
}

/* Names that cannot leave the directory they are joined to. */
static bool safe_name(const char *name)
{
	return name != NULL && name[0] != '\0' && name[0] != '.' && strchr(name, '/') == NULL;
}

static int read_status_file(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	char text[16];
	struct stat st;
	ssize_t n;
	char *end;
	long status;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	status = strtol(text, &end, 10);
	if (end == text || (*end != '\n' && *end != '\0') || status < 0 || status > 255)
		return -1;
	return (int)status;
}

void proxy_hyperstart_stdout_ended(struct proxy *proxy, struct proxy_token *token)
{
	cleanup_free char *path = NULL;
	int status;

	if (token->exited || proxy->opts->share_dir == NULL || !safe_name(token->container) ||
	    !safe_name(token->process))
		return;
	path = xasprintf("%s/%s/.kata-status/%s", proxy->opts->share_dir, token->container,
	                 token->process);
	status = read_status_file(path);
	if (status >= 0) {
		unlink(path);
		proxy_io_process_finished(proxy, token, status);
	} else if (token->sigkill_sent) {
		/* kata-hyperstart-wait itself was killed: no file */
		proxy_io_process_finished(proxy, token, 128 + SIGKILL);
	} else {
		log_debug("process %s/%s: no exit status in %s: waiting for hyperstart's",
		          token->container, token->process, path);
	}
}

/* hyperstart sends the end of a process's stdout only when it reaps the process, which the
 * real v1.1.0 never did in this project's guest: so the status files are also looked for
 * every STATUS_POLL_MS. A file is taken once it has been seen on two polls in a row with no
 * output of the process between them, so that output still on its way comes first. A
 * process sent SIGKILL (whose kata-hyperstart-wait writes nothing) ends after
 * KILL_POLLS polls. */
#define STATUS_POLL_MS 200
#define KILL_POLLS     5

static void poll_token(struct proxy *proxy, struct proxy_token *token)
{
	cleanup_free char *path = NULL;
	int status;

	if (!token->bound || token->exited || !safe_name(token->container) ||
	    !safe_name(token->process))
		return;
	path = xasprintf("%s/%s/.kata-status/%s", proxy->opts->share_dir, token->container,
	                 token->process);
	status = read_status_file(path);
	if (status < 0) {
		if (token->sigkill_sent && ++token->kill_polls >= KILL_POLLS) {
			token->stdio_eof = true; /* the end hyperstart does not send */
			proxy_io_process_finished(proxy, token, 128 + SIGKILL);
		}
		return;
	}
	if (token->status_seen == status && token->frames_at_status == token->frames_in) {
		unlink(path);
		token->stdio_eof = true; /* the end hyperstart does not send */
		proxy_io_process_finished(proxy, token, status);
		return;
	}
	token->status_seen = status;
	token->frames_at_status = token->frames_in;
}

static void status_tick(struct event_timer *timer, void *data)
{
	struct proxy *proxy = data;
	struct proxy_token *next;

	for (struct proxy_token *t = proxy->tokens; t != NULL; t = next) {
		next = t->next;
		poll_token(proxy, t);
	}
}

int proxy_hyperstart_watch(struct proxy *proxy, kata_error_t *err)
{
	if (proxy->opts->dialect != PROXY_DIALECT_HYPERSTART || proxy->opts->share_dir == NULL)
		return 0;
	proxy->status_timer = event_timer_add(proxy->loop, STATUS_POLL_MS, STATUS_POLL_MS,
	                                      status_tick, proxy, err);
	return proxy->status_timer != NULL ? 0 : -1;
}
