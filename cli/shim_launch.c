#include "shim_launch.h"
#include "cleanup.h"
#include "oci_spec.h"
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#define SHIM_ARGV_MAX 16

/* argv for the shim; *log_path holds the log's path (freed by the caller). The shim
 * always gets a log, so that nothing but its process's own output reaches its stderr. */
static void build_argv(const struct kata_config *config, const struct shim_launch *launch,
                       char *argv[SHIM_ARGV_MAX], char **log_path)
{
	int n = 0;

	argv[n++] = config->shim.path;
	argv[n++] = "-c";
	argv[n++] = (char *)launch->container;
	argv[n++] = "-t";
	argv[n++] = (char *)launch->token;
	argv[n++] = "-u";
	argv[n++] = (char *)launch->url;
	*log_path = companion_log_path(&launch->log, launch->sandbox_dir, "shim");
	if (*log_path != NULL) {
		argv[n++] = "--log";
		argv[n++] = *log_path;
		argv[n++] = "--log-format";
		argv[n++] = (char *)companion_log_format(&launch->log);
		if (launch->log.debug || config->shim.enable_debug)
			argv[n++] = "-d";
	}
	argv[n] = NULL;
}

int shim_launch_check_terminal(bool terminal, const char *console_socket, bool foreground,
                               kata_error_t *err)
{
	if (terminal && console_socket == NULL && !foreground)
		return kata_error_set(err, EINVAL,
		                      "process.terminal is true but no --console-socket was given "
		                      "(a detached terminal process needs one; without --detach "
		                      "it runs on the caller's terminal)");
	return 0;
}

static int open_console(const struct shim_launch *launch, struct shim_stdio *stdio,
                        kata_error_t *err)
{
	stdio->console_fd = -1;
	if (shim_launch_check_terminal(launch->terminal, launch->console_socket, launch->foreground,
	                               err) < 0)
		return -1;
	/* Without a console socket (runc's foreground run) the shim keeps the caller's stdio
	 * and, on a terminal, puts it in raw mode and passes its window size (docs/shim.md). */
	if (!launch->terminal || launch->console_socket == NULL)
		return 0;
	return console_open_and_send(launch->console_socket, &stdio->console_fd, err);
}

void shim_launch_caller_console_size(const struct shim_launch *launch, struct oci_process *process)
{
	struct winsize ws;

	if (!launch->terminal || !launch->foreground || launch->console_socket != NULL ||
	    process->has_console_size)
		return;
	if (ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) < 0 || ws.ws_row == 0 || ws.ws_col == 0)
		return;
	process->console_height = ws.ws_row;
	process->console_width = ws.ws_col;
	process->has_console_size = true;
}

int shim_launch_detached(const struct kata_config *config, const struct shim_launch *launch,
                         struct process_id *shim, kata_error_t *err)
{
	struct shim_stdio stdio;
	char *argv[SHIM_ARGV_MAX];
	cleanup_free char *log_path = NULL;
	int ret;

	build_argv(config, launch, argv, &log_path);
	if (open_console(launch, &stdio, err) < 0)
		return -1;
	ret = spawn_shim(argv, &stdio, shim, err);
	if (stdio.console_fd >= 0)
		close(stdio.console_fd);
	if (ret < 0)
		return -1;
	if (launch->pid_file != NULL && write_pid_file(launch->pid_file, shim->pid, err) < 0) {
		process_signal(shim, SIGKILL, NULL); /* nobody would know to wait for it */
		return -1;
	}
	return 0;
}

int shim_launch_in_place(const struct kata_config *config, const struct shim_launch *launch,
                         kata_error_t *err)
{
	struct shim_stdio stdio;
	char *argv[SHIM_ARGV_MAX];
	cleanup_free char *log_path = NULL;

	build_argv(config, launch, argv, &log_path);
	if (open_console(launch, &stdio, err) < 0)
		return -1;
	if (launch->pid_file != NULL && write_pid_file(launch->pid_file, getpid(), err) < 0)
		return -1;
	return exec_shim(argv, &stdio, err);
}
