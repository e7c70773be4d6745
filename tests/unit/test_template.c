/* VM templating (backends/qemu/template*.c, docs/templating.md): the [factory] keys, the
 * command lines of a template and of a clone, the key over what a template depends on, the
 * checks of a template directory, and the QMP sequences of saving and loading against the
 * fake qemu. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "config.h"
#include "error.h"
#include "tests/fakes/fake_qmp.h"
#include "json_util.h"
#include "qemu/qemu_cmdline.h"
#include "qemu/qmp.h"
#include "qemu/template.h"
#include "hypervisor.h"
#include "agent/startpod_facts.h"

/* Each test's own directory below the program's (removed even when the test fails). */
static char dir[128];

static void setup(void)
{
	unit_test_new_dir(dir, sizeof(dir));
}

static void teardown(void)
{
	cleanup_free char *cmd = xasprintf("rm -rf '%s'", dir);

	ck_assert_int_eq(system(cmd), 0);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static char *in_dir(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* --- configuration -------------------------------------------------------------------- */

static struct kata_config *parse(const char *text, kata_error_t *err)
{
	return kata_config_parse("t.toml", text, strlen(text), err);
}

/* A configuration whose first table is [hypervisor.NAME] with a kernel and initrd that
 * exist (lines 1-3), then text. */
static struct kata_config *parse_with_assets(const char *name, const char *text, kata_error_t *err)
{
	cleanup_free char *kernel = in_dir("vmlinux"), *initrd = in_dir("initrd");
	cleanup_free char *full = NULL;

	write_file(kernel, "kernel\n");
	write_file(initrd, "initrd\n");
	full = xasprintf("[hypervisor.%s]\nkernel = \"%s\"\ninitrd = \"%s\"\n%s", name, kernel,
	                 initrd, text);
	return parse(full, err); /* text starts on line 4 */
}

START_TEST(test_config_keys)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *none = parse_with_assets("qemu", "", &err);
	cleanup_config struct kata_config *on = NULL;

	ck_assert_msg(none != NULL, "%s", err ? err->message : "");
	ck_assert(!none->factory.enable_template);
	ck_assert_str_eq(none->factory.template_path, KATA_DEFAULT_TEMPLATE_PATH);
	on = parse_with_assets(
	        "qemu", "[factory]\nenable_template = true\ntemplate_path = \"/run/tpl\"\n", &err);
	ck_assert_msg(on != NULL, "%s", err ? err->message : "");
	ck_assert(on->factory.enable_template);
	ck_assert_str_eq(on->factory.template_path, "/run/tpl");
}
END_TEST

START_TEST(test_config_errors_name_file_line_key)
{
	cleanup_error kata_error_t e1 = NULL, e2 = NULL, e3 = NULL;

	ck_assert(parse_with_assets("qemu", "[factory]\nenable_template = 1\n", &e1) == NULL);
	ck_assert_msg(strstr(e1->message, "t.toml:5") != NULL &&
	                      strstr(e1->message, "factory.enable_template") != NULL,
	              "%s", e1->message);
	ck_assert(parse_with_assets("qemu", "[factory]\ntemplate_path = \"rel/dir\"\n", &e2) ==
	          NULL);
	ck_assert_msg(strstr(e2->message, "t.toml:5") != NULL &&
	                      strstr(e2->message, "factory.template_path") != NULL,
	              "%s", e2->message);
	/* libvirt cannot: refused where the key is. */
	ck_assert(parse_with_assets("libvirt", "\n[factory]\n\nenable_template = true\n", &e3) ==
	          NULL);
	ck_assert_msg(strstr(e3->message, "t.toml:7") != NULL &&
	                      strstr(e3->message, "factory.enable_template") != NULL &&
	                      strstr(e3->message, "libvirt") != NULL,
	              "%s", e3->message);
}
END_TEST

/* --- command lines -------------------------------------------------------------------- */

static struct kata_hypervisor_config hc;
static struct qemu_plan plan;

static void plan_setup(void)
{
	memset(&hc, 0, sizeof(hc));
	memset(&plan, 0, sizeof(plan));
	hc.kernel = "/opt/kata/vmlinux";
	hc.initrd = "/opt/kata/initrd.img";
	hc.machine_type = "microvm";
	plan.id = "sb1";
	plan.shared_dir = "/run/kata/sb1/shared";
	plan.accelerator = KATA_ACCEL_TCG;
	plan.vcpus = 1;
	plan.memory_mib = 128;
	plan.qmp_path = "/run/kata/sb1/qmp.sock";
	plan.channel_paths[0] = "/run/kata/sb1/ctl.sock";
	plan.channel_paths[1] = "/run/kata/sb1/io.sock";
	plan.console_path = "/run/kata/sb1/console.sock";
	plan.pid_path = "/run/kata/sb1/qemu.pid";
	plan.template_memory_path = "/run/tpl/memory";
}

static const char *option(char **argv, const char *opt)
{
	for (char **a = argv; *a != NULL && a[1] != NULL; a++)
		if (strcmp(*a, opt) == 0)
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

static char **build(void)
{
	cleanup_error kata_error_t err = NULL;
	char **argv = qemu_build_cmdline(&hc, &plan, &err);

	ck_assert_msg(argv != NULL, "%s", err != NULL ? err->message : "");
	return argv;
}

START_TEST(test_cmdline_plain_has_no_template)
{
	cleanup_strv char **argv = NULL;

	hc.reclaim_guest_freed_memory = true;
	argv = build();
	ck_assert(has_arg(argv, "virtio-balloon-device,free-page-reporting=on"));

	ck_assert_str_eq(option(argv, "-machine"), "microvm,acpi=off");
	ck_assert(!has_arg(argv, "-incoming"));
	ck_assert(!has_arg(argv, "-S"));
	for (char **a = argv; *a != NULL; a++)
		ck_assert(strstr(*a, "memory-backend-file") == NULL);
}
END_TEST

START_TEST(test_cmdline_template_shares_its_ram_and_waits)
{
	cleanup_strv char **argv = NULL;

	hc.reclaim_guest_freed_memory = true;
	plan.template_mode = QEMU_TEMPLATE_SAVE;
	argv = build();
	ck_assert_str_eq(option(argv, "-machine"), "microvm,acpi=off,memory-backend=mem0");
	ck_assert_str_eq(option(argv, "-object") != NULL ? "x" : "", "x");
	ck_assert(has_arg(
	        argv, "memory-backend-file,id=mem0,size=128M,mem-path=/run/tpl/memory,share=on"));
	ck_assert(has_arg(argv, "-S"));
	ck_assert(!has_arg(argv, "-incoming"));
	/* The devices are the ones of a sandbox: the agent's ports, 9p, rng, console. */
	ck_assert(has_arg(argv, "virtserialport,bus=serial0.0,chardev=channel0,"
	                        "name=sh.hyper.channel.0"));
	ck_assert(has_arg(argv, "virtio-9p-device,fsdev=share0,mount_tag=kataShared"));
	ck_assert(has_arg(argv, "virtconsole,bus=serial0.0,chardev=console0"));
	/* microvm cannot hot-plug: the template has the one NIC a clone may use, on nothing */
	ck_assert(has_arg(argv, "hubport,id=net0,hubid=0"));
	ck_assert(has_arg(argv, "virtio-net-device,netdev=net0,mac=" AGENT_STANDBY_NIC_MAC
	                        ",guest_announce=off"));
	/* No free page reporting: qemu 7.2 would punch holes in the template's file. */
	for (char **a = argv; *a != NULL; a++)
		ck_assert(strstr(*a, "virtio-balloon") == NULL);
}
END_TEST

START_TEST(test_cmdline_clone_maps_privately_and_waits_for_state)
{
	cleanup_strv char **save = NULL, **clone = NULL;
	size_t n_save, n_clone;

	plan.template_mode = QEMU_TEMPLATE_SAVE;
	save = build();
	plan.template_mode = QEMU_TEMPLATE_CLONE;
	clone = build();
	ck_assert(has_arg(clone, "memory-backend-file,id=mem0,size=128M,"
	                         "mem-path=/run/tpl/memory,share=off"));
	ck_assert_str_eq(option(clone, "-incoming"), "defer");
	ck_assert(!has_arg(clone, "-S"));
	/* Otherwise the same arguments, in the same order: same machine, same devices. */
	n_save = strv_length(save);
	n_clone = strv_length(clone);
	ck_assert_uint_eq(n_save + 1, n_clone);
	for (size_t i = 0, j = 0; i < n_save; i++, j++) {
		if (strcmp(save[i], "-S") == 0) {
			ck_assert_str_eq(clone[j], "-incoming");
			ck_assert_str_eq(clone[++j], "defer");
			continue;
		}
		if (strstr(save[i], "share=on") != NULL)
			continue;
		ck_assert_str_eq(save[i], clone[j]);
	}
}
END_TEST

START_TEST(test_cmdline_template_refusals)
{
	cleanup_error kata_error_t e1 = NULL, e2 = NULL, e3 = NULL, e4 = NULL, e5 = NULL;
	struct hypervisor_nic nics[2] = {
		{ .tap_fd = 7, .mac = "02:42:ac:11:00:02", .mtu = 1500 },
		{ .tap_fd = 8, .mac = "02:42:ac:11:00:03", .mtu = 1500 }
	};

	plan.template_mode = QEMU_TEMPLATE_CLONE;
	hc.shared_fs = KATA_SHARED_FS_VIRTIO_FS;
	plan.virtiofsd_socket = "/run/kata/sb1/virtiofsd.sock";
	ck_assert(qemu_build_cmdline(&hc, &plan, &e1) == NULL);
	ck_assert(strstr(e1->message, "virtio-fs") != NULL);
	hc.shared_fs = KATA_SHARED_FS_9P;
	plan.nics = nics;
	plan.n_nics = 2; /* microvm: the template's one NIC */
	ck_assert(qemu_build_cmdline(&hc, &plan, &e2) == NULL);
	ck_assert(strstr(e2->message, "network card") != NULL);
	plan.n_nics = 1; /* the template itself has none of a sandbox */
	plan.template_mode = QEMU_TEMPLATE_SAVE;
	ck_assert(qemu_build_cmdline(&hc, &plan, &e5) == NULL);
	ck_assert(strstr(e5->message, "network cards") != NULL);
	plan.template_mode = QEMU_TEMPLATE_CLONE;
	plan.n_nics = 0;
	plan.maxvcpus = 4;
	ck_assert(qemu_build_cmdline(&hc, &plan, &e3) == NULL);
	ck_assert(strstr(e3->message, "hotplug") != NULL);
	plan.maxvcpus = 0;
	plan.template_memory_path = "memory";
	ck_assert(qemu_build_cmdline(&hc, &plan, &e4) == NULL);
	ck_assert(strstr(e4->message, "absolute") != NULL);
}
END_TEST

/* --- the key -------------------------------------------------------------------------- */

static struct kata_config *key_config(void)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *qemu = in_dir("qemu"), *kernel = in_dir("vmlinux");
	cleanup_free char *initrd = in_dir("initrd"), *tpl = in_dir("tpl");
	cleanup_free char *text = NULL;
	struct kata_config *config;

	write_file(qemu, "qemu binary\n");
	write_file(kernel, "kernel\n");
	if (access(initrd, F_OK) < 0)
		write_file(initrd, "initrd v1\n");
	text = xasprintf("[hypervisor.qemu]\npath = \"%s\"\nkernel = \"%s\"\ninitrd = \"%s\"\n"
	                 "accelerator = \"tcg\"\n[factory]\nenable_template = true\n"
	                 "template_path = \"%s\"\n",
	                 qemu, kernel, initrd, tpl);
	config = parse(text, &err);
	ck_assert_msg(config != NULL, "%s", err ? err->message : "");
	return config;
}

static char *key_of(const struct kata_config *config)
{
	cleanup_error kata_error_t err = NULL;
	char *key = qemu_template_key(config, &err);

	ck_assert_msg(key != NULL, "%s", err ? err->message : "");
	return key;
}

START_TEST(test_key_is_stable_and_covers_its_inputs)
{
	cleanup_config struct kata_config *config = key_config();
	cleanup_free char *k1 = key_of(config), *k2 = key_of(config);
	cleanup_free char *initrd = in_dir("initrd");
	cleanup_free char *k_initrd = NULL, *k_memory = NULL, *k_params = NULL, *k_tb = NULL;
	cleanup_free char *k_agent_debug = NULL;
	cleanup_error kata_error_t err = NULL;

	ck_assert_str_eq(k1, k2);
	/* A new initrd (a new agent) of another size. */
	write_file(initrd, "initrd v2, longer\n");
	k_initrd = key_of(config);
	ck_assert_str_ne(k1, k_initrd);
	config->hypervisor.default_memory = 512;
	k_memory = key_of(config);
	ck_assert_str_ne(k_initrd, k_memory);
	free(config->hypervisor.kernel_params);
	config->hypervisor.kernel_params = xstrdup("loglevel=3");
	k_params = key_of(config);
	ck_assert_str_ne(k_memory, k_params);
	config->hypervisor.tcg_tb_size = 8;
	k_tb = key_of(config);
	ck_assert_str_ne(k_params, k_tb);
	/* [agent.kata] enable_debug puts agent.log=debug on the template's command line, as on
	 * a sandbox's: the guest a clone wakes in is the template's. */
	config->agent.enable_debug = true;
	k_agent_debug = key_of(config);
	ck_assert_str_ne(k_tb, k_agent_debug);
	ck_assert(strstr(k_agent_debug, "agent.log=debug") != NULL);
	/* A kernel that is gone: no key, an error naming it. */
	free(config->hypervisor.kernel);
	config->hypervisor.kernel = in_dir("no-such-kernel");
	ck_assert(qemu_template_key(config, &err) == NULL);
	ck_assert(strstr(err->message, "no-such-kernel") != NULL);
}
END_TEST

/* --- checks of a template directory ---------------------------------------------------- */

static void make_template(const char *key, long memory_bytes, long state_bytes, bool meta)
{
	cleanup_free char *memory = in_dir(QEMU_TEMPLATE_MEMORY);
	cleanup_free char *state = in_dir(QEMU_TEMPLATE_STATE);
	cleanup_free char *meta_path = in_dir(QEMU_TEMPLATE_META);
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *obj = json_object_new_object();

	ck_assert_int_eq(truncate(memory, 4096) == 0 || errno == ENOENT, 1);
	write_file(memory, "");
	ck_assert_int_eq(truncate(memory, 4096), 0);
	write_file(state, "QEVM state");
	if (!meta)
		return;
	json_add_string(obj, "key", key);
	json_object_object_add(obj, "memory_bytes", json_object_new_int64(memory_bytes));
	json_object_object_add(obj, "state_bytes", json_object_new_int64(state_bytes));
	ck_assert_int_eq(json_write_file_atomic(meta_path, obj, 0600, &err), 0);
}

static enum qemu_template_status check(const char *key)
{
	cleanup_free char *reason = NULL;
	enum qemu_template_status status = qemu_template_check(dir, key, &reason);

	ck_assert(reason != NULL && reason[0] != '\0');
	return status;
}

START_TEST(test_check_absent_ok_stale)
{
	ck_assert_int_eq(check("k1"), QEMU_TEMPLATE_ABSENT);
	make_template("k1", 4096, 10, true);
	ck_assert_int_eq(check("k1"), QEMU_TEMPLATE_OK);
	ck_assert_int_eq(check("k2"), QEMU_TEMPLATE_STALE);
}
END_TEST

START_TEST(test_check_half_made_and_damaged)
{
	cleanup_free char *meta = in_dir(QEMU_TEMPLATE_META);
	cleanup_free char *state = in_dir(QEMU_TEMPLATE_STATE);

	/* Files without template.json: its maker died half-way. */
	make_template("k1", 4096, 10, false);
	ck_assert_int_eq(check("k1"), QEMU_TEMPLATE_DAMAGED);
	/* A memory file of another size than saved. */
	make_template("k1", 8192, 10, true);
	ck_assert_int_eq(check("k1"), QEMU_TEMPLATE_DAMAGED);
	/* A truncated device state. */
	make_template("k1", 4096, 10, true);
	ck_assert_int_eq(truncate(state, 3), 0);
	ck_assert_int_eq(check("k1"), QEMU_TEMPLATE_DAMAGED);
	/* template.json that is not JSON, or lacks a field. */
	make_template("k1", 4096, 10, true);
	write_file(meta, "{\"key\": \"k1\", \"memory_b");
	ck_assert_int_eq(check("k1"), QEMU_TEMPLATE_DAMAGED);
	write_file(meta, "{\"key\": \"k1\", \"memory_bytes\": 4096}");
	ck_assert_int_eq(check("k1"), QEMU_TEMPLATE_DAMAGED);
	/* The device state gone. */
	make_template("k1", 4096, 10, true);
	ck_assert_int_eq(unlink(state), 0);
	ck_assert_int_eq(check("k1"), QEMU_TEMPLATE_DAMAGED);
}
END_TEST

/* --- QMP: saving and loading against the fake qemu ------------------------------------- */

#define RETURN(json) "{\"return\": " json ", \"id\": @ID@}\r\n"

/* The save or the load of the state file at state, against the fake qemu's script. */
static int run_qmp(const struct fake_qmp_step *script, size_t n, bool save, const char *state,
                   kata_error_t *err)
{
	cleanup_free char *sock = in_dir("qmp.sock");
	struct fake_qmp *fq = fake_qmp_start(sock, script, n);
	struct qmp *qmp = qmp_connect(sock, 5000, err);
	int ret = -1, status;

	if (qmp != NULL) {
		ret = save ? qemu_template_save_state(qmp, state, 5000, err)
		           : qemu_template_load_state(qmp, state, 5000, err);
		qmp_close(qmp);
	}
	status = fake_qmp_finish(fq, 5000);
	fake_qmp_stop(fq);
	ck_assert_int_eq(status, 0);
	return ret;
}

/* A save writes a new state file (the fake writes "fake-qmp\n" into the descriptor it is
 * given); a load reads one, made here with what the fake expects to read. */
static int run_script(const struct fake_qmp_step *script, size_t n, bool save, kata_error_t *err)
{
	cleanup_free char *state = in_dir("state");

	if (!save)
		write_file(state, "fake-qmp\n");
	return run_qmp(script, n, save, state, err);
}

START_TEST(test_qmp_save_sequence)
{
	cleanup_error kata_error_t err = NULL;
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "stop" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "migrate-set-capabilities" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		/* the state file itself, opened by the runtime: no shell, any path */
		{ FAKE_QMP_EXPECT_FD, "getfd" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_ARGS, "migrate {\"uri\": \"fd:template-state\"}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "query-migrate" },
		{ FAKE_QMP_SEND, RETURN("{\"status\": \"active\"}") },
		{ FAKE_QMP_EXPECT, "query-migrate" },
		{ FAKE_QMP_SEND, RETURN("{\"status\": \"completed\"}") },
	};
	cleanup_free char *state = in_dir("state");
	cleanup_free char *written = NULL;

	ck_assert_msg(run_script(script, sizeof(script) / sizeof(script[0]), true, &err) == 0, "%s",
	              err ? err->message : "");
	written = json_read_file(state, 64, NULL, &err);
	ck_assert_msg(written != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(written, "fake-qmp\n");
}
END_TEST

START_TEST(test_qmp_save_failure_is_an_error)
{
	cleanup_error kata_error_t err = NULL;
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "stop" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "migrate-set-capabilities" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_FD, "getfd" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "migrate" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "query-migrate" },
		{ FAKE_QMP_SEND, RETURN("{\"status\": \"failed\"}") },
	};

	ck_assert_int_eq(run_script(script, sizeof(script) / sizeof(script[0]), true, &err), -1);
	ck_assert(strstr(err->message, "failed") != NULL);
}
END_TEST

START_TEST(test_qmp_load_sequence)
{
	cleanup_error kata_error_t err = NULL;
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "migrate-set-capabilities" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_FD_READ, "getfd" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_ARGS, "migrate-incoming {\"uri\": \"fd:template-state\"}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_SEND, RETURN("{\"status\": \"inmigrate\", \"running\": false}") },
		/* asked again only once qemu says the migration's status changed */
		{ FAKE_QMP_SEND, "{\"event\": \"MIGRATION\", \"data\": {\"status\": "
		                 "\"completed\"}, \"timestamp\": {}}\r\n" },
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_SEND, RETURN("{\"status\": \"paused\", \"running\": false}") },
		{ FAKE_QMP_EXPECT, "query-migrate" },
		{ FAKE_QMP_SEND, RETURN("{\"status\": \"completed\"}") },
		{ FAKE_QMP_EXPECT, "cont" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_SEND, RETURN("{\"status\": \"running\", \"running\": true}") },
	};

	ck_assert_msg(run_script(script, sizeof(script) / sizeof(script[0]), false, &err) == 0,
	              "%s", err ? err->message : "");
}
END_TEST

START_TEST(test_qmp_load_of_a_bad_stream_is_an_error)
{
	cleanup_error kata_error_t err = NULL;
	/* qemu gives up on a stream it cannot load: here it closes the monitor. */
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "migrate-set-capabilities" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_FD_READ, "getfd" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_ARGS, "migrate-incoming {\"uri\": \"fd:template-state\"}" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT, "query-status" },
		{ FAKE_QMP_CLOSE, NULL },
	};

	ck_assert_int_eq(run_script(script, sizeof(script) / sizeof(script[0]), false, &err), -1);
	ck_assert(strstr(err->message, "template: load") != NULL);
}
END_TEST

START_TEST(test_qmp_missing_state_is_an_error)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *state = in_dir("no-such-state");
	/* Nothing is handed to qemu, and nothing is migrated. */
	static const struct fake_qmp_step script[] = {
		FAKE_QMP_HANDSHAKE,
		{ FAKE_QMP_EXPECT, "migrate-set-capabilities" },
		{ FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY },
		{ FAKE_QMP_EXPECT_CLOSE, NULL },
	};

	ck_assert_int_eq(run_qmp(script, sizeof(script) / sizeof(script[0]), false, state, &err),
	                 -1);
	ck_assert_msg(strstr(err->message, "no-such-state") != NULL, "%s", err->message);
}
END_TEST

/* --- create(): which sandboxes are clones ------------------------------------------------ */

static bool saved_argv_has(json_object *state, const char *key, const char *arg)
{
	json_object *argv;

	if (!json_object_object_get_ex(state, key, &argv))
		return false;
	for (size_t i = 0; i < json_object_array_length(argv); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(argv, i)), arg) == 0)
			return true;
	return false;
}

/* Creates a qemu sandbox with templating on; returns the backend's saved state. */
static json_object *create_with_template(uint32_t memory_mib, const struct hypervisor_nic *nic,
                                         size_t n_nics, const char *machine)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *sb_dir = in_dir("sb");
	cleanup_free char *share = in_dir("share");
	cleanup_free char *tpl = in_dir("tpl");
	struct kata_config config;
	struct hypervisor_sandbox_params params = { .id = "c1",
		                                    .dir = sb_dir,
		                                    .shared_dir = share };
	struct hypervisor *hv;
	json_object *saved, *state;

	memset(&config, 0, sizeof(config));
	config.hypervisor.name = "qemu";
	config.hypervisor.kernel = "/opt/kata/vmlinux";
	config.hypervisor.machine_type = (char *)machine;
	config.hypervisor.accelerator = KATA_ACCEL_TCG;
	config.hypervisor.default_vcpus = 1;
	config.hypervisor.default_memory = 128;
	config.hypervisor.reclaim_guest_freed_memory = true;
	config.factory.enable_template = true;
	config.factory.template_path = tpl;
	params.memory_mib = memory_mib;
	params.nics = nic;
	params.n_nics = n_nics;
	hv = hypervisor_new(NULL, &config, &err);
	ck_assert_msg(hypervisor_create(hv, &params, 0, &err) == 0, "%s", err ? err->message : "");
	saved = hypervisor_save(hv);
	ck_assert(json_object_object_get_ex(saved, "state", &state));
	json_object_get(state);
	json_object_put(saved);
	ck_assert_int_eq(hypervisor_cleanup(hv, 0, &err), 0);
	hypervisor_free(hv);
	return state;
}

START_TEST(test_create_picks_clone_or_boot)
{
	cleanup_free char *memory = in_dir("tpl/" QEMU_TEMPLATE_MEMORY);
	cleanup_free char *clone_ram = xasprintf("memory-backend-file,id=mem0,size=128M,"
	                                         "mem-path=%s,share=off",
	                                         memory);
	struct hypervisor_nic nics[2] = {
		{ .tap_fd = 0, .mac = "02:42:ac:11:00:02", .mtu = 1500 },
		{ .tap_fd = 0, .mac = "02:42:ac:11:00:03", .mtu = 1500 }
	};
	struct hypervisor_nic *nic = &nics[0];
	json_object *same = create_with_template(128, NULL, 0, "microvm");
	json_object *bigger = create_with_template(256, NULL, 0, "microvm");
	json_object *with_nic = create_with_template(128, nic, 1, "microvm");
	json_object *two_nics = create_with_template(128, nics, 2, "microvm");
	json_object *q35_nic = create_with_template(128, nic, 1, "q35");

	/* The template's size: argv is the clone's, boot_argv the fallback boot. */
	ck_assert(saved_argv_has(same, "argv", clone_ram));
	ck_assert(saved_argv_has(same, "argv", "-incoming"));
	ck_assert(saved_argv_has(same, "boot_argv", "-kernel"));
	ck_assert(!saved_argv_has(same, "boot_argv", "-incoming"));
	ck_assert(
	        saved_argv_has(same, "boot_argv", "virtio-balloon-device,free-page-reporting=on"));
	/* no network: the template's NIC on a hub port that goes nowhere */
	ck_assert(saved_argv_has(same, "argv", "hubport,id=net0,hubid=0"));
	ck_assert(!saved_argv_has(same, "boot_argv", "-netdev"));
	/* Another memory size, or two network cards on microvm (no hot-plug): a normal boot. */
	ck_assert(!saved_argv_has(bigger, "argv", "-incoming"));
	ck_assert(!json_object_object_get_ex(bigger, "boot_argv", NULL));
	ck_assert(!saved_argv_has(two_nics, "argv", "-incoming"));
	ck_assert(!json_object_object_get_ex(two_nics, "boot_argv", NULL));
	/* One card on microvm: a clone whose tap backs the template's NIC (standby MAC, which
	 * the agent changes to the sandbox's); the fallback boot has it with its own MAC. */
	ck_assert(saved_argv_has(with_nic, "argv", "-incoming"));
	ck_assert(saved_argv_has(with_nic, "argv", "tap,id=net0,fd=3,vhost=off"));
	ck_assert(saved_argv_has(with_nic, "argv",
	                         "virtio-net-device,netdev=net0,mac=" AGENT_STANDBY_NIC_MAC
	                         ",guest_announce=off"));
	ck_assert(saved_argv_has(with_nic, "boot_argv",
	                         "virtio-net-device,netdev=net0,mac=02:42:ac:11:00:02"));
	json_object_put(same);
	json_object_put(bigger);
	json_object_put(with_nic);
	json_object_put(two_nics);
	/* q35: a clone all the same, its NIC hot-plugged after the state is loaded: not on the
	 * clone's command line, but on the fallback boot's; the clone has the template's ports. */
	ck_assert(saved_argv_has(q35_nic, "argv", "-incoming"));
	ck_assert(!saved_argv_has(q35_nic, "argv", "-netdev"));
	ck_assert(saved_argv_has(q35_nic, "argv",
	                         "pcie-root-port,id=katanicport0,chassis=1,"
	                         "bus=pcie.0"));
	ck_assert(saved_argv_has(q35_nic, "argv",
	                         "pcie-root-port,id=katanicport7,chassis=8,"
	                         "bus=pcie.0"));
	ck_assert(saved_argv_has(q35_nic, "boot_argv", "-netdev"));
	ck_assert(!saved_argv_has(q35_nic, "boot_argv",
	                          "pcie-root-port,id=katanicport0,"
	                          "chassis=1,bus=pcie.0"));
	json_object_put(q35_nic);
}
END_TEST

START_TEST(test_virtio_fs_boots_without_template)
{
	json_object *saved, *state;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *sb_dir = in_dir("sb"), *share = in_dir("share"), *tpl = in_dir("tpl");
	struct kata_config config;
	struct hypervisor_sandbox_params params = { .id = "c1",
		                                    .dir = sb_dir,
		                                    .shared_dir = share };
	struct hypervisor *hv;

	memset(&config, 0, sizeof(config));
	config.hypervisor.name = "qemu";
	config.hypervisor.kernel = "/opt/kata/vmlinux";
	config.hypervisor.accelerator = KATA_ACCEL_TCG;
	config.hypervisor.shared_fs = KATA_SHARED_FS_VIRTIO_FS;
	config.factory.enable_template = true;
	config.factory.template_path = tpl;
	hv = hypervisor_new(NULL, &config, &err);
	ck_assert_msg(hypervisor_create(hv, &params, 0, &err) == 0, "%s", err ? err->message : "");
	saved = hypervisor_save(hv);
	ck_assert(json_object_object_get_ex(saved, "state", &state));
	ck_assert(!saved_argv_has(state, "argv", "-incoming"));
	ck_assert(!json_object_object_get_ex(state, "boot_argv", NULL));
	json_object_put(saved);
	ck_assert_int_eq(hypervisor_cleanup(hv, 0, &err), 0);
	hypervisor_free(hv);
	/* factory init says why. */
	ck_assert_int_eq(hypervisor_template_create(&config, &err), -1);
	ck_assert_msg(strstr(err->message, "virtio-fs") != NULL, "%s", err->message);
}
END_TEST

/* --- the agent's side: STARTPOD's entropy and hostTime ----------------------------------- */

static int parse_facts(const char *json, struct agent_host_facts *facts, kata_error_t *err)
{
	cleanup_json json_object *req = json_tokener_parse(json);

	ck_assert(req != NULL);
	return agent_parse_host_facts(req, facts, err);
}

START_TEST(test_host_facts_parsed)
{
	cleanup_error kata_error_t err = NULL;
	struct agent_host_facts f;

	ck_assert_int_eq(parse_facts("{\"hostname\": \"x\"}", &f, &err), 0);
	ck_assert_uint_eq(f.entropy_len, 0);
	ck_assert(!f.has_time);
	ck_assert_int_eq(parse_facts("{\"entropy\": \"00112233445566778899aAbBcCdDeEfF\", "
	                             "\"hostTime\": {\"sec\": 1796615398, \"nsec\": 5}}",
	                             &f, &err),
	                 0);
	ck_assert_uint_eq(f.entropy_len, 16);
	ck_assert_uint_eq(f.entropy[1], 0x11);
	ck_assert_uint_eq(f.entropy[10], 0xaa);
	ck_assert_uint_eq(f.entropy[15], 0xff);
	ck_assert(f.has_time);
	ck_assert_int_eq(f.time_sec, 1796615398);
	ck_assert_int_eq(f.time_nsec, 5);
}
END_TEST

START_TEST(test_host_facts_refused)
{
	static const char *const bad[] = {
		"{\"entropy\": \"0011223344556677889\"}",              /* odd */
		"{\"entropy\": \"0011\"}",                             /* too short */
		"{\"entropy\": \"zz112233445566778899aabbccddeeff\"}", /* not hex */
		"{\"entropy\": \"00112233445566778899aabbccddeefg\"}", /* a low digit */
		"{\"entropy\": 7}",                                    /* not a string */
		"{\"hostTime\": {\"sec\": 1}}",                        /* no nsec */
		"{\"hostTime\": {\"sec\": 1, \"nsec\": 1000000000}}",  /* nsec too big */
		"{\"hostTime\": {\"sec\": -1, \"nsec\": 0}}",          /* before 1970 */
		"{\"hostTime\": 5}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cleanup_error kata_error_t err = NULL;
		struct agent_host_facts f;

		ck_assert_msg(parse_facts(bad[i], &f, &err) == -1, "accepted %s", bad[i]);
		ck_assert(err != NULL && err->message[0] != '\0');
	}
}
END_TEST

static Suite *template_suite(void)
{
	Suite *s = suite_create("template");
	TCase *config = tcase_create("config");
	TCase *cmdline = tcase_create("cmdline");
	TCase *files = tcase_create("files");

	tcase_add_checked_fixture(config, setup, teardown);
	tcase_add_test(config, test_config_keys);
	tcase_add_test(config, test_config_errors_name_file_line_key);
	tcase_add_checked_fixture(cmdline, plan_setup, NULL);
	tcase_add_test(cmdline, test_cmdline_plain_has_no_template);
	tcase_add_test(cmdline, test_cmdline_template_shares_its_ram_and_waits);
	tcase_add_test(cmdline, test_cmdline_clone_maps_privately_and_waits_for_state);
	tcase_add_test(cmdline, test_cmdline_template_refusals);
	tcase_add_checked_fixture(files, setup, teardown);
	tcase_add_test(files, test_key_is_stable_and_covers_its_inputs);
	tcase_add_test(files, test_check_absent_ok_stale);
	tcase_add_test(files, test_check_half_made_and_damaged);
	tcase_add_test(files, test_create_picks_clone_or_boot);
	tcase_add_test(files, test_virtio_fs_boots_without_template);
	tcase_add_test(files, test_qmp_save_sequence);
	tcase_add_test(files, test_qmp_save_failure_is_an_error);
	tcase_add_test(files, test_qmp_load_sequence);
	tcase_add_test(files, test_qmp_load_of_a_bad_stream_is_an_error);
	tcase_add_test(files, test_qmp_missing_state_is_an_error);
	tcase_add_test(config, test_host_facts_parsed);
	tcase_add_test(config, test_host_facts_refused);
	suite_add_tcase(s, config);
	suite_add_tcase(s, cmdline);
	suite_add_tcase(s, files);
	return s;
}

const struct unit_test unit_test = { .suite = template_suite, .test_dir = "kata-test-template" };
