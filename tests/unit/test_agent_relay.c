/* The agent's bulk output relay (agent/relay.c) without a VM: the I/O channel is a socketpair
 * whose other end plays the host, and the process's output is a pipe. What arrives must be
 * well-formed frames carrying every byte in order, also when the channel fills up and the
 * rest goes through the channel's queue. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "agent/channel.h"
#include "agent/relay.h"
#include "agent_proto.h"
#include "cleanup.h"

#define SEQ 7

static struct event_loop *loop;
static struct agent_channel io;
static int host = -1;
static int src[2] = { -1, -1 };

static bool ignore_frame(void *opaque, enum agent_frame_event event, uint64_t id,
                         const unsigned char *payload, size_t length)
{
	return true;
}

static void setup(void)
{
	static const struct agent_channel_ops ops = { .frame = ignore_frame };
	cleanup_error kata_error_t err = NULL;
	int sp[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp), 0);
	host = sp[0];
	fcntl(sp[1], F_SETFL, O_NONBLOCK);
	loop = event_loop_new(&err);
	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(agent_channel_open(&io, loop, "io", sp[1], true, &ops, NULL, &err), 0);
	ck_assert(agent_channel_host_connected(&io));
	ck_assert_int_eq(pipe2(src, O_CLOEXEC), 0);
	fcntl(src[0], F_SETFL, O_NONBLOCK);
	ck_assert_int_gt(fcntl(src[1], F_SETPIPE_SZ, 1 << 20), 0);
}

static void teardown(void)
{
	agent_channel_close(&io);
	event_loop_free(loop);
	close(host);
	close(src[0]);
	if (src[1] >= 0)
		close(src[1]);
}

static unsigned char pattern_byte(size_t i)
{
	return (unsigned char)(i * 7 + i / 4096);
}

static void write_pattern(size_t len)
{
	unsigned char *buf = xmalloc(len);

	for (size_t i = 0; i < len; i++)
		buf[i] = pattern_byte(i);
	ck_assert_int_eq(write(src[1], buf, len), (ssize_t)len);
	free(buf);
}

/* Reads frames from the host end until want payload bytes arrived, running the agent's loop
 * meanwhile (the channel's queue is written when the socket has room again); checks every
 * header and byte. Returns the number of frames. */
static size_t receive(size_t want)
{
	static unsigned char buf[1 << 21];
	size_t have = 0, got = 0, frames = 0, pos = 0;

	while (got < want) {
		struct pollfd pfd = { .fd = host, .events = POLLIN };
		ssize_t n;

		event_loop_run_once(loop, 0, NULL);
		ck_assert_int_ge(poll(&pfd, 1, 2000), 0);
		if (!(pfd.revents & POLLIN))
			continue;
		n = read(host, buf + have, sizeof(buf) - have);
		ck_assert_int_gt(n, 0);
		have += (size_t)n;
		while (have - pos >= AGENT_IO_HEADER_SIZE) {
			uint32_t len = get_be32(buf + pos + AGENT_IO_LENGTH_OFFSET);

			ck_assert_uint_eq(get_be64(buf + pos), SEQ);
			ck_assert_uint_gt(len, AGENT_IO_HEADER_SIZE);
			ck_assert_uint_le(len, AGENT_IO_MAX_FRAME);
			if (have - pos < len)
				break;
			for (size_t i = AGENT_IO_HEADER_SIZE; i < len; i++, got++)
				ck_assert_uint_eq(buf[pos + i], pattern_byte(got));
			pos += len;
			frames++;
		}
		memmove(buf, buf + pos, have - pos);
		have -= pos;
		pos = 0;
	}
	ck_assert_uint_eq(got, want);
	ck_assert_uint_eq(have, 0);
	return frames;
}

START_TEST(test_frames_in_order)
{
	size_t len = 300 * 1024 + 123;

	write_pattern(len);
	ck_assert_int_eq(agent_relay_send(&io, src[0], SEQ, 1 << 20), (ssize_t)len);
	/* 64 KiB frames: four full ones and the rest */
	ck_assert_uint_eq(receive(len), 5);
	errno = 0;
	ck_assert_int_eq(agent_relay_send(&io, src[0], SEQ, 1 << 20), -1);
	ck_assert_int_eq(errno, EAGAIN);
}
END_TEST

START_TEST(test_at_most_max)
{
	write_pattern(100000);
	ck_assert_int_eq(agent_relay_send(&io, src[0], SEQ, 1000), 1000);
	ck_assert_uint_eq(receive(1000), 1);
}
END_TEST

START_TEST(test_full_channel_goes_through_the_queue)
{
	size_t len = 1 << 20;
	int small = 4096;

	/* A channel that takes far less than the pipe holds: the rest is queued, in order. */
	ck_assert_int_eq(
	        setsockopt(agent_channel_fd(&io), SOL_SOCKET, SO_SNDBUF, &small, sizeof(small)), 0);
	write_pattern(len);
	ck_assert_int_eq(agent_relay_send(&io, src[0], SEQ, len), (ssize_t)len);
	ck_assert_uint_gt(agent_channel_queued(&io), 0);
	/* Nothing may overtake the queue. */
	write_pattern(10);
	errno = 0;
	ck_assert_int_eq(agent_relay_send(&io, src[0], SEQ, len), -1);
	ck_assert_int_eq(errno, EBUSY);
	receive(len);
	ck_assert_uint_eq(agent_channel_queued(&io), 0);
}
END_TEST

START_TEST(test_end_of_file)
{
	write_pattern(10);
	close(src[1]);
	src[1] = -1;
	ck_assert_int_eq(agent_relay_send(&io, src[0], SEQ, 1 << 20), 10);
	ck_assert_int_eq(agent_relay_send(&io, src[0], SEQ, 1 << 20), 0);
	receive(10);
}
END_TEST

/* A port without a host: a pty master whose slave is closed polls as hung up, as a
 * virtio-serial port does while its host end is closed. */
START_TEST(test_no_host)
{
	static const struct agent_channel_ops ops = { .frame = ignore_frame };
	cleanup_error kata_error_t err = NULL;
	struct agent_channel away;
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	int slave;

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(unlockpt(master), 0);
	slave = open(ptsname(master), O_RDWR | O_NOCTTY | O_CLOEXEC);
	ck_assert_int_ge(slave, 0);
	close(slave);
	ck_assert_int_eq(agent_channel_open(&away, loop, "away", master, true, &ops, NULL, &err),
	                 0);
	ck_assert(!agent_channel_host_connected(&away));
	write_pattern(10);
	errno = 0;
	ck_assert_int_eq(agent_relay_send(&away, src[0], SEQ, 1 << 20), -1);
	ck_assert_int_eq(errno, EBUSY);
	agent_channel_close(&away);
}
END_TEST

static Suite *agent_relay_suite(void)
{
	Suite *s = suite_create("agent_relay");
	TCase *tc = tcase_create("relay");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_frames_in_order);
	tcase_add_test(tc, test_at_most_max);
	tcase_add_test(tc, test_full_channel_goes_through_the_queue);
	tcase_add_test(tc, test_end_of_file);
	tcase_add_test(tc, test_no_host);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = agent_relay_suite };
