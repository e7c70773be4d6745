/* Process output to the I/O port without copying it through the agent: splice(2) from the
 * process's pipe, with the frame's header in front, as one write to the port. */
#ifndef KATA_AGENT_RELAY_H
#define KATA_AGENT_RELAY_H

#include "channel.h"

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Sends at most max bytes from the pipe src as I/O frames on seq. Returns the bytes sent
 * (what the port did not take is queued on the channel, in order), 0 at the pipe's end of
 * file, or -1 with errno: EAGAIN the pipe is empty; EBUSY the channel has bytes queued or no
 * host (the caller reads and queues instead); anything else: src cannot be spliced. */
ssize_t agent_relay_send(struct agent_channel *io, int src, uint64_t seq, size_t max);

#endif
