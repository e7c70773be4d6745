/* kata-proxy against hostile peers: malformed, oversized, truncated and wrong-version
 * frames from clients, and from the guest; and the wire bytes of WIRE-SAMPLES.md. */
#include "check_main.h"
#include <json-c/json.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "tests/fakes/proxy_harness.h"

#define WAIT_MS 10000

static struct proxy_harness h;
static struct proxy_io_tokens io;

static void start(enum fake_agent_dialect dialect, const char *const *extra, int tokens)
{
	struct fake_agent_config cfg = { .dialect = dialect };

	ck_assert_int_eq(harness_start(&h, &cfg, extra), 0);
	ck_assert_int_eq(harness_register(&h, tokens, &io), 0);
}

static void stop(void)
{
	proxy_io_tokens_clear(&io);
	harness_stop(&h);
}

/* The proxy still answers a command on the runtime's connection. */
static void assert_alive(void)
{
	cleanup_error kata_error_t err = NULL;

	json_object_put(proxy_hyper(h.conn, "ping", NULL, 0, NULL, &err));
	ck_assert_msg(err == NULL, "ping: %s", err ? err->message : "");
}

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

/* Reads whatever the proxy sends within timeout_ms. */
static size_t read_raw(int fd, unsigned char *buf, size_t cap, size_t want, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	size_t len = 0;

	while (len < want && now_ms() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		if (poll(&pfd, 1, 20) <= 0)
			continue;
		n = recv(fd, buf + len, cap - len, MSG_DONTWAIT);
		if (n <= 0)
			break;
		len += n;
	}
	return len;
}

START_TEST(test_client_garbage)
{
	struct test_shim s;
	static const unsigned char oversized[] = { 0, 2, 3, 0, 0, 0, 0, 3, 0x10, 0, 0, 1 };
	static const unsigned char short_header[] = { 0, 2, 1, 0, 0, 0, 0, 3, 0, 0, 0, 0 };
	static const unsigned char version3[] = { 0, 3, 3, 0, 0, 0, 0, 5, 0, 0, 0, 0 };
	static const char bad_json[] = "{\"hyperName\":";

	start(FAKE_AGENT_KATA, NULL, 1);

	/* a payload above the limit: error response, then the connection closes */
	ck_assert_int_eq(shim_connect(&s, h.socket_path, NULL), 0);
	ck_assert_int_eq(shim_send_raw(&s, oversized, sizeof(oversized)), 0);
	ck_assert(shim_wait_responses(&s, 1, WAIT_MS));
	ck_assert_int_eq(s.error_responses, 1);
	while (!s.closed)
		shim_pump(&s, 100);
	shim_close(&s);
	assert_alive();

	/* a header shorter than 3 words cannot be skipped either */
	ck_assert_int_eq(shim_connect(&s, h.socket_path, NULL), 0);
	ck_assert_int_eq(shim_send_raw(&s, short_header, sizeof(short_header)), 0);
	ck_assert(shim_wait_responses(&s, 1, WAIT_MS));
	ck_assert_int_eq(s.error_responses, 1);
	shim_close(&s);

	/* another version is dropped silently; what follows is still served */
	ck_assert_int_eq(shim_connect(&s, h.socket_path, NULL), 0);
	ck_assert_int_eq(shim_send_raw(&s, version3, sizeof(version3)), 0);
	ck_assert_int_eq(shim_send(&s, 0, 3, bad_json, strlen(bad_json)), 0);
	ck_assert(shim_wait_responses(&s, 1, WAIT_MS));
	ck_assert_int_eq(s.error_responses, 1);
	ck_assert_ptr_nonnull(strstr(s.last_error, "payload"));
	/* an unknown command, a JSON array, a stream before ConnectShim, an unknown type */
	ck_assert_int_eq(shim_send(&s, 0, 77, NULL, 0), 0);
	ck_assert_int_eq(shim_send(&s, 0, 0, "[1,2]", 5), 0);
	ck_assert_int_eq(shim_send(&s, 2, 0, "stdin", 5), 0);
	ck_assert_int_eq(shim_send(&s, 9, 0, NULL, 0), 0);
	ck_assert_int_eq(shim_send(&s, 0, 6, "{\"signalNumber\":9}", 18), 0);
	ck_assert(shim_wait_responses(&s, 4, WAIT_MS));
	ck_assert_int_eq(s.error_responses, 4);
	shim_close(&s);

	/* tokens that are not tokens */
	static const char *const bad_tokens[] = {
		"{\"token\":\"aGVsbG8gd29ybGQh\"}",
		"{\"token\":\"\"}",
		"{\"token\":42}",
		"{}",
	};
	for (size_t i = 0; i < 4; i++) {
		ck_assert_int_eq(shim_connect(&s, h.socket_path, NULL), 0);
		ck_assert_int_eq(shim_send(&s, 0, 4, bad_tokens[i], strlen(bad_tokens[i])), 0);
		ck_assert(shim_wait_responses(&s, 1, WAIT_MS));
		ck_assert_int_eq(s.error_responses, 1);
		shim_close(&s);
	}
	/* a second shim on a token already connected */
	struct test_shim first;
	ck_assert_int_eq(shim_connect(&first, h.socket_path, io.tokens[0]), 0);
	ck_assert(shim_wait_responses(&first, 1, WAIT_MS));
	ck_assert_int_eq(shim_connect(&s, h.socket_path, io.tokens[0]), 0);
	ck_assert(shim_wait_responses(&s, 1, WAIT_MS));
	ck_assert_int_eq(s.error_responses, 1);
	shim_close(&s);
	shim_close(&first);

	/* a runtime that goes away before the agent answers its command */
	static const char ping[] = "{\"hyperName\":\"ping\"}";
	for (int i = 0; i < 5; i++) {
		ck_assert_int_eq(shim_connect(&s, h.socket_path, NULL), 0);
		ck_assert_int_eq(shim_send(&s, 0, 3, ping, strlen(ping)), 0);
		shim_close(&s);
	}
	assert_alive();

	/* a truncated frame, then the peer goes away */
	ck_assert_int_eq(shim_connect(&s, h.socket_path, NULL), 0);
	ck_assert_int_eq(shim_send_raw(&s, oversized, 7), 0);
	shim_close(&s);
	assert_alive();
	stop();
}
END_TEST

START_TEST(test_hyper_misuse)
{
	cleanup_error kata_error_t err = NULL;
	const char *tok = NULL;
	json_object *data = json_tokener_parse("{\"container\":\"c1\",\"process\":{\"id\":\"p\"}}");
	const char *two[2];

	start(FAKE_AGENT_KATA, NULL, 2);
	two[0] = io.tokens[0];
	two[1] = io.tokens[1];
	tok = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";
	ck_assert_ptr_null(proxy_hyper(h.conn, "execcmd", &tok, 1, data, &err));
	ck_assert_ptr_nonnull(strstr(err->message, "unknown token"));
	kata_error_free(&err);
	ck_assert_ptr_null(proxy_hyper(h.conn, "execcmd", two, 2, data, &err));
	ck_assert_ptr_nonnull(err);
	kata_error_free(&err);
	/* a process without its object */
	json_object *bad = json_tokener_parse("{\"container\":\"c1\"}");
	ck_assert_ptr_null(proxy_hyper(h.conn, "execcmd", two, 1, bad, &err));
	ck_assert_ptr_nonnull(strstr(err->message, "process"));
	kata_error_free(&err);
	json_object_put(bad);
	/* a token is used once */
	json_object_put(proxy_hyper(h.conn, "execcmd", two, 1, data, &err));
	ck_assert_ptr_null(err);
	ck_assert_ptr_null(proxy_hyper(h.conn, "execcmd", two, 1, data, &err));
	ck_assert_ptr_nonnull(strstr(err->message, "already used"));
	kata_error_free(&err);
	/* but a command the agent refused leaves the token free */
	fake_agent_fail_next(h.agent, AGENT_EXECCMD, "no such container");
	ck_assert_ptr_null(proxy_hyper(h.conn, "execcmd", &two[1], 1, data, &err));
	kata_error_free(&err);
	json_object_put(proxy_hyper(h.conn, "execcmd", &two[1], 1, data, &err));
	ck_assert_ptr_null(err);
	json_object_put(data);
	stop();
}
END_TEST

START_TEST(test_agent_noise_is_survived)
{
	static const char *const steps[] = { "out:ok", "exit:0", NULL };
	unsigned char frame[64];
	struct test_shim shim;

	start(FAKE_AGENT_KATA, NULL, 1);
	/* an ACK nobody asked for, an unknown code, a malformed event, an event for nobody */
	put_be32(frame, AGENT_ACK);
	put_be32(frame + 4, 8);
	fake_agent_send_raw(h.agent, false, frame, 8);
	put_be32(frame, 77);
	put_be32(frame + 4, 10);
	memcpy(frame + 8, "xx", 2);
	fake_agent_send_raw(h.agent, false, frame, 10);
	put_be32(frame, AGENT_PROCESSASYNCEVENT);
	put_be32(frame + 4, 8 + 5);
	memcpy(frame + 8, "{\"a\":", 5);
	fake_agent_send_raw(h.agent, false, frame, 13);
	static const char ev[] = "{\"container\":\"x\",\"process\":\"y\",\"event\":\"finished\","
	                         "\"status\":1}";
	put_be32(frame, AGENT_PROCESSASYNCEVENT);
	put_be32(frame + 4, 8 + sizeof(ev) - 1);
	fake_agent_send_raw(h.agent, false, frame, 8);
	fake_agent_send_raw(h.agent, false, ev, sizeof(ev) - 1);
	/* I/O for an unknown stream, a credit frame from the guest */
	put_be64(frame, 999);
	put_be32(frame + 8, 12 + 3);
	memcpy(frame + 12, "abc", 3);
	fake_agent_send_raw(h.agent, true, frame, 15);
	put_be64(frame, 0);
	put_be32(frame + 8, 12 + 12);
	memset(frame + 12, 0xff, 12);
	fake_agent_send_raw(h.agent, true, frame, 24);
	usleep(100 * 1000);
	assert_alive();

	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_steps(io.tokens[0], "p1", steps);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 0);
	ck_assert_str_eq((char *)shim.out, "ok");
	shim_close(&shim);
	stop();
}
END_TEST

/* A frame length no parser can resynchronise after ends the VM, for this VM only. */
static void broken_framing(bool io_channel, uint32_t length)
{
	static const char *const steps[] = { "wait", NULL };
	unsigned char frame[12] = { 0 };
	struct test_shim shim;

	start(FAKE_AGENT_KATA, NULL, 1);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_steps(io.tokens[0], "p1", steps);
	if (io_channel) {
		put_be64(frame, 1);
		put_be32(frame + 8, length);
	} else {
		put_be32(frame, AGENT_ACK);
		put_be32(frame + 4, length);
	}
	fake_agent_send_raw(h.agent, io_channel, frame, io_channel ? 12 : 8);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 255);
	ck_assert_int_eq(harness_wait_exit(&h, WAIT_MS), 1);
	shim_close(&shim);
	stop();
}

START_TEST(test_agent_broken_ctl_length)
{
	broken_framing(false, 4);
}
END_TEST

START_TEST(test_agent_huge_ctl_length)
{
	broken_framing(false, 0xffffffffu);
}
END_TEST

START_TEST(test_agent_huge_io_length)
{
	broken_framing(true, AGENT_IO_MAX_FRAME + 1);
}
END_TEST

START_TEST(test_agent_ignoring_window_is_bounded)
{
	static const char *const steps[] = { "bulk:4194304", "exit:0", NULL };
	struct fake_agent_config cfg = { .ignore_credits = true };
	struct test_shim shim;

	ck_assert_int_eq(harness_start(&h, &cfg, NULL), 0);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	exec_steps(io.tokens[0], "p1", steps);
	ck_assert_int_ge(fake_agent_wait_process_end(h.agent, "p1", WAIT_MS), 0);
	/* what went beyond the window was dropped, not buffered: the shim gets one window,
	 * plus what was still in flight (fake agent queue, socket buffers) when it came */
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 0);
	ck_assert_uint_ge(shim.out_len, AGENT_IO_INITIAL_WINDOW);
	ck_assert_uint_le(shim.out_len, AGENT_IO_INITIAL_WINDOW + AGENT_IO_MAX_FRAME + (1u << 20));
	shim_close(&shim);
	assert_alive();
	stop();
}
END_TEST

/* A client that floods commands at an agent that does not answer: bounded, then refused. */
START_TEST(test_command_flood_is_bounded)
{
	static const char *const extra[] = { "-agent-timeout", "5", NULL };
	static const char ping[] = "{\"hyperName\":\"ping\"}";
	struct fake_agent_config cfg = { .no_reply = true };
	struct test_shim s;
	int64_t deadline;

	ck_assert_int_eq(harness_start(&h, &cfg, extra), 0);
	ck_assert_int_eq(harness_register(&h, 0, NULL), 0);
	ck_assert_int_eq(shim_connect(&s, h.socket_path, NULL), 0);
	for (int i = 0; i < 300; i++)
		ck_assert_int_eq(shim_send(&s, 0, 3, ping, strlen(ping)), 0);
	deadline = now_ms() + 3000;
	while (s.responses < 44 && now_ms() < deadline)
		shim_pump(&s, 20);
	/* 256 wait for the agent; the rest are refused at once */
	ck_assert_int_eq(s.responses, 44);
	ck_assert_int_eq(s.error_responses, 44);
	ck_assert_ptr_nonnull(strstr(s.last_error, "too many"));
	shim_close(&s);
	stop();
}
END_TEST

/* --- WIRE-SAMPLES.md ------------------------------------------------------------------------ */

START_TEST(test_wire_samples_cc_shim)
{
	static const char *const steps[] = { "out:hello\n", "exit:3", NULL };
	static const unsigned char connect_prefix[] = { 0x00, 0x02, 0x03, 0x00, 0x00, 0x00,
		                                        0x00, 0x04, 0x00, 0x00, 0x00, 0x38 };
	static const unsigned char ok_response[] = { 0x00, 0x02, 0x03, 0x00, 0x00, 0x00,
		                                     0x01, 0x04, 0x00, 0x00, 0x00, 0x00 };
	static const unsigned char hello[] = {
		0x00, 0x02, 0x03, 0x00, 0x00, 0x00, 0x02, 0x01, 0x00,
		0x00, 0x00, 0x06, 0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x0a
	};
	static const unsigned char exited[] = { 0x00, 0x02, 0x03, 0x00, 0x00, 0x00, 0x03,
		                                0x00, 0x00, 0x00, 0x00, 0x01, 0x03 };
	static const unsigned char sigterm[] = { 0x00, 0x02, 0x03, 0x00, 0x00, 0x00,
		                                 0x00, 0x06, 0x00, 0x00, 0x00, 0x13 };
	static const unsigned char stdin_eof[] = { 0x00, 0x02, 0x03, 0x00, 0x00, 0x00,
		                                   0x02, 0x00, 0x00, 0x00, 0x00, 0x00 };
	static const unsigned char disconnect[] = { 0x00, 0x02, 0x03, 0x00, 0x00, 0x00,
		                                    0x00, 0x05, 0x00, 0x00, 0x00, 0x00 };
	unsigned char buf[256], expect[64];
	struct test_shim shim;
	char payload[64];
	size_t n;

	start(FAKE_AGENT_KATA, NULL, 1);
	/* ConnectShim exactly as cc-shim writes it: 12-byte header + {"token":"..."} */
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, NULL), 0);
	snprintf(payload, sizeof(payload), "{\"token\":\"%s\"}", io.tokens[0]);
	ck_assert_uint_eq(strlen(payload), 0x38);
	ck_assert_int_eq(shim_send_raw(&shim, connect_prefix, 12), 0);
	ck_assert_int_eq(shim_send_raw(&shim, payload, strlen(payload)), 0);
	n = read_raw(shim.fd, buf, sizeof(buf), 12, WAIT_MS);
	ck_assert_uint_eq(n, 12);
	ck_assert(memcmp(buf, ok_response, 12) == 0);

	exec_steps(io.tokens[0], "p1", steps);
	n = read_raw(shim.fd, buf, sizeof(buf), sizeof(hello) + sizeof(exited), WAIT_MS);
	ck_assert_uint_eq(n, sizeof(hello) + sizeof(exited));
	ck_assert(memcmp(buf, hello, sizeof(hello)) == 0);
	ck_assert(memcmp(buf + sizeof(hello), exited, sizeof(exited)) == 0);

	/* after the exit: stdin EOF, a late signal, DisconnectShim, as cc-shim sends them */
	ck_assert_int_eq(shim_send_raw(&shim, stdin_eof, 12), 0);
	ck_assert_int_eq(shim_send_raw(&shim, sigterm, 12), 0);
	ck_assert_int_eq(shim_send_raw(&shim, "{\"signalNumber\":15}", 19), 0);
	ck_assert_int_eq(shim_send_raw(&shim, disconnect, 12), 0);
	n = read_raw(shim.fd, buf, sizeof(buf), 256, 500);
	/* an error response to the late Signal (the process is gone), then the plain one */
	ck_assert_uint_ge(n, 24);
	ck_assert_int_eq(buf[6], 0x11);
	ck_assert_int_eq(buf[7], 0x06);
	memcpy(expect, ok_response, 12);
	expect[7] = 0x05;
	ck_assert(memcmp(buf + n - 12, expect, 12) == 0);
	shim_close(&shim);
	stop();
}
END_TEST

START_TEST(test_wire_samples_hyperstart)
{
	static const char *const extra[] = { "-dialect", "hyperstart", NULL };
	static const char *const steps[] = { "/dev/.kata-hyperstart/kata-hyperstart-wait",
		                             "--status=/dev/.kata-status/p1",
		                             "--",
		                             "out:hello\n",
		                             "exit:3",
		                             NULL };
	struct test_shim shim;
	json_object *cmd, *process;

	start(FAKE_AGENT_HYPERSTART, extra, 1);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_steps(io.tokens[0], "p1", steps);
	cmd = fake_agent_wait_command(h.agent, AGENT_EXECCMD, WAIT_MS);
	process = json_object_object_get(cmd, "process");
	/* the sample's numbering: the first process gets stdio 1 and stderr 2 */
	ck_assert_int_eq(json_object_get_int(json_object_object_get(process, "stdio")), 1);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(process, "stderr")), 2);
	json_object_put(cmd);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 3);
	ck_assert_str_eq((char *)shim.out, "hello\n");
	shim_close(&shim);
	stop();
}
END_TEST

static Suite *proxy_hostile_suite(void)
{
	Suite *s = suite_create("proxy-hostile");
	TCase *tc = tcase_create("hostile");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_client_garbage);
	tcase_add_test(tc, test_hyper_misuse);
	tcase_add_test(tc, test_agent_noise_is_survived);
	tcase_add_test(tc, test_agent_broken_ctl_length);
	tcase_add_test(tc, test_agent_huge_ctl_length);
	tcase_add_test(tc, test_agent_huge_io_length);
	tcase_add_test(tc, test_agent_ignoring_window_is_bounded);
	tcase_add_test(tc, test_command_flood_is_bounded);
	tcase_add_test(tc, test_wire_samples_cc_shim);
	tcase_add_test(tc, test_wire_samples_hyperstart);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = proxy_hostile_suite,
	.test_dir = "kata-test-proxy-hostile", /* the harness's directories (proxy_harness.h) */
};
