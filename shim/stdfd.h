/* The shim's own stdin, stdout and stderr, made safe for an event loop.
 *
 * The loop makes what it watches non-blocking, and O_NONBLOCK belongs to the open file
 * description, which the shim shares with whoever gave it the fd (a shell's terminal,
 * conmon's pipes). So pipes, FIFOs and character devices are reopened through
 * /proc/self/fd into a description of the shim's own; other kinds of files are used as
 * they are, and their flags are put back when the shim is done.
 */
#ifndef KATA_SHIM_STDFD_H
#define KATA_SHIM_STDFD_H

#include <stdbool.h>

struct shim_stdio {
	int fd;         /* the descriptor to use; -1: the original was not open */
	bool owned;     /* fd was reopened: ours to close */
	int restore_fd; /* the original, whose flags are put back; -1: nothing to restore */
	int saved_flags;
};

/* Opens /dev/null on whichever of fds 0, 1, 2 is closed, before anything else takes
 * their numbers (a socket on fd 2 would receive log lines). A closed stdin then reads
 * as empty, a closed stdout or stderr discards. */
void shim_stdio_ensure_open(void);

/* access: O_RDONLY or O_WRONLY. Never fails: falls back to the original descriptor. */
void shim_stdio_open(struct shim_stdio *io, int fd, int access);
/* Closes what is ours and puts back the flags of what is not. */
void shim_stdio_close(struct shim_stdio *io);

#endif
