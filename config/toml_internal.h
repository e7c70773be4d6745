/* Internals shared by the files of the TOML parser (toml*.c); nothing outside config/
 * includes this.
 *
 * Every table and array the parser creates is a larger node whose first member is the
 * public struct toml_value: the extra fields remember how the table was defined (which
 * redefinitions the spec forbids), its nesting depth and a hash index of its keys, so
 * that hostile documents with many keys still parse in linear time.
 */
#ifndef KATA_TOML_INTERNAL_H
#define KATA_TOML_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "toml.h"

/* Deeper nesting (arrays, inline tables, dotted keys, headers) is refused, so that the
 * recursive parser and toml_free() stay within a small, known stack. */
#define TOML_MAX_DEPTH 128

/* How a table came to exist; decides which later definitions are allowed. */
enum toml_table_origin {
	TOML_TABLE_IMPLICIT = 1, /* parent of a [header], not yet defined itself */
	TOML_TABLE_DEFINED = 2,  /* root, a [header] or an element of [[header]] */
	TOML_TABLE_DOTTED = 3,   /* created by a dotted key */
	TOML_TABLE_INLINE = 4,   /* { ... }: immutable once closed */
};

struct toml_table_node {
	struct toml_value value; /* must stay first */
	enum toml_table_origin origin;
	int depth;
	size_t capacity;
	size_t *slots;     /* open addressing: entry index + 1, 0 when free */
	size_t slot_count; /* a power of two, at least twice the entry count */
};

struct toml_array_node {
	struct toml_value value; /* must stay first */
	bool of_tables;          /* created by [[header]] (can grow) or a static [ ... ] */
	int depth;
	size_t capacity;
};

static inline struct toml_table_node *toml_table_node(struct toml_value *value)
{
	return (struct toml_table_node *)value;
}

static inline struct toml_array_node *toml_array_node(struct toml_value *value)
{
	return (struct toml_array_node *)value;
}

struct toml_table_node *toml_table_new(int depth, enum toml_table_origin origin, int line,
                                       int column);
struct toml_array_node *toml_array_new(int depth, bool of_tables, int line, int column);
struct toml_value *toml_scalar_new(enum toml_type type, int line, int column);
/* The entry or NULL; the pointer is valid until the next insertion. */
struct toml_entry *toml_table_lookup(const struct toml_table_node *table, const char *key,
                                     size_t key_len);
/* Takes ownership of key (NUL-terminated, key_len bytes) and value. */
struct toml_entry *toml_table_insert(struct toml_table_node *table, char *key, size_t key_len,
                                     int line, int column, struct toml_value *value);
void toml_array_push(struct toml_array_node *array, struct toml_value *value);

/* A growing byte buffer, always NUL-terminated once something was appended. */
struct toml_buffer {
	char *data;
	size_t len;
	size_t capacity;
};

void toml_buffer_append(struct toml_buffer *buffer, const char *bytes, size_t len);
void toml_buffer_append_byte(struct toml_buffer *buffer, char byte);
/* Returns the NUL-terminated contents (an empty string when nothing was appended). */
char *toml_buffer_steal(struct toml_buffer *buffer, size_t *len);

struct toml_parser {
	const char *text;
	size_t len;
	size_t pos;
	kata_error_t *err;
	/* Line and column of cached_pos: positions are mostly asked in increasing order,
	 * so each is found by scanning forward from the last one. */
	size_t cached_pos;
	int cached_line;
	int cached_column;
};

static inline int toml_peek(const struct toml_parser *p, size_t ahead)
{
	return p->pos + ahead < p->len ? (unsigned char)p->text[p->pos + ahead] : -1;
}

/* 1-based line and column (in characters) of a byte offset. */
void toml_position(struct toml_parser *p, size_t pos, int *line, int *column);
/* Sets "line L, column C: message" for byte offset pos; returns -1. */
int toml_fail(struct toml_parser *p, size_t pos, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
/* Describes the byte at pos for messages: "'x'", "U+0007", "end of input". */
const char *toml_describe_char(const struct toml_parser *p, size_t pos, char buf[16]);

/* Checks the whole text is valid UTF-8 (no overlong forms, surrogates or values past
 * U+10FFFF). */
int toml_check_utf8(struct toml_parser *p);
/* A string of any kind at p->pos (which holds ' or "). Multi-line kinds are refused when
 * allow_multiline is false (keys). */
int toml_parse_string(struct toml_parser *p, bool allow_multiline, char **data, size_t *len);

/* Parses a whole token as an integer or a float into value (type and number). On
 * failure returns -1 and sets *bad (offset into the token) and *why. */
int toml_number_parse(const char *token, size_t len, struct toml_value *value, size_t *bad,
                      const char **why);

/* Parses a whole token as one of the four date/time kinds. On failure returns -1 and sets
 * *bad (offset into the token) and *why. On success dt->text is allocated. */
int toml_datetime_parse(const char *token, size_t len, struct toml_datetime *dt,
                        enum toml_type *type, size_t *bad, const char **why);

#endif
