/* kata-proxy's life: the listening socket, the agent's channels, the console, VM death
 * and shutdown. */
#include "proxy.h"
#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "unix_socket.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define SHUTDOWN_TICK_MS 10
#define SHUTDOWN_TICKS   200 /* at most 2 s to flush the last answers */
#define CONSOLE_LINE_MAX 4096
#define LISTEN_BACKLOG   128

static void listener_resume(struct event_timer *timer, void *data)
{
	struct proxy *proxy = data;

	if (proxy->listener != NULL)
		event_fd_set_reading(proxy->listener, true);
}

static void listener_readable(struct event_fd *efd, void *data)
{
	struct proxy *proxy = data;

	for (int i = 0; i < 16; i++) {
		cleanup_error kata_error_t err = NULL;
		int fd = accept4(event_fd_get_fd(efd), NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

		if (fd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
				return;
			log_warning("accept: %s", strerror(errno));
			/* out of descriptors: the listener would stay readable and spin; wait */
			event_fd_set_reading(efd, false);
			if (proxy->accept_timer == NULL)
				proxy->accept_timer = event_timer_add(proxy->loop, 100, 0,
				                                      listener_resume, proxy, &err);
			else
				event_timer_rearm(proxy->accept_timer, 100, 0);
			if (proxy->accept_timer == NULL)
				event_fd_set_reading(efd, true);
			return;
		}
		if (proxy->client_count >= PROXY_MAX_CLIENTS) {
			log_warning("too many clients (%d): connection refused", PROXY_MAX_CLIENTS);
			close(fd);
			continue;
		}
		if (proxy_client_accept(proxy, fd, &err) < 0) {
			log_warning("new client: %s", err->message);
			close(fd);
		}
	}
}

static void listener_hangup(struct event_fd *efd, void *data)
{
	log_error("the listening socket failed");
	proxy_shutdown(data, 1);
}

static const struct event_fd_ops listener_ops = {
	.readable = listener_readable,
	.hangup = listener_hangup,
};

static int listen_unix(const char *path, kata_error_t *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_close int fd = -1;
	mode_t old_umask;
	int r;

	if (strlen(path) >= sizeof(addr.sun_path))
		return kata_error_set(err, ENAMETOOLONG, "socket path `%s` too long", path);
	strcpy(addr.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return kata_error_sys(err, "socket");
	if (unlink(path) < 0 && errno != ENOENT)
		return kata_error_sys(err, "remove stale socket `%s`", path);
	/* created 0600 from the start: no window where others could connect */
	old_umask = umask(0177);
	r = bind(fd, (struct sockaddr *)&addr, sizeof(addr));
	umask(old_umask);
	if (r < 0)
		return kata_error_sys(err, "bind `%s`", path);
	if (chmod(path, 0600) < 0 || listen(fd, LISTEN_BACKLOG) < 0) {
		kata_error_sys(err, "listen on `%s`", path);
		unlink(path);
		return -1;
	}
	return steal_fd(&fd);
}

/* --- console ------------------------------------------------------------------------------ */

static void console_readable(struct event_fd *efd, void *data)
{
	struct proxy *proxy = data;
	struct proxy_frame_buffer *in = &proxy->console_in;
	size_t room;
	unsigned char *p = proxy_frame_buffer_space(in, 4096, &room);
	ssize_t n = event_fd_read(efd, p, room);

	if (n <= 0)
		return;
	proxy_frame_buffer_commit(in, n);
	for (;;) {
		unsigned char *start = in->data + in->consumed;
		size_t avail = in->len - in->consumed;
		unsigned char *nl = memchr(start, '\n', avail);
		size_t line = nl ? (size_t)(nl - start) : avail;

		if (nl == NULL && avail < CONSOLE_LINE_MAX)
			break;
		if (line > CONSOLE_LINE_MAX)
			line = CONSOLE_LINE_MAX;
		for (size_t i = 0; i < line; i++)
			if (start[i] < 0x20 || start[i] == 0x7f)
				start[i] = ' ';
		log_debug("vm console: %.*s", (int)line, (const char *)start);
		in->consumed += line + (nl != NULL && line == (size_t)(nl - start) ? 1 : 0);
		if (in->consumed == in->len)
			in->consumed = in->len = 0;
	}
}

static void console_hangup(struct event_fd *efd, void *data)
{
	struct proxy *proxy = data;

	log_debug("vm console closed");
	event_fd_close(efd);
	proxy->console = NULL;
}

static const struct event_fd_ops console_ops = {
	.readable = console_readable,
	.hangup = console_hangup,
};

static void open_console(struct proxy *proxy, const char *path)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_close int fd = unix_socket_connect(path, 0, &err);

	if (fd < 0) {
		log_warning("console: %s", err->message);
		return;
	}
	proxy_frame_buffer_init(&proxy->console_in, 0);
	proxy->console = event_fd_add(proxy->loop, fd, &console_ops, proxy, 0, &err);
	if (proxy->console == NULL) {
		log_warning("console: %s", err->message);
		return;
	}
	steal_fd(&fd);
}

/* --- agent events, death, shutdown ------------------------------------------------------------- */

void proxy_agent_event(struct proxy *proxy, uint32_t code, const unsigned char *payload, size_t len)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *container = NULL, *process = NULL, *event = NULL;
	json_object *obj = json_parse_text((const char *)payload, len, &err);
	struct proxy_token *token;
	int32_t status = 0;
	bool oom_killed = false;

	if (obj == NULL || !json_object_is_type(obj, json_type_object) ||
	    json_get_string(obj, "container", "", true, &container, &err) < 0 ||
	    json_get_string(obj, "process", "", true, &process, &err) < 0 ||
	    json_get_string(obj, "event", "", true, &event, &err) < 0 ||
	    json_get_int32(obj, "status", "", false, &status, &err) < 0) {
		log_warning("agent: malformed process event: %s",
		            err ? err->message : "not an object");
		json_object_put(obj);
		return;
	}
	/* only a boolean counts; anything else is logged and the exit goes on without it */
	if (json_get_bool(obj, "oomKilled", "", false, &oom_killed, &err) < 0) {
		log_warning("agent: exit report of %s/%s: %s, ignored", container, process,
		            err->message);
		oom_killed = false;
	}
	json_object_put(obj);
	if (strcmp(event, "finished") != 0) {
		log_debug("agent: process event `%s` of %s/%s ignored", event, container, process);
		return;
	}
	token = proxy_token_find_process(proxy, container, process);
	if (token == NULL) {
		log_debug("agent: exit of unknown process %s/%s", container, process);
		return;
	}
	if (!token->exited)
		token->oom_killed = oom_killed;
	proxy_io_process_finished(proxy, token, proxy_hyperstart_status(proxy, token, status));
}

int proxy_connect_agent(struct proxy *proxy, const char *ctl, const char *io, kata_error_t *err)
{
	if (proxy_agent_connect(proxy, ctl, io, proxy->opts->connect_timeout_ms, err) < 0)
		return -1;
	proxy->agent_connected = true;
	return 0;
}

void proxy_vm_died(struct proxy *proxy, const char *why)
{
	if (proxy->shutting_down)
		return;
	log_error("%s: the VM is gone, every process gets exit code 255", why);
	proxy_io_vm_died(proxy);
	proxy_request_fail_all(proxy, why);
	proxy_agent_close(&proxy->agent);
	proxy_shutdown(proxy, 1);
}

static void shutdown_tick(struct event_timer *timer, void *data)
{
	struct proxy *proxy = data;
	static unsigned ticks;
	bool flushed = true;

	for (struct proxy_client *c = proxy->clients; c != NULL; c = c->next)
		if (c->efd != NULL && !event_fd_is_hung_up(c->efd) && event_fd_queued(c->efd) > 0)
			flushed = false;
	if (flushed || ++ticks >= SHUTDOWN_TICKS)
		event_loop_quit(proxy->loop, proxy->exit_status);
}

void proxy_shutdown(struct proxy *proxy, int status)
{
	cleanup_error kata_error_t err = NULL;

	if (proxy->shutting_down)
		return;
	proxy->shutting_down = true;
	proxy->exit_status = status;
	if (proxy->listener != NULL) {
		event_fd_close(proxy->listener);
		proxy->listener = NULL;
		unlink(proxy->opts->listen_socket);
	}
	for (struct proxy_client *c = proxy->clients; c != NULL; c = c->next)
		if (c->efd != NULL)
			event_fd_set_reading(c->efd, false);
	proxy->shutdown_timer =
	        event_timer_add(proxy->loop, 0, SHUTDOWN_TICK_MS, shutdown_tick, proxy, &err);
	if (proxy->shutdown_timer == NULL)
		event_loop_quit(proxy->loop, status);
}

static void on_terminate(struct event_loop *loop, const struct signalfd_siginfo *info, void *data)
{
	log_info("signal %u: exiting", info->ssi_signo);
	proxy_shutdown(data, 0);
}

/* --- setup -------------------------------------------------------------------------------------- */

int proxy_init(struct proxy *proxy, struct proxy_options *opts, kata_error_t *err)
{
	int fd;

	memset(proxy, 0, sizeof(*proxy));
	proxy->opts = opts;
	proxy->vm_pidfd = -1;
	proxy->next_seq = 1; /* 0 carries credits */
	proxy->loop = event_loop_new(err);
	if (proxy->loop == NULL)
		return -1;
	if (event_loop_add_signal(proxy->loop, SIGTERM, on_terminate, proxy, err) < 0 ||
	    event_loop_add_signal(proxy->loop, SIGINT, on_terminate, proxy, err) < 0)
		return -1;
	fd = listen_unix(opts->listen_socket, err);
	if (fd < 0)
		return -1;
	proxy->listener = event_fd_add(proxy->loop, fd, &listener_ops, proxy, 0, err);
	if (proxy->listener == NULL) {
		close(fd);
		return -1;
	}
	if (opts->ctl_socket != NULL &&
	    proxy_connect_agent(proxy, opts->ctl_socket, opts->io_socket, err) < 0)
		return -1;
	if (opts->console != NULL)
		open_console(proxy, opts->console);
	if (proxy_watch_start(proxy, err) < 0 || proxy_hyperstart_watch(proxy, err) < 0)
		return -1;
	log_info("serving %s (dialect %s)", opts->listen_socket, proxy_dialect_name(opts->dialect));
	return 0;
}

int proxy_run(struct proxy *proxy, kata_error_t *err)
{
	return event_loop_run(proxy->loop, err);
}

void proxy_fini(struct proxy *proxy)
{
	if (proxy->loop == NULL)
		return;
	proxy->shutting_down = true;
	proxy_watch_stop(proxy);
	while (proxy->clients != NULL)
		proxy_client_free(proxy->clients);
	while (proxy->tokens != NULL)
		proxy_token_free(proxy, proxy->tokens);
	proxy_request_fail_all(proxy, "the proxy is exiting");
	proxy_agent_close(&proxy->agent);
	if (proxy->listener != NULL) {
		event_fd_close(proxy->listener);
		unlink(proxy->opts->listen_socket);
	}
	proxy_frame_buffer_free(&proxy->console_in);
	event_timer_free(proxy->accept_timer);
	event_timer_free(proxy->status_timer);
	event_loop_free(proxy->loop);
	free(proxy->container_id);
	memset(proxy, 0, sizeof(*proxy));
}
