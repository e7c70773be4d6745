/*
 * probe: standard streams: write, echo, tty.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "probe.h"

/*
 * The pattern of `probe write`: byte i of the output is PATTERN[i % 64], i.e. lines of
 * these 63 characters and a newline. A reader checks a stream with nothing but its length.
 */
#define PATTERN     "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+\n"
#define PATTERN_LEN 64
#define CHUNK       (64 * 1024)

static int write_all(int fd, const char *buf, size_t len)
{
	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* probe write BYTES [stdout|stderr] */
int probe_write(int argc, char **argv)
{
	static char chunk[CHUNK];
	long long total = probe_parse_number(argv[0], LLONG_MAX);
	int fd = STDOUT_FILENO;

	if (total < 0) {
		probe_warn("write: bad byte count '%s'", argv[0]);
		return PROBE_USAGE_ERROR;
	}
	if (argc > 1 && !strcmp(argv[1], "stderr"))
		fd = STDERR_FILENO;
	else if (argc > 1 && strcmp(argv[1], "stdout")) {
		probe_warn("write: stream must be stdout or stderr, not '%s'", argv[1]);
		return PROBE_USAGE_ERROR;
	}
	/* CHUNK is a multiple of PATTERN_LEN, so every chunk starts at pattern offset 0. */
	for (size_t i = 0; i < CHUNK; i++)
		chunk[i] = PATTERN[i % PATTERN_LEN];
	while (total > 0) {
		size_t len = total < CHUNK ? (size_t)total : CHUNK;

		if (write_all(fd, chunk, len) < 0) {
			probe_warn("write: %s", strerror(errno));
			return PROBE_FAILURE;
		}
		total -= (long long)len;
	}
	return 0;
}

/* probe echo: stdin to stdout until EOF, then bytes=N on stderr. */
int probe_echo(int argc, char **argv)
{
	static char buf[CHUNK];
	unsigned long long total = 0;

	for (;;) {
		ssize_t n = read(STDIN_FILENO, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			probe_warn("echo: read: %s", strerror(errno));
			return PROBE_FAILURE;
		}
		if (n == 0)
			break;
		if (write_all(STDOUT_FILENO, buf, (size_t)n) < 0) {
			probe_warn("echo: write: %s", strerror(errno));
			return PROBE_FAILURE;
		}
		total += (unsigned long long)n;
	}
	fprintf(stderr, "bytes=%llu\n", total);
	return 0;
}

/* probe tty: stdin_tty= stdout_tty= stderr_tty= (0/1), rows= cols= ttyname= */
int probe_tty(int argc, char **argv)
{
	static const char *const keys[] = { "stdin_tty", "stdout_tty", "stderr_tty" };
	int tty_fd = -1;
	struct winsize ws;
	char name[256];

	for (int fd = 0; fd < 3; fd++) {
		int is_tty = isatty(fd);

		probe_kv(keys[fd], "%d", is_tty);
		if (is_tty && tty_fd < 0)
			tty_fd = fd;
	}
	if (tty_fd < 0)
		return 0;
	if (ioctl(tty_fd, TIOCGWINSZ, &ws) == 0) {
		probe_kv("rows", "%u", ws.ws_row);
		probe_kv("cols", "%u", ws.ws_col);
	}
	if (ttyname_r(tty_fd, name, sizeof(name)) == 0)
		probe_kv("ttyname", "%s", name);
	return 0;
}
