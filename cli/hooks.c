#include "hooks.h"
#include "cleanup.h"
#include "log.h"
#include "fd_util.h"
#include "process_launch.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Writes all of buf to a pipe whose reader may exit early (EPIPE is not an error then). */
static void write_state(int fd, const char *buf)
{
	size_t len = strlen(buf);

	while (len > 0) {
		ssize_t n = write(fd, buf, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return;
		}
		buf += n;
		len -= (size_t)n;
	}
}

static int run_hook(const struct oci_hook *hook, const char *state_text, kata_error_t *err)
{
	int timeout = hook->has_timeout ? hook->timeout : HOOK_DEFAULT_TIMEOUT_SECONDS;
	char *default_argv[] = { hook->path, NULL };
	char *empty_env[] = { NULL };
	int fds[2];
	int status;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC) < 0)
		return kata_error_sys(err, "pipe");
	pid = launch_program(hook->args != NULL && hook->args[0] != NULL ? hook->args
	                                                                 : default_argv,
	                     &(const struct launch_setup){
	                             .in = fds[0],
	                             .out = LAUNCH_INHERIT,
	                             .err = LAUNCH_INHERIT,
	                             .path = hook->path,
	                             .envp = hook->env != NULL ? hook->env : empty_env,
	                     },
	                     err);
	close(fds[0]);
	if (pid < 0) {
		close(fds[1]);
		return kata_error_wrap(err, "hook `%s`", hook->path);
	}
	signal(SIGPIPE, SIG_IGN);
	write_state(fds[1], state_text);
	close(fds[1]);
	switch (launch_wait(pid, now_ms() + (int64_t)timeout * 1000, &status, err)) {
	case 1:
		break;
	case 0:
		launch_kill_and_reap(pid, false, &status);
		return kata_error_set(err, ETIMEDOUT, "hook `%s` timed out after %d s", hook->path,
		                      timeout);
	default:
		return kata_error_wrap(err, "hook `%s`", hook->path);
	}
	if (WIFSIGNALED(status))
		return kata_error_set(err, ECHILD, "hook `%s` killed by signal %d", hook->path,
		                      WTERMSIG(status));
	if (WEXITSTATUS(status) != 0)
		return kata_error_set(err, ECHILD, "hook `%s` exited with status %d", hook->path,
		                      WEXITSTATUS(status));
	return 0;
}

int hooks_run(const struct oci_hooks *hooks, enum oci_hook_kind kind, json_object *state,
              kata_error_t *err)
{
	const struct oci_hook_list *list;
	const char *text;

	if (hooks == NULL)
		return 0;
	list = &hooks->lists[kind];
	text = json_object_to_json_string_ext(state, JSON_C_TO_STRING_PLAIN);
	for (size_t i = 0; i < list->n_hooks; i++) {
		log_debug("running %s hook %s", oci_hook_kind_name(kind), list->hooks[i].path);
		if (run_hook(&list->hooks[i], text, err) < 0)
			return kata_error_wrap(err, "%s hook", oci_hook_kind_name(kind));
	}
	return 0;
}
