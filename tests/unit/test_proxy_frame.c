/* Pure parts of the proxy: frame codec (against WIRE-SAMPLES.md), accumulation buffer,
 * tokens, command line, agent command names, process rewriting. */
#include "check_main.h"
#include <errno.h>
#include <stdio.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "proxy/proxy.h"
#include "proxy_frame.h"
#include "proxy_client.h"
#include "fd_util.h"

#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

START_TEST(test_decode_wire_sample)
{
	static const unsigned char connect[] = "\x00\x02\x03\x00\x00\x00\x00\x04\x00\x00\x00\x1c"
	                                       "{\"token\":\"aGVsbG8gd29ybGQh\"}";
	cleanup_error kata_error_t err = NULL;
	struct proxy_frame f;

	ck_assert_int_eq(
	        proxy_frame_decode(connect, sizeof(connect) - 1, PROXY_MAX_PAYLOAD, &f, &err), 40);
	ck_assert_int_eq(f.version, 2);
	ck_assert_int_eq(f.header_words, 3);
	ck_assert_int_eq(f.type, PROXY_TYPE_COMMAND);
	ck_assert_int_eq(f.opcode, PROXY_CMD_CONNECT_SHIM);
	ck_assert_int_eq(f.flags, 0);
	ck_assert_uint_eq(f.payload_length, 28);
	ck_assert(memcmp(f.payload, "{\"token\"", 8) == 0);
	/* every prefix is "need more" */
	for (size_t i = 0; i < 40; i++)
		ck_assert_int_eq(proxy_frame_decode(connect, i, PROXY_MAX_PAYLOAD, &f, &err), 0);
}
END_TEST

START_TEST(test_encode_wire_samples)
{
	static const unsigned char exited[] = { 0, 2, 3, 0, 0, 0, 3, 0, 0, 0, 0, 1, 3 };
	static const unsigned char refused[] = { 0, 2, 3, 0, 0, 0, 0x11, 4, 0, 0, 0, 2, '{', '}' };
	unsigned char status = 3;
	size_t size;
	cleanup_free unsigned char *a = proxy_frame_encode(3, 0, 0, &status, 1, &size);
	cleanup_free unsigned char *b = NULL;

	ck_assert_uint_eq(size, sizeof(exited));
	ck_assert(memcmp(a, exited, size) == 0);
	b = proxy_frame_encode(1, 4, PROXY_FLAG_ERROR, "{}", 2, &size);
	ck_assert(memcmp(b, refused, size) == 0);
}
END_TEST

START_TEST(test_decode_rejects)
{
	cleanup_error kata_error_t err = NULL;
	unsigned char hdr[16] = { 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
	struct proxy_frame f;

	ck_assert_int_eq(proxy_frame_decode(hdr, 12, PROXY_MAX_PAYLOAD, &f, &err), -1);
	kata_error_free(&err);
	hdr[2] = 3;
	hdr[8] = 0x7f;
	ck_assert_int_eq(proxy_frame_decode(hdr, 12, PROXY_MAX_PAYLOAD, &f, &err), -1);
	ck_assert_int_eq(err->errno_value, EMSGSIZE);
	kata_error_free(&err);
	/* a longer header is skipped, a foreign version still decodes */
	memset(hdr, 0, sizeof(hdr));
	hdr[1] = 9;
	hdr[2] = 4;
	ck_assert_int_eq(proxy_frame_decode(hdr, 16, PROXY_MAX_PAYLOAD, &f, &err), 16);
	ck_assert_int_eq(f.version, 9);
}
END_TEST

START_TEST(test_buffer_splits_and_joins)
{
	cleanup_error kata_error_t err = NULL;
	struct proxy_frame_buffer fb;
	struct proxy_frame f;
	unsigned char stream[3 * 20];
	size_t size, room;
	int got = 0;

	for (int i = 0; i < 3; i++) {
		char payload[8];
		snprintf(payload, sizeof(payload), "frame%d!", i);
		cleanup_free unsigned char *one = proxy_frame_encode(2, 1, 0, payload, 8, &size);
		memcpy(stream + i * 20, one, 20);
	}
	proxy_frame_buffer_init(&fb, PROXY_MAX_PAYLOAD);
	/* byte by byte */
	for (size_t i = 0; i < sizeof(stream); i++) {
		unsigned char *p = proxy_frame_buffer_space(&fb, 1, &room);
		*p = stream[i];
		proxy_frame_buffer_commit(&fb, 1);
		while (proxy_frame_buffer_next(&fb, &f, &err) > 0) {
			ck_assert_int_eq(f.payload[5], '0' + got);
			got++;
		}
	}
	ck_assert_int_eq(got, 3);
	/* all at once */
	unsigned char *p = proxy_frame_buffer_space(&fb, sizeof(stream), &room);
	memcpy(p, stream, sizeof(stream));
	proxy_frame_buffer_commit(&fb, sizeof(stream));
	got = 0;
	while (proxy_frame_buffer_next(&fb, &f, &err) > 0)
		got++;
	ck_assert_int_eq(got, 3);
	proxy_frame_buffer_free(&fb);
}
END_TEST

/* --- resync mode: the shim's reader ----------------------------------------------------------- */

static void feed(struct proxy_frame_buffer *fb, const void *bytes, size_t len)
{
	size_t room;
	unsigned char *space;

	if (len == 0)
		return;
	space = proxy_frame_buffer_space(fb, len, &room);
	ck_assert_uint_ge(room, len);
	memcpy(space, bytes, len);
	proxy_frame_buffer_commit(fb, len);
}

/* proxy_frame_buffer_next() that checks the error contract: *err set exactly when a frame was
 * refused or dropped; why (when not NULL) receives a copy of its message. */
static int next_frame(struct proxy_frame_buffer *fb, struct proxy_frame *f, char *why, size_t size)
{
	cleanup_error kata_error_t err = NULL;
	int r = proxy_frame_buffer_next(fb, f, &err);

	ck_assert_int_eq(err != NULL, r == PROXY_FRAME_DROPPED || r == PROXY_FRAME_BROKEN);
	if (why != NULL)
		snprintf(why, size, "%s", err != NULL ? err->message : "");
	return r;
}

START_TEST(test_resync_byte_by_byte)
{
	static const uint8_t bytes[] = { 0, 2, 3, 0, 0, 0, 2, 1, 0, 0, 0, 6, 'h', 'e', 'l', 'l',
		                         'o', '\n',
		                         /* ProcessExited 3 */
		                         0, 2, 3, 0, 0, 0, 3, 0, 0, 0, 0, 1, 3 };
	struct proxy_frame_buffer fb;
	struct proxy_frame f;
	int frames = 0;

	proxy_frame_buffer_init_resync(&fb, PROXY_MAX_PAYLOAD);
	for (size_t i = 0; i < sizeof(bytes); i++) {
		feed(&fb, &bytes[i], 1);
		while (next_frame(&fb, &f, NULL, 0) == PROXY_FRAME_READY) {
			if (frames == 0) {
				ck_assert_uint_eq(f.type, PROXY_TYPE_STREAM);
				ck_assert_uint_eq(f.opcode, PROXY_STREAM_STDOUT);
				ck_assert_uint_eq(f.payload_length, 6);
				ck_assert_mem_eq(f.payload, "hello\n", 6);
			} else {
				ck_assert_uint_eq(f.type, PROXY_TYPE_NOTIFICATION);
				ck_assert_uint_eq(f.payload_length, 1);
				ck_assert_uint_eq(f.payload[0], 3);
			}
			frames++;
		}
	}
	ck_assert_int_eq(frames, 2);
	ck_assert_uint_eq(proxy_frame_buffer_pending(&fb), 0);
	proxy_frame_buffer_free(&fb);
}
END_TEST

/* Bad frames of each kind, then a good one: the resync buffer drops each and stays in step,
 * whether the bytes come at once or one by one; the plain buffer gives up at the first. */
static const uint8_t bad_then_good[] = {
	/* version 1 (payload of 4 bytes), header of 1 word (payload of 2), header of 4 words
	 * (one word beyond the 3 known, skipped), then the good frame "ok" */
	0, 1, 3, 0, 0,   0,   2, 1, 0, 0, 0, 4, 'b', 'a', 'd', '!', 0, 2, 1, 0, 0, 0, 2,   1,
	0, 0, 0, 2, 'n', 'o', 0, 2, 4, 0, 0, 0, 2,   1,   0,   0,   0, 2, 9, 9, 9, 9, 'o', 'k',
};

START_TEST(test_resync_drops_bad_frames)
{
	struct proxy_frame_buffer fb;
	struct proxy_frame f;
	char why[256];

	proxy_frame_buffer_init_resync(&fb, 64);
	feed(&fb, bad_then_good, sizeof(bad_then_good));
	ck_assert_int_eq(next_frame(&fb, &f, why, sizeof(why)), PROXY_FRAME_DROPPED);
	ck_assert_str_eq(why, "unsupported protocol version 1");
	ck_assert_int_eq(next_frame(&fb, &f, why, sizeof(why)), PROXY_FRAME_DROPPED);
	ck_assert_str_eq(why, "frame header length 1 words, below 3");
	ck_assert_int_eq(next_frame(&fb, &f, why, sizeof(why)), PROXY_FRAME_READY);
	ck_assert_uint_eq(f.payload_length, 2);
	ck_assert_mem_eq(f.payload, "ok", 2);
	ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_NEED_MORE);
	proxy_frame_buffer_free(&fb);

	/* The plain buffer refuses the short header (a frame of another version it hands out:
	 * the proxy's client code drops it). */
	proxy_frame_buffer_init(&fb, 64);
	feed(&fb, bad_then_good, sizeof(bad_then_good));
	ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_READY);
	ck_assert_uint_eq(f.version, 1);
	ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_BROKEN);
	proxy_frame_buffer_free(&fb);
}
END_TEST

START_TEST(test_resync_split_anywhere)
{
	/* Every cut of the stream into two reads gives the same: two drops, then "ok". */
	for (size_t cut = 0; cut <= sizeof(bad_then_good); cut++) {
		struct proxy_frame_buffer fb;
		struct proxy_frame f;
		int dropped = 0, ready = 0, r;

		proxy_frame_buffer_init_resync(&fb, 64);
		for (int read = 0; read < 2; read++) {
			if (read == 0)
				feed(&fb, bad_then_good, cut);
			else
				feed(&fb, bad_then_good + cut, sizeof(bad_then_good) - cut);
			while ((r = next_frame(&fb, &f, NULL, 0)) != PROXY_FRAME_NEED_MORE) {
				if (r == PROXY_FRAME_READY) {
					ck_assert_mem_eq(f.payload, "ok", 2);
					ready++;
				} else {
					ck_assert_int_eq(r, PROXY_FRAME_DROPPED);
					dropped++;
				}
			}
		}
		ck_assert_int_eq(dropped, 2);
		ck_assert_int_eq(ready, 1);
		ck_assert_uint_eq(proxy_frame_buffer_pending(&fb), 0);
		proxy_frame_buffer_free(&fb);
	}
}
END_TEST

START_TEST(test_resync_skips_oversized_payload_without_storing_it)
{
	static const uint8_t huge[] = { 0, 2, 3, 0, 0, 0, 2, 1, 0xff, 0xff, 0xff, 0xff };
	static const uint8_t good[] = { 0, 2, 3, 0, 0, 0, 3, 0, 0, 0, 0, 1, 42 };
	struct proxy_frame_buffer fb;
	struct proxy_frame f;
	char why[256];
	uint64_t skipped = 0;
	uint8_t chunk[1024];

	proxy_frame_buffer_init_resync(&fb, 1024);
	feed(&fb, huge, sizeof(huge));
	ck_assert_int_eq(next_frame(&fb, &f, why, sizeof(why)), PROXY_FRAME_DROPPED);
	ck_assert_str_eq(why, "frame payload of 4294967295 bytes, above 1024");
	ck_assert_uint_eq(fb.skip, 0xffffffffu);
	/* The buffer never holds more than what one read brings. */
	memset(chunk, 'x', sizeof(chunk));
	while (skipped < (8u << 20)) {
		feed(&fb, chunk, sizeof(chunk));
		skipped += sizeof(chunk);
		ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_NEED_MORE);
		ck_assert_uint_eq(proxy_frame_buffer_pending(&fb), 0);
		ck_assert_uint_le(fb.cap, 4096);
	}
	/* A reset (new connection) forgets the skip. */
	proxy_frame_buffer_reset(&fb);
	feed(&fb, good, sizeof(good));
	ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_READY);
	ck_assert_uint_eq(f.payload[0], 42);
	proxy_frame_buffer_free(&fb);
}
END_TEST

START_TEST(test_resync_largest_frame_passes)
{
	const uint32_t max = 4096;
	unsigned char header[PROXY_HEADER_SIZE];
	cleanup_free unsigned char *payload = xmalloc(max + 1);
	struct proxy_frame_buffer fb;
	struct proxy_frame f;

	memset(payload, 'p', max + 1);
	proxy_frame_buffer_init_resync(&fb, max);
	for (int round = 0; round < 3; round++) {
		size_t sent = 0;

		proxy_frame_put_header(header, PROXY_TYPE_STREAM, 1, 0, max);
		feed(&fb, header, sizeof(header));
		/* in reads of 1000 bytes, as a socket may cut them */
		while (sent < max) {
			size_t n = max - sent < 1000 ? max - sent : 1000;

			ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_NEED_MORE);
			feed(&fb, payload + sent, n);
			sent += n;
		}
		ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_READY);
		ck_assert_uint_eq(f.payload_length, max);
	}
	/* One byte more is dropped. */
	proxy_frame_put_header(header, PROXY_TYPE_STREAM, 1, 0, max + 1);
	feed(&fb, header, sizeof(header));
	feed(&fb, payload, max + 1);
	ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_DROPPED);
	ck_assert_int_eq(next_frame(&fb, &f, NULL, 0), PROXY_FRAME_NEED_MORE);
	ck_assert_uint_eq(proxy_frame_buffer_pending(&fb), 0);
	proxy_frame_buffer_free(&fb);
}
END_TEST

START_TEST(test_tokens)
{
	cleanup_error kata_error_t err = NULL;
	char a[PROXY_TOKEN_LENGTH + 1], b[PROXY_TOKEN_LENGTH + 1];

	ck_assert_int_eq(proxy_token_generate(a, &err), 0);
	ck_assert_int_eq(proxy_token_generate(b, &err), 0);
	ck_assert_uint_eq(strlen(a), 44);
	ck_assert_int_eq(a[43], '=');
	ck_assert_str_ne(a, b);
	ck_assert(proxy_token_is_valid(a));
	ck_assert(!proxy_token_is_valid("aGVsbG8gd29ybGQh"));
	a[3] = '+';
	ck_assert(!proxy_token_is_valid(a));
}
END_TEST

START_TEST(test_options)
{
	cleanup_error kata_error_t err = NULL;
	struct proxy_options o;
	char *ok[] = { "kata-proxy", "-listen-socket",
		       "/p",         "--ctl-socket=/c",
		       "-io-socket", "/i",
		       "-dialect",   "cc",
		       "-debug",     "-agent-timeout",
		       "5",          NULL };
	char *bad1[] = { "kata-proxy", "-ctl-socket", "/c", NULL };
	char *bad2[] = { "kata-proxy", "-listen-socket", "/p", "-ctl-socket", "/c", NULL };
	char *bad3[] = { "kata-proxy", "-listen-socket", "/p", "-dialect", "x", NULL };
	char *bad4[] = { "kata-proxy", "-listen-socket", "/p", "-agent-timeout", "0", NULL };
	char *watch[] = { "kata-proxy", "-listen-socket", "/p", "-vm-pid",
		          "12:345",     "-watch-pid",     "67", NULL };
	char *bad5[] = { "kata-proxy", "-listen-socket", "/p", "-watch-pid", "67", NULL };
	char *bad6[] = { "kata-proxy", "-listen-socket", "/p", "-vm-pid",
		         "1:x",        "-watch-pid",     "2",  NULL };

	ck_assert_int_eq(proxy_options_parse(11, ok, &o, &err), 0);
	ck_assert_str_eq(o.listen_socket, "/p");
	ck_assert_str_eq(o.ctl_socket, "/c");
	ck_assert_str_eq(o.io_socket, "/i");
	ck_assert_int_eq(o.dialect, PROXY_DIALECT_CC);
	ck_assert(o.debug);
	ck_assert_uint_eq(o.agent_timeout_ms, 5000);
	proxy_options_clear(&o);
	ck_assert_int_lt(proxy_options_parse(3, bad1, &o, &err), 0);
	kata_error_free(&err);
	proxy_options_clear(&o);
	ck_assert_int_lt(proxy_options_parse(5, bad2, &o, &err), 0);
	kata_error_free(&err);
	proxy_options_clear(&o);
	ck_assert_int_lt(proxy_options_parse(5, bad3, &o, &err), 0);
	kata_error_free(&err);
	proxy_options_clear(&o);
	ck_assert_int_lt(proxy_options_parse(5, bad4, &o, &err), 0);
	kata_error_free(&err);
	proxy_options_clear(&o);
	ck_assert_int_eq(proxy_options_parse(7, watch, &o, &err), 0);
	ck_assert_int_eq(o.vm_pid.pid, 12);
	ck_assert_uint_eq(o.vm_pid.start_time, 345);
	ck_assert_int_eq(o.watch_pid.pid, 67);
	ck_assert_uint_eq(o.watch_pid.start_time, 0);
	proxy_options_clear(&o);
	ck_assert_int_lt(proxy_options_parse(5, bad5, &o, &err), 0);
	kata_error_free(&err);
	proxy_options_clear(&o);
	ck_assert_int_lt(proxy_options_parse(7, bad6, &o, &err), 0);
	proxy_options_clear(&o);
}
END_TEST

START_TEST(test_hyper_codes)
{
	ck_assert_int_eq(proxy_hyper_code(PROXY_DIALECT_KATA, "execcmd"), AGENT_EXECCMD);
	ck_assert_int_eq(proxy_hyper_code(PROXY_DIALECT_KATA, "version"), AGENT_GETVERSION);
	ck_assert_int_eq(proxy_hyper_code(PROXY_DIALECT_KATA, "pscontainer"), 27);
	ck_assert_int_eq(proxy_hyper_code(PROXY_DIALECT_CC, "pscontainer"), 23);
	ck_assert_int_eq(proxy_hyper_code(PROXY_DIALECT_HYPERSTART, "signalprocess"), 24);
	ck_assert_int_eq(proxy_hyper_code(PROXY_DIALECT_CC, "signalprocess"), -1);
	ck_assert_int_eq(proxy_hyper_code(PROXY_DIALECT_KATA, "ready"), -1);
	ck_assert_uint_eq(proxy_code_processasyncevent(PROXY_DIALECT_CC), 24);
	ck_assert_uint_eq(proxy_code_processasyncevent(PROXY_DIALECT_HYPERSTART), 23);
}
END_TEST

START_TEST(test_answers)
{
	cleanup_error kata_error_t err = NULL;
	static const unsigned char version[] = { 0, 0, 0x10, 0x94 };
	json_object *r = proxy_hyper_ack_result(version, 4, &err);
	char *m;

	ck_assert_int_eq(json_object_get_int(r), 4244);
	json_object_put(r);
	ck_assert_ptr_null(proxy_hyper_ack_result(NULL, 0, &err));
	ck_assert_ptr_null(err);
	ck_assert_ptr_null(proxy_hyper_ack_result((const unsigned char *)"\x01\x02\x03", 3, &err));
	ck_assert_ptr_nonnull(err);
	m = proxy_hyper_error_message((const unsigned char *)"{\"message\":\"bad\\nthing\"}", 24);
	ck_assert_str_eq(m, "bad?thing");
	free(m);
	m = proxy_hyper_error_message(NULL, 0);
	ck_assert_ptr_nonnull(strstr(m, "ERROR"));
	free(m);
	m = proxy_hyper_error_message((const unsigned char *)"plain\x01", 6);
	ck_assert_str_eq(m, "plain?");
	free(m);
}
END_TEST

START_TEST(test_rewrite_process)
{
	cleanup_error kata_error_t err = NULL;
	struct proxy_token token = { .stdio_seq = 5, .stderr_seq = 6 };
	struct proxy_binding bind;
	json_object *data = json_tokener_parse(
	        "{\"id\":\"ctr\",\"rootfs\":\"ctr/rootfs\",\"process\":{\"terminal\":true,"
	        "\"stdio\":1,\"stderr\":2,\"args\":[\"sh\"]}}");
	json_object *process;

	ck_assert_int_eq(proxy_hyper_rewrite_process(AGENT_NEWCONTAINER, data, &token, &bind, &err),
	                 0);
	process = json_object_object_get(data, "process");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(process, "stdio")), 5);
	/* a terminal merges stderr into stdio */
	ck_assert_int_eq(json_object_get_int(json_object_object_get(process, "stderr")), 0);
	/* the init process is named after its container */
	ck_assert_str_eq(json_object_get_string(json_object_object_get(process, "id")), "ctr");
	ck_assert_str_eq(bind.container, "ctr");
	ck_assert_str_eq(bind.process, "ctr");
	ck_assert(bind.terminal);
	/* untouched otherwise */
	ck_assert_str_eq(json_object_get_string(json_object_object_get(data, "rootfs")),
	                 "ctr/rootfs");
	proxy_binding_clear(&bind);
	json_object_put(data);

	data = json_tokener_parse("{\"container\":\"ctr\",\"process\":{\"terminal\":\"yes\"}}");
	ck_assert_int_lt(proxy_hyper_rewrite_process(AGENT_EXECCMD, data, &token, &bind, &err), 0);
	json_object_put(data);
}
END_TEST

/* The runtime's client gives up on a proxy that does not answer, and on one that is not there. */
START_TEST(test_client_deadlines)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	cleanup_error kata_error_t err = NULL;
	/* below the program's directory: removed even when this test fails */
	char dir[64]; /* short enough for a socket path */
	struct proxy_conn *conn;
	int64_t started;
	int fd;

	unit_test_new_dir(dir, sizeof(dir));
	snprintf(addr.sun_path, sizeof(addr.sun_path), "%s/proxy.sock", dir);
	ck_assert_ptr_null(proxy_conn_connect(addr.sun_path, 100, &err));
	ck_assert_ptr_nonnull(err);
	kata_error_free(&err);

	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(listen(fd, 4), 0); /* never accepted, never answered */
	conn = proxy_conn_connect(addr.sun_path, 300, &err);
	ck_assert_ptr_nonnull(conn);
	started = now_ms();
	ck_assert_ptr_null(proxy_hyper(conn, "ping", NULL, 0, NULL, &err));
	ck_assert_int_ge(now_ms() - started, 250);
	ck_assert_ptr_nonnull(err);
	ck_assert_int_eq(err->errno_value, ETIMEDOUT);
	proxy_conn_close(conn);
	close(fd);
	unlink(addr.sun_path);
	rmdir(dir);
}
END_TEST

static Suite *proxy_frame_suite(void)
{
	Suite *s = suite_create("proxy-frame");
	TCase *tc = tcase_create("pure");

	tcase_add_test(tc, test_decode_wire_sample);
	tcase_add_test(tc, test_encode_wire_samples);
	tcase_add_test(tc, test_decode_rejects);
	tcase_add_test(tc, test_buffer_splits_and_joins);
	tcase_add_test(tc, test_resync_byte_by_byte);
	tcase_add_test(tc, test_resync_drops_bad_frames);
	tcase_add_test(tc, test_resync_split_anywhere);
	tcase_add_test(tc, test_resync_skips_oversized_payload_without_storing_it);
	tcase_add_test(tc, test_resync_largest_frame_passes);
	tcase_add_test(tc, test_tokens);
	tcase_add_test(tc, test_options);
	tcase_add_test(tc, test_hyper_codes);
	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_rewrite_process);
	tcase_add_test(tc, test_client_deadlines);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = proxy_frame_suite,
	                             .test_dir = "kata-test-proxy-frame" };
