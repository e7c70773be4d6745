/* TOML integers (decimal, 0x, 0o, 0b) and floats (fractions, exponents, inf, nan). */
#include "toml_internal.h"
#include "cleanup.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int digit_value(char c, int base)
{
	int v;

	if (c >= '0' && c <= '9')
		v = c - '0';
	else if (c >= 'a' && c <= 'f')
		v = c - 'a' + 10;
	else if (c >= 'A' && c <= 'F')
		v = c - 'A' + 10;
	else
		return -1;
	return v < base ? v : -1;
}

/* A run of digits of base at s[*i], underscores allowed only between two digits.
 * Returns the count of digits, or -1 (with *bad set) when the run is malformed. */
static int scan_digits(const char *s, size_t len, size_t *i, int base, size_t *bad,
                       const char **why)
{
	int count = 0;

	if (*i >= len || digit_value(s[*i], base) < 0) {
		*bad = *i;
		*why = *i < len && s[*i] == '_' ? "an underscore must stand between two digits"
		                                : "expected a digit";
		return -1;
	}
	while (*i < len) {
		if (digit_value(s[*i], base) >= 0) {
			count++;
			(*i)++;
		} else if (s[*i] == '_') {
			if (*i + 1 >= len || digit_value(s[*i + 1], base) < 0) {
				*bad = *i;
				*why = "an underscore must stand between two digits";
				return -1;
			}
			(*i)++;
		} else {
			break;
		}
	}
	return count;
}

/* Accumulates the digits of s[from, to) (skipping underscores) into *out, refusing
 * anything above limit. */
static int accumulate(const char *s, size_t from, size_t to, int base, uint64_t limit,
                      uint64_t *out)
{
	uint64_t v = 0;

	for (size_t i = from; i < to; i++) {
		int d;

		if (s[i] == '_')
			continue;
		d = digit_value(s[i], base);
		if (v > (limit - (uint64_t)d) / (uint64_t)base)
			return -1;
		v = v * (uint64_t)base + (uint64_t)d;
	}
	*out = v;
	return 0;
}

static int parse_prefixed_integer(const char *s, size_t len, struct toml_value *value, size_t *bad,
                                  const char **why)
{
	int base = s[1] == 'x' ? 16 : s[1] == 'o' ? 8 : 2;
	size_t i = 2;
	uint64_t v;

	if (scan_digits(s, len, &i, base, bad, why) < 0)
		return -1;
	if (i != len) {
		*bad = i;
		*why = base == 16  ? "invalid hexadecimal digit"
		       : base == 8 ? "invalid octal digit"
		                   : "invalid binary digit";
		return -1;
	}
	if (accumulate(s, 2, len, base, INT64_MAX, &v) < 0) {
		*bad = 0;
		*why = "integer out of the 64-bit range";
		return -1;
	}
	value->type = TOML_INTEGER;
	value->u.integer = (int64_t)v;
	return 0;
}

static int parse_special_float(const char *s, size_t len, struct toml_value *value)
{
	size_t i = (s[0] == '+' || s[0] == '-') ? 1 : 0;
	bool negative = s[0] == '-';

	if (len - i != 3)
		return -1;
	value->type = TOML_FLOAT;
	if (memcmp(s + i, "inf", 3) == 0)
		value->u.floating = negative ? -INFINITY : INFINITY;
	else if (memcmp(s + i, "nan", 3) == 0)
		value->u.floating = negative ? -NAN : NAN;
	else
		return -1;
	return 0;
}

static int convert_float(const char *s, size_t len, struct toml_value *value, size_t *bad,
                         const char **why)
{
	cleanup_free char *copy = xmalloc(len + 1);
	size_t n = 0;
	char *end;
	double d;

	for (size_t i = 0; i < len; i++)
		if (s[i] != '_')
			copy[n++] = s[i];
	copy[n] = '\0';
	errno = 0;
	d = strtod(copy, &end);
	if (*end != '\0') {
		*bad = 0;
		*why = "invalid float";
		return -1;
	}
	if (errno == ERANGE && isinf(d)) {
		*bad = 0;
		*why = "float out of the 64-bit range";
		return -1;
	}
	value->type = TOML_FLOAT;
	value->u.floating = d;
	return 0;
}

int toml_number_parse(const char *s, size_t len, struct toml_value *value, size_t *bad,
                      const char **why)
{
	size_t i = 0, int_start;
	bool negative = false, is_float = false;
	int digits;
	uint64_t v;

	if (len == 0) {
		*bad = 0;
		*why = "expected a value";
		return -1;
	}
	if (parse_special_float(s, len, value) == 0)
		return 0;
	if (len >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o' || s[1] == 'b'))
		return parse_prefixed_integer(s, len, value, bad, why);
	if (s[0] == '+' || s[0] == '-') {
		negative = s[0] == '-';
		i = 1;
		if (len >= 3 && s[1] == '0' && (s[2] == 'x' || s[2] == 'o' || s[2] == 'b')) {
			*bad = 0;
			*why = "hexadecimal, octal and binary integers take no sign";
			return -1;
		}
	}
	int_start = i;
	if (i < len && ((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z'))) {
		*bad = 0;
		*why = "expected a number, inf or nan";
		return -1;
	}
	digits = scan_digits(s, len, &i, 10, bad, why);
	if (digits < 0)
		return -1;
	if (s[int_start] == '0' && digits > 1) {
		*bad = int_start;
		*why = "leading zeros are not allowed";
		return -1;
	}
	if (i < len && s[i] == '.') {
		is_float = true;
		i++;
		if (scan_digits(s, len, &i, 10, bad, why) < 0)
			return -1;
	}
	if (i < len && (s[i] == 'e' || s[i] == 'E')) {
		is_float = true;
		i++;
		if (i < len && (s[i] == '+' || s[i] == '-'))
			i++;
		if (scan_digits(s, len, &i, 10, bad, why) < 0)
			return -1;
	}
	if (i != len) {
		*bad = i;
		*why = is_float ? "invalid character in a float"
		                : "invalid character in an integer";
		return -1;
	}
	if (is_float)
		return convert_float(s, len, value, bad, why);
	if (accumulate(s, int_start, len, 10, negative ? (uint64_t)INT64_MAX + 1 : INT64_MAX, &v) <
	    0) {
		*bad = 0;
		*why = "integer out of the 64-bit range";
		return -1;
	}
	value->type = TOML_INTEGER;
	value->u.integer = negative ? (int64_t)(0 - v) : (int64_t)v;
	return 0;
}
