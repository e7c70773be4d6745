/* Starting the runtime's helper processes: daemons that outlive it (kata-proxy) and the
 * shims the engine waits on. */
#ifndef KATA_CLI_SPAWN_H
#define KATA_CLI_SPAWN_H

#include <stdbool.h>

#include "error.h"
#include "process.h"

/* Starts argv[0] as a daemon: its own session, reparented away from the runtime, stdin
 * and stdout on /dev/null, stderr appended to log_path (or /dev/null). */
int spawn_daemon(char *const argv[], const char *log_path, struct process_id *daemon,
                 kata_error_t *err);

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
