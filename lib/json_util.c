#include "json_util.h"
#include "fd_util.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *type_label(enum json_type type)
{
	switch (type) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return "a boolean";
	case json_type_double:
		return "a number";
	case json_type_int:
		return "an integer";
	case json_type_object:
		return "an object";
	case json_type_array:
		return "an array";
	case json_type_string:
		return "a string";
	}
	return "an unknown type";
}

const char *json_type_label(json_object *value)
{
	return type_label(json_object_get_type(value));
}

/* The path of the document root is shown as "(root)" rather than as nothing. */
static const char *shown(const char *path)
{
	return path != NULL && *path != '\0' ? path : "(root)";
}

char *json_path_key(const char *parent, const char *key)
{
	if (parent == NULL || *parent == '\0')
		return xstrdup(key);
	return xasprintf("%s.%s", parent, key);
}

char *json_path_index(const char *parent, size_t index)
{
	return xasprintf("%s[%zu]", parent != NULL ? parent : "", index);
}

/* --- parsing ------------------------------------------------------------------------- */

static void offset_to_line_column(const char *text, size_t offset, size_t *line, size_t *column)
{
	*line = 1;
	*column = 1;
	for (size_t i = 0; i < offset; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*column = 1;
		} else {
			(*column)++;
		}
	}
}

static int syntax_error(kata_error_t *err, const char *text, size_t offset, const char *what)
{
	size_t line, column;

	offset_to_line_column(text, offset, &line, &column);
	return kata_error_set(err, EINVAL, "invalid JSON at line %zu, column %zu (offset %zu): %s",
	                      line, column, offset, what);
}

static bool is_json_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

json_object *json_parse_text(const char *text, size_t len, kata_error_t *err)
{
	return json_parse_text_depth(text, len, JSON_MAX_DEPTH, err);
}

json_object *json_parse_text_depth(const char *text, size_t len, int max_depth, kata_error_t *err)
{
	json_tokener *tok;
	json_object *obj;
	enum json_tokener_error jerr;
	const char *nul;
	size_t end;

	if (len > INT32_MAX)
		return kata_error_set(err, EFBIG, "JSON text of %zu bytes is too large", len), NULL;
	if (text == NULL || len == 0)
		return syntax_error(err, "", 0, "unexpected end of data"), NULL;
	nul = memchr(text, '\0', len);
	if (nul != NULL)
		return syntax_error(err, text, (size_t)(nul - text), "NUL byte in JSON text"), NULL;

	if (max_depth < 1 || max_depth > JSON_MAX_DEPTH)
		max_depth = JSON_MAX_DEPTH;
	tok = json_tokener_new_ex(max_depth);
	if (tok == NULL)
		abort();
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_ALLOW_TRAILING_CHARS |
	                                    JSON_TOKENER_VALIDATE_UTF8);
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (obj == NULL && jerr == json_tokener_continue) {
		/* A bare top-level number needs to see the end of input to finish. */
		obj = json_tokener_parse_ex(tok, "", 1);
		jerr = json_tokener_get_error(tok);
		if (obj == NULL && jerr == json_tokener_continue)
			jerr = json_tokener_error_parse_eof;
		end = len;
	} else {
		end = json_tokener_get_parse_end(tok);
	}
	if (obj == NULL) {
		const char *what = jerr == json_tokener_error_depth ? "nesting too deep"
		                                                    : json_tokener_error_desc(jerr);
		size_t at = jerr == json_tokener_error_parse_eof || end > len ? len : end;

		json_tokener_free(tok);
		return syntax_error(err, text, at, what), NULL;
	}
	json_tokener_free(tok);

	while (end < len && is_json_space(text[end]))
		end++;
	if (end < len) {
		json_object_put(obj);
		return syntax_error(err, text, end, "unexpected data after the JSON value"), NULL;
	}
	return obj;
}

char *json_read_file(const char *path, size_t max_size, size_t *len, kata_error_t *err)
{
	cleanup_close int fd = -1;
	cleanup_free char *buf = NULL;
	struct stat st;
	size_t used = 0, cap;

	if (max_size == 0)
		max_size = JSON_DEFAULT_MAX_SIZE;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return kata_error_sys(err, "%s: open", path), NULL;
	if (fstat(fd, &st) < 0)
		return kata_error_sys(err, "%s: stat", path), NULL;
	if (!S_ISREG(st.st_mode))
		return kata_error_set(err, EINVAL, "%s: not a regular file", path), NULL;
	if ((uintmax_t)st.st_size > max_size)
		return kata_error_set(err, EFBIG,
		                      "%s: file of %jd bytes exceeds the limit of %zu bytes", path,
		                      (intmax_t)st.st_size, max_size),
		       NULL;

	/* The size may change under us: read until EOF, but never past the limit. */
	cap = (size_t)st.st_size + 1;
	buf = xmalloc(cap + 1);
	for (;;) {
		ssize_t n;

		if (used == cap) {
			if (cap > max_size)
				return kata_error_set(err, EFBIG,
				                      "%s: file exceeds the limit of %zu bytes",
				                      path, max_size),
				       NULL;
			cap = cap * 2 > max_size + 1 ? max_size + 1 : cap * 2;
			buf = xrealloc(buf, cap + 1);
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kata_error_sys(err, "%s: read", path), NULL;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	if (used > max_size)
		return kata_error_set(err, EFBIG, "%s: file exceeds the limit of %zu bytes", path,
		                      max_size),
		       NULL;
	buf[used] = '\0';
	if (len != NULL)
		*len = used;
	return steal_pointer(&buf);
}

json_object *json_parse_file(const char *path, size_t max_size, kata_error_t *err)
{
	cleanup_free char *text = NULL;
	json_object *obj;
	size_t len;

	text = json_read_file(path, max_size, &len, err);
	if (text == NULL)
		return NULL;
	obj = json_parse_text(text, len, err);
	if (obj == NULL)
		return kata_error_wrap(err, "%s", path), NULL;
	return obj;
}

int json_write_file_atomic(const char *path, json_object *obj, mode_t mode, kata_error_t *err)
{
	const char *text = json_object_to_json_string_ext(
	        obj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);

	return file_write_atomic(path, text, strlen(text), mode, err);
}

/* --- typed values ------------------------------------------------------------------------ */

int json_check_type(json_object *value, enum json_type type, const char *path, kata_error_t *err)
{
	if (json_object_get_type(value) == type)
		return 0;
	return kata_error_set(err, EINVAL, "%s: expected %s, got %s", shown(path), type_label(type),
	                      json_type_label(value));
}

int json_as_string(json_object *value, const char *path, char **out, kata_error_t *err)
{
	const char *s;

	if (json_check_type(value, json_type_string, path, err) < 0)
		return -1;
	s = json_object_get_string(value);
	/* An escaped \u0000 would silently cut the C string short. */
	if (strlen(s) != (size_t)json_object_get_string_len(value))
		return kata_error_set(err, EINVAL, "%s: string contains a NUL character",
		                      shown(path));
	*out = xstrdup(s);
	return 0;
}

int json_as_bool(json_object *value, const char *path, bool *out, kata_error_t *err)
{
	if (json_check_type(value, json_type_boolean, path, err) < 0)
		return -1;
	*out = json_object_get_boolean(value);
	return 0;
}

/* json-c keeps integers above INT64_MAX as uint64; get_int64 clamps those to INT64_MAX. */
static bool is_big_unsigned(json_object *value)
{
	return json_object_get_int64(value) == INT64_MAX &&
	       json_object_get_uint64(value) != (uint64_t)INT64_MAX;
}

static int integer_in_range(json_object *value, const char *path, int64_t min, int64_t max,
                            int64_t *out, kata_error_t *err)
{
	int64_t v;

	if (json_check_type(value, json_type_int, path, err) < 0)
		return -1;
	v = json_object_get_int64(value);
	if (is_big_unsigned(value) || v < min || v > max)
		return kata_error_set(err, ERANGE, "%s: %s out of range [%" PRId64 ", %" PRId64 "]",
		                      shown(path), json_object_to_json_string(value), min, max);
	*out = v;
	return 0;
}

int json_as_int64(json_object *value, const char *path, int64_t *out, kata_error_t *err)
{
	return integer_in_range(value, path, INT64_MIN, INT64_MAX, out, err);
}

int json_as_uint64(json_object *value, const char *path, uint64_t *out, kata_error_t *err)
{
	if (json_check_type(value, json_type_int, path, err) < 0)
		return -1;
	if (json_object_get_int64(value) < 0)
		return kata_error_set(err, ERANGE, "%s: %s out of range [0, %" PRIu64 "]",
		                      shown(path), json_object_to_json_string(value), UINT64_MAX);
	*out = json_object_get_uint64(value);
	return 0;
}

int json_as_int32(json_object *value, const char *path, int32_t *out, kata_error_t *err)
{
	int64_t v;

	if (integer_in_range(value, path, INT32_MIN, INT32_MAX, &v, err) < 0)
		return -1;
	*out = (int32_t)v;
	return 0;
}

int json_as_uint32(json_object *value, const char *path, uint32_t *out, kata_error_t *err)
{
	int64_t v;

	if (integer_in_range(value, path, 0, UINT32_MAX, &v, err) < 0)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

int json_as_uint16(json_object *value, const char *path, uint16_t *out, kata_error_t *err)
{
	int64_t v;

	if (integer_in_range(value, path, 0, UINT16_MAX, &v, err) < 0)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

/* --- obj[key] ------------------------------------------------------------------------------ */

/* Looks obj[key] up: 1 present, 0 absent or null (error if required), -1 error. */
static int lookup(json_object *obj, const char *key, const char *path, bool required,
                  json_object **value, kata_error_t *err)
{
	*value = NULL;
	if (obj != NULL && json_object_is_type(obj, json_type_object))
		json_object_object_get_ex(obj, key, value);
	if (*value != NULL && !json_object_is_type(*value, json_type_null))
		return 1;
	*value = NULL;
	if (required) {
		cleanup_free char *p = json_path_key(path, key);
		return kata_error_set(err, EINVAL, "%s: required field is missing", p);
	}
	return 0;
}

/* Defines json_get_NAME on top of json_as_NAME. */
#define DEFINE_GETTER(name, type)                                                                  \
	int json_get_##name(json_object *obj, const char *key, const char *path, bool required,    \
	                    type *out, kata_error_t *err)                                          \
	{                                                                                          \
		cleanup_free char *p = NULL;                                                       \
		json_object *value;                                                                \
		int r = lookup(obj, key, path, required, &value, err);                             \
		if (r <= 0)                                                                        \
			return r;                                                                  \
		p = json_path_key(path, key);                                                      \
		return json_as_##name(value, p, out, err) < 0 ? -1 : 1;                            \
	}

DEFINE_GETTER(string, char *)
DEFINE_GETTER(bool, bool)
DEFINE_GETTER(int64, int64_t)
DEFINE_GETTER(uint64, uint64_t)
DEFINE_GETTER(int32, int32_t)
DEFINE_GETTER(uint32, uint32_t)
DEFINE_GETTER(uint16, uint16_t)

int json_get_absolute_path(json_object *obj, const char *key, const char *path, bool required,
                           char **out, kata_error_t *err)
{
	cleanup_free char *value = NULL;
	int r = json_get_string(obj, key, path, required, &value, err);

	if (r <= 0)
		return r;
	if (value[0] != '/') {
		cleanup_free char *p = json_path_key(path, key);
		return kata_error_set(err, EINVAL, "%s: expected an absolute path", p);
	}
	*out = steal_pointer(&value);
	return 1;
}

int json_get_enum(json_object *obj, const char *key, const char *path, bool required,
                  const char *const *names, size_t n_names, int *out, kata_error_t *err)
{
	cleanup_free char *value = NULL;
	cleanup_free char *p = NULL;
	cleanup_json json_object *escaped = NULL;
	int r = json_get_string(obj, key, path, required, &value, err);

	if (r <= 0)
		return r;
	for (size_t i = 0; i < n_names; i++) {
		if (strcmp(value, names[i]) == 0) {
			*out = (int)i;
			return 1;
		}
	}
	p = json_path_key(path, key);
	escaped = json_object_new_string(value); /* shown as JSON: no raw control characters */
	return kata_error_set(err, EINVAL, "%s: unknown value %s", p,
	                      json_object_to_json_string(escaped));
}

static int get_typed(json_object *obj, const char *key, const char *path, bool required,
                     enum json_type type, json_object **out, kata_error_t *err)
{
	cleanup_free char *p = NULL;
	json_object *value;
	int r = lookup(obj, key, path, required, &value, err);

	if (r <= 0)
		return r;
	p = json_path_key(path, key);
	if (json_check_type(value, type, p, err) < 0)
		return -1;
	*out = value;
	return 1;
}

int json_get_object(json_object *obj, const char *key, const char *path, bool required,
                    json_object **out, kata_error_t *err)
{
	return get_typed(obj, key, path, required, json_type_object, out, err);
}

int json_get_array(json_object *obj, const char *key, const char *path, bool required,
                   json_object **out, kata_error_t *err)
{
	return get_typed(obj, key, path, required, json_type_array, out, err);
}

int json_get_string_array(json_object *obj, const char *key, const char *path, bool required,
                          char ***out, kata_error_t *err)
{
	cleanup_free char *p = NULL;
	cleanup_strv char **strv = NULL;
	json_object *array;
	size_t n;
	int r = json_get_array(obj, key, path, required, &array, err);

	if (r <= 0)
		return r;
	p = json_path_key(path, key);
	n = json_object_array_length(array);
	strv = xcalloc(n + 1, sizeof(*strv));
	for (size_t i = 0; i < n; i++) {
		cleanup_free char *ip = json_path_index(p, i);

		if (json_as_string(json_object_array_get_idx(array, i), ip, &strv[i], err) < 0)
			return -1;
	}
	*out = steal_pointer(&strv);
	return 1;
}

int json_get_string_map(json_object *obj, const char *key, const char *path, bool required,
                        char ***out, kata_error_t *err)
{
	cleanup_free char *p = NULL;
	cleanup_strv char **pairs = NULL;
	json_object *map;
	size_t i = 0;
	int r = json_get_object(obj, key, path, required, &map, err);

	if (r <= 0)
		return r;
	p = json_path_key(path, key);
	pairs = xcalloc(2 * (size_t)json_object_object_length(map) + 1, sizeof(*pairs));
	json_object_object_foreach(map, k, v)
	{
		cleanup_free char *kp = json_path_key(p, k);

		if (json_as_string(v, kp, &pairs[i + 1], err) < 0)
			return -1;
		pairs[i] = xstrdup(k);
		i += 2;
	}
	*out = steal_pointer(&pairs);
	return 1;
}

/* --- building ------------------------------------------------------------------------------ */

void json_add_string(json_object *obj, const char *key, const char *value)
{
	if (value != NULL)
		json_object_object_add(obj, key, json_object_new_string(value));
}

json_object *json_string_array_new(char *const *strv)
{
	json_object *array = json_object_new_array();

	for (size_t i = 0; strv != NULL && strv[i] != NULL; i++)
		json_object_array_add(array, json_object_new_string(strv[i]));
	return array;
}

void json_add_string_array(json_object *obj, const char *key, char *const *strv)
{
	if (strv != NULL)
		json_object_object_add(obj, key, json_string_array_new(strv));
}

void json_add_string_map(json_object *obj, const char *key, char *const *pairs)
{
	json_object *map;

	if (pairs == NULL)
		return;
	map = json_object_new_object();
	for (size_t i = 0; pairs[i] != NULL && pairs[i + 1] != NULL; i += 2)
		json_object_object_add(map, pairs[i], json_object_new_string(pairs[i + 1]));
	json_object_object_add(obj, key, map);
}

void cleanup_json_fn(json_object **obj)
{
	if (*obj != NULL)
		json_object_put(*obj);
	*obj = NULL;
}
