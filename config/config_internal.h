/* Internals of the typed configuration layer (config*.c): reading typed values out of
 * the TOML tree with errors that name FILE:LINE and the key's full dotted name. Nothing
 * outside config/ includes this. */
#ifndef KATA_CONFIG_INTERNAL_H
#define KATA_CONFIG_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "toml.h"

/* Where a table of the file is being read: everything an error message needs. */
struct config_section {
	const char *file;               /* the configuration file, for messages */
	const char *name;               /* dotted name of the table: "hypervisor.qemu" */
	const struct toml_value *table; /* NULL when the file has no such table */
	int line;                       /* where the table was opened (0: absent) */
};

/* "FILE:LINE: key `SECTION.KEY`: MESSAGE"; returns -1. */
int config_key_error(const struct config_section *sec, const struct toml_entry *entry,
                     kata_error_t *err, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* The same for a key that is absent (its default was wrong): names the table's line. */
int config_missing_key_error(const struct config_section *sec, const char *key, kata_error_t *err,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* "a string", "an integer", ... for type errors. */
const char *config_type_label(enum toml_type type);

/* Typed readers of one entry; each fails with a config_key_error. */
int config_read_string(const struct config_section *sec, const struct toml_entry *entry, char **out,
                       kata_error_t *err);
int config_read_bool(const struct config_section *sec, const struct toml_entry *entry, bool *out,
                     kata_error_t *err);
int config_read_int(const struct config_section *sec, const struct toml_entry *entry, int64_t min,
                    int64_t max, int64_t *out, kata_error_t *err);
int config_read_strv(const struct config_section *sec, const struct toml_entry *entry, char ***out,
                     kata_error_t *err);
/* A string that must be one of choices (NULL-terminated); *out is its index. */
int config_read_choice(const struct config_section *sec, const struct toml_entry *entry,
                       const char *const *choices, int *out, kata_error_t *err);
/* A string that is empty or an absolute path; *out is NULL for "". */
int config_read_path(const struct config_section *sec, const struct toml_entry *entry, char **out,
                     kata_error_t *err);

/* How a key of a table is read by config_read_section(). */
enum config_kind {
	CONFIG_STRING,
	CONFIG_PATH, /* absolute path; "" keeps the default */
	CONFIG_BOOL,
	CONFIG_U32,
	CONFIG_STRV,
	CONFIG_CHOICE, /* string from choices, stored as a copy */
	CONFIG_ENUM,   /* string from choices, stored as an int-sized enum: its index */
	CONFIG_CUSTOM, /* read by the caller after the walk */
};

#define CONFIG_IGNORED ((ptrdiff_t)-1)

struct config_key {
	const char *name;
	enum config_kind kind;
	ptrdiff_t offset; /* into the section's struct; CONFIG_IGNORED: type-checked only */
	const char *const *choices;
};

/* Reads every entry of sec->table by keys (NULL-name terminated) into base. An unknown
 * key, a wrong type or a value outside its choices is an error. */
int config_read_section(const struct config_section *sec, const struct config_key *keys, void *base,
                        kata_error_t *err);

/* Reads the one [hypervisor.qemu] or [hypervisor.libvirt] table into config->hypervisor
 * (config_hypervisor.c) and checks its values against this host. */
int config_read_hypervisor(struct kata_config *config, const char *file,
                           const struct toml_value *root, kata_error_t *err);

/* Host facts that bound the values (vCPUs, memory). */
unsigned int config_host_cpus(void);
uint64_t config_host_memory_mib(void);

/* Reads a whole regular file of at most max bytes (NUL-terminated). */
char *config_read_file(const char *path, size_t max, size_t *len, kata_error_t *err);

#endif
