/* kata-env's output (TOML that parses back to the same values, JSON) and the host facts
 * helpers behind kata-env and kata-check: kernel banners, bounded program runs. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/cli.h"
#include "cli/host_facts.h"
#include "toml.h"
#include "fd_util.h"

/* Each test's own directory below the program's (removed even when the test fails). */
static char tmpdir[128];

static void write_file(const char *path, const char *data, size_t len, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

	ck_assert_msg(fd >= 0, "%s: %s", path, strerror(errno));
	ck_assert_int_eq(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static char *path_in(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

static void setup(void)
{
	unit_test_new_dir(tmpdir, sizeof(tmpdir));
	unsetenv("KATA_CONF_FILE");
}

/* Runs cli_env with stdout into a file; returns what it printed. */
static char *run_env(const char *config_path, bool json)
{
	cleanup_free char *out_path = path_in("env.out");
	struct cli_context ctx = { .program = "kata-runtime" };
	char *argv[] = { "kata-env", json ? "--json" : NULL, NULL };
	cleanup_error kata_error_t err = NULL;
	int saved = dup(STDOUT_FILENO), fd, ret;
	char *text;
	FILE *f;

	ctx.config_path = xstrdup(config_path);
	fflush(stdout);
	fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	dup2(fd, STDOUT_FILENO);
	close(fd);
	optind = 1;
	ret = cli_env(&ctx, json ? 2 : 1, argv, &err);
	fflush(stdout);
	dup2(saved, STDOUT_FILENO);
	close(saved);
	ck_assert_msg(ret == 0, "%s", err != NULL ? err->message : "");
	cli_context_release(&ctx);
	text = xzalloc(1024 * 1024);
	f = fopen(out_path, "re");
	ck_assert_int_lt(fread(text, 1, 1024 * 1024 - 1, f), 1024 * 1024 - 1);
	fclose(f);
	return text;
}

/* A configuration with strings that need escaping in TOML. */
static char *tricky_config(void)
{
	cleanup_free char *kernel = path_in("vmlinux"), *initrd = path_in("kata-initrd.img");
	cleanup_free char *text = NULL;
	char *path = path_in("configuration.toml");

	write_file(kernel, "k", 1, 0644);
	write_file(initrd, "i", 1, 0644);
	text = xasprintf("[hypervisor.qemu]\n"
	                 "kernel = \"%s\"\n"
	                 "initrd = \"%s\"\n"
	                 "kernel_params = 'a=\"quoted\" b=back\\slash c=\u00e9t\u00e9'\n"
	                 "virtio_fs_extra_args = [\"-o\", \"x=\\\"y\\\"\"]\n"
	                 "[agent.kata]\n"
	                 "kernel_modules = [\"e1000e X=1\"]\n",
	                 kernel, initrd);
	write_file(path, text, strlen(text), 0644);
	return path;
}

START_TEST(test_env_toml_parses_back)
{
	cleanup_free char *config = tricky_config();
	cleanup_free char *text = run_env(config, false);
	cleanup_error kata_error_t err = NULL;
	struct toml_value *root = toml_parse(text, strlen(text), &err);
	const struct toml_value *kernel, *hv, *host, *args, *version;

	ck_assert_msg(root != NULL, "%s\n%s", err != NULL ? err->message : "", text);
	kernel = toml_table_get(root, "Kernel");
	ck_assert_ptr_nonnull(kernel);
	ck_assert_str_eq(toml_table_get(kernel, "Parameters")->u.string.data,
	                 "a=\"quoted\" b=back\\slash c=\u00e9t\u00e9");
	hv = toml_table_get(root, "Hypervisor");
	args = toml_table_get(hv, "VirtioFSExtraArgs");
	ck_assert_int_eq(args->type, TOML_ARRAY);
	ck_assert_str_eq(args->u.array.items[1]->u.string.data, "x=\"y\"");
	ck_assert_int_eq(toml_table_get(hv, "DefaultMemory")->u.integer, 256);
	ck_assert_int_eq(toml_table_get(hv, "UseVSock")->u.boolean, false);
	host = toml_table_get(root, "Host");
	ck_assert_int_eq(toml_table_get(host, "CPUs")->u.integer, sysconf(_SC_NPROCESSORS_ONLN));
	ck_assert_ptr_nonnull(toml_table_get(toml_table_get(host, "Distro"), "Name"));
	version = toml_table_get(toml_table_get(root, "Runtime"), "Version");
	ck_assert_str_eq(toml_table_get(version, "Semver")->u.string.data, KATA_VERSION);
	ck_assert_str_eq(
	        toml_table_get(toml_table_get(toml_table_get(root, "Runtime"), "Config"), "Path")
	                ->u.string.data,
	        config);
	toml_free(root);
}
END_TEST

START_TEST(test_env_json)
{
	cleanup_free char *config = tricky_config();
	cleanup_free char *text = run_env(config, true);
	json_object *root = json_tokener_parse(text), *agent, *modules, *kernel, *params;

	ck_assert_msg(root != NULL, "%s", text);
	ck_assert(json_object_object_get_ex(root, "Agent", &agent));
	ck_assert(json_object_object_get_ex(agent, "KernelModules", &modules));
	ck_assert_str_eq(json_object_get_string(json_object_array_get_idx(modules, 0)),
	                 "e1000e X=1");
	ck_assert(json_object_object_get_ex(root, "Kernel", &kernel));
	ck_assert(json_object_object_get_ex(kernel, "Parameters", &params));
	ck_assert_str_eq(json_object_get_string(params),
	                 "a=\"quoted\" b=back\\slash c=\u00e9t\u00e9");
	/* the stand-in kernel has no banner */
	ck_assert(json_object_object_get_ex(kernel, "Version", &params));
	ck_assert_str_eq(json_object_get_string(params), "unknown");
	json_object_put(root);
}
END_TEST

START_TEST(test_kernel_banner_from_bzimage)
{
	cleanup_free char *path = path_in("bzImage");
	cleanup_free char *image = xzalloc(8192);
	cleanup_free char *version = NULL;
	const char banner[] = "6.1.0-test (builder@host) #1 SMP";

	/* setup header: "HdrS" at 0x202, kernel_version at 0x20e = offset from 0x200 */
	memcpy(image + 0x202, "HdrS", 4);
	image[0x20e] = 0x00;
	image[0x20f] = 0x10; /* string at 0x1200 */
	memcpy(image + 0x1200, banner, sizeof(banner));
	write_file(path, image, 8192, 0644);
	version = host_kernel_image_version(path);
	ck_assert_ptr_nonnull(version);
	ck_assert_str_eq(version, banner);
}
END_TEST

START_TEST(test_kernel_banner_from_vmlinux)
{
	cleanup_free char *path = path_in("vmlinux");
	cleanup_free char *image = xzalloc(8192);
	cleanup_free char *version = NULL;
	const char banner[] = "Linux version 6.1.192 (kata@kata-containers) #1\n";

	memcpy(image, "\177ELF", 4);
	memcpy(image + 5000, banner, sizeof(banner) - 1);
	write_file(path, image, 8192, 0644);
	version = host_kernel_image_version(path);
	ck_assert_ptr_nonnull(version);
	ck_assert_str_eq(version, "6.1.192 (kata@kata-containers) #1");
	/* a bzImage header pointing outside the file gives nothing, without reading past it */
	memset(image, 0, 8192);
	memcpy(image + 0x202, "HdrS", 4);
	image[0x20e] = (char)0xff;
	image[0x20f] = (char)0xff;
	write_file(path, image, 8192, 0644);
	ck_assert_ptr_null(host_kernel_image_version(path));
	/* too small, missing */
	write_file(path, "x", 1, 0644);
	ck_assert_ptr_null(host_kernel_image_version(path));
	ck_assert_ptr_null(host_kernel_image_version("/nonexistent/vmlinux"));
}
END_TEST

START_TEST(test_run_capture_bounded)
{
	char *argv[] = { "/bin/sh", "-c", "echo one; echo two >&2; head -c 100000 /dev/zero",
		         NULL };
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *out = NULL;
	int status = -1;

	out = host_run_capture(argv, 5000, 8, &status, &err);
	ck_assert_msg(out != NULL, "%s", err != NULL ? err->message : "");
	ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	ck_assert_str_eq(out, "one\ntwo\n"); /* stdout and stderr, first 8 bytes */
}
END_TEST

START_TEST(test_run_capture_deadline)
{
	/* closes its output and keeps running, with a child of its own */
	char *argv[] = { "/bin/sh", "-c", "exec >&- 2>&-; sleep 30 & sleep 30", NULL };
	cleanup_error kata_error_t err = NULL;
	int64_t start = now_ms();
	int status = 0;

	ck_assert_ptr_null(host_run_capture(argv, 300, 64, &status, &err));
	ck_assert_int_eq(err->errno_value, ETIMEDOUT);
	ck_assert_msg(now_ms() - start < 3000, "took %lld ms", (long long)(now_ms() - start));
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
}
END_TEST

START_TEST(test_program_version)
{
	cleanup_free char *script = path_in("prog");
	cleanup_free char *version = NULL;
	const char *why = NULL;
	const char text[] = "#!/bin/sh\n[ \"$1\" = --version ] && printf 'prog 1.2.3\\nmore\\n'\n";

	write_file(script, text, sizeof(text) - 1, 0755);
	version = host_program_version(script);
	ck_assert_ptr_nonnull(version);
	ck_assert_str_eq(version, "prog 1.2.3");
	ck_assert_ptr_null(host_program_version("/nonexistent/prog"));
	chmod(script, 0644);
	ck_assert(!host_is_executable(script, &why));
	ck_assert_str_eq(why, "not executable");
	ck_assert_ptr_null(host_program_version(script));
	ck_assert(!host_is_executable(tmpdir, &why));
	ck_assert_str_eq(why, "not a regular file");
	ck_assert(host_is_readable_file(script, &why));
}
END_TEST

START_TEST(test_host_facts)
{
	struct host_facts f;

	host_facts_collect(&f);
	ck_assert_ptr_nonnull(f.kernel_release);
	ck_assert_int_eq(f.cpus, sysconf(_SC_NPROCESSORS_ONLN));
	ck_assert_uint_gt(f.memory_mib, 0);
	ck_assert_int_eq(f.kvm, access("/dev/kvm", F_OK) == 0);
	ck_assert(strcmp(f.cgroups, "v1") == 0 || strcmp(f.cgroups, "v2") == 0 ||
	          strcmp(f.cgroups, "hybrid") == 0 || strcmp(f.cgroups, "unknown") == 0);
	host_facts_release(&f);
}
END_TEST

static Suite *cli_suite(void)
{
	Suite *s = suite_create("config-cli");
	TCase *tc = tcase_create("env");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_env_toml_parses_back);
	tcase_add_test(tc, test_env_json);
	tcase_add_test(tc, test_kernel_banner_from_bzimage);
	tcase_add_test(tc, test_kernel_banner_from_vmlinux);
	tcase_add_test(tc, test_run_capture_bounded);
	tcase_add_test(tc, test_run_capture_deadline);
	tcase_add_test(tc, test_program_version);
	tcase_add_test(tc, test_host_facts);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = cli_suite, .test_dir = "kata-test-config-cli" };
