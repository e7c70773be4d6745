/* kata-proxy: one per VM. Owns the agent's two channels and multiplexes them between the
 * runtime (commands) and the shims (streams, signals, exit codes), using tokens.
 * docs/proxy-protocol.md describes the behaviour; this header the pieces:
 *
 *   options.c     command line
 *   agent_link.c  the two agent channels: framing, READY, credits
 *   hyper.c       agent command names, JSON rewriting of processes, ACK/ERROR to answers
 *   token.c       tokens and the I/O state of the process each one names
 *   process_io.c  output to shims in order, flow control, exit notification
 *   request.c     Hyper commands queued to the agent one at a time, with deadlines
 *   client.c      connections of runtime and shims, the protocol's commands
 *   proxy.c       setup, VM death, shutdown
 *   watch.c       the VM's companion daemon (virtiofsd): its death stops the VM
 */
#ifndef KATA_PROXY_PROXY_H
#define KATA_PROXY_PROXY_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"
#include "event.h"
#include "agent_frame.h"
#include "proxy_frame.h"

/* --- options ------------------------------------------------------------------------- */

enum proxy_dialect {
	PROXY_DIALECT_KATA = 0,   /* this project's agent: hyperstart codes + I/O credits */
	PROXY_DIALECT_HYPERSTART, /* runV's hyperstart: NEXT frames, no credits */
	PROXY_DIALECT_CC,         /* Clear Containers' agent: codes 23/24 swapped, exit byte */
};

struct proxy_options {
	char *listen_socket;
	char *ctl_socket;
	char *io_socket;
	char *console;
	char *log_path;
	char *log_format;
	char *share_dir; /* the hyperstart dialect: the sandbox's share, for exit statuses */
	enum proxy_dialect dialect;
	bool debug;
	unsigned agent_timeout_ms;   /* deadline of one agent command */
	unsigned connect_timeout_ms; /* how long to retry connecting to the channels */
	/* -vm-pid, -watch-pid: when the watched process (virtiofsd) exits, the VM process is
	 * killed; pid 0: none. A start time (clock ticks, /proc/PID/stat field 22) of 0 is
	 * not checked. */
	struct proxy_pid {
		int pid;
		uint64_t start_time;
	} vm_pid, watch_pid;
	bool help, version;
};

int proxy_options_parse(int argc, char **argv, struct proxy_options *opts, kata_error_t *err);
void proxy_options_clear(struct proxy_options *opts);
const char *proxy_options_usage(void);
int proxy_dialect_parse(const char *name, enum proxy_dialect *dialect, kata_error_t *err);
const char *proxy_dialect_name(enum proxy_dialect dialect);

int proxy_pid_parse(const char *flag, const char *value, struct proxy_pid *out, kata_error_t *err);

/* --- the agent channels -------------------------------------------------------------- */

struct proxy;

struct proxy_agent {
	struct proxy *proxy;
	struct event_fd *ctl, *io;
	struct agent_frame_decoder ctl_in, io_in;
	bool ready;
	bool io_paused;
};

int proxy_agent_connect(struct proxy *proxy, const char *ctl_path, const char *io_path,
                        unsigned timeout_ms, kata_error_t *err);
void proxy_agent_close(struct proxy_agent *agent);
int proxy_agent_send_ctl(struct proxy_agent *agent, uint32_t code, const void *payload, size_t len,
                         kata_error_t *err);
/* Splits data into frames of at most AGENT_IO_MAX_FRAME; len 0 sends an end-of-stream. */
int proxy_agent_send_io(struct proxy_agent *agent, uint64_t seq, const void *data, size_t len,
                        kata_error_t *err);
int proxy_agent_send_credit(struct proxy_agent *agent, uint64_t seq, uint32_t bytes,
                            kata_error_t *err);
void proxy_agent_set_io_reading(struct proxy_agent *agent, bool reading);

/* --- agent commands (hyper.c) ------------------------------------------------------------ */

/* Code of a hyperstart command name ("execcmd", ...) in the dialect; -1 if unknown. */
int proxy_hyper_code(enum proxy_dialect dialect, const char *name);
uint32_t proxy_code_processasyncevent(enum proxy_dialect dialect);
/* Response JSON for an ACK payload (NULL when the ACK had none). */
json_object *proxy_hyper_ack_result(const unsigned char *payload, size_t len, kata_error_t *err);
/* Message of an ERROR payload, always a printable string. */
char *proxy_hyper_error_message(const unsigned char *payload, size_t len);

struct proxy_token;

/* What a NEWCONTAINER or EXECCMD binds its token to. */
struct proxy_binding {
	char *container;
	char *process;
	bool terminal;
};

/* Rewrites data.process.stdio and data.process.stderr (0 with a terminal) to the token's
 * sequence numbers, and data.process.id when it is missing. */
int proxy_hyper_rewrite_process(uint32_t code, json_object *data, const struct proxy_token *token,
                                struct proxy_binding *bind, kata_error_t *err);
void proxy_binding_clear(struct proxy_binding *bind);

/* --- tokens and their processes (token.c) ---------------------------------------------------- */

#define PROXY_MAX_TOKENS          4096
#define PROXY_MAX_CLIENTS         1024
#define PROXY_MAX_REQUESTS        256 /* agent commands queued or in flight */
#define PROXY_MAX_TOKENS_PER_CALL 64

/* Output bytes kept for a shim that is not connected (dialects without credits; with
 * credits the agent cannot send more than its window). */
#define PROXY_BACKLOG_LIMIT (2u << 20)
/* A shim's socket queue above this: stop granting credits (or reading the I/O channel). */
#define PROXY_SHIM_QUEUE_HIGH (512u * 1024)
/* stdin kept while the process does not exist yet, per token. */
#define PROXY_STDIN_BACKLOG_LIMIT (1u << 20)

struct proxy_client;

struct proxy_token {
	struct proxy_token *next;
	char token[PROXY_TOKEN_LENGTH + 1];
	uint64_t stdio_seq, stderr_seq;
	/* bound by the Hyper command that used the token */
	bool bound;
	bool terminal;
	char *container;
	char *process;

	struct proxy_client *shim;
	/* frames for the shim, in order, waiting for it to connect */
	unsigned char *backlog;
	size_t backlog_len, backlog_cap;
	/* stdin received before the process existed */
	unsigned char *stdin_backlog;
	size_t stdin_len;
	bool stdin_eof_pending;

	/* output received from the agent but not yet credited back */
	uint64_t owed_stdio, owed_stderr;
	uint64_t unacked_stdio, unacked_stderr; /* for catching agents that ignore the window */
	bool stdio_eof, stderr_eof;
	bool cc_status_expected; /* CC dialect: a status byte follows the stdout EOF */
	bool exited;
	int exit_status;
	bool exit_queued;  /* ProcessExited is in the backlog or sent */
	bool oom_killed;   /* the agent's exit report said oomKilled */
	bool killed;       /* SIGKILL sent because its shim vanished */
	bool sigkill_sent; /* the hyperstart dialect: SIGKILL passed to the agent for it */
	/* the hyperstart dialect: its status file as last seen (-1: none), output since */
	int status_seen;
	uint64_t frames_in, frames_at_status;
	unsigned kill_polls;
};

struct proxy_token *proxy_token_new(struct proxy *proxy, kata_error_t *err);
void proxy_token_free(struct proxy *proxy, struct proxy_token *token);
struct proxy_token *proxy_token_find(struct proxy *proxy, const char *token);
struct proxy_token *proxy_token_find_seq(struct proxy *proxy, uint64_t seq);
struct proxy_token *proxy_token_find_process(struct proxy *proxy, const char *container,
                                             const char *process);
/* 32 random bytes as padded URL-safe base64 into out[PROXY_TOKEN_LENGTH + 1]. */
int proxy_token_generate(char *out, kata_error_t *err);
bool proxy_token_is_valid(const char *token);

/* --- process I/O (process_io.c) ------------------------------------------------------------ */

void proxy_io_from_agent(struct proxy *proxy, uint64_t seq, const unsigned char *data, size_t len);
void proxy_io_process_finished(struct proxy *proxy, struct proxy_token *token, int status);
/* A shim connected to the token: hand it the backlog. */
void proxy_io_shim_attached(struct proxy *proxy, struct proxy_token *token);
/* The shim's socket queue drained: grant credits, resume reading. */
void proxy_io_shim_drained(struct proxy *proxy, struct proxy_token *token);
void proxy_io_stdin(struct proxy *proxy, struct proxy_token *token, const unsigned char *data,
                    size_t len);
/* The token was bound to its process: send the stdin kept meanwhile. */
void proxy_io_token_bound(struct proxy *proxy, struct proxy_token *token);
/* The agent's I/O channel drained: resume shims whose stdin was paused. */
void proxy_io_agent_drained(struct proxy *proxy);
/* The VM is gone: every process gets exit status 255. */
void proxy_io_vm_died(struct proxy *proxy);
/* Re-decides whether the I/O channel may be read (dialects without credits). */
void proxy_io_update_reading(struct proxy *proxy);

/* --- agent requests (request.c) ------------------------------------------------------------ */

struct proxy_request;
/* Called with the ACK payload, or with the error (agent ERROR, timeout, VM death). */
typedef void (*proxy_request_done_fn)(struct proxy *proxy, struct proxy_request *req,
                                      const unsigned char *ack, size_t ack_len, kata_error_t error,
                                      void *data);

struct proxy_request {
	struct proxy_request *next;
	struct proxy *proxy;
	uint32_t code;
	unsigned char *payload;
	size_t len;
	struct event_timer *deadline;
	proxy_request_done_fn done;
	void *data;
	bool sent;
	bool abandoned; /* timed out while sent: its answer is still to be read and dropped */
	bool counted;   /* in proxy->request_count */
};

/* Queues a command (payload copied); done() is always called exactly once. */
void proxy_request_submit(struct proxy *proxy, uint32_t code, const void *payload, size_t len,
                          proxy_request_done_fn done, void *data);
/* An ACK or ERROR arrived from the agent. */
void proxy_request_answer(struct proxy *proxy, uint32_t code, const unsigned char *payload,
                          size_t len);
/* The agent said READY, or the channel closed: start sending / fail everything. */
void proxy_request_kick(struct proxy *proxy);
void proxy_request_fail_all(struct proxy *proxy, const char *why);
/* A fire-and-forget SIGNALPROCESS. */
/* hyperstart's exit status 0 of a process the proxy sent SIGKILL (dialect_hyperstart.c). */
void proxy_hyperstart_note_kill(struct proxy *proxy, uint32_t code, json_object *data);
int proxy_hyperstart_status(const struct proxy *proxy, const struct proxy_token *token, int status);
/* The end of a process's stdout: its status from kata-hyperstart-wait's file, if there. */
void proxy_hyperstart_stdout_ended(struct proxy *proxy, struct proxy_token *token);
/* Starts looking for exit status files every so often (-share-dir given). */
int proxy_hyperstart_watch(struct proxy *proxy, kata_error_t *err);

void proxy_request_signal_process(struct proxy *proxy, const char *container, const char *process,
                                  int signo);

/* --- clients (client.c) ------------------------------------------------------------------------ */

struct proxy_client {
	struct proxy_client *next;
	struct proxy *proxy;
	struct event_fd *efd;
	struct proxy_frame_buffer in;
	struct proxy_token *token; /* set by ConnectShim */
	bool disconnected_cleanly;
	bool stdin_paused;
	unsigned id;
};

int proxy_client_accept(struct proxy *proxy, int fd, kata_error_t *err);
void proxy_client_free(struct proxy_client *client);
/* Reads again from a client whose stdin was paused. */
void proxy_client_resume(struct proxy_client *client);
int proxy_client_send(struct proxy_client *client, uint8_t type, uint8_t opcode, uint8_t flags,
                      const void *payload, size_t len);
void proxy_client_send_response(struct proxy_client *client, uint8_t opcode, json_object *result);
void proxy_client_send_error(struct proxy_client *client, uint8_t opcode, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* --- the proxy ---------------------------------------------------------------------------------- */

struct proxy {
	struct proxy_options *opts;
	struct event_loop *loop;
	struct event_fd *listener;
	struct event_fd *console;
	struct proxy_frame_buffer console_in;
	struct proxy_agent agent;
	bool agent_connected;

	bool registered;
	char *container_id;

	struct proxy_token *tokens;
	size_t token_count;
	uint64_t next_seq;

	struct proxy_client *clients;
	size_t client_count;
	unsigned next_client_id;
	struct event_timer *accept_timer;

	size_t request_count;

	struct proxy_request *requests; /* FIFO; the head may be in flight */

	bool shutting_down;
	int exit_status;

	int vm_pidfd;             /* -1: none */
	struct event_fd *watched; /* the watched process's pidfd, readable when it exits */
	struct event_timer *shutdown_timer;
	struct event_timer *status_timer; /* the hyperstart dialect: exit status files */
};

int proxy_init(struct proxy *proxy, struct proxy_options *opts, kata_error_t *err);
/* Runs until UnregisterVM (returns 0) or the VM's death (returns 1). */
int proxy_run(struct proxy *proxy, kata_error_t *err);
void proxy_fini(struct proxy *proxy);
/* Connects to the agent channels (from the command line or RegisterVM). */
int proxy_connect_agent(struct proxy *proxy, const char *ctl, const char *io, kata_error_t *err);
/* Watches -watch-pid (watch.c). */
int proxy_watch_start(struct proxy *proxy, kata_error_t *err);
void proxy_watch_stop(struct proxy *proxy);
/* The agent's channels closed or broke the protocol. */
void proxy_vm_died(struct proxy *proxy, const char *why);
/* Answers sent: flush every client and exit with status. */
void proxy_shutdown(struct proxy *proxy, int status);
/* An unsolicited control frame (PROCESSASYNCEVENT). */
void proxy_agent_event(struct proxy *proxy, uint32_t code, const unsigned char *payload,
                       size_t len);

#endif
