/* Typed access to json-c values, with errors that name the field's path.
 *
 * Every reader takes the path of the value it looks at ("process.args[2]") and, on a
 * type or range error, fails with "process.args[2]: expected a string, got an integer".
 * The file name is added by the caller's kata_error_wrap ("config.json: ...").
 *
 * Getters by key (json_get_*) read obj[key] where obj is an object whose own path is
 * `path` ("" or NULL for the document root). They return 1 when the key is present, 0
 * when it is absent or null (as Go's encoding/json, a JSON null leaves the field unset;
 * if `required`, absence is an error instead), and -1 on error. *out is written only
 * when 1 is returned.
 *
 * Everything parsed here may come from a hostile peer: input sizes and nesting depth are
 * bounded, and integers are range-checked into their C type.
 */
#ifndef KATA_JSON_UTIL_H
#define KATA_JSON_UTIL_H

#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Nesting deeper than this is refused (json-c's own default is 32). */
#define JSON_MAX_DEPTH 64
/* Default size limit for a JSON file or message read whole. */
#define JSON_DEFAULT_MAX_SIZE (16u * 1024 * 1024)

/* "a string", "an integer", "a number", "a boolean", "an object", "an array", "null". */
const char *json_type_label(json_object *value);

/* Paths: "parent.key" (or "key" when parent is empty) and "parent[index]". */
char *json_path_key(const char *parent, const char *key);
char *json_path_index(const char *parent, size_t index);

/* --- parsing --------------------------------------------------------------------- */

/* Parses exactly one JSON value from text[0..len), strictly (no trailing data, no NUL
 * bytes, valid UTF-8, depth <= JSON_MAX_DEPTH). A syntax error names the position:
 * "line 3, column 14 (offset 40): unexpected character". */
json_object *json_parse_text(const char *text, size_t len, kata_error_t *err);
/* The same with a tighter nesting bound (1 to JSON_MAX_DEPTH), for a peer whose messages are
 * known to be shallow. */
json_object *json_parse_text_depth(const char *text, size_t len, int max_depth, kata_error_t *err);

/* Reads and parses a whole file no larger than max_size bytes (0: JSON_DEFAULT_MAX_SIZE).
 * Errors start with the file's path. */
json_object *json_parse_file(const char *path, size_t max_size, kata_error_t *err);

/* Reads a whole regular file (at most max_size bytes) into a NUL-terminated buffer. */
char *json_read_file(const char *path, size_t max_size, size_t *len, kata_error_t *err);

/* Writes obj to path atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory. Readers see the old or the new content, never a mix. */
int json_write_file_atomic(const char *path, json_object *obj, mode_t mode, kata_error_t *err);

/* --- one value at a known path ------------------------------------------------------ */

int json_check_type(json_object *value, enum json_type type, const char *path, kata_error_t *err);
int json_as_string(json_object *value, const char *path, char **out, kata_error_t *err);
int json_as_bool(json_object *value, const char *path, bool *out, kata_error_t *err);
int json_as_int64(json_object *value, const char *path, int64_t *out, kata_error_t *err);
int json_as_uint64(json_object *value, const char *path, uint64_t *out, kata_error_t *err);
int json_as_int32(json_object *value, const char *path, int32_t *out, kata_error_t *err);
int json_as_uint32(json_object *value, const char *path, uint32_t *out, kata_error_t *err);
int json_as_uint16(json_object *value, const char *path, uint16_t *out, kata_error_t *err);

/* --- obj[key] ------------------------------------------------------------------------- */

int json_get_string(json_object *obj, const char *key, const char *path, bool required, char **out,
                    kata_error_t *err);
int json_get_bool(json_object *obj, const char *key, const char *path, bool required, bool *out,
                  kata_error_t *err);
int json_get_int64(json_object *obj, const char *key, const char *path, bool required, int64_t *out,
                   kata_error_t *err);
int json_get_uint64(json_object *obj, const char *key, const char *path, bool required,
                    uint64_t *out, kata_error_t *err);
int json_get_int32(json_object *obj, const char *key, const char *path, bool required, int32_t *out,
                   kata_error_t *err);
int json_get_uint32(json_object *obj, const char *key, const char *path, bool required,
                    uint32_t *out, kata_error_t *err);
int json_get_uint16(json_object *obj, const char *key, const char *path, bool required,
                    uint16_t *out, kata_error_t *err);
/* A string that must be an absolute path ("/..."): one the caller hands to open(), unlink()
 * or exec(). */
int json_get_absolute_path(json_object *obj, const char *key, const char *path, bool required,
                           char **out, kata_error_t *err);
/* A string that must be one of names[0..n_names): *out is its index. */
int json_get_enum(json_object *obj, const char *key, const char *path, bool required,
                  const char *const *names, size_t n_names, int *out, kata_error_t *err);
/* A NULL-terminated vector of strings (empty array: a vector holding only NULL). */
int json_get_string_array(json_object *obj, const char *key, const char *path, bool required,
                          char ***out, kata_error_t *err);
/* An object of string values, as a vector key0, value0, key1, value1, ..., NULL. */
int json_get_string_map(json_object *obj, const char *key, const char *path, bool required,
                        char ***out, kata_error_t *err);
/* Borrowed references (owned by obj). */
int json_get_object(json_object *obj, const char *key, const char *path, bool required,
                    json_object **out, kata_error_t *err);
int json_get_array(json_object *obj, const char *key, const char *path, bool required,
                   json_object **out, kata_error_t *err);

/* --- building ------------------------------------------------------------------------ */

/* Each adds nothing when the value is NULL. */
void json_add_string(json_object *obj, const char *key, const char *value);
void json_add_string_array(json_object *obj, const char *key, char *const *strv);
void json_add_string_map(json_object *obj, const char *key, char *const *pairs);
json_object *json_string_array_new(char *const *strv);

/* For __attribute__((cleanup)). */
void cleanup_json_fn(json_object **obj);
#define cleanup_json __attribute__((cleanup(cleanup_json_fn)))

#endif
