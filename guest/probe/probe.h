/*
 * probe: a small static program run inside test containers; it reports what a process
 * sees, one key=value a line on stdout. See docs/guest.md for every subcommand.
 */
#ifndef KATA_GUEST_PROBE_H
#define KATA_GUEST_PROBE_H

#include <stdarg.h>

/* Exit code for a wrong command line (as sh and coreutils use 2). */
#define PROBE_USAGE_ERROR 2
/* Exit code when a report could not be made at all. */
#define PROBE_FAILURE 1

struct probe_command {
	const char *name;
	const char *usage;
	int min_args, max_args;
	/* Returns the exit code; argv[0] is the first argument after the command's name. */
	int (*run)(int argc, char **argv);
};

/* Print "key=value\n" on stdout and flush, so that readers see each line at once. */
void probe_kv(const char *key, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Print "probe: message\n" on stderr. */
void probe_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Read a whole small file into buf (NUL-terminated, trailing newline removed); -1 on error. */
int probe_read_file(const char *path, char *buf, unsigned long size);
/* Parse a non-negative decimal number; -1 if it is not one or exceeds max. */
long long probe_parse_number(const char *s, long long max);

int probe_ids(int argc, char **argv);
int probe_caps(int argc, char **argv);
int probe_rlimits(int argc, char **argv);
int probe_env(int argc, char **argv);
int probe_cwd(int argc, char **argv);
int probe_hostname(int argc, char **argv);
int probe_pid(int argc, char **argv);
int probe_mounts(int argc, char **argv);
int probe_cgroup(int argc, char **argv);
int probe_signals(int argc, char **argv);
int probe_exit(int argc, char **argv);
int probe_kill_self(int argc, char **argv);
int probe_sleep(int argc, char **argv);
int probe_write(int argc, char **argv);
int probe_echo(int argc, char **argv);
int probe_tty(int argc, char **argv);

#endif
