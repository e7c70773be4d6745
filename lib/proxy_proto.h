/* The proxy wire format, between kata-runtime / kata-shim and kata-proxy: Clear
 * Containers 3.0's proxy protocol, version 2 (cc-shim connects to kata-proxy unchanged).
 * Every message is documented in docs/proxy-protocol.md.
 *
 *   0       1       2       3       4       5       6       7       8               12
 *   +-------+-------+-------+-------+-------+-------+-------+-------+---------------+--- -
 *   | version (u16) |hdr len| rsvd  | reserved (u16)|flg|typ|opcode | payload length| payload
 *   +-------+-------+-------+-------+-------+-------+-------+-------+---------------+--- -
 *   big-endian; hdr len in 32-bit words (3); byte 6: flags in the high nibble
 *   (0x10 = error), type in the low nibble.
 */
#ifndef KATA_PROXY_PROTO_H
#define KATA_PROXY_PROTO_H

#include <stdint.h>

#define PROXY_PROTO_VERSION 2
#define PROXY_HEADER_WORDS  3

#define PROXY_VERSION_OFFSET        0
#define PROXY_HEADER_LENGTH_OFFSET  2
#define PROXY_RESERVED1_OFFSET      3
#define PROXY_RESERVED2_OFFSET      4
#define PROXY_FLAGS_TYPE_OFFSET     6
#define PROXY_OPCODE_OFFSET         7
#define PROXY_PAYLOAD_LENGTH_OFFSET 8
#define PROXY_HEADER_SIZE           12

#define PROXY_FLAG_ERROR 0x10
#define PROXY_TYPE_MASK  0x0f
#define PROXY_FLAGS_MASK 0xf0

/* Largest payload accepted from any peer. */
#define PROXY_MAX_PAYLOAD (1u << 20)

enum proxy_frame_type {
	PROXY_TYPE_COMMAND = 0,
	PROXY_TYPE_RESPONSE = 1,
	PROXY_TYPE_STREAM = 2,
	PROXY_TYPE_NOTIFICATION = 3,
};

enum proxy_command {
	PROXY_CMD_REGISTER_VM = 0,
	PROXY_CMD_UNREGISTER_VM = 1,
	PROXY_CMD_ATTACH_VM = 2,
	PROXY_CMD_HYPER = 3,
	PROXY_CMD_CONNECT_SHIM = 4,
	PROXY_CMD_DISCONNECT_SHIM = 5,
	PROXY_CMD_SIGNAL = 6,
};

enum proxy_stream {
	PROXY_STREAM_STDIN = 0,
	PROXY_STREAM_STDOUT = 1,
	PROXY_STREAM_STDERR = 2,
	PROXY_STREAM_LOG = 3,
};

enum proxy_notification {
	PROXY_NOTIFY_PROCESS_EXITED = 0,
	/* the project's: no payload, just before ProcessExited of a process the agent reported
	 * OOM-killed (cc-shim ignores it) */
	PROXY_NOTIFY_PROCESS_OOM_KILLED = 1,
};

/* Tokens: 32 random bytes as padded URL-safe base64, as Clear Containers made them. */
#define PROXY_TOKEN_BYTES  32
#define PROXY_TOKEN_LENGTH 44

#endif
