/* The QMP client against the scripted fake QMP server: normal answers, QMP errors, events
 * between replies, a peer that hangs, closes mid-message, sends garbage or too much. */
#include "check_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "tests/fakes/fake_qmp.h"
#include "qemu/qmp.h"
#include "qemu/qmp_message.h"

#define N(script) (sizeof(script) / sizeof((script)[0]))

static char *socket_path(const char *name)
{
	return xasprintf("%s/%s.sock", unit_test_dir, name);
}

START_TEST(test_handshake_and_query_status)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "query-status" },
		/* An event arrives before the reply: it is kept, not mistaken for the answer. */
		{ FAKE_QMP_SEND,
		  "{\"timestamp\": {\"seconds\": 1, \"microseconds\": 0}, \"event\": "
		  "\"RESUME\"}\r\n" },
		{ FAKE_QMP_SEND,
		  "{\"return\": {\"status\": \"running\", \"running\": true}, \"id\": "
		  "@ID@}\r\n" },
		{ FAKE_QMP_CLOSE, NULL },
	};
	cleanup_free char *path = socket_path("status");
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;
	struct qmp *qmp = qmp_connect(path, 2000, &err);
	cleanup_free char *status = NULL;

	ck_assert_msg(qmp != NULL, "%s", err ? err->message : "");
	status = qmp_query_status(qmp, 2000, &err);
	ck_assert_msg(status != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(status, "running");
	ck_assert(qmp_take_event(qmp, "RESUME"));
	ck_assert(!qmp_take_event(qmp, "RESUME"));
	qmp_close(qmp);
	ck_assert_int_eq(fake_qmp_finish(fq, 2000), 0);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_error_reply_carries_desc)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "no-such-command" },
		{ FAKE_QMP_SEND,
		  "{\"error\": {\"class\": \"CommandNotFound\", \"desc\": \"The "
		  "command no-such-command has not been found\"}, \"id\": @ID@}\r\n" },
		{ FAKE_QMP_EXPECT, "cont" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
	};
	cleanup_free char *path = socket_path("error");
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;
	struct qmp *qmp = qmp_connect(path, 2000, &err);

	ck_assert_ptr_nonnull(qmp);
	ck_assert_int_eq(qmp_execute(qmp, "no-such-command", NULL, NULL, 2000, &err), -1);
	ck_assert_str_eq(err->message,
	                 "no-such-command: The command no-such-command has not been found");
	kata_error_free(&err);
	/* A QMP error does not break the connection. */
	ck_assert_int_eq(qmp_execute(qmp, "cont", NULL, NULL, 2000, &err), 0);
	qmp_close(qmp);
	ck_assert_int_eq(fake_qmp_finish(fq, 2000), 0);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_hanging_peer_times_out)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_HANG, NULL },
	};
	cleanup_free char *path = socket_path("hang");
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;
	struct qmp *qmp = qmp_connect(path, 2000, &err);
	json_object *result = NULL;

	ck_assert_ptr_nonnull(qmp);
	ck_assert_int_eq(qmp_execute(qmp, "query-status", NULL, &result, 200, &err), -1);
	ck_assert_int_eq(err->errno_value, ETIMEDOUT);
	ck_assert_ptr_null(result);
	kata_error_free(&err);
	/* Out of step now: refused without waiting again. */
	ck_assert_int_eq(qmp_execute(qmp, "query-status", NULL, NULL, 200, &err), -1);
	ck_assert_int_eq(err->errno_value, EPIPE);
	qmp_close(qmp);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_hanging_peer_before_greeting)
{
	static const struct fake_qmp_step script[] = {
		{ FAKE_QMP_ACCEPT, NULL },
		{ FAKE_QMP_HANG, NULL },
	};
	cleanup_free char *path = socket_path("nogreeting");
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;

	ck_assert_ptr_null(qmp_connect(path, 200, &err));
	ck_assert_int_eq(err->errno_value, ETIMEDOUT);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_close_mid_message)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_SEND, "{\"return\": {\"status\": \"runn" },
		{ FAKE_QMP_CLOSE, NULL },
	};
	cleanup_free char *path = socket_path("midclose");
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;
	struct qmp *qmp = qmp_connect(path, 2000, &err);

	ck_assert_ptr_nonnull(qmp);
	ck_assert_ptr_null(qmp_query_status(qmp, 2000, &err));
	ck_assert_int_eq(err->errno_value, ECONNRESET);
	ck_assert_msg(strstr(err->message, "mid-message") != NULL, "%s", err->message);
	qmp_close(qmp);
	ck_assert_int_eq(fake_qmp_finish(fq, 2000), 0);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_garbage_is_refused)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_SEND, "\x01\x02 this is not json }}}\r\n" },
		{ FAKE_QMP_HANG, NULL },
	};
	cleanup_free char *path = socket_path("garbage");
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;
	struct qmp *qmp = qmp_connect(path, 2000, &err);

	ck_assert_ptr_nonnull(qmp);
	ck_assert_ptr_null(qmp_query_status(qmp, 2000, &err));
	ck_assert_int_eq(err->errno_value, EPROTO);
	qmp_close(qmp);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_oversized_line_is_refused)
{
	static char huge[QMP_MAX_LINE + 4096];
	struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_SEND, huge },
		{ FAKE_QMP_HANG, NULL },
	};
	cleanup_free char *path = socket_path("huge");
	struct fake_qmp *fq;
	cleanup_error kata_error_t err = NULL;
	struct qmp *qmp;

	/* A string that never ends: the client must stop reading at its bound. */
	memset(huge, 'a', sizeof(huge) - 1);
	memcpy(huge, "{\"return\": \"", 12);
	fq = fake_qmp_start(path, script, N(script));
	qmp = qmp_connect(path, 2000, &err);
	ck_assert_ptr_nonnull(qmp);
	ck_assert_ptr_null(qmp_query_status(qmp, 2000, &err));
	ck_assert_int_eq(err->errno_value, E2BIG);
	qmp_close(qmp);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_stale_reply_is_skipped)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "stop" },
		/* A late answer to some earlier request, then one with a foreign id type. */
		{ FAKE_QMP_SEND, "{\"return\": {}, \"id\": 999}\r\n" },
		{ FAKE_QMP_SEND, "{\"return\": {}, \"id\": \"libvirt-1\"}\r\n" },
		{ FAKE_QMP_SEND, "{\"event\": \"STOP\", \"timestamp\": {}}\r\n" },
		{ FAKE_QMP_SEND, "{\"return\": {}, \"id\": @ID@}\r\n" },
		{ FAKE_QMP_SEND, "{\"event\": \"SHUTDOWN\", \"data\": {\"guest\": true}}\r\n" },
		{ FAKE_QMP_HANG, NULL },
	};
	cleanup_free char *path = socket_path("stale");
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;
	struct qmp *qmp = qmp_connect(path, 2000, &err);

	ck_assert_ptr_nonnull(qmp);
	ck_assert_int_eq(qmp_execute(qmp, "stop", NULL, NULL, 2000, &err), 0);
	ck_assert_int_eq(qmp_wait_event(qmp, "STOP", 10, &err), 0); /* already there */
	ck_assert_int_eq(qmp_wait_event(qmp, "SHUTDOWN", 2000, &err), 0);
	ck_assert_int_eq(qmp_wait_event(qmp, "RESUME", 100, &err), -1);
	ck_assert_int_eq(err->errno_value, ETIMEDOUT);
	qmp_close(qmp);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_reply_before_greeting_is_refused)
{
	static const struct fake_qmp_step script[] = {
		{ FAKE_QMP_ACCEPT, NULL },
		{ FAKE_QMP_SEND, "{\"return\": {}}\r\n" },
		{ FAKE_QMP_HANG, NULL },
	};
	cleanup_free char *path = socket_path("nogreet");
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;

	ck_assert_ptr_null(qmp_connect(path, 2000, &err));
	ck_assert_int_eq(err->errno_value, EPROTO);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_no_server)
{
	cleanup_free char *path = socket_path("nobody");
	cleanup_error kata_error_t err = NULL;

	ck_assert_ptr_null(qmp_connect(path, 200, &err));
	ck_assert_int_eq(err->errno_value, ENOENT);
}
END_TEST

START_TEST(test_message_parser)
{
	struct qmp_message msg;
	cleanup_error kata_error_t err = NULL;
	const char *line;
	char deep[200];

	line = "{\"error\": {\"class\": \"GenericError\"}, \"id\": 7}";
	ck_assert_int_eq(qmp_message_parse(line, strlen(line), &msg, &err), 0);
	ck_assert_int_eq(msg.type, QMP_MESSAGE_ERROR);
	ck_assert(msg.has_id);
	ck_assert_int_eq(msg.id, 7);
	ck_assert_str_eq(msg.error_desc, "(no description)");
	qmp_message_clear(&msg);

	line = "{\"event\": \"STOP\"}";
	ck_assert_int_eq(qmp_message_parse(line, strlen(line), &msg, &err), 0);
	ck_assert_int_eq(msg.type, QMP_MESSAGE_EVENT);
	ck_assert_str_eq(msg.event, "STOP");
	ck_assert(!msg.has_id);
	qmp_message_clear(&msg);

	static const char *const bad[] = {
		"[1, 2]",
		"\"return\"",
		"{\"return\": {}} {}",
		"{\"event\": 5}",
		"{\"error\": \"x\"}",
		"{\"QMP\": []}",
		"{\"other\": 1}",
		"{\"return\": ",
		"",
		/* json_util's strict parser: what qemu never sends is refused too. */
		"{\"return\": [1,]}",
		"{\"return\": {},}",
		"{\"return\": \"\xff\"}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(qmp_message_parse(bad[i], strlen(bad[i]), &msg, &err) == -1, "%s",
		              bad[i]);
		ck_assert_int_eq(err->errno_value, EPROTO);
		kata_error_free(&err);
	}
	/* Nesting deeper than the bound is refused, not recursed into. */
	memset(deep, '[', sizeof(deep));
	ck_assert_int_eq(qmp_message_parse(deep, sizeof(deep), &msg, &err), -1);
	kata_error_free(&err);
	ck_assert_int_eq(qmp_message_parse("{\"return\":\0{}}", 14, &msg, &err), -1);
}
END_TEST

static Suite *qmp_suite(void)
{
	Suite *s = suite_create("qmp");
	TCase *tc = tcase_create("client");

	tcase_add_test(tc, test_handshake_and_query_status);
	tcase_add_test(tc, test_error_reply_carries_desc);
	tcase_add_test(tc, test_hanging_peer_times_out);
	tcase_add_test(tc, test_hanging_peer_before_greeting);
	tcase_add_test(tc, test_close_mid_message);
	tcase_add_test(tc, test_garbage_is_refused);
	tcase_add_test(tc, test_oversized_line_is_refused);
	tcase_add_test(tc, test_stale_reply_is_skipped);
	tcase_add_test(tc, test_reply_before_greeting_is_refused);
	tcase_add_test(tc, test_no_server);
	suite_add_tcase(s, tc);
	tc = tcase_create("parser");
	tcase_add_test(tc, test_message_parser);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = qmp_suite,
	.test_dir = "kata-test-qmp",
};
