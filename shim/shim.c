/* The shim's event loop: the proxy connection, the three standard streams, signals
 * and the exit. How the pieces meet:
 *
 *  proxy socket --frames--> stdout / stderr queues    (reading the proxy pauses while a
 *                                                       queue is above SHIM_OUTPUT_HIGH)
 *  stdin --stdin frames--> proxy socket queue         (reading stdin pauses while that
 *                                                       queue is above SHIM_PROXY_HIGH)
 *  signals --Signal commands--> proxy socket
 *
 * ProcessExited ends it: stop reading, let stdout and stderr drain, send DisconnectShim,
 * exit with the status. A lost proxy is reconnected to (reconnect.c's timer).
 */
#include "shim.h"
#include "shim_internal.h"
#include "cleanup.h"
#include "log.h"
#include "messages.h"
#include "oom_event.h"
#include "proxy_frame.h"

#include <errno.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <unistd.h>

/* What one read of the proxy socket asks room for. */
#define READ_CHUNK (64u * 1024)

void shim_fail(struct shim *s, int status, const char *fmt, ...)
{
	va_list ap;

	if (s->done)
		return;
	if (s->error == NULL) {
		va_start(ap, fmt);
		kata_error_setv(&s->error, 0, fmt, ap);
		va_end(ap);
	}
	s->done = true;
	s->status = status;
	event_loop_quit(s->loop, status);
}

/* --- sending to the proxy -------------------------------------------------------------- */

int shim_proxy_send(struct shim *s, uint8_t type, uint8_t opcode, const void *payload, size_t len)
{
	cleanup_error kata_error_t err = NULL;

	if (s->proxy == NULL)
		return -1;
	if (proxy_frame_send(s->proxy, type, opcode, 0, payload, len, &err) < 0) {
		/* A broken socket calls proxy_hangup() next; a full queue cannot happen
		 * with the bounds kept here, but must not go unnoticed. */
		log_warning("proxy: frame (type %u, opcode %u) not sent: %s", type, opcode,
		            err->message);
		return -1;
	}
	return 0;
}

static int send_json_command(struct shim *s, uint8_t opcode, char *json)
{
	int r;

	/* The token is a capability to the process's I/O: it stays out of logs. */
	log_debug("proxy: command %u %s", opcode,
	          opcode == PROXY_CMD_CONNECT_SHIM ? "(ConnectShim)" : json);
	r = shim_proxy_send(s, PROXY_TYPE_COMMAND, opcode, json, strlen(json));
	free(json);
	return r;
}

void shim_send_signal(struct shim *s, int signo)
{
	if (s->exiting)
		return;
	/* Kept for the next connection if the proxy is away or the socket just broke. */
	if (s->proxy == NULL ||
	    send_json_command(s, PROXY_CMD_SIGNAL, shim_message_signal(signo)) < 0) {
		if (s->pending_signal_count == SHIM_MAX_PENDING_SIGNALS) {
			log_warning("signal %d dropped: the proxy is away and %d signals wait",
			            signo, SHIM_MAX_PENDING_SIGNALS);
			return;
		}
		s->pending_signals[s->pending_signal_count++] = signo;
	}
}

void shim_send_winsize(struct shim *s)
{
	unsigned rows, columns;

	if (s->exiting || s->proxy == NULL ||
	    shim_terminal_get_size(&s->terminal, &rows, &columns) < 0)
		return;
	send_json_command(s, PROXY_CMD_SIGNAL, shim_message_winsize(rows, columns));
}

void shim_send_stdin_eof(struct shim *s)
{
	if (s->proxy == NULL || s->exiting || s->stdin_eof_sent)
		return;
	log_debug("stdin: end of file");
	if (shim_proxy_send(s, PROXY_TYPE_STREAM, PROXY_STREAM_STDIN, NULL, 0) == 0)
		s->stdin_eof_sent = true;
}

/* A fresh connection: ConnectShim first, without waiting for the answer, then what
 * waited for a connection. */
void shim_connected(struct shim *s)
{
	int i;

	log_debug("proxy: connected to %s", s->opts->socket_path);
	send_json_command(s, PROXY_CMD_CONNECT_SHIM, shim_message_connect(s->opts->token));
	shim_send_winsize(s);
	for (i = 0; i < s->pending_signal_count; i++)
		send_json_command(s, PROXY_CMD_SIGNAL, shim_message_signal(s->pending_signals[i]));
	s->pending_signal_count = 0;
	if (s->stdin_eof)
		shim_send_stdin_eof(s);
	shim_stdin_resume(s);
}

/* --- the exit --------------------------------------------------------------------------- */

static void finish_timeout(struct event_timer *timer, void *data)
{
	struct shim *s = data;

	log_warning("proxy: DisconnectShim not flushed in time, exiting anyway");
	s->done = true;
	event_loop_quit(s->loop, s->status);
}

void shim_maybe_finish(struct shim *s)
{
	cleanup_error kata_error_t err = NULL;

	if (!s->exiting || s->done)
		return;
	for (int i = 0; i < 2; i++)
		if (shim_output_queued(&s->outputs[i]) > 0)
			return; /* its drained() calls again */
	if (s->proxy != NULL && !s->disconnect_sent) {
		s->disconnect_sent = true;
		log_debug("proxy: DisconnectShim");
		shim_proxy_send(s, PROXY_TYPE_COMMAND, PROXY_CMD_DISCONNECT_SHIM, NULL, 0);
		s->finish_timer = event_timer_add(s->loop, SHIM_FINISH_TIMEOUT_MS, 0,
		                                  finish_timeout, s, &err);
		if (s->finish_timer == NULL)
			log_warning("%s", err->message);
	}
	if (s->proxy != NULL && event_fd_queued(s->proxy) > 0)
		return; /* proxy_drained() or proxy_hangup() calls again */
	s->done = true;
	event_loop_quit(s->loop, s->status);
}

static void process_exited(struct shim *s, const struct proxy_frame *frame)
{
	if (frame->payload_length < 1) {
		log_warning("proxy: ProcessExited without a status, dropped");
		return;
	}
	s->exiting = true;
	s->status = frame->payload[0];
	log_debug("process exited with status %d%s", s->status,
	          s->oom_killed ? " (OOM-killed)" : "");
	shim_stdin_stop(s);
	/* before the exit, so that containerd has the OOM when it learns of the exit */
	if (s->oom_killed) {
		cleanup_error kata_error_t err = NULL;

		if (shim_oom_publish(s->opts->container, &err) < 0)
			log_warning("OOM kill not published to containerd: %s", err->message);
	}
	shim_maybe_finish(s);
}

/* --- frames from the proxy -------------------------------------------------------------- */

static void handle_response(struct shim *s, const struct proxy_frame *frame)
{
	cleanup_free char *text = NULL;

	if (!(frame->flags & PROXY_FLAG_ERROR)) {
		log_debug("proxy: response to command %u: ok", frame->opcode);
		return;
	}
	text = shim_message_error_text(frame->payload, frame->payload_length);
	if (frame->opcode == PROXY_CMD_CONNECT_SHIM) {
		shim_fail(s, SHIM_EXIT_FAILURE, "the proxy refused ConnectShim: %s", text);
		return;
	}
	log_warning("proxy: command %u failed: %s", frame->opcode, text);
}

static void handle_frame(struct shim *s, const struct proxy_frame *frame)
{
	switch (frame->type) {
	case PROXY_TYPE_RESPONSE:
		handle_response(s, frame);
		break;
	case PROXY_TYPE_STREAM:
		if (frame->opcode == PROXY_STREAM_STDOUT)
			shim_output_write(s, &s->outputs[0], frame->payload, frame->payload_length);
		else if (frame->opcode == PROXY_STREAM_STDERR)
			shim_output_write(s, &s->outputs[1], frame->payload, frame->payload_length);
		else
			log_debug("proxy: stream %u frame of %u bytes ignored", frame->opcode,
			          frame->payload_length);
		break;
	case PROXY_TYPE_NOTIFICATION:
		if (frame->opcode == PROXY_NOTIFY_PROCESS_EXITED)
			process_exited(s, frame);
		else if (frame->opcode == PROXY_NOTIFY_PROCESS_OOM_KILLED)
			s->oom_killed = true;
		else
			log_debug("proxy: notification %u ignored", frame->opcode);
		break;
	default:
		log_debug("proxy: frame of type %u ignored", frame->type);
		break;
	}
}

static bool outputs_blocked(struct shim *s)
{
	for (int i = 0; i < 2; i++)
		if (shim_output_queued(&s->outputs[i]) >= SHIM_OUTPUT_HIGH)
			return true;
	return false;
}

/* Handles the frames already buffered, as far as stdout and stderr take them, then
 * decides whether to read the socket again. */
void shim_pump_frames(struct shim *s)
{
	struct proxy_frame frame;
	bool blocked = false;

	while (!s->exiting && !s->done) {
		cleanup_error kata_error_t why = NULL;
		int st;

		blocked = outputs_blocked(s);
		if (blocked)
			break;
		st = proxy_frame_buffer_next(&s->reader, &frame, &why);
		if (st == PROXY_FRAME_NEED_MORE)
			break;
		if (st == PROXY_FRAME_DROPPED)
			log_warning("proxy: frame dropped: %s", why->message);
		else
			handle_frame(s, &frame);
	}
	if (s->done)
		return;
	if (s->proxy != NULL) {
		event_fd_set_reading(s->proxy, !s->exiting && !blocked);
		return;
	}
	/* The connection is gone: once what it delivered is handled, look for another. */
	if (s->proxy_lost && !s->exiting && !blocked)
		shim_reconnect_start(s);
}

static void proxy_readable(struct event_fd *efd, void *data)
{
	struct shim *s = data;
	size_t avail;
	uint8_t *space;
	ssize_t n;

	shim_pump_frames(s);
	if (s->done || s->exiting || !event_fd_is_reading(efd))
		return;
	space = proxy_frame_buffer_space(&s->reader, READ_CHUNK, &avail);
	n = event_fd_read(efd, space, avail);
	if (n <= 0)
		return; /* nothing now, or the end: proxy_hangup() follows */
	proxy_frame_buffer_commit(&s->reader, (size_t)n);
	shim_pump_frames(s);
}

static void proxy_hangup(struct event_fd *efd, void *data)
{
	struct shim *s = data;

	log_debug("proxy: connection closed");
	event_fd_close(efd);
	s->proxy = NULL;
	if (s->exiting) {
		shim_maybe_finish(s);
		return;
	}
	s->proxy_lost = true;
	shim_pump_frames(s);
}

static void proxy_drained(struct event_fd *efd, void *data)
{
	struct shim *s = data;

	shim_stdin_resume(s);
	shim_maybe_finish(s);
}

int shim_proxy_attach(struct shim *s, int fd, kata_error_t *err)
{
	static const struct event_fd_ops ops = {
		.readable = proxy_readable,
		.hangup = proxy_hangup,
		.drained = proxy_drained,
	};

	s->proxy = event_fd_add(s->loop, fd, &ops, s, 0, err);
	if (s->proxy == NULL)
		return -1;
	event_fd_set_low_water(s->proxy, 0);
	s->proxy_lost = false;
	proxy_frame_buffer_reset(&s->reader);
	return 0;
}

/* --- signals ---------------------------------------------------------------------------- */

static void on_signal(struct event_loop *loop, const struct signalfd_siginfo *info, void *data)
{
	struct shim *s = data;

	if (info->ssi_signo == SIGWINCH) {
		shim_send_winsize(s);
		return;
	}
	log_debug("signal %u: forwarding", info->ssi_signo);
	shim_send_signal(s, (int)info->ssi_signo);
}

bool shim_signal_is_forwarded(int signo)
{
	switch (signo) {
	case SIGKILL:
	case SIGSTOP:
	case SIGCHLD:
	case SIGPIPE:
		return false;
	default:
		return (signo >= 1 && signo < 32) || (signo >= SIGRTMIN && signo <= SIGRTMAX);
	}
}

static int setup_signals(struct shim *s, kata_error_t *err)
{
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	for (int signo = 1; signo <= SIGRTMAX; signo++) {
		if (!shim_signal_is_forwarded(signo))
			continue;
		/* An ignored signal never reaches a signalfd: whoever started the shim
		 * may have ignored some (nohup, a shell's background job). */
		sigaction(signo, &dfl, NULL);
		if (event_loop_add_signal(s->loop, signo, on_signal, s, err) < 0)
			return kata_error_wrap(err, "signal %d", signo);
	}
	return 0;
}

/* --- the whole run ---------------------------------------------------------------------- */

static int shim_setup(struct shim *s, kata_error_t *err)
{
	s->loop = event_loop_new(err);
	if (s->loop == NULL)
		return -1;
	if (setup_signals(s, err) < 0)
		return -1;
	if (shim_terminal_make_raw(&s->terminal, STDIN_FILENO, err) < 0)
		return kata_error_wrap(err, "stdin");
	if (shim_output_open(s, &s->outputs[0], STDOUT_FILENO, "stdout", err) < 0 ||
	    shim_output_open(s, &s->outputs[1], STDERR_FILENO, "stderr", err) < 0)
		return -1;
	if (shim_stdin_open(s, err) < 0)
		return -1;
	return shim_reconnect_first(s, err);
}

int shim_run(const struct shim_options *opts, kata_error_t *err)
{
	struct shim s = { .opts = opts, .status = SHIM_EXIT_PROXY_LOST };
	cleanup_error kata_error_t loop_err = NULL;

	s.terminal.fd = -1;
	s.outputs[0].io.fd = s.outputs[1].io.fd = s.stdin_io.fd = -1;
	s.outputs[0].io.restore_fd = s.outputs[1].io.restore_fd = s.stdin_io.restore_fd = -1;
	proxy_frame_buffer_init_resync(&s.reader, PROXY_MAX_PAYLOAD);
	if (shim_setup(&s, err) < 0) {
		s.status = SHIM_EXIT_PROXY_LOST;
	} else if (event_loop_run(s.loop, &loop_err) < 0) {
		kata_error_move(err, &loop_err);
		s.status = SHIM_EXIT_PROXY_LOST;
	} else if (s.error != NULL) {
		kata_error_move(err, &s.error);
	}
	/* Every way out passes here: the terminal and the flags of shared fds go back. */
	shim_terminal_restore(&s.terminal);
	if (s.loop != NULL)
		event_loop_free(s.loop);
	shim_stdin_close(&s);
	shim_output_close(&s.outputs[0]);
	shim_output_close(&s.outputs[1]);
	proxy_frame_buffer_free(&s.reader);
	kata_error_free(&s.error);
	free(s.last_connect_error);
	return s.status;
}
