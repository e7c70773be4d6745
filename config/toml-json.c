/* toml-json: reads TOML on stdin and prints toml-test's tagged JSON on stdout.
 *
 *   toml-json                 exit 0 and print the JSON; exit 1 and print the error on
 *                             stderr when the document is invalid
 *   toml-json --expect FILE   also compare with the tagged JSON in FILE: exit 0 when
 *                             equal, 2 (with the difference on stderr) when not
 */
#include "toml.h"
#include "toml_tagged_json.h"
#include "cleanup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TOML_JSON_MAX_INPUT (256u * 1024 * 1024)

static int read_all(FILE *in, const char *name, char **text, size_t *len, kata_error_t *err)
{
	size_t capacity = 64 * 1024, used = 0;
	char *buf = xmalloc(capacity);

	for (;;) {
		size_t n;

		if (used == capacity) {
			if (capacity >= TOML_JSON_MAX_INPUT) {
				free(buf);
				return kata_error_set(err, EFBIG, "%s: larger than %u bytes", name,
				                      TOML_JSON_MAX_INPUT);
			}
			capacity *= 2;
			buf = xrealloc(buf, capacity);
		}
		n = fread(buf + used, 1, capacity - used, in);
		used += n;
		if (n == 0) {
			if (ferror(in)) {
				free(buf);
				return kata_error_sys(err, "%s: read", name);
			}
			break;
		}
	}
	*text = buf;
	*len = used;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: toml-json [--expect FILE] < document.toml\n");
}

int main(int argc, char **argv)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *text = NULL, *expected_text = NULL, *why = NULL;
	const char *expect_path = NULL;
	struct json_object *actual, *expected;
	struct toml_value *root;
	size_t len, expected_len;
	cleanup_fclose FILE *expect_file = NULL;
	int status = 0;

	if (argc == 3 && strcmp(argv[1], "--expect") == 0) {
		expect_path = argv[2];
	} else if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		usage(stdout);
		return 0;
	} else if (argc != 1) {
		usage(stderr);
		return 64;
	}
	if (read_all(stdin, "stdin", &text, &len, &err) < 0) {
		fprintf(stderr, "toml-json: %s\n", err->message);
		return 1;
	}
	root = toml_parse(text, len, &err);
	if (root == NULL) {
		fprintf(stderr, "toml-json: %s\n", err->message);
		return 1;
	}
	actual = toml_to_tagged_json(root);
	toml_free(root);
	printf("%s\n", json_object_to_json_string_ext(
	                       actual, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
	if (expect_path != NULL) {
		expect_file = fopen(expect_path, "r");
		if (expect_file == NULL) {
			fprintf(stderr, "toml-json: %s: %s\n", expect_path, strerror(errno));
			status = 1;
		} else if (read_all(expect_file, expect_path, &expected_text, &expected_len, &err) <
		                   0 ||
		           (expected = toml_tagged_json_parse(expected_text, expected_len, &err)) ==
		                   NULL) {
			fprintf(stderr, "toml-json: %s: %s\n", expect_path, err->message);
			status = 1;
		} else {
			if (!toml_tagged_json_equal(expected, actual, &why)) {
				fprintf(stderr, "toml-json: differs from %s: %s\n", expect_path,
				        why);
				status = 2;
			}
			json_object_put(expected);
		}
	}
	json_object_put(actual);
	return status;
}
