/* The hypervisor layer: the registry and checked wrappers, the fake backend (which the
 * shipped runtime does not have: registered here), process
 * liveness (zombies, reused pids), the qemu backend's operations against a fake QMP server
 * standing in for qemu (pause/resume/state/stop, kill -9 -> crashed, cleanup), its state
 * saved and restored, start failures, and the accelerator probe with scripted "qemu"s. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "hypervisor.h"
#include "process.h"
#include "qemu/qemu_backend.h"
#include "tests/fakes/fake_hypervisor.h"
#include "tests/fakes/fake_qmp.h"

static char *test_path(const char *name)
{
	return xasprintf("%s/%s", unit_test_dir, name);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

static void base_config(struct kata_config *config, const char *backend)
{
	memset(config, 0, sizeof(*config));
	config->hypervisor.name = (char *)backend;
	config->hypervisor.kernel = "/opt/kata/vmlinux";
	config->hypervisor.accelerator = KATA_ACCEL_TCG;
	config->hypervisor.default_vcpus = 1;
	config->hypervisor.default_memory = 256;
}

/* --- registry ------------------------------------------------------------------------- */

static int dummy_start(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return kata_error_set(err, EIO, "boom");
}

static const struct hypervisor_ops dummy_ops = { .name = "dummy", .start = dummy_start };

START_TEST(test_registry)
{
	struct kata_config config;
	cleanup_error kata_error_t err = NULL;
	struct hypervisor *hv;

	base_config(&config, "fake");
	ck_assert_ptr_nonnull(hypervisor_find_ops("qemu"));
	ck_assert_ptr_nonnull(hypervisor_find_ops("libvirt"));
	ck_assert_ptr_null(hypervisor_find_ops("fake")); /* not built in */
	hypervisor_register(&fake_hypervisor_ops);
	ck_assert_ptr_eq(hypervisor_find_ops("fake"), &fake_hypervisor_ops);
	ck_assert_ptr_null(hypervisor_find_ops("firecracker"));
	ck_assert_ptr_null(hypervisor_new("firecracker", &config, &err));
	ck_assert_int_eq(err->errno_value, ENOENT);
	ck_assert_ptr_nonnull(strstr(err->message, "'firecracker'"));
	kata_error_free(&err);

	hv = hypervisor_new(NULL, &config, &err); /* named by [hypervisor.fake] */
	ck_assert_ptr_nonnull(hv);
	ck_assert_str_eq(hv->ops->name, "fake");
	hypervisor_free(hv);

	hypervisor_register(&dummy_ops);
	hv = hypervisor_new("dummy", &config, &err);
	ck_assert_ptr_nonnull(hv);
	ck_assert_int_eq(hypervisor_start(hv, 0, &err), -1);
	ck_assert_str_eq(err->message, "dummy: boom");
	kata_error_free(&err);
	ck_assert_int_eq(hypervisor_pause(hv, 0, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOTSUP);
	kata_error_free(&err);
	ck_assert_int_eq(hypervisor_start(hv, 0x80, &err), -1);
	ck_assert_int_eq(err->errno_value, EINVAL);
	ck_assert_int_eq(hypervisor_pid(hv), -1);
	ck_assert_ptr_null(hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_CTL));
	hypervisor_free(hv);
}
END_TEST

/* --- fake backend ---------------------------------------------------------------------- */

static enum hypervisor_state state_of(struct hypervisor *hv)
{
	cleanup_error kata_error_t err = NULL;
	enum hypervisor_state state;

	ck_assert_msg(hypervisor_get_state(hv, &state, 0, &err) == 0, "%s",
	              err != NULL ? err->message : "");
	return state;
}

START_TEST(test_fake_backend_lifecycle)
{
	struct kata_config config;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *dir = test_path("fake-sb");
	struct hypervisor_sandbox_params params = { .id = "sb", .dir = dir };
	struct hypervisor *hv, *again;
	json_object *saved;
	struct stat st;

	base_config(&config, "fake");
	hypervisor_register(&fake_hypervisor_ops);
	hv = hypervisor_new("fake", &config, &err);
	ck_assert_int_eq(hypervisor_create(hv, &params, 0, &err), 0);
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_CREATED);
	ck_assert_int_eq(hypervisor_pause(hv, 0, &err), -1); /* not running yet */
	kata_error_free(&err);
	ck_assert_int_eq(hypervisor_start(hv, 0, &err), 0);
	ck_assert_int_eq(hypervisor_pause(hv, 0, &err), 0);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_PAUSED);
	ck_assert_ptr_nonnull(
	        strstr(hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_IO), "io.sock"));

	/* Another "runtime process" picks it up from the saved state. */
	saved = hypervisor_save(hv);
	hypervisor_free(hv);
	again = hypervisor_restore(&config, saved, &err);
	json_object_put(saved);
	ck_assert_ptr_nonnull(again);
	ck_assert_int_eq(state_of(again), HYPERVISOR_STATE_PAUSED);
	ck_assert_int_eq(hypervisor_resume(again, 0, &err), 0);
	ck_assert_int_eq(state_of(again), HYPERVISOR_STATE_RUNNING);

	setenv(FAKE_HYPERVISOR_ENV_FAIL, "pause,stop", 1);
	ck_assert_int_eq(hypervisor_stop(again, 0, &err), -1);
	ck_assert_str_eq(err->message, "fake: stop: injected failure");
	kata_error_free(&err);
	unsetenv(FAKE_HYPERVISOR_ENV_FAIL);

	ck_assert_int_eq(hypervisor_stop(again, 0, &err), 0);
	ck_assert_int_eq(state_of(again), HYPERVISOR_STATE_STOPPED);
	ck_assert_int_eq(hypervisor_cleanup(again, 0, &err), 0);
	ck_assert_int_eq(hypervisor_cleanup(again, 0, &err), 0);
	ck_assert_int_eq(stat(dir, &st), -1);
	hypervisor_free(again);
}
END_TEST

START_TEST(test_restore_refuses_bad_state)
{
	struct kata_config config;
	cleanup_error kata_error_t err = NULL;
	static const char *const bad[] = {
		"[]",
		"{\"backend\": \"qemu\"}",
		"{\"backend\": 3, \"state\": {}}",
		"{\"backend\": \"nope\", \"state\": {}}",
		"{\"backend\": \"qemu\", \"state\": {}}",
		"{\"backend\": \"qemu\", \"state\": {\"id\": \"a\", \"dir\": \"relative\", "
		"\"phase\": \"started\", \"qmp\": \"/q\", \"ctl_channel\": \"/c\", \"io_channel\": "
		"\"/i\", \"pid_file\": \"/p\", \"argv\": [\"/q\"]}}",
		"{\"backend\": \"qemu\", \"state\": {\"id\": \"a\", \"dir\": \"/d\", "
		"\"phase\": \"flying\", \"qmp\": \"/q\", \"ctl_channel\": \"/c\", \"io_channel\": "
		"\"/i\", \"pid_file\": \"/p\", \"argv\": [\"/q\"]}}",
		"{\"backend\": \"qemu\", \"state\": {\"id\": \"a\", \"dir\": \"/d\", "
		"\"phase\": \"started\", \"qmp\": \"/q\", \"ctl_channel\": \"/c\", \"io_channel\": "
		"\"/i\", \"pid_file\": \"/p\", \"argv\": [\"/q\"], \"qemu\": {\"pid\": -4, "
		"\"start_time\": 1}}}",
		"{\"backend\": \"fake\", \"state\": {\"id\": \"a\"}}",
	};

	base_config(&config, "qemu");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object *saved = json_tokener_parse(bad[i]);

		ck_assert_msg(hypervisor_restore(&config, saved, &err) == NULL, "%s", bad[i]);
		ck_assert_ptr_nonnull(err);
		kata_error_free(&err);
		json_object_put(saved);
	}
}
END_TEST

/* --- process liveness ------------------------------------------------------------------ */

START_TEST(test_zombie_is_not_alive)
{
	struct process_id proc;
	cleanup_error kata_error_t err = NULL;
	pid_t pid = fork();

	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* gone with the test, also when it fails */
		pause();
		_exit(0);
	}
	ck_assert_int_eq(process_identify(pid, &proc, &err), 0);
	ck_assert(process_is_alive(&proc));
	ck_assert_int_eq(process_wait_gone(&proc, 100), -1); /* still there */
	kill(pid, SIGKILL);
	/* Not reaped: a zombie answers kill(pid, 0) but is dead. */
	ck_assert_int_eq(process_wait_gone(&proc, 5000), 0);
	ck_assert_int_eq(kill(pid, 0), 0);
	ck_assert(!process_is_alive(&proc));
	ck_assert_int_eq(process_signal(&proc, SIGTERM, &err), 0);
	waitpid(pid, NULL, 0);
	ck_assert(!process_is_alive(&proc));
}
END_TEST

START_TEST(test_reused_pid_is_not_ours)
{
	struct process_id self = { .pid = getpid() }, other;
	cleanup_error kata_error_t err = NULL;

	ck_assert(process_is_alive(&self)); /* start time 0: not checked */
	ck_assert_int_eq(process_identify(getpid(), &other, &err), 0);
	ck_assert(process_is_alive(&other));
	other.start_time += 1; /* as if the pid now named another process */
	ck_assert(!process_is_alive(&other));
	ck_assert_int_eq(process_signal(&other, SIGKILL, &err), 0); /* sends nothing */
	ck_assert(!process_is_alive(&(struct process_id){ .pid = 0 }));
}
END_TEST

/* The one saved form of a process_id, as the container record and the qemu state use it. */
START_TEST(test_process_id_json)
{
	struct process_id proc = { .pid = 4242, .start_time = 987654321 }, back = { 1, 1 };
	cleanup_error kata_error_t err = NULL;
	json_object *obj = json_object_new_object();

	json_object_object_add(obj, "daemon", process_id_to_json(&proc));
	json_object_object_add(obj, "none", NULL);
	ck_assert_int_eq(process_id_from_json(obj, "daemon", "sb", &back, &err), 1);
	ck_assert_int_eq(back.pid, 4242);
	ck_assert_uint_eq(back.start_time, 987654321);
	ck_assert_int_eq(process_id_from_json(obj, "none", "sb", &back, &err), 0);
	ck_assert_int_eq(back.pid, 0);
	ck_assert_uint_eq(back.start_time, 0);
	ck_assert_int_eq(process_id_from_json(obj, "missing", "sb", &back, &err), 0);

	static const struct {
		const char *json, *message;
	} bad[] = {
		{ "{\"pid\": -4, \"start_time\": 1}",
		  "sb.daemon.pid: -4 out of range [0, 4194304]" },
		{ "{\"pid\": 4194305, \"start_time\": 1}",
		  "sb.daemon.pid: 4194305 out of range [0, 4194304]" },
		{ "{\"pid\": 7}", "sb.daemon.start_time: required field is missing" },
		{ "{\"pid\": 7, \"start_time\": -1}",
		  "sb.daemon.start_time: -1 out of range [0, 18446744073709551615]" },
		{ "[7, 1]", "sb.daemon: expected an object, got an array" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		json_object_object_add(obj, "daemon", json_tokener_parse(bad[i].json));
		ck_assert_int_eq(process_id_from_json(obj, "daemon", "sb", &back, &err), -1);
		ck_assert_str_eq(err->message, bad[i].message);
		ck_assert_int_eq(back.pid, 0);
		kata_error_free(&err);
	}
	json_object_put(obj);
}
END_TEST

START_TEST(test_terminate_escalates)
{
	struct process_id proc;
	cleanup_error kata_error_t err = NULL;
	int ready[2];
	char c;
	pid_t pid;

	ck_assert_int_eq(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		signal(SIGTERM, SIG_IGN);
		(void)!write(ready[1], "r", 1);
		for (;;)
			pause();
	}
	ck_assert_int_eq(read(ready[0], &c, 1), 1); /* SIGTERM is ignored from here */
	ck_assert_int_eq(process_identify(pid, &proc, &err), 0);
	ck_assert_int_eq(process_terminate(&proc, 100, &err), 0);
	ck_assert(!process_is_alive(&proc));
	int status;
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
END_TEST

/* --- qemu backend against a fake qemu --------------------------------------------------- */

/* A handle on a "started" sandbox whose qemu is the fake QMP server's process. */
static struct hypervisor *fake_started_sandbox(struct kata_config *config, const char *name,
                                               struct fake_qmp **fq)
{
	static const struct fake_qmp_step serve[] = { { FAKE_QMP_SERVE, NULL } };
	cleanup_free char *dir = test_path(name);
	cleanup_free char *qmp = xasprintf("%s/qmp.sock", dir);
	cleanup_free char *pid_file = xasprintf("%s/qemu.pid", dir);
	cleanup_error kata_error_t err = NULL;
	struct process_id proc;
	json_object *state = json_object_new_object(), *saved = json_object_new_object();
	json_object *argv = json_object_new_array(), *qemu = json_object_new_object();
	struct hypervisor *hv;
	char pid_text[32];

	ck_assert_int_eq(mkdir(dir, 0700), 0);
	*fq = fake_qmp_start(qmp, serve, 1);
	ck_assert_int_eq(process_identify((*fq)->pid, &proc, &err), 0);
	snprintf(pid_text, sizeof(pid_text), "%d\n", (int)proc.pid);
	write_file(pid_file, pid_text, 0644);
	json_object_object_add(state, "id", json_object_new_string(name));
	json_object_object_add(state, "dir", json_object_new_string(dir));
	json_object_object_add(state, "created_dir", json_object_new_boolean(true));
	json_object_object_add(state, "phase", json_object_new_string("started"));
	json_object_object_add(state, "qmp", json_object_new_string(qmp));
	json_object_object_add(state, "ctl_channel", json_object_new_string("/nonexistent/ctl"));
	json_object_object_add(state, "io_channel", json_object_new_string("/nonexistent/io"));
	json_object_object_add(state, "pid_file", json_object_new_string(pid_file));
	json_object_array_add(argv, json_object_new_string("/usr/bin/qemu-system-x86_64"));
	json_object_object_add(state, "argv", argv);
	json_object_object_add(qemu, "pid", json_object_new_int(proc.pid));
	json_object_object_add(qemu, "start_time", json_object_new_uint64(proc.start_time));
	json_object_object_add(state, "qemu", qemu);
	json_object_object_add(saved, "backend", json_object_new_string("qemu"));
	json_object_object_add(saved, "state", state);
	hv = hypervisor_restore(config, saved, &err);
	ck_assert_msg(hv != NULL, "%s", err != NULL ? err->message : "");
	json_object_put(saved);
	return hv;
}

START_TEST(test_qemu_ops_against_fake_qmp)
{
	struct kata_config config;
	struct fake_qmp *fq;
	cleanup_error kata_error_t err = NULL;
	struct hypervisor *hv;
	cleanup_free char *dir = test_path("ops");
	struct stat st;

	base_config(&config, "qemu");
	hv = fake_started_sandbox(&config, "ops", &fq);
	ck_assert_int_eq(hypervisor_pid(hv), fq->pid);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_RUNNING);
	ck_assert_int_eq(hypervisor_pause(hv, 0, &err), 0);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_PAUSED);
	ck_assert_int_eq(hypervisor_resume(hv, 0, &err), 0);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_RUNNING);
	/* Graceful stop: "quit" over QMP, and the process is gone when stop returns (it stays
	 * our unreaped zombie, which must count as gone). */
	ck_assert_int_eq(hypervisor_stop(hv, 0, &err), 0);
	ck_assert_int_eq(fake_qmp_finish(fq, 1000), 0);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_STOPPED);
	ck_assert_int_eq(hypervisor_pause(hv, 0, &err), -1);
	kata_error_free(&err);
	ck_assert_int_eq(hypervisor_cleanup(hv, 0, &err), 0);
	ck_assert_int_eq(stat(dir, &st), -1);
	hypervisor_free(hv);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_qemu_killed_is_crashed)
{
	struct kata_config config;
	struct fake_qmp *fq;
	cleanup_error kata_error_t err = NULL;
	struct hypervisor *hv;
	cleanup_free char *dir = test_path("crash");
	struct stat st;
	pid_t pid;

	base_config(&config, "qemu");
	hv = fake_started_sandbox(&config, "crash", &fq);
	pid = fq->pid;
	kill(pid, SIGKILL);
	ck_assert_int_eq(fake_qmp_finish(fq, 2000), 128 + SIGKILL);
	/* Reaped now; a zombie (see test_zombie_is_not_alive) is the same. */
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_CRASHED);
	ck_assert_int_eq(hypervisor_resume(hv, 0, &err), -1);
	ck_assert_int_eq(err->errno_value, ESRCH);
	kata_error_free(&err);
	ck_assert_int_eq(hypervisor_cleanup(hv, 0, &err), 0);
	ck_assert_int_eq(stat(dir, &st), -1);
	ck_assert_int_eq(hypervisor_cleanup(hv, 0, &err), 0);
	hypervisor_free(hv);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_qemu_force_stop_kills)
{
	struct kata_config config;
	struct fake_qmp *fq;
	cleanup_error kata_error_t err = NULL;
	struct hypervisor *hv;
	int status;

	base_config(&config, "qemu");
	hv = fake_started_sandbox(&config, "force", &fq);
	ck_assert_int_eq(hypervisor_stop(hv, HYPERVISOR_FLAG_FORCE, &err), 0);
	status = fake_qmp_finish(fq, 2000);
	ck_assert_int_eq(status, 128 + SIGKILL);
	ck_assert_int_eq(hypervisor_cleanup(hv, 0, &err), 0);
	hypervisor_free(hv);
	fake_qmp_stop(fq);
}
END_TEST

START_TEST(test_status_mapping)
{
	ck_assert_int_eq(qemu_state_from_status("running"), HYPERVISOR_STATE_RUNNING);
	ck_assert_int_eq(qemu_state_from_status("paused"), HYPERVISOR_STATE_PAUSED);
	ck_assert_int_eq(qemu_state_from_status("suspended"), HYPERVISOR_STATE_PAUSED);
	ck_assert_int_eq(qemu_state_from_status("shutdown"), HYPERVISOR_STATE_STOPPED);
	ck_assert_int_eq(qemu_state_from_status("guest-panicked"), HYPERVISOR_STATE_CRASHED);
	ck_assert_int_eq(qemu_state_from_status("internal-error"), HYPERVISOR_STATE_CRASHED);
	ck_assert_int_eq(qemu_state_from_status("something-new"), HYPERVISOR_STATE_CRASHED);
}
END_TEST

/* --- qemu create / start failures -------------------------------------------------------- */

START_TEST(test_qemu_create_save_restore_cleanup)
{
	struct kata_config config;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *dir = test_path("created/sandbox");
	cleanup_free char *parent = test_path("created");
	struct hypervisor_sandbox_params params = { .id = "c1", .dir = dir, .shared_dir = "/srv" };
	struct hypervisor *hv, *again;
	json_object *saved, *state, *argv;
	struct stat st;

	base_config(&config, "qemu");
	hv = hypervisor_new(NULL, &config, &err);
	ck_assert_msg(hypervisor_create(hv, &params, 0, &err) == 0, "%s", err ? err->message : "");
	ck_assert_int_eq(stat(dir, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0750);
	ck_assert_int_eq(hypervisor_create(hv, &params, 0, &err), -1); /* once only */
	kata_error_free(&err);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_CREATED);
	ck_assert_int_eq(hypervisor_pid(hv), -1);
	ck_assert_ptr_nonnull(
	        strstr(hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_CTL), "/ctl.sock"));
	ck_assert_ptr_null(hypervisor_console_log_path(hv)); /* not debug */

	saved = hypervisor_save(hv);
	ck_assert(json_object_object_get_ex(saved, "state", &state));
	ck_assert(json_object_object_get_ex(state, "argv", &argv));
	ck_assert_int_gt(json_object_array_length(argv), 10);
	hypervisor_free(hv);
	again = hypervisor_restore(&config, saved, &err);
	json_object_put(saved);
	ck_assert_ptr_nonnull(again);
	ck_assert_int_eq(state_of(again), HYPERVISOR_STATE_CREATED);
	ck_assert_int_eq(hypervisor_cleanup(again, 0, &err), 0);
	ck_assert_int_eq(stat(dir, &st), -1);
	ck_assert_int_eq(stat(parent, &st), 0); /* only what it created */
	ck_assert_int_eq(state_of(again), HYPERVISOR_STATE_STOPPED);
	hypervisor_free(again);
}
END_TEST

START_TEST(test_qemu_create_refuses_long_socket_paths)
{
	struct kata_config config;
	cleanup_error kata_error_t err = NULL;
	char long_dir[160];
	struct hypervisor_sandbox_params params = { .id = "c2", .dir = long_dir };
	struct hypervisor *hv;
	struct stat st;

	snprintf(long_dir, sizeof(long_dir), "%s/%0120d", unit_test_dir, 7);
	base_config(&config, "qemu");
	hv = hypervisor_new(NULL, &config, &err);
	ck_assert_int_eq(hypervisor_create(hv, &params, 0, &err), -1);
	ck_assert_int_eq(err->errno_value, ENAMETOOLONG);
	ck_assert_int_eq(stat(long_dir, &st), -1);
	hypervisor_free(hv);
}
END_TEST

START_TEST(test_qemu_start_failure_reports_stderr)
{
	struct kata_config config;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *script = test_path("bad-qemu.sh");
	cleanup_free char *dir = test_path("startfail");
	struct hypervisor_sandbox_params params = { .id = "f", .dir = dir };
	struct hypervisor *hv;
	struct stat st;

	write_file(script,
	           "#!/bin/sh\necho \"qemu-system-x86_64: -machine q35: nope\" >&2\nexit 1\n",
	           0755);
	base_config(&config, "qemu");
	config.hypervisor.path = script;
	hv = hypervisor_new(NULL, &config, &err);
	ck_assert_int_eq(hypervisor_create(hv, &params, 0, &err), 0);
	ck_assert_int_eq(hypervisor_start(hv, 0, &err), -1);
	ck_assert_msg(strstr(err->message, "exited with status 1: qemu-system-x86_64: -machine "
	                                   "q35: nope") != NULL,
	              "%s", err->message);
	kata_error_free(&err);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_CREATED);
	ck_assert_int_eq(hypervisor_cleanup(hv, 0, &err), 0);
	ck_assert_int_eq(stat(dir, &st), -1);
	hypervisor_free(hv);
}
END_TEST

/* --- accelerator probe ------------------------------------------------------------------- */

static bool kvm_usable(void)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return false;
	close(fd);
	return true;
}

static void probe_with(const char *name, const char *script_text, enum kata_accelerator *accel,
                       char **reason)
{
	struct kata_config config;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *script = test_path(name);
	cleanup_free char *kernel = test_path("vmlinux");
	cleanup_free char *cache = test_path("accel-cache.json");

	write_file(script, script_text, 0755);
	if (access(kernel, F_OK) < 0) /* rewriting it would change the cache key */
		write_file(kernel, "not really a kernel", 0644);
	base_config(&config, "qemu");
	config.hypervisor.path = script;
	config.hypervisor.kernel = kernel;
	setenv("KATA_ACCEL_CACHE", cache, 1);
	setenv("KATA_ACCEL_PROBE_TIMEOUT_MS", "500", 1);
	ck_assert_msg(hypervisor_probe_accelerator(&config, accel, reason, &err) == 0, "%s",
	              err ? err->message : "");
	ck_assert_ptr_nonnull(*reason);
}

START_TEST(test_probe_boot_means_kvm_and_is_cached)
{
	static const char boots[] =
	        "#!/bin/sh\nfor a in \"$@\"; do case \"$a\" in file,id=console0,path=*) "
	        "echo 'Run /init as init process' >\"${a#file,id=console0,path=}\";; esac; done\n"
	        "exec sleep 30\n";
	enum kata_accelerator accel;
	char *reason = NULL;

	probe_with("qemu-boots.sh", boots, &accel, &reason);
	if (!kvm_usable()) {
		ck_assert_int_eq(accel, KATA_ACCEL_TCG);
		free(reason);
		return;
	}
	ck_assert_msg(accel == KATA_ACCEL_KVM, "%s", reason);
	free(reason);
	probe_with("qemu-boots.sh", boots, &accel, &reason);
	ck_assert_int_eq(accel, KATA_ACCEL_KVM);
	ck_assert_msg(strstr(reason, "cached in") != NULL, "%s", reason);
	free(reason);
	/* A new guest kernel is probed again. */
	cleanup_free char *kernel = test_path("vmlinux");
	write_file(kernel, "another kernel, another size", 0644);
	probe_with("qemu-boots.sh", boots, &accel, &reason);
	ck_assert_msg(strstr(reason, "cached in") == NULL, "%s", reason);
	free(reason);
}
END_TEST

START_TEST(test_probe_hang_means_tcg)
{
	enum kata_accelerator accel;
	char *reason = NULL;

	probe_with("qemu-hangs.sh", "#!/bin/sh\nexec sleep 30\n", &accel, &reason);
	ck_assert_int_eq(accel, KATA_ACCEL_TCG);
	if (kvm_usable())
		ck_assert_msg(strstr(reason, "did not boot under KVM within 500 ms") != NULL, "%s",
		              reason);
	free(reason);
}
END_TEST

START_TEST(test_probe_exit_means_tcg)
{
	enum kata_accelerator accel;
	char *reason = NULL;

	probe_with("qemu-fails.sh", "#!/bin/sh\necho 'failed to set MSR' >&2\nexit 1\n", &accel,
	           &reason);
	ck_assert_int_eq(accel, KATA_ACCEL_TCG);
	if (kvm_usable())
		ck_assert_msg(strstr(reason, "exited before the guest booted: failed to set MSR") !=
		                      NULL,
		              "%s", reason);
	free(reason);
}
END_TEST

static Suite *hypervisor_suite(void)
{
	Suite *s = suite_create("hypervisor");
	TCase *tc;

	tc = tcase_create("registry");
	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_fake_backend_lifecycle);
	tcase_add_test(tc, test_restore_refuses_bad_state);
	suite_add_tcase(s, tc);
	tc = tcase_create("process");
	tcase_add_test(tc, test_zombie_is_not_alive);
	tcase_add_test(tc, test_reused_pid_is_not_ours);
	tcase_add_test(tc, test_process_id_json);
	tcase_add_test(tc, test_terminate_escalates);
	suite_add_tcase(s, tc);
	tc = tcase_create("qemu");
	tcase_add_test(tc, test_qemu_ops_against_fake_qmp);
	tcase_add_test(tc, test_qemu_killed_is_crashed);
	tcase_add_test(tc, test_qemu_force_stop_kills);
	tcase_add_test(tc, test_status_mapping);
	tcase_add_test(tc, test_qemu_create_save_restore_cleanup);
	tcase_add_test(tc, test_qemu_create_refuses_long_socket_paths);
	tcase_add_test(tc, test_qemu_start_failure_reports_stderr);
	suite_add_tcase(s, tc);
	tc = tcase_create("probe");
	tcase_add_test(tc, test_probe_boot_means_kvm_and_is_cached);
	tcase_add_test(tc, test_probe_hang_means_tcg);
	tcase_add_test(tc, test_probe_exit_means_tcg);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = hypervisor_suite,
	.test_dir = "kata-test-hv",
};
