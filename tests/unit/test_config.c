/* The typed configuration (config/config*.c): the shipped file, Kata and Clear Containers
 * files, every key's type errors naming file:line:key, impossible values, the lookup
 * order. Sample files live in tests/config/ with @ASSETSDIR@ / @LIBEXECDIR@ placeholders
 * that each test replaces with a temporary directory holding a fake kernel and initrd. */
#include "check_main.h"
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "config.h"

/* Each test's own directory below the program's (removed even when the test fails). */
static char tmpdir[128];

static const char *srcdir(void)
{
	const char *dir = getenv("KATA_TEST_SRCDIR");
	return dir != NULL && dir[0] != '\0' ? dir : ".";
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "we");

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(fputs(text, f) >= 0, 1);
	ck_assert_int_eq(fclose(f), 0);
}

static char *read_whole(const char *path)
{
	FILE *f = fopen(path, "re");
	char *data = xzalloc(1024 * 1024);
	size_t n;

	ck_assert_msg(f != NULL, "%s: %s", path, strerror(errno));
	n = fread(data, 1, 1024 * 1024 - 1, f);
	data[n] = '\0';
	fclose(f);
	return data;
}

/* Replaces every @ASSETSDIR@ and @LIBEXECDIR@ with the test's directory. */
static char *substitute(const char *text)
{
	size_t cap = strlen(text) * 4 + 4096, used = 0;
	char *out = xzalloc(cap);

	while (*text != '\0') {
		if (strncmp(text, "@ASSETSDIR@", 11) == 0 ||
		    strncmp(text, "@LIBEXECDIR@", 12) == 0) {
			used += (size_t)snprintf(out + used, cap - used, "%s", tmpdir);
			text += text[1] == 'A' ? 11 : 12;
		} else {
			out[used++] = *text++;
		}
	}
	out[used] = '\0';
	return out;
}

/* Copies tests/config/NAME into the test directory, placeholders replaced. */
static char *install_sample(const char *name)
{
	cleanup_free char *src = xasprintf("%s/tests/config/%s", srcdir(), name);
	cleanup_free char *text = read_whole(src);
	cleanup_free char *done = substitute(text);
	const char *base = strrchr(name, '/');
	char *dst = xasprintf("%s/%s", tmpdir, base != NULL ? base + 1 : name);

	write_file(dst, done);
	return dst;
}

/* Writes TEXT (placeholders replaced) as a file and returns its path. */
static char *write_config(const char *name, const char *text)
{
	cleanup_free char *done = substitute(text);
	char *path = xasprintf("%s/%s", tmpdir, name);

	write_file(path, done);
	return path;
}

static void setup(void)
{
	cleanup_free char *kernel = NULL, *initrd = NULL;

	unit_test_new_dir(tmpdir, sizeof(tmpdir));
	kernel = xasprintf("%s/vmlinux", tmpdir);
	initrd = xasprintf("%s/kata-initrd.img", tmpdir);
	write_file(kernel, "not a kernel");
	write_file(initrd, "not an initrd");
	unsetenv("KATA_CONF_FILE");
}

#define HEADER                                                                                     \
	"[hypervisor.qemu]\n"                                                                      \
	"kernel = \"@ASSETSDIR@/vmlinux\"\n"                                                       \
	"initrd = \"@ASSETSDIR@/kata-initrd.img\"\n"

static struct kata_config *load_text(const char *text, kata_error_t *err)
{
	cleanup_free char *path = write_config("configuration.toml", text);
	return kata_config_load(path, err);
}

/* Loads text that must fail; returns the message (owned by *err). */
static const char *load_error(const char *text, kata_error_t *err)
{
	struct kata_config *config = load_text(text, err);

	ck_assert_msg(config == NULL, "loaded:\n%s", text);
	ck_assert_ptr_nonnull(*err);
	return (*err)->message;
}

START_TEST(test_shipped_file_loads)
{
	cleanup_free char *path = install_sample("../../config/configuration.toml");
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *c = kata_config_load(path, &err);
	cleanup_free char *kernel = xasprintf("%s/vmlinux", tmpdir);
	cleanup_free char *proxy = xasprintf("%s/kata-proxy", tmpdir);

	ck_assert_msg(c != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(c->path, path);
	ck_assert_str_eq(c->hypervisor.name, "qemu");
	ck_assert_str_eq(c->hypervisor.path, "/usr/bin/qemu-system-x86_64");
	ck_assert_str_eq(c->hypervisor.kernel, kernel);
	ck_assert_str_eq(kata_machine_type(&c->hypervisor), "microvm");
	ck_assert_int_eq(c->hypervisor.accelerator, KATA_ACCEL_AUTO);
	ck_assert_uint_eq(c->hypervisor.default_vcpus, 1);
	ck_assert_uint_eq(c->hypervisor.default_memory, 256);
	ck_assert_int_eq(c->hypervisor.shared_fs, KATA_SHARED_FS_9P);
	ck_assert_str_eq(c->proxy.path, proxy);
	ck_assert_str_eq(c->proxy.type, "kata");
	ck_assert_int_eq(c->agent.dialect, KATA_DIALECT_KATA);
	ck_assert_str_eq(c->runtime.internetworking_model, "tcfilter");
	ck_assert(c->runtime.disable_guest_seccomp);
}
END_TEST

/* The loader's built-in defaults are the shipped file's values. */
START_TEST(test_builtin_defaults_match_shipped_file)
{
	cleanup_free char *shipped_path = install_sample("../../config/configuration.toml");
	cleanup_free char *minimal_path = install_sample("minimal.toml");
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *s = kata_config_load(shipped_path, &err);
	cleanup_config struct kata_config *m = kata_config_load(minimal_path, &err);
	const struct kata_hypervisor_config *a, *b;

	ck_assert_msg(s != NULL && m != NULL, "%s", err ? err->message : "");
	a = &s->hypervisor;
	b = &m->hypervisor;
	ck_assert_str_eq(a->path, b->path);
	ck_assert_str_eq(a->machine_type, b->machine_type);
	ck_assert_str_eq(a->kernel_params, b->kernel_params);
	ck_assert_int_eq(a->accelerator, b->accelerator);
	ck_assert_uint_eq(a->default_vcpus, b->default_vcpus);
	ck_assert_uint_eq(a->default_maxvcpus, b->default_maxvcpus);
	ck_assert_uint_eq(a->default_memory, b->default_memory);
	ck_assert_uint_eq(a->memory_slots, b->memory_slots);
	ck_assert_uint_eq(a->default_bridges, b->default_bridges);
	ck_assert_int_eq(a->shared_fs, b->shared_fs);
	ck_assert_str_eq(a->virtio_fs_daemon, b->virtio_fs_daemon);
	ck_assert_str_eq(a->virtio_fs_cache, b->virtio_fs_cache);
	ck_assert_uint_eq(a->msize_9p, b->msize_9p);
	ck_assert_str_eq(a->entropy_source, b->entropy_source);
	ck_assert_uint_eq(a->tcg_tb_size, b->tcg_tb_size);
	ck_assert_int_eq(a->reclaim_guest_freed_memory, b->reclaim_guest_freed_memory);
	ck_assert_str_eq(a->block_device_driver, b->block_device_driver);
	ck_assert_int_eq(a->enable_debug, b->enable_debug);
	ck_assert_int_eq(s->agent.dialect, m->agent.dialect);
	ck_assert_str_eq(s->runtime.internetworking_model, m->runtime.internetworking_model);
	ck_assert_int_eq(s->runtime.disable_guest_seccomp, m->runtime.disable_guest_seccomp);
	ck_assert_int_eq(s->runtime.enable_debug, m->runtime.enable_debug);
	/* proxy and shim default to the installed libexec directory */
	ck_assert_str_eq(m->proxy.path, KATA_LIBEXECDIR "/kata-proxy");
	ck_assert_str_eq(m->shim.path, KATA_LIBEXECDIR "/kata-shim");
}
END_TEST

START_TEST(test_kata_file_loads)
{
	cleanup_free char *path = install_sample("kata-1.x-qemu.toml");
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *c = kata_config_load(path, &err);

	ck_assert_msg(c != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(c->hypervisor.machine_type, "pc");
	ck_assert_uint_eq(c->hypervisor.default_memory, 512);
	ck_assert_int_eq(c->hypervisor.shared_fs, KATA_SHARED_FS_VIRTIO_FS);
	ck_assert_str_eq(c->hypervisor.virtio_fs_cache, "always");
	ck_assert_str_eq(c->hypervisor.virtio_fs_extra_args[0], "--thread-pool-size=1");
	ck_assert_ptr_null(c->hypervisor.virtio_fs_extra_args[1]);
	ck_assert_uint_eq(c->hypervisor.msize_9p, 16384);
	ck_assert(c->hypervisor.enable_debug);
	ck_assert_str_eq(c->agent.kernel_modules[1], "i915");
	ck_assert_str_eq(c->runtime.internetworking_model, "macvtap");
	ck_assert_str_eq(c->runtime.experimental[0], "newstore");
	ck_assert(c->runtime.sandbox_cgroup_only);
	ck_assert(!c->runtime.disable_guest_seccomp);
}
END_TEST

START_TEST(test_clear_containers_file_loads)
{
	cleanup_free char *path = install_sample("cc-3.0.toml");
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *c = kata_config_load(path, &err);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ck_assert_msg(c != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(c->proxy.type, "cc");
	ck_assert_str_eq(c->shim.type, "cc");
	ck_assert_str_eq(c->agent.type, "cc");
	/* a Clear Containers file talks to Clear Containers' agent */
	ck_assert_int_eq(c->agent.dialect, KATA_DIALECT_CC);
	/* default_vcpus = -1: all host CPUs */
	ck_assert_uint_eq(c->hypervisor.default_vcpus, cpus < 240 ? cpus : 240);
}
END_TEST

START_TEST(test_libvirt_file_loads)
{
	cleanup_free char *path = install_sample("libvirt.toml");
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *c = kata_config_load(path, &err);

	ck_assert_msg(c != NULL, "%s", err ? err->message : "");
	ck_assert_str_eq(c->hypervisor.name, "libvirt");
	ck_assert_str_eq(c->hypervisor.uri, "qemu:///system");
	ck_assert_int_eq(c->hypervisor.accelerator, KATA_ACCEL_TCG);
	ck_assert_uint_eq(c->hypervisor.default_memory, 128);
	ck_assert_int_eq(c->agent.dialect, KATA_DIALECT_CC);
	ck_assert_str_eq(kata_accelerator_name(c->hypervisor.accelerator), "tcg");
	ck_assert_str_eq(kata_agent_dialect_name(c->agent.dialect), "cc");
	ck_assert_str_eq(kata_shared_fs_name(c->hypervisor.shared_fs), "virtio-9p");
}
END_TEST

/* Every tests/config/broken-*.toml fails with the message its first line announces. */
START_TEST(test_broken_samples)
{
	cleanup_free char *dir = xasprintf("%s/tests/config", srcdir());
	cleanup_closedir DIR *d = opendir(dir);
	struct dirent *e;
	int count = 0;

	ck_assert_msg(d != NULL, "%s: %s", dir, strerror(errno));
	while ((e = readdir(d)) != NULL) {
		cleanup_free char *path = NULL, *text = NULL, *expect = NULL;
		cleanup_error kata_error_t err = NULL;
		struct kata_config *c;
		char *nl;

		if (strncmp(e->d_name, "broken-", 7) != 0)
			continue;
		path = install_sample(e->d_name);
		text = read_whole(path);
		ck_assert_msg(strncmp(text, "# expect: ", 10) == 0, "%s: no expect line", path);
		expect = xstrdup(text + 10);
		nl = strchr(expect, '\n');
		if (nl != NULL)
			*nl = '\0';
		c = kata_config_load(path, &err);
		ck_assert_msg(c == NULL, "%s loaded", e->d_name);
		ck_assert_msg(strncmp(err->message, path, strlen(path)) == 0,
		              "%s: message does not start with the file: %s", e->d_name,
		              err->message);
		ck_assert_msg(strstr(err->message + strlen(path), expect) != NULL,
		              "%s: expected \"%s\" in \"%s\"", e->d_name, expect, err->message);
		count++;
	}
	ck_assert_int_ge(count, 20);
}
END_TEST

/* One wrong-typed value per key, on line 5 after a 4-line header: file:line:key, type. */
struct type_case {
	const char *table; /* "" for the hypervisor table of HEADER */
	const char *key;
	const char *value;
	const char *expect;
};

static const struct type_case type_cases[] = {
	{ "", "path", "1", "expected a string, got an integer" },
	{ "", "kernel", "true", "expected a string, got a boolean" },
	{ "", "initrd", "[]", "expected a string, got an array" },
	{ "", "image", "1", "expected a string, got an integer" },
	{ "", "firmware", "1", "expected a string, got an integer" },
	{ "", "machine_type", "35", "expected a string, got an integer" },
	{ "", "kernel_params", "[\"quiet\"]", "expected a string, got an array" },
	{ "", "machine_accelerators", "1", "expected a string, got an integer" },
	{ "", "cpu_features", "1", "expected a string, got an integer" },
	{ "", "accelerator", "true", "expected a string, got a boolean" },
	{ "", "default_vcpus", "1.5", "expected an integer, got a float" },
	{ "", "default_maxvcpus", "\"4\"", "expected an integer, got a string" },
	{ "", "default_memory", "\"2G\"", "expected an integer, got a string" },
	{ "", "memory_slots", "true", "expected an integer, got a boolean" },
	{ "", "default_bridges", "\"1\"", "expected an integer, got a string" },
	{ "", "shared_fs", "9", "expected a string, got an integer" },
	{ "", "virtio_fs_daemon", "false", "expected a string, got a boolean" },
	{ "", "virtio_fs_extra_args", "\"-o\"", "expected an array, got a string" },
	{ "", "virtio_fs_cache", "1", "expected a string, got an integer" },
	{ "", "virtio_fs_cache_size", "\"0\"", "expected an integer, got a string" },
	{ "", "msize_9p", "\"8192\"", "expected an integer, got a string" },
	{ "", "entropy_source", "0", "expected a string, got an integer" },
	{ "", "tcg_tb_size", "\"16M\"", "expected an integer, got a string" },
	{ "", "tcg_tb_size", "-1", "-1 is out of range" },
	{ "", "reclaim_guest_freed_memory", "1", "expected a boolean, got an integer" },
	{ "", "block_device_driver", "0", "expected a string, got an integer" },
	{ "", "disable_block_device_use", "\"no\"", "expected a boolean, got a string" },
	{ "", "enable_iothreads", "0", "expected a boolean, got an integer" },
	{ "", "enable_hugepages", "0", "expected a boolean, got an integer" },
	{ "", "enable_mem_prealloc", "0", "expected a boolean, got an integer" },
	{ "", "enable_debug", "1", "expected a boolean, got an integer" },
	{ "", "disable_nesting_checks", "1", "expected a boolean, got an integer" },
	{ "", "valid_hypervisor_paths", "\"/usr/bin\"", "expected an array, got a string" },
	{ "", "guest_hook_path", "1", "expected a string, got an integer" },
	{ "", "use_vsock", "1", "expected a boolean, got an integer" },
	{ "", "enable_swap", "1", "expected a boolean, got an integer" },
	{ "", "memory_offset", "true", "expected an integer, got a boolean" },
	{ "proxy.kata", "path", "1", "expected a string, got an integer" },
	{ "proxy.kata", "enable_debug", "\"true\"", "expected a boolean, got a string" },
	{ "proxy.cc", "enable_debug", "1", "expected a boolean, got an integer" },
	{ "shim.kata", "path", "1", "expected a string, got an integer" },
	{ "shim.kata", "enable_debug", "1", "expected a boolean, got an integer" },
	{ "shim.cc", "enable_tracing", "1", "expected a boolean, got an integer" },
	{ "agent.kata", "dialect", "1", "expected a string, got an integer" },
	{ "agent.kata", "enable_debug", "1", "expected a boolean, got an integer" },
	{ "agent.kata", "kernel_modules", "\"e1000e\"", "expected an array, got a string" },
	{ "agent.cc", "enable_tracing", "1", "expected a boolean, got an integer" },
	{ "runtime", "enable_debug", "1", "expected a boolean, got an integer" },
	{ "runtime", "enable_tracing", "1", "expected a boolean, got an integer" },
	{ "runtime", "enable_pprof", "1", "expected a boolean, got an integer" },
	{ "runtime", "internetworking_model", "1", "expected a string, got an integer" },
	{ "runtime", "disable_guest_seccomp", "1", "expected a boolean, got an integer" },
	{ "runtime", "disable_new_netns", "1", "expected a boolean, got an integer" },
	{ "runtime", "sandbox_cgroup_only", "1", "expected a boolean, got an integer" },
	{ "runtime", "experimental", "\"newstore\"", "expected an array, got a string" },
	{ "factory", "enable_template", "1", "expected a boolean, got an integer" },
	{ "netmon", "enable_netmon", "1", "expected a boolean, got an integer" },
};

START_TEST(test_type_error_names_file_line_key)
{
	const struct type_case *t = &type_cases[_i];
	cleanup_free char *text = NULL, *path = NULL, *prefix = NULL;
	cleanup_error kata_error_t err = NULL;
	const char *table = t->table[0] != '\0' ? t->table : "hypervisor.qemu";
	const char *message;

	/* line 1-3: HEADER; 4: [table] (or a comment); 5: the key */
	if (t->table[0] == '\0') /* kernel and initrd are among the keys tested */
		text = xasprintf("[hypervisor.qemu]\n#\n#\n# the key:\n%s = %s\n", t->key,
		                 t->value);
	else
		text = xasprintf(HEADER "[%s]\n%s = %s\n", t->table, t->key, t->value);
	message = load_error(text, &err);
	path = xasprintf("%s/configuration.toml", tmpdir);
	prefix = xasprintf("%s:5: key `%s.%s`: %s", path, table, t->key, t->expect);
	ck_assert_msg(strncmp(message, prefix, strlen(prefix)) == 0, "expected \"%s\", got \"%s\"",
	              prefix, message);
}
END_TEST

START_TEST(test_unknown_keys)
{
	cleanup_error kata_error_t err = NULL;
	const char *m = load_error(HEADER "[shim.kata]\nurl = \"unix:///x\"\n", &err);

	ck_assert_msg(strstr(m, ":5: key `shim.kata.url`: unknown key") != NULL, "%s", m);
	kata_error_free(&err);
	m = load_error(HEADER "[hypervisor.qemu.extra]\n", &err);
	ck_assert_msg(strstr(m, "key `hypervisor.qemu.extra`: unknown table") != NULL, "%s", m);
	kata_error_free(&err);
	m = load_error(HEADER "[proxy.hyper]\n", &err);
	ck_assert_msg(strstr(m, ":4: table `proxy.hyper`: unknown or unsupported type") != NULL,
	              "%s", m);
}
END_TEST

START_TEST(test_impossible_values)
{
	static const struct {
		const char *line;
		const char *expect;
	} cases[] = {
		{ "default_vcpus = 0", "default_vcpus`: 0 vCPUs" },
		{ "default_vcpus = 3000000000", "out of range" },
		{ "default_memory = 0", "is too little" },
		{ "memory_slots = 1000", "1000 is out of range (0..256)" },
		{ "machine_type = \"virt\"", "invalid value \"virt\"" },
		{ "shared_fs = \"nfs\"", "invalid value \"nfs\"" },
		{ "virtio_fs_cache = \"sometimes\"", "invalid value \"sometimes\"" },
		{ "block_device_driver = \"ide\"", "invalid value \"ide\"" },
		{ "path = \"qemu-system-x86_64\"", "is not an absolute path" },
		{ "virtio_fs_daemon = \"virtiofsd\"", "is not an absolute path" },
		{ "firmware = \"/usr/share/ovmf/OVMF.fd\"", "custom firmware is not supported" },
		{ "kernel_params = \"quiet\\nrm\"", "control character 0x0a" },
		{ "default_maxvcpus = -1", "out of range" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_free char *text = xasprintf(HEADER "%s\n", cases[i].line);
		cleanup_error kata_error_t err = NULL;
		const char *m = load_error(text, &err);

		ck_assert_msg(strstr(m, ":4: key `hypervisor.qemu.") != NULL, "%s: %s",
		              cases[i].line, m);
		ck_assert_msg(strstr(m, cases[i].expect) != NULL, "%s: expected \"%s\" in \"%s\"",
		              cases[i].line, cases[i].expect, m);
	}
	/* no initrd key: the default's absence is named too; where the project is installed
	 * (`make install`), the default is there and is taken */
	{
		static const char text[] = "[hypervisor.qemu]\nkernel = \"@ASSETSDIR@/vmlinux\"\n";
		static const char installed[] = KATA_ASSETSDIR "/" KATA_INITRD_NAME;
		cleanup_error kata_error_t err = NULL;
		cleanup_free char *initrd = xasprintf("%s/kata-initrd.img", tmpdir);

		unlink(initrd);
		if (access(installed, F_OK) == 0) {
			cleanup_config struct kata_config *c = load_text(text, &err);

			ck_assert_msg(c != NULL, "%s", err ? err->message : "");
			ck_assert_str_eq(c->hypervisor.initrd, installed);
		} else {
			const char *m = load_error(text, &err);

			ck_assert_msg(strstr(m, ":1: key `hypervisor.qemu.initrd`: (default) ") !=
			                      NULL,
			              "%s", m);
		}
	}
}
END_TEST

START_TEST(test_kata_caps_and_zero_defaults)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_config struct kata_config *c = load_text(HEADER "default_vcpus = 100000\n"
	                                                        "default_bridges = 9\n"
	                                                        "memory_slots = 0\n"
	                                                        "msize_9p = 0\n",
	                                                 &err);
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	ck_assert_msg(c != NULL, "%s", err ? err->message : "");
	ck_assert_uint_eq(c->hypervisor.default_vcpus, cpus < 240 ? cpus : 240);
	ck_assert_uint_eq(c->hypervisor.default_maxvcpus, cpus < 240 ? cpus : 240);
	ck_assert_uint_eq(c->hypervisor.default_bridges, 5);
	ck_assert_uint_eq(c->hypervisor.memory_slots, 10);
	ck_assert_uint_eq(c->hypervisor.msize_9p, 512000);
}
END_TEST

START_TEST(test_syntax_error_names_line_and_column)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *path = xasprintf("%s/configuration.toml", tmpdir);
	cleanup_free char *prefix = xasprintf("%s:4:", path);
	const char *m = load_error(HEADER "default_vcpus = = 1\n", &err);
	int line = 0, column = 0;

	ck_assert_msg(strncmp(m, prefix, strlen(prefix)) == 0, "%s", m);
	ck_assert_int_eq(sscanf(m + strlen(path), ":%d:%d: ", &line, &column), 2);
	ck_assert_int_eq(line, 4);
	ck_assert_int_gt(column, 0);
}
END_TEST

START_TEST(test_parse_from_memory)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *text = substitute(HEADER "default_memory = 128\n");
	cleanup_config struct kata_config *c =
	        kata_config_parse("inline.toml", text, strlen(text), &err);

	ck_assert_msg(c != NULL, "%s", err ? err->message : "");
	ck_assert_uint_eq(c->hypervisor.default_memory, 128);
	ck_assert_str_eq(c->path, "inline.toml");
	kata_config_free(steal_pointer(&c));
	c = kata_config_parse("inline.toml", "[hypervisor.qemu]\ndefault_memory = true\n", 39,
	                      &err);
	ck_assert_ptr_null(c);
	ck_assert_str_eq(err->message, "inline.toml:2: key `hypervisor.qemu.default_memory`: "
	                               "expected an integer, got a boolean");
}
END_TEST

/* machine_type left out (as in the shipped file): each backend gets one it can run. */
START_TEST(test_machine_type_per_backend)
{
	static const struct {
		const char *table, *more, *want;
	} cases[] = {
		{ "qemu", "", "microvm" },
		{ "libvirt", "", "q35" },
		{ "qemu", "shared_fs = \"virtio-fs\"\n", "q35" },
		{ "libvirt", "machine_type = \"pc\"\n", "pc" },
		{ "qemu", "machine_type = \"q35\"\n", "q35" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cleanup_error kata_error_t err = NULL;
		cleanup_free char *raw = xasprintf("[hypervisor.%s]\n"
		                                   "kernel = \"@ASSETSDIR@/vmlinux\"\n"
		                                   "initrd = \"@ASSETSDIR@/kata-initrd.img\"\n%s",
		                                   cases[i].table, cases[i].more);
		cleanup_free char *text = substitute(raw);
		cleanup_config struct kata_config *c =
		        kata_config_parse("inline.toml", text, strlen(text), &err);

		ck_assert_msg(c != NULL, "%s", err ? err->message : "");
		ck_assert_str_eq(kata_machine_type(&c->hypervisor), cases[i].want);
	}
}
END_TEST

START_TEST(test_lookup_order)
{
	cleanup_free char *first = write_config("first.toml", HEADER);
	cleanup_free char *second = write_config("second.toml", HEADER);
	cleanup_free char *missing = xasprintf("%s/missing.toml", tmpdir);
	cleanup_free char *env = xasprintf("%s/env.toml", tmpdir);
	const char *paths[] = { missing, first, second, NULL };
	const char *none[] = { missing, NULL };
	cleanup_error kata_error_t err = NULL;
	char *found;

	/* the system paths in order: the first that exists */
	found = kata_config_find(NULL, paths, &err);
	ck_assert_str_eq(found, first);
	free(found);
	/* $KATA_CONF_FILE before the system paths */
	setenv("KATA_CONF_FILE", env, 1);
	found = kata_config_find(NULL, paths, &err);
	ck_assert_str_eq(found, env);
	free(found);
	/* --kata-config before everything, even when it does not exist */
	found = kata_config_find(missing, paths, &err);
	ck_assert_str_eq(found, missing);
	free(found);
	/* an empty $KATA_CONF_FILE does not count */
	setenv("KATA_CONF_FILE", "", 1);
	found = kata_config_find(NULL, paths, &err);
	ck_assert_str_eq(found, first);
	free(found);
	unsetenv("KATA_CONF_FILE");
	/* nothing found */
	found = kata_config_find(NULL, none, &err);
	ck_assert_ptr_null(found);
	ck_assert_int_eq(err->errno_value, ENOENT);
	ck_assert_msg(strstr(err->message, missing) != NULL, "%s", err->message);
}
END_TEST

START_TEST(test_load_refuses_non_files)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *missing = xasprintf("%s/missing.toml", tmpdir);

	ck_assert_ptr_null(kata_config_load(tmpdir, &err));
	ck_assert_msg(strstr(err->message, "not a regular file") != NULL, "%s", err->message);
	kata_error_free(&err);
	ck_assert_ptr_null(kata_config_load(missing, &err));
	ck_assert_int_eq(err->errno_value, ENOENT);
	ck_assert_msg(strncmp(err->message, missing, strlen(missing)) == 0, "%s", err->message);
}
END_TEST

static Suite *config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("load");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_shipped_file_loads);
	tcase_add_test(tc, test_builtin_defaults_match_shipped_file);
	tcase_add_test(tc, test_kata_file_loads);
	tcase_add_test(tc, test_clear_containers_file_loads);
	tcase_add_test(tc, test_libvirt_file_loads);
	tcase_add_test(tc, test_broken_samples);
	tcase_add_loop_test(tc, test_type_error_names_file_line_key, 0,
	                    sizeof(type_cases) / sizeof(type_cases[0]));
	tcase_add_test(tc, test_unknown_keys);
	tcase_add_test(tc, test_impossible_values);
	tcase_add_test(tc, test_kata_caps_and_zero_defaults);
	tcase_add_test(tc, test_syntax_error_names_line_and_column);
	tcase_add_test(tc, test_parse_from_memory);
	tcase_add_test(tc, test_machine_type_per_backend);
	tcase_add_test(tc, test_lookup_order);
	tcase_add_test(tc, test_load_refuses_non_files);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = config_suite, .test_dir = "kata-test-config" };
