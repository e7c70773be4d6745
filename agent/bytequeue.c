#include "bytequeue.h"

#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void bytequeue_append(struct bytequeue *q, const void *data, size_t len)
{
	if (len == 0)
		return;
	if (q->head > 0 && q->head + q->len + len > q->cap) {
		memmove(q->buf, q->buf + q->head, q->len);
		q->head = 0;
	}
	if (q->len + len > q->cap) {
		size_t cap = q->cap ? q->cap : 4096;

		while (cap < q->len + len)
			cap *= 2;
		q->buf = xrealloc(q->buf, cap);
		q->cap = cap;
	}
	memcpy(q->buf + q->head + q->len, data, len);
	q->len += len;
}

ssize_t bytequeue_flush(struct bytequeue *q, int fd)
{
	size_t total = 0;

	while (q->len > 0) {
		ssize_t n = write(fd, q->buf + q->head, q->len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (total > 0 && errno == EAGAIN)
				break;
			return -1;
		}
		q->head += (size_t)n;
		q->len -= (size_t)n;
		total += (size_t)n;
	}
	if (q->len == 0) {
		q->head = 0;
		/* Give back the memory of a burst once it is written. */
		if (q->cap > (1u << 20)) {
			free(q->buf);
			q->buf = NULL;
			q->cap = 0;
		}
	}
	return (ssize_t)total;
}

void bytequeue_clear(struct bytequeue *q)
{
	free(q->buf);
	memset(q, 0, sizeof(*q));
}
