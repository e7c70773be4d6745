/* The qemu side of the container's network: -netdev tap,fd=N with virtio-net per machine
 * type, refused MACs, and the launcher that hands the taps' fds to qemu at those numbers. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "qemu/launch.h"
#include "qemu/qemu_cmdline.h"

static struct kata_hypervisor_config hc;
static struct qemu_plan plan;
static struct hypervisor_nic nics[2] = {
	{ .tap_fd = 7, .mac = "02:42:ac:11:00:02", .mtu = 1500 },
	{ .tap_fd = 9, .mac = "02:42:0a:01:00:07", .mtu = 9000 },
};

static void setup(void)
{
	memset(&hc, 0, sizeof(hc));
	memset(&plan, 0, sizeof(plan));
	hc.kernel = "/opt/kata/vmlinux";
	hc.initrd = "/opt/kata/initrd.img";
	hc.machine_type = "q35";
	plan.id = "sb1";
	plan.accelerator = KATA_ACCEL_TCG;
	plan.vcpus = 1;
	plan.memory_mib = 512;
	plan.qmp_path = "/run/kata/sb1/qmp.sock";
	plan.channel_paths[0] = "/run/kata/sb1/ctl.sock";
	plan.channel_paths[1] = "/run/kata/sb1/io.sock";
	plan.pid_path = "/run/kata/sb1/qemu.pid";
	plan.nics = nics;
	plan.n_nics = 2;
}

/* The values of every occurrence of opt, joined with '|'. */
static char *values(char **argv, const char *opt)
{
	char *out = xstrdup("");

	for (char **a = argv; *a != NULL && a[1] != NULL; a++) {
		if (strcmp(*a, opt) == 0) {
			char *next = xasprintf("%s%s|", out, a[1]);
			free(out);
			out = next;
		}
	}
	return out;
}

START_TEST(test_q35_virtio_net_pci)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_strv char **argv = qemu_build_cmdline(&hc, &plan, &err);
	cleanup_free char *netdevs = NULL, *devices = NULL;

	ck_assert_msg(argv != NULL, "%s", err != NULL ? err->message : "");
	netdevs = values(argv, "-netdev");
	ck_assert_str_eq(netdevs, "tap,id=net0,fd=3,vhost=off|tap,id=net1,fd=4,vhost=off|");
	devices = values(argv, "-device");
	ck_assert_msg(strstr(devices, "|virtio-net-pci,netdev=net0,mac=02:42:ac:11:00:02|"
	                              "virtio-net-pci,netdev=net1,mac=02:42:0a:01:00:07|") != NULL,
	              "%s", devices);
}
END_TEST

START_TEST(test_microvm_virtio_net_device)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_strv char **argv = NULL;
	cleanup_free char *devices = NULL;

	hc.machine_type = "microvm";
	plan.n_nics = 1;
	argv = qemu_build_cmdline(&hc, &plan, &err);
	ck_assert_msg(argv != NULL, "%s", err != NULL ? err->message : "");
	devices = values(argv, "-device");
	ck_assert_msg(strstr(devices, "virtio-net-device,netdev=net0,mac=02:42:ac:11:00:02|"), "%s",
	              devices);
	ck_assert(strstr(devices, "net1") == NULL);
}
END_TEST

START_TEST(test_no_nics_no_netdev)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_strv char **argv = NULL;
	cleanup_free char *netdevs = NULL, *devices = NULL;

	plan.n_nics = 0;
	argv = qemu_build_cmdline(&hc, &plan, &err);
	ck_assert_ptr_nonnull(argv);
	netdevs = values(argv, "-netdev");
	devices = values(argv, "-device");
	ck_assert_str_eq(netdevs, "");
	ck_assert(strstr(devices, "virtio-net") == NULL);
}
END_TEST

START_TEST(test_bad_mac_refused)
{
	static const char *const bad[] = { "02:42:ac:11:00", "02:42:ac:11:00:0g",
		                           "02:42:ac:11:00,02", "02-42-ac-11-00-02", "" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cleanup_error kata_error_t err = NULL;
		struct hypervisor_nic nic = { .tap_fd = 5, .mtu = 1500 };

		snprintf(nic.mac, sizeof(nic.mac), "%s", bad[i]);
		plan.nics = &nic;
		plan.n_nics = 1;
		ck_assert_ptr_null(qemu_build_cmdline(&hc, &plan, &err));
		ck_assert_int_eq(err->errno_value, EINVAL);
		ck_assert_msg(strstr(err->message, "MAC address") != NULL, "%s", err->message);
	}
}
END_TEST

/* The program finds the fds at 3 and 4 (whatever numbers they had here), and nothing else
 * of ours beyond them. */
START_TEST(test_launcher_places_fds)
{
	cleanup_error kata_error_t err = NULL;
	int first[2], second[2];
	int fds[2];
	char buf[16] = { 0 };
	char *argv[] = { "/bin/sh", "-c",
		         "echo one >&3 && echo two >&4 && "
		         "for fd in 5 6 7 8 9 10 11 12; do [ ! -e /proc/self/fd/$fd ] || exit 9; "
		         "done",
		         NULL };

	/* pipes whose write ends are not at 3 and 4 here: 3..6 are taken first */
	ck_assert_int_eq(pipe2(first, O_CLOEXEC), 0);
	ck_assert_int_eq(pipe2(second, O_CLOEXEC), 0);
	fds[0] = second[1]; /* crossed over, so a naive dup2 would clobber */
	fds[1] = first[1];
	ck_assert_msg(launch_daemonizing_fds(argv, fds, 2, 3, 5000, &err) == 0, "%s", err->message);
	close(first[1]);
	close(second[1]);
	ck_assert_int_eq(read(second[0], buf, sizeof(buf) - 1), 4);
	ck_assert_str_eq(buf, "one\n");
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(read(first[0], buf, sizeof(buf) - 1), 4);
	ck_assert_str_eq(buf, "two\n");
	close(first[0]);
	close(second[0]);
}
END_TEST

static Suite *network_qemu_suite(void)
{
	Suite *s = suite_create("network_qemu");
	TCase *tc = tcase_create("netdev");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_q35_virtio_net_pci);
	tcase_add_test(tc, test_microvm_virtio_net_device);
	tcase_add_test(tc, test_no_nics_no_netdev);
	tcase_add_test(tc, test_bad_mac_refused);
	tcase_add_test(tc, test_launcher_places_fds);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = network_qemu_suite };
