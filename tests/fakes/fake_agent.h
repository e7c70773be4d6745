/* A fake guest agent for tests: serves the agent wire format (agent_proto.h) on two unix
 * sockets, as qemu serves the virtio-serial ports, from a thread of the test process.
 *
 * It answers every command (ACK, or ERROR when told to), records each one for the test to
 * inspect, and runs "processes" for NEWCONTAINER and EXECCMD whose behaviour is written in
 * their process.args, one step per argument:
 *
 *   "out:TEXT"     TEXT on stdout            "err:TEXT"    TEXT on stderr
 *   "bulk:N"       N bytes of a pattern on stdout (byte i is 'a' + i % 26)
 *   "bulkerr:N"    the same on stderr
 *   "cat"          stdin echoed to stdout until stdin ends
 *   "stdin"        stdin kept (fake_agent_stdin()) until it ends
 *   "wait"         until a signal: the exit status becomes 128 + signal
 *   "exit:N"       exit status N (default 0), ends the process
 *   "oom:JSON"     the exit report will carry "oomKilled": JSON (as is, e.g. true or "yes")
 *
 * At the end a process sends the end of its streams, then its exit report, as the dialect
 * says: kata: EOF of stdout and stderr, then PROCESSASYNCEVENT (code 23); hyperstart: EOF
 * of stdout then PROCESSASYNCEVENT, with NEXT frames before every answer; cc: EOF of stdout
 * then a one-byte status frame. In the kata dialect output respects the credit window.
 *
 * The hyperstart mode behaves as runV's hyperstart v1.1.0 did with this runtime: it refuses
 * (ERROR, no payload) a message with a key or of a code hyperstart does not know
 * (fake_hyperstart.h); it never reports a process's end, nor sends the EOF of its output
 * (the real one did not reap them in this project's guest, and sends both when it reaps).
 * A process whose args
 * start with kata-hyperstart-wait's path and options ("--status=/dev/.kata-status/NAME",
 * then "--", then the steps) has its exit status written to
 * SHARE_DIR/CONTAINER/.kata-status/NAME as it ends, as that program does (128+N for a
 * death by signal N; nothing when SIGKILL killed it). KILLCONTAINER signals the container's
 * init (the process named after the container), and SIGKILL all of the container's
 * processes.
 */
#ifndef KATA_FAKE_AGENT_H
#define KATA_FAKE_AGENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum fake_agent_dialect { FAKE_AGENT_KATA = 0, FAKE_AGENT_HYPERSTART, FAKE_AGENT_CC };

struct fake_agent_config {
	enum fake_agent_dialect dialect;
	bool no_ready;           /* never send READY */
	bool no_reply;           /* never answer a command */
	bool ignore_credits;     /* send output as if the window were endless */
	unsigned reply_delay_ms; /* wait this long before each answer */
	unsigned
	        io_read_pause_ms; /* after each read of the I/O channel, do not read for this long */
	/* hyperstart: the host directory that the guest's share is (kata-proxy's -share-dir) */
	const char *share_dir;
};

struct fake_agent;

/* Listens on DIR/ctl.sock and DIR/io.sock and serves them from a new thread. */
struct fake_agent *fake_agent_start(const char *dir, const struct fake_agent_config *config,
                                    kata_error_t *err);
/* Stops the thread, closes everything, removes the sockets. NULL ok. */
void fake_agent_stop(struct fake_agent *agent);
const char *fake_agent_ctl_path(const struct fake_agent *agent);
const char *fake_agent_io_path(const struct fake_agent *agent);

/* The next command of this code gets ERROR {"message": message}. */
void fake_agent_fail_next(struct fake_agent *agent, uint32_t code, const char *message);
/* ACKs of this code carry these bytes (default: none; GETVERSION: u32 4244). */
void fake_agent_set_ack_payload(struct fake_agent *agent, uint32_t code, const void *payload,
                                size_t len);

/* Waits for a command of this code not yet returned by this function, and returns its
 * JSON (caller puts it; an empty payload gives an empty object), or NULL on timeout. */
json_object *fake_agent_wait_command(struct fake_agent *agent, uint32_t code, int timeout_ms);
size_t fake_agent_count_commands(struct fake_agent *agent, uint32_t code);

/* Waits until process `process` has ended (its exit report sent); returns its status or -1. */
int fake_agent_wait_process_end(struct fake_agent *agent, const char *process, int timeout_ms);
/* Copies what process `process` got on stdin; returns its length (-1: no such process).
 * *eof says whether stdin ended. */
ssize_t fake_agent_stdin(struct fake_agent *agent, const char *process, void *buf, size_t len,
                         bool *eof);
/* Credits the host granted for stream seq so far. */
uint64_t fake_agent_credits(struct fake_agent *agent, uint64_t seq);

/* Hostile behaviour: raw bytes on a channel; the channels closed (the VM dies). */
void fake_agent_send_raw(struct fake_agent *agent, bool io_channel, const void *bytes, size_t len);
void fake_agent_close_channels(struct fake_agent *agent);
/* Both channels were connected by the host. */
bool fake_agent_wait_connected(struct fake_agent *agent, int timeout_ms);

#endif
