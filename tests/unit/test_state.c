/* The state store: ids, create/open/list/destroy, atomic state, locking. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_util.h"
#include "cli/sandbox.h"
#include "cli/share.h"
#include "state.h"

/* Each test's own directory below the program's (removed even when the test fails). */
static char root_template[128];
static char *root;

static void setup(void)
{
	root = unit_test_new_dir(root_template, sizeof(root_template));
}

static void teardown(void)
{
	cleanup_error kata_error_t err = NULL;

	/* A test that failed half-way may have left its bind mount. */
	ck_assert_int_eq(share_unmount_below(root, &err), 0);
	ck_assert_int_eq(remove_tree(root, &err), 0);
}

START_TEST(test_ids)
{
	ck_assert(state_id_is_valid("abc"));
	ck_assert(state_id_is_valid("a1_b.c-d"));
	ck_assert(!state_id_is_valid(""));
	ck_assert(!state_id_is_valid("-abc"));
	ck_assert(!state_id_is_valid("../etc"));
	ck_assert(!state_id_is_valid("a/b"));
	ck_assert(!state_id_is_valid(".hidden"));
	/* What the runtime keeps under the default root besides containers has names no id
	 * can have: `list` skips them and no verb reaches them by id. */
	ck_assert(!state_id_is_valid(strrchr(SANDBOX_BASE_DIR, '/') + 1));
	ck_assert(!state_id_is_valid(strrchr(KATA_DEFAULT_TEMPLATE_PATH, '/') + 1));
	ck_assert_int_eq(strncmp(SANDBOX_BASE_DIR, "/run/kata-containers/", 21), 0);
}
END_TEST

/* One limit everywhere: the agent's (AGENT_ID_MAX), so that no longer id boots a VM. */
START_TEST(test_id_length_is_the_agents)
{
	char id[AGENT_ID_MAX + 2];

	memset(id, 'a', sizeof(id) - 1);
	id[AGENT_ID_MAX] = '\0';
	ck_assert_int_eq(STATE_ID_MAX, AGENT_ID_MAX);
	ck_assert(state_id_is_valid(id));
	id[AGENT_ID_MAX] = 'a';
	id[AGENT_ID_MAX + 1] = '\0';
	ck_assert(!state_id_is_valid(id));
}
END_TEST

/* A directory without its state file (a create killed before its first write) and a
 * damaged file are told apart from a container that does not exist. */
START_TEST(test_missing_and_damaged_state)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *path = NULL;
	struct state_handle h;
	FILE *f;

	ck_assert_int_eq(state_create(root, "half", &h, &err), 0);
	ck_assert_ptr_null(state_read(&h, &err));
	ck_assert_int_eq(err->errno_value, ENODATA);
	kata_error_free(&err);
	ck_assert_ptr_null(state_read_unlocked(root, "half", &err));
	ck_assert_int_eq(err->errno_value, ENODATA);
	kata_error_free(&err);
	path = xasprintf("%s/half/%s", root, STATE_FILE_NAME);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("{\"id\": \"half\", \"sta", f);
	fclose(f);
	ck_assert_ptr_null(state_read(&h, &err));
	ck_assert_int_eq(err->errno_value, EBADMSG);
	ck_assert_ptr_nonnull(strstr(err->message, "half"));
	kata_error_free(&err);
	ck_assert_int_eq(state_destroy(&h, &err), 0);
}
END_TEST

START_TEST(test_create_write_read)
{
	cleanup_error kata_error_t err = NULL;
	struct state_handle h;
	json_object *state = json_object_new_object();
	json_object *back;

	ck_assert_int_eq(state_create(root, "c1", &h, &err), 0);
	json_object_object_add(state, "status", json_object_new_string("created"));
	ck_assert_int_eq(state_write(&h, state, &err), 0);
	back = state_read(&h, &err);
	ck_assert_ptr_nonnull(back);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(back, "status")), "created");
	json_object_put(back);
	state_unlock(&h);

	back = state_read_unlocked(root, "c1", &err);
	ck_assert_ptr_nonnull(back);
	json_object_put(back);
	json_object_put(state);
}
END_TEST

START_TEST(test_duplicate_create)
{
	cleanup_error kata_error_t err = NULL;
	struct state_handle h;

	ck_assert_int_eq(state_create(root, "dup", &h, &err), 0);
	state_unlock(&h);
	ck_assert_int_eq(state_create(root, "dup", &h, &err), -1);
	ck_assert_int_eq(err->errno_value, EEXIST);
	ck_assert_str_eq(err->message, "container `dup` already exists");
}
END_TEST

START_TEST(test_unknown_and_invalid)
{
	cleanup_error kata_error_t err = NULL;
	struct state_handle h;

	ck_assert_int_eq(state_open(root, "nope", &h, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOENT);
	ck_assert_str_eq(err->message, "container `nope` does not exist");
	kata_error_free(&err);
	ck_assert_ptr_null(state_read_unlocked(root, "nope", &err));
	ck_assert_int_eq(err->errno_value, ENOENT);
	kata_error_free(&err);
	ck_assert_int_eq(state_create(root, "../x", &h, &err), -1);
	ck_assert_int_eq(err->errno_value, EINVAL);
}
END_TEST

START_TEST(test_list_sorted_and_destroy)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_strv char **ids = NULL;
	const char *names[] = { "b", "a", "c" };
	struct state_handle h;

	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(state_create(root, names[i], &h, &err), 0);
		state_unlock(&h);
	}
	ck_assert_int_eq(state_list(root, &ids, &err), 0);
	ck_assert_uint_eq(strv_length(ids), 3);
	ck_assert_str_eq(ids[0], "a");
	ck_assert_str_eq(ids[2], "c");
	ck_assert_int_eq(state_open(root, "b", &h, &err), 0);
	ck_assert_int_eq(state_destroy(&h, &err), 0);
	strv_free(ids);
	ck_assert_int_eq(state_list(root, &ids, &err), 0);
	ck_assert_uint_eq(strv_length(ids), 2);
	ck_assert_str_eq(ids[1], "c");
}
END_TEST

START_TEST(test_list_absent_root)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_strv char **ids = NULL;
	cleanup_free char *absent = xasprintf("%s/absent", root);

	ck_assert_int_eq(state_list(absent, &ids, &err), 0);
	ck_assert_uint_eq(strv_length(ids), 0);
}
END_TEST

START_TEST(test_lock_is_exclusive)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *dir = NULL;
	struct state_handle h;
	int fd;

	ck_assert_int_eq(state_create(root, "locked", &h, &err), 0);
	dir = xasprintf("%s/locked", root);
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), -1);
	ck_assert_int_eq(errno, EWOULDBLOCK);
	state_unlock(&h);
	ck_assert_int_eq(flock(fd, LOCK_EX | LOCK_NB), 0);
	close(fd);
}
END_TEST

/* A caller waiting for the lock of a container that is deleted meanwhile sees it gone. */
START_TEST(test_waiter_sees_deletion)
{
	cleanup_error kata_error_t err = NULL;
	struct state_handle h;
	int status;
	pid_t pid;

	ck_assert_int_eq(state_create(root, "doomed", &h, &err), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct state_handle h2;
		kata_error_t child_err = NULL;

		/* flock belongs to the open file: the inherited copy would keep the lock. */
		close(h.lock_fd);
		int ret = state_open(root, "doomed", &h2, &child_err);
		_exit(ret < 0 && child_err->errno_value == ENOENT ? 0 : 1);
	}
	usleep(100 * 1000);
	ck_assert_int_eq(state_destroy(&h, &err), 0);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

START_TEST(test_remove_tree_does_not_follow_symlinks)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *outside = xasprintf("%s/outside", root);
	cleanup_free char *keep = xasprintf("%s/outside/keep", root);
	cleanup_free char *tree = xasprintf("%s/tree", root);
	cleanup_free char *link = xasprintf("%s/tree/link", root);
	int fd;

	ck_assert_int_eq(mkdir(outside, 0700), 0);
	fd = open(keep, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(mkdir(tree, 0700), 0);
	ck_assert_int_eq(symlink(outside, link), 0);
	ck_assert_int_eq(remove_tree(tree, &err), 0);
	ck_assert_int_eq(access(tree, F_OK), -1);
	ck_assert_int_eq(access(keep, F_OK), 0);
}
END_TEST

/* The data-loss guard: a tree with a bind mount inside (same filesystem, as /run and the
 * rootfs are on these machines) is not emptied through the mount. The mount is made in a
 * mount namespace of the test's own, so that it goes with the test even when it fails. */
START_TEST(test_remove_tree_stops_at_bind_mounts)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *precious = xasprintf("%s/precious", root);
	cleanup_free char *file = xasprintf("%s/precious/data", root);
	cleanup_free char *tree = xasprintf("%s/tree", root);
	cleanup_free char *point = xasprintf("%s/tree/shared/rootfs", root);
	cleanup_free char *shared = xasprintf("%s/tree/shared", root);
	int fd;

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_int_eq(mkdir(precious, 0700), 0);
	fd = open(file, O_CREAT | O_WRONLY, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(mkdir(tree, 0700), 0);
	ck_assert_int_eq(mkdir(shared, 0700), 0);
	ck_assert_int_eq(mkdir(point, 0700), 0);
	ck_assert_int_eq(mount(precious, point, NULL, MS_BIND, NULL), 0);
	ck_assert_int_eq(remove_tree(tree, &err), -1);
	ck_assert_int_eq(err->errno_value, EBUSY);
	ck_assert_int_eq(access(file, F_OK), 0);
	ck_assert_int_eq(umount2(point, MNT_DETACH), 0);
	kata_error_free(&err);
	ck_assert_int_eq(remove_tree(tree, &err), 0);
	ck_assert_int_eq(access(tree, F_OK), -1);
	ck_assert_int_eq(access(file, F_OK), 0);
}
END_TEST

START_TEST(test_remove_tree_absent_and_relative)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *absent = xasprintf("%s/absent/deeper", root);

	ck_assert_int_eq(remove_tree(absent, &err), 0);
	ck_assert_int_eq(remove_tree("relative", &err), -1);
	ck_assert_int_eq(err->errno_value, EINVAL);
}
END_TEST

static Suite *state_suite(void)
{
	Suite *s = suite_create("state");
	TCase *tc = tcase_create("store");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_ids);
	tcase_add_test(tc, test_id_length_is_the_agents);
	tcase_add_test(tc, test_missing_and_damaged_state);
	tcase_add_test(tc, test_create_write_read);
	tcase_add_test(tc, test_duplicate_create);
	tcase_add_test(tc, test_unknown_and_invalid);
	tcase_add_test(tc, test_list_sorted_and_destroy);
	tcase_add_test(tc, test_list_absent_root);
	tcase_add_test(tc, test_lock_is_exclusive);
	tcase_add_test(tc, test_waiter_sees_deletion);
	tcase_add_test(tc, test_remove_tree_does_not_follow_symlinks);
	tcase_add_test(tc, test_remove_tree_stops_at_bind_mounts);
	tcase_add_test(tc, test_remove_tree_absent_and_relative);
	suite_add_tcase(s, tc);
	return s;
}

/* Every test in a process of its own: the bind-mount test unshares its mount namespace. */
const struct unit_test unit_test = { .suite = state_suite,
	                             .test_dir = "kata-test-state",
	                             .always_fork = true };
