/* The TOML parser (config/toml*.c): every vector under tests/toml/ (valid ones compared
 * with their tagged JSON, invalid ones refused with a line and column), exact error
 * positions, the value tree's fields and positions, and hostile input (deep nesting,
 * many keys, unterminated buffers). */
#include "check_main.h"
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd_util.h"
#include "toml.h"
#include "toml_tagged_json.h"

static const char *srcdir(void)
{
	const char *dir = getenv("KATA_TEST_SRCDIR");
	return dir != NULL && dir[0] != '\0' ? dir : ".";
}

static char *read_file(const char *path, size_t *len)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	size_t capacity = 4096, used = 0, n;
	char *buf;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	buf = xmalloc(capacity);
	while ((n = fread(buf + used, 1, capacity - used, f)) > 0) {
		used += n;
		if (used == capacity) {
			capacity *= 2;
			buf = xrealloc(buf, capacity);
		}
	}
	buf[used] = '\0'; /* the loop leaves room: used < capacity */
	*len = used;
	return buf;
}

/* Appends every *.toml path under dir (recursively) to *paths. */
static void find_vectors(const char *dir, char ***paths, size_t *count)
{
	DIR *d = opendir(dir);
	struct dirent *ent;

	ck_assert_msg(d != NULL, "%s: %s (set KATA_TEST_SRCDIR to the source tree)", dir,
	              strerror(errno));
	while ((ent = readdir(d)) != NULL) {
		cleanup_free char *path = NULL;
		struct stat st;
		size_t n = strlen(ent->d_name);

		if (ent->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", dir, ent->d_name);
		ck_assert_int_eq(stat(path, &st), 0);
		if (S_ISDIR(st.st_mode)) {
			find_vectors(path, paths, count);
		} else if (n > 5 && strcmp(ent->d_name + n - 5, ".toml") == 0) {
			*paths = xrealloc(*paths, (*count + 1) * sizeof(char *));
			(*paths)[(*count)++] = steal_pointer(&path);
		}
	}
	closedir(d);
}

static struct toml_value *parse_text(const char *text, kata_error_t *err)
{
	return toml_parse(text, strlen(text), err);
}

/* --- vectors ------------------------------------------------------------------------------- */

START_TEST(test_valid_vectors)
{
	cleanup_free char *dir = xasprintf("%s/tests/toml/valid", srcdir());
	char **paths = NULL;
	size_t count = 0, failures = 0;
	cleanup_free char *first = NULL;

	find_vectors(dir, &paths, &count);
	ck_assert_msg(count >= 250, "only %zu valid vectors in %s", count, dir);
	for (size_t i = 0; i < count; i++) {
		cleanup_free char *text = NULL, *json_text = NULL, *json_path = NULL, *why = NULL;
		cleanup_error kata_error_t err = NULL;
		struct json_object *expected, *actual;
		struct toml_value *root;
		size_t len, json_len;

		text = read_file(paths[i], &len);
		json_path = xasprintf("%.*s.json", (int)(strlen(paths[i]) - 5), paths[i]);
		json_text = read_file(json_path, &json_len);
		expected = toml_tagged_json_parse(json_text, json_len, &err);
		ck_assert_msg(expected != NULL, "%s: %s", json_path, err ? err->message : "?");
		root = toml_parse(text, len, &err);
		if (root == NULL) {
			fprintf(stderr, "FAIL %s: %s\n", paths[i], err->message);
			if (first == NULL)
				first = xasprintf("%s: %s", paths[i], err->message);
			failures++;
			json_object_put(expected);
			continue;
		}
		actual = toml_to_tagged_json(root);
		toml_free(root);
		if (!toml_tagged_json_equal(expected, actual, &why)) {
			fprintf(stderr, "FAIL %s: %s\n", paths[i], why);
			if (first == NULL)
				first = xasprintf("%s: %s", paths[i], why);
			failures++;
		}
		json_object_put(expected);
		json_object_put(actual);
	}
	fprintf(stderr, "valid vectors: %zu, failed: %zu\n", count, failures);
	for (size_t i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
	ck_assert_msg(failures == 0, "%zu of %zu valid vectors failed, first: %s", failures, count,
	              first);
}
END_TEST

START_TEST(test_invalid_vectors)
{
	cleanup_free char *dir = xasprintf("%s/tests/toml/invalid", srcdir());
	char **paths = NULL;
	size_t count = 0, failures = 0;
	cleanup_free char *first = NULL;
	regex_t re;

	ck_assert_int_eq(regcomp(&re, "^line [1-9][0-9]*, column [1-9][0-9]*: .", REG_NOSUB), 0);
	find_vectors(dir, &paths, &count);
	ck_assert_msg(count >= 250, "only %zu invalid vectors in %s", count, dir);
	for (size_t i = 0; i < count; i++) {
		cleanup_free char *text = NULL;
		cleanup_error kata_error_t err = NULL;
		struct toml_value *root;
		size_t len;
		const char *problem = NULL;

		text = read_file(paths[i], &len);
		root = toml_parse(text, len, &err);
		if (root != NULL) {
			toml_free(root);
			problem = "accepted";
		} else if (err == NULL || err->errno_value != EINVAL) {
			problem = "no error or errno not EINVAL";
		} else if (regexec(&re, err->message, 0, NULL, 0) != 0) {
			problem = err->message;
		}
		if (problem != NULL) {
			fprintf(stderr, "FAIL %s: %s\n", paths[i], problem);
			if (first == NULL)
				first = xasprintf("%s: %s", paths[i], problem);
			failures++;
		}
	}
	fprintf(stderr, "invalid vectors: %zu, failed: %zu\n", count, failures);
	regfree(&re);
	for (size_t i = 0; i < count; i++)
		free(paths[i]);
	free(paths);
	ck_assert_msg(failures == 0, "%zu of %zu invalid vectors failed, first: %s", failures,
	              count, first);
}
END_TEST

/* --- exact error messages --------------------------------------------------------------------- */

static const struct {
	const char *doc;
	const char *message;
} error_cases[] = {
	{ "a = 1\na = 2\n", "line 2, column 1: key a is defined twice" },
	{ "[t]\nx = 1\n  x = 2\n", "line 3, column 3: key x is defined twice" },
	{ "a = \"abc\n", "line 1, column 9: newline in a single-line string" },
	{ "a = \"abc", "line 1, column 5: unterminated string" },
	{ "\n\nkey = \"x\\qy\"\n",
	  "line 3, column 9: invalid escape sequence: backslash followed by 'q'" },
	{ "a = \"\\uD800\"\n", "line 1, column 6: escape \\uD800 is not a Unicode scalar value" },
	{ "a = 01\n", "line 1, column 5: leading zeros are not allowed" },
	{ "a = 1__2\n", "line 1, column 6: an underscore must stand between two digits" },
	{ "a = 9223372036854775808\n", "line 1, column 5: integer out of the 64-bit range" },
	{ "a = +0x1\n", "line 1, column 5: hexadecimal, octal and binary integers take no sign" },
	{ "a = 2023-02-29\n",
	  "line 1, column 13: invalid date or time: day out of range for its month" },
	{ "a = 1979-05-27T07:32\n", "line 1, column 21: invalid date or time: expected ':' after "
	                            "the minute (seconds are required)" },
	{ "a = 07:60:00\n", "line 1, column 8: invalid date or time: minute must be 00 to 59" },
	{ "a = [1,,2]\n", "line 1, column 8: expected a value, found ','" },
	{ "a = [1 2]\n",
	  "line 1, column 8: expected ',' or ']' after an array element, found '2'" },
	{ "\n  a = [1,\n", "line 2, column 7: unterminated array" },
	{ "a = {b = 1,}\n", "line 1, column 11: trailing comma in an inline table" },
	{ "a = {b = 1\n}\n", "line 1, column 11: an inline table must stay on one line" },
	{ "[a]\n[a]\n",
	  "line 2, column 2: cannot define table a: it is already a table defined by a header" },
	{ "[a]\nb = 1\n[a.b]\n",
	  "line 3, column 4: cannot define table a.b: it is already a value" },
	{ "[fruit]\napple.color = \"red\"\n[fruit.apple]\n",
	  "line 3, column 8: cannot define table fruit.apple: it is already a table defined by "
	  "dotted keys" },
	{ "a = {b = 1}\na.c = 2\n",
	  "line 2, column 1: cannot add keys to a with a dotted key: it is an inline table" },
	{ "a = {b = 1}\n[a.c]\n",
	  "line 2, column 2: cannot add a table inside a: it is an inline table" },
	{ "a = []\n[[a]]\n", "line 2, column 3: cannot append to a with [[...]]: it is an array" },
	{ "[[a]]\n[a]\n",
	  "line 2, column 2: cannot define table a: it is already an array of tables" },
	{ "[a.b.c]\n[a]\nb.c.d = 1\n", "line 3, column 1: cannot add keys to b with a dotted key: "
	                               "it is a table defined by a header" },
	{ "a = 1 # \x01\n", "line 1, column 9: control character U+0001 in a comment" },
	{ "a = 1\r\nb = 2\r", "line 2, column 6: carriage return not followed by a newline" },
	{ "a = \"\xc3\xa9\xc3\xa9\" x\n",
	  "line 1, column 10: expected the end of the line after a value, found 'x'" },
	{ "a = \"\xff\"\n", "line 1, column 6: invalid UTF-8 byte 0xff" },
	{ "\"\"\"k\"\"\" = 1\n", "line 1, column 1: a multi-line string cannot be a key" },
	{ "a = \"\"\"x\"\"\"\"\"\"\n",
	  "line 1, column 14: too many quotes at the end of a multi-line string" },
	{ "a.b = 1\na.b.c = 2\n",
	  "line 2, column 3: cannot add keys to a.b with a dotted key: it is a value" },
	{ "a =\n", "line 1, column 4: missing value" },
	{ "a b = 1\n", "line 1, column 3: expected '=' after a key, found 'b'" },
	{ "[a\n", "line 1, column 3: expected ']' to close the header, found end of line" },
	{ "$ = 1\n", "line 1, column 1: expected a key or a [table] header, found '$'" },
	{ "\"\xe2\x98\x83\" = 1\n\"\xe2\x98\x83\" = 2\n",
	  "line 2, column 1: key \"\xe2\x98\x83\" is defined twice" },
	{ "x = \"\xe2\x98\x83\" \xe2\x98\x83\n",
	  "line 1, column 9: expected the end of the line after a value, found U+2603" },
	{ "a = 1e400\n", "line 1, column 5: float out of the 64-bit range" },
	{ "a = true\na.b = 1\n",
	  "line 2, column 1: cannot add keys to a with a dotted key: it is a value" },
};

START_TEST(test_error_positions)
{
	for (size_t i = 0; i < sizeof(error_cases) / sizeof(error_cases[0]); i++) {
		cleanup_error kata_error_t err = NULL;
		struct toml_value *root = parse_text(error_cases[i].doc, &err);

		ck_assert_msg(root == NULL, "case %zu accepted", i);
		ck_assert_ptr_nonnull(err);
		ck_assert_int_eq(err->errno_value, EINVAL);
		ck_assert_msg(strcmp(err->message, error_cases[i].message) == 0,
		              "case %zu: got \"%s\", want \"%s\"", i, err->message,
		              error_cases[i].message);
	}
}
END_TEST

/* --- the tree ----------------------------------------------------------------------------------- */

START_TEST(test_tree_positions)
{
	const char *doc = "# comment\n"
	                  "name = \"x\"\n"
	                  "\n"
	                  "[server]\n"
	                  "  port = 8080\n"
	                  "  nested.deep = [1, 2]\n"
	                  "[[item]]\n"
	                  "v = 1\n";
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root = parse_text(doc, &err);
	const struct toml_entry *e;
	const struct toml_value *server, *nested, *items;

	ck_assert_msg(root != NULL, "%s", err ? err->message : "");
	ck_assert_int_eq(root->type, TOML_TABLE);
	ck_assert_uint_eq(root->u.table.len, 3);
	e = toml_table_find(root, "name");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->line, 2);
	ck_assert_int_eq(e->column, 1);
	ck_assert_int_eq(e->value->line, 2);
	ck_assert_int_eq(e->value->column, 8);
	ck_assert_str_eq(e->value->u.string.data, "x");
	ck_assert_uint_eq(e->key_len, 4);

	server = toml_table_get(root, "server");
	ck_assert_ptr_nonnull(server);
	ck_assert_int_eq(server->type, TOML_TABLE);
	ck_assert_int_eq(server->line, 4);
	ck_assert_int_eq(server->column, 1);
	e = toml_table_find(server, "port");
	ck_assert_int_eq(e->line, 5);
	ck_assert_int_eq(e->column, 3);
	ck_assert_int_eq(e->value->type, TOML_INTEGER);
	ck_assert_int_eq(e->value->u.integer, 8080);
	ck_assert_int_eq(e->value->column, 10);

	nested = toml_table_get(server, "nested");
	ck_assert_ptr_nonnull(nested);
	e = toml_table_find(nested, "deep");
	ck_assert_int_eq(e->line, 6);
	ck_assert_int_eq(e->column, 10);
	ck_assert_int_eq(e->value->type, TOML_ARRAY);
	ck_assert_uint_eq(e->value->u.array.len, 2);
	ck_assert_int_eq(e->value->u.array.items[1]->column, 21);

	items = toml_table_get(root, "item");
	ck_assert_int_eq(items->type, TOML_ARRAY);
	ck_assert_uint_eq(items->u.array.len, 1);
	ck_assert_int_eq(items->u.array.items[0]->line, 7);
	ck_assert_ptr_null(toml_table_find(root, "missing"));
	ck_assert_ptr_null(toml_table_get(NULL, "x"));
	ck_assert_ptr_null(toml_table_get(e->value, "x")); /* not a table */
	toml_free(root);
}
END_TEST

START_TEST(test_tree_columns_count_characters)
{
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root =
	        parse_text("\"\xc3\xa9t\xc3\xa9\" = \"\xe2\x98\x83\" # x\nb = 1\n", &err);
	const struct toml_entry *e;

	ck_assert_ptr_nonnull(root);
	e = toml_table_find(root, "\xc3\xa9t\xc3\xa9");
	ck_assert_ptr_nonnull(e);
	ck_assert_int_eq(e->value->column, 9);
	toml_free(root);
}
END_TEST

START_TEST(test_tree_scalars)
{
	const char *doc = "i = -9223372036854775808\n"
	                  "j = 0x7fffffffffffffff\n"
	                  "f = 6.626e-34\n"
	                  "n = -nan\n"
	                  "inf = -inf\n"
	                  "b = true\n"
	                  "s = \"a\\u0000b\"\n"
	                  "\"k\\u0000\" = 1\n"
	                  "odt = 1979-05-27t00:32:00.123456789123-07:30\n"
	                  "ldt = 2000-02-29 23:59:60\n"
	                  "ld = 2024-02-29\n"
	                  "lt = 07:32:00.5\n";
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root = parse_text(doc, &err);
	const struct toml_value *v;
	const struct toml_entry *e;

	ck_assert_msg(root != NULL, "%s", err ? err->message : "");
	ck_assert_int_eq(toml_table_get(root, "i")->u.integer, INT64_MIN);
	ck_assert_int_eq(toml_table_get(root, "j")->u.integer, INT64_MAX);
	ck_assert_double_eq(toml_table_get(root, "f")->u.floating, 6.626e-34);
	ck_assert(isnan(toml_table_get(root, "n")->u.floating));
	v = toml_table_get(root, "inf");
	ck_assert(isinf(v->u.floating) && v->u.floating < 0);
	ck_assert(toml_table_get(root, "b")->u.boolean);
	v = toml_table_get(root, "s");
	ck_assert_uint_eq(v->u.string.len, 3);
	ck_assert_int_eq(memcmp(v->u.string.data, "a\0b", 4), 0);

	/* A key holding U+0000 keeps its length; toml_table_find() cannot name it. */
	e = &root->u.table.entries[7];
	ck_assert_uint_eq(e->key_len, 2);
	ck_assert_int_eq(memcmp(e->key, "k\0", 3), 0);

	v = toml_table_get(root, "odt");
	ck_assert_int_eq(v->type, TOML_OFFSET_DATETIME);
	ck_assert_int_eq(v->u.datetime.year, 1979);
	ck_assert_int_eq(v->u.datetime.month, 5);
	ck_assert_int_eq(v->u.datetime.day, 27);
	ck_assert_int_eq(v->u.datetime.hour, 0);
	ck_assert_int_eq(v->u.datetime.minute, 32);
	ck_assert_int_eq(v->u.datetime.second, 0);
	ck_assert_int_eq(v->u.datetime.nanosecond, 123456789);
	ck_assert_int_eq(v->u.datetime.offset_minutes, -450);
	ck_assert_str_eq(v->u.datetime.text, "1979-05-27T00:32:00.123456789123-07:30");
	v = toml_table_get(root, "ldt");
	ck_assert_int_eq(v->type, TOML_LOCAL_DATETIME);
	ck_assert_int_eq(v->u.datetime.second, 60);
	ck_assert_str_eq(v->u.datetime.text, "2000-02-29T23:59:60");
	v = toml_table_get(root, "ld");
	ck_assert_int_eq(v->type, TOML_LOCAL_DATE);
	ck_assert_int_eq(v->u.datetime.day, 29);
	v = toml_table_get(root, "lt");
	ck_assert_int_eq(v->type, TOML_LOCAL_TIME);
	ck_assert_int_eq(v->u.datetime.nanosecond, 500000000);
	ck_assert_str_eq(v->u.datetime.text, "07:32:00.5");
	toml_free(root);
}
END_TEST

START_TEST(test_type_names)
{
	ck_assert_str_eq(toml_type_name(TOML_STRING), "string");
	ck_assert_str_eq(toml_type_name(TOML_INTEGER), "integer");
	ck_assert_str_eq(toml_type_name(TOML_FLOAT), "float");
	ck_assert_str_eq(toml_type_name(TOML_BOOLEAN), "boolean");
	ck_assert_str_eq(toml_type_name(TOML_OFFSET_DATETIME), "offset date-time");
	ck_assert_str_eq(toml_type_name(TOML_LOCAL_DATETIME), "local date-time");
	ck_assert_str_eq(toml_type_name(TOML_LOCAL_DATE), "local date");
	ck_assert_str_eq(toml_type_name(TOML_LOCAL_TIME), "local time");
	ck_assert_str_eq(toml_type_name(TOML_ARRAY), "array");
	ck_assert_str_eq(toml_type_name(TOML_TABLE), "table");
}
END_TEST

START_TEST(test_document_order_kept)
{
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root = parse_text("z = 1\na = 2\nm.x = 3\n[b]\n", &err);

	ck_assert_ptr_nonnull(root);
	ck_assert_str_eq(root->u.table.entries[0].key, "z");
	ck_assert_str_eq(root->u.table.entries[1].key, "a");
	ck_assert_str_eq(root->u.table.entries[2].key, "m");
	ck_assert_str_eq(root->u.table.entries[3].key, "b");
	toml_free(root);
}
END_TEST

START_TEST(test_empty_and_null_input)
{
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root = toml_parse(NULL, 0, &err);

	ck_assert_ptr_nonnull(root);
	ck_assert_uint_eq(root->u.table.len, 0);
	toml_free(root);
	toml_free(NULL);
}
END_TEST

/* --- hostile input ------------------------------------------------------------------------------- */

/* The parser must not read past len: each document is copied into a buffer of exactly
 * that size (AddressSanitizer builds catch any overread). */
START_TEST(test_not_nul_terminated)
{
	static const char *docs[] = {
		"a = 1",        "a = \"x",     "a = '''x''", "a = [1,", "a = 1979-05-27",
		"a = 07:32:00", "[a",          "a = tru",    "a = 0x",  "a = {b = 1",
		"# c",          "a = \"\\u12", "a = 1e",     "'k",      "a = \"\"\"x\\"
	};

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		size_t len = strlen(docs[i]);
		cleanup_free char *copy = xmalloc(len);
		cleanup_error kata_error_t err = NULL;
		struct toml_value *root;

		memcpy(copy, docs[i], len);
		root = toml_parse(copy, len, &err);
		toml_free(root);
	}
}
END_TEST

static double seconds_since(int64_t start_ms)
{
	return (double)(now_ms() - start_ms) / 1000;
}

START_TEST(test_many_keys_linear)
{
	const size_t n = 200000;
	size_t capacity = n * 24, len = 0;
	cleanup_free char *doc = xmalloc(capacity);
	cleanup_error kata_error_t err = NULL;
	int64_t start;
	struct toml_value *root;
	double elapsed;

	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(doc + len, capacity - len, "key%zu = %zu\n", i, i);
	start = now_ms();
	root = toml_parse(doc, len, &err);
	elapsed = seconds_since(start);
	ck_assert_msg(root != NULL, "%s", err ? err->message : "");
	ck_assert_uint_eq(root->u.table.len, n);
	ck_assert_int_eq(toml_table_get(root, "key199999")->u.integer, 199999);
	fprintf(stderr, "200000 keys parsed in %.3f s\n", elapsed);
	ck_assert_msg(elapsed < 5.0, "200000 keys took %.1f s", elapsed);
	toml_free(root);
}
END_TEST

START_TEST(test_long_line_linear)
{
	const size_t n = 200000;
	size_t capacity = n * 4 + 16, len = 0;
	cleanup_free char *doc = xmalloc(capacity);
	cleanup_error kata_error_t err = NULL;
	int64_t start;
	struct toml_value *root;

	len += (size_t)snprintf(doc, capacity, "a = [");
	for (size_t i = 0; i < n; i++)
		len += (size_t)snprintf(doc + len, capacity - len, "%zu,", i % 10);
	len += (size_t)snprintf(doc + len, capacity - len, "]");
	start = now_ms();
	root = toml_parse(doc, len, &err);
	ck_assert_msg(root != NULL, "%s", err ? err->message : "");
	ck_assert_uint_eq(toml_table_get(root, "a")->u.array.len, n);
	ck_assert_int_eq(toml_table_get(root, "a")->u.array.items[n - 1]->column,
	                 (int)(5 + 2 * (n - 1) + 1));
	ck_assert_msg(seconds_since(start) < 5.0, "one long line is slow");
	toml_free(root);
}
END_TEST

static void expect_refused(const char *doc, size_t len, const char *fragment)
{
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root = toml_parse(doc, len, &err);

	ck_assert_ptr_null(root);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err->message, fragment) != NULL, "message: %s", err->message);
}

START_TEST(test_deep_nesting_refused)
{
	const size_t n = 100000;
	cleanup_free char *doc = xmalloc(4 * n + 16);
	size_t len;

	/* Arrays: a = [[[[... */
	memcpy(doc, "a = ", 4);
	memset(doc + 4, '[', n);
	len = 4 + n;
	expect_refused(doc, len, "nested deeper than 128 levels");

	/* Inline tables: a = {b={b={b=... */
	len = 0;
	memcpy(doc, "a = ", 4);
	len = 4;
	for (size_t i = 0; i < n / 4; i++) {
		memcpy(doc + len, "{b=", 3);
		len += 3;
	}
	expect_refused(doc, len, "nested deeper than 128 levels");

	/* A dotted key and a header with very many parts. */
	len = 0;
	for (size_t i = 0; i < n; i++) {
		doc[len++] = 'k';
		doc[len++] = '.';
	}
	doc[len++] = 'k';
	memcpy(doc + len, " = 1", 4);
	expect_refused(doc, len + 4, "nested deeper than 128 levels");
	memmove(doc + 1, doc, len);
	doc[0] = '[';
	doc[len + 1] = ']';
	expect_refused(doc, len + 2, "nested deeper than 128 levels");
}
END_TEST

START_TEST(test_depth_limit_exact)
{
	cleanup_free char *ok = NULL, *too_deep = NULL;
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root;
	char open[130], close[130];

	/* The root is depth 0; a = [ ... ] at depth 1: 128 nested arrays fit, 129 do not. */
	memset(open, '[', 129);
	memset(close, ']', 129);
	ok = xasprintf("a = %.*s%.*s\n", 128, open, 128, close);
	too_deep = xasprintf("a = %.*s%.*s\n", 129, open, 129, close);
	root = parse_text(ok, &err);
	ck_assert_msg(root != NULL, "%s", err ? err->message : "");
	toml_free(root);
	expect_refused(too_deep, strlen(too_deep), "line 1, column 133: arrays and tables nested");
}
END_TEST

START_TEST(test_big_string)
{
	const size_t n = 4 * 1024 * 1024;
	cleanup_free char *doc = xmalloc(n + 16);
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root;

	memcpy(doc, "s = '''", 7);
	memset(doc + 7, 'x', n);
	memcpy(doc + 7 + n, "'''", 3);
	root = toml_parse(doc, n + 10, &err);
	ck_assert_msg(root != NULL, "%s", err ? err->message : "");
	ck_assert_uint_eq(toml_table_get(root, "s")->u.string.len, n);
	toml_free(root);
}
END_TEST

START_TEST(test_tagged_json_compare)
{
	static const char *texts[] = {
		"{\"d\": {\"type\": \"datetime\", \"value\": \"1979-05-27T07:32:00Z\"},"
		" \"f\": {\"type\": \"float\", \"value\": \"1e2\"},"
		" \"n\": [{\"type\": \"float\", \"value\": \"nan\"}]}",
		"{\"d\": {\"type\": \"datetime\", \"value\": \"1979-05-27T08:32:00+01:00\"},"
		" \"f\": {\"type\": \"float\", \"value\": \"100.0\"},"
		" \"n\": [{\"type\": \"float\", \"value\": \"-nan\"}]}",
		"{\"d\": {\"type\": \"datetime-local\", \"value\": \"1979-05-27T07:32:00\"}}",
	};
	struct json_object *objs[3];
	cleanup_free char *why = NULL, *why2 = NULL;

	for (size_t i = 0; i < 3; i++) {
		cleanup_error kata_error_t err = NULL;

		objs[i] = toml_tagged_json_parse(texts[i], strlen(texts[i]), &err);
		ck_assert_msg(objs[i] != NULL, "%zu: %s", i, err ? err->message : "");
	}
	ck_assert_msg(toml_tagged_json_equal(objs[0], objs[1], &why), "%s", why);
	ck_assert(!toml_tagged_json_equal(objs[0], objs[2], &why2));
	ck_assert_ptr_nonnull(why2);
	for (size_t i = 0; i < 3; i++)
		json_object_put(objs[i]);
}
END_TEST

/* --- the toml-json program ----------------------------------------------------------------- */

static char *toml_json_path(void)
{
	const char *build = getenv("KATA_BUILD_DIR");

	if (build != NULL && build[0] != '\0')
		return xasprintf("%s/toml-json", build);
	return xasprintf("%s/build/toml-json", srcdir());
}

/* Runs toml-json with input on stdin; returns its exit status and its stdout/stderr. */
static int run_toml_json(const char *args, const char *input, char **out, char **errout)
{
	/* below the program's directory: removed even when the test fails */
	cleanup_free char *in_path = xasprintf("%s/in.XXXXXX", unit_test_dir);
	cleanup_free char *out_path = xasprintf("%s/out.XXXXXX", unit_test_dir);
	cleanup_free char *err_path = xasprintf("%s/err.XXXXXX", unit_test_dir);
	cleanup_free char *tool = toml_json_path(), *cmd = NULL;
	int fds[3] = { mkstemp(in_path), mkstemp(out_path), mkstemp(err_path) };
	size_t len;
	int status;

	ck_assert(fds[0] >= 0 && fds[1] >= 0 && fds[2] >= 0);
	ck_assert_int_eq(write(fds[0], input, strlen(input)), (ssize_t)strlen(input));
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	cmd = xasprintf("'%s' %s <%s >%s 2>%s", tool, args, in_path, out_path, err_path);
	status = system(cmd);
	*out = read_file(out_path, &len);
	*errout = read_file(err_path, &len);
	unlink(in_path);
	unlink(out_path);
	unlink(err_path);
	ck_assert_msg(WIFEXITED(status), "%s did not exit", cmd);
	return WEXITSTATUS(status);
}

START_TEST(test_toml_json_program)
{
	cleanup_free char *tool = toml_json_path(), *out = NULL, *errout = NULL;
	cleanup_free char *expect_ok = NULL, *expect_bad = NULL;
	cleanup_free char *expect_path = xasprintf("%s/expect.XXXXXX", unit_test_dir);
	const char *expected = "{\"a\": {\"type\": \"integer\", \"value\": \"1\"},"
	                       " \"t\": {\"f\": {\"type\": \"float\", \"value\": \"0.5\"}}}";
	struct json_object *obj, *a;
	int fd;

	ck_assert_msg(access(tool, X_OK) == 0, "%s is not built (make %s)", tool, tool);
	ck_assert_int_eq(run_toml_json("", "a = 1\n[t]\nf = 0.5\n", &out, &errout), 0);
	obj = json_tokener_parse(out);
	ck_assert_msg(obj != NULL, "not JSON: %s", out);
	ck_assert(json_object_object_get_ex(obj, "a", &a));
	ck_assert_str_eq(json_object_get_string(json_object_object_get(a, "type")), "integer");
	json_object_put(obj);
	free(out);
	free(errout);

	ck_assert_int_eq(run_toml_json("", "a = 1\na = 2\n", &out, &errout), 1);
	ck_assert_str_eq(errout, "toml-json: line 2, column 1: key a is defined twice\n");
	ck_assert_str_eq(out, "");
	free(out);
	free(errout);

	fd = mkstemp(expect_path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, expected, strlen(expected)), (ssize_t)strlen(expected));
	close(fd);
	expect_ok = xasprintf("--expect %s", expect_path);
	ck_assert_int_eq(run_toml_json(expect_ok, "a = 1\n[t]\nf = 5e-1\n", &out, &errout), 0);
	free(out);
	free(errout);
	ck_assert_int_eq(run_toml_json(expect_ok, "a = 1\n[t]\nf = 0.25\n", &out, &errout), 2);
	ck_assert_msg(strstr(errout, "t.f: expected float 0.5, got float 0.25") != NULL, "%s",
	              errout);
	free(out);
	free(errout);
	expect_bad = xasprintf("--expect %s.missing", expect_path);
	ck_assert_int_eq(run_toml_json(expect_bad, "a = 1\n", &out, &errout), 1);
	unlink(expect_path);
	free(out);
	free(errout);
	ck_assert_int_eq(run_toml_json("--bogus", "", &out, &errout), 64);
}
END_TEST

static Suite *toml_suite(void)
{
	Suite *s = suite_create("toml");
	TCase *vectors = tcase_create("vectors");
	TCase *errors = tcase_create("errors");
	TCase *tree = tcase_create("tree");
	TCase *hostile = tcase_create("hostile");

	tcase_add_test(vectors, test_valid_vectors);
	tcase_add_test(vectors, test_invalid_vectors);
	tcase_set_timeout(vectors, 120);
	suite_add_tcase(s, vectors);
	tcase_add_test(errors, test_error_positions);
	suite_add_tcase(s, errors);
	tcase_add_test(tree, test_tree_positions);
	tcase_add_test(tree, test_tree_columns_count_characters);
	tcase_add_test(tree, test_tree_scalars);
	tcase_add_test(tree, test_type_names);
	tcase_add_test(tree, test_document_order_kept);
	tcase_add_test(tree, test_empty_and_null_input);
	tcase_add_test(tree, test_tagged_json_compare);
	tcase_add_test(tree, test_toml_json_program);
	suite_add_tcase(s, tree);
	tcase_add_test(hostile, test_not_nul_terminated);
	tcase_add_test(hostile, test_many_keys_linear);
	tcase_add_test(hostile, test_long_line_linear);
	tcase_add_test(hostile, test_deep_nesting_refused);
	tcase_add_test(hostile, test_depth_limit_exact);
	tcase_add_test(hostile, test_big_string);
	tcase_set_timeout(hostile, 120);
	suite_add_tcase(s, hostile);
	return s;
}

const struct unit_test unit_test = { .suite = toml_suite, .test_dir = "kata-test-toml" };
