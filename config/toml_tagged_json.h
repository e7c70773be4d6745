/* The "tagged JSON" form of a TOML document used by the public toml-test suite: tables
 * become objects, arrays become arrays, and each scalar becomes
 * {"type": "string"|"integer"|"float"|"bool"|"datetime"|"datetime-local"|"date-local"|
 * "time-local", "value": "<text>"}. toml-json and the unit tests use it to check the
 * parser against test vectors.
 */
#ifndef KATA_TOML_TAGGED_JSON_H
#define KATA_TOML_TAGGED_JSON_H

#include <json-c/json.h>
#include <stdbool.h>

#include "toml.h"

/* A new json-c tree (the caller puts it). Keys holding U+0000 are cut there: json-c
 * keys are C strings. */
struct json_object *toml_to_tagged_json(const struct toml_value *value);

/* Compares two tagged trees: structure, key sets and tags exactly; strings byte for byte;
 * integers by value; floats by value (nan equals nan); date-times by their fields (offset
 * date-times by the instant they name). When they differ, returns false and sets *why
 * (allocated) to "path: what differs". */
bool toml_tagged_json_equal(struct json_object *expected, struct json_object *actual, char **why);

/* Parses a JSON text with a nesting limit fit for deep TOML test documents. */
struct json_object *toml_tagged_json_parse(const char *text, size_t len, kata_error_t *err);

#endif
