/* The OCI runtime specification's config.json (v1.0.2, the fields runc 1.1 reads), as
 * typed C structures, read from and written back to JSON (docs/oci-spec.md).
 *
 * Conventions:
 * - Strings are owned, NULL when the field is absent.
 * - String lists are NULL-terminated vectors (char **), NULL when absent; an empty JSON
 *   array is a vector holding only NULL, so presence survives a round trip.
 * - String maps (annotations, sysctl, unified) are vectors of pairs:
 *   key0, value0, key1, value1, ..., NULL, in document order.
 * - Arrays of structures are a pointer plus a count (n_*).
 * - Optional scalars (Go's pointers in runtime-spec's specs-go) have a has_* flag.
 * - Optional sub-objects are pointers, NULL when absent.
 * Unknown keys are ignored, as runc does; a known key of the wrong type is an error that
 * names its path: "process.args[2]: expected a string, got an integer".
 */
#ifndef KATA_OCI_SPEC_H
#define KATA_OCI_SPEC_H

#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A config.json larger than this is refused. */
#define OCI_SPEC_MAX_SIZE (16u * 1024 * 1024)

/* --- process ------------------------------------------------------------------------- */

struct oci_user {
	uint32_t uid;
	uint32_t gid;
	bool has_umask;
	uint32_t umask;
	uint32_t *additional_gids; /* NULL when absent */
	size_t n_additional_gids;
	char *username;
};

struct oci_capabilities {
	char **bounding; /* "CAP_KILL", ...: names are not checked here */
	char **effective;
	char **inheritable;
	char **permitted;
	char **ambient;
};

struct oci_rlimit {
	char *type;   /* "RLIMIT_NOFILE", ...: validated */
	int resource; /* the matching RLIMIT_* number */
	uint64_t hard;
	uint64_t soft; /* <= hard */
};

struct oci_process {
	bool terminal;
	bool has_console_size; /* height and width fit a struct winsize */
	uint32_t console_height;
	uint32_t console_width;
	struct oci_user user;
	char **args; /* non-empty */
	char **env;
	char *cwd; /* absolute */
	struct oci_capabilities *capabilities;
	struct oci_rlimit *rlimits;
	size_t n_rlimits;
	bool no_new_privileges;
	char *apparmor_profile;
	bool has_oom_score_adj;
	int32_t oom_score_adj; /* -1000..1000 */
	char *selinux_label;
};

/* --- root, mounts, hooks ----------------------------------------------------------------- */

struct oci_root {
	char *path; /* required, relative to the bundle or absolute */
	bool readonly;
};

struct oci_mount {
	char *destination; /* absolute */
	char *type;
	char *source;
	char **options;
};

struct oci_hook {
	char *path; /* absolute */
	char **args;
	char **env;
	bool has_timeout;
	int32_t timeout; /* seconds, > 0 */
};

enum oci_hook_kind {
	OCI_HOOK_PRESTART = 0,
	OCI_HOOK_CREATE_RUNTIME,
	OCI_HOOK_CREATE_CONTAINER,
	OCI_HOOK_START_CONTAINER,
	OCI_HOOK_POSTSTART,
	OCI_HOOK_POSTSTOP,
	OCI_HOOK_KINDS
};

struct oci_hook_list {
	bool present; /* the key was there (perhaps as []) */
	struct oci_hook *hooks;
	size_t n_hooks;
};

struct oci_hooks {
	struct oci_hook_list lists[OCI_HOOK_KINDS];
};

/* "prestart", "createRuntime", ...; NULL for an invalid kind. */
const char *oci_hook_kind_name(enum oci_hook_kind kind);

/* --- linux --------------------------------------------------------------------------------- */

enum oci_namespace_type {
	OCI_NS_PID = 0,
	OCI_NS_NETWORK,
	OCI_NS_MOUNT,
	OCI_NS_IPC,
	OCI_NS_UTS,
	OCI_NS_USER,
	OCI_NS_CGROUP,
	OCI_NS_TYPES
};

struct oci_namespace {
	enum oci_namespace_type type; /* each type at most once */
	char *path;                   /* join this namespace instead of creating one */
};

/* "pid", "network", ...; NULL for an invalid type. */
const char *oci_namespace_type_name(enum oci_namespace_type type);
/* CLONE_NEWPID, ...; 0 for an invalid type. */
int oci_namespace_clone_flag(enum oci_namespace_type type);

struct oci_id_mapping {
	uint32_t container_id;
	uint32_t host_id;
	uint32_t size;
};

/* A device node to create in the container. */
struct oci_device {
	char *path; /* absolute */
	char *type; /* "c", "b", "u" or "p" */
	int64_t major;
	int64_t minor;
	bool has_file_mode;
	uint32_t file_mode;
	bool has_uid;
	uint32_t uid;
	bool has_gid;
	uint32_t gid;
};

/* One rule of the devices cgroup. */
struct oci_device_rule {
	bool allow;
	char *type; /* "a", "c", "b" or NULL (all) */
	bool has_major;
	int64_t major;
	bool has_minor;
	int64_t minor;
	char *access; /* letters of "rwm", or NULL */
};

struct oci_memory {
	bool has_limit;
	int64_t limit;
	bool has_reservation;
	int64_t reservation;
	bool has_swap;
	int64_t swap;
	bool has_kernel;
	int64_t kernel;
	bool has_kernel_tcp;
	int64_t kernel_tcp;
	bool has_swappiness;
	uint64_t swappiness;
	bool has_disable_oom_killer;
	bool disable_oom_killer;
};

struct oci_cpu {
	bool has_shares;
	uint64_t shares;
	bool has_quota;
	int64_t quota;
	bool has_period;
	uint64_t period;
	bool has_realtime_runtime;
	int64_t realtime_runtime;
	bool has_realtime_period;
	uint64_t realtime_period;
	char *cpus;
	char *mems;
};

struct oci_pids {
	int64_t limit;
};

struct oci_block_io {
	bool has_weight;
	uint16_t weight;
	bool has_leaf_weight;
	uint16_t leaf_weight;
};

struct oci_resources {
	struct oci_device_rule *devices;
	size_t n_devices;
	bool devices_present;
	struct oci_memory *memory;
	struct oci_cpu *cpu;
	struct oci_pids *pids;
	struct oci_block_io *block_io;
	char **unified; /* cgroup v2 files: pairs */
};

enum oci_seccomp_action {
	OCI_SECCOMP_KILL = 0, /* SCMP_ACT_KILL (the thread) */
	OCI_SECCOMP_KILL_PROCESS,
	OCI_SECCOMP_KILL_THREAD,
	OCI_SECCOMP_TRAP,
	OCI_SECCOMP_ERRNO,
	OCI_SECCOMP_TRACE,
	OCI_SECCOMP_ALLOW,
	OCI_SECCOMP_LOG,
	OCI_SECCOMP_NOTIFY,
	OCI_SECCOMP_ACTIONS
};

enum oci_seccomp_op {
	OCI_SECCOMP_OP_NE = 0,
	OCI_SECCOMP_OP_LT,
	OCI_SECCOMP_OP_LE,
	OCI_SECCOMP_OP_EQ,
	OCI_SECCOMP_OP_GE,
	OCI_SECCOMP_OP_GT,
	OCI_SECCOMP_OP_MASKED_EQ,
	OCI_SECCOMP_OPS
};

/* "SCMP_ACT_ALLOW", "SCMP_CMP_EQ", ...; NULL when invalid. */
const char *oci_seccomp_action_name(enum oci_seccomp_action action);
const char *oci_seccomp_op_name(enum oci_seccomp_op op);

struct oci_seccomp_arg {
	uint32_t index; /* 0..5 */
	uint64_t value;
	uint64_t value_two;
	enum oci_seccomp_op op;
};

struct oci_seccomp_syscall {
	char **names; /* non-empty */
	enum oci_seccomp_action action;
	bool has_errno_ret;
	uint32_t errno_ret;
	struct oci_seccomp_arg *args;
	size_t n_args;
};

struct oci_seccomp {
	enum oci_seccomp_action default_action;
	bool has_default_errno_ret;
	uint32_t default_errno_ret;
	char **architectures; /* "SCMP_ARCH_X86_64", ... */
	char **flags;         /* "SECCOMP_FILTER_FLAG_LOG", ... */
	char *listener_path;
	char *listener_metadata;
	struct oci_seccomp_syscall *syscalls;
	size_t n_syscalls;
};

struct oci_linux {
	struct oci_id_mapping *uid_mappings;
	size_t n_uid_mappings;
	struct oci_id_mapping *gid_mappings;
	size_t n_gid_mappings;
	char **sysctl; /* pairs */
	struct oci_resources *resources;
	char *cgroups_path;
	struct oci_namespace *namespaces;
	size_t n_namespaces;
	struct oci_device *devices;
	size_t n_devices;
	struct oci_seccomp *seccomp;
	char *rootfs_propagation; /* "private", "rslave", ... or NULL */
	char **masked_paths;
	char **readonly_paths;
	char *mount_label;
};

/* --- the whole spec -------------------------------------------------------------------------- */

struct oci_spec {
	char *oci_version;
	struct oci_process *process;
	struct oci_root *root;
	char *hostname;
	struct oci_mount *mounts;
	size_t n_mounts;
	struct oci_hooks *hooks;
	char **annotations; /* pairs */
	/* Named so because `linux` is a predefined macro under -std=gnu11. */
	struct oci_linux *linux_spec;
};

/* Readers. Errors name the field's path; oci_spec_load prefixes the file's path. */
struct oci_spec *oci_spec_load(const char *path, kata_error_t *err);
struct oci_spec *oci_spec_parse(const char *json_text, size_t len, kata_error_t *err);
struct oci_spec *oci_spec_from_json(json_object *obj, kata_error_t *err);
/* A lone process, as in `runc exec --process process.json`. */
struct oci_process *oci_process_from_json(json_object *obj, kata_error_t *err);
struct oci_process *oci_process_load(const char *path, kata_error_t *err);

/* Writers: new objects (the caller puts them). What the structures hold survives
 * oci_spec_from_json(oci_spec_to_json(spec)) unchanged. */
json_object *oci_spec_to_json(const struct oci_spec *spec);
json_object *oci_process_to_json(const struct oci_process *process);

/* The config.json that `runc spec` (or `runc spec --rootless`) writes, for
 * `kata-runtime spec`. The rootless one maps the caller's euid/egid to root. */
json_object *oci_spec_default(bool rootless);

/* Look-ups. */
const char *oci_spec_annotation(const struct oci_spec *spec, const char *key);
const struct oci_namespace *oci_spec_namespace(const struct oci_spec *spec,
                                               enum oci_namespace_type type);
/* The RLIMIT_* number of "RLIMIT_NOFILE" etc., or -1. */
int oci_rlimit_resource(const char *name);

void oci_spec_free(struct oci_spec *spec);
void oci_process_free(struct oci_process *process);
void oci_spec_freep(struct oci_spec **spec);
void oci_process_freep(struct oci_process **process);
#define cleanup_oci_spec    __attribute__((cleanup(oci_spec_freep)))
#define cleanup_oci_process __attribute__((cleanup(oci_process_freep)))

#endif
