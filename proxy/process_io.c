/* Process output to shims, in order and bounded; stdin to the agent; exit codes.
 *
 * Output of a token goes straight into its shim's socket queue when the shim is
 * connected and nothing older waits; otherwise into the token's backlog, which is handed
 * over when the shim connects. With credits (the kata dialect) the agent sends at most
 * AGENT_IO_INITIAL_WINDOW unacknowledged bytes per stream, and a stream is credited only
 * once its bytes are in a shim's socket queue that is not too full: a slow or absent shim
 * stalls only its own process. Without credits, the I/O channel stops being read while
 * any token holds too much. ProcessExited is queued after the last byte of the process's
 * output, so a shim always gets every byte before the exit code. */
#include "proxy.h"
#include "agent_proto.h"
#include "cleanup.h"
#include "log.h"

#include <string.h>

/* An agent may overshoot its window by the frame in flight; beyond that it is broken. */
#define WINDOW_SLACK AGENT_IO_MAX_FRAME
/* Without credits, a connected shim may have this much queued before reading stops. */
#define SHIM_QUEUE_LIMIT_NO_CREDITS (2u << 20)
/* Pause a shim's stdin while the agent's I/O channel has this much queued. */
#define AGENT_STDIN_QUEUE_HIGH (1u << 20)
/* Credits go out once this much is owed on a token's streams. */
#define CREDIT_BATCH (AGENT_IO_INITIAL_WINDOW / 4)

static bool with_credits(const struct proxy *proxy)
{
	return proxy->opts->dialect == PROXY_DIALECT_KATA;
}

static void backlog_append(struct proxy_token *token, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (token->backlog_len + len > token->backlog_cap) {
		size_t cap = token->backlog_cap ? token->backlog_cap : 4096;
		while (cap < token->backlog_len + len)
			cap *= 2;
		token->backlog = xrealloc(token->backlog, cap);
		token->backlog_cap = cap;
	}
	memcpy(token->backlog + token->backlog_len, data, len);
	token->backlog_len += len;
}

/* One frame for the token's shim, after everything before it. */
static void token_output(struct proxy_token *token, uint8_t type, uint8_t opcode,
                         const void *payload, size_t len)
{
	unsigned char header[PROXY_HEADER_SIZE];

	if (token->shim != NULL && token->backlog_len == 0) {
		if (proxy_client_send(token->shim, type, opcode, 0, payload, len) == 0)
			return;
		/* the shim's queue refused it: keep it, in order, for later */
	}
	proxy_frame_put_header(header, type, opcode, 0, (uint32_t)len);
	backlog_append(token, header, sizeof(header));
	backlog_append(token, payload, len);
}

static void grant_credits(struct proxy *proxy, struct proxy_token *token)
{
	cleanup_error kata_error_t err = NULL;

	if (!with_credits(proxy) || token->shim == NULL || token->backlog_len > 0 ||
	    event_fd_queued(token->shim->efd) > PROXY_SHIM_QUEUE_HIGH)
		return;
	/* In batches of a quarter window: every credit frame costs the guest an interrupt and a
	 * wake-up of the agent; under TCG batches (and the 1 MiB window) gave 2-3x the stdout
	 * throughput (docs/performance.md). The stream keeps at least 3/4 of its window. */
	if (token->owed_stdio + token->owed_stderr < CREDIT_BATCH)
		return;
	if (token->owed_stdio > 0) {
		if (proxy_agent_send_credit(&proxy->agent, token->stdio_seq,
		                            (uint32_t)token->owed_stdio, &err) < 0)
			return;
		token->unacked_stdio -= token->owed_stdio;
		token->owed_stdio = 0;
	}
	if (token->owed_stderr > 0) {
		if (proxy_agent_send_credit(&proxy->agent, token->stderr_seq,
		                            (uint32_t)token->owed_stderr, &err) < 0)
			return;
		token->unacked_stderr -= token->owed_stderr;
		token->owed_stderr = 0;
	}
}

void proxy_io_update_reading(struct proxy *proxy)
{
	bool stall = false;

	if (with_credits(proxy) || proxy->agent.io == NULL)
		return;
	for (struct proxy_token *t = proxy->tokens; t != NULL && !stall; t = t->next) {
		if (t->backlog_len > PROXY_BACKLOG_LIMIT)
			stall = true;
		else if (t->shim != NULL &&
		         event_fd_queued(t->shim->efd) > SHIM_QUEUE_LIMIT_NO_CREDITS)
			stall = true;
	}
	proxy_agent_set_io_reading(&proxy->agent, !stall);
}

static void maybe_queue_exit(struct proxy *proxy, struct proxy_token *token)
{
	unsigned char status;

	if (!token->exited || token->exit_queued || !token->stdio_eof)
		return;
	/* our agent ends stderr too; hyperstart and Clear Containers only stdout */
	if (with_credits(proxy) && !token->terminal && !token->stderr_eof)
		return;
	status = (unsigned char)(token->exit_status & 0xff);
	token->exit_queued = true;
	log_debug("process %s/%s exited %d%s", token->container ? token->container : "?",
	          token->process ? token->process : "?", token->exit_status,
	          token->oom_killed ? " (OOM-killed)" : "");
	if (token->oom_killed)
		token_output(token, PROXY_TYPE_NOTIFICATION, PROXY_NOTIFY_PROCESS_OOM_KILLED, NULL,
		             0);
	token_output(token, PROXY_TYPE_NOTIFICATION, PROXY_NOTIFY_PROCESS_EXITED, &status, 1);
}

void proxy_io_process_finished(struct proxy *proxy, struct proxy_token *token, int status)
{
	if (token->exited)
		return;
	token->exited = true;
	token->exit_status = status;
	maybe_queue_exit(proxy, token);
}

void proxy_io_from_agent(struct proxy *proxy, uint64_t seq, const unsigned char *data, size_t len)
{
	struct proxy_token *token = proxy_token_find_seq(proxy, seq);
	bool is_stderr;
	uint64_t *unacked;

	if (token == NULL) {
		log_debug("agent: %zu bytes for unknown stream %llu, dropped", len,
		          (unsigned long long)seq);
		return;
	}
	is_stderr = seq == token->stderr_seq;
	if (len > 0)
		token->frames_in++;
	if (proxy->opts->dialect == PROXY_DIALECT_CC && !is_stderr && token->stdio_eof) {
		/* Clear Containers' agent: one byte of exit status after stdout's end */
		if (len == 1)
			proxy_io_process_finished(proxy, token, data[0]);
		return;
	}
	if (is_stderr ? token->stderr_eof : token->stdio_eof) {
		log_warning("agent: %zu bytes on stream %llu after its end, dropped", len,
		            (unsigned long long)seq);
		return;
	}
	if (len == 0) {
		if (is_stderr)
			token->stderr_eof = true;
		else
			token->stdio_eof = true;
		if (!is_stderr && proxy->opts->dialect == PROXY_DIALECT_HYPERSTART)
			proxy_hyperstart_stdout_ended(proxy, token);
		maybe_queue_exit(proxy, token);
		return;
	}
	if (with_credits(proxy)) {
		unacked = is_stderr ? &token->unacked_stderr : &token->unacked_stdio;
		if (*unacked + len > AGENT_IO_INITIAL_WINDOW + WINDOW_SLACK) {
			log_warning("agent: stream %llu ignores its window, %zu bytes dropped",
			            (unsigned long long)seq, len);
			return;
		}
		*unacked += len;
		if (is_stderr)
			token->owed_stderr += len;
		else
			token->owed_stdio += len;
	}
	token_output(token, PROXY_TYPE_STREAM,
	             is_stderr ? PROXY_STREAM_STDERR : PROXY_STREAM_STDOUT, data, len);
	grant_credits(proxy, token);
	proxy_io_update_reading(proxy);
}

void proxy_io_shim_attached(struct proxy *proxy, struct proxy_token *token)
{
	cleanup_error kata_error_t err = NULL;

	if (token->shim != NULL && token->backlog_len > 0) {
		if (event_fd_write(token->shim->efd, token->backlog, token->backlog_len, &err) ==
		    0) {
			free(token->backlog);
			token->backlog = NULL;
			token->backlog_len = token->backlog_cap = 0;
		}
	}
	grant_credits(proxy, token);
	proxy_io_update_reading(proxy);
}

void proxy_io_shim_drained(struct proxy *proxy, struct proxy_token *token)
{
	if (token->backlog_len > 0)
		proxy_io_shim_attached(proxy, token);
	grant_credits(proxy, token);
	proxy_io_update_reading(proxy);
}

static void send_stdin(struct proxy *proxy, struct proxy_token *token, const unsigned char *data,
                       size_t len)
{
	cleanup_error kata_error_t err = NULL;

	if (proxy_agent_send_io(&proxy->agent, token->stdio_seq, data, len, &err) < 0) {
		log_warning("stdin of %s/%s lost: %s", token->container, token->process,
		            err->message);
		return;
	}
	/* the agent reads slowly: stop reading this shim until the channel drains */
	if (token->shim != NULL && proxy->agent.io != NULL &&
	    event_fd_queued(proxy->agent.io) > AGENT_STDIN_QUEUE_HIGH) {
		token->shim->stdin_paused = true;
		if (token->shim->efd != NULL)
			event_fd_set_reading(token->shim->efd, false);
	}
}

void proxy_io_stdin(struct proxy *proxy, struct proxy_token *token, const unsigned char *data,
                    size_t len)
{
	if (token->exited)
		return;
	if (!token->bound) {
		/* the process does not exist yet: keep it, bounded, for when it does */
		if (len == 0) {
			token->stdin_eof_pending = true;
			return;
		}
		token->stdin_backlog = xrealloc(token->stdin_backlog, token->stdin_len + len);
		memcpy(token->stdin_backlog + token->stdin_len, data, len);
		token->stdin_len += len;
		if (token->stdin_len > PROXY_STDIN_BACKLOG_LIMIT && token->shim != NULL &&
		    token->shim->efd != NULL) {
			token->shim->stdin_paused = true;
			event_fd_set_reading(token->shim->efd, false);
		}
		return;
	}
	send_stdin(proxy, token, data, len);
}

void proxy_io_token_bound(struct proxy *proxy, struct proxy_token *token)
{
	if (token->stdin_len > 0)
		send_stdin(proxy, token, token->stdin_backlog, token->stdin_len);
	free(token->stdin_backlog);
	token->stdin_backlog = NULL;
	token->stdin_len = 0;
	if (token->stdin_eof_pending)
		send_stdin(proxy, token, NULL, 0);
	token->stdin_eof_pending = false;
	if (token->shim != NULL &&
	    (proxy->agent.io == NULL || event_fd_queued(proxy->agent.io) <= AGENT_STDIN_QUEUE_HIGH))
		proxy_client_resume(token->shim);
}

void proxy_io_agent_drained(struct proxy *proxy)
{
	/* resuming handles buffered frames, which may pause again or free tokens: restart */
	bool again = true;

	while (again) {
		again = false;
		for (struct proxy_client *c = proxy->clients; c != NULL; c = c->next) {
			if (!c->stdin_paused || (c->token != NULL && !c->token->bound))
				continue;
			proxy_client_resume(c);
			again = event_fd_queued(proxy->agent.io) <= AGENT_STDIN_QUEUE_HIGH;
			break;
		}
	}
}

void proxy_io_vm_died(struct proxy *proxy)
{
	for (struct proxy_token *t = proxy->tokens; t != NULL; t = t->next) {
		if (t->exit_queued)
			continue;
		t->stdio_eof = t->stderr_eof = true;
		if (!t->exited) {
			t->exited = true;
			t->exit_status = 255;
		}
		maybe_queue_exit(proxy, t);
	}
}
