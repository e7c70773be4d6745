/* The error contract of the whole project (docs/error-handling.md).
 *
 * A fallible function takes `kata_error_t *err` as its last argument. On failure it
 * returns a negative value (or NULL), and fills *err with the errno of the failure
 * (0 when there is none) and a message. A caller either handles the error (and frees
 * it) or adds context with kata_error_wrap() and returns negative itself. Only main()
 * prints an error and exits.
 */
#ifndef KATA_ERROR_H
#define KATA_ERROR_H

#include <stdarg.h>

typedef struct kata_error {
	int errno_value; /* errno of the failure, 0 when it has none */
	char *message; /* human readable, context first: "create: config.json: process.args: ..." */
} kata_error;

typedef kata_error *kata_error_t;

/* Fills *err (which must be NULL) and returns -1. */
int kata_error_set(kata_error_t *err, int errno_value, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
int kata_error_setv(kata_error_t *err, int errno_value, const char *fmt, va_list ap)
        __attribute__((format(printf, 3, 0)));

/* kata_error_set() with the current errno, and its text appended. */
int kata_error_sys(kata_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefixes context to an error already set: "context: old message". Returns -1.
 * When *err is NULL (a callee broke the contract) it sets a generic error instead. */
int kata_error_wrap(kata_error_t *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Moves the error out of *from into *to (which must be NULL). Returns -1. */
int kata_error_move(kata_error_t *to, kata_error_t *from);

void kata_error_free(kata_error_t *err);

/* For __attribute__((cleanup)). */
#define cleanup_error __attribute__((cleanup(kata_error_free)))

#endif
