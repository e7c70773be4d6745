/* The messages the runtime builds for runV's hyperstart (cli/dialect*.c), held against the
 * rules of the real agent that the fake agent's hyperstart mode follows
 * (tests/fakes/fake_hyperstart.c), and the operations hyperstart has no message for. */
#include "check_main.h"
#include <string.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "cli/dialect.h"
#include "cli/share.h"
#include "config.h"
#include "tests/fakes/fake_hyperstart.h"
#include "json_util.h"

static struct kata_config *config_with(const char *dialect, const char *shared_fs)
{
	cleanup_error kata_error_t err = NULL;
	/* any existing files do for the paths: nothing is run */
	cleanup_free char *text = xasprintf("[hypervisor.qemu]\npath = \"/bin/sh\"\n"
	                                    "kernel = \"/bin/sh\"\ninitrd = \"/bin/sh\"\n"
	                                    "machine_type = \"q35\"\nshared_fs = \"%s\"\n"
	                                    "[agent.kata]\ndialect = \"%s\"\n",
	                                    shared_fs, dialect);
	struct kata_config *c = kata_config_parse("test.toml", text, strlen(text), &err);

	ck_assert_msg(c != NULL, "config: %s", err ? err->message : "");
	return c;
}

/* A config.json as create has it after share_bind_mounts(): bind sources in the share. */
static const char spec_text[] =
        "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"},"
        " \"process\": {\"terminal\": false, \"user\": {\"uid\": 1000, \"gid\": 1001,"
        "   \"additionalGids\": [5]}, \"cwd\": \"/work\", \"args\": [\"sh\", \"-c\", \"id\"],"
        "   \"env\": [\"PATH=/bin:/usr/bin\", \"EMPTY=\", \"A=b=c\"],"
        "   \"capabilities\": {\"bounding\": [\"CAP_KILL\"]}},"
        " \"mounts\": [{\"destination\": \"/proc\", \"type\": \"proc\", \"source\": \"proc\"},"
        "   {\"destination\": \"/data\", \"type\": \"bind\","
        "    \"source\": \"" SHARE_GUEST_PATH "/c1/mounts/1\", \"options\": [\"rbind\", \"ro\"]},"
        "   {\"destination\": \"/rw\", \"type\": \"bind\","
        "    \"source\": \"" SHARE_GUEST_PATH "/c1/mounts/2\", \"options\": [\"rbind\"]}]}";

static json_object *get(json_object *obj, const char *key)
{
	json_object *v = NULL;

	ck_assert_msg(json_object_object_get_ex(obj, key, &v), "no key %s", key);
	return v;
}

static void assert_accepted(uint32_t code, json_object *msg)
{
	cleanup_free char *why = NULL;

	ck_assert_msg(fake_hyperstart_accepts(code, msg, &why), "code %u refused: %s (%s)", code,
	              why, json_object_to_json_string(msg));
}

START_TEST(test_newcontainer_shape)
{
	cleanup_error kata_error_t err = NULL;
	struct oci_spec *spec = oci_spec_parse(spec_text, strlen(spec_text), &err);
	cleanup_json json_object *msg = NULL;
	json_object *process, *envs, *fsmap, *map;

	ck_assert_msg(spec != NULL, "spec: %s", err ? err->message : "");
	msg = hyperstart_newcontainer("c1", spec, false, &err);
	ck_assert_ptr_nonnull(msg);
	/* the proxy adds the stream numbers before the agent sees it */
	process = get(msg, "process");
	json_object_object_add(process, "stdio", json_object_new_int(1));
	json_object_object_add(process, "stderr", json_object_new_int(2));
	assert_accepted(AGENT_NEWCONTAINER, msg);
	/* the root is SHARE/image/rootfs: the share's layout (cli/share.h) */
	ck_assert_str_eq(json_object_get_string(get(msg, "image")), "c1");
	ck_assert_str_eq(json_object_get_string(get(msg, "rootfs")), "rootfs");
	ck_assert_str_eq(json_object_get_string(get(process, "id")), "c1");
	ck_assert_str_eq(json_object_get_string(get(process, "workdir")), "/work");
	ck_assert_str_eq(json_object_get_string(get(process, "user")), "1000");
	ck_assert_str_eq(json_object_get_string(get(process, "group")), "1001");
	ck_assert_str_eq(json_object_get_string(
	                         json_object_array_get_idx(get(process, "additionalGroups"), 0)),
	                 "5");
	envs = get(process, "envs");
	ck_assert_uint_eq(json_object_array_length(envs), 3);
	ck_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(envs, 2), "env")),
	                 "A");
	ck_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(envs, 2), "value")),
	                 "b=c");
	ck_assert_str_eq(json_object_get_string(get(json_object_array_get_idx(envs, 1), "value")),
	                 "");
	/* only the bind mounts, their sources relative to the share */
	fsmap = get(msg, "fsmap");
	ck_assert_uint_eq(json_object_array_length(fsmap), 2);
	map = json_object_array_get_idx(fsmap, 0);
	ck_assert_str_eq(json_object_get_string(get(map, "source")), "c1/mounts/1");
	ck_assert_str_eq(json_object_get_string(get(map, "path")), "/data");
	ck_assert(json_object_get_boolean(get(map, "readOnly")));
	ck_assert(!json_object_get_boolean(get(json_object_array_get_idx(fsmap, 1), "readOnly")));
	oci_spec_free(spec);
}
END_TEST

START_TEST(test_execcmd_shape)
{
	cleanup_error kata_error_t err = NULL;
	struct oci_spec *spec = oci_spec_parse(spec_text, strlen(spec_text), &err);
	cleanup_json json_object *msg = NULL;
	json_object *process;

	ck_assert_ptr_nonnull(spec);
	spec->process->user.uid = 0;
	spec->process->user.gid = 0;
	spec->process->user.n_additional_gids = 0;
	msg = hyperstart_execcmd("c1", "exec-1", spec->process, false, &err);
	ck_assert_ptr_nonnull(msg);
	process = get(msg, "process");
	/* root: no user at all, as hyperstart runs a process without one as root */
	ck_assert(!json_object_object_get_ex(process, "user", NULL));
	ck_assert(!json_object_object_get_ex(process, "group", NULL));
	/* without a stream number hyperstart refuses it; the proxy adds one */
	ck_assert(!fake_hyperstart_accepts(AGENT_EXECCMD, msg, NULL));
	json_object_object_add(process, "stdio", json_object_new_int(3));
	json_object_object_add(process, "stderr", json_object_new_int(4));
	assert_accepted(AGENT_EXECCMD, msg);
	ck_assert_str_eq(json_object_get_string(get(msg, "container")), "c1");
	ck_assert_str_eq(json_object_get_string(get(process, "id")), "exec-1");
	oci_spec_free(spec);
}
END_TEST

/* Through kata-hyperstart-wait: it comes first in args, sets the ids itself (hyperstart
 * would look them up in the container's files), and is mapped in from the share. */
START_TEST(test_with_wait)
{
	cleanup_error kata_error_t err = NULL;
	struct oci_spec *spec = oci_spec_parse(spec_text, strlen(spec_text), &err);
	cleanup_json json_object *msg = NULL;
	json_object *process, *args, *fsmap, *map;
	static const char *const want[] = { "/dev/.kata-hyperstart/kata-hyperstart-wait",
		                            "--uid=1000",
		                            "--gid=1001",
		                            "--groups=5",
		                            "--status=/dev/.kata-status/c1",
		                            "--",
		                            "sh",
		                            "-c",
		                            "id" };

	ck_assert_ptr_nonnull(spec);
	msg = hyperstart_newcontainer("c1", spec, true, &err);
	ck_assert_ptr_nonnull(msg);
	process = get(msg, "process");
	json_object_object_add(process, "stdio", json_object_new_int(1));
	json_object_object_add(process, "stderr", json_object_new_int(2));
	assert_accepted(AGENT_NEWCONTAINER, msg);
	args = get(process, "args");
	ck_assert_uint_eq(json_object_array_length(args), sizeof(want) / sizeof(want[0]));
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(args, i)),
		                 want[i]);
	ck_assert(!json_object_object_get_ex(process, "user", NULL));
	ck_assert(!json_object_object_get_ex(process, "group", NULL));
	fsmap = get(msg, "fsmap");
	ck_assert_uint_eq(json_object_array_length(fsmap), 4);
	map = json_object_array_get_idx(fsmap, 2);
	ck_assert_str_eq(json_object_get_string(get(map, "source")), ".kata-hyperstart");
	ck_assert_str_eq(json_object_get_string(get(map, "path")), "/dev/.kata-hyperstart");
	ck_assert(json_object_get_boolean(get(map, "readOnly")));
	/* where it writes the exit statuses, which hyperstart does not report */
	map = json_object_array_get_idx(fsmap, 3);
	ck_assert_str_eq(json_object_get_string(get(map, "source")), "c1/.kata-status");
	ck_assert_str_eq(json_object_get_string(get(map, "path")), "/dev/.kata-status");
	ck_assert(!json_object_get_boolean(get(map, "readOnly")));
	oci_spec_free(spec);
}
END_TEST

START_TEST(test_startpod_per_dialect)
{
	struct kata_config *hs = config_with("hyperstart", "virtio-9p");
	struct kata_config *kata = config_with("kata", "virtio-9p");
	struct kata_config *hs_virtiofs = config_with("hyperstart", "virtio-fs");
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *pod_hs = json_object_new_object();
	cleanup_json json_object *pod_kata = json_object_new_object();
	cleanup_json json_object *pod_vfs = json_object_new_object();

	json_add_string(pod_hs, "hostname", "h");
	json_add_string(pod_hs, "shareDir", "kataShared");
	json_add_string(pod_kata, "hostname", "h");
	json_add_string(pod_kata, "shareDir", "kataShared");
	ck_assert_int_eq(dialect_startpod(hs, pod_hs, &err), 0);
	assert_accepted(AGENT_STARTPOD, pod_hs);
	/* the kata agent's key is what the real hyperstart refused */
	ck_assert_int_eq(dialect_startpod(kata, pod_kata, &err), 0);
	ck_assert(json_object_object_get_ex(pod_kata, "shareFsType", NULL));
	ck_assert(!fake_hyperstart_accepts(AGENT_STARTPOD, pod_kata, NULL));
	/* hyperstart mounts its share with 9p only */
	ck_assert_int_lt(dialect_startpod(hs_virtiofs, pod_vfs, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "hyperstart"));
	kata_config_free(hs);
	kata_config_free(kata);
	kata_config_free(hs_virtiofs);
}
END_TEST

/* STARTPOD's network as cli/network.c records it (the kata agent's shape) */
static json_object *pod_with_network(const char *addr, const char *mask, const char *route_dest,
                                     const char *gateway)
{
	json_object *pod =
	        json_tokener_parse("{\"hostname\": \"h\", \"shareDir\": \"kataShared\"}");
	json_object *iface = json_object_new_object();
	json_object *addrs = json_object_new_array();
	json_object *a = json_object_new_object();
	json_object *route = json_object_new_object();
	json_object *interfaces = json_object_new_array();
	json_object *routes = json_object_new_array();

	json_add_string(a, "ipAddress", addr);
	json_add_string(a, "netMask", mask);
	json_object_array_add(addrs, a);
	json_add_string(iface, "device", "veth-c");
	json_add_string(iface, "newDeviceName", "veth-c");
	json_add_string(iface, "macAddr", "02:42:ac:11:00:02");
	json_object_object_add(iface, "mtu", json_object_new_int(1400));
	json_object_object_add(iface, "ipAddresses", addrs);
	json_object_array_add(interfaces, iface);
	json_add_string(route, "dest", route_dest);
	if (gateway != NULL)
		json_add_string(route, "gateway", gateway);
	json_add_string(route, "device", "veth-c");
	json_object_array_add(routes, route);
	json_object_object_add(pod, "interfaces", interfaces);
	json_object_object_add(pod, "routes", routes);
	return pod;
}

START_TEST(test_startpod_network)
{
	struct kata_config *hs = config_with("hyperstart", "virtio-9p");
	struct kata_config *kata = config_with("kata", "virtio-9p");
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *pod = pod_with_network("10.66.1.2", "24", "default", "10.66.1.1");
	cleanup_json json_object *pod_kata =
	        pod_with_network("10.66.1.2", "24", "default", "10.66.1.1");
	cleanup_json json_object *v6 = pod_with_network("fd00::2", "64", "default", "10.66.1.1");
	cleanup_json json_object *v6_route = pod_with_network("10.66.1.2", "24", "::/0", "fd00::1");
	cleanup_json json_object *no_addr = pod_with_network("10.66.1.2", "24", "default", NULL);
	json_object *iface, *route, *addr;

	/* the real v1.1.0 refuses the record's own shape (macAddr) */
	ck_assert(!fake_hyperstart_accepts(AGENT_STARTPOD, pod, NULL));
	ck_assert_int_eq(dialect_startpod(hs, pod, &err), 0);
	assert_accepted(AGENT_STARTPOD, pod);
	iface = json_object_array_get_idx(get(pod, "interfaces"), 0);
	/* found by the guest kernel's name, renamed to the engine's */
	ck_assert_str_eq(json_object_get_string(get(iface, "device")), "eth0");
	ck_assert_str_eq(json_object_get_string(get(iface, "newDeviceName")), "veth-c");
	ck_assert_int_eq(json_object_get_int(get(iface, "mtu")), 1400);
	ck_assert(!json_object_object_get_ex(iface, "macAddr", NULL));
	addr = json_object_array_get_idx(get(iface, "ipAddresses"), 0);
	ck_assert_str_eq(json_object_get_string(get(addr, "ipAddress")), "10.66.1.2");
	ck_assert_str_eq(json_object_get_string(get(addr, "netMask")), "24");
	route = json_object_array_get_idx(get(pod, "routes"), 0);
	ck_assert_str_eq(json_object_get_string(get(route, "dest")), "default");
	ck_assert_str_eq(json_object_get_string(get(route, "gateway")), "10.66.1.1");
	ck_assert_str_eq(json_object_get_string(get(route, "device")), "veth-c");
	/* the kata agent keeps its shape */
	ck_assert_int_eq(dialect_startpod(kata, pod_kata, &err), 0);
	iface = json_object_array_get_idx(get(pod_kata, "interfaces"), 0);
	ck_assert(json_object_object_get_ex(iface, "macAddr", NULL));
	/* what hyperstart would drop without a word is refused, naming the dialect */
	ck_assert_int_lt(dialect_startpod(hs, v6, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "interface `veth-c`: address fd00::2/64"));
	ck_assert_ptr_nonnull(strstr(err->message, "hyperstart dialect"));
	kata_error_free(&err);
	ck_assert_int_lt(dialect_startpod(hs, v6_route, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "route to ::/0 via fd00::1 on `veth-c`"));
	ck_assert_ptr_nonnull(strstr(err->message, "hyperstart dialect"));
	kata_error_free(&err);
	json_object_array_del_idx(
	        get(json_object_array_get_idx(get(no_addr, "interfaces"), 0), "ipAddresses"), 0, 1);
	ck_assert_int_lt(dialect_startpod(hs, no_addr, &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "interface `veth-c`: no IPv4 address"));
	kata_config_free(hs);
	kata_config_free(kata);
}
END_TEST

START_TEST(test_kill_and_missing_operations)
{
	struct kata_config *hs = config_with("hyperstart", "virtio-9p");
	struct kata_config *kata = config_with("kata", "virtio-9p");
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *kill_hs = dialect_kill_request(hs, "c1", 15, true);
	cleanup_json json_object *kill_kata = dialect_kill_request(kata, "c1", 15, true);

	assert_accepted(AGENT_KILLCONTAINER, kill_hs);
	ck_assert(json_object_object_get_ex(kill_kata, "all", NULL));
	ck_assert(!fake_hyperstart_accepts(AGENT_KILLCONTAINER, kill_kata, NULL));
	ck_assert_int_eq(dialect_require(kata, "ps", &err), 0);
	ck_assert_int_eq(dialect_require(hs, "exec", &err), 0);
	ck_assert_int_lt(dialect_require(hs, "ps", &err), 0);
	ck_assert_ptr_nonnull(strstr(err->message, "ps"));
	ck_assert_ptr_nonnull(strstr(err->message, "hyperstart"));
	kata_error_free(&err);
	ck_assert_int_lt(dialect_require(hs, "update", &err), 0);
	kata_error_free(&err);
	ck_assert_int_lt(dialect_require(hs, "events --stats", &err), 0);
	/* and the codes themselves: hyperstart has none of this project's 26-29 */
	ck_assert(!fake_hyperstart_accepts(AGENT_STARTCONTAINER, NULL, NULL));
	ck_assert(!fake_hyperstart_accepts(AGENT_PSCONTAINER, NULL, NULL));
	kata_config_free(hs);
	kata_config_free(kata);
}
END_TEST

static Suite *dialect_suite(void)
{
	Suite *s = suite_create("dialect-hyperstart");
	TCase *tc = tcase_create("messages");

	tcase_add_test(tc, test_newcontainer_shape);
	tcase_add_test(tc, test_execcmd_shape);
	tcase_add_test(tc, test_with_wait);
	tcase_add_test(tc, test_startpod_per_dialect);
	tcase_add_test(tc, test_startpod_network);
	tcase_add_test(tc, test_kill_and_missing_operations);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = dialect_suite };
