#include "error.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kata_error_setv(kata_error_t *err, int errno_value, const char *fmt, va_list ap)
{
	char *message = NULL;

	if (err == NULL)
		return -1;
	if (vasprintf(&message, fmt, ap) < 0)
		abort();
	kata_error_free(err); /* a contract breach must not leak */
	*err = xzalloc(sizeof(**err));
	(*err)->errno_value = errno_value;
	(*err)->message = message;
	return -1;
}

int kata_error_set(kata_error_t *err, int errno_value, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	kata_error_setv(err, errno_value, fmt, ap);
	va_end(ap);
	return -1;
}

int kata_error_sys(kata_error_t *err, const char *fmt, ...)
{
	int saved_errno = errno;
	cleanup_free char *prefix = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&prefix, fmt, ap) < 0)
		abort();
	va_end(ap);
	return kata_error_set(err, saved_errno, "%s: %s", prefix, strerror(saved_errno));
}

int kata_error_wrap(kata_error_t *err, const char *fmt, ...)
{
	cleanup_free char *context = NULL;
	char *message;
	va_list ap;

	if (err == NULL)
		return -1;
	va_start(ap, fmt);
	if (vasprintf(&context, fmt, ap) < 0)
		abort();
	va_end(ap);
	if (*err == NULL)
		return kata_error_set(err, 0, "%s: unknown error", context);
	message = xasprintf("%s: %s", context, (*err)->message);
	free((*err)->message);
	(*err)->message = message;
	return -1;
}

int kata_error_move(kata_error_t *to, kata_error_t *from)
{
	if (to == NULL) {
		kata_error_free(from);
		return -1;
	}
	kata_error_free(to);
	*to = *from;
	*from = NULL;
	return -1;
}

void kata_error_free(kata_error_t *err)
{
	if (err == NULL || *err == NULL)
		return;
	free((*err)->message);
	free(*err);
	*err = NULL;
}
