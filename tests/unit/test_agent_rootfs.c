/* The agent's container rootfs (agent/child_rootfs.c), run for real as root in a child
 * with a mount namespace of its own: proc and sysfs refuse a destination that is a symlink
 * (a /proc that links to /etc would put procfs over the container's /etc), as runc does. */
#include "check_main.h"
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent/child.h"
#include "cleanup.h"
#include "cli/share.h"
#include "oci_spec.h"
#include "state.h"

/* Each test's own directory below the program's (removed even when the test fails). */
static char base_template[128];
static char *base;
static char *rootfs;

static void setup(void)
{
	base = unit_test_new_dir(base_template, sizeof(base_template));
	rootfs = xasprintf("%s/rootfs", base);
	ck_assert_int_eq(mkdir(rootfs, 0755), 0);
}

static void teardown(void)
{
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(remove_tree(base, &err), 0);
	free(rootfs);
}

static void make_at(const char *rel, bool directory, const char *link_to)
{
	cleanup_free char *path = xasprintf("%s/%s", rootfs, rel);

	if (link_to != NULL)
		ck_assert_int_eq(symlink(link_to, path), 0);
	else if (directory)
		ck_assert_int_eq(mkdir(path, 0755), 0);
}

/* Runs the setup in a child of its own mount namespace; the child exits 0 when it failed
 * with `want` in its message and nothing was mounted over etc, 1 otherwise. */
static int setup_in_child(const char *spec_json, const char *want)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		kata_error_t err = NULL;
		struct oci_spec *spec;
		cleanup_free char *etc = xasprintf("%s/etc", rootfs);
		struct stat before, after;

		if (unshare(CLONE_NEWNS) < 0 ||
		    mount(NULL, "/", NULL, MS_PRIVATE | MS_REC, NULL) < 0)
			_exit(2);
		spec = oci_spec_parse(spec_json, strlen(spec_json), &err);
		if (spec == NULL || stat(etc, &before) < 0)
			_exit(3);
		if (agent_child_setup_rootfs(spec, rootfs, "c1", NULL, false, &err) == 0)
			_exit(1);
		if (stat(etc, &after) < 0 || after.st_dev != before.st_dev)
			_exit(1);
		_exit(strstr(err->message, want) != NULL ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	return WEXITSTATUS(status);
}

#define SPEC_HEAD "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, "

START_TEST(test_proc_on_a_symlink_is_refused)
{
	make_at("etc", true, NULL);
	make_at("proc", false, "/etc");
	ck_assert_int_eq(setup_in_child(SPEC_HEAD
	                                "\"mounts\": [{\"destination\": \"/proc\", \"type\": "
	                                "\"proc\", \"source\": \"proc\"}]}",
	                                "/proc must be mounted on ordinary directory"),
	                 0);
}
END_TEST

START_TEST(test_sysfs_below_a_symlink_is_refused)
{
	make_at("etc", true, NULL);
	make_at("sys", false, "etc");
	ck_assert_int_eq(setup_in_child(SPEC_HEAD "\"mounts\": [{\"destination\": \"/sys/kernel\", "
	                                          "\"type\": \"sysfs\", \"source\": \"sysfs\"}]}",
	                                "must be mounted on ordinary directory"),
	                 0);
}
END_TEST

/* A spec without mounts gets the usual ones: the same check applies. */
START_TEST(test_default_proc_on_a_symlink_is_refused)
{
	make_at("etc", true, NULL);
	make_at("proc", false, "../etc");
	ck_assert_int_eq(setup_in_child(SPEC_HEAD "\"mounts\": []}",
	                                "/proc must be mounted on ordinary directory"),
	                 0);
}
END_TEST

static Suite *rootfs_suite(void)
{
	Suite *s = suite_create("agent_rootfs");
	TCase *tc = tcase_create("mount destinations");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_proc_on_a_symlink_is_refused);
	tcase_add_test(tc, test_sysfs_below_a_symlink_is_refused);
	tcase_add_test(tc, test_default_proc_on_a_symlink_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

/* Mount namespaces need root. */
const struct unit_test unit_test = { .suite = rootfs_suite,
	                             .needs_root = true,
	                             .test_dir = "kata-test-rootfs" };
