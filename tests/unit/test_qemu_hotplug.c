/* vCPU and memory hot-plug (backends/qemu/qemu_hotplug.c) against the scripted fake QMP
 * server: the command sequences and their arguments, and the refusals that must change
 * nothing (maxcpus reached, no memory slot, maxmem, a DIMM qemu refuses). */
#include "check_main.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "tests/fakes/fake_qmp.h"
#include "qemu/qemu_hotplug.h"
#include "qemu/qmp.h"

#define N(script) (sizeof(script) / sizeof((script)[0]))
#define RET(json) "{\"return\": " json ", \"id\": @ID@}\r\n"

/* -smp 1,maxcpus=3: one plugged, two free (qemu lists the highest first). */
#define CPUS_1_OF_3                                                                                \
	RET("[{\"props\": {\"core-id\": 2, \"thread-id\": 0, \"node-id\": 0, \"socket-id\": 0}, "  \
	    "\"vcpus-count\": 1, \"type\": \"qemu64-x86_64-cpu\"}, "                               \
	    "{\"props\": {\"core-id\": 1, \"thread-id\": 0, \"node-id\": 0, \"socket-id\": 0}, "   \
	    "\"vcpus-count\": 1, \"type\": \"qemu64-x86_64-cpu\"}, "                               \
	    "{\"props\": {\"core-id\": 0, \"thread-id\": 0, \"node-id\": 0, \"socket-id\": 0}, "   \
	    "\"vcpus-count\": 1, \"qom-path\": \"/machine/unattached/device[0]\", "                \
	    "\"type\": \"qemu64-x86_64-cpu\"}]")
/* -m 256M,slots=2,maxmem=1G */
#define MACHINE_MEMORY   RET("{\"size\": 268435456, \"slots\": 2, \"max-size\": 1073741824}")
#define SUMMARY(plugged) RET("{\"base-memory\": 268435456, \"plugged-memory\": " plugged "}")
#define ONE_DIMM                                                                                   \
	RET("[{\"type\": \"dimm\", \"data\": {\"memdev\": \"/objects/memdimm0\", \"hotplugged\": " \
	    "true, \"addr\": 4294967296, \"hotpluggable\": true, \"size\": 268435456, \"slot\": "  \
	    "0, \"node\": 0, \"id\": \"dimm0\"}}]")

#define QUERIES(cpus, summary, devices)                                                            \
	{ FAKE_QMP_EXPECT, "query-hotpluggable-cpus" }, { FAKE_QMP_SEND, cpus },                   \
	        { FAKE_QMP_EXPECT_ARGS,                                                            \
		  "qom-get {\"path\": \"/machine\", \"property\": \"memory\"}" },                  \
	        { FAKE_QMP_SEND, MACHINE_MEMORY },                                                 \
	        { FAKE_QMP_EXPECT, "query-memory-size-summary" }, { FAKE_QMP_SEND, summary },      \
	        { FAKE_QMP_EXPECT, "query-memory-devices" },                                       \
	{                                                                                          \
		FAKE_QMP_SEND, devices                                                             \
	}

/* Runs qemu_hotplug_grow against script; returns its result, *err on failure. */
static int grow(const char *name, const struct fake_qmp_step *script, size_t n, uint32_t vcpus,
                uint32_t mib, struct hypervisor_size *size, kata_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/%s.sock", unit_test_dir, name);
	struct fake_qmp *fq = fake_qmp_start(path, script, n);
	struct qmp *qmp = qmp_connect(path, 2000, err);
	int ret;

	ck_assert_msg(qmp != NULL, "%s", *err ? (*err)->message : "");
	ret = qemu_hotplug_grow(qmp, vcpus, mib, size, 2000, err);
	qmp_close(qmp);
	ck_assert_int_eq(fake_qmp_finish(fq, 2000), 0);
	fake_qmp_stop(fq);
	return ret;
}

START_TEST(test_two_cpus_and_a_dimm)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		QUERIES(CPUS_1_OF_3, SUMMARY("0"), RET("[]")),
		{ FAKE_QMP_EXPECT_ARGS,
		  "object-add {\"qom-type\": \"memory-backend-ram\", \"id\": \"memdimm0\", "
		  "\"size\": 268435456}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_ARGS,
		  "device_add {\"driver\": \"pc-dimm\", \"id\": \"dimm0\", \"memdev\": "
		  "\"memdimm0\"}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		/* the lowest free slot first, with every id qemu gave it */
		{ FAKE_QMP_EXPECT_ARGS,
		  "device_add {\"driver\": \"qemu64-x86_64-cpu\", \"id\": \"vcpu-s0-c1-t0\", "
		  "\"socket-id\": 0, \"core-id\": 1, \"thread-id\": 0, \"node-id\": 0}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_ARGS,
		  "device_add {\"driver\": \"qemu64-x86_64-cpu\", \"id\": \"vcpu-s0-c2-t0\", "
		  "\"socket-id\": 0, \"core-id\": 2, \"thread-id\": 0}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_size size = { 0 };

	ck_assert_msg(grow("both", script, N(script), 2, 256, &size, &err) == 0, "%s",
	              err ? err->message : "");
	ck_assert_uint_eq(size.vcpus, 3);
	ck_assert_uint_eq(size.memory_mib, 512);
}
END_TEST

/* 100 MiB is one 128 MiB DIMM (whole guest memory blocks), named after the DIMMs there. */
START_TEST(test_memory_rounded_to_blocks)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		QUERIES(CPUS_1_OF_3, SUMMARY("268435456"), ONE_DIMM),
		{ FAKE_QMP_EXPECT_ARGS,
		  "object-add {\"qom-type\": \"memory-backend-ram\", \"id\": \"memdimm1\", "
		  "\"size\": 134217728}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_ARGS, "device_add {\"driver\": \"pc-dimm\", \"id\": \"dimm1\"}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_size size = { 0 };

	ck_assert_msg(grow("round", script, N(script), 0, 100, &size, &err) == 0, "%s",
	              err ? err->message : "");
	ck_assert_uint_eq(size.vcpus, 1);
	ck_assert_uint_eq(size.memory_mib, 256 + 256 + 128);
}
END_TEST

/* maxcpus reached: refused before anything is plugged, memory included. */
START_TEST(test_maxcpus_reached_changes_nothing)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		QUERIES(CPUS_1_OF_3, SUMMARY("0"), RET("[]")),
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_size size = { 0 };

	ck_assert_int_eq(grow("maxcpus", script, N(script), 3, 256, &size, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOSPC);
	ck_assert_msg(strstr(err->message, "no room for 3 more vCPUs: 1 of maxcpus=3") != NULL,
	              "%s", err->message);
}
END_TEST

START_TEST(test_no_memory_slot_changes_nothing)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		QUERIES(CPUS_1_OF_3, SUMMARY("268435456"),
		        RET("[{\"type\": \"dimm\", \"data\": {\"id\": \"dimm0\"}}, "
		            "{\"type\": \"dimm\", \"data\": {\"id\": \"dimm1\"}}]")),
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_size size = { 0 };

	ck_assert_int_eq(grow("slots", script, N(script), 1, 128, &size, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOSPC);
	ck_assert_msg(strstr(err->message, "no free memory slot: 2 of 2") != NULL, "%s",
	              err->message);
}
END_TEST

START_TEST(test_maxmem_exceeded_changes_nothing)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		QUERIES(CPUS_1_OF_3, SUMMARY("268435456"), ONE_DIMM),
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_size size = { 0 };

	/* 256 + 256 in use, 1024 at most: 640 MiB does not fit */
	ck_assert_int_eq(grow("maxmem", script, N(script), 0, 640, &size, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOSPC);
	ck_assert_msg(strstr(err->message, "no room for 640 MiB more: 512 MiB of maxmem=1024") !=
	                      NULL,
	              "%s", err->message);
}
END_TEST

/* A VM started without slots and maxmem cannot take memory (but still vCPUs). */
START_TEST(test_no_memory_hotplug)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "query-hotpluggable-cpus" },
		{ FAKE_QMP_SEND, CPUS_1_OF_3 },
		{ FAKE_QMP_EXPECT, "qom-get" },
		{ FAKE_QMP_SEND,
		  RET("{\"size\": 268435456, \"slots\": 0, \"max-size\": 268435456}") },
		{ FAKE_QMP_EXPECT, "query-memory-size-summary" },
		{ FAKE_QMP_SEND, SUMMARY("0") },
		{ FAKE_QMP_EXPECT, "query-memory-devices" },
		{ FAKE_QMP_SEND, RET("[]") },
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_size size = { 0 };

	ck_assert_int_eq(grow("nomem", script, N(script), 1, 128, &size, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOSPC);
	ck_assert_msg(strstr(err->message, "no memory hot-plug") != NULL, "%s", err->message);
}
END_TEST

/* qemu refuses the DIMM: its backend object goes again, no vCPU is plugged. */
START_TEST(test_refused_dimm_is_undone)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		QUERIES(CPUS_1_OF_3, SUMMARY("0"), RET("[]")),
		{ FAKE_QMP_EXPECT, "object-add" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "device_add" },
		{ FAKE_QMP_SEND,
		  "{\"error\": {\"class\": \"GenericError\", \"desc\": \"not enough space\"}, "
		  "\"id\": @ID@}\r\n" },
		{ FAKE_QMP_EXPECT_ARGS, "object-del {\"id\": \"memdimm0\"}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_size size = { 0 };

	ck_assert_int_eq(grow("refused", script, N(script), 1, 256, &size, &err), -1);
	ck_assert_msg(strstr(err->message, "device_add dimm0: device_add: not enough space") !=
	                      NULL,
	              "%s", err->message);
}
END_TEST

/* A hostile or broken answer is an error, not a crash. */
START_TEST(test_malformed_cpu_list)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "query-hotpluggable-cpus" },
		{ FAKE_QMP_SEND, RET("[{\"type\": \"qemu64-x86_64-cpu\"}]") },
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_size size = { 0 };

	ck_assert_int_eq(grow("malformed", script, N(script), 1, 0, &size, &err), -1);
	ck_assert_int_eq(err->errno_value, EPROTO);
}
END_TEST

static Suite *qemu_hotplug_suite(void)
{
	Suite *s = suite_create("qemu_hotplug");
	TCase *tc = tcase_create("grow");

	tcase_add_test(tc, test_two_cpus_and_a_dimm);
	tcase_add_test(tc, test_memory_rounded_to_blocks);
	tcase_add_test(tc, test_maxcpus_reached_changes_nothing);
	tcase_add_test(tc, test_no_memory_slot_changes_nothing);
	tcase_add_test(tc, test_maxmem_exceeded_changes_nothing);
	tcase_add_test(tc, test_no_memory_hotplug);
	tcase_add_test(tc, test_refused_dimm_is_undone);
	tcase_add_test(tc, test_malformed_cpu_list);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = qemu_hotplug_suite,
	.test_dir = "kata-test-hotplug",
};
