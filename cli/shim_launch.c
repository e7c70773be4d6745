#include "shim_launch.h"
#include "cleanup.h"
#include "oci_spec.h"
#include "spawn.h"

#include <errno.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

static void build_argv(const struct kata_config *config, const struct shim_launch *launch,
                       char *argv[10])
{
	int n = 0;

	argv[n++] = config->shim.path;
	argv[n++] = "-c";
	argv[n++] = (char *)launch->container;
	argv[n++] = "-t";
	argv[n++] = (char *)launch->token;
	argv[n++] = "-u";
	argv[n++] = (char *)launch->url;
	if (launch->debug || config->shim.enable_debug)
		argv[n++] = "-d";
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
	char *argv[10];
	int ret;

	build_argv(config, launch, argv);
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
	char *argv[10];

	build_argv(config, launch, argv);
	if (open_console(launch, &stdio, err) < 0)
		return -1;
	if (launch->pid_file != NULL && write_pid_file(launch->pid_file, getpid(), err) < 0)
		return -1;
	return exec_shim(argv, &stdio, err);
}
