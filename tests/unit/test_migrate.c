/* The migration from Clear Containers 3.0 and runV (cli/migrate_config.c,
 * cli/personality.c): every key of a Clear Containers file comes out mapped or named with
 * a reason, the output loads with this runtime, runV's flags override a loaded
 * configuration, and the agent dialect's configuration values. The sample files are
 * tests/migration/; guest assets are stand-in files in a temporary directory. */
#include "check_main.h"
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "config.h"
#include "cli/personality.h"
#include "toml.h"

/* One directory for the run, removed by the parent even when a test fails (Check skips
 * a failed test's teardown); one subdirectory per test. */
static char tmpdir[PATH_MAX];
static char *kernel, *initrd;
static struct migrate_base base;

static const char *srcdir(void)
{
	const char *dir = getenv("KATA_TEST_SRCDIR");
	return dir != NULL && dir[0] != '\0' ? dir : ".";
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_ge(fputs(text, f), 0);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_whole(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *data = xzalloc(1024 * 1024);
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(data, 1, 1024 * 1024 - 1, f);
	fclose(f);
	if (len != NULL)
		*len = n;
	return data;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void setup(void)
{
	unit_test_new_dir(tmpdir, sizeof(tmpdir));
	kernel = xasprintf("%s/vmlinux", tmpdir);
	initrd = xasprintf("%s/kata-initrd.img", tmpdir);
	write_file(kernel, "stand-in kernel");
	write_file(initrd, "stand-in initrd");
	base = (struct migrate_base){
		.hypervisor_path = "/usr/bin/qemu-system-x86_64",
		.kernel = kernel,
		.initrd = initrd,
		.proxy_path = "/opt/kata/libexec/kata-proxy",
		.shim_path = "/opt/kata/libexec/kata-shim",
	};
}

static void teardown(void)
{
	nftw(tmpdir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(kernel);
	free(initrd);
}

/* Migrates tests/migration/NAME (and flags) and loads the result. */
static struct kata_config *migrate_sample(const char *name, const struct cli_overrides *flags,
                                          struct migrate_result *r)
{
	cleanup_free char *path = xasprintf("%s/tests/migration/%s", srcdir(), name);
	cleanup_free char *text = NULL;
	cleanup_error kata_error_t err = NULL;
	struct kata_config *c;
	size_t len = 0;

	if (name != NULL)
		text = read_whole(path, &len);
	ck_assert_msg(migrate_config(path, text, len, flags, &base, r, &err) == 0, "%s",
	              err != NULL ? err->message : "");
	c = kata_config_parse("migrated.toml", r->toml, strlen(r->toml), &err);
	ck_assert_msg(c != NULL, "the output does not load: %s\n%s", err ? err->message : "",
	              r->toml);
	return c;
}

static void assert_fate(const struct migrate_result *r, const char *setting, enum migrate_fate fate)
{
	const struct migrate_note *n = migrate_find_note(r, setting);

	ck_assert_msg(n != NULL, "no note for %s", setting);
	ck_assert_msg(n->fate == fate, "%s is %s, not %s", setting, migrate_fate_name(n->fate),
	              migrate_fate_name(fate));
}

/* Every key of every table of the full sample is accounted for, and what is not kept as
 * it was says why, in the notes and in the output's comments. */
START_TEST(test_every_cc_key_is_accounted_for)
{
	cleanup_free char *path = xasprintf("%s/tests/migration/cc-3.0-full.toml", srcdir());
	cleanup_free char *text = NULL;
	cleanup_error kata_error_t err = NULL;
	struct migrate_result r;
	cleanup_config struct kata_config *c = NULL;
	struct toml_value *root;
	size_t len, keys = 0;

	text = read_whole(path, &len);
	c = migrate_sample("cc-3.0-full.toml", NULL, &r);
	root = toml_parse(text, len, &err);
	ck_assert_ptr_nonnull(root);
	for (size_t i = 0; i < root->u.table.len; i++) {
		const struct toml_entry *group = &root->u.table.entries[i];
		const struct toml_value *tables = group->value;

		if (strcmp(group->key, "runtime") == 0) {
			for (size_t k = 0; k < tables->u.table.len; k++) {
				cleanup_free char *s =
				        xasprintf("runtime.%s", tables->u.table.entries[k].key);
				ck_assert_msg(migrate_find_note(&r, s) != NULL, "no note for %s",
				              s);
				keys++;
			}
			continue;
		}
		for (size_t t = 0; t < tables->u.table.len; t++) {
			const struct toml_entry *table = &tables->u.table.entries[t];
			for (size_t k = 0; k < table->value->u.table.len; k++) {
				cleanup_free char *s =
				        xasprintf("%s.%s.%s", group->key, table->key,
				                  table->value->u.table.entries[k].key);
				const struct migrate_note *n = migrate_find_note(&r, s);
				ck_assert_msg(n != NULL, "no note for %s", s);
				ck_assert_msg(n->why != NULL && strlen(n->why) > 10, "%s: no why",
				              s);
				if (n->fate != MIGRATE_MAPPED) {
					cleanup_free char *line = xasprintf(
					        "# %s: %s", migrate_fate_name(n->fate), s);
					ck_assert_msg(strstr(r.toml, line) != NULL,
					              "%s not in the output", line);
				}
				keys++;
			}
		}
	}
	toml_free(root);
	ck_assert_uint_eq(keys, 24); /* all of the 3.0 runtime's keys (its config.go) */
	assert_fate(&r, "hypervisor.qemu.image", MIGRATE_DROPPED);
	assert_fate(&r, "hypervisor.qemu.firmware", MIGRATE_DROPPED);
	assert_fate(&r, "hypervisor.qemu.enable_swap", MIGRATE_DROPPED);
	assert_fate(&r, "hypervisor.qemu.kernel", MIGRATE_CHANGED);
	assert_fate(&r, "hypervisor.qemu.machine_type", MIGRATE_CHANGED);
	assert_fate(&r, "proxy.cc.path", MIGRATE_CHANGED);
	assert_fate(&r, "shim.cc.path", MIGRATE_CHANGED);
	assert_fate(&r, "agent.cc", MIGRATE_CHANGED);
	assert_fate(&r, "hypervisor.qemu.kernel_params", MIGRATE_MAPPED);
	assert_fate(&r, "hypervisor.qemu.enable_hugepages", MIGRATE_MAPPED);

	/* the values, as this runtime loads them */
	ck_assert_str_eq(c->hypervisor.name, "qemu");
	ck_assert_str_eq(c->hypervisor.kernel, kernel);
	ck_assert_str_eq(c->hypervisor.initrd, initrd);
	ck_assert_str_eq(c->hypervisor.machine_type, "pc");
	ck_assert_str_eq(c->hypervisor.kernel_params, "quiet systemd.show_status=false");
	/* qemu-lite's options in upstream qemu's spelling */
	ck_assert_str_eq(c->hypervisor.machine_accelerators, "smm=off,smbus=off,sata=off,pit=off");
	assert_fate(&r, "hypervisor.qemu.machine_accelerators", MIGRATE_CHANGED);
	ck_assert_uint_eq(c->hypervisor.default_memory, 1024);
	ck_assert_uint_eq(c->hypervisor.default_bridges, 2);
	ck_assert_str_eq(c->hypervisor.block_device_driver, "virtio-blk");
	ck_assert(c->hypervisor.disable_block_device_use);
	ck_assert(c->hypervisor.enable_mem_prealloc);
	ck_assert(c->hypervisor.enable_hugepages);
	ck_assert(c->hypervisor.enable_iothreads);
	ck_assert(c->hypervisor.enable_debug);
	ck_assert(c->hypervisor.disable_nesting_checks);
	ck_assert_str_eq(c->proxy.type, "kata");
	ck_assert_str_eq(c->proxy.path, "/opt/kata/libexec/kata-proxy");
	ck_assert(c->proxy.enable_debug);
	ck_assert_str_eq(c->shim.path, "/opt/kata/libexec/kata-shim");
	ck_assert(c->shim.enable_debug);
	ck_assert_str_eq(c->agent.type, "kata");
	ck_assert_int_eq(c->agent.dialect, KATA_DIALECT_KATA);
	ck_assert(c->runtime.enable_debug);
	ck_assert_str_eq(c->runtime.internetworking_model, "bridged");
	migrate_result_release(&r);
}
END_TEST

/* Every output key has its comment line right above it. */
START_TEST(test_every_output_key_is_commented)
{
	struct migrate_result r;
	cleanup_config struct kata_config *c = migrate_sample("cc-3.0-full.toml", NULL, &r);
	const char *prev = "";
	size_t keys = 0;

	ck_assert_ptr_nonnull(c); /* the output loads */

	for (char *line = r.toml; line != NULL && *line != '\0';) {
		char *end = strchr(line, '\n');
		size_t n = end != NULL ? (size_t)(end - line) : strlen(line);

		if (n > 0 && line[0] != '#' && line[0] != '[') {
			ck_assert_msg(prev[0] == '#', "key without a comment: %.*s", (int)n, line);
			keys++;
		}
		prev = line;
		line = end != NULL ? end + 1 : NULL;
	}
	ck_assert_uint_ge(keys, 20);
	migrate_result_release(&r);
}
END_TEST

START_TEST(test_stock_file)
{
	struct migrate_result r;
	cleanup_config struct kata_config *c = migrate_sample("cc-3.0-stock.toml", NULL, &r);

	/* -1: all the host's CPUs, in both runtimes */
	ck_assert_uint_eq(c->hypervisor.default_vcpus, c->hypervisor.default_maxvcpus);
	ck_assert_str_eq(c->hypervisor.machine_type, "pc");
	ck_assert_str_eq(c->runtime.internetworking_model, "macvtap");
	ck_assert_int_eq(c->agent.dialect, KATA_DIALECT_KATA);
	assert_fate(&r, "hypervisor.qemu.firmware", MIGRATE_MAPPED); /* empty: the same */
	assert_fate(&r, "hypervisor.qemu.image", MIGRATE_DROPPED);
	ck_assert_ptr_nonnull(strstr(r.toml, "# From the Clear Containers 3.0 file "));
	migrate_result_release(&r);
}
END_TEST

START_TEST(test_early_file)
{
	struct migrate_result r;
	cleanup_config struct kata_config *c = migrate_sample("cc-3.0-early.toml", NULL, &r);

	assert_fate(&r, "proxy.cc.url", MIGRATE_DROPPED);
	assert_fate(&r, "agent.hyperstart", MIGRATE_CHANGED);
	assert_fate(&r, "agent.hyperstart.pause_root_path", MIGRATE_DROPPED);
	assert_fate(&r, "hypervisor.qemu.default_vcpus", MIGRATE_CHANGED);
	assert_fate(&r, "hypervisor.qemu.default_memory", MIGRATE_CHANGED);
	ck_assert_uint_eq(c->hypervisor.default_vcpus, KATA_DEFAULT_VCPUS);
	ck_assert_uint_eq(c->hypervisor.default_memory, KATA_DEFAULT_MEMORY_MIB);
	ck_assert_int_eq(c->agent.dialect, KATA_DIALECT_KATA);
	migrate_result_release(&r);
}
END_TEST

/* Keys and tables Clear Containers never had are named, not lost silently. */
START_TEST(test_foreign_keys_are_named)
{
	static const char text[] = "[hypervisor.qemu]\nfancy = 1\n[hypervisor.xen]\n"
	                           "[proxy.cc]\n[weird]\nx = 1\n[runtime]\nmystery = true\n"
	                           "internetworking_model = \"vxlan\"\n";
	cleanup_error kata_error_t err = NULL;
	struct migrate_result r;

	ck_assert_int_eq(migrate_config("x.toml", text, strlen(text), NULL, &base, &r, &err), 0);
	assert_fate(&r, "hypervisor.qemu.fancy", MIGRATE_DROPPED);
	assert_fate(&r, "hypervisor.xen", MIGRATE_DROPPED);
	assert_fate(&r, "weird", MIGRATE_DROPPED);
	assert_fate(&r, "runtime.mystery", MIGRATE_DROPPED);
	assert_fate(&r, "runtime.internetworking_model", MIGRATE_DROPPED);
	ck_assert_ptr_nonnull(strstr(r.toml, "# dropped: hypervisor.qemu.fancy = 1: "));
	migrate_result_release(&r);
}
END_TEST

/* A hostile source cannot add lines to the output through a key or value it quotes. */
START_TEST(test_notes_stay_on_one_line)
{
	static const char text[] =
	        "[hypervisor.qemu]\n\"x\\n[runtime]\\nenable_debug = true\" = 1\n"
	        "image = \"a\\n[proxy.kata]\\npath = \\\"/evil\\\"\"\n"
	        "kernel = \"k\\ninitrd = \\\"/evil\\\"\"\n";
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *c = NULL;
	struct migrate_result r;

	ck_assert_msg(migrate_config("x.toml", text, strlen(text), NULL, &base, &r, &err) == 0,
	              "%s", err ? err->message : "");
	c = kata_config_parse("out.toml", r.toml, strlen(r.toml), &err);
	ck_assert_msg(c != NULL, "%s\n%s", err ? err->message : "", r.toml);
	ck_assert(!c->runtime.enable_debug);
	ck_assert_str_eq(c->proxy.path, "/opt/kata/libexec/kata-proxy");
	ck_assert_str_eq(c->hypervisor.initrd, initrd);
	for (size_t i = 0; i < r.n_notes; i++)
		ck_assert_ptr_null(strchr(r.notes[i].why, '\n'));
	migrate_result_release(&r);
}
END_TEST

START_TEST(test_wrong_type_names_file_line_key)
{
	static const char text[] = "[hypervisor.qemu]\n\ndefault_vcpus = \"two\"\n";
	cleanup_error kata_error_t err = NULL;
	struct migrate_result r;

	ck_assert_int_eq(migrate_config("cc.toml", text, strlen(text), NULL, &base, &r, &err), -1);
	ck_assert_ptr_nonnull(
	        strstr(err->message, "cc.toml:3: key `hypervisor.qemu.default_vcpus`"));
	ck_assert_ptr_null(r.toml);
}
END_TEST

START_TEST(test_syntax_error)
{
	static const char text[] = "[hypervisor.qemu\n";
	cleanup_error kata_error_t err = NULL;
	struct migrate_result r;

	ck_assert_int_eq(migrate_config("cc.toml", text, strlen(text), NULL, &base, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "cc.toml"));
}
END_TEST

START_TEST(test_nothing_to_migrate)
{
	cleanup_error kata_error_t err = NULL;
	struct cli_overrides none = { 0 };
	struct migrate_result r;

	ck_assert_int_eq(migrate_config(NULL, NULL, 0, &none, &base, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "nothing to migrate"));
}
END_TEST

static void set_flag(struct cli_overrides *o, const char *name, const char *value)
{
	cleanup_error kata_error_t err = NULL;

	for (size_t i = 0; cli_runv_options[i].name != NULL; i++) {
		if (strcmp(cli_runv_options[i].name, name) == 0) {
			ck_assert_msg(cli_overrides_set(o, cli_runv_options[i].val, value, &err) ==
			                      0,
			              "%s", err != NULL ? err->message : "");
			return;
		}
	}
	ck_abort_msg("no runV flag %s", name);
}

static int set_flag_error(struct cli_overrides *o, const char *name, const char *value)
{
	cleanup_error kata_error_t err = NULL;

	for (size_t i = 0; cli_runv_options[i].name != NULL; i++)
		if (strcmp(cli_runv_options[i].name, name) == 0)
			return cli_overrides_set(o, cli_runv_options[i].val, value, &err);
	return 0;
}

START_TEST(test_runv_flags_alone)
{
	struct cli_overrides o = { 0 };
	struct migrate_result r;
	cleanup_config struct kata_config *c = NULL;

	set_flag(&o, "driver", "KVM"); /* runV lowercases it */
	set_flag(&o, "kernel", kernel);
	set_flag(&o, "initrd", initrd);
	set_flag(&o, "default_cpus", "1");
	set_flag(&o, "default_memory", "512");
	set_flag(&o, "log_dir", "/var/log/hyper");
	set_flag(&o, "bios", "/usr/share/qemu/bios.bin");
	set_flag(&o, "template", "/var/run/hyper/template");
	o.debug = true;
	o.root = xstrdup("/run/runv");
	c = migrate_sample(NULL, &o, &r);
	ck_assert_str_eq(c->hypervisor.name, "qemu");
	ck_assert_int_eq(c->hypervisor.accelerator, KATA_ACCEL_KVM);
	ck_assert_str_eq(c->hypervisor.kernel, kernel);
	ck_assert_str_eq(c->hypervisor.initrd, initrd);
	ck_assert_uint_eq(c->hypervisor.default_vcpus, 1);
	ck_assert_uint_eq(c->hypervisor.default_memory, 512);
	ck_assert(c->runtime.enable_debug);
	assert_fate(&r, "runv --driver", MIGRATE_MAPPED);
	assert_fate(&r, "runv --root", MIGRATE_DROPPED);
	assert_fate(&r, "runv --log_dir", MIGRATE_DROPPED);
	assert_fate(&r, "runv --bios", MIGRATE_DROPPED);
	assert_fate(&r, "runv --template", MIGRATE_DROPPED);
	ck_assert_ptr_nonnull(strstr(r.toml, "# From runV's flags"));
	migrate_result_release(&r);
	cli_overrides_release(&o);
}
END_TEST

START_TEST(test_runv_drivers)
{
	struct {
		const char *driver, *backend;
		enum kata_accelerator accel;
		enum migrate_fate fate;
	} cases[] = {
		{ "qemu", "qemu", KATA_ACCEL_AUTO, MIGRATE_MAPPED },
		{ "qemu-kvm", "qemu", KATA_ACCEL_KVM, MIGRATE_MAPPED },
		{ "libvirt", "libvirt", KATA_ACCEL_AUTO, MIGRATE_MAPPED },
		{ "xen", "qemu", KATA_ACCEL_AUTO, MIGRATE_DROPPED },
		{ "vbox", "qemu", KATA_ACCEL_AUTO, MIGRATE_DROPPED },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cli_overrides o = { 0 };
		struct migrate_result r;
		cleanup_config struct kata_config *c = NULL;

		set_flag(&o, "driver", cases[i].driver);
		c = migrate_sample(NULL, &o, &r);
		ck_assert_str_eq(c->hypervisor.name, cases[i].backend);
		ck_assert_int_eq(c->hypervisor.accelerator, cases[i].accel);
		assert_fate(&r, "runv --driver", cases[i].fate);
		if (strcmp(cases[i].backend, "libvirt") == 0)
			ck_assert_str_eq(c->hypervisor.uri, "qemu:///system");
		migrate_result_release(&r);
		cli_overrides_release(&o);
	}
}
END_TEST

/* Both sources: the flags win over the file. */
START_TEST(test_runv_flags_win_over_cc_file)
{
	struct cli_overrides o = { 0 };
	struct migrate_result r;
	cleanup_config struct kata_config *c = NULL;

	set_flag(&o, "default_cpus", "1");
	set_flag(&o, "default_memory", "32"); /* below the guest's minimum: raised */
	set_flag(&o, "driver", "libvirt");
	c = migrate_sample("cc-3.0-full.toml", &o, &r);
	ck_assert_uint_eq(c->hypervisor.default_vcpus, 1);
	ck_assert_uint_eq(c->hypervisor.default_memory, KATA_MIN_MEMORY_MIB);
	ck_assert_str_eq(c->hypervisor.name, "libvirt");
	ck_assert_str_eq(c->hypervisor.kernel_params, "quiet systemd.show_status=false");
	assert_fate(&r, "runv --default_memory", MIGRATE_CHANGED);
	migrate_result_release(&r);
	cli_overrides_release(&o);
}
END_TEST

START_TEST(test_runv_flag_values)
{
	struct cli_overrides o = { 0 };

	ck_assert_int_eq(set_flag_error(&o, "default_cpus", "two"), -1);
	ck_assert_int_eq(set_flag_error(&o, "default_cpus", "0"), -1);
	ck_assert_int_eq(set_flag_error(&o, "default_memory", "-5"), -1);
	ck_assert_int_eq(set_flag_error(&o, "default_memory", "99999999999"), -1);
	ck_assert_int_eq(set_flag_error(&o, "driver", "hyperv"), -1);
	ck_assert(cli_overrides_empty(&o));
	ck_assert_int_eq(set_flag_error(&o, "cbfs", "/x"), 0);
	ck_assert(!cli_overrides_empty(&o));
	ck_assert_str_eq(o.unsupported[0], "cbfs=/x");
	cli_overrides_release(&o);
}
END_TEST

/* The override layer on a loaded configuration (what `runv --kernel ...` does). */
static struct kata_config *load_minimal(void)
{
	cleanup_free char *text = xasprintf("[hypervisor.qemu]\nkernel = \"%s\"\ninitrd = \"%s\"\n"
	                                    "default_memory = 300\n",
	                                    kernel, initrd);
	cleanup_error kata_error_t err = NULL;
	struct kata_config *c = kata_config_parse("min.toml", text, strlen(text), &err);

	ck_assert_msg(c != NULL, "%s", err != NULL ? err->message : "");
	return c;
}

START_TEST(test_overrides_apply)
{
	cleanup_config struct kata_config *c = load_minimal();
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *other = xasprintf("%s/other-kernel", tmpdir);
	struct cli_overrides o = { 0 };
	char cwd[4096];

	write_file(other, "another kernel");
	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_int_eq(chdir(tmpdir), 0);
	set_flag(&o, "kernel", "other-kernel"); /* relative: made absolute */
	set_flag(&o, "default_cpus", "100000"); /* capped to the host */
	set_flag(&o, "default_memory", "128");
	set_flag(&o, "driver", "kvm");
	ck_assert_msg(cli_overrides_apply(&o, c, &err) == 0, "%s", err ? err->message : "");
	ck_assert_int_eq(chdir(cwd), 0);
	ck_assert_str_eq(c->hypervisor.kernel, other);
	ck_assert_str_eq(c->hypervisor.initrd, initrd); /* not given: the file's */
	ck_assert_uint_eq(c->hypervisor.default_vcpus, (uint32_t)sysconf(_SC_NPROCESSORS_ONLN));
	ck_assert_uint_ge(c->hypervisor.default_maxvcpus, c->hypervisor.default_vcpus);
	ck_assert_uint_eq(c->hypervisor.default_memory, 128);
	ck_assert_int_eq(c->hypervisor.accelerator, KATA_ACCEL_KVM);
	cli_overrides_release(&o);

	/* nothing given: nothing changes */
	ck_assert_int_eq(cli_overrides_apply(&o, c, &err), 0);
	ck_assert_uint_eq(c->hypervisor.default_memory, 128);

	set_flag(&o, "driver", "libvirt");
	ck_assert_int_eq(cli_overrides_apply(&o, c, &err), 0);
	ck_assert_str_eq(c->hypervisor.name, "libvirt");
	cli_overrides_release(&o);
}
END_TEST

START_TEST(test_overrides_refused)
{
	const char *cases[][2] = {
		{ "driver", "xen" },
		{ "driver", "kvmtool" },
		{ "default_memory", "10" },
		{ "default_memory", "2147483647" },
		{ "kernel", "/nonexistent/vmlinux" },
		{ "initrd", "/" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_config struct kata_config *c = load_minimal();
		cleanup_error kata_error_t err = NULL;
		struct cli_overrides o = { 0 };

		set_flag(&o, cases[i][0], cases[i][1]);
		ck_assert_msg(cli_overrides_apply(&o, c, &err) == -1, "--%s %s accepted",
		              cases[i][0], cases[i][1]);
		ck_assert_ptr_nonnull(strstr(err->message, cases[i][0]));
		/* a refused flag leaves the rest as the file said */
		ck_assert_uint_eq(c->hypervisor.default_memory, 300);
		cli_overrides_release(&o);
	}
}
END_TEST

START_TEST(test_toml_quote)
{
	const char *s = "a \"quoted\" \\ path\nwith\ttabs \x01 and \x7f";
	cleanup_free char *quoted = toml_quote(s);
	cleanup_free char *doc = xasprintf("k = %s\n", quoted);
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root = toml_parse(doc, strlen(doc), &err);

	ck_assert_msg(root != NULL, "%s: %s", doc, err ? err->message : "");
	ck_assert_str_eq(toml_table_get(root, "k")->u.string.data, s);
	toml_free(root);
}
END_TEST

/* [agent.*] dialect: kata (the default), hyperstart, cc; [agent.cc] defaults to cc. */
START_TEST(test_dialect_values)
{
	struct {
		const char *table, *line;
		enum kata_agent_dialect want;
	} cases[] = {
		{ "agent.kata", "", KATA_DIALECT_KATA },
		{ "agent.kata", "dialect = \"kata\"", KATA_DIALECT_KATA },
		{ "agent.kata", "dialect = \"hyperstart\"", KATA_DIALECT_HYPERSTART },
		{ "agent.kata", "dialect = \"cc\"", KATA_DIALECT_CC },
		{ "agent.cc", "", KATA_DIALECT_CC },
		{ "agent.cc", "dialect = \"kata\"", KATA_DIALECT_KATA },
		{ "runtime", "", KATA_DIALECT_KATA }, /* no agent table at all */
	};
	static const char *const names[] = { "kata", "hyperstart", "cc" };

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *text =
		        xasprintf("[hypervisor.qemu]\nkernel = \"%s\"\ninitrd = \"%s\"\n[%s]\n%s\n",
		                  kernel, initrd, cases[i].table, cases[i].line);
		cleanup_error kata_error_t err = NULL;
		cleanup_config struct kata_config *c =
		        kata_config_parse("d.toml", text, strlen(text), &err);

		ck_assert_msg(c != NULL, "%s", err ? err->message : "");
		ck_assert_int_eq(c->agent.dialect, cases[i].want);
		ck_assert_str_eq(kata_agent_dialect_name(c->agent.dialect), names[cases[i].want]);
	}
	ck_assert_int_eq(KATA_DIALECT_KATA, 0);
	ck_assert_str_eq(kata_agent_dialect_name((enum kata_agent_dialect)7), "unknown");
}
END_TEST

START_TEST(test_dialect_unknown_value)
{
	cleanup_free char *text = xasprintf("[hypervisor.qemu]\nkernel = \"%s\"\ninitrd = \"%s\"\n"
	                                    "[agent.kata]\ndialect = \"grpc\"\n",
	                                    kernel, initrd);
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *c =
	        kata_config_parse("d.toml", text, strlen(text), &err);

	ck_assert_ptr_null(c);
	ck_assert_ptr_nonnull(strstr(err->message, "d.toml:5: key `agent.kata.dialect`"));
}
END_TEST

/* The verb: --to writes a file that loads, refuses to replace one without --force. */
START_TEST(test_verb_writes_file)
{
	cleanup_free char *from = xasprintf("%s/tests/migration/cc-3.0-stock.toml", srcdir());
	cleanup_free char *to = xasprintf("%s/configuration.toml", tmpdir);
	cleanup_free char *base_file = xasprintf("%s/base.toml", tmpdir);
	cleanup_free char *base_text =
	        xasprintf("[hypervisor.qemu]\nkernel = \"%s\"\ninitrd = \"%s\"\n[proxy.kata]\n"
	                  "path = \"/srv/kata/kata-proxy\"\n",
	                  kernel, initrd);
	char *argv[] = { "migrate-config", "--from",           from,  "--to", to, "--base",
		         base_file,        "--default_memory", "200", NULL };
	struct cli_context ctx = { .program = "kata-runtime", .personality = CLI_KATA };
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *c = NULL;

	write_file(base_file, base_text);
	optind = 1;
	ck_assert_msg(cli_migrate_config(&ctx, 9, argv, &err) == 0, "%s", err ? err->message : "");
	c = kata_config_load(to, &err);
	ck_assert_msg(c != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(c->proxy.path, "/srv/kata/kata-proxy");
	ck_assert_str_eq(c->hypervisor.kernel, kernel);
	ck_assert_uint_eq(c->hypervisor.default_memory, 200);

	optind = 1;
	ck_assert_int_eq(cli_migrate_config(&ctx, 9, argv, &err), -1);
	ck_assert_int_eq(err->errno_value, EEXIST);
}
END_TEST

static Suite *migrate_suite(void)
{
	Suite *s = suite_create("migrate");
	TCase *tc = tcase_create("migrate");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_every_cc_key_is_accounted_for);
	tcase_add_test(tc, test_every_output_key_is_commented);
	tcase_add_test(tc, test_stock_file);
	tcase_add_test(tc, test_early_file);
	tcase_add_test(tc, test_foreign_keys_are_named);
	tcase_add_test(tc, test_notes_stay_on_one_line);
	tcase_add_test(tc, test_wrong_type_names_file_line_key);
	tcase_add_test(tc, test_syntax_error);
	tcase_add_test(tc, test_nothing_to_migrate);
	tcase_add_test(tc, test_runv_flags_alone);
	tcase_add_test(tc, test_runv_drivers);
	tcase_add_test(tc, test_runv_flags_win_over_cc_file);
	tcase_add_test(tc, test_runv_flag_values);
	tcase_add_test(tc, test_overrides_apply);
	tcase_add_test(tc, test_overrides_refused);
	tcase_add_test(tc, test_toml_quote);
	tcase_add_test(tc, test_dialect_values);
	tcase_add_test(tc, test_dialect_unknown_value);
	tcase_add_test(tc, test_verb_writes_file);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = {
	.suite = migrate_suite,
	.test_dir = "kata-test-migrate",
};
