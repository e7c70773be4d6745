/* Hot-plugging a NIC (backends/nic_hotplug.c, backends/qemu/qemu_nic_hotplug.c): the QMP
 * sequence and its arguments against a recording monitor; the qemu backend's path against
 * the scripted fake QMP server, which must receive the tap's fd with getfd and writes into
 * it; the undo steps when qemu refuses a step; refusals before anything is sent. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check_main.h"
#include "cleanup.h"
#include "error.h"
#include "nic_hotplug.h"
#include "qemu/qemu_backend.h"
#include "qemu/qmp.h"
#include "tests/fakes/fake_qmp.h"

#define N(script) (sizeof(script) / sizeof((script)[0]))

/* --- a recording monitor ------------------------------------------------------------------ */

struct recorder {
	char *commands[8]; /* "getfd {...} fd" */
	size_t n;
	const char *fail_on; /* the command to answer with an error */
};

static int record(void *opaque, const char *command, json_object *args, int fd, kata_error_t *err)
{
	struct recorder *r = opaque;

	ck_assert_uint_lt(r->n, 8);
	r->commands[r->n++] = xasprintf(
	        "%s %s%s", command, json_object_to_json_string_ext(args, JSON_C_TO_STRING_PLAIN),
	        fd >= 0 ? " +fd" : "");
	if (r->fail_on != NULL && strcmp(r->fail_on, command) == 0)
		return kata_error_set(err, EIO, "%s: refused by the test", command);
	return 0;
}

static void recorder_clear(struct recorder *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->commands[i]);
	r->n = 0;
}

static const struct hypervisor_nic nic = { .tap_fd = 0, .mac = "02:42:ac:11:00:02", .mtu = 1500 };

START_TEST(test_sequence_q35)
{
	struct recorder r = { 0 };
	struct nic_hotplug_monitor mon = { .execute = record, .opaque = &r };
	cleanup_error kata_error_t err = NULL;
	char port[32];

	nic_hotplug_port_id(2, port);
	ck_assert_str_eq(port, "katanicport2");
	ck_assert_int_eq(nic_hotplug_run(&mon, &nic, 2, port, &err), 0);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.commands[0], "getfd {\"fdname\":\"katanetfd2\"} +fd");
	ck_assert_str_eq(r.commands[1], "netdev_add {\"type\":\"tap\",\"id\":\"katanet2\","
	                                "\"fd\":\"katanetfd2\",\"vhost\":false}");
	ck_assert_str_eq(r.commands[2],
	                 "device_add {\"driver\":\"virtio-net-pci\",\"id\":\"katanic2\","
	                 "\"netdev\":\"katanet2\",\"mac\":\"02:42:ac:11:00:02\","
	                 "\"bus\":\"katanicport2\"}");
	recorder_clear(&r);
}
END_TEST

START_TEST(test_sequence_pc_root_bus)
{
	struct recorder r = { 0 };
	struct nic_hotplug_monitor mon = { .execute = record, .opaque = &r };
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(nic_hotplug_run(&mon, &nic, 0, NULL, &err), 0);
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.commands[2],
	                 "device_add {\"driver\":\"virtio-net-pci\",\"id\":\"katanic0\","
	                 "\"netdev\":\"katanet0\",\"mac\":\"02:42:ac:11:00:02\"}");
	recorder_clear(&r);
}
END_TEST

/* Each refused step undoes the ones before it, and the error names the NIC and the step. */
START_TEST(test_undo_after_refusal)
{
	struct recorder r = { .fail_on = "netdev_add" };
	struct nic_hotplug_monitor mon = { .execute = record, .opaque = &r };
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(nic_hotplug_run(&mon, &nic, 1, "katanicport1", &err), -1);
	ck_assert_str_eq(err->message,
	                 "hot-plug NIC 1 (02:42:ac:11:00:02): netdev_add: refused by the test");
	ck_assert_uint_eq(r.n, 3);
	ck_assert_str_eq(r.commands[2], "closefd {\"fdname\":\"katanetfd1\"}");
	recorder_clear(&r);
	kata_error_free(&err);

	r.fail_on = "device_add";
	ck_assert_int_eq(nic_hotplug_run(&mon, &nic, 1, "katanicport1", &err), -1);
	ck_assert_uint_eq(r.n, 4);
	ck_assert_str_eq(r.commands[3], "netdev_del {\"id\":\"katanet1\"}");
	recorder_clear(&r);
	kata_error_free(&err);

	/* A refused first step has nothing to undo. */
	r.fail_on = "getfd";
	ck_assert_int_eq(nic_hotplug_run(&mon, &nic, 1, "katanicport1", &err), -1);
	ck_assert_uint_eq(r.n, 1);
	recorder_clear(&r);
}
END_TEST

START_TEST(test_refusals_send_nothing)
{
	struct recorder r = { 0 };
	struct nic_hotplug_monitor mon = { .execute = record, .opaque = &r };
	struct hypervisor_nic no_tap = nic;
	cleanup_error kata_error_t err = NULL;

	ck_assert_int_eq(nic_hotplug_run(&mon, &nic, NIC_HOTPLUG_MAX, NULL, &err), -1);
	ck_assert_int_eq(err->errno_value, ENOSPC);
	kata_error_free(&err);
	no_tap.tap_fd = -1;
	ck_assert_int_eq(nic_hotplug_run(&mon, &no_tap, 0, NULL, &err), -1);
	ck_assert_int_eq(err->errno_value, EBADF);
	kata_error_free(&err);
	/* microvm: refused before connecting (there is no server at this path). */
	ck_assert_int_eq(qemu_nic_hotplug_over("/nonexistent/qmp.sock", "microvm", &nic, 0, &err),
	                 -1);
	ck_assert_int_eq(err->errno_value, ENOTSUP);
	ck_assert_uint_eq(r.n, 0);
}
END_TEST

/* --- the qemu backend over QMP ------------------------------------------------------------- */

/* What qemu is sent for one NIC that it accepts. */
/* clang-format off */
#define HOTPLUG_ACCEPTED                                 \
	{ FAKE_QMP_EXPECT_FD, "getfd" },                 \
	{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },        \
	{ FAKE_QMP_EXPECT, "netdev_add" },               \
	{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },        \
	{ FAKE_QMP_EXPECT, "device_add" },               \
	{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY }
/* clang-format on */

/* Plugs a NIC whose tap's stand-in is a pipe's write end against the fake running script:
 * over a connection of its own (q35), or (pc) over one opened first and used for a
 * "query-status" before, as a clone's is. The fake writes into the fd it received, and what
 * it wrote is read back from the pipe. */
static void plug_and_check_fd(const char *name, const struct fake_qmp_step *script, size_t n,
                              bool on_open_connection)
{
	cleanup_free char *path = xasprintf("%s/%s.sock", unit_test_dir, name);
	struct fake_qmp *fq = fake_qmp_start(path, script, n);
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_nic tap = nic;
	struct qmp *qmp = NULL;
	int p[2], ret;
	char buf[16] = "";

	ck_assert_int_eq(pipe(p), 0);
	tap.tap_fd = p[1];
	if (on_open_connection) {
		qmp = qmp_connect(path, 2000, &err);
		ck_assert_ptr_nonnull(qmp);
		ck_assert_int_eq(qmp_execute(qmp, "query-status", NULL, NULL, 2000, &err), 0);
		ret = qemu_nic_hotplug_on(qmp, "pc", &tap, 1, &err);
	} else {
		ret = qemu_nic_hotplug_over(path, "q35", &tap, 0, &err);
	}
	ck_assert_msg(ret == 0, "%s", err ? err->message : "");
	ck_assert_int_eq(fake_qmp_finish(fq, 2000), 0);
	if (qmp != NULL)
		qmp_close(qmp);
	close(p[1]);
	ck_assert_int_eq(read(p[0], buf, sizeof(buf) - 1), 9);
	ck_assert_str_eq(buf, "fake-qmp\n");
	close(p[0]);
	fake_qmp_stop(fq);
}

START_TEST(test_qemu_passes_the_fd)
{
	static const struct fake_qmp_step script[] = { FAKE_QMP_HANDSHAKE, HOTPLUG_ACCEPTED };

	plug_and_check_fd("fd", script, N(script), false);
}
END_TEST

/* A clone plugs its NICs over the connection it loaded the state with: the same monitor
 * session, after other commands on it (qemu greets one client at a time). */
START_TEST(test_qemu_hotplug_on_an_open_connection)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		HOTPLUG_ACCEPTED,
	};

	plug_and_check_fd("open", script, N(script), true);
}
END_TEST

START_TEST(test_qemu_refused_device_is_undone)
{
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT_FD, "getfd" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "netdev_add" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "device_add" },
		{ FAKE_QMP_SEND, "{\"error\": {\"class\": \"GenericError\", \"desc\": \"Bus "
		                 "'katanicport0' not found\"}, \"id\": @ID@}\r\n" },
		{ FAKE_QMP_EXPECT, "netdev_del" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
	};
	cleanup_free char *path = xasprintf("%s/refused.sock", unit_test_dir);
	struct fake_qmp *fq = fake_qmp_start(path, script, N(script));
	cleanup_error kata_error_t err = NULL;
	struct hypervisor_nic tap = nic;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	tap.tap_fd = p[1];
	ck_assert_int_eq(qemu_nic_hotplug_over(path, "q35", &tap, 0, &err), -1);
	ck_assert_str_eq(err->message, "hot-plug NIC 0 (02:42:ac:11:00:02): device_add: Bus "
	                               "'katanicport0' not found");
	ck_assert_int_eq(fake_qmp_finish(fq, 2000), 0);
	close(p[0]);
	close(p[1]);
	fake_qmp_stop(fq);
}
END_TEST

static Suite *nic_hotplug_suite(void)
{
	Suite *s = suite_create("nic_hotplug");
	TCase *tc = tcase_create("sequence");

	tcase_add_test(tc, test_sequence_q35);
	tcase_add_test(tc, test_sequence_pc_root_bus);
	tcase_add_test(tc, test_undo_after_refusal);
	tcase_add_test(tc, test_refusals_send_nothing);
	suite_add_tcase(s, tc);
	tc = tcase_create("qemu");
	tcase_add_test(tc, test_qemu_passes_the_fd);
	tcase_add_test(tc, test_qemu_hotplug_on_an_open_connection);
	tcase_add_test(tc, test_qemu_refused_device_is_undone);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = nic_hotplug_suite,
	                             .test_dir = "kata-test-nic-hotplug" };
