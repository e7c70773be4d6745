/* kata-shim on a terminal (a pty made by the test): raw mode while it runs, the window
 * size as Signal 28 at start and on every change, the mode restored on the way out. */
#include "tests/fakes/fake_proxy.h"
#include "cleanup.h"

#include "check_main.h"
#include <fcntl.h>
#include <limits.h>
#include <pty.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define TOKEN   "aGVsbG8gd29ybGQh"
#define WAIT_MS 5000

static char test_dir[64];
static char shim_path[PATH_MAX];
static char uri[128];
static struct fake_proxy *fp;
static struct fake_client client;
static int slave_fd = -1;

static void cleanup_all(void)
{
	fake_client_release(fp, &client);
	if (slave_fd >= 0)
		close(slave_fd);
	slave_fd = -1;
	fake_proxy_free(fp);
	fp = NULL;
	if (test_dir[0] != '\0')
		rmdir(test_dir);
	test_dir[0] = '\0';
}

static void setup(void)
{
	const char *build = getenv("KATA_BUILD_DIR");
	cleanup_free char *bin = xasprintf("%s/kata-shim", build != NULL ? build : "build");
	cleanup_free char *sock = NULL;
	cleanup_error kata_error_t err = NULL;

	memset(&client, 0, sizeof(client));
	client.stdin_fd = client.out.fd = client.err.fd = -1;
	ck_assert_msg(realpath(bin, shim_path) != NULL, "no kata-shim at %s", bin);
	unit_test_new_dir(test_dir, sizeof(test_dir));
	atexit(cleanup_all);
	sock = xasprintf("%s/proxy.sock", test_dir);
	snprintf(uri, sizeof(uri), "unix://%s", sock);
	fp = fake_proxy_new(sock, &err);
	ck_assert_msg(fp != NULL, "%s", err ? err->message : "");
}

static void teardown(void)
{
	cleanup_all();
}

/* Runs the shim as the session leader of a new pty of 24x80, stdin/stdout/stderr on it. */
static void start_shim_on_pty(void)
{
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char *argv[] = { shim_path, "-c", "container-1", "-t", TOKEN, "-u", uri, NULL };
	int master = -1;
	pid_t pid = forkpty(&master, NULL, NULL, &ws);

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sigset_t none;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], argv);
		_exit(127);
	}
	client.pid = pid;
	client.out.fd = master;
	fcntl(master, F_SETFL, O_NONBLOCK);
	fake_proxy_add_capture(fp, &client.out);
	slave_fd = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(slave_fd, 0);
}

static long expect_connect(void)
{
	long i;

	ck_assert_int_eq(fake_proxy_accept(fp, WAIT_MS), 0);
	i = fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_CONNECT_SHIM, 0, WAIT_MS);
	ck_assert_int_ge(i, 0);
	return i;
}

static tcflag_t local_flags(void)
{
	struct termios t;

	ck_assert_int_eq(tcgetattr(slave_fd, &t), 0);
	return t.c_lflag;
}

static void expect_signal_payload(size_t *from, const char *payload)
{
	long i = fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_SIGNAL, *from, WAIT_MS);

	ck_assert_msg(i >= 0, "no Signal frame for %s", payload);
	ck_assert_str_eq(fake_proxy_frame_at(fp, (size_t)i)->payload, payload);
	*from = (size_t)i + 1;
}

static bool stdin_frame_done(struct fake_proxy *p, void *data)
{
	const char *want = data;

	for (size_t i = 0; i < fake_proxy_frame_count(p); i++) {
		const struct fake_proxy_frame *f = fake_proxy_frame_at(p, i);
		if (f->type == PROXY_TYPE_STREAM && f->opcode == PROXY_STREAM_STDIN &&
		    strcmp(f->payload, want) == 0)
			return true;
	}
	return false;
}

static int wait_exit_code(void)
{
	int status = fake_client_wait(fp, &client, WAIT_MS * 2);

	ck_assert_msg(status != -1, "kata-shim did not exit");
	ck_assert_msg(WIFEXITED(status), "kata-shim died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

START_TEST(test_tty_raw_mode_window_size_and_restore)
{
	struct winsize ws = { .ws_row = 50, .ws_col = 132 };
	size_t from;

	start_shim_on_pty();
	from = (size_t)expect_connect() + 1;
	fake_proxy_queue_response(fp, PROXY_CMD_CONNECT_SHIM, NULL);
	/* The size is sent once at start. */
	expect_signal_payload(&from, "{\"signalNumber\":28,\"rows\":24,\"columns\":80}");
	/* Raw: no line editing, no echo, no signals from keys. */
	ck_assert_uint_eq(local_flags() & (ICANON | ECHO | ISIG), 0);

	/* A window change: the kernel sends SIGWINCH to the pty's foreground group. */
	ck_assert_int_eq(ioctl(client.out.fd, TIOCSWINSZ, &ws), 0);
	expect_signal_payload(&from, "{\"signalNumber\":28,\"rows\":50,\"columns\":132}");
	ck_assert_int_eq(kill(client.pid, SIGWINCH), 0);
	expect_signal_payload(&from, "{\"signalNumber\":28,\"rows\":50,\"columns\":132}");

	/* Keys go through byte by byte, without a newline, and ^C is a byte, not SIGINT. */
	ck_assert_int_eq(write(client.out.fd, "ab", 2), 2);
	ck_assert(fake_proxy_pump_until(fp, WAIT_MS, stdin_frame_done, "ab"));
	ck_assert_int_eq(write(client.out.fd, "\x03", 1), 1);
	ck_assert(fake_proxy_pump_until(fp, WAIT_MS, stdin_frame_done, "\x03"));
	ck_assert_int_eq(fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_SIGNAL, from, 0),
	                 -1);

	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "out\r\n", 5, 0);
	fake_proxy_queue_exit(fp, 0);
	ck_assert_int_eq(wait_exit_code(), 0);
	ck_assert_ptr_nonnull(client.out.data);
	ck_assert_ptr_nonnull(strstr(client.out.data, "out\r\n"));
	/* The terminal is back in its cooked mode. */
	ck_assert_uint_eq(local_flags() & (ICANON | ECHO | ISIG), ICANON | ECHO | ISIG);
}
END_TEST

START_TEST(test_tty_restored_on_error_exit)
{
	start_shim_on_pty();
	expect_connect();
	ck_assert_uint_eq(local_flags() & (ICANON | ECHO), 0);
	fake_proxy_queue_response(fp, PROXY_CMD_CONNECT_SHIM, "{\"msg\":\"no such token\"}");
	ck_assert_int_eq(wait_exit_code(), 1);
	ck_assert_ptr_nonnull(strstr(client.out.data, "no such token"));
	ck_assert_uint_eq(local_flags() & (ICANON | ECHO), ICANON | ECHO);
}
END_TEST

static Suite *shim_tty_suite(void)
{
	Suite *s = suite_create("kata-shim tty");
	TCase *tc = tcase_create("pty");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_tty_raw_mode_window_size_and_restore);
	tcase_add_test(tc, test_tty_restored_on_error_exit);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = shim_tty_suite,
	.test_dir = "kata-shim-tty",
};
