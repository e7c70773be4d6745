/* Shared between the oci_spec*.c files only: reading helpers and the per-area readers,
 * writers and destructors. */
#ifndef KATA_OCI_SPEC_INTERNAL_H
#define KATA_OCI_SPEC_INTERNAL_H

#include "oci_spec.h"
#include "json_util.h"

#include <stdbool.h>

/* Turns a json_get_* result into a has_* flag: returns -1 on error, else 0. */
static inline int oci_optional(int result, bool *has)
{
	if (result < 0)
		return -1;
	*has = result > 0;
	return 0;
}

/* "path: message", with EINVAL. Returns -1. */
int oci_invalid(kata_error_t *err, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

/* Index of name in names[0..n), or -1. */
int oci_name_index(const char *name, const char *const *names, size_t n);

int oci_check_absolute(const char *value, const char *path, kata_error_t *err);

/* Reads obj[key], an array of objects, into a new array of n elements of `size` bytes,
 * each filled by read() from its zeroed state. Returns 1 present, 0 absent, -1 error
 * (then what was read is freed). */
typedef int (*oci_element_reader)(json_object *value, const char *path, void *element,
                                  kata_error_t *err);
/* Frees what an element holds, not the element itself. */
typedef void (*oci_element_free)(void *element);
int oci_read_array(json_object *obj, const char *key, const char *path, size_t size,
                   oci_element_reader read, oci_element_free free_element, void **out, size_t *n,
                   kata_error_t *err);
void oci_free_array(void *array, size_t n, size_t size, oci_element_free free_element);

/* Reads obj[key] as an object into a new zeroed structure of `size` bytes. */
int oci_read_object(json_object *obj, const char *key, const char *path, size_t size,
                    oci_element_reader read, oci_element_free free_element, void **out,
                    kata_error_t *err);

void oci_add_bool(json_object *obj, const char *key, bool value);
void oci_add_int64(json_object *obj, const char *key, int64_t value);
void oci_add_uint64(json_object *obj, const char *key, uint64_t value);

/* Per area. Readers take an object value at `path` and a zeroed structure. */
int oci_read_process(json_object *value, const char *path, void *process, kata_error_t *err);
void oci_process_clear(void *process);

int oci_read_linux(json_object *value, const char *path, void *linux_spec, kata_error_t *err);
void oci_linux_clear(void *linux_spec);
json_object *oci_linux_to_json(const struct oci_linux *linux_spec);

int oci_read_resources(json_object *value, const char *path, void *resources, kata_error_t *err);
void oci_resources_clear(void *resources);
json_object *oci_resources_to_json(const struct oci_resources *resources);

int oci_read_seccomp(json_object *value, const char *path, void *seccomp, kata_error_t *err);
void oci_seccomp_clear(void *seccomp);
json_object *oci_seccomp_to_json(const struct oci_seccomp *seccomp);

#endif
