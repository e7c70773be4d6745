/* TOML dates and times (RFC 3339): offset date-time, local date-time, local date and
 * local time, with every field range checked (February 29 only in leap years). */
#include "toml_internal.h"
#include "cleanup.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

struct datetime_scan {
	const char *s;
	size_t len;
	size_t i;
	size_t *bad;
	const char **why;
};

static int fail(struct datetime_scan *scan, size_t at, const char *why)
{
	*scan->bad = at;
	*scan->why = why;
	return -1;
}

/* Exactly n digits at the scan position. */
static int take_digits(struct datetime_scan *scan, int n, int *out, const char *why)
{
	int v = 0;

	for (int k = 0; k < n; k++) {
		size_t at = scan->i + (size_t)k;

		if (at >= scan->len || !isdigit((unsigned char)scan->s[at]))
			return fail(scan, at, why);
		v = v * 10 + (scan->s[at] - '0');
	}
	scan->i += (size_t)n;
	*out = v;
	return 0;
}

static int take_char(struct datetime_scan *scan, char c, const char *why)
{
	if (scan->i >= scan->len || scan->s[scan->i] != c)
		return fail(scan, scan->i, why);
	scan->i++;
	return 0;
}

static bool is_leap_year(int year)
{
	return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

static int days_in_month(int year, int month)
{
	static const int days[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	if (month == 2 && is_leap_year(year))
		return 29;
	return days[month - 1];
}

static int scan_date(struct datetime_scan *scan, struct toml_datetime *dt)
{
	size_t start = scan->i;

	if (take_digits(scan, 4, &dt->year, "a date needs a 4-digit year") < 0 ||
	    take_char(scan, '-', "expected '-' after the year") < 0 ||
	    take_digits(scan, 2, &dt->month, "a date needs a 2-digit month") < 0 ||
	    take_char(scan, '-', "expected '-' after the month") < 0 ||
	    take_digits(scan, 2, &dt->day, "a date needs a 2-digit day") < 0)
		return -1;
	if (dt->month < 1 || dt->month > 12)
		return fail(scan, start + 5, "month must be 01 to 12");
	if (dt->day < 1 || dt->day > days_in_month(dt->year, dt->month))
		return fail(scan, start + 8, "day out of range for its month");
	return 0;
}

static int scan_time(struct datetime_scan *scan, struct toml_datetime *dt)
{
	size_t start = scan->i;

	if (take_digits(scan, 2, &dt->hour, "a time needs a 2-digit hour") < 0 ||
	    take_char(scan, ':', "expected ':' after the hour") < 0 ||
	    take_digits(scan, 2, &dt->minute, "a time needs a 2-digit minute") < 0 ||
	    take_char(scan, ':', "expected ':' after the minute (seconds are required)") < 0 ||
	    take_digits(scan, 2, &dt->second, "a time needs 2-digit seconds") < 0)
		return -1;
	if (dt->hour > 23)
		return fail(scan, start, "hour must be 00 to 23");
	if (dt->minute > 59)
		return fail(scan, start + 3, "minute must be 00 to 59");
	/* 60 is a leap second, which RFC 3339 allows. */
	if (dt->second > 60)
		return fail(scan, start + 6, "second must be 00 to 60");
	if (scan->i < scan->len && scan->s[scan->i] == '.') {
		int digits = 0;

		scan->i++;
		while (scan->i < scan->len && isdigit((unsigned char)scan->s[scan->i])) {
			if (digits < 9)
				dt->nanosecond = dt->nanosecond * 10 + (scan->s[scan->i] - '0');
			digits++;
			scan->i++;
		}
		if (digits == 0)
			return fail(scan, scan->i, "expected digits after the decimal point");
		for (; digits < 9; digits++)
			dt->nanosecond *= 10;
	}
	return 0;
}

static int scan_offset(struct datetime_scan *scan, struct toml_datetime *dt)
{
	size_t start = scan->i;
	int sign, hours, minutes;

	if (scan->s[scan->i] == 'Z' || scan->s[scan->i] == 'z') {
		scan->i++;
		dt->offset_minutes = 0;
		return 0;
	}
	if (scan->s[scan->i] != '+' && scan->s[scan->i] != '-')
		return fail(scan, scan->i, "expected 'Z' or a +HH:MM offset after the time");
	sign = scan->s[scan->i] == '-' ? -1 : 1;
	scan->i++;
	if (take_digits(scan, 2, &hours, "an offset needs 2-digit hours") < 0 ||
	    take_char(scan, ':', "expected ':' in the offset") < 0 ||
	    take_digits(scan, 2, &minutes, "an offset needs 2-digit minutes") < 0)
		return -1;
	if (hours > 23)
		return fail(scan, start + 1, "offset hours must be 00 to 23");
	if (minutes > 59)
		return fail(scan, start + 4, "offset minutes must be 00 to 59");
	dt->offset_minutes = sign * (hours * 60 + minutes);
	return 0;
}

/* The text as written, with the separator and Z made upper case. */
static char *normalise(const char *s, size_t len)
{
	char *text = xstrndup(s, len);

	for (size_t i = 0; i < len; i++) {
		if (text[i] == 't' || text[i] == ' ')
			text[i] = 'T';
		else if (text[i] == 'z')
			text[i] = 'Z';
	}
	return text;
}

int toml_datetime_parse(const char *s, size_t len, struct toml_datetime *dt, enum toml_type *type,
                        size_t *bad, const char **why)
{
	struct datetime_scan scan = { .s = s, .len = len, .bad = bad, .why = why };

	memset(dt, 0, sizeof(*dt));
	if (len >= 3 && s[2] == ':') {
		if (scan_time(&scan, dt) < 0)
			return -1;
		*type = TOML_LOCAL_TIME;
	} else {
		if (scan_date(&scan, dt) < 0)
			return -1;
		*type = TOML_LOCAL_DATE;
		if (scan.i < len) {
			char sep = s[scan.i];

			if (sep != 'T' && sep != 't' && sep != ' ')
				return fail(&scan, scan.i, "expected 'T' between date and time");
			scan.i++;
			if (scan_time(&scan, dt) < 0)
				return -1;
			*type = TOML_LOCAL_DATETIME;
			if (scan.i < len) {
				if (scan_offset(&scan, dt) < 0)
					return -1;
				*type = TOML_OFFSET_DATETIME;
			}
		}
	}
	if (scan.i != len)
		return fail(&scan, scan.i, "unexpected character after a date or time");
	dt->text = normalise(s, len);
	return 0;
}
