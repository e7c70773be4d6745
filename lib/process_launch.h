/* Starting programs: the one launcher for daemons that outlive their starter, for direct
 * children, and for a program run with a deadline whose output is captured.
 *
 * Every launched program starts clean: all signals unblocked and at their default
 * disposition, stdin/stdout/stderr as the caller chose, and no other descriptor than the
 * ones the caller passes on purpose (keep_fds); everything else inherited is closed.
 */
#ifndef KATA_PROCESS_LAUNCH_H
#define KATA_PROCESS_LAUNCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"

/* What a standard stream of the program is: a descriptor of the caller, or one of these. */
#define LAUNCH_NULL    (-1) /* /dev/null */
#define LAUNCH_INHERIT (-2) /* the caller's own */
#define LAUNCH_CAPTURE (-3) /* launch_run only: the captured output */
#define LAUNCH_LOG     (-4) /* log_path, appended (NULL: /dev/null) */

struct launch_setup {
	int in, out, err;     /* LAUNCH_* or a descriptor of the caller */
	const char *log_path; /* opened O_APPEND|O_NOFOLLOW, created 0600 */
	const int *keep_fds;  /* keep_fds[i] is open in the program as keep_first + i */
	size_t n_keep_fds;
	int keep_first;    /* >= 3 when n_keep_fds > 0 */
	const char *path;  /* the program to execute; NULL: argv[0] */
	char *const *envp; /* NULL: this process's environment */
	bool own_group;    /* its own process group: a kill reaches what it started too */
	/* No transparent huge pages for the program (PR_SET_THP_DISABLE, kept across exec):
	 * a region it asks to have in huge pages is then resident only where it is touched. */
	bool no_huge_pages;
};

/* Starts argv as a daemon: its own session, double fork (reparented away from the caller,
 * which never has to reap it). *pid is the daemon's pid. */
int launch_daemon(char *const argv[], const struct launch_setup *setup, pid_t *pid,
                  kata_error_t *err);

/* Starts argv as a direct child the caller reaps (launch_wait). Returns its pid. */
pid_t launch_program(char *const argv[], const struct launch_setup *setup, kata_error_t *err);

/* Waits for the child pid to exit until deadline (a now_ms() value), filling *status.
 * Returns 1 when it exited (and is reaped), 0 when it still runs at the deadline, -1 with
 * err on a wait failure. */
int launch_wait(pid_t pid, int64_t deadline, int *status, kata_error_t *err);

/* SIGKILL to the child (and its process group when group) and reaps it. */
void launch_kill_and_reap(pid_t pid, bool group, int *status);

struct launch_result {
	int status;        /* wait status */
	bool timed_out;    /* still running at the deadline: killed and reaped */
	char *output;      /* what the LAUNCH_CAPTURE streams wrote, NUL-terminated */
	size_t output_len; /* at most max_output; the rest was read and dropped */
};

/* Runs argv to its end, within timeout_ms, capturing up to max_output bytes of what it
 * writes to its LAUNCH_CAPTURE streams. It is done when it exited and its output reached
 * EOF, or half a second after its exit when something it started keeps the output open (a
 * daemonizing program). Past the deadline it is killed and reaped (timed_out). Returns 0
 * when it ran (result filled; free result->output), -1 with err when it could not start. */
int launch_run(char *const argv[], const struct launch_setup *setup, int timeout_ms,
               size_t max_output, struct launch_result *result, kata_error_t *err);

/* Unblocks all signals and sets every disposition to its default: for a forked child about
 * to execute another program. */
void launch_reset_signals(void);

#endif
