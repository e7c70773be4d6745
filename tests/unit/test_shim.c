/* kata-shim, the real binary, against the fake proxy: the connection, the streams, the
 * exit status, signals and the command line. (tty: test_shim_tty.c; a proxy that goes
 * away, hostile frames, a slow reader: test_shim_proxy.c; the pieces: test_shim_units.c) */
#include "tests/fakes/fake_proxy.h"
#include "cleanup.h"

#include "check_main.h"
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define TOKEN     "aGVsbG8gd29ybGQh"
#define WAIT_MS   5000
#define FILE_SIZE (100 * 1024)

static char test_dir[64];
static char shim_path[PATH_MAX];
static char uri[128];
static struct fake_proxy *fp;
static struct fake_client client;

static char *test_file(const char *name)
{
	return xasprintf("%s/%s", test_dir, name);
}

static void cleanup_all(void)
{
	static const char *const names[] = { "stdin.txt", "stdout.txt" };

	fake_client_release(fp, &client);
	fake_proxy_free(fp);
	fp = NULL;
	if (test_dir[0] == '\0')
		return;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		cleanup_free char *path = test_file(names[i]);
		unlink(path);
	}
	rmdir(test_dir);
	test_dir[0] = '\0';
}

static void setup(void)
{
	const char *build = getenv("KATA_BUILD_DIR");
	cleanup_free char *sock = NULL;
	cleanup_free char *bin = NULL;
	cleanup_error kata_error_t err = NULL;

	memset(&client, 0, sizeof(client));
	client.stdin_fd = client.out.fd = client.err.fd = -1;
	bin = xasprintf("%s/kata-shim", build != NULL ? build : "build");
	ck_assert_msg(realpath(bin, shim_path) != NULL, "no kata-shim at %s", bin);
	unit_test_new_dir(test_dir, sizeof(test_dir));
	atexit(cleanup_all); /* a failed check exits the test's process */
	sock = test_file("proxy.sock");
	snprintf(uri, sizeof(uri), "unix://%s", sock);
	fp = fake_proxy_new(sock, &err);
	ck_assert_msg(fp != NULL, "%s", err ? err->message : "");
}

static void teardown(void)
{
	cleanup_all();
}

static void start_shim_with(const char *stdin_path, const char *stdout_path)
{
	char *argv[] = { shim_path, "-c", "container-1", "-t", TOKEN, "-u", uri, NULL };
	cleanup_error kata_error_t err = NULL;

	ck_assert_msg(fake_proxy_spawn(fp, argv, stdin_path, stdout_path, &client, &err) == 0, "%s",
	              err ? err->message : "");
}

static void start_shim(void)
{
	start_shim_with(NULL, NULL);
}

/* Accepts the shim and returns the index of its ConnectShim. */
static long expect_connect(void)
{
	long i;

	ck_assert_int_eq(fake_proxy_accept(fp, WAIT_MS), 0);
	i = fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_CONNECT_SHIM, 0, WAIT_MS);
	ck_assert_int_ge(i, 0);
	fake_proxy_queue_response(fp, PROXY_CMD_CONNECT_SHIM, NULL);
	return i;
}

static int wait_exit_code(void)
{
	int status = fake_client_wait(fp, &client, WAIT_MS * 2);

	ck_assert_msg(status != -1, "kata-shim did not exit");
	ck_assert_msg(WIFEXITED(status), "kata-shim died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static void assert_frame_bytes(size_t index, const void *expected, size_t len)
{
	const struct fake_proxy_frame *f = fake_proxy_frame_at(fp, index);
	cleanup_free uint8_t *bytes = NULL;
	size_t n;

	ck_assert_ptr_nonnull(f);
	bytes = fake_proxy_frame_bytes(f, &n);
	ck_assert_uint_eq(n, len);
	ck_assert_mem_eq(bytes, expected, len);
}

static void fill_pattern(char *buf, size_t len, unsigned seed)
{
	for (size_t i = 0; i < len; i++)
		buf[i] = (char)('a' + (i * 7 + seed) % 26);
}

/* The stdin bytes the shim sent, concatenated; *eof_index: its zero-length frame. */
static char *collected_stdin(size_t *len, long *eof_index)
{
	size_t total = 0, count = fake_proxy_frame_count(fp);
	char *data = xmalloc(1);

	*eof_index = -1;
	for (size_t i = 0; i < count; i++) {
		const struct fake_proxy_frame *f = fake_proxy_frame_at(fp, i);
		if (f->type != PROXY_TYPE_STREAM || f->opcode != PROXY_STREAM_STDIN)
			continue;
		if (f->length == 0) {
			*eof_index = (long)i;
			continue;
		}
		data = xrealloc(data, total + f->length + 1);
		memcpy(data + total, f->payload, f->length);
		total += f->length;
	}
	*len = total;
	return data;
}

START_TEST(test_connect_shim_first_with_exact_bytes)
{
	static const char expected[] = "\x00\x02\x03\x00\x00\x00\x00\x04\x00\x00\x00\x1c"
	                               "{\"token\":\"aGVsbG8gd29ybGQh\"}";
	long i;

	start_shim();
	i = expect_connect();
	ck_assert_int_eq(i, 0); /* the very first thing on the wire */
	assert_frame_bytes(0, expected, sizeof(expected) - 1);
	fake_proxy_queue_exit(fp, 0);
	ck_assert_int_eq(wait_exit_code(), 0);
}
END_TEST

START_TEST(test_streams_land_on_their_fds_in_order)
{
	const size_t out_len = 4u << 20, err_len = 1u << 20;
	cleanup_free char *out = xmalloc(out_len);
	cleanup_free char *errdata = xmalloc(err_len);

	fill_pattern(out, out_len, 1);
	fill_pattern(errdata, err_len, 5);
	start_shim();
	expect_connect();
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "hello\n", 6, 0);
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDERR, "oops\n", 5, 0);
	/* Interleaved: stdout and stderr each keep their own order. */
	for (size_t i = 0; i < 4; i++) {
		fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, out + i * (out_len / 4),
		                        out_len / 4, 65536);
		fake_proxy_queue_stream(fp, PROXY_STREAM_STDERR, errdata + i * (err_len / 4),
		                        err_len / 4, 4096);
	}
	fake_proxy_queue_exit(fp, 0);
	ck_assert_int_eq(wait_exit_code(), 0);
	ck_assert_uint_eq(client.out.len, 6 + out_len);
	ck_assert_mem_eq(client.out.data, "hello\n", 6);
	ck_assert_msg(memcmp(client.out.data + 6, out, out_len) == 0, "stdout differs");
	ck_assert_uint_eq(client.err.len, 5 + err_len);
	ck_assert_mem_eq(client.err.data, "oops\n", 5);
	ck_assert_msg(memcmp(client.err.data + 5, errdata, err_len) == 0, "stderr differs");
}
END_TEST

START_TEST(test_stdin_copied_then_eof_frame)
{
	static const uint8_t eof_frame[] = { 0, 2, 3, 0, 0, 0, 2, 0, 0, 0, 0, 0 };
	const size_t len = 3u << 20;
	cleanup_free char *data = xmalloc(len);
	cleanup_free char *got = NULL;
	size_t got_len;
	long eof_index;

	fill_pattern(data, len, 3);
	start_shim();
	expect_connect();
	ck_assert_int_eq(fake_client_write_stdin(fp, &client, data, len, WAIT_MS * 2), 0);
	fake_client_close_stdin(&client);
	ck_assert_int_ge(
	        fake_proxy_wait_frame(fp, PROXY_TYPE_STREAM, PROXY_STREAM_STDIN, 0, WAIT_MS), 0);
	/* Wait for the EOF frame: the last stdin frame, of length 0. */
	for (int tries = 0; tries < 250; tries++) {
		free(got);
		got = collected_stdin(&got_len, &eof_index);
		if (eof_index >= 0)
			break;
		fake_proxy_pump_for(fp, 20);
	}
	ck_assert_int_ge(eof_index, 0);
	ck_assert_uint_eq(got_len, len);
	ck_assert_msg(memcmp(got, data, len) == 0, "stdin differs");
	assert_frame_bytes((size_t)eof_index, eof_frame, sizeof(eof_frame));
	fake_proxy_queue_exit(fp, 0);
	ck_assert_int_eq(wait_exit_code(), 0);
}
END_TEST

START_TEST(test_stdin_dev_null_is_an_immediate_eof)
{
	cleanup_free char *got = NULL;
	size_t got_len = 1;
	long eof_index = -1;

	start_shim_with("/dev/null", NULL);
	expect_connect();
	for (int tries = 0; tries < 250 && eof_index < 0; tries++) {
		fake_proxy_pump_for(fp, 20);
		free(got);
		got = collected_stdin(&got_len, &eof_index);
	}
	ck_assert_int_ge(eof_index, 0);
	ck_assert_uint_eq(got_len, 0);
	fake_proxy_queue_exit(fp, 0);
	ck_assert_int_eq(wait_exit_code(), 0);
}
END_TEST

START_TEST(test_stdin_and_stdout_regular_files)
{
	cleanup_free char *in_path = test_file("stdin.txt");
	cleanup_free char *out_path = test_file("stdout.txt");
	cleanup_free char *data = xmalloc(FILE_SIZE);
	cleanup_free char *got = NULL;
	char *written;
	size_t got_len = 0;
	long eof_index = -1;
	FILE *f;

	fill_pattern(data, FILE_SIZE, 9);
	f = fopen(in_path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, FILE_SIZE, f), FILE_SIZE);
	fclose(f);

	start_shim_with(in_path, out_path);
	expect_connect();
	for (int tries = 0; tries < 250 && eof_index < 0; tries++) {
		fake_proxy_pump_for(fp, 20);
		free(got);
		got = collected_stdin(&got_len, &eof_index);
	}
	ck_assert_int_ge(eof_index, 0);
	ck_assert_uint_eq(got_len, FILE_SIZE);
	ck_assert_msg(memcmp(got, data, FILE_SIZE) == 0, "stdin from a file differs");

	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, data, FILE_SIZE, 0);
	fake_proxy_queue_exit(fp, 4);
	ck_assert_int_eq(wait_exit_code(), 4);
	f = fopen(out_path, "r");
	ck_assert_ptr_nonnull(f);
	written = xmalloc(FILE_SIZE + 1);
	ck_assert_uint_eq(fread(written, 1, FILE_SIZE + 1, f), FILE_SIZE);
	fclose(f);
	ck_assert_msg(memcmp(written, data, FILE_SIZE) == 0, "stdout to a file differs");
	free(written);
}
END_TEST

static const int exit_codes[] = { 0, 3, 137 };

START_TEST(test_exit_status_then_disconnect_shim)
{
	static const uint8_t disconnect[] = { 0, 2, 3, 0, 0, 0, 0, 5, 0, 0, 0, 0 };
	int code = exit_codes[_i];
	size_t count;

	start_shim();
	expect_connect();
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "last words\n", 11, 0);
	fake_proxy_queue_exit(fp, (uint8_t)code);
	ck_assert_int_eq(wait_exit_code(), code);
	/* Output received before ProcessExited was written before the exit. */
	ck_assert_uint_eq(client.out.len, 11);
	ck_assert_mem_eq(client.out.data, "last words\n", 11);
	/* DisconnectShim is the last frame, and the shim closed the connection. */
	count = fake_proxy_frame_count(fp);
	ck_assert_uint_ge(count, 2);
	assert_frame_bytes(count - 1, disconnect, sizeof(disconnect));
	fake_proxy_pump_for(fp, 50);
	ck_assert(fake_proxy_client_closed(fp));
}
END_TEST

START_TEST(test_connect_shim_refused_exits_1_with_message)
{
	start_shim();
	ck_assert_int_eq(fake_proxy_accept(fp, WAIT_MS), 0);
	ck_assert_int_ge(
	        fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_CONNECT_SHIM, 0, WAIT_MS),
	        0);
	fake_proxy_queue_response(fp, PROXY_CMD_CONNECT_SHIM, "{\"msg\":\"unknown token\"}");
	ck_assert_int_eq(wait_exit_code(), 1);
	ck_assert_ptr_nonnull(client.err.data);
	ck_assert_msg(strstr(client.err.data, "unknown token") != NULL, "stderr: %s",
	              client.err.data);
}
END_TEST

/* Sends signo to the shim and returns the signal number of the Signal frame it became. */
static int forwarded(int signo, size_t *from)
{
	const struct fake_proxy_frame *f;
	const char *p;
	long i;

	ck_assert_int_eq(kill(client.pid, signo), 0);
	i = fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_SIGNAL, *from, WAIT_MS);
	if (i < 0)
		return -1;
	*from = (size_t)i + 1;
	f = fake_proxy_frame_at(fp, (size_t)i);
	p = strstr(f->payload, "\"signalNumber\":");
	ck_assert_ptr_nonnull(p);
	return atoi(p + strlen("\"signalNumber\":"));
}

START_TEST(test_signals_forwarded)
{
	static const char sigterm[] = "\x00\x02\x03\x00\x00\x00\x00\x06\x00\x00\x00\x13"
	                              "{\"signalNumber\":15}";
	size_t from;
	long term;

	start_shim();
	from = (size_t)expect_connect() + 1;
	ck_assert_int_eq(forwarded(SIGTERM, &from), SIGTERM);
	term = (long)from - 1;
	assert_frame_bytes((size_t)term, sigterm, sizeof(sigterm) - 1);
	ck_assert_int_eq(forwarded(SIGUSR1, &from), SIGUSR1);
	ck_assert_int_eq(forwarded(SIGINT, &from), SIGINT);
	ck_assert_int_eq(forwarded(SIGHUP, &from), SIGHUP);
	ck_assert_int_eq(forwarded(SIGQUIT, &from), SIGQUIT);
	ck_assert_int_eq(forwarded(SIGTSTP, &from), SIGTSTP);
	ck_assert_int_eq(forwarded(SIGRTMIN + 2, &from), SIGRTMIN + 2);
	/* SIGCHLD and SIGPIPE are the shim's own business: the next frame is SIGUSR2's. */
	ck_assert_int_eq(kill(client.pid, SIGCHLD), 0);
	ck_assert_int_eq(kill(client.pid, SIGPIPE), 0);
	fake_proxy_pump_for(fp, 100);
	ck_assert_int_eq(forwarded(SIGUSR2, &from), SIGUSR2);
	/* Not a terminal: SIGWINCH sends nothing. */
	ck_assert_int_eq(kill(client.pid, SIGWINCH), 0);
	fake_proxy_pump_for(fp, 100);
	ck_assert_int_eq(fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_SIGNAL, from, 0),
	                 -1);
	/* The shim outlived all of them, and still exits with the process's status. */
	fake_proxy_queue_exit(fp, 143);
	ck_assert_int_eq(wait_exit_code(), 143);
}
END_TEST

START_TEST(test_stdout_reader_gone_is_not_fatal)
{
	start_shim();
	expect_connect();
	/* The reader of the shim's stdout goes away. */
	fake_proxy_remove_capture(fp, &client.out);
	close(client.out.fd);
	client.out.fd = -1;
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "lost\n", 5, 0);
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDERR, "kept\n", 5, 0);
	fake_proxy_queue_exit(fp, 5);
	ck_assert_int_eq(wait_exit_code(), 5);
	ck_assert_uint_eq(client.err.len, 5);
	ck_assert_mem_eq(client.err.data, "kept\n", 5);
}
END_TEST

static int run_shim_args(char *const argv[])
{
	cleanup_error kata_error_t err = NULL;

	ck_assert_msg(fake_proxy_spawn(fp, argv, "/dev/null", NULL, &client, &err) == 0, "%s",
	              err ? err->message : "");
	return wait_exit_code();
}

START_TEST(test_command_line)
{
	char *bad_token[] = { shim_path, "-c", "c", "-t", "abc", "-u", uri, NULL };
	char *bad_token_chars[] = { shim_path, "-c", "c", "-t", "ab+/", "-u", uri, NULL };
	char *no_uri[] = { shim_path, "-c", "c", "-t", TOKEN, NULL };
	char *bad_uri[] = { shim_path, "-c", "c", "-t", TOKEN, "-u", "tcp://1.2.3.4:5", NULL };
	char *unknown[] = { shim_path, "--frobnicate", NULL };
	char *help[] = { shim_path, "--help", NULL };
	char *long_forms[] = {
		shim_path, "--container", "c", "--token", TOKEN, "--uri", uri, NULL
	};

	ck_assert_int_eq(run_shim_args(bad_token), 1);
	ck_assert_ptr_nonnull(strstr(client.err.data, "base64"));
	fake_client_release(fp, &client);
	ck_assert_int_eq(run_shim_args(bad_token_chars), 1);
	fake_client_release(fp, &client);
	ck_assert_int_eq(run_shim_args(no_uri), 1);
	ck_assert_ptr_nonnull(strstr(client.err.data, "--uri"));
	fake_client_release(fp, &client);
	ck_assert_int_eq(run_shim_args(bad_uri), 1);
	fake_client_release(fp, &client);
	ck_assert_int_eq(run_shim_args(unknown), 1);
	fake_client_release(fp, &client);
	ck_assert_int_eq(run_shim_args(help), 0);
	ck_assert_ptr_nonnull(strstr(client.out.data, "--token"));
	fake_client_release(fp, &client);

	/* The long forms work as the short ones do. */
	ck_assert_msg(fake_proxy_spawn(fp, long_forms, "/dev/null", NULL, &client, NULL) == 0,
	              "spawn");
	expect_connect();
	fake_proxy_queue_exit(fp, 9);
	ck_assert_int_eq(wait_exit_code(), 9);
}
END_TEST

static Suite *shim_suite(void)
{
	Suite *s = suite_create("kata-shim");
	TCase *tc = tcase_create("process");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_connect_shim_first_with_exact_bytes);
	tcase_add_test(tc, test_streams_land_on_their_fds_in_order);
	tcase_add_test(tc, test_stdin_copied_then_eof_frame);
	tcase_add_test(tc, test_stdin_dev_null_is_an_immediate_eof);
	tcase_add_test(tc, test_stdin_and_stdout_regular_files);
	tcase_add_loop_test(tc, test_exit_status_then_disconnect_shim, 0,
	                    sizeof(exit_codes) / sizeof(exit_codes[0]));
	tcase_add_test(tc, test_connect_shim_refused_exits_1_with_message);
	tcase_add_test(tc, test_signals_forwarded);
	tcase_add_test(tc, test_stdout_reader_gone_is_not_fatal);
	tcase_add_test(tc, test_command_line);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = shim_suite,
	.test_dir = "kata-shim-test",
};
