/* Starting the shims the engine waits on (daemons such as kata-proxy start through
 * process_start_daemon, backends/process.h). */
#ifndef KATA_CLI_SPAWN_H
#define KATA_CLI_SPAWN_H

#include <stdbool.h>

#include "error.h"
#include "process.h"

/* Where a shim's stdio goes. */
struct shim_stdio {
	int console_fd; /* >= 0: the pty slave, which becomes the controlling terminal */
};

/* Forks a shim that the runtime does not wait for: the engine (a subreaper) inherits it.
 * The child keeps the runtime's stdio unless a console is given. */
int spawn_shim(char *const argv[], const struct shim_stdio *stdio, struct process_id *shim,
               kata_error_t *err);

/* Replaces the runtime with the shim (exec without --detach): the engine sees the
 * runtime's pid exit with the process's status. Returns only on failure. */
int exec_shim(char *const argv[], const struct shim_stdio *stdio, kata_error_t *err);

/* Opens a pty pair; sends the master over the unix socket at console_socket as runc does
 * (SCM_RIGHTS, with the pty's name as the message) and returns the slave. */
int console_open_and_send(const char *console_socket, int *slave_fd, kata_error_t *err);

/* Writes pid to path atomically (temp file + rename), as runc's --pid-file. */
int write_pid_file(const char *path, pid_t pid, kata_error_t *err);

#endif
