/* The TOML 1.0 document grammar: key/value pairs, [tables], [[arrays of tables]], arrays,
 * inline tables, and the rules on what may be defined once only. Strings, numbers and
 * dates are in toml_string.c, toml_number.c and toml_datetime.c. */
#include "toml_internal.h"
#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void toml_position(struct toml_parser *p, size_t pos, int *line, int *column)
{
	if (pos > p->len)
		pos = p->len;
	if (pos < p->cached_pos) {
		p->cached_pos = 0;
		p->cached_line = 1;
		p->cached_column = 1;
	}
	for (size_t i = p->cached_pos; i < pos; i++) {
		unsigned char c = (unsigned char)p->text[i];

		if (c == '\n') {
			p->cached_line++;
			p->cached_column = 1;
		} else if ((c & 0xc0) != 0x80) { /* continuation bytes share a column */
			p->cached_column++;
		}
	}
	p->cached_pos = pos;
	*line = p->cached_line;
	*column = p->cached_column;
}

int toml_fail(struct toml_parser *p, size_t pos, const char *fmt, ...)
{
	cleanup_free char *message = NULL;
	int line, column;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		abort();
	va_end(ap);
	toml_position(p, pos, &line, &column);
	return kata_error_set(p->err, EINVAL, "line %d, column %d: %s", line, column, message);
}

const char *toml_describe_char(const struct toml_parser *p, size_t pos, char buf[16])
{
	const unsigned char *s = (const unsigned char *)p->text + pos;
	uint32_t cp;

	if (pos >= p->len)
		return "end of input";
	if (s[0] == '\n' || s[0] == '\r')
		return "end of line";
	if (s[0] == '\'') {
		snprintf(buf, 16, "\"'\"");
		return buf;
	}
	if (s[0] > 0x20 && s[0] < 0x7f) {
		snprintf(buf, 16, "'%c'", s[0]);
		return buf;
	}
	/* The text was checked as UTF-8 before parsing began. */
	if (s[0] < 0x80)
		cp = s[0];
	else if (s[0] < 0xe0)
		cp = (uint32_t)(s[0] & 0x1f) << 6 | (s[1] & 0x3f);
	else if (s[0] < 0xf0)
		cp = (uint32_t)(s[0] & 0x0f) << 12 | (uint32_t)(s[1] & 0x3f) << 6 | (s[2] & 0x3f);
	else
		cp = (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3f) << 12 |
		     (uint32_t)(s[2] & 0x3f) << 6 | (s[3] & 0x3f);
	snprintf(buf, 16, "U+%04X", (unsigned)cp);
	return buf;
}

/* --- lexical helpers ------------------------------------------------------------------ */

static bool is_bare_key_char(int c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

static void skip_whitespace(struct toml_parser *p)
{
	while (p->pos < p->len && (p->text[p->pos] == ' ' || p->text[p->pos] == '\t'))
		p->pos++;
}

/* A comment from '#' up to (not including) the end of the line. */
static int skip_comment(struct toml_parser *p)
{
	char buf[16];

	for (p->pos++; p->pos < p->len; p->pos++) {
		unsigned char c = (unsigned char)p->text[p->pos];

		if (c == '\n')
			break;
		if (c == '\r') {
			if (toml_peek(p, 1) == '\n')
				break;
			return toml_fail(p, p->pos, "carriage return not followed by a newline");
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f)
			return toml_fail(p, p->pos, "control character %s in a comment",
			                 toml_describe_char(p, p->pos, buf));
	}
	return 0;
}

/* Consumes LF or CRLF at p->pos, which must be there. */
static int take_newline(struct toml_parser *p)
{
	if (toml_peek(p, 0) == '\r' && toml_peek(p, 1) != '\n')
		return toml_fail(p, p->pos, "carriage return not followed by a newline");
	p->pos += toml_peek(p, 0) == '\r' ? 2 : 1;
	return 0;
}

/* Whitespace, newlines and comments, as allowed between array elements. */
static int skip_blank(struct toml_parser *p)
{
	for (;;) {
		int c;

		skip_whitespace(p);
		c = toml_peek(p, 0);
		if (c == '#') {
			if (skip_comment(p) < 0)
				return -1;
		} else if (c == '\n' || c == '\r') {
			if (take_newline(p) < 0)
				return -1;
		} else {
			return 0;
		}
	}
}

/* After a key/value pair or a header: optional whitespace and comment, then the end of
 * the line or of the input. */
static int expect_line_end(struct toml_parser *p, const char *after)
{
	char buf[16];
	int c;

	skip_whitespace(p);
	if (toml_peek(p, 0) == '#' && skip_comment(p) < 0)
		return -1;
	c = toml_peek(p, 0);
	if (c < 0)
		return 0;
	if (c == '\n' || c == '\r')
		return take_newline(p);
	return toml_fail(p, p->pos, "expected the end of the line after %s, found %s", after,
	                 toml_describe_char(p, p->pos, buf));
}

/* --- keys --------------------------------------------------------------------------------- */

struct key_part {
	char *name;
	size_t len;
	size_t pos;
};

struct key_path {
	struct key_part *parts;
	size_t count;
	size_t capacity;
};

static void key_path_clear(struct key_path *key)
{
	for (size_t i = 0; i < key->count; i++)
		free(key->parts[i].name);
	free(key->parts);
	key->parts = NULL;
	key->count = key->capacity = 0;
}

static void key_path_push(struct key_path *key, char *name, size_t len, size_t pos)
{
	if (key->count == key->capacity) {
		key->capacity = key->capacity ? key->capacity * 2 : 4;
		key->parts = xrealloc(key->parts, key->capacity * sizeof(*key->parts));
	}
	key->parts[key->count++] = (struct key_part){ .name = name, .len = len, .pos = pos };
}

/* The first n parts as they would be written, bare where possible, for messages. */
static char *key_text(const struct key_path *key, size_t n)
{
	struct toml_buffer out = { 0 };
	size_t len;

	for (size_t i = 0; i < n && out.len < 200; i++) {
		const struct key_part *part = &key->parts[i];
		bool bare = part->len > 0;

		for (size_t k = 0; k < part->len; k++)
			bare = bare && is_bare_key_char((unsigned char)part->name[k]);
		if (i > 0)
			toml_buffer_append_byte(&out, '.');
		if (bare) {
			toml_buffer_append(&out, part->name, part->len);
			continue;
		}
		toml_buffer_append_byte(&out, '"');
		for (size_t k = 0; k < part->len && out.len < 200; k++) {
			unsigned char c = (unsigned char)part->name[k];
			char esc[8];

			if (c == '"' || c == '\\') {
				toml_buffer_append_byte(&out, '\\');
				toml_buffer_append_byte(&out, (char)c);
			} else if (c < 0x20 || c == 0x7f) {
				snprintf(esc, sizeof(esc), "\\u%04x", c);
				toml_buffer_append(&out, esc, strlen(esc));
			} else {
				toml_buffer_append_byte(&out, (char)c);
			}
		}
		toml_buffer_append_byte(&out, '"');
	}
	if (out.len >= 200)
		toml_buffer_append(&out, "...", 3);
	return toml_buffer_steal(&out, &len);
}

/* simple-key *( '.' simple-key ), whitespace allowed around the dots. */
static int parse_key(struct toml_parser *p, struct key_path *key)
{
	char buf[16];

	for (;;) {
		size_t pos, len;
		char *name;
		int c;

		skip_whitespace(p);
		pos = p->pos;
		c = toml_peek(p, 0);
		if (c == '"' || c == '\'') {
			if (toml_parse_string(p, false, &name, &len) < 0)
				return -1;
		} else if (is_bare_key_char(c)) {
			while (is_bare_key_char(toml_peek(p, 0)))
				p->pos++;
			len = p->pos - pos;
			name = xstrndup(p->text + pos, len);
		} else {
			return toml_fail(p, pos, "expected a key, found %s",
			                 toml_describe_char(p, pos, buf));
		}
		key_path_push(key, name, len, pos);
		skip_whitespace(p);
		if (toml_peek(p, 0) != '.')
			return 0;
		p->pos++;
	}
}

static char *copy_key(const struct key_part *part)
{
	char *copy = xmalloc(part->len + 1);

	memcpy(copy, part->name, part->len);
	copy[part->len] = '\0';
	return copy;
}

static const char *describe_existing(const struct toml_value *value)
{
	if (value->type == TOML_ARRAY)
		return toml_array_node((struct toml_value *)value)->of_tables ? "an array of tables"
		                                                              : "an array";
	if (value->type != TOML_TABLE)
		return "a value";
	switch (toml_table_node((struct toml_value *)value)->origin) {
	case TOML_TABLE_INLINE:
		return "an inline table";
	case TOML_TABLE_DOTTED:
		return "a table defined by dotted keys";
	default:
		return "a table defined by a header";
	}
}

/* Creates table part i of key inside parent, checking the nesting depth. */
static struct toml_table_node *add_table(struct toml_parser *p, struct toml_table_node *parent,
                                         const struct key_part *part, enum toml_table_origin origin)
{
	struct toml_table_node *child;
	int line, column;

	if (parent->depth + 1 > TOML_MAX_DEPTH) {
		toml_fail(p, part->pos, "tables nested deeper than %d levels", TOML_MAX_DEPTH);
		return NULL;
	}
	toml_position(p, part->pos, &line, &column);
	child = toml_table_new(parent->depth + 1, origin, line, column);
	toml_table_insert(parent, copy_key(part), part->len, line, column, &child->value);
	return child;
}

/* The table a dotted key's last part goes into, creating the tables before it. Dotted
 * keys may only pass through tables that dotted keys created: not through headers'
 * tables, inline tables or arrays. */
static struct toml_table_node *walk_dotted_key(struct toml_parser *p, struct toml_table_node *table,
                                               const struct key_path *key)
{
	for (size_t i = 0; i + 1 < key->count; i++) {
		const struct key_part *part = &key->parts[i];
		struct toml_entry *entry = toml_table_lookup(table, part->name, part->len);
		cleanup_free char *text = NULL;

		if (entry == NULL) {
			table = add_table(p, table, part, TOML_TABLE_DOTTED);
			if (table == NULL)
				return NULL;
			continue;
		}
		if (entry->value->type == TOML_TABLE &&
		    toml_table_node(entry->value)->origin == TOML_TABLE_DOTTED) {
			table = toml_table_node(entry->value);
			continue;
		}
		text = key_text(key, i + 1);
		toml_fail(p, part->pos, "cannot add keys to %s with a dotted key: it is %s", text,
		          describe_existing(entry->value));
		return NULL;
	}
	return table;
}

/* --- values ------------------------------------------------------------------------------- */

static struct toml_value *parse_value(struct toml_parser *p, int depth);
static int parse_keyval(struct toml_parser *p, struct toml_table_node *table);

static bool is_digit(int c)
{
	return c >= '0' && c <= '9';
}

static bool is_token_char(int c)
{
	return is_digit(c) || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' ||
	       c == '+' || c == '-' || c == '.' || c == ':';
}

static bool looks_like_date(const char *s, size_t len)
{
	return len >= 5 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]) && is_digit(s[3]) &&
	       s[4] == '-';
}

/* Numbers, dates and times: a run of token characters, checked as a whole. A date may
 * be followed by a space and a time. */
static struct toml_value *parse_token_value(struct toml_parser *p, int line, int column)
{
	size_t start = p->pos, len, bad = 0;
	const char *why = NULL, *token = p->text + start;
	struct toml_value *value;
	int ret;

	while (is_token_char(toml_peek(p, 0)))
		p->pos++;
	len = p->pos - start;
	if (len == 10 && looks_like_date(token, len) && toml_peek(p, 0) == ' ' &&
	    is_digit(toml_peek(p, 1))) {
		p->pos++;
		while (is_token_char(toml_peek(p, 0)))
			p->pos++;
		len = p->pos - start;
	}
	value = toml_scalar_new(TOML_INTEGER, line, column);
	if ((len >= 3 && token[2] == ':') || looks_like_date(token, len)) {
		ret = toml_datetime_parse(token, len, &value->u.datetime, &value->type, &bad, &why);
		if (ret < 0)
			toml_fail(p, start + bad, "invalid date or time: %s", why);
	} else {
		ret = toml_number_parse(token, len, value, &bad, &why);
		if (ret < 0)
			toml_fail(p, start + bad, "%s", why);
	}
	if (ret < 0) {
		free(value);
		return NULL;
	}
	return value;
}

static struct toml_value *parse_array(struct toml_parser *p, int depth, int line, int column)
{
	struct toml_array_node *array;
	size_t start = p->pos;
	char buf[16];

	if (depth > TOML_MAX_DEPTH) {
		toml_fail(p, start, "arrays and tables nested deeper than %d levels",
		          TOML_MAX_DEPTH);
		return NULL;
	}
	array = toml_array_new(depth, false, line, column);
	p->pos++;
	for (;;) {
		struct toml_value *item;
		int c;

		if (skip_blank(p) < 0)
			goto fail;
		c = toml_peek(p, 0);
		if (c == ']')
			break;
		if (c < 0) {
			toml_fail(p, start, "unterminated array");
			goto fail;
		}
		item = parse_value(p, depth + 1);
		if (item == NULL)
			goto fail;
		toml_array_push(array, item);
		if (skip_blank(p) < 0)
			goto fail;
		c = toml_peek(p, 0);
		if (c == ',') {
			p->pos++;
			continue;
		}
		if (c == ']')
			break;
		if (c < 0)
			toml_fail(p, start, "unterminated array");
		else
			toml_fail(p, p->pos, "expected ',' or ']' after an array element, found %s",
			          toml_describe_char(p, p->pos, buf));
		goto fail;
	}
	p->pos++;
	return &array->value;
fail:
	toml_free(&array->value);
	return NULL;
}

static struct toml_value *parse_inline_table(struct toml_parser *p, int depth, int line, int column)
{
	struct toml_table_node *table;
	size_t start = p->pos;
	char buf[16];

	if (depth > TOML_MAX_DEPTH) {
		toml_fail(p, start, "arrays and tables nested deeper than %d levels",
		          TOML_MAX_DEPTH);
		return NULL;
	}
	table = toml_table_new(depth, TOML_TABLE_INLINE, line, column);
	p->pos++;
	skip_whitespace(p);
	if (toml_peek(p, 0) == '}') {
		p->pos++;
		return &table->value;
	}
	for (;;) {
		int c;

		if (parse_keyval(p, table) < 0)
			goto fail;
		skip_whitespace(p);
		c = toml_peek(p, 0);
		if (c == '}')
			break;
		if (c == ',') {
			p->pos++;
			skip_whitespace(p);
			if (toml_peek(p, 0) == '}') {
				toml_fail(p, p->pos - 1, "trailing comma in an inline table");
				goto fail;
			}
			continue;
		}
		if (c < 0)
			toml_fail(p, start, "unterminated inline table");
		else if (c == '\n' || c == '\r' || c == '#')
			toml_fail(p, p->pos, "an inline table must stay on one line");
		else
			toml_fail(p, p->pos, "expected ',' or '}' in an inline table, found %s",
			          toml_describe_char(p, p->pos, buf));
		goto fail;
	}
	p->pos++;
	return &table->value;
fail:
	toml_free(&table->value);
	return NULL;
}

static bool text_at(const struct toml_parser *p, const char *word)
{
	size_t n = strlen(word);

	return p->len - p->pos >= n && memcmp(p->text + p->pos, word, n) == 0;
}

/* depth: the nesting depth the value would have as an array or inline table. */
static struct toml_value *parse_value(struct toml_parser *p, int depth)
{
	int c = toml_peek(p, 0), line, column;
	struct toml_value *value;
	char buf[16];

	toml_position(p, p->pos, &line, &column);
	if (c == '"' || c == '\'') {
		value = toml_scalar_new(TOML_STRING, line, column);
		if (toml_parse_string(p, true, &value->u.string.data, &value->u.string.len) < 0) {
			free(value);
			return NULL;
		}
		return value;
	}
	if (c == '[')
		return parse_array(p, depth, line, column);
	if (c == '{')
		return parse_inline_table(p, depth, line, column);
	if (text_at(p, "true") || text_at(p, "false")) {
		value = toml_scalar_new(TOML_BOOLEAN, line, column);
		value->u.boolean = c == 't';
		p->pos += c == 't' ? 4 : 5;
		return value;
	}
	if (is_digit(c) || c == '+' || c == '-' || c == 'i' || c == 'n')
		return parse_token_value(p, line, column);
	if (c < 0 || c == '\n' || c == '\r' || c == '#')
		toml_fail(p, p->pos, "missing value");
	else
		toml_fail(p, p->pos, "expected a value, found %s",
		          toml_describe_char(p, p->pos, buf));
	return NULL;
}

/* key = value, into table (the current table, or an inline table being read). */
static int parse_keyval(struct toml_parser *p, struct toml_table_node *table)
{
	struct key_path key = { 0 };
	struct toml_table_node *target;
	const struct key_part *last;
	struct toml_value *value;
	int line, column, ret = -1;
	char buf[16];

	if (parse_key(p, &key) < 0)
		goto out;
	if (toml_peek(p, 0) != '=') {
		toml_fail(p, p->pos, "expected '=' after a key, found %s",
		          toml_describe_char(p, p->pos, buf));
		goto out;
	}
	p->pos++;
	skip_whitespace(p);
	target = walk_dotted_key(p, table, &key);
	if (target == NULL)
		goto out;
	last = &key.parts[key.count - 1];
	if (toml_table_lookup(target, last->name, last->len) != NULL) {
		cleanup_free char *text = key_text(&key, key.count);

		toml_fail(p, last->pos, "key %s is defined twice", text);
		goto out;
	}
	/* Positions are asked in increasing order: the key's before the value's. */
	toml_position(p, last->pos, &line, &column);
	value = parse_value(p, target->depth + 1);
	if (value == NULL)
		goto out;
	toml_table_insert(target, copy_key(last), last->len, line, column, value);
	ret = 0;
out:
	key_path_clear(&key);
	return ret;
}

/* --- headers ------------------------------------------------------------------------------ */

/* The table a header's last part goes into: headers may pass through any table but an
 * inline one, and through an array of tables to its last element. */
static struct toml_table_node *walk_header(struct toml_parser *p, struct toml_table_node *table,
                                           const struct key_path *key)
{
	for (size_t i = 0; i + 1 < key->count; i++) {
		const struct key_part *part = &key->parts[i];
		struct toml_entry *entry = toml_table_lookup(table, part->name, part->len);
		struct toml_value *value;
		cleanup_free char *text = NULL;

		if (entry == NULL) {
			table = add_table(p, table, part, TOML_TABLE_IMPLICIT);
			if (table == NULL)
				return NULL;
			continue;
		}
		value = entry->value;
		if (value->type == TOML_TABLE &&
		    toml_table_node(value)->origin != TOML_TABLE_INLINE) {
			table = toml_table_node(value);
			continue;
		}
		if (value->type == TOML_ARRAY && toml_array_node(value)->of_tables) {
			table = toml_table_node(value->u.array.items[value->u.array.len - 1]);
			continue;
		}
		text = key_text(key, i + 1);
		toml_fail(p, part->pos, "cannot add a table inside %s: it is %s", text,
		          describe_existing(value));
		return NULL;
	}
	return table;
}

static struct toml_table_node *define_table(struct toml_parser *p, struct toml_table_node *parent,
                                            const struct key_path *key, int line, int column)
{
	const struct key_part *last = &key->parts[key->count - 1];
	struct toml_entry *entry = toml_table_lookup(parent, last->name, last->len);
	cleanup_free char *text = NULL;
	struct toml_table_node *table;

	if (entry == NULL) {
		table = add_table(p, parent, last, TOML_TABLE_DEFINED);
		if (table != NULL) {
			table->value.line = line;
			table->value.column = column;
		}
		return table;
	}
	if (entry->value->type == TOML_TABLE &&
	    toml_table_node(entry->value)->origin == TOML_TABLE_IMPLICIT) {
		/* A table first created as the parent of another, defined now. */
		table = toml_table_node(entry->value);
		table->origin = TOML_TABLE_DEFINED;
		table->value.line = line;
		table->value.column = column;
		return table;
	}
	text = key_text(key, key->count);
	toml_fail(p, last->pos, "cannot define table %s: it is already %s", text,
	          describe_existing(entry->value));
	return NULL;
}

static struct toml_table_node *append_table(struct toml_parser *p, struct toml_table_node *parent,
                                            const struct key_path *key, int line, int column)
{
	const struct key_part *last = &key->parts[key->count - 1];
	struct toml_entry *entry = toml_table_lookup(parent, last->name, last->len);
	cleanup_free char *text = NULL;
	struct toml_array_node *array;
	struct toml_table_node *table;

	if (entry != NULL &&
	    (entry->value->type != TOML_ARRAY || !toml_array_node(entry->value)->of_tables)) {
		text = key_text(key, key->count);
		toml_fail(p, last->pos, "cannot append to %s with [[...]]: it is %s", text,
		          describe_existing(entry->value));
		return NULL;
	}
	if (parent->depth + 2 > TOML_MAX_DEPTH) {
		toml_fail(p, last->pos, "tables nested deeper than %d levels", TOML_MAX_DEPTH);
		return NULL;
	}
	if (entry == NULL) {
		array = toml_array_new(parent->depth + 1, true, line, column);
		toml_table_insert(parent, copy_key(last), last->len, line, column, &array->value);
	} else {
		array = toml_array_node(entry->value);
	}
	table = toml_table_new(array->depth + 1, TOML_TABLE_DEFINED, line, column);
	toml_array_push(array, &table->value);
	return table;
}

/* [key] or [[key]]; returns the table that the following key/value pairs go into. */
static struct toml_table_node *parse_header(struct toml_parser *p, struct toml_table_node *root)
{
	bool array = toml_peek(p, 1) == '[';
	struct toml_table_node *parent, *table = NULL;
	struct key_path key = { 0 };
	int line, column;
	char buf[16];

	toml_position(p, p->pos, &line, &column);
	p->pos += array ? 2 : 1;
	if (parse_key(p, &key) < 0)
		goto out;
	if (toml_peek(p, 0) != ']' || (array && toml_peek(p, 1) != ']')) {
		size_t at = toml_peek(p, 0) == ']' ? p->pos + 1 : p->pos;

		toml_fail(p, at, "expected '%s' to close the header, found %s", array ? "]]" : "]",
		          toml_describe_char(p, at, buf));
		goto out;
	}
	p->pos += array ? 2 : 1;
	parent = walk_header(p, root, &key);
	if (parent == NULL)
		goto out;
	table = array ? append_table(p, parent, &key, line, column)
	              : define_table(p, parent, &key, line, column);
out:
	key_path_clear(&key);
	return table;
}

/* --- the document ------------------------------------------------------------------------- */

struct toml_value *toml_parse(const char *text, size_t len, kata_error_t *err)
{
	struct toml_parser p = {
		.text = text ? text : "",
		.len = text ? len : 0,
		.err = err,
		.cached_line = 1,
		.cached_column = 1,
	};
	struct toml_table_node *root, *current;
	char buf[16];

	if (toml_check_utf8(&p) < 0)
		return NULL;
	if (p.len >= 3 && memcmp(p.text, "\xef\xbb\xbf", 3) == 0)
		p.pos = 3; /* a byte order mark */
	root = toml_table_new(0, TOML_TABLE_DEFINED, 1, 1);
	current = root;
	for (;;) {
		int c;

		skip_whitespace(&p);
		c = toml_peek(&p, 0);
		if (c < 0)
			break;
		if (c == '#') {
			if (skip_comment(&p) < 0)
				goto fail;
		} else if (c == '\n' || c == '\r') {
			if (take_newline(&p) < 0)
				goto fail;
		} else if (c == '[') {
			current = parse_header(&p, root);
			if (current == NULL || expect_line_end(&p, "a table header") < 0)
				goto fail;
		} else if (is_bare_key_char(c) || c == '"' || c == '\'') {
			if (parse_keyval(&p, current) < 0 || expect_line_end(&p, "a value") < 0)
				goto fail;
		} else {
			toml_fail(&p, p.pos, "expected a key or a [table] header, found %s",
			          toml_describe_char(&p, p.pos, buf));
			goto fail;
		}
	}
	return &root->value;
fail:
	toml_free(&root->value);
	return NULL;
}
