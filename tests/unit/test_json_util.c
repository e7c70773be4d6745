/* lib/json_util: typed getters with path-naming errors, bounded parsing, atomic writes. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "json_util.h"

static json_object *parse(const char *text)
{
	cleanup_error kata_error_t err = NULL;
	json_object *obj = json_parse_text(text, strlen(text), &err);

	ck_assert_msg(obj != NULL, "parse failed: %s", err != NULL ? err->message : "?");
	return obj;
}

/* Parses text that must fail; returns the message (caller frees). */
static char *parse_error(const char *text, size_t len)
{
	kata_error_t err = NULL;
	json_object *obj = json_parse_text(text, len, &err);
	char *message;

	ck_assert_ptr_null(obj);
	ck_assert_ptr_nonnull(err);
	message = xstrdup(err->message);
	kata_error_free(&err);
	return message;
}

static const char sample[] = "{\"s\": \"text\", \"i\": -7, \"u\": 4294967295, \"big\": "
                             "18446744073709551615, \"b\": true, \"d\": 1.5, \"n\": null, "
                             "\"a\": [\"x\", \"y\"], \"bad\": [\"x\", 3], \"o\": {\"k\": \"v\", "
                             "\"k2\": \"v2\"}, \"nul\": \"a\\u0000b\", \"neg\": -1}";

START_TEST(test_paths)
{
	cleanup_free char *a = json_path_key("", "process");
	cleanup_free char *b = json_path_key(NULL, "process");
	cleanup_free char *c = json_path_key("process", "args");
	cleanup_free char *d = json_path_index(c, 2);

	ck_assert_str_eq(a, "process");
	ck_assert_str_eq(b, "process");
	ck_assert_str_eq(c, "process.args");
	ck_assert_str_eq(d, "process.args[2]");
}
END_TEST

START_TEST(test_get_each_type)
{
	cleanup_json json_object *obj = parse(sample);
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *s = NULL;
	cleanup_strv char **strv = NULL;
	cleanup_strv char **map = NULL;
	int64_t i64;
	uint64_t u64;
	int32_t i32;
	uint32_t u32;
	bool b;
	json_object *o;

	ck_assert_int_eq(json_get_string(obj, "s", "", true, &s, &err), 1);
	ck_assert_str_eq(s, "text");
	ck_assert_int_eq(json_get_int64(obj, "i", "", true, &i64, &err), 1);
	ck_assert_int_eq(i64, -7);
	ck_assert_int_eq(json_get_int32(obj, "i", "", true, &i32, &err), 1);
	ck_assert_int_eq(i32, -7);
	ck_assert_int_eq(json_get_uint32(obj, "u", "", true, &u32, &err), 1);
	ck_assert_uint_eq(u32, 4294967295u);
	ck_assert_int_eq(json_get_uint64(obj, "big", "", true, &u64, &err), 1);
	ck_assert(u64 == UINT64_MAX);
	ck_assert_int_eq(json_get_uint64(obj, "u", "", true, &u64, &err), 1);
	ck_assert(u64 == 4294967295u);
	ck_assert_int_eq(json_get_bool(obj, "b", "", true, &b, &err), 1);
	ck_assert(b);
	ck_assert_int_eq(json_get_string_array(obj, "a", "", true, &strv, &err), 1);
	ck_assert_int_eq(strv_length(strv), 2);
	ck_assert_str_eq(strv[1], "y");
	ck_assert_int_eq(json_get_string_map(obj, "o", "", true, &map, &err), 1);
	ck_assert_int_eq(strv_length(map), 4);
	ck_assert_str_eq(map[0], "k");
	ck_assert_str_eq(map[1], "v");
	ck_assert_str_eq(map[2], "k2");
	ck_assert_str_eq(map[3], "v2");
	ck_assert_int_eq(json_get_object(obj, "o", "", true, &o, &err), 1);
	ck_assert(json_object_is_type(o, json_type_object));
	ck_assert_int_eq(json_get_array(obj, "a", "", true, &o, &err), 1);
	ck_assert(json_object_is_type(o, json_type_array));
	ck_assert_ptr_null(err);
}
END_TEST

START_TEST(test_absent_and_null)
{
	cleanup_json json_object *obj = parse(sample);
	cleanup_error kata_error_t err = NULL;
	int64_t v = 42;

	/* Absent and null both leave the output alone, as Go's decoder does. */
	ck_assert_int_eq(json_get_int64(obj, "missing", "x", false, &v, &err), 0);
	ck_assert_int_eq(json_get_int64(obj, "n", "x", false, &v, &err), 0);
	ck_assert_int_eq(v, 42);
	ck_assert_ptr_null(err);
	ck_assert_int_eq(json_get_int64(obj, "missing", "x", true, &v, &err), -1);
	ck_assert_str_eq(err->message, "x.missing: required field is missing");
	kata_error_free(&err);
	ck_assert_int_eq(json_get_int64(obj, "n", "", true, &v, &err), -1);
	ck_assert_str_eq(err->message, "n: required field is missing");
	kata_error_free(&err);
	/* Not an object: nothing is there. */
	ck_assert_int_eq(json_get_int64(NULL, "x", "", false, &v, &err), 0);
}
END_TEST

struct type_case {
	const char *key;
	const char *getter;
	const char *message;
};

static const struct type_case type_cases[] = {
	{ "i", "string", "p.i: expected a string, got an integer" },
	{ "s", "int64", "p.s: expected an integer, got a string" },
	{ "d", "int64", "p.d: expected an integer, got a number" },
	{ "b", "uint32", "p.b: expected an integer, got a boolean" },
	{ "o", "bool", "p.o: expected a boolean, got an object" },
	{ "a", "object", "p.a: expected an object, got an array" },
	{ "s", "array", "p.s: expected an array, got a string" },
	{ "bad", "strv", "p.bad[1]: expected a string, got an integer" },
	{ "s", "strv", "p.s: expected an array, got a string" },
	{ "a", "map", "p.a: expected an object, got an array" },
	{ "neg", "uint32", "p.neg: -1 out of range [0, 4294967295]" },
	{ "neg", "uint64", "p.neg: -1 out of range [0, 18446744073709551615]" },
	{ "u", "int32", "p.u: 4294967295 out of range [-2147483648, 2147483647]" },
	{ "u", "uint16", "p.u: 4294967295 out of range [0, 65535]" },
	{ "big", "int64",
	  "p.big: 18446744073709551615 out of range [-9223372036854775808, 9223372036854775807]" },
	{ "nul", "string", "p.nul: string contains a NUL character" },
	{ "s", "absolute_path", "p.s: expected an absolute path" },
	{ "i", "absolute_path", "p.i: expected a string, got an integer" },
	{ "s", "enum", "p.s: unknown value \"text\"" },
	{ "b", "enum", "p.b: expected a string, got a boolean" },
};

static int call_getter(json_object *obj, const struct type_case *c, kata_error_t *err)
{
	cleanup_free char *s = NULL;
	cleanup_strv char **strv = NULL;
	int64_t i64;
	uint64_t u64;
	int32_t i32;
	uint32_t u32;
	uint16_t u16;
	bool b;
	json_object *o;

	if (strcmp(c->getter, "string") == 0)
		return json_get_string(obj, c->key, "p", true, &s, err);
	if (strcmp(c->getter, "int64") == 0)
		return json_get_int64(obj, c->key, "p", true, &i64, err);
	if (strcmp(c->getter, "uint64") == 0)
		return json_get_uint64(obj, c->key, "p", true, &u64, err);
	if (strcmp(c->getter, "int32") == 0)
		return json_get_int32(obj, c->key, "p", true, &i32, err);
	if (strcmp(c->getter, "uint32") == 0)
		return json_get_uint32(obj, c->key, "p", true, &u32, err);
	if (strcmp(c->getter, "uint16") == 0)
		return json_get_uint16(obj, c->key, "p", true, &u16, err);
	static const char *const names[] = { "one", "two" };
	int index;

	if (strcmp(c->getter, "enum") == 0)
		return json_get_enum(obj, c->key, "p", true, names, 2, &index, err);
	if (strcmp(c->getter, "absolute_path") == 0)
		return json_get_absolute_path(obj, c->key, "p", true, &s, err);
	if (strcmp(c->getter, "bool") == 0)
		return json_get_bool(obj, c->key, "p", true, &b, err);
	if (strcmp(c->getter, "object") == 0)
		return json_get_object(obj, c->key, "p", true, &o, err);
	if (strcmp(c->getter, "array") == 0)
		return json_get_array(obj, c->key, "p", true, &o, err);
	if (strcmp(c->getter, "strv") == 0)
		return json_get_string_array(obj, c->key, "p", true, &strv, err);
	if (strcmp(c->getter, "map") == 0)
		return json_get_string_map(obj, c->key, "p", true, &strv, err);
	ck_abort_msg("unknown getter %s", c->getter);
	return 0;
}

START_TEST(test_wrong_type_names_path)
{
	cleanup_json json_object *obj = parse(sample);
	const struct type_case *c = &type_cases[_i];
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(call_getter(obj, c, &err), -1);
	ck_assert_ptr_nonnull(err);
	ck_assert_str_eq(err->message, c->message);
}
END_TEST

START_TEST(test_root_type_error)
{
	cleanup_json json_object *obj = parse("[1]");
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(json_check_type(obj, json_type_object, "", &err), -1);
	ck_assert_str_eq(err->message, "(root): expected an object, got an array");
}
END_TEST

struct syntax_case {
	const char *text;
	const char *message;
};

static const struct syntax_case syntax_cases[] = {
	{ "{\"a\": 1,\n \"b\": [1, 2,\n x]}",
	  "line 3, column 2 (offset 23): unexpected character" },
	{ "{\"a\": ", "line 1, column 7 (offset 6): unexpected end of data" },
	{ "", "line 1, column 1 (offset 0): unexpected end of data" },
	{ "{\"a\": 1} {}", "line 1, column 10 (offset 9): unexpected data after the JSON value" },
	{ "[1 2]", "line 1, column 4 (offset 3): array value separator ',' expected" },
	{ "\n\n   nul", "line 3, column 7 (offset 8): unexpected end of data" },
};

START_TEST(test_syntax_error_position)
{
	const struct syntax_case *c = &syntax_cases[_i];
	cleanup_free char *message = parse_error(c->text, strlen(c->text));

	ck_assert_msg(strstr(message, c->message) != NULL, "%s: got \"%s\", want \"%s\"", c->text,
	              message, c->message);
	ck_assert_msg(strncmp(message, "invalid JSON at ", 16) == 0, "%s", message);
}
END_TEST

START_TEST(test_parse_accepts_values)
{
	cleanup_json json_object *num = parse(" 123 ");
	cleanup_json json_object *str = parse("\"s\"\n");
	cleanup_json json_object *big = parse("[18446744073709551615]");

	ck_assert_int_eq(json_object_get_int64(num), 123);
	ck_assert_str_eq(json_object_get_string(str), "s");
	ck_assert(json_object_get_uint64(json_object_array_get_idx(big, 0)) == UINT64_MAX);
}
END_TEST

START_TEST(test_parse_refuses_nul_and_bad_utf8)
{
	static const char with_nul[] = "{\"a\": \"x\0y\"}";
	cleanup_free char *m1 = parse_error(with_nul, sizeof(with_nul) - 1);
	cleanup_free char *m2 = parse_error("\"\xff\xfe\"", 4);

	ck_assert_ptr_nonnull(strstr(m1, "line 1, column 9 (offset 8): NUL byte"));
	ck_assert_ptr_nonnull(strstr(m2, "utf-8"));
}
END_TEST

START_TEST(test_parse_refuses_deep_nesting)
{
	char text[2 * (JSON_MAX_DEPTH + 10) + 1];
	cleanup_free char *message = NULL;
	size_t n = JSON_MAX_DEPTH + 10;

	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	message = parse_error(text, 2 * n);
	ck_assert_ptr_nonnull(strstr(message, "nesting too deep"));

	/* Nesting below the limit is fine. */
	n = JSON_MAX_DEPTH - 1;
	memset(text, '[', n);
	memset(text + n, ']', n);
	text[2 * n] = '\0';
	{
		cleanup_json json_object *ok = parse(text);
		ck_assert_ptr_nonnull(ok);
	}
}
END_TEST

START_TEST(test_absolute_path)
{
	cleanup_json json_object *obj = parse("{\"p\": \"/run/x\", \"n\": null}");
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *path = NULL;
	char *untouched = NULL;

	ck_assert_int_eq(json_get_absolute_path(obj, "p", "", true, &path, &err), 1);
	ck_assert_str_eq(path, "/run/x");
	ck_assert_int_eq(json_get_absolute_path(obj, "n", "", false, &untouched, &err), 0);
	ck_assert_int_eq(json_get_absolute_path(obj, "missing", "", false, &untouched, &err), 0);
	ck_assert_ptr_null(untouched);
	ck_assert_int_eq(json_get_absolute_path(obj, "missing", "", true, &untouched, &err), -1);
	ck_assert_str_eq(err->message, "missing: required field is missing");
}
END_TEST

START_TEST(test_enum)
{
	static const char *const names[] = { "created", "started", "stopped" };
	cleanup_json json_object *obj = parse("{\"phase\": \"started\", \"odd\": \"a\\nb\"}");
	cleanup_error kata_error_t err = NULL;
	int index = -1;

	ck_assert_int_eq(json_get_enum(obj, "phase", "", true, names, 3, &index, &err), 1);
	ck_assert_int_eq(index, 1);
	ck_assert_int_eq(json_get_enum(obj, "missing", "", false, names, 3, &index, &err), 0);
	ck_assert_int_eq(index, 1);
	/* An unknown value is shown escaped, as JSON. */
	ck_assert_int_eq(json_get_enum(obj, "odd", "sb", true, names, 3, &index, &err), -1);
	ck_assert_str_eq(err->message, "sb.odd: unknown value \"a\\nb\"");
}
END_TEST

/* A caller's tighter bound holds; one outside 1..JSON_MAX_DEPTH falls back to the default.
 * json-c counts the innermost scalar as a level too. */
START_TEST(test_parse_depth_bound)
{
	static const char two[] = "[[1]]", three[] = "[[[1]]]";
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *ok = json_parse_text_depth(two, strlen(two), 3, &err);
	cleanup_json json_object *fallback = json_parse_text_depth(three, strlen(three), 0, &err);

	ck_assert_ptr_nonnull(ok);
	ck_assert_ptr_nonnull(fallback);
	ck_assert_ptr_null(json_parse_text_depth(three, strlen(three), 3, &err));
	ck_assert_ptr_nonnull(strstr(err->message, "nesting too deep"));
}
END_TEST

/* Below the program's directory: removed even when the test fails. */
static char *make_temp_dir(void)
{
	char dir[128];

	return xstrdup(unit_test_new_dir(dir, sizeof(dir)));
}

static int count_entries(const char *dir)
{
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	return n;
}

START_TEST(test_file_roundtrip_atomic)
{
	cleanup_free char *dir = make_temp_dir();
	cleanup_free char *path = xasprintf("%s/state.json", dir);
	cleanup_json json_object *obj = parse("{\"id\": \"c1\", \"pid\": 42, \"path\": \"/a/b\"}");
	cleanup_json json_object *again = NULL;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *text = NULL;
	struct stat st;
	size_t len;

	ck_assert_int_eq(json_write_file_atomic(path, obj, 0640, &err), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	/* Overwrite: still one file, no temporary left. */
	json_object_object_add(obj, "pid", json_object_new_int(43));
	ck_assert_int_eq(json_write_file_atomic(path, obj, 0600, &err), 0);
	ck_assert_int_eq(count_entries(dir), 1);
	again = json_parse_file(path, 0, &err);
	ck_assert_ptr_nonnull(again);
	ck_assert(json_object_equal(obj, again));
	text = json_read_file(path, 0, &len, &err);
	ck_assert_ptr_nonnull(text);
	ck_assert_str_eq(text, "{\"id\":\"c1\",\"pid\":43,\"path\":\"/a/b\"}");
	ck_assert_uint_eq(len, strlen(text));

	unlink(path);
	rmdir(dir);
}
END_TEST

START_TEST(test_file_errors)
{
	cleanup_free char *dir = make_temp_dir();
	cleanup_free char *path = xasprintf("%s/big.json", dir);
	cleanup_free char *bad = xasprintf("%s/bad.json", dir);
	cleanup_free char *missing = xasprintf("%s/nodir/x.json", dir);
	cleanup_json json_object *obj = parse("{}");
	cleanup_error kata_error_t err = NULL;
	cleanup_close int fd = -1;

	/* 100 MB (sparse): refused before reading. */
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 100 * 1024 * 1024), 0);
	ck_assert_ptr_null(json_parse_file(path, 0, &err));
	ck_assert_int_eq(err->errno_value, EFBIG);
	ck_assert_ptr_nonnull(strstr(err->message, "exceeds the limit of 16777216 bytes"));
	ck_assert_ptr_nonnull(strstr(err->message, path));
	kata_error_free(&err);
	/* A small limit applies too. */
	ck_assert_int_eq(ftruncate(fd, 11), 0);
	ck_assert_ptr_null(json_parse_file(path, 10, &err));
	ck_assert_int_eq(err->errno_value, EFBIG);
	kata_error_free(&err);

	ck_assert_ptr_null(json_parse_file(dir, 0, &err));
	ck_assert_ptr_nonnull(strstr(err->message, "not a regular file"));
	kata_error_free(&err);

	ck_assert_ptr_null(json_parse_file(missing, 0, &err));
	ck_assert_int_eq(err->errno_value, ENOENT);
	kata_error_free(&err);

	ck_assert_int_eq(json_write_file_atomic(missing, obj, 0600, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOENT);
	kata_error_free(&err);

	/* A syntax error in a file names the file and the position. */
	{
		cleanup_close int bfd = open(bad, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

		ck_assert_int_eq(write(bfd, "{\n  \"a\": tru }", 14), 14);
	}
	ck_assert_ptr_null(json_parse_file(bad, 0, &err));
	ck_assert_msg(strncmp(err->message, bad, strlen(bad)) == 0, "%s", err->message);
	ck_assert_ptr_nonnull(strstr(err->message, "line 2"));

	unlink(path);
	unlink(bad);
	rmdir(dir);
}
END_TEST

START_TEST(test_builders)
{
	char *strv[] = { "a", "b", NULL };
	char *pairs[] = { "k1", "v1", "k2", "v2", NULL };
	cleanup_json json_object *obj = json_object_new_object();
	cleanup_json json_object *expected = parse(
	        "{\"s\": \"x\", \"a\": [\"a\", \"b\"], \"m\": {\"k1\": \"v1\", \"k2\": \"v2\"}}");

	json_add_string(obj, "s", "x");
	json_add_string(obj, "none", NULL);
	json_add_string_array(obj, "a", strv);
	json_add_string_array(obj, "none2", NULL);
	json_add_string_map(obj, "m", pairs);
	json_add_string_map(obj, "none3", NULL);
	ck_assert(json_object_equal(obj, expected));
}
END_TEST

static Suite *json_util_suite(void)
{
	Suite *s = suite_create("json_util");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_paths);
	tcase_add_test(tc, test_get_each_type);
	tcase_add_test(tc, test_absent_and_null);
	tcase_add_loop_test(tc, test_wrong_type_names_path, 0,
	                    sizeof(type_cases) / sizeof(type_cases[0]));
	tcase_add_test(tc, test_root_type_error);
	tcase_add_loop_test(tc, test_syntax_error_position, 0,
	                    sizeof(syntax_cases) / sizeof(syntax_cases[0]));
	tcase_add_test(tc, test_parse_accepts_values);
	tcase_add_test(tc, test_parse_refuses_nul_and_bad_utf8);
	tcase_add_test(tc, test_parse_refuses_deep_nesting);
	tcase_add_test(tc, test_parse_depth_bound);
	tcase_add_test(tc, test_absolute_path);
	tcase_add_test(tc, test_enum);
	tcase_add_test(tc, test_file_roundtrip_atomic);
	tcase_add_test(tc, test_file_errors);
	tcase_add_test(tc, test_builders);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = json_util_suite, .test_dir = "kata-test-json" };
