/* Process output to the I/O port in bulk: a pipe's worth read at once into frame slots,
 * each frame written to the port as it is (agent/relay.c says why not splice(2)). */
#ifndef KATA_AGENT_RELAY_H
#define KATA_AGENT_RELAY_H

#include "channel.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sends at most max bytes from the pipe src as I/O frames on seq. Returns the bytes taken
 * (what the port did not take is queued on the channel, in order), 0 at the pipe's end of
 * file, or -1 with errno: EAGAIN the pipe is empty; EBUSY the channel has bytes queued or no
 * host (the caller reads and queues instead); anything else: src cannot be read. */
ssize_t agent_relay_send(struct agent_channel *io, int src, uint64_t seq, size_t max);

#endif
