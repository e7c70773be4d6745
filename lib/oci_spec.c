/* The OCI spec reader: the document, root, mounts, hooks, annotations; shared helpers.
 * The process and linux parts live in oci_spec_process.c and oci_spec_linux.c. */
#include "oci_spec.h"
#include "oci_spec_internal.h"
#include "cleanup.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* --- helpers shared by the oci_spec*.c files ---------------------------------------------- */

int oci_invalid(kata_error_t *err, const char *path, const char *fmt, ...)
{
	cleanup_free char *message = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&message, fmt, ap) < 0)
		abort();
	va_end(ap);
	return kata_error_set(err, EINVAL, "%s: %s", path, message);
}

int oci_name_index(const char *name, const char *const *names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(name, names[i]) == 0)
			return (int)i;
	return -1;
}

int oci_check_absolute(const char *value, const char *path, kata_error_t *err)
{
	if (value == NULL || value[0] != '/')
		return oci_invalid(err, path, "must be an absolute path, got \"%s\"",
		                   value != NULL ? value : "");
	return 0;
}

void oci_free_array(void *array, size_t n, size_t size, oci_element_free free_element)
{
	char *bytes = array;

	if (array == NULL)
		return;
	for (size_t i = 0; i < n; i++)
		free_element(bytes + i * size);
	free(array);
}

int oci_read_array(json_object *obj, const char *key, const char *path, size_t size,
                   oci_element_reader read, oci_element_free free_element, void **out, size_t *n,
                   kata_error_t *err)
{
	cleanup_free char *array_path = NULL;
	json_object *array;
	char *elements;
	size_t count;
	int r = json_get_array(obj, key, path, false, &array, err);

	if (r <= 0)
		return r;
	array_path = json_path_key(path, key);
	count = json_object_array_length(array);
	elements = xcalloc(count, size);
	for (size_t i = 0; i < count; i++) {
		cleanup_free char *element_path = json_path_index(array_path, i);
		json_object *value = json_object_array_get_idx(array, i);

		if (json_check_type(value, json_type_object, element_path, err) < 0 ||
		    read(value, element_path, elements + i * size, err) < 0) {
			oci_free_array(elements, i + 1, size, free_element);
			return -1;
		}
	}
	*out = elements;
	*n = count;
	return 1;
}

int oci_read_object(json_object *obj, const char *key, const char *path, size_t size,
                    oci_element_reader read, oci_element_free free_element, void **out,
                    kata_error_t *err)
{
	cleanup_free char *object_path = NULL;
	json_object *value;
	void *element;
	int r = json_get_object(obj, key, path, false, &value, err);

	if (r <= 0)
		return r;
	object_path = json_path_key(path, key);
	element = xzalloc(size);
	if (read(value, object_path, element, err) < 0) {
		free_element(element);
		free(element);
		return -1;
	}
	*out = element;
	return 1;
}

void oci_add_bool(json_object *obj, const char *key, bool value)
{
	json_object_object_add(obj, key, json_object_new_boolean(value));
}

void oci_add_int64(json_object *obj, const char *key, int64_t value)
{
	json_object_object_add(obj, key, json_object_new_int64(value));
}

void oci_add_uint64(json_object *obj, const char *key, uint64_t value)
{
	json_object_object_add(obj, key, json_object_new_uint64(value));
}

/* --- root ------------------------------------------------------------------------------------- */

static int read_root(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_root *root = element;

	if (json_get_string(value, "path", path, true, &root->path, err) < 0 ||
	    json_get_bool(value, "readonly", path, false, &root->readonly, err) < 0)
		return -1;
	if (root->path[0] == '\0')
		return oci_invalid(err, path, "path must not be empty");
	return 0;
}

static void clear_root(void *element)
{
	struct oci_root *root = element;

	free(root->path);
}

/* --- mounts ------------------------------------------------------------------------------------ */

static int read_mount(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_mount *mount = element;
	cleanup_free char *destination_path = json_path_key(path, "destination");

	if (json_get_string(value, "destination", path, true, &mount->destination, err) < 0 ||
	    json_get_string(value, "type", path, false, &mount->type, err) < 0 ||
	    json_get_string(value, "source", path, false, &mount->source, err) < 0 ||
	    json_get_string_array(value, "options", path, false, &mount->options, err) < 0)
		return -1;
	return oci_check_absolute(mount->destination, destination_path, err);
}

static void clear_mount(void *element)
{
	struct oci_mount *mount = element;

	free(mount->destination);
	free(mount->type);
	free(mount->source);
	strv_free(mount->options);
}

static json_object *mount_to_json(const struct oci_mount *mount)
{
	json_object *obj = json_object_new_object();

	json_add_string(obj, "destination", mount->destination);
	json_add_string(obj, "type", mount->type);
	json_add_string(obj, "source", mount->source);
	json_add_string_array(obj, "options", mount->options);
	return obj;
}

/* --- hooks -------------------------------------------------------------------------------------- */

static const char *const hook_kind_names[OCI_HOOK_KINDS] = {
	[OCI_HOOK_PRESTART] = "prestart",
	[OCI_HOOK_CREATE_RUNTIME] = "createRuntime",
	[OCI_HOOK_CREATE_CONTAINER] = "createContainer",
	[OCI_HOOK_START_CONTAINER] = "startContainer",
	[OCI_HOOK_POSTSTART] = "poststart",
	[OCI_HOOK_POSTSTOP] = "poststop",
};

const char *oci_hook_kind_name(enum oci_hook_kind kind)
{
	if ((unsigned)kind >= OCI_HOOK_KINDS)
		return NULL;
	return hook_kind_names[kind];
}

static int read_hook(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_hook *hook = element;
	cleanup_free char *hook_path = json_path_key(path, "path");
	cleanup_free char *timeout_path = json_path_key(path, "timeout");

	if (json_get_string(value, "path", path, true, &hook->path, err) < 0 ||
	    json_get_string_array(value, "args", path, false, &hook->args, err) < 0 ||
	    json_get_string_array(value, "env", path, false, &hook->env, err) < 0 ||
	    oci_optional(json_get_int32(value, "timeout", path, false, &hook->timeout, err),
	                 &hook->has_timeout) < 0)
		return -1;
	if (oci_check_absolute(hook->path, hook_path, err) < 0)
		return -1;
	if (hook->has_timeout && hook->timeout <= 0)
		return oci_invalid(err, timeout_path, "must be greater than zero, got %d",
		                   (int)hook->timeout);
	return 0;
}

static void clear_hook(void *element)
{
	struct oci_hook *hook = element;

	free(hook->path);
	strv_free(hook->args);
	strv_free(hook->env);
}

static int read_hooks(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_hooks *hooks = element;

	for (int kind = 0; kind < OCI_HOOK_KINDS; kind++) {
		struct oci_hook_list *list = &hooks->lists[kind];
		void *array = NULL;
		int r = oci_read_array(value, hook_kind_names[kind], path, sizeof(struct oci_hook),
		                       read_hook, clear_hook, &array, &list->n_hooks, err);

		if (r < 0)
			return -1;
		list->present = r > 0;
		list->hooks = array;
	}
	return 0;
}

static void clear_hooks(void *element)
{
	struct oci_hooks *hooks = element;

	for (int kind = 0; kind < OCI_HOOK_KINDS; kind++)
		oci_free_array(hooks->lists[kind].hooks, hooks->lists[kind].n_hooks,
		               sizeof(struct oci_hook), clear_hook);
}

static json_object *hooks_to_json(const struct oci_hooks *hooks)
{
	json_object *obj = json_object_new_object();

	for (int kind = 0; kind < OCI_HOOK_KINDS; kind++) {
		const struct oci_hook_list *list = &hooks->lists[kind];
		json_object *array;

		if (!list->present && list->n_hooks == 0)
			continue;
		array = json_object_new_array();
		for (size_t i = 0; i < list->n_hooks; i++) {
			const struct oci_hook *hook = &list->hooks[i];
			json_object *h = json_object_new_object();

			json_add_string(h, "path", hook->path);
			json_add_string_array(h, "args", hook->args);
			json_add_string_array(h, "env", hook->env);
			if (hook->has_timeout)
				oci_add_int64(h, "timeout", hook->timeout);
			json_object_array_add(array, h);
		}
		json_object_object_add(obj, hook_kind_names[kind], array);
	}
	return obj;
}

/* --- the document ---------------------------------------------------------------------------- */

static void clear_spec(struct oci_spec *spec)
{
	free(spec->oci_version);
	if (spec->process != NULL) {
		oci_process_clear(spec->process);
		free(spec->process);
	}
	if (spec->root != NULL) {
		clear_root(spec->root);
		free(spec->root);
	}
	free(spec->hostname);
	oci_free_array(spec->mounts, spec->n_mounts, sizeof(struct oci_mount), clear_mount);
	if (spec->hooks != NULL) {
		clear_hooks(spec->hooks);
		free(spec->hooks);
	}
	strv_free(spec->annotations);
	if (spec->linux_spec != NULL) {
		oci_linux_clear(spec->linux_spec);
		free(spec->linux_spec);
	}
}

void oci_spec_free(struct oci_spec *spec)
{
	if (spec == NULL)
		return;
	clear_spec(spec);
	free(spec);
}

void oci_spec_freep(struct oci_spec **spec)
{
	oci_spec_free(*spec);
	*spec = NULL;
}

void oci_process_free(struct oci_process *process)
{
	if (process == NULL)
		return;
	oci_process_clear(process);
	free(process);
}

void oci_process_freep(struct oci_process **process)
{
	oci_process_free(*process);
	*process = NULL;
}

static int read_spec(json_object *obj, struct oci_spec *spec, kata_error_t *err)
{
	void *p;

	if (json_check_type(obj, json_type_object, "", err) < 0 ||
	    json_get_string(obj, "ociVersion", "", false, &spec->oci_version, err) < 0 ||
	    json_get_string(obj, "hostname", "", false, &spec->hostname, err) < 0 ||
	    json_get_string_map(obj, "annotations", "", false, &spec->annotations, err) < 0)
		return -1;

	p = NULL;
	if (oci_read_object(obj, "process", "", sizeof(struct oci_process), oci_read_process,
	                    oci_process_clear, &p, err) < 0)
		return -1;
	spec->process = p;

	p = NULL;
	if (oci_read_object(obj, "root", "", sizeof(struct oci_root), read_root, clear_root, &p,
	                    err) < 0)
		return -1;
	spec->root = p;

	p = NULL;
	if (oci_read_array(obj, "mounts", "", sizeof(struct oci_mount), read_mount, clear_mount, &p,
	                   &spec->n_mounts, err) < 0)
		return -1;
	spec->mounts = p;

	p = NULL;
	if (oci_read_object(obj, "hooks", "", sizeof(struct oci_hooks), read_hooks, clear_hooks, &p,
	                    err) < 0)
		return -1;
	spec->hooks = p;

	p = NULL;
	if (oci_read_object(obj, "linux", "", sizeof(struct oci_linux), oci_read_linux,
	                    oci_linux_clear, &p, err) < 0)
		return -1;
	spec->linux_spec = p;
	return 0;
}

struct oci_spec *oci_spec_from_json(json_object *obj, kata_error_t *err)
{
	struct oci_spec *spec = xzalloc(sizeof(*spec));

	if (read_spec(obj, spec, err) < 0) {
		oci_spec_free(spec);
		return NULL;
	}
	return spec;
}

struct oci_spec *oci_spec_parse(const char *json_text, size_t len, kata_error_t *err)
{
	cleanup_json json_object *obj = NULL;

	if (len > OCI_SPEC_MAX_SIZE)
		return kata_error_set(err, EFBIG,
		                      "OCI spec of %zu bytes exceeds the limit of %u bytes", len,
		                      OCI_SPEC_MAX_SIZE),
		       NULL;
	obj = json_parse_text(json_text, len, err);
	if (obj == NULL)
		return NULL;
	return oci_spec_from_json(obj, err);
}

struct oci_spec *oci_spec_load(const char *path, kata_error_t *err)
{
	cleanup_json json_object *obj = json_parse_file(path, OCI_SPEC_MAX_SIZE, err);
	struct oci_spec *spec;

	if (obj == NULL)
		return NULL; /* json_parse_file names the file already */
	spec = oci_spec_from_json(obj, err);
	if (spec == NULL)
		return kata_error_wrap(err, "%s", path), NULL;
	return spec;
}

struct oci_process *oci_process_from_json(json_object *obj, kata_error_t *err)
{
	struct oci_process *process = xzalloc(sizeof(*process));

	if (json_check_type(obj, json_type_object, "process", err) < 0 ||
	    oci_read_process(obj, "process", process, err) < 0) {
		oci_process_free(process);
		return NULL;
	}
	return process;
}

struct oci_process *oci_process_load(const char *path, kata_error_t *err)
{
	cleanup_json json_object *obj = json_parse_file(path, OCI_SPEC_MAX_SIZE, err);
	struct oci_process *process;

	if (obj == NULL)
		return NULL;
	process = oci_process_from_json(obj, err);
	if (process == NULL)
		return kata_error_wrap(err, "%s", path), NULL;
	return process;
}

json_object *oci_spec_to_json(const struct oci_spec *spec)
{
	json_object *obj = json_object_new_object();

	json_add_string(obj, "ociVersion", spec->oci_version);
	if (spec->process != NULL)
		json_object_object_add(obj, "process", oci_process_to_json(spec->process));
	if (spec->root != NULL) {
		json_object *root = json_object_new_object();

		json_add_string(root, "path", spec->root->path);
		if (spec->root->readonly)
			oci_add_bool(root, "readonly", true);
		json_object_object_add(obj, "root", root);
	}
	json_add_string(obj, "hostname", spec->hostname);
	if (spec->mounts != NULL) {
		json_object *mounts = json_object_new_array();

		for (size_t i = 0; i < spec->n_mounts; i++)
			json_object_array_add(mounts, mount_to_json(&spec->mounts[i]));
		json_object_object_add(obj, "mounts", mounts);
	}
	if (spec->hooks != NULL)
		json_object_object_add(obj, "hooks", hooks_to_json(spec->hooks));
	json_add_string_map(obj, "annotations", spec->annotations);
	if (spec->linux_spec != NULL)
		json_object_object_add(obj, "linux", oci_linux_to_json(spec->linux_spec));
	return obj;
}

/* --- look-ups --------------------------------------------------------------------------------- */

const char *oci_spec_annotation(const struct oci_spec *spec, const char *key)
{
	if (spec == NULL || spec->annotations == NULL)
		return NULL;
	for (size_t i = 0; spec->annotations[i] != NULL && spec->annotations[i + 1] != NULL; i += 2)
		if (strcmp(spec->annotations[i], key) == 0)
			return spec->annotations[i + 1];
	return NULL;
}

const struct oci_namespace *oci_spec_namespace(const struct oci_spec *spec,
                                               enum oci_namespace_type type)
{
	if (spec == NULL || spec->linux_spec == NULL)
		return NULL;
	for (size_t i = 0; i < spec->linux_spec->n_namespaces; i++)
		if (spec->linux_spec->namespaces[i].type == type)
			return &spec->linux_spec->namespaces[i];
	return NULL;
}
