/* A TOML 1.0 parser of the project's own (Debian ships no C TOML library).
 *
 * toml_parse() turns a whole document into a tree of toml_value. Every value and every
 * table entry remembers the line and column where it was written, so the typed layer
 * above (config.c) can name file, line and key in its errors. Errors from the parser
 * itself read "line L, column C: what is wrong".
 */
#ifndef KATA_TOML_H
#define KATA_TOML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

enum toml_type {
	TOML_STRING,
	TOML_INTEGER,
	TOML_FLOAT,
	TOML_BOOLEAN,
	TOML_OFFSET_DATETIME,
	TOML_LOCAL_DATETIME,
	TOML_LOCAL_DATE,
	TOML_LOCAL_TIME,
	TOML_ARRAY,
	TOML_TABLE,
};

struct toml_datetime {
	int year, month, day;     /* dates and date-times */
	int hour, minute, second; /* times and date-times */
	int nanosecond;           /* fractional seconds, truncated to ns */
	int offset_minutes;       /* offset date-times only; Z is 0 */
	char *text;               /* normalised RFC 3339 text ("T" separator, upper case) */
};

struct toml_value;

struct toml_entry {
	char *key; /* NUL-terminated UTF-8 */
	int line, column;
	struct toml_value *value;
	/* Bytes in key: more than strlen(key) only for a quoted key written with \u0000,
	 * which toml_table_find() cannot name. */
	size_t key_len;
};

struct toml_value {
	enum toml_type type;
	int line, column;
	union {
		struct {
			char *data; /* NUL-terminated; len excludes the terminator */
			size_t len;
		} string;
		int64_t integer;
		double floating;
		bool boolean;
		struct toml_datetime datetime;
		struct {
			struct toml_value **items;
			size_t len;
		} array;
		struct {
			struct toml_entry *entries; /* in document order */
			size_t len;
		} table;
	} u;
};

/* Parses text (len bytes, need not be NUL-terminated). Returns the root table or NULL.
 * Trees come only from here: tables and arrays carry parser bookkeeping past the struct,
 * so build none by hand for toml_free(). */
struct toml_value *toml_parse(const char *text, size_t len, kata_error_t *err);
void toml_free(struct toml_value *value);

/* The entry for key in table, or NULL. */
const struct toml_entry *toml_table_find(const struct toml_value *table, const char *key);
const struct toml_value *toml_table_get(const struct toml_value *table, const char *key);
const char *toml_type_name(enum toml_type type);

#endif
