/* kata-shim: one per container process. It stands in for the process on the host:
 * copies its own stdin to the process and the process's stdout/stderr to its own fds,
 * forwards signals and terminal size, and exits with the process's exit status. Its
 * only peer is kata-proxy (Clear Containers' proxy protocol v2, lib/proxy_proto.h).
 * docs/shim.md describes the command line and the exit codes.
 */
#ifndef KATA_SHIM_H
#define KATA_SHIM_H

#include <stdbool.h>

#include "error.h"
#include "log.h"

/* Exit statuses of the shim itself (otherwise it exits with the process's status). */
#define SHIM_EXIT_FAILURE    1   /* bad command line, or the proxy refused ConnectShim */
#define SHIM_EXIT_PROXY_LOST 255 /* the proxy could not be reached, or was lost for good */

/* Reconnection: one attempt at once, then every SHIM_RECONNECT_INTERVAL_MS until
 * SHIM_RECONNECT_TIMEOUT_MS have passed since the connection was lost. */
#define SHIM_RECONNECT_INTERVAL_MS 100
#define SHIM_RECONNECT_TIMEOUT_MS  3000

struct shim_options {
	char *container;
	char *token;
	char *uri;
	char *socket_path; /* the path of the proxy's unix socket, from uri */
	char *log_path;    /* NULL: stderr */
	enum kata_log_format log_format;
	bool debug;
	bool show_help;
	bool show_version;
};

/* Parses the command line (cc-shim's: -c/--container, -t/--token, -u/--uri, -d/--debug,
 * plus --log, --log-format, -h/--help, -v/--version). */
int shim_parse_args(int argc, char **argv, struct shim_options *opts, kata_error_t *err);
void shim_options_clear(struct shim_options *opts);
void shim_print_usage(const char *argv0);

/* A token as Clear Containers made them: padded URL-safe base64. */
bool shim_token_is_valid(const char *token);
/* "unix:///path" (or an absolute path) -> "/path". */
char *shim_socket_path_from_uri(const char *uri, kata_error_t *err);

/* Runs the shim until the process exits. Returns the exit status the shim must exit
 * with; on a failure of the shim itself, returns it too and fills *err with the
 * reason, which main() prints. */
int shim_run(const struct shim_options *opts, kata_error_t *err);

#endif
