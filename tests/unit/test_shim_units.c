/* The pieces of kata-shim, linked from build/libkatashim.a: the headers it writes
 * (lib/proxy_frame; its reader is tested in test_proxy_frame), the command line, the JSON
 * messages, which signals are forwarded, the reopening of the standard fds, and the pieces
 * of containerd's TaskOOM event. */
#include "proxy_frame.h"
#include "shim/messages.h"
#include "shim/oom_event.h"
#include "shim/shim.h"
#include "shim/shim_internal.h"
#include "shim/stdfd.h"
#include "cleanup.h"

#include "check_main.h"
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

START_TEST(test_header_matches_wire_samples)
{
	static const uint8_t connect[] = { 0, 2, 3, 0, 0, 0, 0, 4, 0, 0, 0, 0x1c };
	static const uint8_t eof[] = { 0, 2, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0 };
	static const uint8_t error_response[] = { 0, 2, 3, 0, 0, 0, 0x11, 4, 0, 1, 0, 2 };
	uint8_t h[PROXY_HEADER_SIZE];

	proxy_frame_put_header(h, PROXY_TYPE_COMMAND, PROXY_CMD_CONNECT_SHIM, 0, 28);
	ck_assert_mem_eq(h, connect, sizeof(h));
	proxy_frame_put_header(h, PROXY_TYPE_STREAM, PROXY_STREAM_STDIN, 0, 0);
	ck_assert_mem_eq(h, eof, sizeof(h));
	proxy_frame_put_header(h, PROXY_TYPE_RESPONSE, 4, PROXY_FLAG_ERROR, 65538);
	ck_assert_mem_eq(h, error_response, sizeof(h));
}
END_TEST

START_TEST(test_tokens)
{
	ck_assert(shim_token_is_valid("aGVsbG8gd29ybGQh"));
	ck_assert(shim_token_is_valid("ab-_"));
	ck_assert(shim_token_is_valid("abc="));
	ck_assert(shim_token_is_valid("ab=="));
	ck_assert(shim_token_is_valid("8f6bT1X2kOZpq1VqU5cYqGZ2cfy0pA1XnQ9Hg8Ccs7Y="));
	ck_assert(!shim_token_is_valid(""));
	ck_assert(!shim_token_is_valid("abc"));
	ck_assert(!shim_token_is_valid("ab+/"));
	ck_assert(!shim_token_is_valid("a==="));
	ck_assert(!shim_token_is_valid("a=bc"));
	ck_assert(!shim_token_is_valid("ab c"));
}
END_TEST

START_TEST(test_uris)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *a = shim_socket_path_from_uri("unix:///run/vc/proxy.sock", &err);
	cleanup_free char *b = shim_socket_path_from_uri("/run/x.sock", &err);

	ck_assert_str_eq(a, "/run/vc/proxy.sock");
	ck_assert_str_eq(b, "/run/x.sock");
	ck_assert_ptr_null(shim_socket_path_from_uri("tcp://h:1", &err));
	ck_assert_ptr_nonnull(err);
	kata_error_free(&err);
	ck_assert_ptr_null(shim_socket_path_from_uri("unix://", &err));
	kata_error_free(&err);
	ck_assert_ptr_null(shim_socket_path_from_uri("relative", &err));
}
END_TEST

START_TEST(test_parse_args)
{
	char *argv[] = {
		"kata-shim", "-c", "ctr", "-t", "abcd", "-u", "unix:///p.sock", "-d", NULL
	};
	char *long_argv[] = {
		"kata-shim", "--container=ctr", "--token",      "abcd", "--uri", "unix:///p.sock",
		"--log",     "/tmp/x",          "--log-format", "json", NULL
	};
	char *bad_format[] = { "kata-shim", "-c", "ctr",          "-t",   "abcd",
		               "-u",        "/p", "--log-format", "yaml", NULL };
	char *extra[] = { "kata-shim", "-c", "ctr", "-t", "abcd", "-u", "/p", "junk", NULL };
	char *missing_value[] = { "kata-shim", "-c", NULL };
	struct shim_options o;
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(shim_parse_args(8, argv, &o, &err), 0);
	ck_assert_str_eq(o.container, "ctr");
	ck_assert_str_eq(o.token, "abcd");
	ck_assert_str_eq(o.socket_path, "/p.sock");
	ck_assert(o.debug);
	ck_assert_int_eq(o.log_format, KATA_LOG_TEXT);
	shim_options_clear(&o);
	ck_assert_int_eq(shim_parse_args(10, long_argv, &o, &err), 0);
	ck_assert_str_eq(o.container, "ctr");
	ck_assert_str_eq(o.log_path, "/tmp/x");
	ck_assert_int_eq(o.log_format, KATA_LOG_JSON);
	ck_assert(!o.debug);
	shim_options_clear(&o);
	ck_assert_int_eq(shim_parse_args(9, bad_format, &o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "yaml"));
	kata_error_free(&err);
	shim_options_clear(&o);
	ck_assert_int_eq(shim_parse_args(8, extra, &o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "junk"));
	kata_error_free(&err);
	shim_options_clear(&o);
	ck_assert_int_eq(shim_parse_args(2, missing_value, &o, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "needs a value"));
	shim_options_clear(&o);
}
END_TEST

START_TEST(test_messages)
{
	cleanup_free char *connect = shim_message_connect("aGVsbG8gd29ybGQh");
	cleanup_free char *sig = shim_message_signal(15);
	cleanup_free char *win = shim_message_winsize(24, 80);
	cleanup_free char *e1 = NULL, *e2 = NULL, *e3 = NULL, *e4 = NULL, *e5 = NULL;
	cleanup_free char *long_text = xmalloc(5000);

	ck_assert_str_eq(connect, "{\"token\":\"aGVsbG8gd29ybGQh\"}");
	ck_assert_str_eq(sig, "{\"signalNumber\":15}");
	ck_assert_str_eq(win, "{\"signalNumber\":28,\"rows\":24,\"columns\":80}");

	e1 = shim_message_error_text((const uint8_t *)"{\"msg\":\"bad token\"}", 19);
	ck_assert_str_eq(e1, "bad token");
	e2 = shim_message_error_text((const uint8_t *)"\"plain\"", 7);
	ck_assert_str_eq(e2, "plain");
	e3 = shim_message_error_text((const uint8_t *)"raw\x1b[0m\n", 8);
	ck_assert_str_eq(e3, "raw?[0m?");
	e4 = shim_message_error_text(NULL, 0);
	ck_assert_str_eq(e4, "(no message)");
	memset(long_text, 'z', 5000);
	e5 = shim_message_error_text((const uint8_t *)long_text, 5000);
	ck_assert_uint_eq(strlen(e5), SHIM_MESSAGE_MAX);
}
END_TEST

START_TEST(test_forwarded_signals)
{
	ck_assert(shim_signal_is_forwarded(SIGTERM));
	ck_assert(shim_signal_is_forwarded(SIGINT));
	ck_assert(shim_signal_is_forwarded(SIGHUP));
	ck_assert(shim_signal_is_forwarded(SIGUSR1));
	ck_assert(shim_signal_is_forwarded(SIGCONT));
	ck_assert(shim_signal_is_forwarded(SIGRTMIN));
	ck_assert(shim_signal_is_forwarded(SIGRTMAX));
	ck_assert(!shim_signal_is_forwarded(SIGKILL));
	ck_assert(!shim_signal_is_forwarded(SIGSTOP));
	ck_assert(!shim_signal_is_forwarded(SIGCHLD));
	ck_assert(!shim_signal_is_forwarded(SIGPIPE));
	ck_assert(!shim_signal_is_forwarded(0));
	ck_assert(!shim_signal_is_forwarded(32)); /* glibc's own */
}
END_TEST

START_TEST(test_stdfd_reopens_pipes_privately)
{
	int p[2];
	struct shim_stdio io;

	ck_assert_int_eq(pipe(p), 0);
	shim_stdio_open(&io, p[1], O_WRONLY);
	ck_assert(io.owned);
	ck_assert_int_ne(io.fd, p[1]);
	/* Non-blocking on our description leaves the shared one alone. */
	ck_assert(fcntl(io.fd, F_GETFL) & O_NONBLOCK);
	ck_assert(!(fcntl(p[1], F_GETFL) & O_NONBLOCK));
	ck_assert_int_eq(write(io.fd, "x", 1), 1);
	shim_stdio_close(&io);
	ck_assert_int_eq(io.fd, -1);
	close(p[1]);
	close(p[0]);

	/* A closed fd: nothing to use. */
	shim_stdio_open(&io, 987, O_RDONLY);
	ck_assert_int_eq(io.fd, -1);
	shim_stdio_close(&io);
}
END_TEST

START_TEST(test_closed_std_fds_get_dev_null)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct stat st, null_st;
		close(0);
		close(2);
		shim_stdio_ensure_open();
		if (fstat(0, &st) < 0 || stat("/dev/null", &null_st) < 0 ||
		    st.st_rdev != null_st.st_rdev)
			_exit(1);
		if (fstat(2, &st) < 0 || st.st_rdev != null_st.st_rdev)
			_exit(2);
		_exit(0);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_oom_event_bytes)
{
	/* Any{1: "containerd.events.TaskOOM", 2: TaskOOM{1: "c1"}}, by hand */
	static const uint8_t expected[] = { 0x0a, 25,  'c',  'o', 'n', 't', 'a', 'i', 'n',
		                            'e',  'r', 'd',  '.', 'e', 'v', 'e', 'n', 't',
		                            's',  '.', 'T',  'a', 's', 'k', 'O', 'O', 'M',
		                            0x12, 4,   0x0a, 2,   'c', '1' };
	uint8_t buf[SHIM_OOM_MAX_ID + 64];
	cleanup_free char *long_id = xmalloc(SHIM_OOM_MAX_ID + 2);
	size_t n;

	ck_assert_uint_eq(shim_oom_event_encode("c1", buf, sizeof(buf)), sizeof(expected));
	ck_assert_mem_eq(buf, expected, sizeof(expected));
	/* an id of 200 bytes: two-byte varint lengths (200 = c8 01; value 203 = cb 01) */
	memset(long_id, 'x', 200);
	long_id[200] = '\0';
	n = shim_oom_event_encode(long_id, buf, sizeof(buf));
	ck_assert_uint_eq(n, 27 + 3 + 3 + 200);
	ck_assert_mem_eq(buf + 27, "\x12\xcb\x01\x0a\xc8\x01", 6);
	ck_assert_int_eq(buf[n - 1], 'x');
	/* the longest id fits the documented buffer; longer, empty or too little room: none */
	memset(long_id, 'y', SHIM_OOM_MAX_ID + 1);
	long_id[SHIM_OOM_MAX_ID] = '\0';
	ck_assert_uint_gt(shim_oom_event_encode(long_id, buf, sizeof(buf)), SHIM_OOM_MAX_ID);
	long_id[SHIM_OOM_MAX_ID] = 'y';
	long_id[SHIM_OOM_MAX_ID + 1] = '\0';
	ck_assert_uint_eq(shim_oom_event_encode(long_id, buf, sizeof(buf)), 0);
	ck_assert_uint_eq(shim_oom_event_encode("", buf, sizeof(buf)), 0);
	ck_assert_uint_eq(shim_oom_event_encode("c1", buf, sizeof(expected) - 1), 0);
}
END_TEST

START_TEST(test_oom_containerd_address_and_namespace)
{
	static const char *const bad_cwds[] = {
		"/",
		"/run/containerd/io.containerd.runtime.v2.task/k8s.io",
		"/run/containerd/io.containerd.runtime.v2.task/k8s.io/",
		"/run/containerd/io.containerd.runtime.v2.task//id",
		"/run/containerd/io.containerd.runtime.v2.task/k8s.io/id/more",
		"/run/containerd/io.containerd.runtime.v2.task/.k8s/id",
		"/run/containerd/io.containerd.runtime.v2.task/k8s../id",
		"/run/containerd/io.containerd.runtime.v2.task/k 8s/id",
		"/run/containerd/io.containerd.runtime.v2.task/"
		"a2345678901234567890123456789012345678901234567890123456789012345678901234567/id",
		"/run/containerd/io.containerd.runtime.v1.linux/k8s.io/id",
	};
	char *s;

	s = shim_oom_containerd_address(NULL, "/run/containerd/containerd.sock.ttrpc");
	ck_assert_str_eq(s, "/run/containerd/containerd.sock");
	free(s);
	s = shim_oom_containerd_address("/run/c.sock", "/run/other.sock.ttrpc");
	ck_assert_str_eq(s, "/run/c.sock");
	free(s);
	ck_assert_ptr_null(shim_oom_containerd_address(NULL, NULL));
	ck_assert_ptr_null(shim_oom_containerd_address("", NULL));
	ck_assert_ptr_null(shim_oom_containerd_address(NULL, "/run/containerd.sock"));
	ck_assert_ptr_null(shim_oom_containerd_address(NULL, ".ttrpc"));

	s = shim_oom_containerd_namespace(
	        NULL, "/tmp/w/state/io.containerd.runtime.v2.task/k8s.io/b6e149138e44");
	ck_assert_str_eq(s, "k8s.io");
	free(s);
	s = shim_oom_containerd_namespace("moby", "/tmp/w/io.containerd.runtime.v2.task/k8s.io/x");
	ck_assert_str_eq(s, "moby");
	free(s);
	ck_assert_ptr_null(shim_oom_containerd_namespace("bad/ns", NULL));
	ck_assert_ptr_null(shim_oom_containerd_namespace(NULL, NULL));
	for (size_t i = 0; i < sizeof(bad_cwds) / sizeof(bad_cwds[0]); i++)
		ck_assert_msg(shim_oom_containerd_namespace(NULL, bad_cwds[i]) == NULL, "%s",
		              bad_cwds[i]);
}
END_TEST

static Suite *shim_units_suite(void)
{
	Suite *s = suite_create("kata-shim pieces");
	TCase *tc = tcase_create("frames");

	tcase_add_test(tc, test_header_matches_wire_samples);
	suite_add_tcase(s, tc);
	tc = tcase_create("command line and messages");
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_uris);
	tcase_add_test(tc, test_parse_args);
	tcase_add_test(tc, test_messages);
	tcase_add_test(tc, test_forwarded_signals);
	tcase_add_test(tc, test_stdfd_reopens_pipes_privately);
	tcase_add_test(tc, test_closed_std_fds_get_dev_null);
	suite_add_tcase(s, tc);
	tc = tcase_create("containerd's TaskOOM");
	tcase_add_test(tc, test_oom_event_bytes);
	tcase_add_test(tc, test_oom_containerd_address_and_namespace);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = shim_units_suite };
