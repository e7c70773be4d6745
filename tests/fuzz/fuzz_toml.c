/* libFuzzer target: any bytes -> toml_parse(). Every input must give a tree or a
 * "line L, column C: ..." error, never a crash, a leak or a hang; a tree must convert to
 * tagged JSON and carry 1-based positions everywhere. */
#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "toml.h"
#include "toml_tagged_json.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_positions(const struct toml_value *value, int depth)
{
	if (value->line < 1 || value->column < 1 || depth > 200)
		abort();
	if (value->type == TOML_TABLE) {
		for (size_t i = 0; i < value->u.table.len; i++) {
			const struct toml_entry *entry = &value->u.table.entries[i];

			if (entry->line < 1 || entry->column < 1 ||
			    entry->key_len < strlen(entry->key))
				abort();
			check_positions(entry->value, depth + 1);
		}
	} else if (value->type == TOML_ARRAY) {
		for (size_t i = 0; i < value->u.array.len; i++)
			check_positions(value->u.array.items[i], depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kata_error_t err = NULL;
	struct toml_value *root = toml_parse((const char *)data, size, &err);

	if (root == NULL) {
		if (err == NULL || strncmp(err->message, "line ", 5) != 0)
			abort();
		kata_error_free(&err);
		return 0;
	}
	check_positions(root, 0);
	json_object_put(toml_to_tagged_json(root));
	toml_free(root);
	return 0;
}
