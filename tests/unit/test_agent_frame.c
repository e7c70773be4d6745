/* The agent wire's frame decoder and encoders (lib/agent_frame.c). */
#include "check_main.h"
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_frame.h"
#include "agent_proto.h"
#include "cleanup.h"

struct seen {
	int n;
	enum agent_frame_event event[16];
	uint64_t id[16];
	size_t len[16];
	char payload[16][256];
};

static bool record(void *opaque, enum agent_frame_event event, uint64_t id,
                   const unsigned char *payload, size_t length)
{
	struct seen *s = opaque;

	ck_assert_int_lt(s->n, 16);
	s->event[s->n] = event;
	s->id[s->n] = id;
	s->len[s->n] = length;
	if (payload != NULL && length < 256) {
		memcpy(s->payload[s->n], payload, length);
		/* The decoder keeps payloads NUL-terminated for the JSON parser. */
		ck_assert_int_eq(payload[length], '\0');
	}
	s->n++;
	return true;
}

static bool record_payload_pointer(void *opaque, enum agent_frame_event event, uint64_t id,
                                   const unsigned char *payload, size_t length)
{
	*(const unsigned char **)opaque = payload;
	return true;
}

/* Bytes of WIRE-SAMPLES.md: GETVERSION then PING, as the host sends them. */
static const unsigned char getversion_ping[] = { 0, 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 12, 0, 0, 0, 8 };

START_TEST(test_ctl_frames_whole)
{
	struct agent_frame_decoder d;
	struct seen s = { 0 };

	agent_frame_decoder_init_ctl(&d);
	ck_assert_uint_eq(
	        agent_frame_feed(&d, getversion_ping, sizeof(getversion_ping), record, &s), 2);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.event[0], AGENT_FRAME_OK);
	ck_assert_uint_eq(s.id[0], AGENT_GETVERSION);
	ck_assert_uint_eq(s.len[0], 0);
	ck_assert_uint_eq(s.id[1], AGENT_PING);
	agent_frame_decoder_free(&d);
}
END_TEST

START_TEST(test_ctl_frame_byte_by_byte)
{
	static const char json[] = "{\"hostname\": \"hs\"}";
	unsigned char frame[8 + sizeof(json) - 1];
	struct agent_frame_decoder d;
	struct seen s = { 0 };

	agent_frame_put_ctl_header(frame, AGENT_STARTPOD, sizeof(json) - 1);
	memcpy(frame + 8, json, sizeof(json) - 1);
	/* The sample's header: code 1, length 26. */
	ck_assert_uint_eq(get_be32(frame), 1);
	ck_assert_uint_eq(get_be32(frame + 4), 26);
	agent_frame_decoder_init_ctl(&d);
	for (size_t i = 0; i < sizeof(frame); i++)
		agent_frame_feed(&d, frame + i, 1, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.id[0], AGENT_STARTPOD);
	ck_assert_str_eq(s.payload[0], json);
	agent_frame_decoder_free(&d);
}
END_TEST

START_TEST(test_io_frames)
{
	/* WIRE-SAMPLES.md: seq 1 "hello\n", then seq 1 EOF. */
	static const unsigned char bytes[] = { 0, 0,    0,   0,   0,   0,   0,   1,    0, 0,
		                               0, 0x12, 'h', 'e', 'l', 'l', 'o', '\n', 0, 0,
		                               0, 0,    0,   0,   0,   1,   0,   0,    0, 0x0c };
	unsigned char header[12];
	struct agent_frame_decoder d;
	struct seen s = { 0 };

	agent_frame_decoder_init_io(&d);
	agent_frame_feed(&d, bytes, sizeof(bytes), record, &s);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(s.id[0], 1);
	ck_assert_uint_eq(s.len[0], 6);
	ck_assert_mem_eq(s.payload[0], "hello\n", 6);
	ck_assert_uint_eq(s.len[1], 0);
	agent_frame_put_io_header(header, 1, 6);
	ck_assert_mem_eq(header, bytes, 12);
	agent_frame_decoder_free(&d);
}
END_TEST

START_TEST(test_too_short_is_header_only)
{
	/* length 4 < 8: reported, taken as a bare header; the next frame still decodes. */
	static const unsigned char bytes[] = { 0, 0, 0, 12, 0, 0, 0, 4, 0, 0, 0, 12, 0, 0, 0, 8 };
	struct agent_frame_decoder d;
	struct seen s = { 0 };

	agent_frame_decoder_init_ctl(&d);
	agent_frame_feed(&d, bytes, sizeof(bytes), record, &s);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.event[0], AGENT_FRAME_TOO_SHORT);
	ck_assert_uint_eq(s.len[0], 4);
	ck_assert_int_eq(s.event[1], AGENT_FRAME_OK);
	ck_assert_uint_eq(s.id[1], AGENT_PING);
	agent_frame_decoder_free(&d);
}
END_TEST

START_TEST(test_too_long_is_skipped)
{
	uint32_t length = AGENT_CTL_MAX_FRAME + 100;
	size_t skip = length - 8;
	unsigned char header[8];
	unsigned char *junk = xzalloc(skip);
	struct agent_frame_decoder d;
	struct seen s = { 0 };

	put_be32(header, AGENT_NEWCONTAINER);
	put_be32(header + 4, length);
	agent_frame_decoder_init_ctl(&d);
	agent_frame_feed(&d, header, 8, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.event[0], AGENT_FRAME_TOO_LONG);
	/* The payload goes by unseen, in pieces, then a PING decodes again. */
	agent_frame_feed(&d, junk, skip / 2, record, &s);
	agent_frame_feed(&d, junk, skip - skip / 2, record, &s);
	ck_assert_int_eq(s.n, 1);
	agent_frame_feed(&d, getversion_ping + 8, 8, record, &s);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(s.id[1], AGENT_PING);
	free(junk);
	agent_frame_decoder_free(&d);
}
END_TEST

START_TEST(test_huge_length_no_allocation)
{
	/* A 4 GiB claim must not be allocated: it is skipped as it (never) arrives. */
	static const unsigned char bytes[] = { 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 1, 2, 3 };
	struct agent_frame_decoder d;
	struct seen s = { 0 };

	agent_frame_decoder_init_ctl(&d);
	agent_frame_feed(&d, bytes, sizeof(bytes), record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.event[0], AGENT_FRAME_TOO_LONG);
	ck_assert_ptr_null(d.payload);
	agent_frame_decoder_reset(&d);
	ck_assert_uint_eq(d.discard_left, 0);
	agent_frame_feed(&d, getversion_ping, 8, record, &s);
	ck_assert_int_eq(s.n, 2);
	agent_frame_decoder_free(&d);
}
END_TEST

START_TEST(test_split_anywhere)
{
	/* The I/O sample, then a credit and an end of stream: every cut into two reads gives
	 * the same three frames, as bytes from a virtio-serial port come in any pieces. */
	unsigned char bytes[18 + 24 + 12];
	unsigned char credit[12];

	agent_frame_put_io_header(bytes, 1, 6);
	memcpy(bytes + 12, "hello\n", 6);
	put_be64(credit, 1);
	put_be32(credit + 8, 4096);
	agent_frame_put_io_header(bytes + 18, AGENT_IO_CREDIT_SEQ, sizeof(credit));
	memcpy(bytes + 30, credit, sizeof(credit));
	agent_frame_put_io_header(bytes + 42, 1, 0);
	for (size_t cut = 0; cut <= sizeof(bytes); cut++) {
		struct agent_frame_decoder d;
		struct seen s = { 0 };

		agent_frame_decoder_init_io(&d);
		agent_frame_feed(&d, bytes, cut, record, &s);
		agent_frame_feed(&d, bytes + cut, sizeof(bytes) - cut, record, &s);
		ck_assert_int_eq(s.n, 3);
		ck_assert_uint_eq(s.id[0], 1);
		ck_assert_mem_eq(s.payload[0], "hello\n", 6);
		ck_assert_uint_eq(s.id[1], AGENT_IO_CREDIT_SEQ);
		ck_assert_uint_eq(s.len[1], 12);
		ck_assert_mem_eq(s.payload[1], credit, 12);
		ck_assert_uint_eq(s.len[2], 0);
		ck_assert_ptr_null(d.payload);
		ck_assert_uint_eq(d.header_have, 0);
		agent_frame_decoder_free(&d);
	}
}
END_TEST

START_TEST(test_io_maximum_is_the_bound)
{
	/* A payload of AGENT_IO_MAX_PAYLOAD is a frame; one byte more is refused. */
	unsigned char header[12];
	unsigned char *payload = xzalloc(AGENT_IO_MAX_PAYLOAD + 1);
	struct agent_frame_decoder d;
	struct seen s = { 0 };

	agent_frame_decoder_init_io(&d);
	agent_frame_put_io_header(header, 5, AGENT_IO_MAX_PAYLOAD);
	agent_frame_feed(&d, header, 12, record, &s);
	agent_frame_feed(&d, payload, AGENT_IO_MAX_PAYLOAD, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_int_eq(s.event[0], AGENT_FRAME_OK);
	ck_assert_uint_eq(s.len[0], AGENT_IO_MAX_PAYLOAD);
	agent_frame_put_io_header(header, 5, AGENT_IO_MAX_PAYLOAD + 1);
	agent_frame_feed(&d, header, 12, record, &s);
	ck_assert_int_eq(s.n, 2);
	ck_assert_int_eq(s.event[1], AGENT_FRAME_TOO_LONG);
	ck_assert_uint_eq(s.len[1], AGENT_IO_MAX_FRAME + 1);
	ck_assert_ptr_null(d.payload);
	free(payload);
	agent_frame_decoder_free(&d);
}
END_TEST

/* The host's way: the first refused frame ends the reading. */
static bool record_until_refused(void *opaque, enum agent_frame_event event, uint64_t id,
                                 const unsigned char *payload, size_t length)
{
	record(opaque, event, id, payload, length);
	return event == AGENT_FRAME_OK;
}

START_TEST(test_stop_drops_the_rest)
{
	/* READY, a frame claiming 2 GiB, then PING: the PING is never seen. */
	static const unsigned char bytes[] = { 0,    0, 0, 8, 0, 0, 0, 8,  0, 0, 0, 9,
		                               0x80, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0, 8 };
	struct agent_frame_decoder d;
	struct seen s = { 0 };

	agent_frame_decoder_init_ctl(&d);
	ck_assert_uint_eq(agent_frame_feed(&d, bytes, sizeof(bytes), record_until_refused, &s), 2);
	ck_assert_int_eq(s.n, 2);
	ck_assert_uint_eq(s.id[0], AGENT_READY);
	ck_assert_int_eq(s.event[1], AGENT_FRAME_TOO_LONG);
	ck_assert_uint_eq(s.len[1], 0x80000000u);
	agent_frame_decoder_free(&d);
}
END_TEST

START_TEST(test_empty_payload_is_not_null)
{
	struct agent_frame_decoder d;
	const unsigned char *seen_payload = NULL;

	agent_frame_decoder_init_ctl(&d);
	agent_frame_feed(&d, getversion_ping, 8, record_payload_pointer, &seen_payload);
	ck_assert_ptr_nonnull(seen_payload);
	ck_assert_int_eq(seen_payload[0], '\0');
	agent_frame_decoder_free(&d);
}
END_TEST

START_TEST(test_reset_drops_partial)
{
	struct agent_frame_decoder d;
	struct seen s = { 0 };
	unsigned char frame[8 + 4];

	agent_frame_put_ctl_header(frame, AGENT_EXECCMD, 4);
	memcpy(frame + 8, "{}  ", 4);
	agent_frame_decoder_init_ctl(&d);
	agent_frame_feed(&d, frame, 10, record, &s);
	ck_assert_int_eq(s.n, 0);
	agent_frame_decoder_reset(&d);
	agent_frame_feed(&d, getversion_ping + 8, 8, record, &s);
	ck_assert_int_eq(s.n, 1);
	ck_assert_uint_eq(s.id[0], AGENT_PING);
	agent_frame_decoder_free(&d);
}
END_TEST

static Suite *frame_suite(void)
{
	Suite *s = suite_create("agent_frame");
	TCase *tc = tcase_create("decoder");

	tcase_add_test(tc, test_ctl_frames_whole);
	tcase_add_test(tc, test_ctl_frame_byte_by_byte);
	tcase_add_test(tc, test_io_frames);
	tcase_add_test(tc, test_too_short_is_header_only);
	tcase_add_test(tc, test_too_long_is_skipped);
	tcase_add_test(tc, test_huge_length_no_allocation);
	tcase_add_test(tc, test_split_anywhere);
	tcase_add_test(tc, test_io_maximum_is_the_bound);
	tcase_add_test(tc, test_stop_drops_the_rest);
	tcase_add_test(tc, test_empty_payload_is_not_null);
	tcase_add_test(tc, test_reset_drops_partial);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = frame_suite };
