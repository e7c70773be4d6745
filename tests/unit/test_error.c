/* The error contract (docs/error-handling.md) and the ownership helpers. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"

static int failing_leaf(kata_error_t *err)
{
	return kata_error_set(err, ENOENT, "file `%s` is missing", "x.json");
}

static int failing_middle(kata_error_t *err)
{
	if (failing_leaf(err) < 0)
		return kata_error_wrap(err, "load %s", "bundle");
	return 0;
}

START_TEST(test_set_and_wrap)
{
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(failing_middle(&err), -1);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->errno_value, ENOENT);
	ck_assert_str_eq(err->message, "load bundle: file `x.json` is missing");
}
END_TEST

START_TEST(test_sys_appends_strerror)
{
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_lt(open("/nonexistent/dir/file", O_RDONLY), 0);
	ck_assert_int_eq(kata_error_sys(&err, "open %s", "it"), -1);
	ck_assert_int_eq(err->errno_value, ENOENT);
	ck_assert_str_eq(err->message, "open it: No such file or directory");
}
END_TEST

START_TEST(test_wrap_without_error_sets_one)
{
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(kata_error_wrap(&err, "context"), -1);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err->message, "context: unknown error");
}
END_TEST

START_TEST(test_set_twice_does_not_leak)
{
	cleanup_error kata_error_t err = NULL;

	kata_error_set(&err, 1, "first");
	kata_error_set(&err, 2, "second");
	ck_assert_int_eq(err->errno_value, 2);
	ck_assert_str_eq(err->message, "second");
}
END_TEST

START_TEST(test_move)
{
	cleanup_error kata_error_t from = NULL;
	cleanup_error kata_error_t to = NULL;

	kata_error_set(&from, EIO, "io");
	ck_assert_int_eq(kata_error_move(&to, &from), -1);
	ck_assert_ptr_null(from);
	ck_assert_str_eq(to->message, "io");
}
END_TEST

START_TEST(test_null_err_is_allowed)
{
	ck_assert_int_eq(kata_error_set(NULL, EIO, "ignored"), -1);
	ck_assert_int_eq(kata_error_wrap(NULL, "ignored"), -1);
}
END_TEST

START_TEST(test_steal_and_cleanup)
{
	char *kept;
	int fd_kept;

	{
		cleanup_free char *p = xstrdup("owned");
		cleanup_close int fd = open("/dev/null", O_RDONLY);
		ck_assert_int_ge(fd, 0);
		kept = steal_pointer(&p);
		fd_kept = steal_fd(&fd);
		ck_assert_ptr_null(p);
		ck_assert_int_eq(fd, -1);
	}
	ck_assert_str_eq(kept, "owned");
	ck_assert_int_ge(fcntl(fd_kept, F_GETFD), 0); /* still open */
	ck_assert_int_eq(close(fd_kept), 0);
	free(kept);
}
END_TEST

START_TEST(test_cleanup_pid_kills_and_reaps)
{
	pid_t child_pid;

	{
		cleanup_pid pid_t pid = fork();
		ck_assert_int_ge(pid, 0);
		if (pid == 0) {
			pause();
			_exit(0);
		}
		child_pid = pid;
	}
	/* Reaped: no such child any more. */
	ck_assert_int_eq(waitpid(child_pid, NULL, WNOHANG), -1);
	ck_assert_int_eq(errno, ECHILD);
}
END_TEST

START_TEST(test_strv)
{
	cleanup_strv char **v = xcalloc(3, sizeof(char *));

	v[0] = xstrdup("a");
	v[1] = xasprintf("%d", 42);
	ck_assert_uint_eq(strv_length(v), 2);
	ck_assert_str_eq(v[1], "42");
	ck_assert_uint_eq(strv_length(NULL), 0);
}
END_TEST

static Suite *error_suite(void)
{
	Suite *s = suite_create("error");
	TCase *tc = tcase_create("contract");

	tcase_add_test(tc, test_set_and_wrap);
	tcase_add_test(tc, test_sys_appends_strerror);
	tcase_add_test(tc, test_wrap_without_error_sets_one);
	tcase_add_test(tc, test_set_twice_does_not_leak);
	tcase_add_test(tc, test_move);
	tcase_add_test(tc, test_null_err_is_allowed);
	suite_add_tcase(s, tc);
	tc = tcase_create("cleanup");
	tcase_add_test(tc, test_steal_and_cleanup);
	tcase_add_test(tc, test_cleanup_pid_kills_and_reaps);
	tcase_add_test(tc, test_strv);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = error_suite };
