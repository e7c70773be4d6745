/* The qemu command line, argument by argument: per machine type, shared filesystem and
 * accelerator, hotplug, debug, escaping, valid_hypervisor_paths; virtiofsd's. */
#include "check_main.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "qemu/qemu_cmdline.h"
#include "qemu/virtiofsd.h"

static struct kata_hypervisor_config hc;
static struct qemu_plan plan;

static void setup(void)
{
	memset(&hc, 0, sizeof(hc));
	memset(&plan, 0, sizeof(plan));
	hc.kernel = "/opt/kata/vmlinux";
	hc.initrd = "/opt/kata/initrd.img";
	hc.machine_type = "q35";
	plan.id = "sb1";
	plan.shared_dir = "/run/kata/sb1/shared";
	plan.accelerator = KATA_ACCEL_TCG;
	plan.vcpus = 1;
	plan.maxvcpus = 4;
	plan.memory_mib = 512;
	plan.host_memory_mib = 8192;
	plan.host_tsc_khz = 2596132;
	plan.qmp_path = "/run/kata/sb1/qmp.sock";
	plan.channel_paths[0] = "/run/kata/sb1/ctl.sock";
	plan.channel_paths[1] = "/run/kata/sb1/io.sock";
	plan.console_path = "/run/kata/sb1/console.sock";
	plan.pid_path = "/run/kata/sb1/qemu.pid";
	plan.virtiofsd_socket = "/run/kata/sb1/virtiofsd.sock";
}

/* The value that follows option `opt` (the n-th occurrence), or NULL. */
static const char *option(char **argv, const char *opt, int n)
{
	for (char **a = argv; *a != NULL && a[1] != NULL; a++)
		if (strcmp(*a, opt) == 0 && n-- == 0)
			return a[1];
	return NULL;
}

static bool has_arg(char **argv, const char *arg)
{
	for (char **a = argv; *a != NULL; a++)
		if (strcmp(*a, arg) == 0)
			return true;
	return false;
}

static bool has_value(char **argv, const char *opt, const char *value)
{
	const char *v;

	for (int n = 0; (v = option(argv, opt, n)) != NULL; n++)
		if (strcmp(v, value) == 0)
			return true;
	return false;
}

static bool has_value_prefix(char **argv, const char *opt, const char *prefix)
{
	const char *v;

	for (int n = 0; (v = option(argv, opt, n)) != NULL; n++)
		if (strncmp(v, prefix, strlen(prefix)) == 0)
			return true;
	return false;
}

static char **build(void)
{
	cleanup_error kata_error_t err = NULL;
	char **argv = qemu_build_cmdline(&hc, &plan, &err);

	ck_assert_msg(argv != NULL, "%s", err != NULL ? err->message : "");
	return argv;
}

START_TEST(test_q35_9p_tcg)
{
	cleanup_strv char **argv = build();
	const char *append = option(argv, "-append", 0);

	ck_assert_str_eq(argv[0], "/usr/bin/qemu-system-x86_64");
	ck_assert_str_eq(option(argv, "-machine", 0), "q35");
	ck_assert_str_eq(option(argv, "-accel", 0), "tcg"); /* tcg_tb_size 0: qemu's default */
	ck_assert(!has_value_prefix(argv, "-device", "virtio-balloon")); /* not asked for */
	ck_assert_ptr_null(option(argv, "-cpu", 0)); /* qemu's default model under TCG */
	ck_assert_str_eq(option(argv, "-smp", 0), "1,maxcpus=4");
	ck_assert_str_eq(option(argv, "-m", 0), "512M");
	ck_assert(has_arg(argv, "-nodefaults"));
	ck_assert(has_arg(argv, "-no-user-config"));
	ck_assert(has_arg(argv, "-no-reboot"));
	ck_assert(!has_arg(argv, "-nographic")); /* refused by qemu with -daemonize */
	ck_assert_str_eq(option(argv, "-display", 0), "none");
	ck_assert_str_eq(option(argv, "-kernel", 0), "/opt/kata/vmlinux");
	ck_assert_str_eq(option(argv, "-initrd", 0), "/opt/kata/initrd.img");
	ck_assert_str_eq(option(argv, "-qmp", 0), "unix:/run/kata/sb1/qmp.sock,server=on,wait=off");
	ck_assert(has_value(argv, "-device", "virtio-serial-pci,id=serial0"));
	ck_assert(has_value(argv, "-chardev",
	                    "socket,id=channel0,path=/run/kata/sb1/ctl.sock,server=on,wait=off"));
	ck_assert(has_value(argv, "-device",
	                    "virtserialport,bus=serial0.0,chardev=channel0,"
	                    "name=sh.hyper.channel.0"));
	ck_assert(has_value(argv, "-chardev",
	                    "socket,id=channel1,path=/run/kata/sb1/io.sock,server=on,wait=off"));
	ck_assert(has_value(argv, "-device",
	                    "virtserialport,bus=serial0.0,chardev=channel1,"
	                    "name=sh.hyper.channel.1"));
	ck_assert(has_value(argv, "-chardev",
	                    "socket,id=console0,path=/run/kata/sb1/console.sock,"
	                    "server=on,wait=off"));
	ck_assert(has_value(argv, "-device", "virtconsole,bus=serial0.0,chardev=console0"));
	ck_assert(has_value(argv, "-fsdev",
	                    "local,id=share0,path=/run/kata/sb1/shared,"
	                    "security_model=none,multidevs=remap"));
	ck_assert(has_value(argv, "-device", "virtio-9p-pci,fsdev=share0,mount_tag=kataShared"));
	ck_assert(has_value(argv, "-object", "rng-random,id=rng0,filename=/dev/urandom"));
	ck_assert(has_value(argv, "-device", "virtio-rng-pci,rng=rng0"));
	ck_assert_str_eq(option(argv, "-pidfile", 0), "/run/kata/sb1/qemu.pid");
	ck_assert_str_eq(argv[strv_length(argv) - 1], "-daemonize");
	ck_assert_ptr_null(option(argv, "-numa", 0));

	ck_assert_ptr_nonnull(strstr(append, "tsc=reliable no_timer_check"));
	ck_assert_ptr_nonnull(strstr(append, "i8042.noaux=1"));
	ck_assert_ptr_nonnull(strstr(append, " panic=1"));
	ck_assert_ptr_nonnull(strstr(append, " reboot=k"));
	ck_assert_ptr_nonnull(strstr(append, " console=hvc0"));
	ck_assert_ptr_nonnull(strstr(append, " quiet"));
	ck_assert_ptr_nonnull(strstr(append, " agent.msize_9p=512000"));
	ck_assert_ptr_null(strstr(append, "tsc_early_khz"));
}
END_TEST

/* The PIT replaces the local APIC timer only for a TCG guest that cannot grow past one vCPU. */
START_TEST(test_nolapic_timer_only_for_one_vcpu_under_tcg)
{
	cleanup_free char *one = NULL, *hotplug = NULL, *two = NULL, *kvm = NULL;

	plan.maxvcpus = 0;
	one = qemu_kernel_params(&hc, &plan);
	ck_assert_ptr_nonnull(strstr(one, " nolapic_timer"));
	plan.maxvcpus = 4;
	hotplug = qemu_kernel_params(&hc, &plan);
	ck_assert_ptr_null(strstr(hotplug, "nolapic_timer"));
	plan.maxvcpus = 0;
	plan.vcpus = 2;
	two = qemu_kernel_params(&hc, &plan);
	ck_assert_ptr_null(strstr(two, "nolapic_timer"));
	plan.vcpus = 1;
	plan.accelerator = KATA_ACCEL_KVM;
	kvm = qemu_kernel_params(&hc, &plan);
	ck_assert_ptr_null(strstr(kvm, "nolapic_timer"));
}
END_TEST

START_TEST(test_microvm)
{
	cleanup_strv char **argv = NULL;
	const char *append;

	hc.machine_type = "microvm";
	hc.memory_slots = 10; /* microvm has no memory hotplug: ignored */
	argv = build();
	append = option(argv, "-append", 0);
	ck_assert_str_eq(option(argv, "-machine", 0), "microvm,acpi=off");
	ck_assert_str_eq(option(argv, "-m", 0), "512M");
	ck_assert(has_value(argv, "-device", "virtio-serial-device,id=serial0"));
	ck_assert(has_value(argv, "-device", "virtio-9p-device,fsdev=share0,mount_tag=kataShared"));
	ck_assert(has_value(argv, "-device", "virtio-rng-device,rng=rng0"));
	ck_assert_ptr_nonnull(strstr(append, " reboot=t"));
	ck_assert_ptr_null(strstr(append, "reboot=k"));
	ck_assert_ptr_nonnull(strstr(append, " tsc_early_khz=2596132"));
	ck_assert_ptr_nonnull(strstr(append, " percpu_alloc=page"));
	ck_assert_ptr_null(strstr(append, "page_reporting")); /* no balloon asked for */
}
END_TEST

/* tcg_tb_size bounds TCG's translation cache; reclaim_guest_freed_memory adds the balloon
 * with free page reporting, on the bus the machine has. */
START_TEST(test_tb_size_and_free_page_reporting)
{
	cleanup_strv char **q35 = NULL, **microvm = NULL, **kvm = NULL;

	hc.tcg_tb_size = 16;
	hc.reclaim_guest_freed_memory = true;
	q35 = build();
	ck_assert_str_eq(option(q35, "-accel", 0), "tcg,tb-size=16");
	ck_assert(has_value(q35, "-device", "virtio-balloon-pci,free-page-reporting=on"));
	ck_assert_ptr_nonnull(
	        strstr(option(q35, "-append", 0), " page_reporting.page_reporting_order=5"));
	hc.machine_type = "microvm";
	microvm = build();
	ck_assert(has_value(microvm, "-device", "virtio-balloon-device,free-page-reporting=on"));
	plan.accelerator = KATA_ACCEL_KVM; /* KVM has no translation cache */
	kvm = build();
	ck_assert_str_eq(option(kvm, "-accel", 0), "kvm");
	ck_assert_ptr_null(option(kvm, "-accel", 1));
}
END_TEST

START_TEST(test_pc_kvm_features_and_hotplug)
{
	cleanup_strv char **argv = NULL;

	hc.machine_type = "pc";
	hc.machine_accelerators = "kernel_irqchip=on";
	hc.cpu_features = "pmu=off";
	hc.memory_slots = 10;
	plan.memory_hotplug = true;
	plan.accelerator = KATA_ACCEL_KVM;
	argv = build();
	ck_assert_str_eq(option(argv, "-machine", 0), "pc,kernel_irqchip=on");
	ck_assert_str_eq(option(argv, "-accel", 0), "kvm");
	ck_assert_str_eq(option(argv, "-cpu", 0), "host,pmu=off");
	ck_assert_str_eq(option(argv, "-m", 0), "512M,slots=10,maxmem=8192M");
}
END_TEST

START_TEST(test_bridges)
{
	cleanup_strv char **argv = NULL;

	hc.default_bridges = 2;
	argv = build();
	ck_assert_str_eq(option(argv, "-device", 0),
	                 "pci-bridge,bus=pcie.0,id=pci-bridge-0,chassis_nr=1,shpc=on");
	ck_assert_str_eq(option(argv, "-device", 1),
	                 "pci-bridge,bus=pcie.0,id=pci-bridge-1,chassis_nr=2,shpc=on");
	strv_free(argv);
	hc.machine_type = "pc";
	hc.default_bridges = 9; /* capped */
	argv = build();
	ck_assert(has_value(argv, "-device",
	                    "pci-bridge,bus=pci.0,id=pci-bridge-4,chassis_nr=5,shpc=on"));
	ck_assert(!has_value_prefix(argv, "-device", "pci-bridge,bus=pci.0,id=pci-bridge-5"));
	strv_free(argv);
	hc.machine_type = "microvm";
	argv = build();
	ck_assert(!has_value_prefix(argv, "-device", "pci-bridge"));
}
END_TEST

START_TEST(test_tcg_with_cpu_features)
{
	cleanup_strv char **argv = NULL;

	hc.cpu_features = "+x2apic";
	argv = build();
	ck_assert_str_eq(option(argv, "-cpu", 0), "qemu64,+x2apic");
}
END_TEST

START_TEST(test_virtio_fs)
{
	cleanup_strv char **argv = NULL;

	hc.shared_fs = KATA_SHARED_FS_VIRTIO_FS;
	argv = build();
	ck_assert(has_value(argv, "-chardev",
	                    "socket,id=virtiofs0,path=/run/kata/sb1/virtiofsd.sock"));
	ck_assert(has_value(argv, "-device",
	                    "vhost-user-fs-pci,chardev=virtiofs0,tag=kataShared,"
	                    "queue-size=1024"));
	ck_assert(has_value(argv, "-object", "memory-backend-memfd,id=mem0,size=512M,share=on"));
	ck_assert_str_eq(option(argv, "-numa", 0), "node,memdev=mem0");
	ck_assert_ptr_null(option(argv, "-fsdev", 0));
	ck_assert_ptr_null(strstr(option(argv, "-append", 0), "msize_9p"));
}
END_TEST

START_TEST(test_no_share)
{
	cleanup_strv char **argv = NULL;

	plan.shared_dir = NULL;
	argv = build();
	ck_assert_ptr_null(option(argv, "-fsdev", 0));
	ck_assert(!has_value_prefix(argv, "-device", "virtio-9p"));
}
END_TEST

START_TEST(test_debug_and_user_params)
{
	cleanup_strv char **argv = NULL;
	const char *append;

	plan.debug = true;
	plan.console_log_path = "/run/kata/sb1/console.log";
	hc.kernel_params = "agent.log=debug";
	plan.extra_kernel_params = "quiet";
	hc.msize_9p = 65536;
	hc.entropy_source = "/dev/random";
	argv = build();
	append = option(argv, "-append", 0);
	ck_assert(has_value(argv, "-chardev",
	                    "socket,id=console0,path=/run/kata/sb1/console.sock,server=on,"
	                    "wait=off,logfile=/run/kata/sb1/console.log"));
	ck_assert_ptr_nonnull(strstr(append, "agent.msize_9p=65536"));
	/* Ours has no quiet in debug; the user's parameters come last, unchanged. */
	ck_assert_str_eq(append + strlen(append) - strlen(" agent.log=debug quiet"),
	                 " agent.log=debug quiet");
	ck_assert_ptr_null(strstr(append, "quiet agent.log"));
	ck_assert(has_value(argv, "-object", "rng-random,id=rng0,filename=/dev/random"));
}
END_TEST

START_TEST(test_commas_are_escaped)
{
	cleanup_strv char **argv = NULL;

	plan.shared_dir = "/srv/a,b";
	plan.id = "x,y";
	argv = build();
	ck_assert(has_value(argv, "-fsdev",
	                    "local,id=share0,path=/srv/a,,b,security_model=none,multidevs=remap"));
	ck_assert_str_eq(option(argv, "-name", 0), "sandbox-x,,y");
}
END_TEST

START_TEST(test_foreground_serial_console)
{
	cleanup_strv char **argv = NULL;

	plan.foreground = true;
	plan.serial_console = true;
	plan.console_log_path = "/tmp/p/console.log";
	argv = build();
	ck_assert(!has_arg(argv, "-daemonize"));
	ck_assert_ptr_null(option(argv, "-pidfile", 0));
	ck_assert(has_value(argv, "-chardev", "file,id=console0,path=/tmp/p/console.log"));
	ck_assert_str_eq(option(argv, "-serial", 0), "chardev:console0");
	ck_assert(!has_value_prefix(argv, "-device", "virtconsole"));
	ck_assert_ptr_nonnull(strstr(option(argv, "-append", 0), "console=ttyS0"));
}
END_TEST

START_TEST(test_refusals)
{
	cleanup_error kata_error_t err = NULL;
	char *valid[] = { "/usr/bin/qemu-lite*", NULL };
	char *valid_ok[] = { "/opt/*", "/usr/bin/qemu-system-*", NULL };
	char **argv;

	hc.machine_type = "virt";
	ck_assert_ptr_null(qemu_build_cmdline(&hc, &plan, &err));
	ck_assert_ptr_nonnull(strstr(err->message, "machine_type 'virt'"));
	kata_error_free(&err);
	hc.machine_type = "q35";

	hc.valid_hypervisor_paths = valid;
	ck_assert_ptr_null(qemu_build_cmdline(&hc, &plan, &err));
	ck_assert_int_eq(err->errno_value, EPERM);
	kata_error_free(&err);
	hc.valid_hypervisor_paths = valid_ok;
	argv = qemu_build_cmdline(&hc, &plan, &err);
	ck_assert_ptr_nonnull(argv);
	strv_free(argv);

	hc.path = "qemu-system-x86_64";
	ck_assert_ptr_null(qemu_build_cmdline(&hc, &plan, &err));
	kata_error_free(&err);
	hc.path = NULL;

	plan.accelerator = KATA_ACCEL_AUTO; /* must be resolved before */
	ck_assert_ptr_null(qemu_build_cmdline(&hc, &plan, &err));
	kata_error_free(&err);
	plan.accelerator = KATA_ACCEL_TCG;

	hc.msize_9p = 4 * 1024 * 1024;
	ck_assert_ptr_null(qemu_build_cmdline(&hc, &plan, &err));
	kata_error_free(&err);
	hc.msize_9p = 0;

	hc.kernel = NULL;
	ck_assert_ptr_null(qemu_build_cmdline(&hc, &plan, &err));
}
END_TEST

START_TEST(test_virtiofsd_cmdline)
{
	char *extra[] = { "-o", "xattr", NULL };
	cleanup_strv char **argv = NULL;

	hc.virtio_fs_extra_args = extra;
	hc.virtio_fs_cache = "none";
	argv = virtiofsd_build_cmdline(&hc, "/srv/shared", "/run/kata/sb1/virtiofsd.sock");
	ck_assert_str_eq(argv[0], "/usr/lib/qemu/virtiofsd");
	ck_assert_str_eq(argv[1], "--socket-path=/run/kata/sb1/virtiofsd.sock");
	ck_assert(has_value(argv, "-o", "source=/srv/shared"));
	ck_assert(has_value(argv, "-o", "cache=none"));
	ck_assert(has_value(argv, "-o", "xattr"));
	ck_assert(has_arg(argv, "-f"));
	bool rlimit = false;
	for (char **a = argv; *a; a++)
		rlimit |= strncmp(*a, "--rlimit-nofile=", 16) == 0;
	ck_assert(rlimit);
}
END_TEST

static Suite *qemu_cmdline_suite(void)
{
	Suite *s = suite_create("qemu_cmdline");
	TCase *tc = tcase_create("cmdline");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_q35_9p_tcg);
	tcase_add_test(tc, test_nolapic_timer_only_for_one_vcpu_under_tcg);
	tcase_add_test(tc, test_microvm);
	tcase_add_test(tc, test_tb_size_and_free_page_reporting);
	tcase_add_test(tc, test_pc_kvm_features_and_hotplug);
	tcase_add_test(tc, test_bridges);
	tcase_add_test(tc, test_tcg_with_cpu_features);
	tcase_add_test(tc, test_virtio_fs);
	tcase_add_test(tc, test_no_share);
	tcase_add_test(tc, test_debug_and_user_params);
	tcase_add_test(tc, test_commas_are_escaped);
	tcase_add_test(tc, test_foreground_serial_console);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_virtiofsd_cmdline);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = qemu_cmdline_suite };
