/* The agent wire format, between the host (kata-proxy) and kata-agent in the guest.
 * Hyperstart's framing (runV), which Clear Containers' agent spoke too. Every message
 * is documented in docs/agent-protocol.md.
 *
 * Control channel (sh.hyper.channel.0), big-endian:
 *
 *   0               4               8
 *   +---------------+---------------+------------------ - -
 *   | code (u32)    | length (u32)  | JSON payload
 *   +---------------+---------------+------------------ - -
 *   length counts the whole frame, header included.
 *
 * I/O channel (sh.hyper.channel.1), big-endian:
 *
 *   0                               8               12
 *   +-------------------------------+---------------+------------ - -
 *   | sequence number (u64)         | length (u32)  | bytes
 *   +-------------------------------+---------------+------------ - -
 *   length counts the whole frame, header included; a frame of length 12 (no bytes)
 *   is the end of that stream.
 *
 * A process's stdout and stdin share one sequence number; stderr has its own.
 */
#ifndef KATA_AGENT_PROTO_H
#define KATA_AGENT_PROTO_H

#include <stdint.h>

#include "byte_order.h" /* get_be32, put_be32, ...: the fields are big-endian */

#define AGENT_PROTO_VERSION 4244

/* The longest container or process id, everywhere: the runtime refuses a longer container id
 * before it creates anything (lib/state.h), and the agent refuses a longer one on the wire. */
#define AGENT_ID_MAX 128

/* In NEWCONTAINER's spec, a namespace path AGENT_POD_NS_PREFIX "ID/NAME" (NAME: ipc, uts,
 * pid) names the namespace of container ID of the same VM: a pod's containers share the
 * namespaces of its sandbox container that way (docs/pods.md). */
#define AGENT_POD_NS_PREFIX "/run/kata-containers/containers/"

/* A standby NIC's MAC address ("kata" in its bytes, locally administered): a NIC the VM was
 * given before the network it will carry was known (a VM template's on microvm, the one
 * create makes for `ctr run --cni`, docs/network.md). An interface that no device matches by
 * its MAC takes such a NIC, which gets the interface's MAC (docs/agent-protocol.md). */
#define AGENT_STANDBY_NIC_MAC "02:6b:61:74:61:00"

/* The share's 9p msize, `agent.msize_9p=N` on the kernel command line (the configuration's
 * msize_9p): the guest kernel wants at least 4 KiB and caps virtio transfers near 512 KiB;
 * the default is the most virtio's transport takes (a larger one is cut to it, with a kernel
 * message at each mount). */
#define AGENT_MSIZE_9P_MIN     4096
#define AGENT_MSIZE_9P_MAX     (512 * 1024)
#define AGENT_MSIZE_9P_DEFAULT 512000

#define AGENT_CTL_CHANNEL_NAME "sh.hyper.channel.0"
#define AGENT_IO_CHANNEL_NAME  "sh.hyper.channel.1"

#define AGENT_CTL_CODE_OFFSET   0
#define AGENT_CTL_LENGTH_OFFSET 4
#define AGENT_CTL_HEADER_SIZE   8

#define AGENT_IO_SEQ_OFFSET    0
#define AGENT_IO_LENGTH_OFFSET 8
#define AGENT_IO_HEADER_SIZE   12

/* Largest frames either side accepts; anything longer is hostile or broken. */
#define AGENT_CTL_MAX_FRAME  (1u << 20)
#define AGENT_IO_MAX_PAYLOAD (1u << 16)
#define AGENT_IO_MAX_FRAME   (AGENT_IO_HEADER_SIZE + AGENT_IO_MAX_PAYLOAD)

/* Flow control, this project's addition (docs/agent-protocol.md): the I/O channel is shared by
 * every process of the VM, so one slow reader must not stall the others. The agent sends at
 * most a window of unacknowledged bytes per stream; the host grants more with a frame on
 * sequence number 0 (never a process's), whose 12-byte payload is | seq (u64) | bytes (u32) |.
 * Dialects without it (a foreign hyperstart or Clear Containers agent) are not sent credits. */
#define AGENT_IO_CREDIT_SEQ          0
#define AGENT_IO_CREDIT_PAYLOAD_SIZE 12
#define AGENT_IO_INITIAL_WINDOW      (1024u * 1024)

/* Command codes, hyperstart numbering (the "kata" and "hyperstart" dialects). A slot
 * once used is never reused; slots 2, 3, 5, 7 and 13 were hyperstart's deprecated ones. */
enum agent_code {
	AGENT_GETVERSION = 0,
	AGENT_STARTPOD = 1,
	AGENT_DESTROYPOD = 4,
	AGENT_EXECCMD = 6,
	AGENT_READY = 8,
	AGENT_ACK = 9,
	AGENT_ERROR = 10,
	AGENT_WINSIZE = 11,
	AGENT_PING = 12,
	AGENT_NEXT = 14,
	AGENT_WRITEFILE = 15,
	AGENT_READFILE = 16,
	AGENT_NEWCONTAINER = 17,
	AGENT_KILLCONTAINER = 18,
	AGENT_ONLINECPUMEM = 19,
	AGENT_SETUPINTERFACE = 20,
	AGENT_SETUPROUTE = 21,
	AGENT_REMOVECONTAINER = 22,
	AGENT_PROCESSASYNCEVENT = 23,
	AGENT_SIGNALPROCESS = 24,
	AGENT_DELETEINTERFACE = 25,
	/* This project's additions, where hyperstart had no command. */
	AGENT_STARTCONTAINER = 26,  /* OCI start: let a created container run its program */
	AGENT_PSCONTAINER = 27,     /* process listing for `ps` */
	AGENT_STATSCONTAINER = 28,  /* cgroup statistics for `events --stats` */
	AGENT_UPDATECONTAINER = 29, /* new resource limits for `update` */
};

/* Clear Containers' agent numbered these two the other way round. */
#define AGENT_CC_PSCONTAINER       23
#define AGENT_CC_PROCESSASYNCEVENT 24

#endif
