/*
 * probe: dispatch of the subcommands and the output helpers they share.
 *
 * usage: probe COMMAND [ARGS...] [COMMAND [ARGS...]]...
 * Reporting commands can be chained (`probe ids caps cwd`); a command that does not
 * return (exit, kill-self, signals, echo ...) ends the chain.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

static const struct probe_command commands[] = {
	{ "ids", "uid, gid, euid, egid, supplementary groups", 0, 0, probe_ids },
	{ "caps", "capability sets (hex), no_new_privs, seccomp mode", 0, 0, probe_caps },
	{ "rlimits", "every resource limit as soft:hard", 0, 0, probe_rlimits },
	{ "env", "the environment, one variable a line", 0, 0, probe_env },
	{ "cwd", "the working directory", 0, 0, probe_cwd },
	{ "hostname", "host and domain name", 0, 0, probe_hostname },
	{ "pid", "pid and parent pid", 0, 0, probe_pid },
	{ "mounts", "mount=TARGET FSTYPE SOURCE MOUNT-OPTS SUPER-OPTS, one a mount", 0, 0,
	  probe_mounts },
	{ "cgroup", "memory/pids/cpu/cpuset limits of its own cgroup (v1 or v2)", 0, 0,
	  probe_cgroup },
	{ "signals", "[--until SIG] [--count N]: print signal=N for each signal received", 0, 4,
	  probe_signals },
	{ "exit", "N: exit with code N", 1, 1, probe_exit },
	{ "kill-self", "N: die by signal N", 1, 1, probe_kill_self },
	{ "sleep", "SECONDS: sleep (fractions allowed)", 1, 1, probe_sleep },
	{ "write", "BYTES [stdout|stderr]: write a fixed pattern of that many bytes", 1, 2,
	  probe_write },
	{ "echo", "copy stdin to stdout until EOF, then bytes=N on stderr", 0, 0, probe_echo },
	{ "tty", "isatty of fds 0-2, window size, terminal name", 0, 0, probe_tty },
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

void probe_kv(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("%s=", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

void probe_warn(const char *fmt, ...)
{
	va_list ap;

	fputs("probe: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

int probe_read_file(const char *path, char *buf, unsigned long size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0 || size == 0)
		goto fail;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto fail;
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	buf[len] = '\0';
	if (len && buf[len - 1] == '\n')
		buf[len - 1] = '\0';
	return 0;
fail:
	if (fd >= 0)
		close(fd);
	return -1;
}

long long probe_parse_number(const char *s, long long max)
{
	char *end;
	long long v;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	return v;
}

static void usage(FILE *out)
{
	fputs("usage: probe COMMAND [ARGS...] [COMMAND [ARGS...]]...\n", out);
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].usage);
}

static const struct probe_command *find_command(const char *name)
{
	for (size_t i = 0; i < N_COMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/* How many of the words after a command are its arguments: up to max_args, stopping at the
 * next command name. */
static int count_args(const struct probe_command *cmd, int argc, char **argv)
{
	int n = 0;

	while (n < cmd->max_args && n < argc && !find_command(argv[n]))
		n++;
	return n;
}

int main(int argc, char **argv)
{
	int i = 1, status = 0;

	if (argc < 2) {
		usage(stderr);
		return PROBE_USAGE_ERROR;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	while (i < argc) {
		const struct probe_command *cmd = find_command(argv[i]);
		int nargs;

		if (!cmd) {
			probe_warn("unknown command '%s'", argv[i]);
			usage(stderr);
			return PROBE_USAGE_ERROR;
		}
		nargs = count_args(cmd, argc - i - 1, argv + i + 1);
		if (nargs < cmd->min_args) {
			probe_warn("%s: missing argument (%s)", cmd->name, cmd->usage);
			return PROBE_USAGE_ERROR;
		}
		status = cmd->run(nargs, argv + i + 1);
		if (status != 0)
			return status;
		i += 1 + nargs;
	}
	return status;
}
