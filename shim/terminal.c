#include "terminal.h"

#include <errno.h>
#include <sys/ioctl.h>
#include <unistd.h>

int shim_terminal_make_raw(struct shim_terminal *t, int fd, kata_error_t *err)
{
	struct termios raw;

	t->fd = -1;
	t->raw = false;
	if (tcgetattr(fd, &t->saved) < 0) {
		if (errno == ENOTTY || errno == EBADF || errno == EINVAL)
			return 0;
		return kata_error_sys(err, "tcgetattr");
	}
	t->fd = fd;
	raw = t->saved;
	cfmakeraw(&raw);
	/* Output processing stays off too: the guest's pty already turned \n into \r\n. */
	if (tcsetattr(fd, TCSANOW, &raw) < 0)
		return kata_error_sys(err, "tcsetattr: raw mode");
	t->raw = true;
	return 1;
}

void shim_terminal_restore(struct shim_terminal *t)
{
	if (t->fd < 0 || !t->raw)
		return;
	/* TCSANOW: the output was flushed already, and TCSADRAIN could block for ever. */
	while (tcsetattr(t->fd, TCSANOW, &t->saved) < 0 && errno == EINTR)
		;
	t->raw = false;
}

int shim_terminal_get_size(const struct shim_terminal *t, unsigned *rows, unsigned *columns)
{
	struct winsize ws;

	if (t->fd < 0 || ioctl(t->fd, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
		return -1;
	*rows = ws.ws_row;
	*columns = ws.ws_col;
	return 0;
}
