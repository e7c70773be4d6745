/* A FIFO of bytes: what is waiting to be written to a channel or a process's stdin. */
#ifndef KATA_AGENT_BYTEQUEUE_H
#define KATA_AGENT_BYTEQUEUE_H

#include <stddef.h>
#include <sys/types.h>

struct bytequeue {
	unsigned char *buf;
	size_t head; /* first unwritten byte */
	size_t len;  /* bytes queued, from head */
	size_t cap;
};

void bytequeue_append(struct bytequeue *q, const void *data, size_t len);
/* Writes as much as fd takes; returns bytes written or -1 with errno (EAGAIN: none). */
ssize_t bytequeue_flush(struct bytequeue *q, int fd);
void bytequeue_clear(struct bytequeue *q);

static inline size_t bytequeue_len(const struct bytequeue *q)
{
	return q->len;
}

#endif
