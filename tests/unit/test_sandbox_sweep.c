/* The sweep of a sandbox's processes by the paths on their command lines
 * (cli/sandbox_sweep.h): which command lines name a sandbox, and real processes ended. */
#include "check_main.h"
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/sandbox_sweep.h"
#include "process.h"

#define DIR_A "/run/kata-containers/.vm/00000000000000aa"

static bool names(const char *const *args, const char *dir)
{
	char buf[1024];
	size_t len = 0;

	for (; *args != NULL; args++) {
		size_t n = strlen(*args) + 1;
		memcpy(buf + len, *args, n);
		len += n;
	}
	return sandbox_cmdline_names(buf, len, dir);
}

START_TEST(test_cmdline_matching)
{
	const char *proxy[] = { "kata-proxy", "-listen-socket", DIR_A "/proxy.sock", NULL };
	const char *shim[] = { "kata-shim", "-u", "unix://" DIR_A "/proxy.sock", NULL };
	const char *qemu[] = { "qemu", "-chardev", "socket,id=c0,path=" DIR_A "/vm/ctl.sock",
		               NULL };
	const char *qmp[] = { "qemu", "-qmp", "unix:" DIR_A "/vm/qmp.sock,server", NULL };
	const char *pgrep[] = { "pgrep", "-f", DIR_A "/", NULL };
	const char *other[] = { "kata-proxy", "-listen-socket", DIR_A "b/proxy.sock", NULL };
	const char *inside[] = { "grep", "x" DIR_A "/proxy.sock", NULL };

	ck_assert(names(proxy, DIR_A));
	ck_assert(names(shim, DIR_A));
	ck_assert(names(qemu, DIR_A));
	ck_assert(names(qmp, DIR_A));
	ck_assert(!names(pgrep, DIR_A)); /* someone looking at the directory */
	ck_assert(!names(other, DIR_A)); /* another sandbox whose name starts alike */
	ck_assert(!names(inside, DIR_A));
}
END_TEST

static pid_t start_named(const char *arg0)
{
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		/* gone with the test's process, also when an assertion ends it early */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		execl("/bin/sh", "sh", "-c", "sleep 100", arg0, (char *)NULL);
		_exit(127);
	}
	return pid;
}

static bool exited(pid_t pid)
{
	int status;

	return waitpid(pid, &status, WNOHANG) == pid || waitpid(pid, &status, 0) == pid;
}

START_TEST(test_sweep_ends_what_names_the_directory)
{
	cleanup_error kata_error_t err = NULL;
	/* below the program's directory: removed even when this test fails */
	char dir[128];
	cleanup_free char *arg = NULL;
	cleanup_free char *bare = NULL;
	struct process_id looker;
	pid_t named, watching;

	unit_test_new_dir(dir, sizeof(dir));
	arg = xasprintf("%s/proxy.sock", dir);
	bare = xasprintf("%s/", dir);
	named = start_named(arg);
	watching = start_named(bare);
	usleep(100000); /* until both have exec'd */
	ck_assert_int_eq(process_identify(watching, &looker, &err), 0);
	ck_assert_int_eq(sandbox_sweep_processes(dir, &err), 0);
	ck_assert(exited(named));
	ck_assert(process_is_alive(&looker));
	kill(watching, SIGKILL);
	ck_assert(exited(watching));
	/* Nothing left to end: nothing to do. */
	ck_assert_int_eq(sandbox_sweep_processes(dir, &err), 0);
	rmdir(dir);
}
END_TEST

static Suite *sweep_suite(void)
{
	Suite *s = suite_create("sandbox_sweep");
	TCase *tc = tcase_create("sweep");

	tcase_add_test(tc, test_cmdline_matching);
	tcase_add_test(tc, test_sweep_ends_what_names_the_directory);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = sweep_suite, .test_dir = "kata-test-sweep" };
