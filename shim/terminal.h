/* The host terminal the shim may run on: raw mode while the shim runs (the guest's
 * pty does the line discipline), restored on every way out, and its size. */
#ifndef KATA_SHIM_TERMINAL_H
#define KATA_SHIM_TERMINAL_H

#include <stdbool.h>
#include <termios.h>

#include "error.h"

struct shim_terminal {
	int fd;   /* -1: no terminal */
	bool raw; /* saved holds the mode to restore */
	struct termios saved;
};

/* If fd is a terminal, saves its mode and makes it raw: returns 1. Returns 0 when fd is
 * not a terminal (t->fd stays -1), -1 on error. */
int shim_terminal_make_raw(struct shim_terminal *t, int fd, kata_error_t *err);
/* Puts the saved mode back; harmless when there is none. */
void shim_terminal_restore(struct shim_terminal *t);
/* Reads the window size; returns -1 when unknown (0 rows or columns, or not a tty). */
int shim_terminal_get_size(const struct shim_terminal *t, unsigned *rows, unsigned *columns);

#endif
