/* The JSON payloads the shim sends and the one it reads (an error message), built
 * and parsed with json-c. */
#ifndef KATA_SHIM_MESSAGES_H
#define KATA_SHIM_MESSAGES_H

#include <stddef.h>
#include <stdint.h>

/* Each returns a malloc'ed NUL-terminated string. */
/* ConnectShim: {"token":"..."} */
char *shim_message_connect(const char *token);
/* Signal: {"signalNumber":N} */
char *shim_message_signal(int signo);
/* Window change: {"signalNumber":28,"rows":R,"columns":C} */
char *shim_message_winsize(unsigned rows, unsigned columns);

/* The message of an error response, printable whatever the peer sent: the "msg" (or
 * "error", "message") string of a JSON object, a JSON string, or else the payload itself
 * with unprintable bytes replaced, at most SHIM_MESSAGE_MAX bytes. */
#define SHIM_MESSAGE_MAX 1024
char *shim_message_error_text(const uint8_t *payload, size_t len);

#endif
