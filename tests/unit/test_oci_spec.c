/* lib/oci_spec: every field read, every wrong type named by its path, validation, round
 * trips, the runc-spec default, limits. Test data: tests/oci/ under KATA_TEST_SRCDIR. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "json_util.h"
#include "oci_spec.h"

static char *data_path(const char *name)
{
	const char *srcdir = getenv("KATA_TEST_SRCDIR");

	return xasprintf("%s/tests/oci/%s", srcdir != NULL ? srcdir : ".", name);
}

static struct oci_spec *load_data(const char *name)
{
	cleanup_free char *path = data_path(name);
	cleanup_error kata_error_t err = NULL;
	struct oci_spec *spec = oci_spec_load(path, &err);

	ck_assert_msg(spec != NULL, "%s: %s", name, err != NULL ? err->message : "?");
	return spec;
}

static json_object *load_json(const char *name)
{
	cleanup_free char *path = data_path(name);
	cleanup_error kata_error_t err = NULL;
	json_object *obj = json_parse_file(path, 0, &err);

	ck_assert_msg(obj != NULL, "%s: %s", name, err != NULL ? err->message : "?");
	return obj;
}

/* Parses text that must be refused; returns the message (caller frees). */
static char *spec_error(const char *text)
{
	kata_error_t err = NULL;
	struct oci_spec *spec = oci_spec_parse(text, strlen(text), &err);
	char *message;

	ck_assert_msg(spec == NULL, "accepted: %s", text);
	oci_spec_free(spec);
	ck_assert_ptr_nonnull(err);
	ck_assert(err->errno_value == EINVAL || err->errno_value == ERANGE);
	message = xstrdup(err->message);
	kata_error_free(&err);
	return message;
}

static void assert_strv(char **strv, const char *const *expected)
{
	size_t n = 0;

	ck_assert_ptr_nonnull(strv);
	for (; expected[n] != NULL; n++) {
		ck_assert_ptr_nonnull(strv[n]);
		ck_assert_str_eq(strv[n], expected[n]);
	}
	ck_assert_ptr_null(strv[n]);
}

#define STRV(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* --- every field ------------------------------------------------------------------------- */

START_TEST(test_full_process)
{
	cleanup_oci_spec struct oci_spec *spec = load_data("full.json");
	const struct oci_process *p = spec->process;

	ck_assert_str_eq(spec->oci_version, "1.0.2");
	ck_assert_ptr_nonnull(p);
	ck_assert(p->terminal);
	ck_assert(p->has_console_size);
	ck_assert_uint_eq(p->console_height, 25);
	ck_assert_uint_eq(p->console_width, 80);
	ck_assert_uint_eq(p->user.uid, 1000);
	ck_assert_uint_eq(p->user.gid, 1001);
	ck_assert(p->user.has_umask);
	ck_assert_uint_eq(p->user.umask, 022);
	ck_assert_uint_eq(p->user.n_additional_gids, 2);
	ck_assert_uint_eq(p->user.additional_gids[0], 5);
	ck_assert_uint_eq(p->user.additional_gids[1], 4294967295u);
	ck_assert_str_eq(p->user.username, "alice");
	assert_strv(p->args, STRV("/bin/sh", "-c", "echo hello"));
	assert_strv(p->env, STRV("PATH=/usr/bin:/bin", "TERM=xterm", "EMPTY="));
	ck_assert_str_eq(p->cwd, "/work");
	ck_assert_ptr_nonnull(p->capabilities);
	assert_strv(p->capabilities->bounding, STRV("CAP_KILL", "CAP_CHOWN"));
	assert_strv(p->capabilities->effective, STRV("CAP_KILL"));
	ck_assert_ptr_nonnull(p->capabilities->inheritable);
	ck_assert_ptr_null(p->capabilities->inheritable[0]);
	assert_strv(p->capabilities->permitted, STRV("CAP_KILL", "CAP_CHOWN"));
	assert_strv(p->capabilities->ambient, STRV("CAP_NET_BIND_SERVICE"));
	ck_assert_uint_eq(p->n_rlimits, 2);
	ck_assert_str_eq(p->rlimits[0].type, "RLIMIT_NOFILE");
	ck_assert_int_eq(p->rlimits[0].resource, RLIMIT_NOFILE);
	ck_assert(p->rlimits[0].hard == 4096 && p->rlimits[0].soft == 1024);
	ck_assert_int_eq(p->rlimits[1].resource, RLIMIT_CORE);
	ck_assert(p->rlimits[1].hard == UINT64_MAX && p->rlimits[1].soft == UINT64_MAX);
	ck_assert(p->no_new_privileges);
	ck_assert_str_eq(p->apparmor_profile, "kata-default");
	ck_assert(p->has_oom_score_adj);
	ck_assert_int_eq(p->oom_score_adj, -500);
	ck_assert_str_eq(p->selinux_label, "system_u:system_r:container_t:s0");
}
END_TEST

START_TEST(test_full_root_mounts_hooks_annotations)
{
	cleanup_oci_spec struct oci_spec *spec = load_data("full.json");
	const struct oci_hooks *h = spec->hooks;

	ck_assert_str_eq(spec->root->path, "rootfs");
	ck_assert(spec->root->readonly);
	ck_assert_str_eq(spec->hostname, "kata-full");

	ck_assert_uint_eq(spec->n_mounts, 3);
	ck_assert_str_eq(spec->mounts[0].destination, "/proc");
	ck_assert_str_eq(spec->mounts[0].type, "proc");
	ck_assert_str_eq(spec->mounts[0].source, "proc");
	ck_assert_ptr_null(spec->mounts[0].options);
	ck_assert_str_eq(spec->mounts[1].destination, "/data");
	ck_assert_str_eq(spec->mounts[1].type, "bind");
	ck_assert_str_eq(spec->mounts[1].source, "/srv/data");
	assert_strv(spec->mounts[1].options, STRV("rbind", "ro"));
	ck_assert_ptr_null(spec->mounts[2].type);
	ck_assert_ptr_null(spec->mounts[2].source);
	ck_assert_ptr_nonnull(spec->mounts[2].options);
	ck_assert_ptr_null(spec->mounts[2].options[0]);

	ck_assert_ptr_nonnull(h);
	ck_assert_uint_eq(h->lists[OCI_HOOK_PRESTART].n_hooks, 1);
	ck_assert_str_eq(h->lists[OCI_HOOK_PRESTART].hooks[0].path, "/usr/bin/prestart");
	assert_strv(h->lists[OCI_HOOK_PRESTART].hooks[0].args, STRV("prestart", "a"));
	assert_strv(h->lists[OCI_HOOK_PRESTART].hooks[0].env, STRV("A=1"));
	ck_assert(h->lists[OCI_HOOK_PRESTART].hooks[0].has_timeout);
	ck_assert_int_eq(h->lists[OCI_HOOK_PRESTART].hooks[0].timeout, 5);
	ck_assert_str_eq(h->lists[OCI_HOOK_CREATE_RUNTIME].hooks[0].path,
	                 "/usr/bin/create-runtime");
	ck_assert(!h->lists[OCI_HOOK_CREATE_RUNTIME].hooks[0].has_timeout);
	ck_assert_ptr_null(h->lists[OCI_HOOK_CREATE_RUNTIME].hooks[0].args);
	assert_strv(h->lists[OCI_HOOK_CREATE_CONTAINER].hooks[0].args, STRV("cc"));
	ck_assert_int_eq(h->lists[OCI_HOOK_START_CONTAINER].hooks[0].timeout, 1);
	ck_assert_uint_eq(h->lists[OCI_HOOK_POSTSTART].n_hooks, 2);
	ck_assert_str_eq(h->lists[OCI_HOOK_POSTSTART].hooks[1].path, "/usr/bin/poststart2");
	ck_assert(h->lists[OCI_HOOK_POSTSTOP].present);
	ck_assert_uint_eq(h->lists[OCI_HOOK_POSTSTOP].n_hooks, 0);
	ck_assert_str_eq(oci_hook_kind_name(OCI_HOOK_CREATE_CONTAINER), "createContainer");
	ck_assert_ptr_null(oci_hook_kind_name(OCI_HOOK_KINDS));

	ck_assert_str_eq(oci_spec_annotation(spec, "io.katacontainers.pkg.oci.container_type"),
	                 "pod_sandbox");
	ck_assert_str_eq(oci_spec_annotation(spec, "org.example.empty"), "");
	ck_assert_ptr_null(oci_spec_annotation(spec, "absent"));
}
END_TEST

START_TEST(test_full_linux)
{
	cleanup_oci_spec struct oci_spec *spec = load_data("full.json");
	const struct oci_linux *lx = spec->linux_spec;
	const struct oci_namespace *net;

	ck_assert_ptr_nonnull(lx);
	ck_assert_uint_eq(lx->n_uid_mappings, 1);
	ck_assert_uint_eq(lx->uid_mappings[0].container_id, 0);
	ck_assert_uint_eq(lx->uid_mappings[0].host_id, 100000);
	ck_assert_uint_eq(lx->uid_mappings[0].size, 65536);
	ck_assert_uint_eq(lx->n_gid_mappings, 2);
	ck_assert_uint_eq(lx->gid_mappings[1].container_id, 65536);
	ck_assert_uint_eq(lx->gid_mappings[1].host_id, 4294967295u);
	ck_assert_uint_eq(lx->gid_mappings[1].size, 1);
	assert_strv(lx->sysctl, STRV("net.ipv4.ip_forward", "1", "kernel.shmmax", "4294967295"));
	ck_assert_str_eq(lx->cgroups_path, "/kata/full");

	ck_assert_uint_eq(lx->n_namespaces, 7);
	for (int t = 0; t < OCI_NS_TYPES; t++)
		ck_assert_ptr_nonnull(oci_spec_namespace(spec, (enum oci_namespace_type)t));
	net = oci_spec_namespace(spec, OCI_NS_NETWORK);
	ck_assert_str_eq(net->path, "/var/run/netns/full");
	ck_assert_ptr_null(oci_spec_namespace(spec, OCI_NS_PID)->path);
	ck_assert_int_eq(oci_namespace_clone_flag(OCI_NS_MOUNT), CLONE_NEWNS);
	ck_assert_int_eq(oci_namespace_clone_flag(OCI_NS_CGROUP), CLONE_NEWCGROUP);
	ck_assert_str_eq(oci_namespace_type_name(OCI_NS_NETWORK), "network");

	ck_assert_uint_eq(lx->n_devices, 3);
	ck_assert_str_eq(lx->devices[0].path, "/dev/fuse");
	ck_assert_str_eq(lx->devices[0].type, "c");
	ck_assert_int_eq(lx->devices[0].major, 10);
	ck_assert_int_eq(lx->devices[0].minor, 229);
	ck_assert(lx->devices[0].has_file_mode && lx->devices[0].file_mode == 0666);
	ck_assert(lx->devices[0].has_uid && lx->devices[0].uid == 0);
	ck_assert(lx->devices[0].has_gid && lx->devices[0].gid == 0);
	ck_assert(!lx->devices[1].has_file_mode && !lx->devices[1].has_uid);
	ck_assert_str_eq(lx->devices[2].type, "p");

	ck_assert_str_eq(lx->rootfs_propagation, "rslave");
	assert_strv(lx->masked_paths, STRV("/proc/kcore", "/sys/firmware"));
	assert_strv(lx->readonly_paths, STRV("/proc/sys"));
	ck_assert_str_eq(lx->mount_label, "system_u:object_r:container_file_t:s0");
}
END_TEST

START_TEST(test_full_resources)
{
	cleanup_oci_spec struct oci_spec *spec = load_data("full.json");
	const struct oci_resources *r = spec->linux_spec->resources;

	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->n_devices, 3);
	ck_assert(!r->devices[0].allow);
	ck_assert_ptr_null(r->devices[0].type);
	ck_assert(!r->devices[0].has_major && !r->devices[0].has_minor);
	ck_assert_str_eq(r->devices[0].access, "rwm");
	ck_assert(r->devices[1].allow);
	ck_assert_str_eq(r->devices[1].type, "c");
	ck_assert(r->devices[1].has_major && r->devices[1].major == 1);
	ck_assert(r->devices[1].has_minor && r->devices[1].minor == 3);
	ck_assert_str_eq(r->devices[1].access, "rw");
	ck_assert_int_eq(r->devices[2].major, -1);
	ck_assert_ptr_null(r->devices[2].access);

	ck_assert(r->memory->has_limit && r->memory->limit == 536870912);
	ck_assert(r->memory->has_reservation && r->memory->reservation == 268435456);
	ck_assert(r->memory->has_swap && r->memory->swap == -1);
	ck_assert(r->memory->has_kernel && r->memory->kernel == 67108864);
	ck_assert(r->memory->has_kernel_tcp && r->memory->kernel_tcp == 16777216);
	ck_assert(r->memory->has_swappiness && r->memory->swappiness == 60);
	ck_assert(r->memory->has_disable_oom_killer && !r->memory->disable_oom_killer);

	ck_assert(r->cpu->has_shares && r->cpu->shares == 1024);
	ck_assert(r->cpu->has_quota && r->cpu->quota == 50000);
	ck_assert(r->cpu->has_period && r->cpu->period == 100000);
	ck_assert(r->cpu->has_realtime_runtime && r->cpu->realtime_runtime == 950000);
	ck_assert(r->cpu->has_realtime_period && r->cpu->realtime_period == 1000000);
	ck_assert_str_eq(r->cpu->cpus, "0-1");
	ck_assert_str_eq(r->cpu->mems, "0");

	ck_assert_int_eq(r->pids->limit, 1024);
	ck_assert(r->block_io->has_weight && r->block_io->weight == 500);
	ck_assert(r->block_io->has_leaf_weight && r->block_io->leaf_weight == 300);
	assert_strv(r->unified, STRV("memory.high", "400000000", "io.max", "8:0 rbps=1048576"));
}
END_TEST

START_TEST(test_full_seccomp)
{
	cleanup_oci_spec struct oci_spec *spec = load_data("full.json");
	const struct oci_seccomp *s = spec->linux_spec->seccomp;

	ck_assert_ptr_nonnull(s);
	ck_assert_int_eq(s->default_action, OCI_SECCOMP_ERRNO);
	ck_assert(s->has_default_errno_ret && s->default_errno_ret == 1);
	assert_strv(s->architectures, STRV("SCMP_ARCH_X86_64", "SCMP_ARCH_X86"));
	assert_strv(s->flags, STRV("SECCOMP_FILTER_FLAG_LOG"));
	ck_assert_str_eq(s->listener_path, "/run/seccomp.sock");
	ck_assert_str_eq(s->listener_metadata, "meta");
	ck_assert_uint_eq(s->n_syscalls, 3);
	assert_strv(s->syscalls[0].names, STRV("read", "write"));
	ck_assert_int_eq(s->syscalls[0].action, OCI_SECCOMP_ALLOW);
	ck_assert(!s->syscalls[0].has_errno_ret);
	ck_assert_ptr_null(s->syscalls[0].args);
	ck_assert_uint_eq(s->syscalls[1].n_args, 2);
	ck_assert_uint_eq(s->syscalls[1].args[0].index, 0);
	ck_assert_int_eq(s->syscalls[1].args[0].op, OCI_SECCOMP_OP_EQ);
	ck_assert_uint_eq(s->syscalls[1].args[1].index, 5);
	ck_assert(s->syscalls[1].args[1].value == UINT64_MAX);
	ck_assert(s->syscalls[1].args[1].value_two == 255);
	ck_assert_int_eq(s->syscalls[1].args[1].op, OCI_SECCOMP_OP_MASKED_EQ);
	ck_assert_int_eq(s->syscalls[2].action, OCI_SECCOMP_ERRNO);
	ck_assert(s->syscalls[2].has_errno_ret && s->syscalls[2].errno_ret == 38);
	ck_assert_str_eq(oci_seccomp_action_name(OCI_SECCOMP_KILL_PROCESS),
	                 "SCMP_ACT_KILL_PROCESS");
	ck_assert_str_eq(oci_seccomp_op_name(OCI_SECCOMP_OP_GE), "SCMP_CMP_GE");
	ck_assert_ptr_null(oci_seccomp_action_name(OCI_SECCOMP_ACTIONS));
}
END_TEST

/* --- every wrong type names its path ------------------------------------------------------ */

/* Something of another type than value: a number for a string, a string otherwise. */
static json_object *wrong_type_for(json_object *value)
{
	if (json_object_is_type(value, json_type_string))
		return json_object_new_int(7);
	return json_object_new_string("wrong");
}

static int checked_paths;

/* Replaces node's children one by one with a value of the wrong type, and checks that the
 * whole document is then refused with an error naming that child's path. */
static void check_wrong_types_below(json_object *doc, json_object *node, const char *path)
{
	if (json_object_is_type(node, json_type_object)) {
		json_object_object_foreach(node, key, child)
		{
			cleanup_free char *child_path = json_path_key(path, key);
			cleanup_free char *want = xasprintf("%s: expected ", child_path);
			cleanup_error kata_error_t err = NULL;
			struct oci_spec *spec;

			json_object_get(child);
			json_object_object_add(node, key, wrong_type_for(child));
			spec = oci_spec_from_json(doc, &err);
			ck_assert_msg(spec == NULL, "%s: wrong type accepted", child_path);
			ck_assert_msg(strncmp(err->message, want, strlen(want)) == 0,
			              "%s: got \"%s\"", child_path, err->message);
			json_object_object_add(node, key, child);
			checked_paths++;
			check_wrong_types_below(doc, child, child_path);
		}
	} else if (json_object_is_type(node, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(node); i++) {
			json_object *child = json_object_array_get_idx(node, i);
			cleanup_free char *child_path = json_path_index(path, i);
			cleanup_free char *want = xasprintf("%s: expected ", child_path);
			cleanup_error kata_error_t err = NULL;
			struct oci_spec *spec;

			json_object_get(child);
			json_object_array_put_idx(node, i, wrong_type_for(child));
			spec = oci_spec_from_json(doc, &err);
			ck_assert_msg(spec == NULL, "%s: wrong type accepted", child_path);
			ck_assert_msg(strncmp(err->message, want, strlen(want)) == 0,
			              "%s: got \"%s\"", child_path, err->message);
			json_object_array_put_idx(node, i, child);
			checked_paths++;
			check_wrong_types_below(doc, child, child_path);
		}
	}
}

START_TEST(test_every_wrong_type_names_its_path)
{
	cleanup_json json_object *doc = load_json("full.json");
	cleanup_error kata_error_t err = NULL;
	cleanup_oci_spec struct oci_spec *spec = NULL;

	checked_paths = 0;
	check_wrong_types_below(doc, doc, "");
	/* Every node of full.json was tried (it has 235). */
	ck_assert_int_ge(checked_paths, 235);
	/* And the document restored is still valid. */
	spec = oci_spec_from_json(doc, &err);
	ck_assert_ptr_nonnull(spec);
}
END_TEST

START_TEST(test_wrong_type_file)
{
	cleanup_free char *path = data_path("wrong-type-args.json");
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *want = NULL;

	ck_assert_ptr_null(oci_spec_load(path, &err));
	want = xasprintf("%s: process.args[1]: expected a string, got an integer", path);
	ck_assert_str_eq(err->message, want);
}
END_TEST

START_TEST(test_document_not_an_object)
{
	cleanup_free char *m = spec_error("[]");

	ck_assert_str_eq(m, "(root): expected an object, got an array");
}
END_TEST

/* --- validation --------------------------------------------------------------------------- */

struct invalid_case {
	const char *json;
	const char *message;
};

#define PROC(extra) "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"" extra "}}"

static const struct invalid_case invalid_cases[] = {
	{ "{\"process\": {\"cwd\": \"/\"}}", "process.args: must not be empty" },
	{ "{\"process\": {\"args\": [], \"cwd\": \"/\"}}", "process.args: must not be empty" },
	{ "{\"process\": {\"args\": [\"sh\"]}}",
	  "process.cwd: must be an absolute path, got \"\"" },
	{ "{\"process\": {\"args\": [\"sh\"], \"cwd\": \"tmp\"}}",
	  "process.cwd: must be an absolute path, got \"tmp\"" },
	{ PROC(", \"env\": [\"A=1\", \"NOEQUALS\"]"),
	  "process.env[1]: \"NOEQUALS\" is not NAME=VALUE" },
	{ PROC(", \"env\": [\"=x\"]"), "process.env[0]: \"=x\" is not NAME=VALUE" },
	{ PROC(", \"rlimits\": [{\"type\": \"RLIMIT_BOGUS\", \"hard\": 1, \"soft\": 1}]"),
	  "process.rlimits[0].type: unknown rlimit \"RLIMIT_BOGUS\"" },
	{ PROC(", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1, \"soft\": 2}]"),
	  "process.rlimits[0]: soft limit 2 is above hard limit 1" },
	{ PROC(", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"hard\": 1, \"soft\": 1}, "
	       "{\"type\": \"RLIMIT_NOFILE\", \"hard\": 2, \"soft\": 2}]"),
	  "process.rlimits[1]: RLIMIT_NOFILE is set twice" },
	{ PROC(", \"rlimits\": [{\"type\": \"RLIMIT_NOFILE\", \"soft\": 1}]"),
	  "process.rlimits[0].hard: required field is missing" },
	{ PROC(", \"oomScoreAdj\": 1001"), "process.oomScoreAdj: 1001 is outside -1000..1000" },
	{ PROC(", \"consoleSize\": {\"height\": 70000, \"width\": 80}"),
	  "process.consoleSize: 70000x80 is larger than a terminal can be (65535)" },
	{ PROC(", \"consoleSize\": {\"height\": 1}"),
	  "process.consoleSize.width: required field is missing" },
	{ PROC(", \"user\": {\"uid\": -1}"), "process.user.uid: -1 out of range [0, 4294967295]" },
	{ PROC(", \"user\": {\"additionalGids\": [1, 4294967296]}"),
	  "process.user.additionalGids[1]: 4294967296 out of range [0, 4294967295]" },
	{ "{\"root\": {\"readonly\": true}}", "root.path: required field is missing" },
	{ "{\"root\": {\"path\": \"\"}}", "root: path must not be empty" },
	{ "{\"mounts\": [{\"destination\": \"/a\"}, {\"destination\": \"b\"}]}",
	  "mounts[1].destination: must be an absolute path, got \"b\"" },
	{ "{\"mounts\": [{\"type\": \"tmpfs\"}]}",
	  "mounts[0].destination: required field is missing" },
	{ "{\"hooks\": {\"poststop\": [{\"path\": \"hook\"}]}}",
	  "hooks.poststop[0].path: must be an absolute path, got \"hook\"" },
	{ "{\"hooks\": {\"prestart\": [{\"path\": \"/h\", \"timeout\": 0}]}}",
	  "hooks.prestart[0].timeout: must be greater than zero, got 0" },
	{ "{\"annotations\": {\"a\": 1}}", "annotations.a: expected a string, got an integer" },
	{ "{\"linux\": {\"namespaces\": [{\"type\": \"time\"}]}}",
	  "linux.namespaces[0].type: unknown namespace type \"time\"" },
	{ "{\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"uts\"}, {\"type\": "
	  "\"pid\"}]}}",
	  "linux.namespaces[2]: namespace \"pid\" is listed twice" },
	{ "{\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"netns\"}]}}",
	  "linux.namespaces[0].path: must be an absolute path, got \"netns\"" },
	{ "{\"linux\": {\"namespaces\": [{}]}}",
	  "linux.namespaces[0].type: required field is missing" },
	{ "{\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1}]}}",
	  "linux.uidMappings[0].size: required field is missing" },
	{ "{\"linux\": {\"devices\": [{\"path\": \"/dev/x\", \"type\": \"z\"}]}}",
	  "linux.devices[0].type: unknown device type \"z\" (c, b, u or p)" },
	{ "{\"linux\": {\"devices\": [{\"path\": \"dev/x\", \"type\": \"c\"}]}}",
	  "linux.devices[0].path: must be an absolute path, got \"dev/x\"" },
	{ "{\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"access\": \"rwx\"}]}}}",
	  "linux.resources.devices[0].access: \"rwx\" is not made of r, w and m" },
	{ "{\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"p\"}]}}}",
	  "linux.resources.devices[0].type: unknown device type \"p\" (a, c or b)" },
	{ "{\"linux\": {\"resources\": {\"blockIO\": {\"weight\": 70000}}}}",
	  "linux.resources.blockIO.weight: 70000 out of range [0, 65535]" },
	{ "{\"linux\": {\"resources\": {\"memory\": {\"limit\": 1.5}}}}",
	  "linux.resources.memory.limit: expected an integer, got a number" },
	{ "{\"linux\": {\"resources\": {\"cpu\": {\"shares\": -2}}}}",
	  "linux.resources.cpu.shares: -2 out of range [0, 18446744073709551615]" },
	{ "{\"linux\": {\"seccomp\": {}}}",
	  "linux.seccomp.defaultAction: required field is missing" },
	{ "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_MAYBE\"}}}",
	  "linux.seccomp.defaultAction: unknown value \"SCMP_ACT_MAYBE\"" },
	{ "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
	  "[{\"names\": [], \"action\": \"SCMP_ACT_ERRNO\"}]}}}",
	  "linux.seccomp.syscalls[0].names: must not be empty" },
	{ "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
	  "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 6, "
	  "\"value\": 1, \"op\": \"SCMP_CMP_EQ\"}]}]}}}",
	  "linux.seccomp.syscalls[0].args[0].index: 6 is not an argument index (0..5)" },
	{ "{\"linux\": {\"seccomp\": {\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": "
	  "[{\"names\": [\"read\"], \"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 0, "
	  "\"value\": 1, \"op\": \"SCMP_CMP_ALMOST\"}]}]}}}",
	  "linux.seccomp.syscalls[0].args[0].op: unknown value \"SCMP_CMP_ALMOST\"" },
	{ "{\"linux\": {\"rootfsPropagation\": \"sideways\"}}",
	  "linux.rootfsPropagation: unknown propagation \"sideways\"" },
	{ "{\"linux\": {\"sysctl\": {\"kernel.x\": 1}}}",
	  "linux.sysctl.kernel.x: expected a string, got an integer" },
	{ "{\"hostname\": \"a\\u0000b\"}", "hostname: string contains a NUL character" },
};

START_TEST(test_invalid_values)
{
	const struct invalid_case *c = &invalid_cases[_i];
	cleanup_free char *m = spec_error(c->json);

	ck_assert_msg(strcmp(m, c->message) == 0, "%s:\n got  \"%s\"\n want \"%s\"", c->json, m,
	              c->message);
}
END_TEST

START_TEST(test_invalid_file_names_file)
{
	cleanup_free char *path = data_path("invalid-relative-mount.json");
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *want = NULL;

	ck_assert_ptr_null(oci_spec_load(path, &err));
	want = xasprintf("%s: mounts[0].destination: must be an absolute path, got "
	                 "\"relative/path\"",
	                 path);
	ck_assert_str_eq(err->message, want);
}
END_TEST

/* --- malformed JSON names the position ------------------------------------------------------ */

struct malformed_case {
	const char *file;
	const char *position;
};

static const struct malformed_case malformed_cases[] = {
	{ "malformed-trailing-comma.json", "line 3, column 41 (offset 66): unexpected character" },
	{ "malformed-truncated.json", "line 3, column 27 (offset 52): unexpected end of data" },
	{ "malformed-two-documents.json",
	  "line 1, column 25 (offset 24): unexpected data after the JSON value" },
};

START_TEST(test_malformed_names_position)
{
	const struct malformed_case *c = &malformed_cases[_i];
	cleanup_free char *path = data_path(c->file);
	cleanup_error kata_error_t err = NULL;

	ck_assert_ptr_null(oci_spec_load(path, &err));
	ck_assert_int_eq(err->errno_value, EINVAL);
	ck_assert_msg(strncmp(err->message, path, strlen(path)) == 0, "%s", err->message);
	ck_assert_msg(strstr(err->message, c->position) != NULL, "%s: got \"%s\", want \"%s\"",
	              c->file, err->message, c->position);
}
END_TEST

/* --- round trip ------------------------------------------------------------------------------- */

static void assert_round_trip(const char *name)
{
	cleanup_json json_object *original = load_json(name);
	cleanup_oci_spec struct oci_spec *spec = NULL;
	cleanup_oci_spec struct oci_spec *again = NULL;
	cleanup_json json_object *first = NULL;
	cleanup_json json_object *second = NULL;
	cleanup_error kata_error_t err = NULL;
	const char *text;

	spec = oci_spec_from_json(original, &err);
	ck_assert_msg(spec != NULL, "%s: %s", name, err != NULL ? err->message : "");
	first = oci_spec_to_json(spec);
	text = json_object_to_json_string_ext(first, JSON_C_TO_STRING_PLAIN);
	again = oci_spec_parse(text, strlen(text), &err);
	ck_assert_msg(again != NULL, "%s: %s", name, err != NULL ? err->message : "");
	second = oci_spec_to_json(again);
	ck_assert_msg(json_object_equal(first, second), "%s: second trip differs", name);
	/* These files hold only fields the structure keeps, written as it writes them. */
	ck_assert_msg(json_object_equal(original, first), "%s: differs from the file:\n%s", name,
	              text);
}

START_TEST(test_round_trip)
{
	static const char *const files[] = { "full.json", "runc-spec.json",
		                             "runc-spec-rootless.json" };

	assert_round_trip(files[_i]);
}
END_TEST

START_TEST(test_process_round_trip)
{
	cleanup_free char *path = data_path("process.json");
	cleanup_error kata_error_t err = NULL;
	cleanup_oci_process struct oci_process *p = oci_process_load(path, &err);
	cleanup_oci_process struct oci_process *again = NULL;
	cleanup_json json_object *first = NULL;
	cleanup_json json_object *second = NULL;
	cleanup_oci_spec struct oci_spec *full = load_data("full.json");
	cleanup_json json_object *full_process = NULL;
	cleanup_json json_object *full_again = NULL;

	ck_assert_msg(p != NULL, "%s", err != NULL ? err->message : "");
	ck_assert(!p->terminal);
	assert_strv(p->args, STRV("/bin/ls", "-l"));
	ck_assert_str_eq(p->cwd, "/");
	assert_strv(p->capabilities->bounding, STRV("CAP_KILL"));
	ck_assert_ptr_null(p->capabilities->effective);
	ck_assert(p->no_new_privileges);
	first = oci_process_to_json(p);
	again = oci_process_from_json(first, &err);
	ck_assert_ptr_nonnull(again);
	second = oci_process_to_json(again);
	ck_assert(json_object_equal(first, second));

	/* The full spec's process, alone, as the runtime sends it to the agent. */
	full_process = oci_process_to_json(full->process);
	oci_process_free(again);
	again = oci_process_from_json(full_process, &err);
	ck_assert_ptr_nonnull(again);
	full_again = oci_process_to_json(again);
	ck_assert(json_object_equal(full_process, full_again));
}
END_TEST

START_TEST(test_process_errors)
{
	cleanup_json json_object *not_object = json_object_new_array();
	cleanup_json json_object *no_args = NULL;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *missing = data_path("no-such-process.json");

	ck_assert_ptr_null(oci_process_from_json(not_object, &err));
	ck_assert_str_eq(err->message, "process: expected an object, got an array");
	kata_error_free(&err);
	no_args = json_tokener_parse("{\"cwd\": \"/\", \"env\": [1]}");
	ck_assert_ptr_null(oci_process_from_json(no_args, &err));
	ck_assert_str_eq(err->message, "process.env[0]: expected a string, got an integer");
	kata_error_free(&err);
	ck_assert_ptr_null(oci_process_load(missing, &err));
	ck_assert_int_eq(err->errno_value, ENOENT);
}
END_TEST

START_TEST(test_modified_spec_serialises)
{
	cleanup_oci_spec struct oci_spec *spec = load_data("runc-spec.json");
	cleanup_oci_spec struct oci_spec *again = NULL;
	cleanup_json json_object *obj = NULL;
	cleanup_error kata_error_t err = NULL;
	char **args = xcalloc(3, sizeof(char *));

	/* The runtime rewrites the root path and args before sending the spec to the guest. */
	free(spec->root->path);
	spec->root->path = xstrdup("/run/kata-containers/shared/c1/rootfs");
	args[0] = xstrdup("/bin/true");
	args[1] = xstrdup("--flag");
	strv_free(spec->process->args);
	spec->process->args = args;
	spec->process->terminal = false;
	obj = oci_spec_to_json(spec);
	again = oci_spec_from_json(obj, &err);
	ck_assert_ptr_nonnull(again);
	ck_assert_str_eq(again->root->path, "/run/kata-containers/shared/c1/rootfs");
	assert_strv(again->process->args, STRV("/bin/true", "--flag"));
	ck_assert(!again->process->terminal);
}
END_TEST

/* --- default spec, unknown keys, limits ------------------------------------------------------ */

START_TEST(test_default_matches_runc_spec)
{
	cleanup_json json_object *def = oci_spec_default(false);
	cleanup_json json_object *runc = load_json("runc-spec.json");
	cleanup_error kata_error_t err = NULL;
	cleanup_oci_spec struct oci_spec *spec = oci_spec_from_json(def, &err);

	ck_assert_msg(json_object_equal(def, runc), "%s",
	              json_object_to_json_string_ext(def, JSON_C_TO_STRING_PRETTY));
	ck_assert_ptr_nonnull(spec);
	ck_assert_str_eq(spec->process->args[0], "sh");
	ck_assert_ptr_nonnull(oci_spec_namespace(spec, OCI_NS_NETWORK));
	ck_assert_ptr_null(oci_spec_namespace(spec, OCI_NS_USER));
}
END_TEST

START_TEST(test_default_rootless)
{
	cleanup_json json_object *def = oci_spec_default(true);
	cleanup_error kata_error_t err = NULL;
	cleanup_oci_spec struct oci_spec *spec = oci_spec_from_json(def, &err);

	ck_assert_ptr_nonnull(spec);
	ck_assert_ptr_nonnull(oci_spec_namespace(spec, OCI_NS_USER));
	ck_assert_ptr_null(oci_spec_namespace(spec, OCI_NS_NETWORK));
	ck_assert_uint_eq(spec->linux_spec->n_uid_mappings, 1);
	ck_assert_uint_eq(spec->linux_spec->uid_mappings[0].host_id, geteuid());
	ck_assert_uint_eq(spec->linux_spec->gid_mappings[0].host_id, getegid());
	ck_assert_ptr_null(spec->linux_spec->resources);
	/* runc spec --rootless, run as root here, wrote the same. */
	if (geteuid() == 0 && getegid() == 0) {
		cleanup_json json_object *runc = load_json("runc-spec-rootless.json");

		ck_assert(json_object_equal(def, runc));
	}
}
END_TEST

START_TEST(test_unknown_keys_ignored)
{
	cleanup_oci_spec struct oci_spec *spec = load_data("unknown-keys.json");
	cleanup_json json_object *out = oci_spec_to_json(spec);
	json_object *linux_obj;

	ck_assert_str_eq(spec->process->args[0], "sh");
	ck_assert_uint_eq(spec->process->user.uid, 1);
	ck_assert_str_eq(spec->root->path, "rootfs");
	ck_assert_int_eq(spec->linux_spec->n_namespaces, 1);
	ck_assert(spec->linux_spec->resources->memory->has_limit);
	ck_assert_ptr_nonnull(spec->hooks);
	for (int k = 0; k < OCI_HOOK_KINDS; k++)
		ck_assert(!spec->hooks->lists[k].present);
	/* What is not kept is not written back. */
	ck_assert(!json_object_object_get_ex(out, "futureTopLevel", NULL));
	ck_assert(!json_object_object_get_ex(out, "windows", NULL));
	ck_assert(json_object_object_get_ex(out, "linux", &linux_obj));
	ck_assert(!json_object_object_get_ex(linux_obj, "intelRdt", NULL));
}
END_TEST

START_TEST(test_empty_spec)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_oci_spec struct oci_spec *spec = oci_spec_parse("{}", 2, &err);
	cleanup_json json_object *out = NULL;

	ck_assert_ptr_nonnull(spec);
	ck_assert_ptr_null(spec->process);
	ck_assert_ptr_null(spec->root);
	ck_assert_ptr_null(spec->linux_spec);
	ck_assert_ptr_null(spec->mounts);
	ck_assert_ptr_null(oci_spec_namespace(spec, OCI_NS_PID));
	out = oci_spec_to_json(spec);
	ck_assert_int_eq(json_object_object_length(out), 0);
	/* Nulls are absent values, as for Go's decoder. */
	oci_spec_free(steal_pointer(&spec));
	{
		static const char nulls[] = "{\"process\": null, \"linux\": {\"seccomp\": null}}";

		spec = oci_spec_parse(nulls, strlen(nulls), &err);
	}
	ck_assert_msg(spec != NULL, "%s", err != NULL ? err->message : "");
	ck_assert_ptr_null(spec->process);
	ck_assert_ptr_null(spec->linux_spec->seccomp);
}
END_TEST

START_TEST(test_limits)
{
	/* below the program's directory: removed even when this test fails */
	char dir[128];
	cleanup_free char *path = NULL;
	cleanup_free char *deep = NULL;
	cleanup_error kata_error_t err = NULL;
	cleanup_close int fd = -1;
	size_t depth = 10000;

	/* A 100 MB config.json (sparse) is refused before it is read. */
	unit_test_new_dir(dir, sizeof(dir));
	path = xasprintf("%s/config.json", dir);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(ftruncate(fd, 100 * 1024 * 1024), 0);
	ck_assert_ptr_null(oci_spec_load(path, &err));
	ck_assert_int_eq(err->errno_value, EFBIG);
	ck_assert_msg(strstr(err->message, "exceeds the limit of 16777216 bytes") != NULL, "%s",
	              err->message);
	kata_error_free(&err);
	unlink(path);
	rmdir(dir);

	/* Deep nesting, even in an ignored key, is refused. */
	deep = xmalloc(2 * depth + 64);
	strcpy(deep, "{\"x\": ");
	memset(deep + 6, '[', depth);
	memset(deep + 6 + depth, ']', depth);
	strcpy(deep + 6 + 2 * depth, "}");
	ck_assert_ptr_null(oci_spec_parse(deep, strlen(deep), &err));
	ck_assert_msg(strstr(err->message, "nesting too deep") != NULL, "%s", err->message);
	kata_error_free(&err);

	/* A length over the limit is refused without looking at the text. */
	ck_assert_ptr_null(oci_spec_parse("{}", OCI_SPEC_MAX_SIZE + 1, &err));
	ck_assert_int_eq(err->errno_value, EFBIG);
}
END_TEST

START_TEST(test_rlimit_names)
{
	ck_assert_int_eq(oci_rlimit_resource("RLIMIT_NOFILE"), RLIMIT_NOFILE);
	ck_assert_int_eq(oci_rlimit_resource("RLIMIT_RTTIME"), RLIMIT_RTTIME);
	ck_assert_int_eq(oci_rlimit_resource("RLIMIT_AS"), RLIMIT_AS);
	ck_assert_int_eq(oci_rlimit_resource("NOFILE"), -1);
	ck_assert_int_eq(oci_rlimit_resource(""), -1);
}
END_TEST

static Suite *oci_spec_suite(void)
{
	Suite *s = suite_create("oci_spec");
	TCase *fields = tcase_create("fields");
	TCase *errors = tcase_create("errors");
	TCase *trips = tcase_create("round-trip");
	TCase *misc = tcase_create("misc");

	tcase_add_test(fields, test_full_process);
	tcase_add_test(fields, test_full_root_mounts_hooks_annotations);
	tcase_add_test(fields, test_full_linux);
	tcase_add_test(fields, test_full_resources);
	tcase_add_test(fields, test_full_seccomp);
	suite_add_tcase(s, fields);

	tcase_add_test(errors, test_every_wrong_type_names_its_path);
	tcase_add_test(errors, test_wrong_type_file);
	tcase_add_test(errors, test_document_not_an_object);
	tcase_add_loop_test(errors, test_invalid_values, 0,
	                    sizeof(invalid_cases) / sizeof(invalid_cases[0]));
	tcase_add_test(errors, test_invalid_file_names_file);
	tcase_add_loop_test(errors, test_malformed_names_position, 0,
	                    sizeof(malformed_cases) / sizeof(malformed_cases[0]));
	suite_add_tcase(s, errors);

	tcase_add_loop_test(trips, test_round_trip, 0, 3);
	tcase_add_test(trips, test_process_round_trip);
	tcase_add_test(trips, test_process_errors);
	tcase_add_test(trips, test_modified_spec_serialises);
	suite_add_tcase(s, trips);

	tcase_add_test(misc, test_default_matches_runc_spec);
	tcase_add_test(misc, test_default_rootless);
	tcase_add_test(misc, test_unknown_keys_ignored);
	tcase_add_test(misc, test_empty_spec);
	tcase_add_test(misc, test_limits);
	tcase_add_test(misc, test_rlimit_names);
	suite_add_tcase(s, misc);
	return s;
}

const struct unit_test unit_test = { .suite = oci_spec_suite, .test_dir = "kata-test-oci-spec" };
