/* The one main() of the unit test programs (tests/unit/check_main.c, linked into each).
 * A test file tests/unit/test_X.c says once what its program runs:
 *
 *     #include "check_main.h"
 *     ...
 *     static Suite *x_suite(void) { ... }
 *
 *     const struct unit_test unit_test = { .suite = x_suite };
 *
 * and has no main() of its own. main() runs the suite with srunner_run_all(CK_NORMAL):
 * Check's environment (CK_FORK, CK_RUN_SUITE, CK_RUN_CASE, CK_DEFAULT_TIMEOUT...) applies
 * as to any Check program, and the exit status is EXIT_SUCCESS only when no test failed. */
#ifndef KATA_TESTS_CHECK_MAIN_H
#define KATA_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdbool.h>

struct unit_test {
	/* Builds the suite (required). */
	Suite *(*suite)(void);
	/* Optional, before the suite is built: non-zero fails the program without running it
	 * (a test directory that cannot be made...). */
	int (*begin)(void);
	/* Optional, after the suite ran, whatever its result. */
	void (*end)(void);
	/* Optional: a directory /tmp/TEST_DIR.XXXXXX for the whole program, made before the
	 * suite and removed with everything in it after: Check's fork mode runs neither
	 * teardown nor atexit handlers when a test fails (its process _exits), so what the
	 * tests leave below it goes all the same. Its path is unit_test_dir. */
	const char *test_dir;
	/* Not root: report no checks (a passing run) rather than fail. */
	bool needs_root;
	/* Every test in a process of its own whatever CK_FORK says (tests that unshare). */
	bool always_fork;
	/* Optional, called first with main()'s arguments: a value >= 0 is the exit status of
	 * the program started again by its own tests as a helper; the suite does not run. */
	int (*run_instead)(int argc, char **argv);
};

/* What `sh -c cmd` prints on its standard output (the first 64 KiB), for the test to check;
 * freed by the caller. */
char *unit_command_output(const char *cmd);

extern const struct unit_test unit_test;
/* The directory made for unit_test.test_dir (NULL without one). */
extern const char *unit_test_dir;
/* A new directory UNIT_TEST_DIR/t.XXXXXX, its path into buf; fails the test when it cannot
 * be made. Returns buf. */
char *unit_test_new_dir(char *buf, size_t size);

#endif
