#include "log.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define LOG_MAX_FIELDS 8

struct log_field {
	char *key;
	char *value;
};

static struct {
	char *component;
	int fd; /* -1: stderr */
	enum kata_log_format format;
	enum kata_log_level level;
	struct log_field fields[LOG_MAX_FIELDS];
} log_state = { .fd = -1, .level = KATA_LOG_WARNING };

static const char *const level_names[] = {
	[KATA_LOG_ERROR] = "error",
	[KATA_LOG_WARNING] = "warning",
	[KATA_LOG_INFO] = "info",
	[KATA_LOG_DEBUG] = "debug",
};

int kata_log_init(const char *component, const char *path, enum kata_log_format format,
                  enum kata_log_level level, kata_error_t *err)
{
	int fd = -1;

	if (path != NULL && path[0] != '\0' && strcmp(path, "-") != 0) {
		fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
		if (fd < 0)
			return kata_error_sys(err, "open log file `%s`", path);
	}
	kata_log_close();
	log_state.component = xstrdup(component);
	log_state.fd = fd;
	log_state.format = format;
	log_state.level = level;
	return 0;
}

void kata_log_set_level(enum kata_log_level level)
{
	log_state.level = level;
}

enum kata_log_level kata_log_get_level(void)
{
	return log_state.level;
}

void kata_log_set_field(const char *key, const char *value)
{
	struct log_field *free_slot = NULL;

	for (int i = 0; i < LOG_MAX_FIELDS; i++) {
		struct log_field *f = &log_state.fields[i];
		if (f->key != NULL && strcmp(f->key, key) == 0) {
			free(f->value);
			f->value = NULL;
			if (value != NULL) {
				f->value = xstrdup(value);
			} else {
				free(f->key);
				f->key = NULL;
			}
			return;
		}
		if (f->key == NULL && free_slot == NULL)
			free_slot = f;
	}
	if (value != NULL && free_slot != NULL) {
		free_slot->key = xstrdup(key);
		free_slot->value = xstrdup(value);
	}
}

int kata_log_parse_format(const char *name, enum kata_log_format *format, kata_error_t *err)
{
	if (strcmp(name, "text") == 0)
		*format = KATA_LOG_TEXT;
	else if (strcmp(name, "json") == 0)
		*format = KATA_LOG_JSON;
	else
		return kata_error_set(err, EINVAL, "unknown log format `%s` (text or json)", name);
	return 0;
}

int kata_log_parse_level(const char *name, enum kata_log_level *level, kata_error_t *err)
{
	for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level = (enum kata_log_level)i;
			return 0;
		}
	}
	return kata_error_set(err, EINVAL, "unknown log level `%s`", name);
}

void kata_log_close(void)
{
	if (log_state.fd >= 0)
		close(log_state.fd);
	log_state.fd = -1;
	free(log_state.component);
	log_state.component = NULL;
	for (int i = 0; i < LOG_MAX_FIELDS; i++) {
		free(log_state.fields[i].key);
		free(log_state.fields[i].value);
		log_state.fields[i].key = log_state.fields[i].value = NULL;
	}
}

static void format_time(char *buf, size_t size)
{
	struct timeval tv;
	struct tm tm;
	size_t n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, size - n, ".%06ldZ", (long)tv.tv_usec);
}

static char *format_json(const char *timestamp, enum kata_log_level level, const char *message)
{
	json_object *obj = json_object_new_object();
	char *line;

	json_object_object_add(obj, "time", json_object_new_string(timestamp));
	json_object_object_add(obj, "level", json_object_new_string(level_names[level]));
	json_object_object_add(obj, "source",
	                       json_object_new_string(log_state.component ?: "kata"));
	json_object_object_add(obj, "pid", json_object_new_int(getpid()));
	for (int i = 0; i < LOG_MAX_FIELDS; i++) {
		const struct log_field *f = &log_state.fields[i];
		if (f->key != NULL)
			json_object_object_add(obj, f->key, json_object_new_string(f->value));
	}
	json_object_object_add(obj, "msg", json_object_new_string(message));
	line = xasprintf("%s\n", json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN));
	json_object_put(obj);
	return line;
}

static char *format_text(const char *timestamp, enum kata_log_level level, const char *message)
{
	cleanup_free char *fields = xstrdup("");

	for (int i = 0; i < LOG_MAX_FIELDS; i++) {
		const struct log_field *f = &log_state.fields[i];
		if (f->key != NULL) {
			char *more = xasprintf("%s %s=%s", fields, f->key, f->value);
			free(fields);
			fields = more;
		}
	}
	return xasprintf("%s %s[%d] %s:%s %s\n", timestamp, log_state.component ?: "kata", getpid(),
	                 level_names[level], fields, message);
}

void kata_log(enum kata_log_level level, const char *fmt, ...)
{
	int saved_errno = errno;
	cleanup_free char *message = NULL;
	cleanup_free char *line = NULL;
	char timestamp[64];
	va_list ap;
	int fd;

	if (level > log_state.level)
		return;
	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		message = NULL;
	va_end(ap);
	if (message == NULL)
		return;
	format_time(timestamp, sizeof(timestamp));
	if (log_state.format == KATA_LOG_JSON)
		line = format_json(timestamp, level, message);
	else
		line = format_text(timestamp, level, message);
	fd = log_state.fd >= 0 ? log_state.fd : STDERR_FILENO;
	/* One write per record, so concurrent writers to an O_APPEND file do not interleave. */
	(void)!write(fd, line, strlen(line));
	errno = saved_errno;
}
