/* Typed values out of the TOML tree, with errors naming FILE:LINE and the key. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config_internal.h"

_Static_assert(sizeof(enum kata_accelerator) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum kata_shared_fs) == sizeof(int), "enums are stored as int");
_Static_assert(sizeof(enum kata_agent_dialect) == sizeof(int), "enums are stored as int");

__attribute__((format(printf, 5, 0))) static int key_errorv(const struct config_section *sec,
                                                            int line, const char *key,
                                                            kata_error_t *err, const char *fmt,
                                                            va_list ap)
{
	cleanup_free char *message = NULL;

	if (vasprintf(&message, fmt, ap) < 0)
		abort();
	if (line > 0)
		return kata_error_set(err, EINVAL, "%s:%d: key `%s.%s`: %s", sec->file, line,
		                      sec->name, key, message);
	return kata_error_set(err, EINVAL, "%s: key `%s.%s`: %s", sec->file, sec->name, key,
	                      message);
}

int config_key_error(const struct config_section *sec, const struct toml_entry *entry,
                     kata_error_t *err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	key_errorv(sec, entry->line, entry->key, err, fmt, ap);
	va_end(ap);
	return -1;
}

int config_missing_key_error(const struct config_section *sec, const char *key, kata_error_t *err,
                             const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	key_errorv(sec, sec->line, key, err, fmt, ap);
	va_end(ap);
	return -1;
}

const char *config_type_label(enum toml_type type)
{
	switch (type) {
	case TOML_STRING:
		return "a string";
	case TOML_INTEGER:
		return "an integer";
	case TOML_FLOAT:
		return "a float";
	case TOML_BOOLEAN:
		return "a boolean";
	case TOML_OFFSET_DATETIME:
	case TOML_LOCAL_DATETIME:
		return "a date-time";
	case TOML_LOCAL_DATE:
		return "a date";
	case TOML_LOCAL_TIME:
		return "a time";
	case TOML_ARRAY:
		return "an array";
	case TOML_TABLE:
		return "a table";
	}
	return "an unknown value";
}

static int expect_type(const struct config_section *sec, const struct toml_entry *entry,
                       enum toml_type type, kata_error_t *err)
{
	if (entry->value->type == type)
		return 0;
	return config_key_error(sec, entry, err, "expected %s, got %s", config_type_label(type),
	                        config_type_label(entry->value->type));
}

/* Keys end up in messages, logs and command lines: no NUL or control bytes inside. */
static int check_printable(const struct config_section *sec, const struct toml_entry *entry,
                           const char *s, size_t len, kata_error_t *err)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f)
			return config_key_error(sec, entry, err,
			                        "control character 0x%02x in the value", c);
	}
	return 0;
}

int config_read_string(const struct config_section *sec, const struct toml_entry *entry, char **out,
                       kata_error_t *err)
{
	const struct toml_value *v = entry->value;

	if (expect_type(sec, entry, TOML_STRING, err) < 0)
		return -1;
	if (check_printable(sec, entry, v->u.string.data, v->u.string.len, err) < 0)
		return -1;
	*out = xstrndup(v->u.string.data, v->u.string.len);
	return 0;
}

int config_read_bool(const struct config_section *sec, const struct toml_entry *entry, bool *out,
                     kata_error_t *err)
{
	if (expect_type(sec, entry, TOML_BOOLEAN, err) < 0)
		return -1;
	*out = entry->value->u.boolean;
	return 0;
}

int config_read_int(const struct config_section *sec, const struct toml_entry *entry, int64_t min,
                    int64_t max, int64_t *out, kata_error_t *err)
{
	int64_t value;

	if (expect_type(sec, entry, TOML_INTEGER, err) < 0)
		return -1;
	value = entry->value->u.integer;
	if (value < min || value > max)
		return config_key_error(sec, entry, err,
		                        "%" PRId64 " is out of range (%" PRId64 "..%" PRId64 ")",
		                        value, min, max);
	*out = value;
	return 0;
}

int config_read_strv(const struct config_section *sec, const struct toml_entry *entry, char ***out,
                     kata_error_t *err)
{
	const struct toml_value *v = entry->value;
	cleanup_strv char **strv = NULL;

	if (expect_type(sec, entry, TOML_ARRAY, err) < 0)
		return -1;
	strv = xcalloc(v->u.array.len + 1, sizeof(char *));
	for (size_t i = 0; i < v->u.array.len; i++) {
		const struct toml_value *item = v->u.array.items[i];
		if (item->type != TOML_STRING)
			return config_key_error(sec, entry, err,
			                        "item %zu: expected a string, got %s", i,
			                        config_type_label(item->type));
		if (check_printable(sec, entry, item->u.string.data, item->u.string.len, err) < 0)
			return -1;
		strv[i] = xstrndup(item->u.string.data, item->u.string.len);
	}
	*out = steal_pointer(&strv);
	return 0;
}

int config_read_choice(const struct config_section *sec, const struct toml_entry *entry,
                       const char *const *choices, int *out, kata_error_t *err)
{
	cleanup_free char *value = NULL;
	char allowed[256] = "";
	size_t used = 0;

	if (config_read_string(sec, entry, &value, err) < 0)
		return -1;
	for (int i = 0; choices[i] != NULL; i++) {
		if (strcmp(value, choices[i]) == 0) {
			*out = i;
			return 0;
		}
		int n = snprintf(allowed + used, sizeof(allowed) - used, "%s\"%s\"",
		                 i == 0 ? "" : ", ", choices[i]);
		if (n > 0 && (size_t)n < sizeof(allowed) - used)
			used += (size_t)n;
	}
	return config_key_error(sec, entry, err, "invalid value \"%s\" (expected one of %s)", value,
	                        allowed);
}

int config_read_path(const struct config_section *sec, const struct toml_entry *entry, char **out,
                     kata_error_t *err)
{
	cleanup_free char *value = NULL;

	if (config_read_string(sec, entry, &value, err) < 0)
		return -1;
	if (value[0] == '\0') {
		*out = NULL;
		return 0;
	}
	if (value[0] != '/')
		return config_key_error(sec, entry, err, "\"%s\" is not an absolute path", value);
	*out = steal_pointer(&value);
	return 0;
}

static const struct config_key *find_key(const struct config_key *keys, const char *name)
{
	for (; keys->name != NULL; keys++)
		if (strcmp(keys->name, name) == 0)
			return keys;
	return NULL;
}

static int read_key(const struct config_section *sec, const struct toml_entry *entry,
                    const struct config_key *key, void *base, kata_error_t *err)
{
	void *field = key->offset == CONFIG_IGNORED ? NULL : (char *)base + key->offset;
	char *s = NULL;
	char **strv = NULL;
	bool b;
	int64_t n;
	int index;

	switch (key->kind) {
	case CONFIG_STRING:
	case CONFIG_PATH:
		if ((key->kind == CONFIG_PATH ? config_read_path(sec, entry, &s, err)
		                              : config_read_string(sec, entry, &s, err)) < 0)
			return -1;
		if (field == NULL || s == NULL) {
			free(s); /* ignored, or "" for a path: the default stays */
			return 0;
		}
		free(*(char **)field);
		*(char **)field = s;
		return 0;
	case CONFIG_BOOL:
		if (config_read_bool(sec, entry, &b, err) < 0)
			return -1;
		if (field != NULL)
			*(bool *)field = b;
		return 0;
	case CONFIG_U32:
		if (config_read_int(sec, entry, 0, UINT32_MAX, &n, err) < 0)
			return -1;
		if (field != NULL)
			*(uint32_t *)field = (uint32_t)n;
		return 0;
	case CONFIG_STRV:
		if (config_read_strv(sec, entry, &strv, err) < 0)
			return -1;
		if (field == NULL) {
			strv_free(strv);
			return 0;
		}
		strv_free(*(char ***)field);
		*(char ***)field = strv;
		return 0;
	case CONFIG_CHOICE:
	case CONFIG_ENUM:
		if (config_read_choice(sec, entry, key->choices, &index, err) < 0)
			return -1;
		if (field == NULL)
			return 0;
		if (key->kind == CONFIG_ENUM) {
			*(int *)field = index;
		} else {
			free(*(char **)field);
			*(char **)field = xstrdup(key->choices[index]);
		}
		return 0;
	case CONFIG_CUSTOM:
		return 0;
	}
	return config_key_error(sec, entry, err, "internal error: unknown kind");
}

int config_read_section(const struct config_section *sec, const struct config_key *keys, void *base,
                        kata_error_t *err)
{
	if (sec->table == NULL)
		return 0;
	for (size_t i = 0; i < sec->table->u.table.len; i++) {
		const struct toml_entry *entry = &sec->table->u.table.entries[i];
		const struct config_key *key = find_key(keys, entry->key);

		if (key == NULL) {
			if (entry->value->type == TOML_TABLE)
				return config_key_error(sec, entry, err, "unknown table");
			return config_key_error(sec, entry, err, "unknown key");
		}
		if (read_key(sec, entry, key, base, err) < 0)
			return -1;
	}
	return 0;
}

unsigned int config_host_cpus(void)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	return n > 0 ? (unsigned int)n : 1;
}

uint64_t config_host_memory_mib(void)
{
	cleanup_fclose FILE *f = fopen("/proc/meminfo", "re");
	char line[256];
	unsigned long long kib;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			return kib / 1024;
	return 0; /* unknown: no upper bound */
}

char *config_read_file(const char *path, size_t max, size_t *len, kata_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	cleanup_free char *data = NULL;
	struct stat st;
	size_t used = 0;

	if (fd < 0 || fstat(fd, &st) < 0) {
		kata_error_sys(err, "%s", path);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		kata_error_set(err, EINVAL, "%s: not a regular file", path);
		return NULL;
	}
	data = xmalloc(max + 1);
	for (;;) {
		ssize_t n = read(fd, data + used, max + 1 - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			kata_error_sys(err, "%s", path);
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			kata_error_set(err, EFBIG, "%s: larger than %zu bytes", path, max);
			return NULL;
		}
	}
	data[used] = '\0';
	*len = used;
	return steal_pointer(&data);
}
