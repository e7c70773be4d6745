/* The agent's stream engine and control dispatch without a VM: the two channels are
 * socketpairs whose other ends play the host, processes are pipes with a made-up pid. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/cgroup.h"
#include "agent_proto.h"
#include "cleanup.h"

struct fixture {
	struct agent a;
	struct agent_container c;
	int host_ctl, host_io;
	int in[2], out[2], err[2];
	unsigned char ctl_buf[1 << 16];
	size_t ctl_len;
	unsigned char io_buf[1 << 21];
	size_t io_len;
};

static struct fixture *fx;

static void setup(void)
{
	static const struct agent_channel_ops ctl_ops = { .frame = agent_ctl_frame,
		                                          .drained = agent_ctl_drained };
	static const struct agent_channel_ops io_ops = { .frame = agent_io_frame,
		                                         .drained = agent_io_drained };
	cleanup_error kata_error_t err = NULL;
	int ctl[2], io[2];

	fx = xzalloc(sizeof(*fx));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, io), 0);
	fx->host_ctl = ctl[0];
	fx->host_io = io[0];
	fcntl(ctl[1], F_SETFL, O_NONBLOCK);
	fcntl(io[1], F_SETFL, O_NONBLOCK);
	fx->a.loop = event_loop_new(&err);
	ck_assert_ptr_nonnull(fx->a.loop);
	ck_assert_int_eq(agent_channel_open(&fx->a.ctl, fx->a.loop, "ctl", ctl[1], false, &ctl_ops,
	                                    &fx->a, &err),
	                 0);
	ck_assert_int_eq(
	        agent_channel_open(&fx->a.io, fx->a.loop, "io", io[1], true, &io_ops, &fx->a, &err),
	        0);
	ck_assert(agent_channel_host_connected(&fx->a.ctl));
	fx->c.agent = &fx->a;
	fx->c.id = xstrdup("c1");
	fx->c.sync_fd = -1;
	fx->a.containers = &fx->c;
	ck_assert_int_eq(pipe2(fx->in, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(fx->out, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(fx->err, O_CLOEXEC), 0);
	fcntl(fx->in[1], F_SETFL, O_NONBLOCK);
	fcntl(fx->out[0], F_SETFL, O_NONBLOCK);
	fcntl(fx->err[0], F_SETFL, O_NONBLOCK);
	/* Room for more than a window in the process's stdout pipe. */
	fcntl(fx->out[1], F_SETPIPE_SZ, 1 << 20);
}

static void teardown(void)
{
	while (fx->a.processes)
		agent_process_free(fx->a.processes);
	agent_channel_close(&fx->a.ctl);
	agent_channel_close(&fx->a.io);
	event_loop_free(fx->a.loop);
	close(fx->host_ctl);
	close(fx->host_io);
	if (fx->in[0] >= 0)
		close(fx->in[0]);
	if (fx->out[1] >= 0)
		close(fx->out[1]);
	if (fx->err[1] >= 0)
		close(fx->err[1]);
	free(fx->c.id);
	free(fx);
}

/* Runs the agent's loop and gathers what it sends to the host. */
static void spin(int rounds)
{
	for (int i = 0; i < rounds; i++) {
		cleanup_error kata_error_t err = NULL;
		ssize_t n;

		ck_assert_int_ge(event_loop_run_once(fx->a.loop, 5, &err), 0);
		while ((n = recv(fx->host_ctl, fx->ctl_buf + fx->ctl_len,
		                 sizeof(fx->ctl_buf) - fx->ctl_len, MSG_DONTWAIT)) > 0)
			fx->ctl_len += (size_t)n;
		while ((n = recv(fx->host_io, fx->io_buf + fx->io_len,
		                 sizeof(fx->io_buf) - fx->io_len, MSG_DONTWAIT)) > 0)
			fx->io_len += (size_t)n;
	}
}

/* Bytes of stream seq sent so far (data frames only), and whether its EOF came. */
static size_t stream_bytes(uint64_t seq, bool *eof, char *copy, size_t copy_size)
{
	size_t off = 0, total = 0;

	*eof = false;
	while (off + 12 <= fx->io_len) {
		uint32_t len = get_be32(fx->io_buf + off + 8);

		ck_assert_uint_ge(len, 12);
		ck_assert_uint_le(len, AGENT_IO_MAX_FRAME);
		if (off + len > fx->io_len)
			break;
		if (get_be64(fx->io_buf + off) == seq) {
			if (len == 12)
				*eof = true;
			ck_assert(!(*eof && len > 12));
			if (copy && total + len - 12 <= copy_size)
				memcpy(copy + total, fx->io_buf + off + 12, len - 12);
			total += len - 12;
		}
		off += len;
	}
	return total;
}

static void host_io(uint64_t seq, const void *data, size_t len)
{
	unsigned char header[12];

	put_be64(header, seq);
	put_be32(header + 8, (uint32_t)(12 + len));
	ck_assert_int_eq(write(fx->host_io, header, 12), 12);
	if (len)
		ck_assert_int_eq(write(fx->host_io, data, len), (ssize_t)len);
}

static void host_credit(uint64_t seq, uint32_t bytes)
{
	unsigned char payload[12];

	put_be64(payload, seq);
	put_be32(payload + 8, bytes);
	host_io(AGENT_IO_CREDIT_SEQ, payload, sizeof(payload));
}

static struct agent_process *add_process(bool terminal)
{
	struct agent_process *p = agent_process_add(&fx->a, &fx->c, "p1", 999999, terminal,
	                                            fx->in[1], fx->out[0], fx->err[0], -1, 1, 2);

	fx->in[1] = fx->out[0] = fx->err[0] = -1; /* the agent owns them now */
	return p;
}

START_TEST(test_output_eof_then_exit_report)
{
	struct agent_process *p = add_process(false);
	char got[64];
	bool eof;

	ck_assert_int_eq(write(fx->out[1], "hello\n", 6), 6);
	ck_assert_int_eq(write(fx->err[1], "oops\n", 5), 5);
	spin(5);
	ck_assert_uint_eq(stream_bytes(1, &eof, got, sizeof(got)), 6);
	ck_assert_mem_eq(got, "hello\n", 6);
	ck_assert(!eof);
	/* The process exits before its pipes are done: no report until both EOFs. */
	agent_process_exited(p, W_EXITCODE(3, 0));
	spin(3);
	ck_assert_uint_eq(fx->ctl_len, 0);
	close(fx->out[1]);
	fx->out[1] = -1;
	spin(3);
	stream_bytes(1, &eof, NULL, 0);
	ck_assert(eof);
	ck_assert_uint_eq(fx->ctl_len, 0);
	close(fx->err[1]);
	fx->err[1] = -1;
	spin(3);
	ck_assert_uint_eq(stream_bytes(2, &eof, got, sizeof(got)), 5);
	ck_assert(eof);
	/* Now the report: code 23 and the JSON. */
	ck_assert_uint_ge(fx->ctl_len, 8);
	ck_assert_uint_eq(get_be32(fx->ctl_buf), AGENT_PROCESSASYNCEVENT);
	ck_assert_uint_eq(get_be32(fx->ctl_buf + 4), fx->ctl_len);
	fx->ctl_buf[fx->ctl_len] = '\0';
	ck_assert_str_eq((char *)fx->ctl_buf + 8, "{\"container\":\"c1\",\"process\":\"p1\","
	                                          "\"event\":\"finished\",\"status\":3}");
}
END_TEST

START_TEST(test_signal_status)
{
	struct agent_process *p = add_process(false);

	close(fx->out[1]);
	close(fx->err[1]);
	fx->out[1] = fx->err[1] = -1;
	agent_process_exited(p, W_EXITCODE(0, SIGKILL) | SIGKILL);
	spin(5);
	fx->ctl_buf[fx->ctl_len] = '\0';
	ck_assert_ptr_nonnull(strstr((char *)fx->ctl_buf + 8, "\"status\":137"));
}
END_TEST

START_TEST(test_window_and_credits)
{
	size_t total = AGENT_IO_INITIAL_WINDOW + 300 * 1024;
	char *data = xmalloc(total);
	bool eof;

	add_process(false);
	for (size_t i = 0; i < total; i++)
		data[i] = (char)(i * 13);
	/* In two writes: the pipe holds 1 MiB at most, the window itself. */
	ck_assert_int_eq(write(fx->out[1], data, AGENT_IO_INITIAL_WINDOW),
	                 (ssize_t)AGENT_IO_INITIAL_WINDOW);
	spin(40);
	ck_assert_int_eq(
	        write(fx->out[1], data + AGENT_IO_INITIAL_WINDOW, total - AGENT_IO_INITIAL_WINDOW),
	        (ssize_t)(total - AGENT_IO_INITIAL_WINDOW));
	spin(40);
	/* Exactly the window, not a byte more, until the host grants credits. */
	ck_assert_uint_eq(stream_bytes(1, &eof, NULL, 0), AGENT_IO_INITIAL_WINDOW);
	host_credit(1, 100000);
	spin(20);
	ck_assert_uint_eq(stream_bytes(1, &eof, NULL, 0), AGENT_IO_INITIAL_WINDOW + 100000);
	/* Credits for an unknown stream, or malformed, change nothing. */
	host_credit(77, 1000000);
	host_io(AGENT_IO_CREDIT_SEQ, "xx", 2);
	spin(10);
	ck_assert_uint_eq(stream_bytes(1, &eof, NULL, 0), AGENT_IO_INITIAL_WINDOW + 100000);
	host_credit(1, 1u << 30);
	close(fx->out[1]);
	fx->out[1] = -1;
	spin(60);
	{
		char *got = xmalloc(total);

		ck_assert_uint_eq(stream_bytes(1, &eof, got, total), total);
		ck_assert(eof);
		ck_assert_mem_eq(got, data, total);
		free(got);
	}
	free(data);
}
END_TEST

START_TEST(test_stdin_and_eof)
{
	char buf[64];

	add_process(false);
	host_io(1, "data", 4);
	host_io(99, "lost", 4); /* no such stream: dropped */
	spin(5);
	ck_assert_int_eq(read(fx->in[0], buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "data", 4);
	host_io(1, NULL, 0);
	spin(5);
	ck_assert_int_eq(read(fx->in[0], buf, sizeof(buf)), 0);
}
END_TEST

/* One control command, and the agent's answer. */
static uint32_t command(uint32_t code, const char *json, char *answer, size_t size)
{
	size_t len = json ? strlen(json) : 0;
	unsigned char header[8];
	uint32_t frame_len;

	put_be32(header, code);
	put_be32(header + 4, (uint32_t)(8 + len));
	fx->ctl_len = 0;
	ck_assert_int_eq(write(fx->host_ctl, header, 8), 8);
	if (len)
		ck_assert_int_eq(write(fx->host_ctl, json, len), (ssize_t)len);
	for (int i = 0; i < 50 && fx->ctl_len < 8; i++)
		spin(1);
	ck_assert_uint_ge(fx->ctl_len, 8);
	frame_len = get_be32(fx->ctl_buf + 4);
	ck_assert_uint_eq(frame_len, fx->ctl_len);
	ck_assert_uint_lt(frame_len - 8, size);
	memcpy(answer, fx->ctl_buf + 8, frame_len - 8);
	answer[frame_len - 8] = '\0';
	return get_be32(fx->ctl_buf);
}

START_TEST(test_control_dispatch)
{
	char answer[1024];

	ck_assert_uint_eq(command(AGENT_PING, NULL, answer, sizeof(answer)), AGENT_ACK);
	ck_assert_str_eq(answer, "");
	ck_assert_uint_eq(command(AGENT_GETVERSION, NULL, answer, sizeof(answer)), AGENT_ACK);
	ck_assert_uint_eq(get_be32((unsigned char *)answer), 4244);
	ck_assert_uint_eq(command(99, NULL, answer, sizeof(answer)), AGENT_ERROR);
	ck_assert_str_eq(answer, "{\"message\":\"unknown command code 99\"}");
	ck_assert_uint_eq(command(AGENT_EXECCMD, "{\"container\":", answer, sizeof(answer)),
	                  AGENT_ERROR);
	ck_assert_ptr_nonnull(strstr(answer, "EXECCMD: malformed JSON"));
	ck_assert_uint_eq(command(AGENT_KILLCONTAINER, "{\"container\":\"zz\",\"signal\":9}",
	                          answer, sizeof(answer)),
	                  AGENT_ERROR);
	ck_assert_str_eq(answer, "{\"message\":\"KILLCONTAINER: no container `zz`\"}");
	ck_assert_uint_eq(command(AGENT_WINSIZE, "{\"container\":\"c1\",\"row\":1,\"column\":2}",
	                          answer, sizeof(answer)),
	                  AGENT_ERROR);
	/* PING ignores a payload it does not need. */
	ck_assert_uint_eq(command(AGENT_PING, "garbage", answer, sizeof(answer)), AGENT_ACK);
}
END_TEST

START_TEST(test_oversized_command)
{
	unsigned char header[8];
	char answer[256];
	size_t skip = AGENT_CTL_MAX_FRAME + 8;
	char *junk = xzalloc(65536);

	put_be32(header, AGENT_NEWCONTAINER);
	put_be32(header + 4, (uint32_t)(skip + 8));
	ck_assert_int_eq(write(fx->host_ctl, header, 8), 8);
	spin(3);
	ck_assert_uint_eq(get_be32(fx->ctl_buf), AGENT_ERROR);
	fx->ctl_len = 0;
	while (skip > 0) {
		size_t n = skip < 65536 ? skip : 65536;
		ssize_t w = write(fx->host_ctl, junk, n);

		ck_assert_int_gt(w, 0);
		skip -= (size_t)w;
		spin(1);
	}
	ck_assert_uint_eq(fx->ctl_len, 0);
	ck_assert_uint_eq(command(AGENT_PING, NULL, answer, sizeof(answer)), AGENT_ACK);
	free(junk);
}
END_TEST

static void write_text(const char *dir, const char *name, const char *text)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

static void read_text(const char *dir, const char *name, char *buf, size_t size)
{
	cleanup_free char *path = xasprintf("%s/%s", dir, name);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	ck_assert_int_ge(fd, 0);
	n = read(fd, buf, size - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
}

/* ONLINECPUMEM {"cpus": 2} waits on the loop until the hot-plugged CPU appears (a fake
 * /sys/devices/system), onlines it, answers; a PING sent with it is answered after it. */
START_TEST(test_onlinecpumem_waits_in_order)
{
	static const char want[] = "{\"cpus\":2,\"memoryMiB\":256}";
	cleanup_free char *root = xasprintf("%s/waits", unit_test_dir);
	const char *saved_devices = agent_system_devices_root, *saved_cgroups = agent_cgroup_root;
	cleanup_free char *cpu = NULL, *memory = NULL;
	unsigned char frames[2 * 8 + sizeof(want) - 1];
	char text[256];
	uint32_t len;

	ck_assert_int_eq(mkdir(root, 0755), 0);
	cpu = xasprintf("%s/cpu", root);
	memory = xasprintf("%s/memory", root);
	ck_assert_int_eq(mkdir(cpu, 0755), 0);
	ck_assert_int_eq(mkdir(memory, 0755), 0);
	write_text(cpu, "online", "0\n");
	write_text(memory, "block_size_bytes", "8000000\n");
	for (int i = 0; i < 2; i++) {
		cleanup_free char *block = xasprintf("%s/memory%d", memory, i);

		ck_assert_int_eq(mkdir(block, 0755), 0);
		write_text(block, "state", "online\n");
	}
	agent_system_devices_root = root;
	agent_cgroup_root = root; /* no cpuset there: nothing for the containers' parent */

	/* both commands in one write: the PING waits behind the pending answer */
	put_be32(frames, AGENT_ONLINECPUMEM);
	put_be32(frames + 4, 8 + sizeof(want) - 1);
	memcpy(frames + 8, want, sizeof(want) - 1);
	put_be32(frames + 8 + sizeof(want) - 1, AGENT_PING);
	put_be32(frames + 12 + sizeof(want) - 1, 8);
	fx->ctl_len = 0;
	ck_assert_int_eq(write(fx->host_ctl, frames, sizeof(frames)), (ssize_t)sizeof(frames));
	spin(20);
	ck_assert_uint_eq(fx->ctl_len, 0);

	/* ACPI announces the CPU: offline, until the agent onlines it */
	{
		cleanup_free char *cpu1 = xasprintf("%s/cpu1", cpu);

		ck_assert_int_eq(mkdir(cpu1, 0755), 0);
		write_text(cpu1, "online", "0\n");
		write_text(cpu, "online", "0-1\n");
		for (int i = 0; i < 100 && fx->ctl_len < 8 * 2 + 60; i++)
			spin(1);
		read_text(cpu1, "online", text, sizeof(text));
		ck_assert_str_eq(text, "1\n");
	}
	ck_assert_uint_eq(get_be32(fx->ctl_buf), AGENT_ACK);
	len = get_be32(fx->ctl_buf + 4);
	ck_assert_uint_lt(len, sizeof(text));
	ck_assert_uint_ge(fx->ctl_len, len + 8);
	memcpy(text, fx->ctl_buf + 8, len - 8);
	text[len - 8] = '\0';
	ck_assert_str_eq(text,
	                 "{\"cpus\":1,\"memory\":0,\"onlineCpus\":2,\"onlineMemoryMiB\":256}");
	ck_assert_uint_eq(get_be32(fx->ctl_buf + len), AGENT_ACK);
	ck_assert_uint_eq(get_be32(fx->ctl_buf + len + 4), 8);
	ck_assert_uint_eq(fx->ctl_len, len + 8);
	ck_assert(!fx->a.ctl_answer_pending);
	ck_assert_ptr_null(fx->a.ctl_backlog);

	agent_system_devices_root = saved_devices;
	agent_cgroup_root = saved_cgroups;
}
END_TEST

/* Without a payload (hyperstart's form) it onlines what is there once and answers at once. */
START_TEST(test_onlinecpumem_without_payload)
{
	cleanup_free char *root = xasprintf("%s/once", unit_test_dir);
	const char *saved_devices = agent_system_devices_root, *saved_cgroups = agent_cgroup_root;
	char answer[256];

	ck_assert_int_eq(mkdir(root, 0755), 0);
	agent_system_devices_root = root;
	agent_cgroup_root = root;
	ck_assert_uint_eq(command(AGENT_ONLINECPUMEM, NULL, answer, sizeof(answer)), AGENT_ACK);
	ck_assert_str_eq(answer,
	                 "{\"cpus\":0,\"memory\":0,\"onlineCpus\":0,\"onlineMemoryMiB\":0}");
	ck_assert_uint_eq(command(AGENT_ONLINECPUMEM, "{\"cpus\":\"two\"}", answer, sizeof(answer)),
	                  AGENT_ERROR);
	ck_assert_ptr_nonnull(strstr(answer, "ONLINECPUMEM"));
	agent_system_devices_root = saved_devices;
	agent_cgroup_root = saved_cgroups;
}
END_TEST

static Suite *streams_suite(void)
{
	Suite *s = suite_create("agent_streams");
	TCase *tc = tcase_create("streams");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_output_eof_then_exit_report);
	tcase_add_test(tc, test_signal_status);
	tcase_add_test(tc, test_window_and_credits);
	tcase_add_test(tc, test_stdin_and_eof);
	tcase_add_test(tc, test_control_dispatch);
	tcase_add_test(tc, test_oversized_command);
	tcase_add_test(tc, test_onlinecpumem_waits_in_order);
	tcase_add_test(tc, test_onlinecpumem_without_payload);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = streams_suite,
	.test_dir = "kata-test-agent-streams",
};
