/* The OCI spec's linux.seccomp: actions and operators are checked against the names
 * libseccomp knows; syscall and architecture names are left to the agent's libseccomp. */
#include "oci_spec.h"
#include "oci_spec_internal.h"
#include "cleanup.h"

#include <stdlib.h>

/* A syscall has six arguments. */
#define SECCOMP_ARGS_MAX 6

static const char *const action_names[OCI_SECCOMP_ACTIONS] = {
	[OCI_SECCOMP_KILL] = "SCMP_ACT_KILL",
	[OCI_SECCOMP_KILL_PROCESS] = "SCMP_ACT_KILL_PROCESS",
	[OCI_SECCOMP_KILL_THREAD] = "SCMP_ACT_KILL_THREAD",
	[OCI_SECCOMP_TRAP] = "SCMP_ACT_TRAP",
	[OCI_SECCOMP_ERRNO] = "SCMP_ACT_ERRNO",
	[OCI_SECCOMP_TRACE] = "SCMP_ACT_TRACE",
	[OCI_SECCOMP_ALLOW] = "SCMP_ACT_ALLOW",
	[OCI_SECCOMP_LOG] = "SCMP_ACT_LOG",
	[OCI_SECCOMP_NOTIFY] = "SCMP_ACT_NOTIFY",
};

static const char *const op_names[OCI_SECCOMP_OPS] = {
	[OCI_SECCOMP_OP_NE] = "SCMP_CMP_NE",
	[OCI_SECCOMP_OP_LT] = "SCMP_CMP_LT",
	[OCI_SECCOMP_OP_LE] = "SCMP_CMP_LE",
	[OCI_SECCOMP_OP_EQ] = "SCMP_CMP_EQ",
	[OCI_SECCOMP_OP_GE] = "SCMP_CMP_GE",
	[OCI_SECCOMP_OP_GT] = "SCMP_CMP_GT",
	[OCI_SECCOMP_OP_MASKED_EQ] = "SCMP_CMP_MASKED_EQ",
};

const char *oci_seccomp_action_name(enum oci_seccomp_action action)
{
	if ((unsigned)action >= OCI_SECCOMP_ACTIONS)
		return NULL;
	return action_names[action];
}

const char *oci_seccomp_op_name(enum oci_seccomp_op op)
{
	if ((unsigned)op >= OCI_SECCOMP_OPS)
		return NULL;
	return op_names[op];
}

/* Reads obj[key], a required name from `names`, into *index. */
static int read_enum(json_object *obj, const char *key, const char *path, const char *const *names,
                     size_t n, int *index, kata_error_t *err)
{
	cleanup_free char *name = NULL;

	if (json_get_string(obj, key, path, true, &name, err) < 0)
		return -1;
	*index = oci_name_index(name, names, n);
	if (*index < 0) {
		cleanup_free char *p = json_path_key(path, key);

		return oci_invalid(err, p, "unknown value \"%s\"", name);
	}
	return 0;
}

static int read_arg(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_seccomp_arg *arg = element;
	int op;

	if (json_get_uint32(value, "index", path, true, &arg->index, err) < 0 ||
	    json_get_uint64(value, "value", path, true, &arg->value, err) < 0 ||
	    json_get_uint64(value, "valueTwo", path, false, &arg->value_two, err) < 0 ||
	    read_enum(value, "op", path, op_names, OCI_SECCOMP_OPS, &op, err) < 0)
		return -1;
	arg->op = (enum oci_seccomp_op)op;
	if (arg->index >= SECCOMP_ARGS_MAX) {
		cleanup_free char *p = json_path_key(path, "index");

		return oci_invalid(err, p, "%u is not an argument index (0..%d)", arg->index,
		                   SECCOMP_ARGS_MAX - 1);
	}
	return 0;
}

static void clear_arg(void *element)
{
}

static int read_syscall(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_seccomp_syscall *sc = element;
	void *p = NULL;
	int action;

	if (json_get_string_array(value, "names", path, true, &sc->names, err) < 0 ||
	    read_enum(value, "action", path, action_names, OCI_SECCOMP_ACTIONS, &action, err) < 0 ||
	    oci_optional(json_get_uint32(value, "errnoRet", path, false, &sc->errno_ret, err),
	                 &sc->has_errno_ret) < 0)
		return -1;
	sc->action = (enum oci_seccomp_action)action;
	if (sc->names[0] == NULL) {
		cleanup_free char *names_path = json_path_key(path, "names");

		return oci_invalid(err, names_path, "must not be empty");
	}
	if (oci_read_array(value, "args", path, sizeof(struct oci_seccomp_arg), read_arg, clear_arg,
	                   &p, &sc->n_args, err) < 0)
		return -1;
	sc->args = p;
	return 0;
}

static void clear_syscall(void *element)
{
	struct oci_seccomp_syscall *sc = element;

	strv_free(sc->names);
	free(sc->args);
}

int oci_read_seccomp(json_object *value, const char *path, void *element, kata_error_t *err)
{
	struct oci_seccomp *s = element;
	void *p = NULL;
	int action;

	if (read_enum(value, "defaultAction", path, action_names, OCI_SECCOMP_ACTIONS, &action,
	              err) < 0 ||
	    oci_optional(json_get_uint32(value, "defaultErrnoRet", path, false,
	                                 &s->default_errno_ret, err),
	                 &s->has_default_errno_ret) < 0 ||
	    json_get_string_array(value, "architectures", path, false, &s->architectures, err) <
	            0 ||
	    json_get_string_array(value, "flags", path, false, &s->flags, err) < 0 ||
	    json_get_string(value, "listenerPath", path, false, &s->listener_path, err) < 0 ||
	    json_get_string(value, "listenerMetadata", path, false, &s->listener_metadata, err) < 0)
		return -1;
	s->default_action = (enum oci_seccomp_action)action;
	if (oci_read_array(value, "syscalls", path, sizeof(struct oci_seccomp_syscall),
	                   read_syscall, clear_syscall, &p, &s->n_syscalls, err) < 0)
		return -1;
	s->syscalls = p;
	return 0;
}

void oci_seccomp_clear(void *element)
{
	struct oci_seccomp *s = element;

	strv_free(s->architectures);
	strv_free(s->flags);
	free(s->listener_path);
	free(s->listener_metadata);
	oci_free_array(s->syscalls, s->n_syscalls, sizeof(struct oci_seccomp_syscall),
	               clear_syscall);
}

static json_object *syscall_to_json(const struct oci_seccomp_syscall *sc)
{
	json_object *obj = json_object_new_object();

	json_add_string_array(obj, "names", sc->names);
	json_add_string(obj, "action", oci_seccomp_action_name(sc->action));
	if (sc->has_errno_ret)
		oci_add_int64(obj, "errnoRet", sc->errno_ret);
	if (sc->args != NULL) {
		json_object *args = json_object_new_array();

		for (size_t i = 0; i < sc->n_args; i++) {
			json_object *a = json_object_new_object();

			oci_add_int64(a, "index", sc->args[i].index);
			oci_add_uint64(a, "value", sc->args[i].value);
			oci_add_uint64(a, "valueTwo", sc->args[i].value_two);
			json_add_string(a, "op", oci_seccomp_op_name(sc->args[i].op));
			json_object_array_add(args, a);
		}
		json_object_object_add(obj, "args", args);
	}
	return obj;
}

json_object *oci_seccomp_to_json(const struct oci_seccomp *s)
{
	json_object *obj = json_object_new_object();

	json_add_string(obj, "defaultAction", oci_seccomp_action_name(s->default_action));
	if (s->has_default_errno_ret)
		oci_add_int64(obj, "defaultErrnoRet", s->default_errno_ret);
	json_add_string_array(obj, "architectures", s->architectures);
	json_add_string_array(obj, "flags", s->flags);
	json_add_string(obj, "listenerPath", s->listener_path);
	json_add_string(obj, "listenerMetadata", s->listener_metadata);
	if (s->syscalls != NULL) {
		json_object *array = json_object_new_array();

		for (size_t i = 0; i < s->n_syscalls; i++)
			json_object_array_add(array, syscall_to_json(&s->syscalls[i]));
		json_object_object_add(obj, "syscalls", array);
	}
	return obj;
}
