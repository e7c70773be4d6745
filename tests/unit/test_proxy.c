/* kata-proxy, the real binary, against the fake agent: commands, tokens, rewriting,
 * output and exit codes, signals, the shim's death, the VM's death. */
#include "check_main.h"
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "process.h"
#include "tests/fakes/proxy_harness.h"

#define WAIT_MS   10000
#define WAIT_PATH "/dev/.kata-hyperstart/kata-hyperstart-wait"

static struct proxy_harness h;
static struct proxy_io_tokens io;

static void start(enum fake_agent_dialect dialect, const char *const *extra)
{
	struct fake_agent_config cfg = { .dialect = dialect };

	ck_assert_int_eq(harness_start(&h, &cfg, extra), 0);
}

static void stop(void)
{
	proxy_io_tokens_clear(&io);
	harness_stop(&h);
}

/* An EXECCMD for token `token`, running `steps`, in container c1 as process `id`. */
static json_object *exec_data(const char *id, const char *const *steps, bool terminal)
{
	json_object *data = json_object_new_object();
	json_object *process = json_object_new_object();
	json_object *args = json_object_new_array();

	for (size_t i = 0; steps[i] != NULL; i++)
		json_object_array_add(args, json_object_new_string(steps[i]));
	json_object_object_add(data, "container", json_object_new_string("c1"));
	if (id != NULL)
		json_object_object_add(process, "id", json_object_new_string(id));
	json_object_object_add(process, "terminal", json_object_new_boolean(terminal));
	json_object_object_add(process, "stdio", json_object_new_int(999));
	json_object_object_add(process, "stderr", json_object_new_int(999));
	json_object_object_add(process, "args", args);
	json_object_object_add(process, "envs", json_object_new_array());
	json_object_object_add(process, "workdir", json_object_new_string("/"));
	json_object_object_add(data, "process", process);
	return data;
}

static void exec_process(const char *token, const char *id, const char *const *steps)
{
	cleanup_error kata_error_t err = NULL;
	json_object *data = exec_data(id, steps, false);
	json_object *result = proxy_hyper(h.conn, "execcmd", &token, 1, data, &err);

	ck_assert_msg(err == NULL, "execcmd: %s", err ? err->message : "");
	json_object_put(result);
	json_object_put(data);
}

static bool valid_token(const char *t)
{
	if (strlen(t) != 44 || t[43] != '=')
		return false;
	for (int i = 0; i < 43; i++)
		if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_",
		            t[i]))
			return false;
	return true;
}

START_TEST(test_register_attach_tokens)
{
	cleanup_error kata_error_t err = NULL;
	struct proxy_io_tokens more = { 0 };
	json_object *result;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 2, &io), 0);
	ck_assert_uint_eq(io.count, 2);
	ck_assert(valid_token(io.tokens[0]) && valid_token(io.tokens[1]));
	ck_assert_str_ne(io.tokens[0], io.tokens[1]);
	ck_assert_ptr_nonnull(strstr(io.url, h.socket_path));
	ck_assert(strncmp(io.url, "unix://", 7) == 0);

	/* one VM per proxy */
	ck_assert_int_lt(proxy_register_vm(h.conn, "other", NULL, NULL, NULL, 1, &more, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "already registered"));
	kata_error_free(&err);

	ck_assert_int_eq(proxy_attach_vm(h.conn, "sandbox", 3, &more, &err), 0);
	ck_assert_uint_eq(more.count, 3);
	ck_assert_str_ne(more.tokens[0], io.tokens[0]);
	proxy_io_tokens_clear(&more);
	ck_assert_int_lt(proxy_attach_vm(h.conn, "nope", 1, &more, &err), 0);
	kata_error_free(&err);

	/* the response carries the protocol version */
	json_object *req = json_object_new_object();
	json_object_object_add(req, "containerId", json_object_new_string("sandbox"));
	result = proxy_conn_command(h.conn, 2, req, &err);
	ck_assert_ptr_nonnull(result);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(result, "version")), 2);
	json_object_put(result);
	json_object_put(req);
	stop();
}
END_TEST

START_TEST(test_hyper_forwarding)
{
	cleanup_error kata_error_t err = NULL;
	json_object *result, *data, *cmd;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 0, NULL), 0);
	result = proxy_hyper(h.conn, "ping", NULL, 0, NULL, &err);
	ck_assert_ptr_null(err);
	ck_assert_ptr_null(result);

	result = proxy_hyper(h.conn, "version", NULL, 0, NULL, &err);
	ck_assert_ptr_nonnull(result);
	ck_assert_int_eq(json_object_get_int(result), 4244);
	json_object_put(result);

	/* JSON results come back as they are */
	fake_agent_set_ack_payload(h.agent, AGENT_PSCONTAINER, "{\"pids\":[1,2]}", 14);
	result = proxy_hyper(h.conn, "pscontainer", NULL, 0, NULL, &err);
	ck_assert_ptr_nonnull(result);
	ck_assert_int_eq(json_object_array_length(json_object_object_get(result, "pids")), 2);
	json_object_put(result);

	/* the data reaches the agent untouched */
	data = json_tokener_parse("{\"hostname\":\"hs\",\"shareDir\":\"kataShared\"}");
	result = proxy_hyper(h.conn, "startpod", NULL, 0, data, &err);
	ck_assert_ptr_null(err);
	cmd = fake_agent_wait_command(h.agent, AGENT_STARTPOD, WAIT_MS);
	ck_assert_ptr_nonnull(cmd);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(cmd, "shareDir")),
	                 "kataShared");
	json_object_put(cmd);
	json_object_put(data);

	/* ERROR becomes an error response with the agent's message */
	fake_agent_fail_next(h.agent, AGENT_KILLCONTAINER, "no such container");
	result = proxy_hyper(h.conn, "killcontainer", NULL, 0, NULL, &err);
	ck_assert_ptr_null(result);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "no such container"));
	kata_error_free(&err);

	result = proxy_hyper(h.conn, "frobnicate", NULL, 0, NULL, &err);
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "unknown agent command"));
	kata_error_free(&err);

	/* and the proxy still serves */
	result = proxy_hyper(h.conn, "ping", NULL, 0, NULL, &err);
	ck_assert_ptr_null(err);
	stop();
}
END_TEST

START_TEST(test_exec_rewrites_streams)
{
	static const char *const steps[] = { "out:hello\n", "err:oops\n", "exit:3", NULL };
	struct test_shim shim;
	json_object *cmd, *process;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 2, &io), 0);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[1]), 0);
	exec_process(io.tokens[1], "p1", steps);

	cmd = fake_agent_wait_command(h.agent, AGENT_EXECCMD, WAIT_MS);
	ck_assert_ptr_nonnull(cmd);
	process = json_object_object_get(cmd, "process");
	/* the second token owns streams 3 (stdio) and 4 (stderr) */
	ck_assert_int_eq(json_object_get_int(json_object_object_get(process, "stdio")), 3);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(process, "stderr")), 4);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(process, "id")), "p1");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(cmd, "container")), "c1");
	json_object_put(cmd);

	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 3);
	ck_assert_str_eq((char *)shim.out, "hello\n");
	ck_assert_str_eq((char *)shim.err, "oops\n");
	ck_assert_int_eq(shim.error_responses, 0);
	shim_close(&shim);
	stop();
}
END_TEST

START_TEST(test_output_before_shim_connects)
{
	static const char *const steps[] = { "out:early\n", "bulk:1300000", "exit:7", NULL };
	struct test_shim shim;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	exec_process(io.tokens[0], "p1", steps);
	/* without a shim the agent stops at its window: the process cannot end */
	ck_assert_int_eq(fake_agent_wait_process_end(h.agent, "p1", 500), -1);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 7);
	ck_assert_uint_eq(shim.out_len, 6 + 1300000);
	ck_assert(memcmp(shim.out, "early\n", 6) == 0);
	for (size_t i = 0; i < 1300000; i++)
		ck_assert_int_eq(shim.out[6 + i], 'a' + i % 26);
	ck_assert_uint_ge(fake_agent_credits(h.agent, 1), 1300000 - AGENT_IO_INITIAL_WINDOW);
	shim_close(&shim);
	stop();
}
END_TEST

/* The agent's oomKilled reaches the shim as ProcessOOMKilled, just before ProcessExited and
 * after all output, only when it is the boolean true. */
START_TEST(test_oom_killed_notification)
{
	static const char *const killed[] = { "out:x\n", "oom:true", "exit:137", NULL };
	static const char *const not_killed[] = { "oom:false", "exit:137", NULL };
	static const char *const mistyped[] = { "oom:\"yes\"", "exit:137", NULL };
	static const char *const *const steps[] = { killed, not_killed, mistyped };
	static const int want_oom[] = { 1, 0, 0 };
	struct test_shim shims[3];

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 3, &io), 0);
	for (int i = 0; i < 3; i++) {
		char id[8];

		snprintf(id, sizeof(id), "p%d", i);
		ck_assert_int_eq(shim_connect(&shims[i], h.socket_path, io.tokens[i]), 0);
		exec_process(io.tokens[i], id, steps[i]);
	}
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(shim_wait_exit(&shims[i], WAIT_MS), 137);
		ck_assert_int_eq(shims[i].oom_notifications, want_oom[i]);
		ck_assert_int_eq(shims[i].oom_after_exit, 0);
	}
	ck_assert_str_eq((char *)shims[0].out, "x\n");
	for (int i = 0; i < 3; i++)
		shim_close(&shims[i]);
	stop();
}
END_TEST

START_TEST(test_exit_kept_until_shim_connects)
{
	static const char *const steps[] = { "out:bye\n", "exit:0", NULL };
	struct test_shim shim;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	exec_process(io.tokens[0], NULL, steps); /* no id: the proxy names it */
	ck_assert_int_eq(fake_agent_wait_process_end(h.agent, "exec-1", WAIT_MS), 0);
	usleep(100 * 1000);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 0);
	ck_assert_str_eq((char *)shim.out, "bye\n");
	shim_close(&shim);
	stop();
}
END_TEST

START_TEST(test_stdin_echo_and_eof)
{
	static const char *const steps[] = { "cat", "exit:0", NULL };
	struct test_shim shim;
	char got[64];
	bool eof = false;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	/* stdin before the process exists is kept for it */
	ck_assert_int_eq(shim_send(&shim, 2, 0, "early ", 6), 0);
	usleep(100 * 1000);
	exec_process(io.tokens[0], "p1", steps);
	ck_assert_int_eq(shim_send(&shim, 2, 0, "input", 5), 0);
	ck_assert_int_eq(shim_send(&shim, 2, 0, NULL, 0), 0); /* EOF */
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 0);
	ck_assert_str_eq((char *)shim.out, "early input");
	ck_assert_int_eq(fake_agent_stdin(h.agent, "p1", got, sizeof(got), &eof), 11);
	ck_assert(eof);
	shim_close(&shim);
	stop();
}
END_TEST

START_TEST(test_signal_and_winsize)
{
	static const char *const steps[] = { "wait", NULL };
	static const char sigterm[] = "{\"signalNumber\":15}";
	static const char winch[] = "{\"signalNumber\": 28, \"rows\":24,\"columns\":80}";
	struct test_shim shim;
	json_object *cmd;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_process(io.tokens[0], "p1", steps);

	ck_assert_int_eq(shim_send(&shim, 0, 6, winch, strlen(winch)), 0);
	cmd = fake_agent_wait_command(h.agent, AGENT_WINSIZE, WAIT_MS);
	ck_assert_ptr_nonnull(cmd);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(cmd, "container")), "c1");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(cmd, "process")), "p1");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(cmd, "row")), 24);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(cmd, "column")), 80);
	json_object_put(cmd);

	ck_assert_int_eq(shim_send(&shim, 0, 6, sigterm, strlen(sigterm)), 0);
	cmd = fake_agent_wait_command(h.agent, AGENT_SIGNALPROCESS, WAIT_MS);
	ck_assert_ptr_nonnull(cmd);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(cmd, "signal")), 15);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(cmd, "process")), "p1");
	json_object_put(cmd);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 143);
	ck_assert_int_eq(shim.error_responses, 0);
	shim_close(&shim);
	stop();
}
END_TEST

START_TEST(test_shim_killed_kills_process)
{
	static const char *const steps[] = { "wait", NULL };
	struct test_shim shim, clean;
	json_object *cmd;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 2, &io), 0);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	ck_assert_int_eq(shim_connect(&clean, h.socket_path, io.tokens[1]), 0);
	exec_process(io.tokens[0], "p1", steps);
	exec_process(io.tokens[1], "p2", steps);
	ck_assert(shim_wait_responses(&shim, 1, WAIT_MS));

	/* a clean DisconnectShim leaves the process alone */
	ck_assert_int_eq(shim_send(&clean, 0, 5, NULL, 0), 0);
	ck_assert(shim_wait_responses(&clean, 2, WAIT_MS));
	shim_close(&clean);
	/* a vanished shim (SIGKILLed) takes its process with it */
	shim_close(&shim);
	cmd = fake_agent_wait_command(h.agent, AGENT_SIGNALPROCESS, WAIT_MS);
	ck_assert_ptr_nonnull(cmd);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(cmd, "process")), "p1");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(cmd, "signal")), 9);
	json_object_put(cmd);
	ck_assert_int_eq(fake_agent_wait_process_end(h.agent, "p1", WAIT_MS), 137);
	usleep(200 * 1000);
	ck_assert_uint_eq(fake_agent_count_commands(h.agent, AGENT_SIGNALPROCESS), 1);
	stop();
}
END_TEST

START_TEST(test_vm_death_ends_shims)
{
	static const char *const steps[] = { "out:x", "wait", NULL };
	struct test_shim shim;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_process(io.tokens[0], "p1", steps);
	shim_pump(&shim, 200);
	fake_agent_close_channels(h.agent);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 255);
	ck_assert_str_eq((char *)shim.out, "x");
	ck_assert_int_eq(harness_wait_exit(&h, WAIT_MS), 1);
	ck_assert_int_ne(access(h.socket_path, F_OK), 0);
	shim_close(&shim);
	stop();
}
END_TEST

static pid_t start_sleeper(void)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		execl("/bin/sleep", "sleep", "100", (char *)NULL);
		_exit(127);
	}
	return pid;
}

/* -watch-pid: when the watched daemon (virtiofsd) exits, the proxy kills -vm-pid. */
START_TEST(test_watched_exit_kills_vm)
{
	pid_t vm = start_sleeper(), daemon = start_sleeper();
	char vm_arg[64], daemon_arg[64];
	const char *extra[] = { "-vm-pid", vm_arg, "-watch-pid", daemon_arg, NULL };
	struct process_id vm_id, daemon_id;
	int status;

	/* With their start times, as the runtime passes them. */
	ck_assert_int_eq(process_identify(vm, &vm_id, NULL), 0);
	ck_assert_int_eq(process_identify(daemon, &daemon_id, NULL), 0);
	snprintf(vm_arg, sizeof(vm_arg), "%d:%llu", vm, (unsigned long long)vm_id.start_time);
	snprintf(daemon_arg, sizeof(daemon_arg), "%d:%llu", daemon,
	         (unsigned long long)daemon_id.start_time);
	start(FAKE_AGENT_KATA, extra);
	ck_assert_int_eq(harness_register(&h, 0, NULL), 0);
	ck_assert_int_eq(waitpid(vm, &status, WNOHANG), 0); /* nothing happens meanwhile */
	kill(daemon, SIGKILL);
	ck_assert_int_eq(waitpid(daemon, &status, 0), daemon);
	ck_assert_int_eq(waitpid(vm, &status, 0), vm);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	stop();
}
END_TEST

START_TEST(test_unregister_exits)
{
	cleanup_error kata_error_t err = NULL;

	start(FAKE_AGENT_KATA, NULL);
	ck_assert_int_eq(harness_register(&h, 0, NULL), 0);
	ck_assert_int_eq(proxy_unregister_vm(h.conn, "sandbox", &err), 0);
	ck_assert_int_eq(harness_wait_exit(&h, WAIT_MS), 0);
	ck_assert_int_ne(access(h.socket_path, F_OK), 0);
	stop();
}
END_TEST

START_TEST(test_agent_timeout)
{
	static const char *const extra[] = { "-agent-timeout", "1", NULL };
	struct fake_agent_config cfg = { .no_reply = true };
	cleanup_error kata_error_t err = NULL;
	int64_t t0;

	ck_assert_int_eq(harness_start(&h, &cfg, extra), 0);
	ck_assert_int_eq(harness_register(&h, 0, NULL), 0);
	t0 = now_ms();
	ck_assert_ptr_null(proxy_hyper(h.conn, "ping", NULL, 0, NULL, &err));
	ck_assert_ptr_nonnull(err);
	ck_assert_ptr_nonnull(strstr(err->message, "did not answer"));
	ck_assert_int_ge(now_ms() - t0, 900);
	ck_assert_int_lt(now_ms() - t0, 15000);
	stop();
}
END_TEST

START_TEST(test_commands_wait_for_ready)
{
	struct fake_agent_config cfg = { .no_ready = true };
	static const char *const extra[] = { "-agent-timeout", "1", NULL };
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(harness_start(&h, &cfg, extra), 0);
	ck_assert_int_eq(harness_register(&h, 0, NULL), 0);
	ck_assert_ptr_null(proxy_hyper(h.conn, "ping", NULL, 0, NULL, &err));
	ck_assert_ptr_nonnull(err);
	ck_assert_uint_eq(fake_agent_count_commands(h.agent, AGENT_PING), 0);
	stop();
}
END_TEST

START_TEST(test_dialect_hyperstart)
{
	static const char *const extra[] = { "-dialect", "hyperstart", NULL };
	/* hyperstart reports no end: kata-hyperstart-wait's file in the share does */
	static const char *const steps[] = { WAIT_PATH, "--status=/dev/.kata-status/p1",
		                             "--",      "out:hello\n",
		                             "exit:3",  NULL };
	cleanup_error kata_error_t err = NULL;
	struct test_shim shim;
	json_object *result;

	start(FAKE_AGENT_HYPERSTART, extra);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	/* NEXT frames come before every answer and are dropped */
	result = proxy_hyper(h.conn, "version", NULL, 0, NULL, &err);
	ck_assert_ptr_nonnull(result);
	ck_assert_int_eq(json_object_get_int(result), 4244);
	json_object_put(result);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_process(io.tokens[0], "p1", steps);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 3);
	ck_assert_str_eq((char *)shim.out, "hello\n");
	ck_assert_uint_eq(fake_agent_credits(h.agent, 1), 0); /* no credits in this dialect */
	shim_close(&shim);
	stop();
}
END_TEST

/* kata-hyperstart-wait writes 128+N for a death by signal N; when SIGKILL kills it, it
 * writes nothing, and the proxy knows the 137 from the SIGKILL it passed on. */
START_TEST(test_dialect_hyperstart_signal_statuses)
{
	static const char *const extra[] = { "-dialect", "hyperstart", NULL };
	static const char *const steps1[] = { WAIT_PATH, "--status=/dev/.kata-status/p1", "--",
		                              "wait", NULL };
	static const char *const steps2[] = { WAIT_PATH, "--status=/dev/.kata-status/p2", "--",
		                              "wait", NULL };
	static const char *const steps3[] = { WAIT_PATH, "--status=/dev/.kata-status/c1", "--",
		                              "wait", NULL };
	static const char sigterm[] = "{\"signalNumber\":15}";
	static const char sigkill[] = "{\"signalNumber\":9}";
	cleanup_error kata_error_t err = NULL;
	struct test_shim term, kill9, init;
	json_object *kill_request;

	start(FAKE_AGENT_HYPERSTART, extra);
	ck_assert_int_eq(harness_register(&h, 3, &io), 0);
	ck_assert_int_eq(shim_connect(&term, h.socket_path, io.tokens[0]), 0);
	ck_assert_int_eq(shim_connect(&kill9, h.socket_path, io.tokens[1]), 0);
	ck_assert_int_eq(shim_connect(&init, h.socket_path, io.tokens[2]), 0);
	exec_process(io.tokens[0], "p1", steps1);
	exec_process(io.tokens[1], "p2", steps2);
	exec_process(io.tokens[2], "c1", steps3); /* the init of c1: named after it */

	ck_assert_int_eq(shim_send(&term, 0, 6, sigterm, strlen(sigterm)), 0);
	ck_assert_int_eq(shim_wait_exit(&term, WAIT_MS), 143);
	ck_assert_int_eq(shim_send(&kill9, 0, 6, sigkill, strlen(sigkill)), 0);
	ck_assert_int_eq(shim_wait_exit(&kill9, WAIT_MS), 137);
	/* kill KILL of the container, as the runtime sends it */
	kill_request = json_object_new_object();
	json_object_object_add(kill_request, "container", json_object_new_string("c1"));
	json_object_object_add(kill_request, "signal", json_object_new_int(9));
	json_object_put(proxy_hyper(h.conn, "killcontainer", NULL, 0, kill_request, &err));
	json_object_put(kill_request);
	ck_assert_ptr_null(err);
	ck_assert_int_eq(shim_wait_exit(&init, WAIT_MS), 137);
	shim_close(&term);
	shim_close(&kill9);
	shim_close(&init);
	stop();
}
END_TEST

/* What hyperstart's parser does not know it refuses, with an ERROR that says nothing. */
START_TEST(test_dialect_hyperstart_refuses_unknown_keys)
{
	static const char *const extra[] = { "-dialect", "hyperstart", NULL };
	cleanup_error kata_error_t err = NULL;
	json_object *pod = json_object_new_object();

	start(FAKE_AGENT_HYPERSTART, extra);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	json_object_object_add(pod, "hostname", json_object_new_string("h"));
	json_object_object_add(pod, "shareDir", json_object_new_string("kataShared"));
	json_object_put(proxy_hyper(h.conn, "startpod", NULL, 0, pod, &err));
	ck_assert_msg(err == NULL, "startpod: %s", err ? err->message : "");
	json_object_object_add(pod, "shareFsType", json_object_new_string("9p"));
	ck_assert_ptr_null(proxy_hyper(h.conn, "startpod", NULL, 0, pod, &err));
	ck_assert_ptr_nonnull(err);
	kata_error_free(&err);
	/* this project's own codes are unknown to it */
	ck_assert_ptr_null(proxy_hyper(h.conn, "startcontainer", NULL, 0, NULL, &err));
	ck_assert_ptr_nonnull(err);
	json_object_put(pod);
	stop();
}
END_TEST

START_TEST(test_dialect_cc)
{
	static const char *const extra[] = { "-dialect", "cc", NULL };
	static const char *const steps[] = { "out:cc\n", "exit:5", NULL };
	struct test_shim shim;

	start(FAKE_AGENT_CC, extra);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	ck_assert_int_eq(shim_connect(&shim, h.socket_path, io.tokens[0]), 0);
	exec_process(io.tokens[0], "p1", steps);
	ck_assert_int_eq(shim_wait_exit(&shim, WAIT_MS), 5);
	ck_assert_str_eq((char *)shim.out, "cc\n");
	shim_close(&shim);
	stop();
}
END_TEST

START_TEST(test_channels_from_register_vm)
{
	struct fake_agent_config cfg = { 0 };
	cleanup_error kata_error_t err = NULL;
	struct proxy_io_tokens none = { 0 };

	static const char *const extra[] = { "-connect-timeout", "1", NULL };

	ck_assert_int_eq(harness_start_without_channels(&h, &cfg, extra), 0);
	/* without the channels on the command line, RegisterVM must name them */
	ck_assert_int_lt(proxy_register_vm(h.conn, "sandbox", NULL, NULL, NULL, 1, &none, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "ctlSerial"));
	kata_error_free(&err);
	ck_assert_int_lt(proxy_register_vm(h.conn, "sandbox", "/nonexistent/ctl", "/nonexistent/io",
	                                   NULL, 1, &none, &err),
	                 0);
	kata_error_free(&err);
	ck_assert_ptr_null(proxy_hyper(h.conn, "ping", NULL, 0, NULL, &err));
	kata_error_free(&err);
	ck_assert_msg(proxy_register_vm(h.conn, "sandbox", fake_agent_ctl_path(h.agent),
	                                fake_agent_io_path(h.agent), NULL, 1, &io, &err) == 0,
	              "RegisterVM: %s", err ? err->message : "");
	ck_assert(fake_agent_wait_connected(h.agent, WAIT_MS));
	json_object_put(proxy_hyper(h.conn, "ping", NULL, 0, NULL, &err));
	ck_assert_ptr_null(err);
	stop();
}
END_TEST

/* A console server: accepts kata-proxy and writes two lines. */
static pid_t console_server(const char *path)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	pid_t pid;

	strcpy(addr.sun_path, path);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	ck_assert_int_eq(listen(fd, 1), 0);
	pid = fork();
	if (pid == 0) {
		int c = accept(fd, NULL, NULL);
		static const char lines[] =
		        "[    0.000000] Linux version 6.1\r\nguest \x01 ready\n";
		(void)!write(c, lines, sizeof(lines) - 1);
		sleep(5);
		_exit(0);
	}
	close(fd);
	return pid;
}

static char console_dir[64];

static void remove_console_dir(void)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/console.sock", console_dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/proxy.log", console_dir);
	unlink(path);
	rmdir(console_dir);
}

START_TEST(test_console_is_logged)
{
	struct fake_agent_config cfg = { 0 };
	char console[128], log[192], text[8192] = "";
	const char *extra[] = { "-console", console, "-log", log, NULL };
	pid_t server;
	FILE *f;

	/* the harness makes the directory: put the console next to it first */
	ck_assert_int_eq(harness_mkdtemp(console), 0); /* removed at the end even on failure */
	strcpy(console_dir, console);
	snprintf(log, sizeof(log), "%s/proxy.log", console);
	strcat(console, "/console.sock");
	server = console_server(console);
	ck_assert_int_eq(harness_start(&h, &cfg, extra), 0);
	for (int i = 0; i < 100 && strstr(text, "guest") == NULL; i++) {
		usleep(20 * 1000);
		f = fopen(log, "r");
		if (f != NULL) {
			size_t n = fread(text, 1, sizeof(text) - 1, f);
			text[n] = '\0';
			fclose(f);
		}
	}
	ck_assert_ptr_nonnull(strstr(text, "vm console: [    0.000000] Linux version 6.1"));
	ck_assert_ptr_nonnull(strstr(text, "vm console: guest   ready"));
	kill(server, SIGKILL);
	waitpid(server, NULL, 0);
	remove_console_dir();
	stop();
}
END_TEST

static Suite *proxy_suite(void)
{
	Suite *s = suite_create("proxy");
	TCase *tc = tcase_create("commands");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_register_attach_tokens);
	tcase_add_test(tc, test_hyper_forwarding);
	tcase_add_test(tc, test_exec_rewrites_streams);
	tcase_add_test(tc, test_output_before_shim_connects);
	tcase_add_test(tc, test_exit_kept_until_shim_connects);
	tcase_add_test(tc, test_oom_killed_notification);
	tcase_add_test(tc, test_stdin_echo_and_eof);
	tcase_add_test(tc, test_signal_and_winsize);
	tcase_add_test(tc, test_shim_killed_kills_process);
	tcase_add_test(tc, test_vm_death_ends_shims);
	tcase_add_test(tc, test_unregister_exits);
	tcase_add_test(tc, test_watched_exit_kills_vm);
	tcase_add_test(tc, test_agent_timeout);
	tcase_add_test(tc, test_commands_wait_for_ready);
	tcase_add_test(tc, test_dialect_hyperstart);
	tcase_add_test(tc, test_dialect_hyperstart_signal_statuses);
	tcase_add_test(tc, test_dialect_hyperstart_refuses_unknown_keys);
	tcase_add_test(tc, test_dialect_cc);
	tcase_add_test(tc, test_channels_from_register_vm);
	tcase_add_test(tc, test_console_is_logged);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = proxy_suite,
	.test_dir = "kata-test-proxy", /* the harness's directories (proxy_harness.h) */
};
