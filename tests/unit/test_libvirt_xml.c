/* The libvirt backend's domain XML, parsed back with libxml2: its structure per share and
 * accelerator, the kernel command line, hostile values (quotes, <, &, newlines) that must
 * come back unchanged and add no markup, refusals. Also the state mapping and the saved
 * state's round trip and refusals. */
#include "check_main.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <libvirt/libvirt.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>

#include "cleanup.h"
#include "error.h"
#include "libvirt/libvirt_backend.h"
#include "libvirt/libvirt_sandbox.h"
#include "libvirt/libvirt_xml.h"
#include "nic_hotplug.h"

static struct kata_hypervisor_config hc;
static struct libvirt_plan plan;

static void setup(void)
{
	memset(&hc, 0, sizeof(hc));
	memset(&plan, 0, sizeof(plan));
	hc.kernel = "/opt/kata/vmlinux";
	hc.initrd = "/opt/kata/initrd.img";
	hc.machine_type = "q35";
	plan.name = "kata-sb1";
	plan.uuid = "0b4e1f2a-5c3d-4e6f-8a9b-0c1d2e3f4a5b";
	plan.shared_dir = "/run/kata/sb1/shared";
	plan.accelerator = KATA_ACCEL_TCG;
	plan.vcpus = 1;
	plan.maxvcpus = 4;
	plan.memory_mib = 512;
	plan.channel_paths[0] = "/run/kata/sb1/ctl.sock";
	plan.channel_paths[1] = "/run/kata/sb1/io.sock";
	plan.console_path = "/run/kata/sb1/console.sock";
}

/* A parsed document and XPath queries on it. */
struct doc {
	xmlDocPtr doc;
	xmlXPathContextPtr ctx;
};

static struct doc parse(const char *xml)
{
	struct doc d;

	d.doc = xmlReadMemory(xml, (int)strlen(xml), "domain.xml", NULL,
	                      XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	ck_assert_msg(d.doc != NULL, "not well-formed:\n%s", xml);
	d.ctx = xmlXPathNewContext(d.doc);
	return d;
}

static void doc_free(struct doc *d)
{
	xmlXPathFreeContext(d->ctx);
	xmlFreeDoc(d->doc);
}

/* The string value of an XPath expression ("" when it selects nothing). */
static char *query(struct doc *d, const char *expr)
{
	xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST expr, d->ctx);
	xmlChar *s;
	char *out;

	ck_assert_msg(obj != NULL, "bad XPath %s", expr);
	s = xmlXPathCastToString(obj);
	out = xstrdup((const char *)s);
	xmlFree(s);
	xmlXPathFreeObject(obj);
	return out;
}

static double count(struct doc *d, const char *expr)
{
	cleanup_free char *wrapped = xasprintf("count(%s)", expr);
	xmlXPathObjectPtr obj = xmlXPathEvalExpression(BAD_CAST wrapped, d->ctx);
	double n = obj != NULL ? obj->floatval : -1;

	xmlXPathFreeObject(obj);
	return n;
}

#define ck_query(d, expr, want)                                                                    \
	do {                                                                                       \
		cleanup_free char *got_ = query(d, expr);                                          \
		ck_assert_msg(strcmp(got_, want) == 0, "%s: got '%s', want '%s'", expr, got_,      \
		              want);                                                               \
	} while (0)

static char *build(void)
{
	cleanup_error kata_error_t err = NULL;
	char *xml = libvirt_domain_xml(&hc, &plan, &err);

	ck_assert_msg(xml != NULL, "%s", err != NULL ? err->message : "?");
	return xml;
}

START_TEST(test_q35_9p_tcg)
{
	cleanup_free char *xml = build();
	struct doc d = parse(xml);
	cleanup_free char *cmdline = query(&d, "/domain/os/cmdline");

	ck_query(&d, "/domain/@type", "qemu");
	ck_query(&d, "/domain/name", "kata-sb1");
	ck_query(&d, "/domain/uuid", "0b4e1f2a-5c3d-4e6f-8a9b-0c1d2e3f4a5b");
	ck_query(&d, "/domain/memory", "512");
	ck_query(&d, "/domain/memory/@unit", "MiB");
	ck_query(&d, "/domain/vcpu", "4");
	ck_query(&d, "/domain/vcpu/@current", "1");
	ck_query(&d, "/domain/os/type", "hvm");
	ck_query(&d, "/domain/os/type/@machine", "q35");
	ck_query(&d, "/domain/os/kernel", "/opt/kata/vmlinux");
	ck_query(&d, "/domain/os/initrd", "/opt/kata/initrd.img");
	ck_assert_double_eq(count(&d, "/domain/features/acpi"), 1);
	ck_assert_double_eq(count(&d, "/domain/cpu"), 0);
	ck_query(&d, "/domain/on_poweroff", "destroy");
	ck_query(&d, "/domain/on_reboot", "destroy");
	ck_query(&d, "/domain/on_crash", "destroy");
	ck_query(&d, "/domain/devices/emulator", "/usr/bin/qemu-system-x86_64");
	/* the agent's two ports, as in hyperstart, on listening unix sockets */
	ck_assert_double_eq(count(&d, "/domain/devices/channel"), 2);
	ck_query(&d, "/domain/devices/channel[1]/@type", "unix");
	ck_query(&d, "/domain/devices/channel[1]/source/@mode", "bind");
	ck_query(&d, "/domain/devices/channel[1]/source/@path", "/run/kata/sb1/ctl.sock");
	ck_query(&d, "/domain/devices/channel[1]/target/@type", "virtio");
	ck_query(&d, "/domain/devices/channel[1]/target/@name", "sh.hyper.channel.0");
	ck_query(&d, "/domain/devices/channel[2]/source/@path", "/run/kata/sb1/io.sock");
	ck_query(&d, "/domain/devices/channel[2]/target/@name", "sh.hyper.channel.1");
	ck_query(&d, "/domain/devices/console/@type", "unix");
	ck_query(&d, "/domain/devices/console/source/@path", "/run/kata/sb1/console.sock");
	ck_query(&d, "/domain/devices/console/target/@type", "virtio");
	ck_assert_double_eq(count(&d, "/domain/devices/console/log"), 0);
	/* 9p */
	ck_query(&d, "/domain/devices/filesystem/@type", "mount");
	ck_query(&d, "/domain/devices/filesystem/@accessmode", "squash");
	ck_query(&d, "/domain/devices/filesystem/@multidevs", "remap");
	ck_query(&d, "/domain/devices/filesystem/source/@dir", "/run/kata/sb1/shared");
	ck_query(&d, "/domain/devices/filesystem/target/@dir", "kataShared");
	ck_assert_double_eq(count(&d, "/domain/memoryBacking"), 0);
	ck_query(&d, "/domain/devices/rng/@model", "virtio");
	ck_query(&d, "/domain/devices/rng/backend/@model", "random");
	ck_query(&d, "/domain/devices/rng/backend", "/dev/urandom");
	ck_query(&d, "/domain/devices/controller[@type='usb']/@model", "none");
	ck_query(&d, "/domain/devices/memballoon/@model", "none"); /* no free page reporting */
	ck_assert_double_eq(count(&d, "/domain/features/tcg"), 0); /* tcg_tb_size 0 */
	ck_query(&d, "/domain/seclabel/@model", "dac");
	ck_query(&d, "/domain/seclabel/@relabel", "no");
	ck_query(&d, "/domain/seclabel/label", "+0:+0");
	/* the qemu backend's kernel command line */
	ck_assert_ptr_nonnull(strstr(cmdline, "tsc=reliable no_timer_check"));
	ck_assert_ptr_nonnull(
	        strstr(cmdline, "panic=1 reboot=k percpu_alloc=page console=hvc0 quiet"));
	ck_assert_ptr_nonnull(strstr(cmdline, "agent.msize_9p=512000"));
	doc_free(&d);
}
END_TEST

START_TEST(test_kvm_virtio_fs_debug)
{
	cleanup_free char *xml = NULL;
	cleanup_free char *cmdline = NULL;
	struct doc d;

	plan.accelerator = KATA_ACCEL_KVM;
	plan.debug = true;
	plan.console_log_path = "/run/kata/sb1/console.log";
	hc.shared_fs = KATA_SHARED_FS_VIRTIO_FS;
	hc.virtio_fs_cache = "auto";
	hc.machine_type = "pc";
	xml = build();
	d = parse(xml);
	cmdline = query(&d, "/domain/os/cmdline");
	ck_query(&d, "/domain/@type", "kvm");
	ck_query(&d, "/domain/cpu/@mode", "host-passthrough");
	ck_query(&d, "/domain/os/type/@machine", "pc");
	ck_query(&d, "/domain/devices/filesystem/driver/@type", "virtiofs");
	ck_query(&d, "/domain/devices/filesystem/binary/@path", "/usr/lib/qemu/virtiofsd");
	ck_query(&d, "/domain/devices/filesystem/binary/cache/@mode", "auto");
	ck_query(&d, "/domain/devices/filesystem/target/@dir", "kataShared");
	ck_query(&d, "/domain/memoryBacking/source/@type", "memfd");
	ck_query(&d, "/domain/memoryBacking/access/@mode", "shared");
	ck_query(&d, "/domain/devices/console/log/@file", "/run/kata/sb1/console.log");
	ck_assert_ptr_null(strstr(cmdline, "quiet"));
	ck_assert_ptr_null(strstr(cmdline, "msize_9p"));
	doc_free(&d);
}
END_TEST

/* tcg_tb_size: TCG's translation cache (only under TCG); reclaim_guest_freed_memory: a
 * balloon with free page reporting. */
START_TEST(test_tb_cache_and_free_page_reporting)
{
	cleanup_free char *xml = NULL, *kvm_xml = NULL;
	struct doc d, kvm;

	hc.tcg_tb_size = 16;
	hc.reclaim_guest_freed_memory = true;
	xml = build();
	d = parse(xml);
	ck_query(&d, "/domain/features/tcg/tb-cache", "16");
	ck_query(&d, "/domain/features/tcg/tb-cache/@unit", "MiB");
	ck_query(&d, "/domain/devices/memballoon/@model", "virtio");
	ck_query(&d, "/domain/devices/memballoon/@freePageReporting", "on");
	plan.accelerator = KATA_ACCEL_KVM;
	kvm_xml = build();
	kvm = parse(kvm_xml);
	ck_assert_double_eq(count(&kvm, "/domain/features/tcg"), 0);
	doc_free(&d);
	doc_free(&kvm);
}
END_TEST

START_TEST(test_no_share)
{
	cleanup_free char *xml = NULL;
	struct doc d;

	plan.shared_dir = NULL;
	hc.initrd = NULL;
	xml = build();
	d = parse(xml);
	ck_assert_double_eq(count(&d, "//filesystem"), 0);
	ck_assert_double_eq(count(&d, "/domain/os/initrd"), 0);
	doc_free(&d);
}
END_TEST

/* Hostile values come back from the parser exactly as given, and add no element. */
START_TEST(test_hostile_values_escaped)
{
	const char *dir = "/tmp/a\"b'c<d>&e\nf</source><evil/>";
	const char *kernel = "/k/\"></kernel><evil/>&amp;";
	const char *params = "x=\"1\" y='2' <evil/> & z\nw";
	const char *extra = "]]></cmdline><evil/>";
	const char *log = "/l/'\"&<>\n.log";
	cleanup_free char *xml = NULL;
	cleanup_free char *cmdline = NULL;
	struct doc d;

	plan.shared_dir = dir;
	plan.debug = true;
	plan.console_log_path = log;
	plan.extra_kernel_params = extra;
	plan.name = "kata-<evil/>&\"'";
	hc.kernel = (char *)kernel;
	hc.kernel_params = (char *)params;
	xml = build();
	d = parse(xml);
	ck_assert_double_eq(count(&d, "//evil"), 0);
	ck_query(&d, "/domain/devices/filesystem/source/@dir", dir);
	ck_query(&d, "/domain/os/kernel", kernel);
	ck_query(&d, "/domain/name", "kata-<evil/>&\"'");
	ck_query(&d, "/domain/devices/console/log/@file", log);
	cmdline = query(&d, "/domain/os/cmdline");
	ck_assert_ptr_nonnull(strstr(cmdline, params));
	ck_assert_ptr_nonnull(strstr(cmdline, extra));
	/* the configuration's parameters, then the sandbox's: last, so they can override */
	ck_assert_ptr_nonnull(strstr(cmdline, "z\nw ]]>"));
	doc_free(&d);
}
END_TEST

static void expect_refused(const char *why, int want_errno, const char *want_text)
{
	cleanup_error kata_error_t err = NULL;
	char *xml = libvirt_domain_xml(&hc, &plan, &err);

	ck_assert_msg(xml == NULL, "%s: accepted", why);
	ck_assert_int_eq(err->errno_value, want_errno);
	ck_assert_msg(strstr(err->message, want_text) != NULL, "%s: '%s'", why, err->message);
}

START_TEST(test_refusals)
{
	char *paths[] = { "/usr/bin/qemu-*", NULL };

	hc.machine_type = "microvm";
	expect_refused("microvm", EINVAL, "supports q35 and pc");
	hc.machine_type = "q35";
	hc.kernel = "";
	expect_refused("no kernel", EINVAL, "no guest kernel");
	hc.kernel = "/k";
	plan.accelerator = KATA_ACCEL_AUTO;
	expect_refused("auto", EINVAL, "accelerator not resolved");
	plan.accelerator = KATA_ACCEL_TCG;
	plan.shared_dir = "/tmp/a\x01z";
	expect_refused("control character", EINVAL, "control character 0x01");
	plan.shared_dir = "/tmp/\xff\xfe";
	expect_refused("invalid UTF-8", EINVAL, "not valid UTF-8");
	plan.shared_dir = "/tmp/ok";
	hc.kernel_params = "a\x1b[31m";
	expect_refused("escape in params", EINVAL, "kernel parameters");
	hc.kernel_params = NULL;
	hc.path = "/opt/evil/qemu";
	hc.valid_hypervisor_paths = paths;
	expect_refused("valid_hypervisor_paths", EPERM, "valid_hypervisor_paths");
	hc.path = "qemu";
	hc.valid_hypervisor_paths = NULL;
	expect_refused("relative emulator", EINVAL, "absolute");
}
END_TEST

/* NICs are hot-plugged after start: q35 gets one empty pcie-root-port each at index 1..N
 * (qemu's "pci.N", the bus the hot-plug names), and the domain's own devices fixed slots on
 * the root bus so that libvirt puts none of them into those ports; pc plugs into its root bus
 * and gets none. */
START_TEST(test_nic_ports)
{
	cleanup_error kata_error_t err = NULL;
	char bus[40];
	char *xml;
	struct doc d;

	hc.reclaim_guest_freed_memory = true;
	xml = build();
	d = parse(xml);
	ck_assert_double_eq(count(&d, "/domain/devices/controller[@type='pci']"), 0);
	ck_assert_double_eq(count(&d, "/domain/devices//address"), 0);
	doc_free(&d);
	free(xml);

	plan.nic_ports = 2;
	xml = build();
	d = parse(xml);
	ck_assert_double_eq(count(&d, "/domain/devices/controller[@model='pcie-root-port']"), 2);
	ck_query(&d, "/domain/devices/controller[@model='pcie-root-port'][1]/@type", "pci");
	ck_query(&d, "/domain/devices/controller[@model='pcie-root-port'][1]/@index", "1");
	ck_query(&d, "/domain/devices/controller[@model='pcie-root-port'][2]/@index", "2");
	libvirt_nic_port_alias(1, bus);
	ck_assert_str_eq(bus, "pci.2");
	/* Every device with a PCI address is on the root bus, each in a slot of its own. */
	ck_query(&d, "/domain/devices/controller[@type='virtio-serial']/address/@bus", "0x00");
	ck_query(&d, "/domain/devices/controller[@type='virtio-serial']/address/@slot", "0x0a");
	ck_query(&d, "/domain/devices/filesystem/address/@slot", "0x0b");
	ck_query(&d, "/domain/devices/rng/address/@slot", "0x0c");
	ck_query(&d, "/domain/devices/memballoon/address/@slot", "0x0d");
	ck_assert_double_eq(count(&d, "/domain/devices//address[@bus!='0x00']"), 0);
	doc_free(&d);
	free(xml);

	hc.machine_type = "pc";
	xml = build();
	d = parse(xml);
	ck_assert_double_eq(count(&d, "/domain/devices/controller[@type='pci']"), 0);
	ck_assert_double_eq(count(&d, "/domain/devices//address"), 0);
	doc_free(&d);
	free(xml);
	plan.nic_ports = NIC_HOTPLUG_MAX + 1;
	ck_assert_ptr_null(libvirt_domain_xml(&hc, &plan, &err));
	ck_assert_str_eq(err->message, "9 NICs: at most 8");
}
END_TEST

START_TEST(test_state_mapping)
{
	ck_assert_int_eq(libvirt_state_from_domain(VIR_DOMAIN_RUNNING, 1),
	                 HYPERVISOR_STATE_RUNNING);
	ck_assert_int_eq(libvirt_state_from_domain(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_USER),
	                 HYPERVISOR_STATE_PAUSED);
	ck_assert_int_eq(libvirt_state_from_domain(VIR_DOMAIN_PAUSED, VIR_DOMAIN_PAUSED_CRASHED),
	                 HYPERVISOR_STATE_CRASHED);
	ck_assert_int_eq(libvirt_state_from_domain(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_CRASHED),
	                 HYPERVISOR_STATE_CRASHED);
	ck_assert_int_eq(
	        libvirt_state_from_domain(VIR_DOMAIN_SHUTOFF, VIR_DOMAIN_SHUTOFF_DESTROYED),
	        HYPERVISOR_STATE_STOPPED);
	ck_assert_int_eq(libvirt_state_from_domain(VIR_DOMAIN_SHUTDOWN, 0),
	                 HYPERVISOR_STATE_STOPPED);
	ck_assert_int_eq(libvirt_state_from_domain(VIR_DOMAIN_CRASHED, 0),
	                 HYPERVISOR_STATE_CRASHED);
	ck_assert_int_eq(libvirt_state_from_domain(VIR_DOMAIN_PMSUSPENDED, 0),
	                 HYPERVISOR_STATE_PAUSED);
	ck_assert_int_eq(libvirt_state_from_domain(99, 0), HYPERVISOR_STATE_CRASHED);
}
END_TEST

static json_object *saved_state(void)
{
	return json_tokener_parse(
	        "{\"id\":\"sb1\",\"name\":\"kata-sb1\","
	        "\"uuid\":\"0b4e1f2a-5c3d-4e6f-8a9b-0c1d2e3f4a5b\",\"uri\":\"qemu:///system\","
	        "\"dir\":\"/run/k/sb1\",\"created_dir\":true,\"debug\":false,\"phase\":\"started\","
	        "\"ctl_channel\":\"/run/k/sb1/ctl.sock\",\"io_channel\":\"/run/k/sb1/io.sock\","
	        "\"console\":\"/run/k/sb1/console.sock\",\"xml\":\"<domain/>\"}");
}

START_TEST(test_saved_state)
{
	json_object *obj = saved_state();
	cleanup_error kata_error_t err = NULL;
	struct libvirt_sandbox *sb = libvirt_sandbox_from_json(obj, &err);
	json_object *again;

	ck_assert_msg(sb != NULL, "%s", err != NULL ? err->message : "?");
	ck_assert_str_eq(sb->uuid, "0b4e1f2a-5c3d-4e6f-8a9b-0c1d2e3f4a5b");
	ck_assert_int_eq(sb->phase, LIBVIRT_PHASE_STARTED);
	ck_assert(sb->created_dir);
	again = libvirt_sandbox_to_json(sb);
	ck_assert_str_eq(json_object_to_json_string(again), json_object_to_json_string(obj));
	json_object_put(again);
	libvirt_sandbox_free(sb);
	json_object_put(obj);

	static const struct {
		const char *key, *json, *text;
	} bad[] = {
		{ "uuid", "\"0b4e1f2a-5c3d-4e6f-8a9b-0c1d2e3f4a5\"", "not a uuid" },
		{ "uuid", "\"0b4e1f2a-5c3d-4e6f-8a9b-0c1d2e3f4a5g\"", "not a uuid" },
		{ "dir", "\"relative/dir\"", "absolute path" },
		{ "ctl_channel", "7", "expected a string" },
		{ "phase", "\"exploded\"", "phase: unknown value \"exploded\"" },
		{ "created_dir", "\"yes\"", "expected a boolean" },
		{ "uri", NULL, "uri: required field is missing" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cleanup_error kata_error_t e = NULL;

		obj = saved_state();
		if (bad[i].json != NULL)
			json_object_object_add(obj, bad[i].key, json_tokener_parse(bad[i].json));
		else
			json_object_object_del(obj, bad[i].key);
		ck_assert_ptr_null(libvirt_sandbox_from_json(obj, &e));
		ck_assert_msg(strstr(e->message, bad[i].text) != NULL, "%s: %s", bad[i].key,
		              e->message);
		json_object_put(obj);
	}
}
END_TEST

static Suite *libvirt_xml_suite(void)
{
	Suite *s = suite_create("libvirt_xml");
	TCase *tc = tcase_create("xml");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_q35_9p_tcg);
	tcase_add_test(tc, test_kvm_virtio_fs_debug);
	tcase_add_test(tc, test_tb_cache_and_free_page_reporting);
	tcase_add_test(tc, test_no_share);
	tcase_add_test(tc, test_hostile_values_escaped);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_nic_ports);
	tcase_add_test(tc, test_state_mapping);
	tcase_add_test(tc, test_saved_state);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = libvirt_xml_suite };
