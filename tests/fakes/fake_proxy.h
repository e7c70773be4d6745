/* A scriptable fake kata-proxy for testing kata-shim (and any client of the proxy
 * protocol): it listens on a unix socket, records every frame a client sends, and sends
 * whatever bytes a test queues, well-formed or not.
 *
 * It is single-threaded and driven by the test: every wait below "pumps", i.e. polls
 * the listener, the client connection and the registered captures together, so a test
 * can feed megabytes to a shim while it drains the shim's stdout, without threads and
 * without deadlocks. A capture can be paused or throttled to play a slow reader.
 */
#ifndef KATA_FAKE_PROXY_H
#define KATA_FAKE_PROXY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "proxy_proto.h"

struct fake_proxy;

/* A frame received from the client. */
struct fake_proxy_frame {
	unsigned connection; /* 1 for the first accepted connection, 2 for the next... */
	uint8_t header[PROXY_HEADER_SIZE]; /* as received */
	uint16_t version;
	uint8_t header_words;
	uint8_t flags;
	uint8_t type;
	uint8_t opcode;
	uint32_t length;
	char *payload; /* length bytes, plus a NUL for convenience */
};

/* Reads an fd the test wants drained while pumping (a shim's stdout, say). */
struct fake_capture {
	int fd; /* -1: nothing */
	char *data;
	size_t len, cap;
	bool eof;
	bool paused;          /* not read at all: a reader that stalls */
	size_t max_per_round; /* at most this many bytes read per pump round; 0: 64 KiB */
};

/* socket_path NULL: no socket, only a pump for captures (a client talking to a real
 * proxy). */
struct fake_proxy *fake_proxy_new(const char *socket_path, kata_error_t *err);
/* Closes everything and removes the socket. NULL ok. */
void fake_proxy_free(struct fake_proxy *fp);
const char *fake_proxy_socket_path(const struct fake_proxy *fp);

/* Registers (or, with NULL data, leaves alone) a capture; the test owns it and its fd.
 * At most FAKE_PROXY_MAX_CAPTURES. */
#define FAKE_PROXY_MAX_CAPTURES 4
void fake_proxy_add_capture(struct fake_proxy *fp, struct fake_capture *capture);
void fake_capture_free(struct fake_capture *capture);

/* --- connections ------------------------------------------------------------------- */

/* Pumps until a client is connected (a new one if none is). 0, or -1 on timeout. */
int fake_proxy_accept(struct fake_proxy *fp, int timeout_ms);
bool fake_proxy_connected(const struct fake_proxy *fp);
/* How many connections were accepted so far. */
unsigned fake_proxy_connection_count(const struct fake_proxy *fp);
/* True once the current (or last) client closed its end. */
bool fake_proxy_client_closed(const struct fake_proxy *fp);
/* Closes the client connection, dropping what was not sent: the proxy "went away". */
void fake_proxy_disconnect(struct fake_proxy *fp);
/* Stops listening and removes the socket: reconnections fail. */
void fake_proxy_stop_listening(struct fake_proxy *fp);

/* --- sending (queued, written while pumping) ------------------------------------------ */

void fake_proxy_queue_raw(struct fake_proxy *fp, const void *bytes, size_t len);
/* A frame with the given header fields (version 2, header length 3 words for the
 * ordinary ones; anything for hostile ones). */
void fake_proxy_queue_frame_ext(struct fake_proxy *fp, uint16_t version, uint8_t header_words,
                                uint8_t flags, uint8_t type, uint8_t opcode, const void *payload,
                                uint32_t length);
void fake_proxy_queue_frame(struct fake_proxy *fp, uint8_t flags, uint8_t type, uint8_t opcode,
                            const void *payload, uint32_t length);
/* Stream data, cut into frames of at most chunk bytes (0: 32 KiB). */
void fake_proxy_queue_stream(struct fake_proxy *fp, uint8_t stream, const void *data, size_t len,
                             size_t chunk);
/* A response to a command; error_json NULL: success with no payload. */
void fake_proxy_queue_response(struct fake_proxy *fp, uint8_t opcode, const char *error_json);
/* ProcessExited with the status byte. */
void fake_proxy_queue_exit(struct fake_proxy *fp, uint8_t status);
/* Bytes queued and not written to the client yet. */
size_t fake_proxy_unsent(const struct fake_proxy *fp);

/* --- pumping --------------------------------------------------------------------------- */

/* One round: waits at most timeout_ms for something to do, then does it. */
void fake_proxy_pump_once(struct fake_proxy *fp, int timeout_ms);
/* Pumps for ms milliseconds. */
void fake_proxy_pump_for(struct fake_proxy *fp, int ms);
/* Pumps until done() is true (checked after every round); false on timeout. */
bool fake_proxy_pump_until(struct fake_proxy *fp, int timeout_ms,
                           bool (*done)(struct fake_proxy *fp, void *data), void *data);
/* Pumps until child pid exits (it is reaped: *status is waitpid's). 0, or -1 on
 * timeout (the child is left alone). */
int fake_proxy_wait_child(struct fake_proxy *fp, pid_t pid, int timeout_ms, int *status);

/* --- what the client sent ----------------------------------------------------------------- */

size_t fake_proxy_frame_count(const struct fake_proxy *fp);
const struct fake_proxy_frame *fake_proxy_frame_at(const struct fake_proxy *fp, size_t index);
/* Pumps until a frame of that type and opcode (-1: any) arrives at an index >= from;
 * returns the index, or -1 on timeout. */
long fake_proxy_wait_frame(struct fake_proxy *fp, int type, int opcode, size_t from,
                           int timeout_ms);
/* The frame's 12 header bytes followed by its payload, for comparisons with
 * WIRE-SAMPLES.md. Caller frees. */
uint8_t *fake_proxy_frame_bytes(const struct fake_proxy_frame *frame, size_t *len);

/* --- a client process ---------------------------------------------------------------------- */

/* A client of the proxy (kata-shim, say) run as a child, its stdout and stderr captured
 * by the pump. */
struct fake_client {
	pid_t pid;    /* 0 once reaped */
	int stdin_fd; /* the test's end of the child's stdin pipe; -1 when stdin is a file */
	struct fake_capture out, err;
	int status; /* waitpid's, once reaped */
};

/* Starts argv[0] with argv. Its stdin is a pipe from client->stdin_fd, or the file
 * stdin_path when not NULL; its stdout is a captured pipe, or the file stdout_path (created)
 * when not NULL; its stderr a captured pipe. The child dies with the test process
 * (PR_SET_PDEATHSIG), starts with no signal blocked and default dispositions. */
int fake_proxy_spawn(struct fake_proxy *fp, char *const argv[], const char *stdin_path,
                     const char *stdout_path, struct fake_client *client, kata_error_t *err);
/* Writes all of data to the child's stdin while pumping; 0, or -1 on timeout or error. */
int fake_client_write_stdin(struct fake_proxy *fp, struct fake_client *client, const void *data,
                            size_t len, int timeout_ms);
void fake_client_close_stdin(struct fake_client *client);
/* Pumps until the child exits: returns its waitpid status, or -1 on timeout. */
int fake_client_wait(struct fake_proxy *fp, struct fake_client *client, int timeout_ms);
/* Kills (SIGKILL) the child if it still runs, reaps it, closes and frees everything. */
void fake_client_release(struct fake_proxy *fp, struct fake_client *client);
void fake_proxy_remove_capture(struct fake_proxy *fp, struct fake_capture *capture);

#endif
