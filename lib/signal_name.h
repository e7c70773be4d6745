/* Signal names as users and engines write them: "KILL", "SIGKILL", "sigterm", "9". */
#ifndef KATA_SIGNAL_NAME_H
#define KATA_SIGNAL_NAME_H

#include "error.h"

/* The highest signal number a Linux guest knows (SIGRTMAX). */
#define SIGNAL_MAX 64

/* Parses a name (with or without "SIG", any case) or a number 1..SIGNAL_MAX. */
int signal_parse(const char *text, int *signo, kata_error_t *err);
/* "KILL" for 9; NULL for a number without a name. */
const char *signal_name(int signo);

#endif
