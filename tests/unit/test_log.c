/* Logging: levels, text and JSON records, fields, the log file. */
#include "check_main.h"
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

/* Each test's log file below the program's directory (removed even when the test fails). */
static char path[128];

static void setup(void)
{
	int fd;

	snprintf(path, sizeof(path), "%s/log.XXXXXX", unit_test_dir);
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void teardown(void)
{
	kata_log_close();
	unlink(path);
}

static char *read_log(void)
{
	FILE *f = fopen(path, "r");
	char *buf = xzalloc(65536);

	ck_assert_ptr_nonnull(f);
	ck_assert_uint_lt(fread(buf, 1, 65535, f), 65535);
	fclose(f);
	return buf;
}

START_TEST(test_json_records)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *text = NULL;
	json_object *record;

	ck_assert_int_eq(kata_log_init("kata-test", path, KATA_LOG_JSON, KATA_LOG_INFO, &err), 0);
	kata_log_set_field("container", "c1");
	log_info("hello %d", 42);
	log_debug("not shown");
	text = read_log();
	ck_assert_ptr_null(strstr(text, "not shown"));
	record = json_tokener_parse(text);
	ck_assert_ptr_nonnull(record);
	ck_assert_str_eq(json_object_get_string(json_object_object_get(record, "msg")), "hello 42");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(record, "level")), "info");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(record, "source")),
	                 "kata-test");
	ck_assert_str_eq(json_object_get_string(json_object_object_get(record, "container")), "c1");
	json_object_put(record);
}
END_TEST

START_TEST(test_text_records_and_levels)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *text = NULL;

	ck_assert_int_eq(kata_log_init("kata-test", path, KATA_LOG_TEXT, KATA_LOG_WARNING, &err),
	                 0);
	log_info("quiet");
	log_warning("loud \"quoted\"");
	kata_log_set_level(KATA_LOG_DEBUG);
	log_debug("now debug");
	text = read_log();
	ck_assert_ptr_null(strstr(text, "quiet"));
	ck_assert_ptr_nonnull(strstr(text, "warning: loud \"quoted\"\n"));
	ck_assert_ptr_nonnull(strstr(text, "debug: now debug\n"));
}
END_TEST

START_TEST(test_parse_names)
{
	cleanup_error kata_error_t err = NULL;
	enum kata_log_format format;
	enum kata_log_level level;

	ck_assert_int_eq(kata_log_parse_format("json", &format, &err), 0);
	ck_assert_int_eq(format, KATA_LOG_JSON);
	ck_assert_int_eq(kata_log_parse_level("DEBUG", &level, &err), 0);
	ck_assert_int_eq(level, KATA_LOG_DEBUG);
	ck_assert_int_eq(kata_log_parse_format("xml", &format, &err), -1);
	ck_assert_str_eq(err->message, "unknown log format `xml` (text or json)");
}
END_TEST

START_TEST(test_unwritable_path)
{
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(
	        kata_log_init("t", "/nonexistent/dir/log", KATA_LOG_TEXT, KATA_LOG_INFO, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "/nonexistent/dir/log"));
}
END_TEST

static Suite *log_suite(void)
{
	Suite *s = suite_create("log");
	TCase *tc = tcase_create("log");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_json_records);
	tcase_add_test(tc, test_text_records_and_levels);
	tcase_add_test(tc, test_parse_names);
	tcase_add_test(tc, test_unwritable_path);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = log_suite, .test_dir = "kata-test-log" };
