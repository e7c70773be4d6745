/* The descriptor and file toolkit: the clock, the wait with a deadline, the atomic write
 * (lib/fd_util.h) and the one Unix-socket connect (lib/unix_socket.h). */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd_util.h"
#include "process_launch.h"
#include "unix_socket.h"

#define CONTENT_SIZE 8192

/* Each test's own directory below the program's (removed even when the test fails). */
static char dir[128];

static void make_test_dir(void)
{
	unit_test_new_dir(dir, sizeof(dir));
}

static size_t entries_in(const char *path)
{
	cleanup_closedir DIR *d = opendir(path);
	struct dirent *e;
	size_t n = 0;

	while (d != NULL && (e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	return n;
}

START_TEST(test_now_ms_is_monotonic_milliseconds)
{
	int64_t before = now_ms(), after;

	usleep(50 * 1000);
	after = now_ms();
	ck_assert_int_ge(after - before, 50);
	ck_assert_int_lt(after - before, 5000);
}
END_TEST

START_TEST(test_fd_wait_deadline_and_ready)
{
	cleanup_error kata_error_t err = NULL;
	int fds[2];
	int64_t started = now_ms();

	ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
	ck_assert_int_eq(fd_wait(fds[0], POLLIN, started + 100, &err), -1);
	ck_assert_int_eq(err->errno_value, ETIMEDOUT);
	ck_assert_int_ge(now_ms() - started, 100);
	/* ready at once; writable at once */
	ck_assert_int_eq(write(fds[1], "x", 1), 1);
	ck_assert_int_eq(fd_wait(fds[0], POLLIN, now_ms() + 5000, NULL), 0);
	ck_assert_int_eq(fd_wait(fds[1], POLLOUT, now_ms() + 5000, NULL), 0);
	close(fds[0]);
	close(fds[1]);
}
END_TEST

START_TEST(test_atomic_write_replaces_with_mode)
{
	cleanup_free char *path = xasprintf("%s/state.json", dir);
	cleanup_error kata_error_t err = NULL;
	char buf[64] = { 0 };
	struct stat st;
	int fd;

	ck_assert_int_eq(file_write_atomic(path, "old", 3, 0600, &err), 0);
	ck_assert_int_eq(file_write_atomic(path, "new content", 11, 0640, &err), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(read(fd, buf, sizeof(buf) - 1), 11);
	close(fd);
	ck_assert_str_eq(buf, "new content");
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0640);
	/* no temporary file left beside it */
	ck_assert_uint_eq(entries_in(dir), 1);
}
END_TEST

START_TEST(test_atomic_write_failure_leaves_nothing)
{
	cleanup_free char *path = xasprintf("%s/busy", dir);
	cleanup_free char *inside = xasprintf("%s/busy/keep", dir);
	cleanup_error kata_error_t err = NULL;

	/* a non-empty directory in the way: the rename fails */
	ck_assert_int_eq(mkdir(path, 0700), 0);
	ck_assert_int_eq(file_write_atomic(inside, "kept", 4, 0600, NULL), 0);
	ck_assert_int_eq(file_write_atomic(path, "lost", 4, 0600, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "rename"));
	ck_assert_uint_eq(entries_in(dir), 1);
	ck_assert_uint_eq(entries_in(path), 1);
	kata_error_free(&err);
	/* a directory that does not exist: a clear error, nothing made */
	ck_assert_int_eq(file_write_atomic("/nonexistent-kata-dir/file", "x", 1, 0600, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOENT);
}
END_TEST

/* A writer replaces the file over and over with all-'a' or all-'b' content; a reader must
 * only ever see one of the two whole. */
START_TEST(test_atomic_write_is_old_or_new_never_a_part)
{
	cleanup_free char *path = xasprintf("%s/flip", dir);
	cleanup_free char *a = xmalloc(CONTENT_SIZE), *b = xmalloc(CONTENT_SIZE);
	cleanup_free char *buf = xmalloc(CONTENT_SIZE + 1);
	cleanup_pid pid_t writer = -1;
	int reads = 0, status;

	memset(a, 'a', CONTENT_SIZE);
	memset(b, 'b', CONTENT_SIZE);
	ck_assert_int_eq(file_write_atomic(path, a, CONTENT_SIZE, 0600, NULL), 0);
	writer = fork();
	ck_assert_int_ge(writer, 0);
	if (writer == 0) {
		for (int i = 0; i < 400; i++)
			if (file_write_atomic(path, i % 2 ? a : b, CONTENT_SIZE, 0600, NULL) < 0)
				_exit(1);
		_exit(0);
	}
	while (waitpid(writer, &status, WNOHANG) == 0 || reads == 0) {
		cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
		ssize_t n;

		ck_assert_int_ge(fd, 0);
		n = read(fd, buf, CONTENT_SIZE + 1);
		ck_assert_int_eq(n, CONTENT_SIZE);
		ck_assert_msg(memcmp(buf, a, CONTENT_SIZE) == 0 ||
		                      memcmp(buf, b, CONTENT_SIZE) == 0,
		              "read a mix of old and new content");
		reads++;
	}
	writer = -1;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_uint_eq(entries_in(dir), 1);
}
END_TEST

static int listen_at(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof(addr.sun_path));
	strcpy(addr.sun_path, path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	return fd;
}

START_TEST(test_connect_refuses_an_overlong_name)
{
	cleanup_error kata_error_t err = NULL;
	char name[200];
	cleanup_free char *path = NULL;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	path = xasprintf("%s/%s", dir, name);
	ck_assert_int_eq(unix_socket_connect(path, 0, &err), -1);
	ck_assert_int_eq(err->errno_value, ENAMETOOLONG);
	ck_assert_msg(strstr(err->message, "too long for a Unix socket") != NULL &&
	                      strstr(err->message, path) != NULL,
	              "%s", err->message);
}
END_TEST

START_TEST(test_connect_reaches_a_long_path_never_a_truncated_one)
{
	struct sockaddr_un addr;
	cleanup_free char *deep = xasprintf("%s/%0100d", dir, 0);
	cleanup_free char *short_path = xasprintf("%s/s.sock", dir);
	cleanup_free char *long_path = xasprintf("%s/s.sock", deep);
	cleanup_free char *truncated = NULL;
	cleanup_error kata_error_t err = NULL;
	cleanup_close int listener = -1, decoy = -1, client = -1, served = -1;

	ck_assert_uint_gt(strlen(long_path), sizeof(addr.sun_path));
	ck_assert_int_eq(mkdir(deep, 0700), 0);
	/* the socket is made at a short path and moved to the long one */
	listener = listen_at(short_path);
	ck_assert_int_eq(rename(short_path, long_path), 0);
	/* a decoy where a truncating connect would land */
	truncated = xstrndup(long_path, sizeof(addr.sun_path) - 1);
	decoy = open(truncated, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	ck_assert_int_ge(decoy, 0);

	client = unix_socket_connect(long_path, 0, &err);
	ck_assert_msg(client >= 0, "%s", err != NULL ? err->message : "");
	served = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(served, 0);
	ck_assert_int_eq(write(client, "hi", 2), 2);
	{
		char buf[2];
		ck_assert_int_eq(read(served, buf, 2), 2);
		ck_assert(memcmp(buf, "hi", 2) == 0);
	}
}
END_TEST

START_TEST(test_connect_waits_for_a_late_server_until_the_deadline)
{
	cleanup_free char *path = xasprintf("%s/late.sock", dir);
	cleanup_error kata_error_t err = NULL;
	cleanup_pid pid_t server = -1;
	cleanup_close int fd = -1;
	int64_t started = now_ms();
	int status;

	/* nobody there: one attempt with 0, a few with 150 ms, then ENOENT */
	ck_assert_int_eq(unix_socket_connect(path, 0, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOENT);
	kata_error_free(&err);
	ck_assert_int_eq(unix_socket_connect(path, 150, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOENT);
	ck_assert_int_ge(now_ms() - started, 150);
	kata_error_free(&err);

	server = fork();
	ck_assert_int_ge(server, 0);
	if (server == 0) {
		int listener, conn;

		usleep(200 * 1000);
		listener = listen_at(path);
		conn = accept(listener, NULL, NULL);
		_exit(conn >= 0 ? 0 : 1);
	}
	fd = unix_socket_connect(path, 10000, &err);
	ck_assert_msg(fd >= 0, "%s", err != NULL ? err->message : "");
	ck_assert_int_eq(waitpid(server, &status, 0), server);
	server = -1;
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}
END_TEST

static Suite *fd_util_suite(void)
{
	Suite *s = suite_create("fd_util");
	TCase *tc = tcase_create("fd_util");

	tcase_add_checked_fixture(tc, make_test_dir, NULL);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_now_ms_is_monotonic_milliseconds);
	tcase_add_test(tc, test_fd_wait_deadline_and_ready);
	tcase_add_test(tc, test_atomic_write_replaces_with_mode);
	tcase_add_test(tc, test_atomic_write_failure_leaves_nothing);
	tcase_add_test(tc, test_atomic_write_is_old_or_new_never_a_part);
	tcase_add_test(tc, test_connect_refuses_an_overlong_name);
	tcase_add_test(tc, test_connect_reaches_a_long_path_never_a_truncated_one);
	tcase_add_test(tc, test_connect_waits_for_a_late_server_until_the_deadline);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = fd_util_suite, .test_dir = "kata-test-fd" };
