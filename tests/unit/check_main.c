/* The one main() of the unit test programs (check_main.h). */
#include "check_main.h"

#include "cleanup.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

const char *unit_test_dir;

char *unit_test_new_dir(char *buf, size_t size)
{
	ck_assert_ptr_nonnull(unit_test_dir);
	ck_assert_int_lt(snprintf(buf, size, "%s/t.XXXXXX", unit_test_dir), (int)size);
	ck_assert_ptr_nonnull(mkdtemp(buf));
	return buf;
}

char *unit_command_output(const char *cmd)
{
	FILE *p = popen(cmd, "r");
	char *buf = xzalloc(65536);
	size_t n;

	ck_assert_msg(p != NULL, "popen %s", cmd);
	n = fread(buf, 1, 65535, p);
	buf[n] = '\0';
	pclose(p);
	return buf;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	if (flag == FTW_DP)
		rmdir(path);
	else
		unlink(path);
	return 0;
}

static int make_test_dir(char **dir)
{
	*dir = xasprintf("/tmp/%s.XXXXXX", unit_test.test_dir);
	if (mkdtemp(*dir) == NULL) {
		perror(*dir);
		return -1;
	}
	unit_test_dir = *dir;
	return 0;
}

int main(int argc, char **argv)
{
	cleanup_free char *dir = NULL;
	SRunner *runner;
	int failed;

	if (unit_test.run_instead != NULL) {
		int status = unit_test.run_instead(argc, argv);

		if (status >= 0)
			return status;
	}
	if (unit_test.needs_root && geteuid() != 0) {
		/* The summary tests/run-tests.sh reads: no checks, nothing failed. */
		printf("100%%: Checks: 0, Failures: 0, Errors: 0\n");
		return EXIT_SUCCESS;
	}
	if (unit_test.test_dir != NULL && make_test_dir(&dir) < 0)
		return EXIT_FAILURE;
	if (unit_test.begin != NULL && unit_test.begin() != 0)
		return EXIT_FAILURE;
	runner = srunner_create(unit_test.suite());
	if (unit_test.always_fork)
		srunner_set_fork_status(runner, CK_FORK);
	srunner_run_all(runner, CK_NORMAL);
	failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	if (unit_test.end != NULL)
		unit_test.end();
	if (dir != NULL)
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}
