/* The command line, as cc-shim took it, and the checks of its values. */
#include "shim.h"
#include "cleanup.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

#define URI_UNIX_PREFIX "unix://"

void shim_print_usage(const char *argv0)
{
	printf("Usage: %s -c CONTAINER -t TOKEN -u unix://PROXY_SOCKET [-d] [--log PATH]\n"
	       "       [--log-format text|json]\n"
	       "\n"
	       "Stands in for one process of a container that runs in a VM: copies stdin to it,\n"
	       "its stdout and stderr back, forwards signals and the terminal size, and exits\n"
	       "with its exit status.\n"
	       "\n"
	       "  -c, --container ID   the container the process belongs to\n"
	       "  -t, --token TOKEN    the I/O token the proxy handed out for the process\n"
	       "  -u, --uri URI        the proxy's socket, unix:///path\n"
	       "  -d, --debug          log debug messages\n"
	       "      --log PATH       log to PATH instead of stderr\n"
	       "      --log-format F   text (the default) or json\n"
	       "  -h, --help           this text\n"
	       "  -v, --version        the version\n",
	       argv0);
}

bool shim_token_is_valid(const char *token)
{
	size_t len = strlen(token);
	size_t padding = 0;

	if (len == 0 || len % 4 != 0)
		return false;
	while (padding < 2 && padding < len && token[len - 1 - padding] == '=')
		padding++;
	for (size_t i = 0; i < len - padding; i++) {
		char c = token[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return true;
}

char *shim_socket_path_from_uri(const char *uri, kata_error_t *err)
{
	const char *path = uri;

	if (strncmp(uri, URI_UNIX_PREFIX, strlen(URI_UNIX_PREFIX)) == 0)
		path = uri + strlen(URI_UNIX_PREFIX);
	else if (uri[0] != '/') {
		kata_error_set(err, EINVAL, "uri `%s`: expected unix:///path/to/socket", uri);
		return NULL;
	}
	if (path[0] == '\0') {
		kata_error_set(err, EINVAL, "uri `%s`: no socket path", uri);
		return NULL;
	}
	if (strlen(path) >= 4096) {
		kata_error_set(err, ENAMETOOLONG, "uri: socket path too long");
		return NULL;
	}
	return xstrdup(path);
}

void shim_options_clear(struct shim_options *opts)
{
	free(opts->container);
	free(opts->token);
	free(opts->uri);
	free(opts->socket_path);
	free(opts->log_path);
	memset(opts, 0, sizeof(*opts));
}

static void set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

int shim_parse_args(int argc, char **argv, struct shim_options *opts, kata_error_t *err)
{
	enum { OPT_LOG = 256, OPT_LOG_FORMAT };
	static const struct option long_options[] = {
		{ "container", required_argument, NULL, 'c' },
		{ "token", required_argument, NULL, 't' },
		{ "uri", required_argument, NULL, 'u' },
		{ "debug", no_argument, NULL, 'd' },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'v' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(opts, 0, sizeof(*opts));
	optind = 0; /* full reinitialisation: parsing may run more than once (tests) */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:t:u:dhv", long_options, NULL)) != -1) {
		switch (c) {
		case 'c':
			set_string(&opts->container, optarg);
			break;
		case 't':
			set_string(&opts->token, optarg);
			break;
		case 'u':
			set_string(&opts->uri, optarg);
			break;
		case 'd':
			opts->debug = true;
			break;
		case OPT_LOG:
			set_string(&opts->log_path, optarg);
			break;
		case OPT_LOG_FORMAT:
			if (kata_log_parse_format(optarg, &opts->log_format, err) < 0)
				return -1;
			break;
		case 'h':
			opts->show_help = true;
			return 0;
		case 'v':
			opts->show_version = true;
			return 0;
		case ':':
			return kata_error_set(err, EINVAL, "option `%s` needs a value",
			                      argv[optind - 1]);
		default:
			return kata_error_set(err, EINVAL, "unknown option `%s`", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return kata_error_set(err, EINVAL, "unexpected argument `%s`", argv[optind]);
	if (opts->container == NULL || opts->container[0] == '\0')
		return kata_error_set(err, EINVAL, "missing --container");
	if (opts->token == NULL)
		return kata_error_set(err, EINVAL, "missing --token");
	if (opts->uri == NULL)
		return kata_error_set(err, EINVAL, "missing --uri");
	if (!shim_token_is_valid(opts->token))
		return kata_error_set(err, EINVAL,
		                      "the token is not padded URL-safe base64 "
		                      "(length a multiple of 4)");
	opts->socket_path = shim_socket_path_from_uri(opts->uri, err);
	if (opts->socket_path == NULL)
		return -1;
	return 0;
}
