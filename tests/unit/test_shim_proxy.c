/* kata-shim when the proxy misbehaves: it goes away (reconnection, then a clear error
 * exit), it sends hostile frames, or the shim's own reader is slow (back-pressure); and the
 * OOM notification, published to a fake `containerd` as containerd's TaskOOM. */
#include "tests/fakes/fake_proxy.h"
#include "cleanup.h"
#include "fd_util.h"
#include "shim/oom_event.h"

#include "check_main.h"
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define TOKEN   "aGVsbG8gd29ybGQh"
#define WAIT_MS 5000

static char test_dir[64];
static char shim_path[PATH_MAX];
static char uri[128];
static struct fake_proxy *fp;
static struct fake_client client;

/* The fake containerd's tree: test_dir/bin/containerd, what it was given, and the bundle
 * directory the shim starts in. */
#define OOM_BUNDLE "state/io.containerd.runtime.v2.task/ns1/pod-1"
static const char *const oom_tree[] = { "bin/containerd",
	                                "bin",
	                                "publish.args",
	                                "publish.stdin",
	                                "state/io.containerd.runtime.v2.task/ns1/pod-1",
	                                "state/io.containerd.runtime.v2.task/ns1",
	                                "state/io.containerd.runtime.v2.task",
	                                "state" };

static void remove_oom_tree(void)
{
	for (size_t i = 0; i < sizeof(oom_tree) / sizeof(oom_tree[0]); i++) {
		cleanup_free char *path = xasprintf("%s/%s", test_dir, oom_tree[i]);

		if (unlink(path) < 0)
			rmdir(path);
	}
}

static void cleanup_all(void)
{
	if (test_dir[0] != '\0')
		remove_oom_tree();
	fake_client_release(fp, &client);
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

static void start_shim(void)
{
	char *argv[] = { shim_path, "-c", "container-1", "-t", TOKEN, "-u", uri, NULL };
	cleanup_error kata_error_t err = NULL;

	ck_assert_msg(fake_proxy_spawn(fp, argv, NULL, NULL, &client, &err) == 0, "%s",
	              err ? err->message : "");
}

/* Accepts a connection and returns the index of its ConnectShim, which must be its
 * first frame. */
static long expect_connect(void)
{
	unsigned connection;
	long i;

	ck_assert_int_eq(fake_proxy_accept(fp, WAIT_MS), 0);
	connection = fake_proxy_connection_count(fp);
	i = fake_proxy_wait_frame(fp, -1, -1, fake_proxy_frame_count(fp), WAIT_MS);
	ck_assert_int_ge(i, 0);
	ck_assert_uint_eq(fake_proxy_frame_at(fp, (size_t)i)->connection, connection);
	ck_assert_uint_eq(fake_proxy_frame_at(fp, (size_t)i)->type, PROXY_TYPE_COMMAND);
	ck_assert_uint_eq(fake_proxy_frame_at(fp, (size_t)i)->opcode, PROXY_CMD_CONNECT_SHIM);
	ck_assert_str_eq(fake_proxy_frame_at(fp, (size_t)i)->payload, "{\"token\":\"" TOKEN "\"}");
	fake_proxy_queue_response(fp, PROXY_CMD_CONNECT_SHIM, NULL);
	return i;
}

static int wait_exit(int timeout_ms)
{
	int status = fake_client_wait(fp, &client, timeout_ms);

	ck_assert_msg(status != -1, "kata-shim did not exit");
	ck_assert_msg(WIFEXITED(status), "kata-shim died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

static bool all_sent(struct fake_proxy *p, void *data)
{
	return fake_proxy_unsent(p) == 0;
}

static bool stdout_has(struct fake_proxy *p, void *data)
{
	return client.out.data != NULL && strstr(client.out.data, data) != NULL;
}

START_TEST(test_reconnects_then_gives_up_with_255)
{
	int64_t start;
	long i;

	start_shim();
	expect_connect();
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "one|", 4, 0);
	ck_assert(fake_proxy_pump_until(fp, WAIT_MS, stdout_has, "one|"));

	/* The proxy goes away and comes back: the shim connects again, ConnectShim first. */
	fake_proxy_disconnect(fp);
	fake_proxy_pump_for(fp, 30);
	/* A signal while away is kept for the next connection. */
	ck_assert_int_eq(kill(client.pid, SIGUSR1), 0);
	i = expect_connect();
	ck_assert_uint_eq(fake_proxy_connection_count(fp), 2);
	i = fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_SIGNAL, (size_t)i, WAIT_MS);
	ck_assert_int_ge(i, 0);
	ck_assert_str_eq(fake_proxy_frame_at(fp, (size_t)i)->payload, "{\"signalNumber\":10}");
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "two|", 4, 0);
	ck_assert(fake_proxy_pump_until(fp, WAIT_MS, stdout_has, "one|two|"));

	/* Now it is gone for good: attempts for about 3 s, then exit 255 with a reason. */
	fake_proxy_stop_listening(fp);
	start = now_ms();
	fake_proxy_disconnect(fp);
	ck_assert_int_eq(wait_exit(15000), 255);
	ck_assert_int_ge(now_ms() - start, 2900);
	ck_assert_int_le(now_ms() - start, 15000); /* bounded, with room for a loaded machine */
	ck_assert_ptr_nonnull(client.err.data);
	ck_assert_msg(strstr(client.err.data, "could not reconnect") != NULL, "stderr: %s",
	              client.err.data);
}
END_TEST

START_TEST(test_no_proxy_at_start_exits_255)
{
	int64_t start = now_ms();

	fake_proxy_stop_listening(fp);
	start_shim();
	ck_assert_int_eq(wait_exit(10000), 255);
	ck_assert_int_ge(now_ms() - start, 2900);
	ck_assert_ptr_nonnull(client.err.data);
	ck_assert_msg(strstr(client.err.data, "could not connect to the proxy") != NULL,
	              "stderr: %s", client.err.data);
}
END_TEST

START_TEST(test_proxy_late_at_start_is_waited_for)
{
	cleanup_free char *sock = xasprintf("%s/proxy.sock", test_dir);
	cleanup_error kata_error_t err = NULL;

	fake_proxy_stop_listening(fp);
	start_shim();
	usleep(500 * 1000);
	fake_proxy_free(fp);
	fp = fake_proxy_new(sock, &err);
	ck_assert_ptr_nonnull(fp);
	fake_proxy_add_capture(fp, &client.out);
	fake_proxy_add_capture(fp, &client.err);
	expect_connect();
	fake_proxy_queue_exit(fp, 2);
	ck_assert_int_eq(wait_exit(WAIT_MS), 2);
}
END_TEST

static void queue_with_header_words(uint8_t words, uint8_t type, uint8_t opcode,
                                    const char *payload)
{
	static const uint8_t zeros[64];
	uint32_t len = (uint32_t)strlen(payload);

	fake_proxy_queue_frame_ext(fp, PROXY_PROTO_VERSION, words, 0, type, opcode, NULL, len);
	if (words > PROXY_HEADER_WORDS)
		fake_proxy_queue_raw(fp, zeros, (words - PROXY_HEADER_WORDS) * 4u);
	fake_proxy_queue_raw(fp, payload, len);
}

START_TEST(test_hostile_frames_never_crash_or_hang)
{
	const size_t big = PROXY_MAX_PAYLOAD + 4096;
	cleanup_free char *junk = xmalloc(big);
	uint8_t garbage[4096];
	unsigned seed = 12345;

	memset(junk, 'X', big);
	for (size_t k = 0; k < sizeof(garbage); k++) {
		seed = seed * 1103515245u + 12345u;
		garbage[k] = (uint8_t)(seed >> 16);
	}
	start_shim();
	expect_connect();
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "A|", 2, 0);
	/* Another version: dropped whole. */
	fake_proxy_queue_frame_ext(fp, 1, 3, 0, PROXY_TYPE_STREAM, PROXY_STREAM_STDOUT, "BAD1", 4);
	fake_proxy_queue_frame_ext(fp, 0xffff, 3, 0, PROXY_TYPE_STREAM, PROXY_STREAM_STDOUT, "BAD2",
	                           4);
	/* A header length below 3 words: dropped. */
	queue_with_header_words(1, PROXY_TYPE_STREAM, PROXY_STREAM_STDOUT, "BAD3");
	queue_with_header_words(0, PROXY_TYPE_STREAM, PROXY_STREAM_STDOUT, "BAD4");
	/* A longer header than ours: its extra words are skipped. */
	queue_with_header_words(5, PROXY_TYPE_STREAM, PROXY_STREAM_STDOUT, "B|");
	/* Over the payload limit: skipped as it arrives, never stored. */
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_STREAM, PROXY_STREAM_STDOUT, junk, (uint32_t)big);
	/* Frames that mean nothing to a shim, or lack what they need. */
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_NOTIFICATION, PROXY_NOTIFY_PROCESS_EXITED, NULL,
	                       0);
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_NOTIFICATION, 9, "\x07", 1);
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_COMMAND, PROXY_CMD_REGISTER_VM, "{}", 2);
	fake_proxy_queue_frame(fp, 0, 15, 200, "??", 2);
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_STREAM, PROXY_STREAM_STDIN, "in?", 3);
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_STREAM, PROXY_STREAM_LOG, "log", 3);
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_STREAM, 77, "odd", 3);
	fake_proxy_queue_response(fp, PROXY_CMD_SIGNAL, "{\"msg\":\"\x1b[2Jno\"}");
	fake_proxy_queue_response(fp, PROXY_CMD_SIGNAL, "not json at all");
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "C|", 2, 0);
	ck_assert(fake_proxy_pump_until(fp, WAIT_MS, stdout_has, "C|"));
	ck_assert_str_eq(client.out.data, "A|B|C|");

	/* A truncated header, then the connection ends: the shim starts afresh. */
	fake_proxy_queue_raw(fp, "\x00\x02\x03\x00\x00", 5);
	ck_assert(fake_proxy_pump_until(fp, WAIT_MS, all_sent, NULL));
	fake_proxy_disconnect(fp);
	expect_connect();

	/* Garbage: whatever it claims to be, it ends with the connection. */
	fake_proxy_queue_raw(fp, garbage, sizeof(garbage));
	ck_assert(fake_proxy_pump_until(fp, WAIT_MS, all_sent, NULL));
	fake_proxy_pump_for(fp, 50);
	fake_proxy_disconnect(fp);
	expect_connect();

	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "D|", 2, 0);
	fake_proxy_queue_exit(fp, 7);
	ck_assert_int_eq(wait_exit(WAIT_MS), 7);
	ck_assert_str_eq(client.out.data, "A|B|C|D|");
}
END_TEST

static long vm_rss_kib(pid_t pid)
{
	char path[64], line[256];
	long kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

START_TEST(test_slow_reader_back_pressure)
{
	const size_t len = 32u << 20;
	cleanup_free char *data = xmalloc(len);
	long rss;

	for (size_t k = 0; k < len; k++)
		data[k] = (char)(k * 13 + k / 4096);
	start_shim();
	expect_connect();
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, data, len, 65536);
	fake_proxy_queue_exit(fp, 0);

	/* Nobody reads the shim's stdout: it must stop reading the proxy, not buffer. */
	client.out.paused = true;
	fake_proxy_pump_for(fp, 1500);
	rss = vm_rss_kib(client.pid);
	fprintf(stderr,
	        "slow reader: %zu of %zu bytes still unsent by the proxy, shim VmRSS %ld KiB\n",
	        fake_proxy_unsent(fp), len + 13, rss);
	ck_assert_uint_ge(fake_proxy_unsent(fp), len - (8u << 20));
	ck_assert_int_gt(rss, 0);
	ck_assert_int_lt(rss, 16 * 1024);
	ck_assert_int_eq(kill(client.pid, 0), 0); /* still waiting, not exited */

	/* A throttled reader: 32 KiB a round. Every byte arrives, in order, then the exit. */
	client.out.paused = false;
	client.out.max_per_round = 32768;
	ck_assert_int_eq(wait_exit(80000), 0);
	ck_assert_uint_eq(client.out.len, len);
	ck_assert_msg(memcmp(client.out.data, data, len) == 0, "stdout differs");
}
END_TEST

START_TEST(test_sigkill_sends_no_disconnect)
{
	start_shim();
	expect_connect();
	ck_assert_int_eq(kill(client.pid, SIGKILL), 0);
	fake_client_wait(fp, &client, WAIT_MS);
	fake_proxy_pump_for(fp, 50);
	ck_assert(fake_proxy_client_closed(fp));
	ck_assert_int_eq(
	        fake_proxy_wait_frame(fp, PROXY_TYPE_COMMAND, PROXY_CMD_DISCONNECT_SHIM, 0, 0), -1);
}
END_TEST

/* A fake containerd that keeps its arguments and stdin and exits with exit_status. */
static void make_fake_containerd(int exit_status)
{
	cleanup_free char *bin = xasprintf("%s/bin", test_dir);
	cleanup_free char *script = xasprintf("%s/bin/containerd", test_dir);
	cleanup_free char *bundle = xasprintf("%s/" OOM_BUNDLE, test_dir);
	cleanup_free char *text = xasprintf("#!/bin/sh\nprintf '%%s\\n' \"$@\" >%s/publish.args\n"
	                                    "cat >%s/publish.stdin\nexit %d\n",
	                                    test_dir, test_dir, exit_status);
	cleanup_free char *mkdir_cmd = xasprintf("mkdir -p '%s'", bundle);
	FILE *f;

	ck_assert_int_eq(mkdir(bin, 0700), 0);
	ck_assert_int_eq(system(mkdir_cmd), 0);
	f = fopen(script, "w");
	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	ck_assert_int_eq(chmod(script, 0700), 0);
}

/* Starts the shim in the bundle directory with the environment containerd gives (or not),
 * then puts the test's own back. */
static void start_shim_under_containerd(bool with_ttrpc_address)
{
	cleanup_free char *bundle = xasprintf("%s/" OOM_BUNDLE, test_dir);
	cleanup_free char *ttrpc = xasprintf("%s/containerd.sock.ttrpc", test_dir);
	cleanup_free char *old_path = xstrdup(getenv("PATH") ?: "/usr/bin:/bin");
	cleanup_free char *path = xasprintf("%s/bin:%s", test_dir, old_path);
	cleanup_free char *cwd = getcwd(NULL, 0);

	ck_assert_ptr_nonnull(cwd);
	ck_assert_int_eq(chdir(bundle), 0);
	setenv("PATH", path, 1);
	unsetenv("GRPC_ADDRESS");
	unsetenv("NAMESPACE");
	if (with_ttrpc_address)
		setenv("TTRPC_ADDRESS", ttrpc, 1);
	else
		unsetenv("TTRPC_ADDRESS");
	start_shim();
	setenv("PATH", old_path, 1);
	unsetenv("TTRPC_ADDRESS");
	ck_assert_int_eq(chdir(cwd), 0);
}

/* The file's bytes, NUL-terminated, or NULL when it is not there. */
static char *read_test_file(const char *name, size_t *len)
{
	cleanup_free char *path = xasprintf("%s/%s", test_dir, name);
	cleanup_fclose FILE *f = fopen(path, "r");
	char *data = xmalloc(4097);

	if (f == NULL) {
		free(data);
		return NULL;
	}
	*len = fread(data, 1, 4096, f);
	data[*len] = '\0';
	return data;
}

START_TEST(test_oom_killed_publishes_task_oom)
{
	uint8_t expected[SHIM_OOM_MAX_ID + 64];
	size_t expected_len = shim_oom_event_encode("container-1", expected, sizeof(expected));
	cleanup_free char *want_args = xasprintf("--address\n%s/containerd.sock\npublish\n--topic\n"
	                                         "/tasks/oom\n--namespace\nns1\n",
	                                         test_dir);
	cleanup_free char *args = NULL, *event = NULL;
	size_t len = 0;

	make_fake_containerd(0);
	start_shim_under_containerd(true);
	expect_connect();
	fake_proxy_queue_stream(fp, PROXY_STREAM_STDOUT, "out|", 4, 0);
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_NOTIFICATION, PROXY_NOTIFY_PROCESS_OOM_KILLED,
	                       NULL, 0);
	fake_proxy_queue_exit(fp, 137);
	ck_assert_int_eq(wait_exit(WAIT_MS), 137);
	ck_assert_str_eq(client.out.data, "out|");
	/* published before the shim exited, to the gRPC address next to the ttrpc one */
	args = read_test_file("publish.args", &len);
	ck_assert_ptr_nonnull(args);
	ck_assert_str_eq(args, want_args);
	event = read_test_file("publish.stdin", &len);
	ck_assert_ptr_nonnull(event);
	ck_assert_uint_eq(len, expected_len);
	ck_assert_mem_eq(event, expected, expected_len);
}
END_TEST

START_TEST(test_no_oom_or_no_containerd_publishes_nothing)
{
	cleanup_free char *args_path = xasprintf("%s/publish.args", test_dir);

	make_fake_containerd(0);
	/* a plain 137 (a SIGKILL from the host) is no OOM */
	start_shim_under_containerd(true);
	expect_connect();
	fake_proxy_queue_exit(fp, 137);
	ck_assert_int_eq(wait_exit(WAIT_MS), 137);
	ck_assert_int_eq(access(args_path, F_OK), -1);
	fake_client_release(fp, &client);
	memset(&client, 0, sizeof(client));
	client.stdin_fd = client.out.fd = client.err.fd = -1;

	/* an OOM kill without containerd above (no TTRPC_ADDRESS): nothing to tell */
	start_shim_under_containerd(false);
	expect_connect();
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_NOTIFICATION, PROXY_NOTIFY_PROCESS_OOM_KILLED,
	                       NULL, 0);
	fake_proxy_queue_exit(fp, 137);
	ck_assert_int_eq(wait_exit(WAIT_MS), 137);
	ck_assert_int_eq(access(args_path, F_OK), -1);
}
END_TEST

START_TEST(test_failed_publish_keeps_exit_status)
{
	cleanup_free char *args_path = xasprintf("%s/publish.args", test_dir);

	make_fake_containerd(3);
	start_shim_under_containerd(true);
	expect_connect();
	fake_proxy_queue_frame(fp, 0, PROXY_TYPE_NOTIFICATION, PROXY_NOTIFY_PROCESS_OOM_KILLED,
	                       NULL, 0);
	fake_proxy_queue_exit(fp, 137);
	ck_assert_int_eq(wait_exit(WAIT_MS), 137);
	ck_assert_int_eq(access(args_path, F_OK), 0);
}
END_TEST

static Suite *shim_proxy_suite(void)
{
	Suite *s = suite_create("kata-shim and a difficult proxy");
	TCase *tc = tcase_create("proxy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_reconnects_then_gives_up_with_255);
	tcase_add_test(tc, test_no_proxy_at_start_exits_255);
	tcase_add_test(tc, test_proxy_late_at_start_is_waited_for);
	tcase_add_test(tc, test_hostile_frames_never_crash_or_hang);
	tcase_add_test(tc, test_slow_reader_back_pressure);
	tcase_add_test(tc, test_sigkill_sends_no_disconnect);
	tcase_add_test(tc, test_oom_killed_publishes_task_oom);
	tcase_add_test(tc, test_no_oom_or_no_containerd_publishes_nothing);
	tcase_add_test(tc, test_failed_publish_keeps_exit_status);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = shim_proxy_suite,
	.test_dir = "kata-shim-proxy",
};
