/* kata-shim with the real kata-proxy in front of the fake agent: the whole host side of
 * one process, as kata-runtime sets it up (RegisterVM, a token, EXECCMD, the shim). */
#include "tests/fakes/fake_proxy.h"
#include "tests/fakes/proxy_harness.h"
#include "agent_proto.h"
#include "cleanup.h"

#include "check_main.h"
#include <json-c/json.h>
#include <fcntl.h>
#include <limits.h>
#include <pty.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <stdio.h>
#include <unistd.h>

#define WAIT_MS 10000

static struct proxy_harness h;
static struct proxy_io_tokens io;
static struct fake_proxy *pump; /* drains the shim's stdout and stderr */
static struct fake_client client;
static char shim_path[PATH_MAX];

static void cleanup_all(void)
{
	fake_client_release(pump, &client);
	fake_proxy_free(pump);
	pump = NULL;
	proxy_io_tokens_clear(&io);
	harness_stop(&h);
}

static void setup(void)
{
	const char *build = getenv("KATA_BUILD_DIR");
	cleanup_free char *bin = xasprintf("%s/kata-shim", build != NULL ? build : "build");
	struct fake_agent_config cfg = { .dialect = FAKE_AGENT_KATA };

	memset(&client, 0, sizeof(client));
	client.stdin_fd = client.out.fd = client.err.fd = -1;
	ck_assert_msg(realpath(bin, shim_path) != NULL, "no kata-shim at %s", bin);
	atexit(cleanup_all);
	ck_assert_int_eq(harness_start(&h, &cfg, NULL), 0);
	ck_assert_int_eq(harness_register(&h, 1, &io), 0);
	pump = fake_proxy_new(NULL, NULL);
}

static void teardown(void)
{
	cleanup_all();
}

static void start_shim(void)
{
	char *argv[] = { shim_path, "-c", "c1", "-t", io.tokens[0], "-u", io.url, NULL };
	cleanup_error kata_error_t err = NULL;

	ck_assert_msg(fake_proxy_spawn(pump, argv, NULL, NULL, &client, &err) == 0, "%s",
	              err ? err->message : "");
}

static void exec_process(const char *id, const char *const *steps)
{
	cleanup_error kata_error_t err = NULL;
	json_object *data = json_object_new_object();
	json_object *process = json_object_new_object();
	json_object *args = json_object_new_array();
	const char *token = io.tokens[0];
	json_object *result;

	for (size_t i = 0; steps[i] != NULL; i++)
		json_object_array_add(args, json_object_new_string(steps[i]));
	json_object_object_add(data, "container", json_object_new_string("c1"));
	json_object_object_add(process, "id", json_object_new_string(id));
	json_object_object_add(process, "terminal", json_object_new_boolean(false));
	json_object_object_add(process, "args", args);
	json_object_object_add(process, "envs", json_object_new_array());
	json_object_object_add(process, "workdir", json_object_new_string("/"));
	json_object_object_add(data, "process", process);
	result = proxy_hyper(h.conn, "execcmd", &token, 1, data, &err);
	ck_assert_msg(err == NULL, "execcmd: %s", err ? err->message : "");
	json_object_put(result);
	json_object_put(data);
}

static int wait_exit_code(void)
{
	int status = fake_client_wait(pump, &client, WAIT_MS);

	ck_assert_msg(status != -1, "kata-shim did not exit");
	ck_assert_msg(WIFEXITED(status), "kata-shim died of signal %d", WTERMSIG(status));
	return WEXITSTATUS(status);
}

/* The process's exit status as the fake agent saw it; on a timeout the proxy's log is
 * shown, to tell a proxy's fault from a shim's. */
static int wait_process_end(const char *process)
{
	int status = fake_agent_wait_process_end(h.agent, process, WAIT_MS);
	cleanup_free char *log = NULL;
	FILE *f;
	char line[512];

	if (status >= 0)
		return status;
	log = xasprintf("%s/proxy.log", h.dir);
	f = fopen(log, "r");
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		fprintf(stderr, "proxy.log: %s", line);
	if (f != NULL)
		fclose(f);
	return status;
}

START_TEST(test_output_and_exit_status)
{
	const char *steps[] = { "out:hello\n", "err:oops\n", "bulk:3000000", "exit:3", NULL };

	start_shim();
	exec_process("p1", steps);
	ck_assert_int_eq(wait_exit_code(), 3);
	ck_assert_uint_eq(client.out.len, 6 + 3000000);
	ck_assert_mem_eq(client.out.data, "hello\n", 6);
	for (size_t i = 0; i < 3000000; i++)
		if (client.out.data[6 + i] != (char)('a' + i % 26))
			ck_abort_msg("stdout byte %zu differs", i);
	ck_assert_uint_eq(client.err.len, 5);
	ck_assert_mem_eq(client.err.data, "oops\n", 5);
}
END_TEST

START_TEST(test_output_before_the_shim_connects)
{
	const char *steps[] = { "out:early\n", "exit:0", NULL };

	exec_process("p1", steps);
	ck_assert_int_eq(wait_process_end("p1"), 0);
	start_shim();
	ck_assert_int_eq(wait_exit_code(), 0);
	ck_assert_str_eq(client.out.data, "early\n");
}
END_TEST

START_TEST(test_stdin_through_cat)
{
	const char *steps[] = { "cat", "exit:0", NULL };

	start_shim();
	exec_process("p1", steps);
	ck_assert_int_eq(fake_client_write_stdin(pump, &client, "ping\n", 5, WAIT_MS), 0);
	fake_client_close_stdin(&client);
	ck_assert_int_eq(wait_exit_code(), 0);
	ck_assert_str_eq(client.out.data, "ping\n");
}
END_TEST

START_TEST(test_sigterm_reaches_the_process)
{
	const char *steps[] = { "wait", NULL };

	start_shim();
	exec_process("p1", steps);
	fake_proxy_pump_for(pump, 200);
	ck_assert_int_eq(kill(client.pid, SIGTERM), 0);
	ck_assert_int_eq(wait_exit_code(), 128 + SIGTERM);
}
END_TEST

START_TEST(test_sigkill_of_the_shim_kills_the_process)
{
	const char *steps[] = { "wait", NULL };
	int status;

	start_shim();
	exec_process("p1", steps);
	fake_proxy_pump_for(pump, 200);
	ck_assert_int_eq(kill(client.pid, SIGKILL), 0);
	status = fake_client_wait(pump, &client, WAIT_MS);
	ck_assert(WIFSIGNALED(status));
	ck_assert_int_eq(wait_process_end("p1"), 128 + SIGKILL);
}
END_TEST

static void expect_winsize(int rows, int columns)
{
	json_object *cmd = fake_agent_wait_command(h.agent, AGENT_WINSIZE, WAIT_MS);

	ck_assert_msg(cmd != NULL, "no WINSIZE %dx%d", rows, columns);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(cmd, "process")), "p1");
	ck_assert_int_eq(json_object_get_int(json_object_object_get(cmd, "row")), rows);
	ck_assert_int_eq(json_object_get_int(json_object_object_get(cmd, "column")), columns);
	json_object_put(cmd);
}

/* As kata-runtime does it: the process first, then its shim, here on a terminal. */
START_TEST(test_terminal_size_reaches_the_agent)
{
	const char *steps[] = { "wait", NULL };
	struct winsize ws = { .ws_row = 24, .ws_col = 80 };
	char *argv[] = { shim_path, "-c", "c1", "-t", io.tokens[0], "-u", io.url, NULL };
	int master = -1;
	pid_t pid;

	exec_process("p1", steps);
	pid = forkpty(&master, NULL, NULL, &ws);
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		sigset_t none;
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		execv(argv[0], argv);
		_exit(127);
	}
	client.pid = pid;
	client.out.fd = master;
	fcntl(master, F_SETFL, O_NONBLOCK);
	fake_proxy_add_capture(pump, &client.out);
	expect_winsize(24, 80);
	ws.ws_row = 40;
	ws.ws_col = 120;
	ck_assert_int_eq(ioctl(master, TIOCSWINSZ, &ws), 0);
	expect_winsize(40, 120);
	ck_assert_int_eq(kill(client.pid, SIGHUP), 0);
	ck_assert_int_eq(wait_exit_code(), 128 + SIGHUP);
}
END_TEST

START_TEST(test_big_stdin_from_a_file_through_cat)
{
	const char *steps[] = { "cat", "exit:0", NULL };
	char *argv[] = { shim_path, "-c", "c1", "-t", io.tokens[0], "-u", io.url, NULL };
	const size_t len = 3000000;
	cleanup_free char *data = xmalloc(len);
	cleanup_free char *path = xasprintf("%s/stdin.bin", h.dir);
	cleanup_error kata_error_t err = NULL;
	FILE *f;

	for (size_t i = 0; i < len; i++)
		data[i] = (char)(i * 31 + i / 977);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(data, 1, len, f), len);
	fclose(f);
	exec_process("p1", steps);
	ck_assert_msg(fake_proxy_spawn(pump, argv, path, NULL, &client, &err) == 0, "%s",
	              err ? err->message : "");
	ck_assert_int_eq(wait_exit_code(), 0);
	unlink(path);
	ck_assert_uint_eq(client.out.len, len);
	ck_assert_msg(memcmp(client.out.data, data, len) == 0, "stdout differs");
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("kata-shim with kata-proxy");
	TCase *tc = tcase_create("proxy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_output_and_exit_status);
	tcase_add_test(tc, test_output_before_the_shim_connects);
	tcase_add_test(tc, test_stdin_through_cat);
	tcase_add_test(tc, test_big_stdin_from_a_file_through_cat);
	tcase_add_test(tc, test_sigterm_reaches_the_process);
	tcase_add_test(tc, test_sigkill_of_the_shim_kills_the_process);
	tcase_add_test(tc, test_terminal_size_reaches_the_agent);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = suite,
	.test_dir = "kata-test-shim-with-proxy", /* the harness's directories (proxy_harness.h) */
};
