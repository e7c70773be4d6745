/* The one launcher (lib/process_launch.h): what a daemon or child really gets (descriptors,
 * signal state, session), and a run with a deadline that kills and reaps an overrun. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd_util.h"
#include "process.h"
#include "process_launch.h"
#include "state.h"

/* An fd the test leaves inheritable on purpose: the launcher must not pass it on. */
#define STRAY_FD 20

/* The tests' directory below the program's (removed even when a test fails). */
static char dir[128];

static void setup_dir(void)
{
	unit_test_new_dir(dir, sizeof(dir));
}

static void remove_dir(void)
{
	remove_tree(dir, NULL);
}

static char *path_in_dir(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static char *read_text(const char *path)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char *text = xzalloc(4096);

	if (f != NULL)
		text[fread(text, 1, 4095, f)] = '\0';
	return text;
}

/* Runs argv with stdin on /dev/null; it must start. */
static void run_program(char *argv[], int out, int err, bool own_group, int timeout_ms,
                        size_t max_output, struct launch_result *run)
{
	const struct launch_setup setup = {
		.in = LAUNCH_NULL, .out = out, .err = err, .own_group = own_group
	};

	ck_assert_int_eq(launch_run(argv, &setup, timeout_ms, max_output, run, NULL), 0);
}

/* Reads fd until EOF (every writer gone) within timeout_ms; false on timeout. */
static bool wait_eof(int fd, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	char buf[256];

	for (;;) {
		ssize_t n;

		if (fd_wait(fd, POLLIN, deadline, NULL) < 0)
			return false;
		n = read(fd, buf, sizeof(buf));
		if (n == 0)
			return true;
		if (n < 0 && errno != EINTR)
			return false;
	}
}

/* A shell that records its descriptors, ignored signals and identity on its stdout (the
 * log), and keeps fd 3 (a pipe the test reads) open until it is done. No redirection in
 * the script: dash keeps a saved copy of a redirected fd in itself. */
static char *report_argv[] = { "/bin/sh", "-c",
	                       "ls /proc/$$/fd; grep -E '^Sig(Blk|Ign)' /proc/$$/status; "
	                       "echo \"pid $$\"; :",
	                       NULL };

START_TEST(test_daemon_closes_inherited_fds_and_resets_signals)
{
	cleanup_free char *report_path = path_in_dir("report");
	cleanup_free char *report = NULL;
	cleanup_free char *expected_pid = NULL;
	sigset_t block, old_mask;
	struct sigaction ignore = { .sa_handler = SIG_IGN }, old_usr2;
	int pipefd[2];
	pid_t daemon_pid = -1;
	cleanup_error kata_error_t err = NULL;

	/* an inheritable stray fd, a blocked and an ignored signal in the launcher */
	int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);

	ck_assert_int_eq(dup2(null_fd, STRAY_FD), STRAY_FD);
	close(null_fd);
	ck_assert_int_eq(pipe2(pipefd, O_CLOEXEC), 0);
	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigprocmask(SIG_BLOCK, &block, &old_mask);
	sigaction(SIGUSR2, &ignore, &old_usr2);

	ck_assert_msg(launch_daemon(report_argv,
	                            &(const struct launch_setup){ .in = LAUNCH_NULL,
	                                                          .out = LAUNCH_LOG,
	                                                          .err = LAUNCH_NULL,
	                                                          .log_path = report_path,
	                                                          .keep_fds = &pipefd[1],
	                                                          .n_keep_fds = 1,
	                                                          .keep_first = 3 },
	                            &daemon_pid, &err) == 0,
	              "%s", err != NULL ? err->message : "");
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGUSR2, &old_usr2, NULL);
	close(STRAY_FD);
	close(pipefd[1]);
	ck_assert_msg(wait_eof(pipefd[0], 10000), "the daemon did not finish");
	close(pipefd[0]);

	report = read_text(report_path);
	expected_pid = xasprintf("pid %d\n", daemon_pid);
	/* 0-2 and the kept fd at 3, nothing else: not the stray fd, not the pipe's read end */
	ck_assert_msg(strncmp(report, "0\n1\n2\n3\nSigBlk:", 15) == 0, "report: %s", report);
	ck_assert_msg(strstr(report, "SigIgn:\t0000000000000000\n") != NULL, "report: %s", report);
	/* the pid handed back is the daemon's own, and it was never our child */
	ck_assert_msg(strstr(report, expected_pid) != NULL, "report: %s, pid %d", report,
	              daemon_pid);
	ck_assert_int_eq(waitpid(daemon_pid, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

START_TEST(test_program_starts_with_no_signal_blocked_or_ignored)
{
	/* grep itself reads its status: a shell would clear its own mask */
	char *argv[] = { "/bin/grep", "-E", "^Sig(Blk|Ign)", "/proc/self/status", NULL };
	struct sigaction ignore = { .sa_handler = SIG_IGN };
	struct launch_result run;
	sigset_t block;

	sigemptyset(&block);
	sigaddset(&block, SIGUSR1);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, NULL);
	sigaction(SIGUSR2, &ignore, NULL);
	sigaction(SIGHUP, &ignore, NULL);
	run_program(argv, LAUNCH_CAPTURE, LAUNCH_INHERIT, false, 10000, 256, &run);
	ck_assert(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0);
	ck_assert_str_eq(run.output, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	free(run.output);
}
END_TEST

START_TEST(test_program_places_kept_fds_in_order)
{
	/* the caller's fds 8 and 9 swap places: a naive dup2 would lose one of them */
	char *argv[] = { "/bin/sh", "-c", "echo first >&8; echo second >&9", NULL };
	int a[2], b[2], status;
	int keep[2] = { 9, 8 };
	char buf[32];
	ssize_t n;
	pid_t pid;

	ck_assert_int_eq(pipe2(a, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(b, O_CLOEXEC), 0);
	ck_assert_int_eq(dup3(a[1], 8, O_CLOEXEC), 8);
	ck_assert_int_eq(dup3(b[1], 9, O_CLOEXEC), 9);
	close(a[1]);
	close(b[1]);
	pid = launch_program(argv,
	                     &(const struct launch_setup){ .in = LAUNCH_NULL,
	                                                   .out = LAUNCH_NULL,
	                                                   .err = LAUNCH_INHERIT,
	                                                   .keep_fds = keep,
	                                                   .n_keep_fds = 2,
	                                                   .keep_first = 8 },
	                     NULL);
	ck_assert_int_gt(pid, 0);
	close(8);
	close(9);
	ck_assert_int_eq(launch_wait(pid, now_ms() + 10000, &status, NULL), 1);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	/* the child's 8 was our 9 (b), its 9 was our 8 (a) */
	n = read(b[0], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "first\n");
	n = read(a[0], buf, sizeof(buf) - 1);
	ck_assert_int_gt(n, 0);
	buf[n] = '\0';
	ck_assert_str_eq(buf, "second\n");
	close(a[0]);
	close(b[0]);
}
END_TEST

START_TEST(test_daemon_log_refuses_a_symlink)
{
	cleanup_free char *log = path_in_dir("daemon.log");
	cleanup_free char *elsewhere = path_in_dir("elsewhere");
	char *argv[] = { "/bin/true", NULL };
	cleanup_error kata_error_t err = NULL;
	pid_t pid = -1;

	ck_assert_int_eq(symlink(elsewhere, log), 0);
	ck_assert_int_lt(launch_daemon(argv,
	                               &(const struct launch_setup){ .in = LAUNCH_NULL,
	                                                             .out = LAUNCH_LOG,
	                                                             .err = LAUNCH_LOG,
	                                                             .log_path = log },
	                               &pid, &err),
	                 0);
	ck_assert_int_eq(err->errno_value, ELOOP);
	ck_assert_int_eq(pid, -1);
	ck_assert_int_eq(access(elsewhere, F_OK), -1);
}
END_TEST

START_TEST(test_run_kills_and_reaps_an_overrun)
{
	/* its own group: the background sleep it started dies with it */
	char *argv[] = { "/bin/sh", "-c", "sleep 30 & echo $!; wait", NULL };
	struct launch_result run;
	int64_t started = now_ms();
	char state = 0;
	uint64_t start_time;
	pid_t sleeper;

	run_program(argv, LAUNCH_CAPTURE, LAUNCH_INHERIT, true, 300, 64, &run);
	ck_assert(run.timed_out);
	ck_assert_int_lt(now_ms() - started, 5000);
	ck_assert(WIFSIGNALED(run.status) && WTERMSIG(run.status) == SIGKILL);
	sleeper = (pid_t)atoi(run.output);
	free(run.output);
	ck_assert_int_gt(sleeper, 0);
	/* reaped: no child of ours is left */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
	/* the grandchild got the SIGKILL too (gone, or a zombie its new parent has not reaped) */
	for (int i = 0;
	     i < 200 && process_read_stat(sleeper, &state, &start_time) == 0 && state != 'Z'; i++)
		usleep(10000);
	ck_assert_msg(process_read_stat(sleeper, &state, &start_time) < 0 || state == 'Z',
	              "the sleep %d survived (state %c)", sleeper, state);
}
END_TEST

START_TEST(test_run_captures_bounded_output_and_status)
{
	char *argv[] = { "/bin/sh", "-c", "printf 0123456789abcdef; echo oops >&2; exit 3", NULL };
	struct launch_result run;

	run_program(argv, LAUNCH_CAPTURE, LAUNCH_NULL, false, 10000, 10, &run);
	ck_assert(!run.timed_out);
	ck_assert(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 3);
	ck_assert_uint_eq(run.output_len, 10);
	ck_assert_str_eq(run.output, "0123456789");
	free(run.output);
}
END_TEST

/* The THP_enabled line of /proc/self/status as a program launched with no_huge_pages sees
 * it, after a further exec (the setting is kept across exec, as qemu needs). */
static char *thp_line_of_launched(bool no_huge_pages)
{
	char *argv[] = { "/bin/sh", "-c", "exec grep THP_enabled /proc/self/status", NULL };
	const struct launch_setup setup = { .in = LAUNCH_NULL,
		                            .out = LAUNCH_CAPTURE,
		                            .err = LAUNCH_NULL,
		                            .no_huge_pages = no_huge_pages };
	struct launch_result run;

	ck_assert_int_eq(launch_run(argv, &setup, 10000, 256, &run, NULL), 0);
	ck_assert(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0);
	return run.output;
}

START_TEST(test_program_without_huge_pages)
{
	cleanup_free char *plain = thp_line_of_launched(false);
	cleanup_free char *lean = thp_line_of_launched(true);
	cleanup_free char *own = read_text("/proc/self/status");

	ck_assert_str_eq(lean, "THP_enabled:\t0\n");
	/* Without the flag the program has what its launcher has. */
	ck_assert_ptr_nonnull(strstr(own, plain));
}
END_TEST

START_TEST(test_run_does_not_wait_for_a_daemon_holding_the_output)
{
	/* a daemonizing program: its child keeps stderr open after it exits */
	char *argv[] = { "/bin/sh", "-c", "sleep 30 >/dev/null & echo $! >&2; exit 0", NULL };
	struct launch_result run;
	int64_t started = now_ms();
	pid_t sleeper;

	run_program(argv, LAUNCH_NULL, LAUNCH_CAPTURE, false, 20000, 64, &run);
	sleeper = (pid_t)atoi(run.output);
	free(run.output);
	ck_assert_int_gt(sleeper, 0);
	kill(sleeper, SIGKILL);
	ck_assert(!run.timed_out);
	ck_assert(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 0);
	ck_assert_int_lt(now_ms() - started, 5000);
}
END_TEST

START_TEST(test_wait_until_deadline_then_exit)
{
	char *argv[] = { "/bin/sh", "-c", "read line; exit 7", NULL };
	int to_child[2], status = 0;
	int64_t started;
	pid_t pid;

	ck_assert_int_eq(pipe2(to_child, O_CLOEXEC), 0);
	pid = launch_program(argv,
	                     &(const struct launch_setup){
	                             .in = to_child[0], .out = LAUNCH_NULL, .err = LAUNCH_INHERIT },
	                     NULL);
	ck_assert_int_gt(pid, 0);
	close(to_child[0]);
	started = now_ms();
	ck_assert_int_eq(launch_wait(pid, now_ms() + 200, &status, NULL), 0);
	ck_assert_int_ge(now_ms() - started, 200);
	ck_assert_int_eq(write(to_child[1], "go\n", 3), 3);
	close(to_child[1]);
	ck_assert_int_eq(launch_wait(pid, now_ms() + 10000, &status, NULL), 1);
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7);
}
END_TEST

START_TEST(test_exec_failure_is_status_127)
{
	char *argv[] = { "/nonexistent/program", NULL };
	struct launch_result run;

	run_program(argv, LAUNCH_NULL, LAUNCH_CAPTURE, false, 10000, 256, &run);
	ck_assert(WIFEXITED(run.status) && WEXITSTATUS(run.status) == 127);
	ck_assert_msg(strstr(run.output, "exec /nonexistent/program: No such file") != NULL, "%s",
	              run.output);
	free(run.output);
}
END_TEST

START_TEST(test_bad_setups_are_refused_before_fork)
{
	char *argv[] = { "/bin/true", NULL };
	int fds[1] = { 0 };
	cleanup_error kata_error_t err = NULL;
	pid_t pid = -1;

	ck_assert_int_eq(launch_program(argv,
	                                &(const struct launch_setup){ .in = LAUNCH_NULL,
	                                                              .out = LAUNCH_CAPTURE,
	                                                              .err = LAUNCH_NULL },
	                                &err),
	                 -1);
	ck_assert_int_eq(err->errno_value, EINVAL);
	kata_error_free(&err);
	/* kept fds may not land on 0-2 */
	ck_assert_int_eq(launch_daemon(argv,
	                               &(const struct launch_setup){ .in = LAUNCH_NULL,
	                                                             .out = LAUNCH_NULL,
	                                                             .err = LAUNCH_NULL,
	                                                             .keep_fds = fds,
	                                                             .n_keep_fds = 1,
	                                                             .keep_first = 2 },
	                               &pid, &err),
	                 -1);
	ck_assert_int_eq(err->errno_value, EINVAL);
	ck_assert_int_eq(pid, -1);
	/* nothing was started */
	ck_assert_int_eq(waitpid(-1, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

static Suite *launch_suite(void)
{
	Suite *s = suite_create("launch");
	TCase *tc = tcase_create("launch");

	tcase_add_unchecked_fixture(tc, setup_dir, remove_dir);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_daemon_closes_inherited_fds_and_resets_signals);
	tcase_add_test(tc, test_program_starts_with_no_signal_blocked_or_ignored);
	tcase_add_test(tc, test_program_places_kept_fds_in_order);
	tcase_add_test(tc, test_daemon_log_refuses_a_symlink);
	tcase_add_test(tc, test_run_kills_and_reaps_an_overrun);
	tcase_add_test(tc, test_run_captures_bounded_output_and_status);
	tcase_add_test(tc, test_program_without_huge_pages);
	tcase_add_test(tc, test_run_does_not_wait_for_a_daemon_holding_the_output);
	tcase_add_test(tc, test_wait_until_deadline_then_exit);
	tcase_add_test(tc, test_exec_failure_is_status_127);
	tcase_add_test(tc, test_bad_setups_are_refused_before_fork);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = launch_suite, .test_dir = "kata-test-launch" };
