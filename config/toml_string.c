/* TOML strings (basic, literal, and their multi-line forms) and UTF-8 validation. */
#include "toml_internal.h"
#include "cleanup.h"
#include "hex.h"

#include <stdlib.h>
#include <string.h>

/* Length of the valid UTF-8 sequence at s (n bytes left), or 0 when invalid. */
static size_t utf8_sequence_length(const unsigned char *s, size_t n)
{
	unsigned char lo = 0x80, hi = 0xbf;
	size_t len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		len = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		len = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		len = 4;
	else
		return 0;
	/* The second byte's range excludes overlong forms, surrogates and > U+10FFFF. */
	if (s[0] == 0xe0)
		lo = 0xa0;
	else if (s[0] == 0xed)
		hi = 0x9f;
	else if (s[0] == 0xf0)
		lo = 0x90;
	else if (s[0] == 0xf4)
		hi = 0x8f;
	if (n < len || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < len; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return len;
}

int toml_check_utf8(struct toml_parser *p)
{
	const unsigned char *s = (const unsigned char *)p->text;
	size_t i = 0;

	while (i < p->len) {
		size_t len = utf8_sequence_length(s + i, p->len - i);

		if (len == 0)
			return toml_fail(p, i, "invalid UTF-8 byte 0x%02x", s[i]);
		i += len;
	}
	return 0;
}

static void append_utf8(struct toml_buffer *buffer, uint32_t cp)
{
	char out[4];
	size_t len;

	if (cp < 0x80) {
		out[0] = (char)cp;
		len = 1;
	} else if (cp < 0x800) {
		out[0] = (char)(0xc0 | (cp >> 6));
		out[1] = (char)(0x80 | (cp & 0x3f));
		len = 2;
	} else if (cp < 0x10000) {
		out[0] = (char)(0xe0 | (cp >> 12));
		out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (char)(0x80 | (cp & 0x3f));
		len = 3;
	} else {
		out[0] = (char)(0xf0 | (cp >> 18));
		out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		out[3] = (char)(0x80 | (cp & 0x3f));
		len = 4;
	}
	toml_buffer_append(buffer, out, len);
}

static bool is_control(int c)
{
	return (c >= 0 && c < 0x20 && c != '\t') || c == 0x7f;
}

/* \uXXXX or \UXXXXXXXX with p->pos on the u; digits hex digits follow. */
static int parse_unicode_escape(struct toml_parser *p, size_t backslash, int digits,
                                struct toml_buffer *buffer)
{
	uint32_t cp = 0;

	p->pos++;
	for (int i = 0; i < digits; i++) {
		int v = hex_digit_value(toml_peek(p, 0));

		if (v < 0)
			return toml_fail(p, backslash,
			                 "\\%c escape needs exactly %d hexadecimal digits",
			                 digits == 4 ? 'u' : 'U', digits);
		cp = cp * 16 + (uint32_t)v;
		p->pos++;
	}
	if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return toml_fail(p, backslash, "escape \\%c%.*s is not a Unicode scalar value",
		                 digits == 4 ? 'u' : 'U', digits, p->text + p->pos - digits);
	append_utf8(buffer, cp);
	return 0;
}

/* A newline (LF or CRLF) at p->pos is consumed; a lone CR is an error. Returns 1 when a
 * newline was consumed, 0 when there is none, -1 on error. */
static int take_newline(struct toml_parser *p)
{
	if (toml_peek(p, 0) == '\n') {
		p->pos++;
		return 1;
	}
	if (toml_peek(p, 0) == '\r') {
		if (toml_peek(p, 1) != '\n')
			return toml_fail(p, p->pos, "carriage return not followed by a newline");
		p->pos += 2;
		return 1;
	}
	return 0;
}

/* A backslash at the end of a line in a multi-line basic string: it swallows the
 * newline and all whitespace and newlines after it. */
static int skip_line_ending_backslash(struct toml_parser *p, size_t backslash)
{
	int c;

	while ((c = toml_peek(p, 0)) == ' ' || c == '\t')
		p->pos++;
	if (c != '\n' && c != '\r')
		return toml_fail(p, backslash,
		                 "a backslash followed by whitespace must end the line");
	for (;;) {
		int taken;

		c = toml_peek(p, 0);
		if (c == ' ' || c == '\t') {
			p->pos++;
			continue;
		}
		taken = take_newline(p);
		if (taken < 0)
			return -1;
		if (taken == 0)
			return 0;
	}
}

static int parse_escape(struct toml_parser *p, bool multiline, struct toml_buffer *buffer)
{
	size_t backslash = p->pos;
	int c;
	char buf[16];

	p->pos++;
	c = toml_peek(p, 0);
	switch (c) {
	case 'b':
		toml_buffer_append_byte(buffer, '\b');
		break;
	case 't':
		toml_buffer_append_byte(buffer, '\t');
		break;
	case 'n':
		toml_buffer_append_byte(buffer, '\n');
		break;
	case 'f':
		toml_buffer_append_byte(buffer, '\f');
		break;
	case 'r':
		toml_buffer_append_byte(buffer, '\r');
		break;
	case '"':
		toml_buffer_append_byte(buffer, '"');
		break;
	case '\\':
		toml_buffer_append_byte(buffer, '\\');
		break;
	case 'u':
		return parse_unicode_escape(p, backslash, 4, buffer);
	case 'U':
		return parse_unicode_escape(p, backslash, 8, buffer);
	case ' ':
	case '\t':
	case '\n':
	case '\r':
		if (multiline)
			return skip_line_ending_backslash(p, backslash);
		__attribute__((fallthrough));
	default:
		return toml_fail(p, backslash, "invalid escape sequence: backslash followed by %s",
		                 toml_describe_char(p, p->pos, buf));
	}
	p->pos++;
	return 0;
}

/* Counts the run of quote characters at p->pos without consuming it. */
static size_t quote_run(const struct toml_parser *p, char quote)
{
	size_t n = 0;

	while (p->pos + n < p->len && p->text[p->pos + n] == quote)
		n++;
	return n;
}

static int parse_single_line(struct toml_parser *p, char quote, struct toml_buffer *buffer)
{
	size_t start = p->pos;
	char buf[16];

	p->pos++;
	for (;;) {
		int c = toml_peek(p, 0);

		if (c < 0)
			return toml_fail(p, start, "unterminated string");
		if (c == quote) {
			p->pos++;
			return 0;
		}
		if (c == '\n' || c == '\r')
			return toml_fail(p, p->pos, "newline in a single-line string");
		if (c == '\\' && quote == '"') {
			if (parse_escape(p, false, buffer) < 0)
				return -1;
			continue;
		}
		if (is_control(c))
			return toml_fail(p, p->pos, "control character %s in a string",
			                 toml_describe_char(p, p->pos, buf));
		toml_buffer_append_byte(buffer, (char)c);
		p->pos++;
	}
}

static int parse_multi_line(struct toml_parser *p, char quote, struct toml_buffer *buffer)
{
	size_t start = p->pos;
	char buf[16];

	p->pos += 3;
	/* A newline right after the opening delimiter is trimmed. */
	if (take_newline(p) < 0)
		return -1;
	for (;;) {
		int c = toml_peek(p, 0);
		int taken;

		if (c < 0)
			return toml_fail(p, start, "unterminated multi-line string");
		if (c == quote) {
			/* Up to two quotes may stand right before the closing delimiter. */
			size_t run = quote_run(p, quote);

			if (run < 3) {
				toml_buffer_append(buffer, p->text + p->pos, run);
				p->pos += run;
				continue;
			}
			if (run > 5)
				return toml_fail(
				        p, p->pos + 5,
				        "too many quotes at the end of a multi-line string");
			toml_buffer_append(buffer, p->text + p->pos, run - 3);
			p->pos += run;
			return 0;
		}
		if (c == '\\' && quote == '"') {
			if (parse_escape(p, true, buffer) < 0)
				return -1;
			continue;
		}
		taken = take_newline(p);
		if (taken < 0)
			return -1;
		if (taken) {
			toml_buffer_append_byte(buffer, '\n');
			continue;
		}
		if (is_control(c))
			return toml_fail(p, p->pos, "control character %s in a string",
			                 toml_describe_char(p, p->pos, buf));
		toml_buffer_append_byte(buffer, (char)c);
		p->pos++;
	}
}

int toml_parse_string(struct toml_parser *p, bool allow_multiline, char **data, size_t *len)
{
	struct toml_buffer buffer = { 0 };
	char quote = (char)toml_peek(p, 0);
	int ret;

	if (quote_run(p, quote) >= 3) {
		if (!allow_multiline)
			return toml_fail(p, p->pos, "a multi-line string cannot be a key");
		ret = parse_multi_line(p, quote, &buffer);
	} else {
		ret = parse_single_line(p, quote, &buffer);
	}
	if (ret < 0) {
		free(buffer.data);
		return -1;
	}
	*data = toml_buffer_steal(&buffer, len);
	return 0;
}
