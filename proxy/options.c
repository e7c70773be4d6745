/* kata-proxy's command line: Go-style flags as kata-proxy and cc-proxy had them
 * (`-flag value`, `-flag=value`, and the same with two dashes). */
#include "proxy.h"
#include "cleanup.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

const char *proxy_options_usage(void)
{
	return "Usage: kata-proxy -listen-socket PATH [-ctl-socket PATH -io-socket PATH]\n"
	       "                  [-console PATH] [-dialect kata|hyperstart|cc] [-log PATH]\n"
	       "                  [-log-format text|json] [-debug] [-agent-timeout SECONDS]\n"
	       "                  [-connect-timeout SECONDS] [-vm-pid PID[:START] -watch-pid "
	       "PID[:START]]\n"
	       "\n"
	       "  -listen-socket PATH    unix socket served to kata-runtime and kata-shim (mode "
	       "0600)\n"
	       "  -ctl-socket PATH       the agent's control channel (sh.hyper.channel.0)\n"
	       "  -io-socket PATH        the agent's I/O channel (sh.hyper.channel.1); without\n"
	       "                         both, RegisterVM's ctlSerial and ioSerial are used\n"
	       "  -console PATH          the VM console socket, logged at debug level\n"
	       "  -dialect NAME          agent dialect: kata (default), hyperstart, cc\n"
	       "  -log PATH              log file (default: stderr)\n"
	       "  -log-format FORMAT     text (default) or json\n"
	       "  -debug                 log at debug level\n"
	       "  -agent-timeout SECONDS deadline of each agent command (default 30)\n"
	       "  -connect-timeout SECONDS  how long to retry connecting to the channels (default "
	       "10)\n"
	       "  -vm-pid PID[:START]    the VM's process (START: its start time, clock ticks)\n"
	       "  -watch-pid PID[:START] a daemon the VM cannot run without (virtiofsd): when\n"
	       "                         it exits, the VM process is killed\n"
	       "  -version               print the version and exit\n";
}

int proxy_dialect_parse(const char *name, enum proxy_dialect *dialect, kata_error_t *err)
{
	if (strcmp(name, "kata") == 0)
		*dialect = PROXY_DIALECT_KATA;
	else if (strcmp(name, "hyperstart") == 0)
		*dialect = PROXY_DIALECT_HYPERSTART;
	else if (strcmp(name, "cc") == 0)
		*dialect = PROXY_DIALECT_CC;
	else
		return kata_error_set(err, EINVAL, "unknown dialect `%s` (kata, hyperstart, cc)",
		                      name);
	return 0;
}

const char *proxy_dialect_name(enum proxy_dialect dialect)
{
	switch (dialect) {
	case PROXY_DIALECT_KATA:
		return "kata";
	case PROXY_DIALECT_HYPERSTART:
		return "hyperstart";
	case PROXY_DIALECT_CC:
		return "cc";
	}
	return "unknown";
}

static int parse_seconds(const char *flag, const char *value, unsigned *ms, kata_error_t *err)
{
	char *end = NULL;
	unsigned long v;

	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || end == value || *end != '\0' || v == 0 || v > 86400)
		return kata_error_set(err, EINVAL, "%s: `%s` is not a number of seconds (1-86400)",
		                      flag, value);
	*ms = (unsigned)v * 1000;
	return 0;
}

int proxy_pid_parse(const char *flag, const char *value, struct proxy_pid *out, kata_error_t *err)
{
	char *end = NULL;
	unsigned long pid;
	unsigned long long start = 0;

	errno = 0;
	pid = strtoul(value, &end, 10);
	if (errno == 0 && end != value && *end == ':') {
		const char *s = end + 1;
		start = strtoull(s, &end, 10);
		if (end == s)
			errno = EINVAL;
	}
	if (errno != 0 || end == value || *end != '\0' || pid == 0 || pid > 4194304)
		return kata_error_set(err, EINVAL, "%s: `%s` is not PID or PID:START", flag, value);
	out->pid = (int)pid;
	out->start_time = start;
	return 0;
}

static void set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

int proxy_options_parse(int argc, char **argv, struct proxy_options *opts, kata_error_t *err)
{
	memset(opts, 0, sizeof(*opts));
	opts->agent_timeout_ms = 30000;
	opts->connect_timeout_ms = 10000;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i];
		cleanup_free char *name = NULL;
		const char *value = NULL;
		const char *eq;

		if (arg[0] != '-' || arg[1] == '\0')
			return kata_error_set(err, EINVAL, "unexpected argument `%s`", arg);
		arg += arg[1] == '-' ? 2 : 1;
		eq = strchr(arg, '=');
		name = eq ? xstrndup(arg, eq - arg) : xstrdup(arg);
		if (eq)
			value = eq + 1;

		if (strcmp(name, "debug") == 0 || strcmp(name, "help") == 0 ||
		    strcmp(name, "h") == 0 || strcmp(name, "version") == 0) {
			bool on = value == NULL || strcmp(value, "true") == 0;
			if (value != NULL && !on && strcmp(value, "false") != 0)
				return kata_error_set(err, EINVAL, "-%s: `%s` is not a boolean",
				                      name, value);
			if (strcmp(name, "debug") == 0)
				opts->debug = on;
			else if (strcmp(name, "version") == 0)
				opts->version = on;
			else
				opts->help = on;
			continue;
		}
		if (value == NULL) {
			if (i + 1 >= argc)
				return kata_error_set(err, EINVAL, "-%s needs a value", name);
			value = argv[++i];
		}
		if (strcmp(name, "listen-socket") == 0)
			set_string(&opts->listen_socket, value);
		else if (strcmp(name, "ctl-socket") == 0)
			set_string(&opts->ctl_socket, value);
		else if (strcmp(name, "io-socket") == 0)
			set_string(&opts->io_socket, value);
		else if (strcmp(name, "console") == 0)
			set_string(&opts->console, value);
		else if (strcmp(name, "log") == 0)
			set_string(&opts->log_path, value);
		else if (strcmp(name, "log-format") == 0)
			set_string(&opts->log_format, value);
		else if (strcmp(name, "dialect") == 0) {
			if (proxy_dialect_parse(value, &opts->dialect, err) < 0)
				return -1;
		} else if (strcmp(name, "agent-timeout") == 0) {
			if (parse_seconds("-agent-timeout", value, &opts->agent_timeout_ms, err) <
			    0)
				return -1;
		} else if (strcmp(name, "vm-pid") == 0) {
			if (proxy_pid_parse("-vm-pid", value, &opts->vm_pid, err) < 0)
				return -1;
		} else if (strcmp(name, "watch-pid") == 0) {
			if (proxy_pid_parse("-watch-pid", value, &opts->watch_pid, err) < 0)
				return -1;
		} else if (strcmp(name, "connect-timeout") == 0) {
			if (parse_seconds("-connect-timeout", value, &opts->connect_timeout_ms,
			                  err) < 0)
				return -1;
		} else {
			return kata_error_set(err, EINVAL, "unknown flag -%s", name);
		}
	}
	if (opts->help || opts->version)
		return 0;
	if (opts->listen_socket == NULL)
		return kata_error_set(err, EINVAL, "-listen-socket is required");
	if ((opts->ctl_socket == NULL) != (opts->io_socket == NULL))
		return kata_error_set(err, EINVAL, "-ctl-socket and -io-socket go together");
	if ((opts->vm_pid.pid == 0) != (opts->watch_pid.pid == 0))
		return kata_error_set(err, EINVAL, "-vm-pid and -watch-pid go together");
	return 0;
}

void proxy_options_clear(struct proxy_options *opts)
{
	free(opts->listen_socket);
	free(opts->ctl_socket);
	free(opts->io_socket);
	free(opts->console);
	free(opts->log_path);
	free(opts->log_format);
	memset(opts, 0, sizeof(*opts));
}
