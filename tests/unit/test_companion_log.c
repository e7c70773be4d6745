/* Where the runtime's proxy and shims log (cli/companion_log.h): the runtime's --log in its
 * format, else a file of their own in the sandbox's directory, in text. */
#include "check_main.h"

#include "cleanup.h"
#include "cli/cli.h"
#include "cli/companion_log.h"

START_TEST(test_runtime_log_wins)
{
	struct companion_log log = { .path = "/var/log/rt.json", .format = KATA_LOG_JSON };
	cleanup_free char *shim = companion_log_path(&log, "/run/x/.vm/1", "shim");

	ck_assert_str_eq(shim, "/var/log/rt.json");
	ck_assert_str_eq(companion_log_format(&log), "json");
	log.format = KATA_LOG_TEXT;
	ck_assert_str_eq(companion_log_format(&log), "text");
}
END_TEST

START_TEST(test_own_file_without_runtime_log)
{
	/* The runtime's format applies to its own log only: a file of their own is text. */
	struct companion_log log = { .path = NULL, .format = KATA_LOG_JSON, .debug = true };
	cleanup_free char *shim = companion_log_path(&log, "/run/x/.vm/1", "shim");
	cleanup_free char *proxy = companion_log_path(&log, "/run/x/.vm/1", "proxy");

	ck_assert_str_eq(shim, "/run/x/.vm/1/shim.log");
	ck_assert_str_eq(proxy, "/run/x/.vm/1/proxy.log");
	ck_assert_str_eq(companion_log_format(&log), "text");
	ck_assert_ptr_null(companion_log_path(&log, NULL, "shim"));
}
END_TEST

START_TEST(test_from_the_cli_context)
{
	struct cli_context ctx = { .log_path = "/l", .log_format = KATA_LOG_JSON, .debug = true };
	struct companion_log log = cli_companion_log(&ctx);

	ck_assert_str_eq(log.path, "/l");
	ck_assert_int_eq(log.format, KATA_LOG_JSON);
	ck_assert(log.debug);
}
END_TEST

static Suite *companion_log_suite(void)
{
	Suite *s = suite_create("companion log");
	TCase *tc = tcase_create("paths");

	tcase_add_test(tc, test_runtime_log_wins);
	tcase_add_test(tc, test_own_file_without_runtime_log);
	tcase_add_test(tc, test_from_the_cli_context);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = companion_log_suite };
