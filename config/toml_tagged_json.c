/* TOML to toml-test's tagged JSON, and a structural comparison of two such trees. */
#include "toml_tagged_json.h"
#include "toml_internal.h"
#include "cleanup.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The fewest significant digits that read back as the same double. */
static void format_float(double d, char *buf, size_t size)
{
	if (isnan(d)) {
		snprintf(buf, size, "nan");
		return;
	}
	if (isinf(d)) {
		snprintf(buf, size, d < 0 ? "-inf" : "inf");
		return;
	}
	for (int precision = 1; precision <= 17; precision++) {
		snprintf(buf, size, "%.*g", precision, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	if (strpbrk(buf, ".e") == NULL)
		strncat(buf, ".0", size - strlen(buf) - 1);
}

static const char *scalar_tag(enum toml_type type)
{
	switch (type) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOLEAN:
		return "bool";
	case TOML_OFFSET_DATETIME:
		return "datetime";
	case TOML_LOCAL_DATETIME:
		return "datetime-local";
	case TOML_LOCAL_DATE:
		return "date-local";
	case TOML_LOCAL_TIME:
		return "time-local";
	default:
		return NULL;
	}
}

static struct json_object *tagged_scalar(const struct toml_value *value)
{
	struct json_object *obj = json_object_new_object();
	struct json_object *text;
	char buf[64];

	switch (value->type) {
	case TOML_STRING:
		text = json_object_new_string_len(value->u.string.data, (int)value->u.string.len);
		break;
	case TOML_INTEGER:
		snprintf(buf, sizeof(buf), "%" PRId64, value->u.integer);
		text = json_object_new_string(buf);
		break;
	case TOML_FLOAT:
		format_float(value->u.floating, buf, sizeof(buf));
		text = json_object_new_string(buf);
		break;
	case TOML_BOOLEAN:
		text = json_object_new_string(value->u.boolean ? "true" : "false");
		break;
	default:
		text = json_object_new_string(value->u.datetime.text);
		break;
	}
	json_object_object_add(obj, "type", json_object_new_string(scalar_tag(value->type)));
	json_object_object_add(obj, "value", text);
	return obj;
}

/* Recursion is bounded by the parser's nesting limit. */
struct json_object *toml_to_tagged_json(const struct toml_value *value)
{
	struct json_object *obj;

	if (value->type == TOML_TABLE) {
		obj = json_object_new_object();
		for (size_t i = 0; i < value->u.table.len; i++) {
			const struct toml_entry *entry = &value->u.table.entries[i];

			json_object_object_add(obj, entry->key, toml_to_tagged_json(entry->value));
		}
		return obj;
	}
	if (value->type == TOML_ARRAY) {
		obj = json_object_new_array_ext((int)value->u.array.len);
		for (size_t i = 0; i < value->u.array.len; i++)
			json_object_array_add(obj, toml_to_tagged_json(value->u.array.items[i]));
		return obj;
	}
	return tagged_scalar(value);
}

struct json_object *toml_tagged_json_parse(const char *text, size_t len, kata_error_t *err)
{
	struct json_tokener *tok = json_tokener_new_ex(2 * TOML_MAX_DEPTH + 8);
	struct json_object *obj;
	enum json_tokener_error jerr;

	if (tok == NULL)
		abort();
	obj = json_tokener_parse_ex(tok, text, (int)len);
	jerr = json_tokener_get_error(tok);
	if (jerr == json_tokener_success && json_tokener_get_parse_end(tok) < len) {
		const char *rest = text + json_tokener_get_parse_end(tok);

		while (rest < text + len && strchr(" \t\r\n", *rest) != NULL)
			rest++;
		if (rest < text + len) {
			json_object_put(obj);
			json_tokener_free(tok);
			kata_error_set(err, EINVAL, "trailing text after the JSON value");
			return NULL;
		}
	}
	if (jerr != json_tokener_success || obj == NULL) {
		json_object_put(obj);
		kata_error_set(err, EINVAL, "invalid JSON: %s",
		               jerr == json_tokener_continue ? "unexpected end"
		                                             : json_tokener_error_desc(jerr));
		json_tokener_free(tok);
		return NULL;
	}
	json_tokener_free(tok);
	return obj;
}

/* --- comparison ----------------------------------------------------------------------------- */

/* {"type": string, "value": string} is a scalar; anything else is a table. */
static bool is_scalar(struct json_object *obj, const char **tag, struct json_object **value)
{
	struct json_object *type;

	if (!json_object_is_type(obj, json_type_object) || json_object_object_length(obj) != 2 ||
	    !json_object_object_get_ex(obj, "type", &type) ||
	    !json_object_object_get_ex(obj, "value", value) ||
	    !json_object_is_type(type, json_type_string) ||
	    !json_object_is_type(*value, json_type_string))
		return false;
	*tag = json_object_get_string(type);
	return true;
}

static int64_t days_from_civil(int y, int m, int d)
{
	/* Days since 1970-01-01 in the proleptic Gregorian calendar. */
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static bool datetimes_equal(const char *a, const char *b)
{
	struct toml_datetime x, y;
	enum toml_type tx, ty;
	const char *why;
	size_t bad;
	bool equal;

	if (toml_datetime_parse(a, strlen(a), &x, &tx, &bad, &why) < 0)
		return strcmp(a, b) == 0;
	if (toml_datetime_parse(b, strlen(b), &y, &ty, &bad, &why) < 0) {
		free(x.text);
		return false;
	}
	free(x.text);
	free(y.text);
	if (tx != ty)
		return false;
	if (tx == TOML_OFFSET_DATETIME) {
		int64_t sx = (days_from_civil(x.year, x.month, x.day) * 1440 + x.hour * 60 +
		              x.minute - x.offset_minutes) *
		                     60 +
		             x.second;
		int64_t sy = (days_from_civil(y.year, y.month, y.day) * 1440 + y.hour * 60 +
		              y.minute - y.offset_minutes) *
		                     60 +
		             y.second;

		return sx == sy && x.nanosecond == y.nanosecond;
	}
	equal = x.year == y.year && x.month == y.month && x.day == y.day && x.hour == y.hour &&
	        x.minute == y.minute && x.second == y.second && x.nanosecond == y.nanosecond;
	return equal;
}

static bool scalars_equal(const char *tag, struct json_object *expected, struct json_object *actual)
{
	const char *e = json_object_get_string(expected), *a = json_object_get_string(actual);
	size_t elen = (size_t)json_object_get_string_len(expected);
	size_t alen = (size_t)json_object_get_string_len(actual);

	if (strcmp(tag, "float") == 0) {
		char *eend, *aend;
		double de = strtod(e, &eend), da = strtod(a, &aend);

		if (*eend != '\0' || *aend != '\0')
			return strcmp(e, a) == 0;
		return (isnan(de) && isnan(da)) || de == da;
	}
	if (strcmp(tag, "integer") == 0) {
		char *eend, *aend;
		long long ie = strtoll(e, &eend, 10), ia = strtoll(a, &aend, 10);

		if (*eend != '\0' || *aend != '\0')
			return strcmp(e, a) == 0;
		return ie == ia;
	}
	if (strcmp(tag, "datetime") == 0 || strcmp(tag, "datetime-local") == 0 ||
	    strcmp(tag, "date-local") == 0 || strcmp(tag, "time-local") == 0)
		return datetimes_equal(e, a);
	return elen == alen && memcmp(e, a, elen) == 0;
}

static bool compare(struct json_object *expected, struct json_object *actual, const char *path,
                    char **why)
{
	const char *etag, *atag;
	struct json_object *evalue, *avalue;
	bool escalar = is_scalar(expected, &etag, &evalue);
	bool ascalar = is_scalar(actual, &atag, &avalue);
	const char *shown = *path ? path : "(root)";

	if (escalar || ascalar) {
		if (!escalar || !ascalar) {
			*why = xasprintf("%s: expected %s, got %s", shown,
			                 json_object_to_json_string(expected),
			                 json_object_to_json_string(actual));
			return false;
		}
		if (strcmp(etag, atag) != 0 || !scalars_equal(etag, evalue, avalue)) {
			*why = xasprintf("%s: expected %s %s, got %s %s", shown, etag,
			                 json_object_get_string(evalue), atag,
			                 json_object_get_string(avalue));
			return false;
		}
		return true;
	}
	if (json_object_get_type(expected) != json_object_get_type(actual)) {
		*why = xasprintf("%s: expected %s, got %s", shown,
		                 json_type_to_name(json_object_get_type(expected)),
		                 json_type_to_name(json_object_get_type(actual)));
		return false;
	}
	if (json_object_is_type(expected, json_type_array)) {
		size_t n = json_object_array_length(expected);

		if (n != json_object_array_length(actual)) {
			*why = xasprintf("%s: expected %zu elements, got %zu", shown, n,
			                 json_object_array_length(actual));
			return false;
		}
		for (size_t i = 0; i < n; i++) {
			cleanup_free char *sub = xasprintf("%s[%zu]", path, i);

			if (!compare(json_object_array_get_idx(expected, i),
			             json_object_array_get_idx(actual, i), sub, why))
				return false;
		}
		return true;
	}
	if (json_object_is_type(expected, json_type_object)) {
		json_object_object_foreach(expected, key, evalue_it)
		{
			cleanup_free char *sub = xasprintf("%s%s%s", path, *path ? "." : "", key);
			struct json_object *avalue_it;

			if (!json_object_object_get_ex(actual, key, &avalue_it)) {
				*why = xasprintf("%s: missing", sub);
				return false;
			}
			if (!compare(evalue_it, avalue_it, sub, why))
				return false;
		}
		json_object_object_foreach(actual, akey, unused)
		{
			(void)unused;
			if (!json_object_object_get_ex(expected, akey, NULL)) {
				*why = xasprintf("%s%s%s: not expected", path, *path ? "." : "",
				                 akey);
				return false;
			}
		}
		return true;
	}
	if (!json_object_equal(expected, actual)) {
		*why = xasprintf("%s: expected %s, got %s", shown,
		                 json_object_to_json_string(expected),
		                 json_object_to_json_string(actual));
		return false;
	}
	return true;
}

bool toml_tagged_json_equal(struct json_object *expected, struct json_object *actual, char **why)
{
	*why = NULL;
	return compare(expected, actual, "", why);
}
