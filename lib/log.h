/* Logging for every program: levels, text or JSON lines, to stderr or to a file
 * (--log). The debug level is switched on by --debug or the configuration. */
#ifndef KATA_LOG_H
#define KATA_LOG_H

#include "error.h"

enum kata_log_level { KATA_LOG_ERROR = 0, KATA_LOG_WARNING, KATA_LOG_INFO, KATA_LOG_DEBUG };
enum kata_log_format { KATA_LOG_TEXT = 0, KATA_LOG_JSON };

/* component: "kata-runtime", "kata-proxy", ...; path NULL means stderr. */
int kata_log_init(const char *component, const char *path, enum kata_log_format format,
                  enum kata_log_level level, kata_error_t *err);
void kata_log_set_level(enum kata_log_level level);
enum kata_log_level kata_log_get_level(void);
/* Adds a field to every later record (e.g. "container", id); NULL value removes it. */
void kata_log_set_field(const char *key, const char *value);
int kata_log_parse_format(const char *name, enum kata_log_format *format, kata_error_t *err);
int kata_log_parse_level(const char *name, enum kata_log_level *level, kata_error_t *err);
void kata_log_close(void);

void kata_log(enum kata_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));

#define log_error(...)   kata_log(KATA_LOG_ERROR, __VA_ARGS__)
#define log_warning(...) kata_log(KATA_LOG_WARNING, __VA_ARGS__)
#define log_info(...)    kata_log(KATA_LOG_INFO, __VA_ARGS__)
#define log_debug(...)   kata_log(KATA_LOG_DEBUG, __VA_ARGS__)

#endif
