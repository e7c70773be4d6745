/* kata-proxy under load: several MiB through several processes at once, a stalled shim
 * that must not stall another, stdin volume, and the no-credit dialect's bound. */
#include "check_main.h"
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "tests/fakes/proxy_harness.h"

#define WAIT_MS 60000

static struct proxy_harness h;
static struct proxy_io_tokens io;

static void exec_steps(const char *token, const char *id, const char *const *steps)
{
	cleanup_error kata_error_t err = NULL;
	json_object *data = json_object_new_object();
	json_object *process = json_object_new_object();
	json_object *args = json_object_new_array();

	for (size_t i = 0; steps[i] != NULL; i++)
		json_object_array_add(args, json_object_new_string(steps[i]));
	json_object_object_add(data, "container", json_object_new_string("c1"));
	json_object_object_add(process, "id", json_object_new_string(id));
	json_object_object_add(process, "args", args);
	json_object_object_add(data, "process", process);
	json_object_put(proxy_hyper(h.conn, "execcmd", &token, 1, data, &err));
	ck_assert_msg(err == NULL, "execcmd: %s", err ? err->message : "");
	json_object_put(data);
}

static void check_pattern(const unsigned char *p, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (p[i] != 'a' + i % 26)
			ck_abort_msg("byte %zu is %d, not %d", i, p[i], 'a' + (int)(i % 26));
}

/* Pumps every shim until all have exited. */
static void pump_all(struct test_shim *shims, size_t n, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	bool done = false;

	while (!done && now_ms() < deadline) {
		done = true;
		for (size_t i = 0; i < n; i++) {
			if (shims[i].exit_code >= 0 || shims[i].closed)
				continue;
			done = false;
			shim_pump(&shims[i], 5);
		}
	}
}

START_TEST(test_several_processes_at_once)
{
	enum { N = 3 };
	static const char *const steps_out[] = { "bulk:3145728", "exit:0", NULL };
	static const char *const steps_err[] = { "bulkerr:2097152", "exit:1", NULL };
	struct fake_agent_config cfg = { 0 };
	struct test_shim shims[N];
	char id[16];

	ck_assert_int_eq(harness_start(&h, &cfg, NULL), 0);
	ck_assert_int_eq(harness_register(&h, N, &io), 0);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(shim_connect(&shims[i], h.socket_path, io.tokens[i]), 0);
		snprintf(id, sizeof(id), "p%d", i);
		exec_steps(io.tokens[i], id, i == 1 ? steps_err : steps_out);
	}
	pump_all(shims, N, WAIT_MS);
	for (int i = 0; i < N; i++) {
		if (i == 1) {
			ck_assert_int_eq(shims[i].exit_code, 1);
			ck_assert_uint_eq(shims[i].err_len, 2097152);
			check_pattern(shims[i].err, shims[i].err_len);
		} else {
			ck_assert_int_eq(shims[i].exit_code, 0);
			ck_assert_uint_eq(shims[i].out_len, 3145728);
			check_pattern(shims[i].out, shims[i].out_len);
		}
		shim_close(&shims[i]);
	}
	/* every byte beyond the first window was paid for with credits */
	ck_assert_uint_ge(fake_agent_credits(h.agent, 1), 3145728 - AGENT_IO_INITIAL_WINDOW);
	ck_assert_uint_ge(fake_agent_credits(h.agent, 4), 2097152 - AGENT_IO_INITIAL_WINDOW);
	proxy_io_tokens_clear(&io);
	harness_stop(&h);
}
END_TEST

START_TEST(test_stalled_shim_does_not_block_another)
{
	static const char *const steps[] = { "bulk:4194304", "exit:0", NULL };
	struct fake_agent_config cfg = { 0 };
	struct test_shim stalled, reader;
	int64_t t0;

	ck_assert_int_eq(harness_start(&h, &cfg, NULL), 0);
	ck_assert_int_eq(harness_register(&h, 2, &io), 0);
	ck_assert_int_eq(shim_connect(&stalled, h.socket_path, io.tokens[0]), 0);
	ck_assert_int_eq(shim_connect(&reader, h.socket_path, io.tokens[1]), 0);
	exec_steps(io.tokens[0], "slow", steps);
	exec_steps(io.tokens[1], "fast", steps);
	/* `stalled` never reads; `reader` still gets everything */
	t0 = now_ms();
	ck_assert_int_eq(shim_wait_exit(&reader, WAIT_MS), 0);
	ck_assert_uint_eq(reader.out_len, 4194304);
	check_pattern(reader.out, reader.out_len);
	ck_assert_int_lt(now_ms() - t0, WAIT_MS);
	/* the stalled process is held back by its window, not buffered without end */
	ck_assert_int_eq(fake_agent_wait_process_end(h.agent, "slow", 300), -1);
	ck_assert_uint_lt(fake_agent_credits(h.agent, 1), 4194304 - AGENT_IO_INITIAL_WINDOW);
	/* once it reads, it gets every byte too */
	ck_assert_int_eq(shim_wait_exit(&stalled, WAIT_MS), 0);
	ck_assert_uint_eq(stalled.out_len, 4194304);
	check_pattern(stalled.out, stalled.out_len);
	shim_close(&stalled);
	shim_close(&reader);
	proxy_io_tokens_clear(&io);
	harness_stop(&h);
}
END_TEST

START_TEST(test_stdin_volume)
{
	static const char *const steps[] = { "cat", "exit:0", NULL };
	struct fake_agent_config cfg = { 0 };
	struct test_shim shim;
	const size_t total = 2u << 20;
	cleanup_free unsigned char *data = xmalloc(total);
	size_t sent = 0;

	for (size_t i = 0; i < total; i++)
		data[i] = 'a' + i % 26;
	ck_assert_int_eq(harness_start(&h, &cfg, NULL), 0);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_steps(io.tokens[0], "p1", steps);
	/* write and read at once: the echo comes back while we still send */
	while (sent < total) {
		size_t n = total - sent < 100000 ? total - sent : 100000;
		ck_assert_int_eq(shim_send(&shim, 2, 0, data + sent, n), 0);
		sent += n;
		shim_pump(&shim, 1);
	}
	ck_assert_int_eq(shim_send(&shim, 2, 0, NULL, 0), 0);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 0);
	ck_assert_uint_eq(shim.out_len, total);
	check_pattern(shim.out, shim.out_len);
	shim_close(&shim);
	proxy_io_tokens_clear(&io);
	harness_stop(&h);
}
END_TEST

START_TEST(test_no_credit_dialect_is_bounded)
{
	static const char *const extra[] = { "-dialect", "hyperstart", NULL };
	static const char *const steps[] = { "/dev/.kata-hyperstart/kata-hyperstart-wait",
		                             "--status=/dev/.kata-status/p1",
		                             "--",
		                             "bulk:8388608",
		                             "exit:0",
		                             NULL };
	struct fake_agent_config cfg = { .dialect = FAKE_AGENT_HYPERSTART };
	struct test_shim shim;

	ck_assert_int_eq(harness_start(&h, &cfg, extra), 0);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	exec_steps(io.tokens[0], "p1", steps);
	/* no shim: the proxy stops reading after its bound, so the agent cannot finish */
	ck_assert_int_eq(fake_agent_wait_process_end(h.agent, "p1", 1000), -1);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 0);
	ck_assert_uint_eq(shim.out_len, 8388608);
	check_pattern(shim.out, shim.out_len);
	shim_close(&shim);
	proxy_io_tokens_clear(&io);
	harness_stop(&h);
}
END_TEST

/* The agent reads its I/O channel slowly: the proxy stops reading the shim while too much
 * stdin waits for the agent, and must read it again once that drained. */
START_TEST(test_stdin_paused_and_resumed)
{
	static const char *const steps[] = { "stdin", "exit:0", NULL };
	struct fake_agent_config cfg = { .io_read_pause_ms = 2 };
	struct test_shim shim;
	const size_t total = 6u << 20;
	cleanup_free unsigned char *data = xmalloc(total);
	cleanup_free unsigned char *got = xmalloc(total);
	bool eof = false;

	for (size_t i = 0; i < total; i++)
		data[i] = 'a' + i % 26;
	ck_assert_int_eq(harness_start(&h, &cfg, NULL), 0);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_steps(io.tokens[0], "p1", steps);
	/* a sender thread would be fairer; the socket buffers and the proxy's reads suffice */
	pid_t writer = fork();
	if (writer == 0) {
		for (size_t sent = 0; sent < total; sent += 65536)
			if (shim_send(&shim, 2, 0, data + sent, 65536) < 0)
				_exit(1);
		_exit(shim_send(&shim, 2, 0, NULL, 0) < 0);
	}
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 0);
	waitpid(writer, NULL, 0);
	ck_assert_int_eq(fake_agent_stdin(h.agent, "p1", got, total, &eof), (ssize_t)total);
	ck_assert(eof);
	check_pattern(got, total);
	shim_close(&shim);
	proxy_io_tokens_clear(&io);
	harness_stop(&h);
}
END_TEST

static Suite *proxy_io_suite(void)
{
	Suite *s = suite_create("proxy-io");
	TCase *tc = tcase_create("volume");

	tcase_set_timeout(tc, 120);
	tcase_add_test(tc, test_several_processes_at_once);
	tcase_add_test(tc, test_stalled_shim_does_not_block_another);
	tcase_add_test(tc, test_stdin_volume);
	tcase_add_test(tc, test_stdin_paused_and_resumed);
	tcase_add_test(tc, test_no_credit_dialect_is_bounded);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = proxy_io_suite,
	.test_dir = "kata-test-proxy-io", /* the harness's directories (proxy_harness.h) */
};
