/* What the files of shim/ share: the state of one shim and the functions that move
 * it along. Nothing outside shim/ (but its unit tests) includes this. */
#ifndef KATA_SHIM_INTERNAL_H
#define KATA_SHIM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "proxy_frame.h"
#include "shim.h"
#include "stdfd.h"
#include "terminal.h"

/* Reading the proxy pauses while stdout or stderr has this much queued (a slow reader
 * of the shim's output stalls the process in the guest, not the shim's memory). */
#define SHIM_OUTPUT_HIGH (1u << 20)
/* Reading stdin pauses while this much waits to be sent to the proxy. */
#define SHIM_PROXY_HIGH (256u * 1024)
/* stdin is read and sent in chunks of this size. */
#define SHIM_STDIN_CHUNK (32u * 1024)
/* How long DisconnectShim may take to leave before the shim exits anyway. */
#define SHIM_FINISH_TIMEOUT_MS 2000
/* Signals kept while the proxy is away; more are dropped (with a warning). */
#define SHIM_MAX_PENDING_SIGNALS 64

struct shim;

struct shim_output {
	struct shim *shim;
	const char *name;
	struct shim_stdio io;
	struct event_fd *efd; /* NULL: written directly (a file), or discarded */
	bool broken;          /* the reader went away: output is discarded */
};

struct shim {
	const struct shim_options *opts;
	struct event_loop *loop;
	struct shim_terminal terminal;

	/* the proxy */
	struct event_fd *proxy;           /* NULL while not connected */
	struct proxy_frame_buffer reader; /* resync mode: a bad frame is dropped */
	bool proxy_lost; /* the connection closed: reconnect once its frames are handled */
	bool connected_once;
	struct event_timer *reconnect_timer;
	uint64_t lost_at_ms;
	char *last_connect_error;

	/* stdin */
	struct shim_stdio stdin_io;
	struct event_fd *stdin_efd;      /* a pipe, FIFO, terminal, socket */
	struct event_timer *stdin_timer; /* a file or device epoll cannot watch */
	bool stdin_eof;
	bool stdin_eof_sent;

	struct shim_output outputs[2]; /* stdout, stderr */

	int pending_signals[SHIM_MAX_PENDING_SIGNALS];
	int pending_signal_count;

	bool oom_killed; /* the proxy said the process was OOM-killed (before ProcessExited) */
	bool exiting;    /* ProcessExited came: drain, disconnect, exit with status */
	bool disconnect_sent;
	struct event_timer *finish_timer;
	bool done;
	int status;
	kata_error_t error;
};

/* shim.c */
void shim_fail(struct shim *s, int status, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int shim_proxy_send(struct shim *s, uint8_t type, uint8_t opcode, const void *payload, size_t len);
int shim_proxy_attach(struct shim *s, int fd, kata_error_t *err);
void shim_connected(struct shim *s);
void shim_send_signal(struct shim *s, int signo);
void shim_send_winsize(struct shim *s);
void shim_send_stdin_eof(struct shim *s);
void shim_pump_frames(struct shim *s);
void shim_maybe_finish(struct shim *s);
bool shim_signal_is_forwarded(int signo);

/* output.c */
int shim_output_open(struct shim *s, struct shim_output *out, int fd, const char *name,
                     kata_error_t *err);
void shim_output_write(struct shim *s, struct shim_output *out, const void *buf, size_t len);
size_t shim_output_queued(const struct shim_output *out);
/* After the loop is freed: puts back what output_open changed. */
void shim_output_close(struct shim_output *out);

/* input.c */
int shim_stdin_open(struct shim *s, kata_error_t *err);
void shim_stdin_resume(struct shim *s);
void shim_stdin_stop(struct shim *s);
void shim_stdin_close(struct shim *s);

/* reconnect.c */
int shim_reconnect_first(struct shim *s, kata_error_t *err);
void shim_reconnect_start(struct shim *s);

#endif
