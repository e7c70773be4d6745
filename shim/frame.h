/* Proxy protocol frames as the shim reads them: an incremental, bounded reader that never
 * trusts the peer (lib/proxy_proto.h draws the frame; headers are written with
 * lib/proxy_frame.h). Unlike lib/proxy_frame's buffer, which gives up on a frame it cannot
 * hold, it drops such frames and stays in step by skipping their bytes, as cc-shim
 * dropped frames it did not understand: a shim has no other peer to talk to.
 */
#ifndef KATA_SHIM_FRAME_H
#define KATA_SHIM_FRAME_H

#include <stddef.h>
#include <stdint.h>

#include "proxy_proto.h"

/* Header bytes beyond the 12 we know, that a peer may announce (hdr len is a u8 of
 * 32-bit words): skipped. */
#define SHIM_FRAME_MAX_HEADER (255u * 4)

struct shim_frame {
	uint16_t version;
	uint8_t flags; /* high nibble of byte 6 */
	uint8_t type;  /* low nibble of byte 6 */
	uint8_t opcode;
	uint32_t length;
	const uint8_t *payload; /* inside the reader's buffer: valid until the next call */
};

enum shim_frame_status {
	SHIM_FRAME_NEED_MORE = 0, /* read more bytes into the reader */
	SHIM_FRAME_READY,         /* *frame holds a whole frame */
	SHIM_FRAME_DROPPED,       /* a frame was dropped (*why says why); call again */
};

struct shim_frame_reader {
	uint8_t *buf;
	size_t cap;
	size_t start;  /* first unconsumed byte */
	size_t end;    /* one past the last byte read */
	uint64_t skip; /* bytes of a dropped frame still to discard */
	uint32_t max_payload;
};

void shim_frame_reader_init(struct shim_frame_reader *reader, uint32_t max_payload);
/* Forgets everything buffered (a new connection starts at a frame boundary). */
void shim_frame_reader_reset(struct shim_frame_reader *reader);
void shim_frame_reader_free(struct shim_frame_reader *reader);

/* Where to read the next bytes to, and how many fit (never 0 after a call to next()
 * returned NEED_MORE). */
uint8_t *shim_frame_reader_space(struct shim_frame_reader *reader, size_t *avail);
void shim_frame_reader_commit(struct shim_frame_reader *reader, size_t n);
/* Bytes buffered and not yet returned as frames. */
size_t shim_frame_reader_pending(const struct shim_frame_reader *reader);

/* Takes the next frame out of the buffer. Frames of another version, with a header
 * shorter than 3 words, or with a payload over max_payload are dropped whole (their
 * bytes are skipped as they arrive, nothing is stored). */
enum shim_frame_status shim_frame_reader_next(struct shim_frame_reader *reader,
                                              struct shim_frame *frame, const char **why);

#endif
