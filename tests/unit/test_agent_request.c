/* The agent's request parsing (agent/request.c) and its other pure parts: mount options,
 * capability names, cgroup files under a fake root. */
#include "check_main.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent/agent.h"
#include "agent/cgroup.h"
#include "agent/child.h"
#include "agent/request.h"
#include "cleanup.h"
#include "json_util.h"

static json_object *parse(const char *text)
{
	json_object *obj = json_tokener_parse(text);

	ck_assert_ptr_nonnull(obj);
	return obj;
}

START_TEST(test_ids_and_paths)
{
	ck_assert(agent_valid_id("c1"));
	ck_assert(agent_valid_id("a.b-c_D9"));
	ck_assert(!agent_valid_id(""));
	ck_assert(!agent_valid_id("."));
	ck_assert(!agent_valid_id(".."));
	ck_assert(!agent_valid_id("a/b"));
	ck_assert(!agent_valid_id("a b"));
	ck_assert(!agent_valid_id(NULL));
	{
		char long_id[AGENT_MAX_ID_LEN + 2];

		memset(long_id, 'x', sizeof(long_id) - 1);
		long_id[sizeof(long_id) - 1] = '\0';
		ck_assert(!agent_valid_id(long_id));
		long_id[AGENT_MAX_ID_LEN] = '\0';
		ck_assert(agent_valid_id(long_id));
	}
	ck_assert(agent_valid_relative_path("c1/rootfs"));
	ck_assert(agent_valid_relative_path("rootfs"));
	ck_assert(!agent_valid_relative_path("/etc"));
	ck_assert(!agent_valid_relative_path("../etc"));
	ck_assert(!agent_valid_relative_path("c1/../../etc"));
	ck_assert(!agent_valid_relative_path("c1//rootfs"));
	ck_assert(!agent_valid_relative_path("c1/./rootfs"));
	ck_assert(!agent_valid_relative_path("c1/"));
	ck_assert(!agent_valid_relative_path(""));
}
END_TEST

START_TEST(test_signals)
{
	cleanup_error kata_error_t err = NULL;
	int signo = 0;
	json_object *v;

	v = json_object_new_int(9);
	ck_assert_int_eq(agent_parse_signal(v, "signal", &signo, &err), 0);
	ck_assert_int_eq(signo, SIGKILL);
	json_object_put(v);
	v = json_object_new_string("SIGTERM");
	ck_assert_int_eq(agent_parse_signal(v, "signal", &signo, &err), 0);
	ck_assert_int_eq(signo, SIGTERM);
	json_object_put(v);
	v = json_object_new_string("usr1");
	ck_assert_int_eq(agent_parse_signal(v, "signal", &signo, &err), 0);
	ck_assert_int_eq(signo, SIGUSR1);
	json_object_put(v);
	v = json_object_new_string("SIGNOPE");
	ck_assert_int_eq(agent_parse_signal(v, "signal", &signo, &err), -1);
	ck_assert_str_eq(err->message, "signal: unknown signal `SIGNOPE`");
	json_object_put(v);
	kata_error_free(&err);
	v = json_object_new_int(65);
	ck_assert_int_eq(agent_parse_signal(v, "signal", &signo, &err), -1);
	json_object_put(v);
}
END_TEST

START_TEST(test_hyperstart_execcmd)
{
	/* WIRE-SAMPLES.md's EXECCMD, with hyperstart's envs objects. */
	json_object *req = parse("{\"container\":\"hyperstart\",\"process\":{\"id\":\"p1\","
	                         "\"terminal\":false,\"stdio\":1,\"stderr\":2,\"args\":"
	                         "[\"/bin/busybox\",\"sh\",\"-c\",\"echo hello; exit 3\"],"
	                         "\"envs\":[{\"env\":\"A\",\"value\":\"b\"},\"C=d\"],"
	                         "\"workdir\":\"/\",\"user\":\"1000\",\"group\":\"1000\"}}");
	cleanup_error kata_error_t err = NULL;
	struct agent_execcmd_request r;

	ck_assert_int_eq(agent_parse_execcmd(req, &r, &err), 0);
	ck_assert_str_eq(r.container, "hyperstart");
	ck_assert_str_eq(r.process.id, "p1");
	ck_assert_uint_eq(r.process.stdio_seq, 1);
	ck_assert_uint_eq(r.process.stderr_seq, 2);
	ck_assert(!r.process.process->terminal);
	ck_assert_str_eq(r.process.process->args[3], "echo hello; exit 3");
	ck_assert_str_eq(r.process.process->env[0], "A=b");
	ck_assert_str_eq(r.process.process->env[1], "C=d");
	ck_assert_ptr_null(r.process.process->env[2]);
	ck_assert_str_eq(r.process.process->cwd, "/");
	ck_assert_uint_eq(r.process.process->user.uid, 1000);
	ck_assert_uint_eq(r.process.process->user.gid, 1000);
	agent_execcmd_request_clear(&r);
	json_object_put(req);
}
END_TEST

START_TEST(test_execcmd_oci_process_overrides)
{
	json_object *req = parse("{\"container\":\"c\",\"process\":{\"id\":\"p\",\"stdio\":3,"
	                         "\"stderr\":4,\"args\":[\"ignored\"]},\"oci_process\":{\"args\":"
	                         "[\"/bin/probe\",\"ids\"],\"cwd\":\"/tmp\",\"terminal\":true,"
	                         "\"user\":{\"uid\":7,\"gid\":8,\"additionalGids\":[9]},"
	                         "\"noNewPrivileges\":true}}");
	cleanup_error kata_error_t err = NULL;
	struct agent_execcmd_request r;

	ck_assert_int_eq(agent_parse_execcmd(req, &r, &err), 0);
	ck_assert_str_eq(r.process.process->args[0], "/bin/probe");
	ck_assert_str_eq(r.process.process->cwd, "/tmp");
	ck_assert(r.process.process->terminal);
	ck_assert(r.process.process->no_new_privileges);
	ck_assert_uint_eq(r.process.process->user.uid, 7);
	ck_assert_uint_eq(r.process.process->user.n_additional_gids, 1);
	agent_execcmd_request_clear(&r);
	json_object_put(req);
}
END_TEST

static void expect_execcmd_error(const char *text, const char *fragment)
{
	json_object *req = json_tokener_parse(text);
	cleanup_error kata_error_t err = NULL;
	struct agent_execcmd_request r;

	ck_assert_ptr_nonnull(req);
	ck_assert_int_eq(agent_parse_execcmd(req, &r, &err), -1);
	ck_assert_ptr_nonnull(err);
	if (strstr(err->message, fragment) == NULL)
		ck_abort_msg("`%s` does not mention `%s`", err->message, fragment);
	json_object_put(req);
}

START_TEST(test_execcmd_errors)
{
	expect_execcmd_error("[]", "expected an object");
	expect_execcmd_error("{\"process\":{}}", "container");
	expect_execcmd_error("{\"container\":\"../x\",\"process\":{\"id\":\"p\",\"args\":[\"a\"]}}",
	                     "invalid container id");
	expect_execcmd_error("{\"container\":\"c\",\"process\":{\"id\":\"p\",\"args\":[]}}",
	                     "args: empty");
	expect_execcmd_error("{\"container\":\"c\",\"process\":{\"id\":\"p\",\"args\":[1]}}",
	                     "process.args[0]");
	expect_execcmd_error("{\"container\":\"c\",\"process\":{\"id\":\"p\",\"args\":[\"a\"],"
	                     "\"stdio\":3,\"stderr\":3}}",
	                     "sequence");
	expect_execcmd_error("{\"container\":\"c\",\"process\":{\"id\":\"p\",\"args\":[\"a\"],"
	                     "\"stdio\":-1}}",
	                     "stdio");
	expect_execcmd_error("{\"container\":\"c\",\"process\":{\"id\":\"p\",\"args\":[\"a\"],"
	                     "\"workdir\":\"rel\"}}",
	                     "not absolute");
	expect_execcmd_error("{\"container\":\"c\",\"process\":{\"id\":\"p\",\"args\":[\"a\"],"
	                     "\"user\":\"root\"}}",
	                     "not a numeric id");
	expect_execcmd_error("{\"container\":\"c\",\"process\":{\"id\":\"p\",\"args\":[\"a\"],"
	                     "\"envs\":[{\"env\":\"A=B\",\"value\":\"x\"}]}}",
	                     "invalid name");
	expect_execcmd_error("{\"container\":\"c\",\"process\":{\"id\":\"p\"},\"oci_process\":"
	                     "{\"args\":\"notalist\"}}",
	                     "oci process");
}
END_TEST

START_TEST(test_newcontainer)
{
	json_object *req = parse("{\"id\":\"c1\",\"rootfs\":\"c1/rootfs\",\"oci\":{\"ociVersion\":"
	                         "\"1.0.2\",\"hostname\":\"h\",\"process\":{\"args\":[\"/bin/sh\"],"
	                         "\"cwd\":\"/\",\"terminal\":true},\"root\":{\"path\":\"rootfs\"}},"
	                         "\"process\":{\"id\":\"init\",\"stdio\":5,\"stderr\":0,"
	                         "\"terminal\":false}}");
	cleanup_error kata_error_t err = NULL;
	struct agent_newcontainer_request r;

	ck_assert_int_eq(agent_parse_newcontainer(req, &r, &err), 0);
	ck_assert_str_eq(r.id, "c1");
	ck_assert_str_eq(r.rootfs, "c1/rootfs");
	ck_assert_str_eq(r.spec->hostname, "h");
	ck_assert_str_eq(r.process.process->args[0], "/bin/sh");
	/* hyperstart's terminal flag, when given, is what the host decided. */
	ck_assert(!r.process.process->terminal);
	ck_assert_uint_eq(r.process.stdio_seq, 5);
	ck_assert_uint_eq(r.process.stderr_seq, 0);
	agent_newcontainer_request_clear(&r);
	json_object_put(req);

	req = parse(
	        "{\"id\":\"c1\",\"rootfs\":\"../c1\",\"process\":{\"id\":\"i\",\"args\":[\"x\"]}}");
	ck_assert_int_eq(agent_parse_newcontainer(req, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "not a path inside the share"));
	json_object_put(req);
	kata_error_free(&err);

	req = parse("{\"id\":\"c1\",\"rootfs\":\"c1/rootfs\",\"oci\":{\"process\":{\"args\":5}},"
	            "\"process\":{\"id\":\"i\"}}");
	ck_assert_int_eq(agent_parse_newcontainer(req, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "oci: "));
	json_object_put(req);
}
END_TEST

START_TEST(test_startpod)
{
	json_object *req = parse("{\"hostname\":\"pod\",\"dns\":[\"10.0.0.1\"],\"shareDir\":"
	                         "\"kataShared\"}");
	cleanup_error kata_error_t err = NULL;
	struct agent_startpod_request r;

	ck_assert_int_eq(agent_parse_startpod(req, &r, &err), 0);
	ck_assert_str_eq(r.hostname, "pod");
	ck_assert_str_eq(r.dns[0], "10.0.0.1");
	ck_assert_str_eq(r.share_tag, "kataShared");
	ck_assert_str_eq(r.share_fstype, "9p");
	agent_startpod_request_clear(&r);
	json_object_put(req);

	req = parse("{\"shareDir\":\"kataShared\",\"shareFsType\":\"nfs\"}");
	ck_assert_int_eq(agent_parse_startpod(req, &r, &err), -1);
	json_object_put(req);
	kata_error_free(&err);
	req = parse("{\"dns\":[\"1.2.3.4\\nnameserver evil\"]}");
	ck_assert_int_eq(agent_parse_startpod(req, &r, &err), -1);
	json_object_put(req);
}
END_TEST

/* The runtime's kernel parameters (backends/machine.c), as whole words only. */
START_TEST(test_boot_params)
{
	struct agent_boot_params p;

	agent_parse_boot_params("tsc=reliable console=hvc0 agent.msize_9p=65536 quiet\n", &p);
	ck_assert(!p.debug);
	ck_assert_uint_eq(p.msize_9p, 65536);
	agent_parse_boot_params("  agent.log=debug\tagent.msize_9p=512000", &p);
	ck_assert(p.debug);
	ck_assert_uint_eq(p.msize_9p, 512000);
	agent_parse_boot_params("agent.debug", &p);
	ck_assert(p.debug);
	ck_assert_uint_eq(p.msize_9p, 0);
	/* out of range, not a number, or part of another word: the agent's default */
	agent_parse_boot_params("agent.msize_9p=1024", &p);
	ck_assert_uint_eq(p.msize_9p, 0);
	agent_parse_boot_params("agent.msize_9p=8k agent.log=debugging", &p);
	ck_assert_uint_eq(p.msize_9p, 0);
	ck_assert(!p.debug);
	agent_parse_boot_params("xagent.msize_9p=8192 agent.msize_9p=-8192", &p);
	ck_assert_uint_eq(p.msize_9p, 0);
	agent_parse_boot_params("agent.msize_9p=99999999999999999999", &p);
	ck_assert_uint_eq(p.msize_9p, 0);
	agent_parse_boot_params("", &p);
	ck_assert(!p.debug);
}
END_TEST

START_TEST(test_targets)
{
	json_object *req =
	        parse("{\"container\":\"c\",\"process\":\"p\",\"row\":24,\"column\":80}");
	cleanup_error kata_error_t err = NULL;
	struct agent_target_request r;

	ck_assert_int_eq(agent_parse_target(req, false, false, true, &r, &err), 0);
	ck_assert_str_eq(r.process, "p");
	ck_assert_uint_eq(r.row, 24);
	ck_assert_uint_eq(r.column, 80);
	agent_target_request_clear(&r);
	json_object_put(req);

	req = parse("{\"container\":\"c\",\"signal\":\"KILL\",\"all\":true}");
	ck_assert_int_eq(agent_parse_target(req, false, true, false, &r, &err), 0);
	ck_assert_int_eq(r.signal, SIGKILL);
	ck_assert(r.all);
	agent_target_request_clear(&r);
	/* SIGNALPROCESS needs the process. */
	ck_assert_int_eq(agent_parse_target(req, true, true, false, &r, &err), -1);
	json_object_put(req);
	kata_error_free(&err);

	req = parse("{\"container\":\"c\",\"row\":70000,\"column\":1}");
	ck_assert_int_eq(agent_parse_target(req, false, false, true, &r, &err), -1);
	json_object_put(req);
	kata_error_free(&err);
	req = parse("{\"container\":\"c\"}");
	ck_assert_int_eq(agent_parse_target(req, false, true, false, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "signal"));
	json_object_put(req);
}
END_TEST

START_TEST(test_mount_options)
{
	char *opts[] = { "nosuid", "ro",        "rbind",   "mode=755", "rprivate",
		         "rw",     "tmpcopyup", "size=1k", NULL };
	struct agent_mount_options o;

	agent_parse_mount_options(opts, &o);
	ck_assert_uint_eq(o.flags, MS_NOSUID | MS_BIND | MS_REC);
	ck_assert(o.clear & MS_RDONLY);
	ck_assert_uint_eq(o.propagation, MS_PRIVATE | MS_REC);
	ck_assert_str_eq(o.data, "mode=755,size=1k");
	free(o.data);
	agent_parse_mount_options(NULL, &o);
	ck_assert_uint_eq(o.flags, 0);
	ck_assert_ptr_null(o.data);
}
END_TEST

START_TEST(test_capability_names)
{
	ck_assert_int_eq(agent_capability_number("CAP_CHOWN"), 0);
	ck_assert_int_eq(agent_capability_number("CAP_KILL"), 5);
	ck_assert_int_eq(agent_capability_number("net_admin"), 12);
	ck_assert_int_eq(agent_capability_number("CAP_SYS_ADMIN"), 21);
	ck_assert_int_eq(agent_capability_number("CAP_CHECKPOINT_RESTORE"), 40);
	ck_assert_int_eq(agent_capability_number("CAP_NOPE"), -1);
	ck_assert_int_eq(agent_capability_number(NULL), -1);
}
END_TEST

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
}

START_TEST(test_cgroup_files)
{
	/* under the program's test directory: removed even when this test fails */
	cleanup_free char *root = xasprintf("%s/cgroup-XXXXXX", unit_test_dir);
	cleanup_error kata_error_t err = NULL;
	cleanup_free pid_t *pids = NULL;
	size_t n = 0;
	json_object *stats;
	char path[512];
	static const char *const dirs[] = { "memory", "pids" };

	ck_assert_ptr_nonnull(mkdtemp(root));
	agent_cgroup_root = root;
	/* A fake hierarchy: the controller roots hold cgroup.procs, so they count as mounted. */
	for (size_t i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", root, dirs[i]);
		ck_assert_int_eq(mkdir(path, 0755), 0);
		snprintf(path, sizeof(path), "%s/%s/cgroup.procs", root, dirs[i]);
		write_text(path, "");
	}
	ck_assert_str_eq(agent_cgroup_controllers()[0], "memory");
	ck_assert_str_eq(agent_cgroup_controllers()[1], "pids");
	ck_assert_ptr_null(agent_cgroup_controllers()[2]);
	/* Creating makes the directories; the limits are written to (here plain) files. */
	{
		struct oci_pids p = { .limit = 32 };
		struct oci_resources r = { .pids = &p };

		snprintf(path, sizeof(path), "%s/pids/kata/c1/pids.max", root);
		ck_assert_int_eq(agent_cgroup_create("c1", NULL, &err), 0);
		write_text(path, "max\n");
		ck_assert_int_eq(agent_cgroup_create("c1", &r, &err), 0);
	}
	snprintf(path, sizeof(path), "%s/pids/kata/c1/cgroup.procs", root);
	write_text(path, "12\n34\n");
	snprintf(path, sizeof(path), "%s/pids/kata/c1/pids.current", root);
	write_text(path, "2\n");
	snprintf(path, sizeof(path), "%s/memory/kata/c1/memory.usage_in_bytes", root);
	write_text(path, "4096\n");
	snprintf(path, sizeof(path), "%s/memory/kata/c1/memory.limit_in_bytes", root);
	write_text(path, "67108864\n");
	ck_assert_int_eq(agent_cgroup_procs("c1", &pids, &n, &err), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_int_eq(pids[0], 12);
	ck_assert_int_eq(pids[1], 34);
	stats = agent_cgroup_stats("c1");
	ck_assert_str_eq(json_object_to_json_string_ext(stats, JSON_C_TO_STRING_PLAIN),
	                 "{\"memory\":{\"usage\":4096,\"limit\":67108864},\"pids\":{\"current\":2,"
	                 "\"limit\":32}}");
	json_object_put(stats);
	/* The OOM killer's count: unreadable is -1 and left out of the stats, as for a kernel
	 * without it; a line the kernel did not write is not believed. */
	ck_assert_int_eq(agent_cgroup_oom_kills("c1"), -1);
	snprintf(path, sizeof(path), "%s/memory/kata/c1/memory.oom_control", root);
	write_text(path, "oom_kill_disable 0\nunder_oom 0\noom_kill x\n");
	ck_assert_int_eq(agent_cgroup_oom_kills("c1"), -1);
	write_text(path, "oom_kill_disable 0\nunder_oom 0\noom_kill 3\n");
	ck_assert_int_eq(agent_cgroup_oom_kills("c1"), 3);
	stats = agent_cgroup_stats("c1");
	ck_assert_str_eq(json_object_to_json_string_ext(stats, JSON_C_TO_STRING_PLAIN),
	                 "{\"memory\":{\"usage\":4096,\"limit\":67108864,\"oom_kills\":3},"
	                 "\"pids\":{\"current\":2,\"limit\":32}}");
	json_object_put(stats);
}
END_TEST

static Suite *request_suite(void)
{
	Suite *s = suite_create("agent_request");
	TCase *tc = tcase_create("request");

	tcase_add_test(tc, test_ids_and_paths);
	tcase_add_test(tc, test_signals);
	tcase_add_test(tc, test_hyperstart_execcmd);
	tcase_add_test(tc, test_execcmd_oci_process_overrides);
	tcase_add_test(tc, test_execcmd_errors);
	tcase_add_test(tc, test_newcontainer);
	tcase_add_test(tc, test_startpod);
	tcase_add_test(tc, test_boot_params);
	tcase_add_test(tc, test_targets);
	suite_add_tcase(s, tc);
	tc = tcase_create("pure");
	tcase_add_test(tc, test_mount_options);
	tcase_add_test(tc, test_capability_names);
	tcase_add_test(tc, test_cgroup_files);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = request_suite,
	                             .test_dir = "kata-test-agent-request" };
