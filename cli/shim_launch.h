/* Starting the kata-shim of one container process (the container's init or an exec). */
#ifndef KATA_CLI_SHIM_LAUNCH_H
#define KATA_CLI_SHIM_LAUNCH_H

#include <stdbool.h>

#include "companion_log.h"
#include "config.h"
#include "error.h"
#include "process.h"

struct shim_launch {
	const char *container;
	const char *token;          /* the proxy's token naming the process's I/O */
	const char *url;            /* "unix:///.../proxy.sock" */
	bool terminal;              /* the process has a pty: the shim gets one too */
	const char *console_socket; /* where the pty master goes (runc's --console-socket) */
	bool foreground;            /* the caller waits with its own stdio (run, exec without
	                             * --detach): without a console socket, a terminal process
	                             * gets the caller's terminal, as with runc */
	const char *pid_file;       /* written with the shim's pid */
	const char *netns;          /* the container's network namespace, where create starts
	                             * the shim (NULL: the runtime's) */
	struct companion_log log;   /* the runtime's --log, --log-format, --debug */
	const char *sandbox_dir;    /* where the shim's own log goes without the runtime's */
};

struct oci_process;

/* A terminal process needs a console socket unless it runs in the foreground (runc's rule:
 * create and run --detach need one). Checked before anything is created. */
int shim_launch_check_terminal(bool terminal, const char *console_socket, bool foreground,
                               kata_error_t *err);

/* A foreground terminal process without a console socket runs on the caller's terminal:
 * unless the spec gives consoleSize, the guest's pty starts with the size of the caller's
 * terminal (stdin), so that the process sees it before the shim's first window change. */
void shim_launch_caller_console_size(const struct shim_launch *launch, struct oci_process *process);

/* Forks the shim, which the engine then waits on; fills *shim. */
int shim_launch_detached(const struct kata_config *config, const struct shim_launch *launch,
                         struct process_id *shim, kata_error_t *err);

/* Becomes the shim (exec without --detach); returns only on failure. */
int shim_launch_in_place(const struct kata_config *config, const struct shim_launch *launch,
                         kata_error_t *err);

#endif
