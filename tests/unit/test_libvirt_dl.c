/* Loading libvirt on first use (backends/libvirt/libvirt_dl.c): with the real libraries the
 * load succeeds, once; when libvirt.so.0 cannot be loaded every libvirt operation fails with
 * a clear error naming the library and the loader's reason, and nothing crashes. The failing
 * case runs this program again with LD_LIBRARY_PATH pointing at a directory whose
 * libvirt.so.0 is an empty file, which the dynamic loader finds first and refuses: the
 * production code has no switch for it. This test does not link libvirt itself. */
#include "check_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "hypervisor.h"
#include "libvirt/libvirt_dl.h"
#include "libvirt/libvirt_sandbox.h"

#define CHILD_FLAG "--without-libvirt"

static struct kata_config config;

static void setup_config(void)
{
	memset(&config, 0, sizeof(config));
	config.hypervisor.name = "libvirt";
	config.hypervisor.uri = "test:///default";
	config.hypervisor.kernel = "/opt/kata/vmlinux";
	config.hypervisor.machine_type = "q35";
	config.hypervisor.accelerator = KATA_ACCEL_TCG;
}

/* The child: each libvirt operation's error on one line. */
static int run_without_libvirt(void)
{
	struct hypervisor_sandbox_params params = { .id = "nolib", .dir = "/nonexistent/nolib" };
	cleanup_error kata_error_t load_err = NULL, create_err = NULL, start_err = NULL;
	cleanup_error kata_error_t again_err = NULL;
	cleanup_hypervisor struct hypervisor *hv = NULL;
	struct libvirt_sandbox *sb;

	setup_config();
	if (libvirt_dl_load(&load_err) == 0 || libvirt_dl_load(&again_err) == 0)
		return 1;
	printf("load: %s (%d)\nagain: %s\n", load_err->message, load_err->errno_value,
	       again_err->message);
	hv = hypervisor_new("libvirt", &config, &create_err);
	if (hv == NULL || hypervisor_create(hv, &params, 0, &create_err) == 0)
		return 1;
	printf("create: %s\n", create_err->message);
	/* A sandbox as restored from saved state, to start. */
	sb = xzalloc(sizeof(*sb));
	sb->id = xstrdup("nolib");
	sb->name = xstrdup("sandbox-nolib");
	sb->uuid = xstrdup("00000000-0000-4000-8000-000000000000");
	sb->uri = xstrdup("test:///default");
	sb->dir = xstrdup("/nonexistent/nolib");
	sb->xml = xstrdup("<domain/>");
	hv->priv = sb;
	if (hypervisor_start(hv, 0, &start_err) == 0)
		return 1;
	printf("start: %s\n", start_err->message);
	return 0;
}

START_TEST(test_load_real_libraries)
{
	cleanup_error kata_error_t err = NULL;

	ck_assert_msg(libvirt_dl_load(&err) == 0, "%s", err != NULL ? err->message : "?");
	ck_assert_int_eq(libvirt_dl_load(&err), 0);
	ck_assert_ptr_nonnull(virt_dl.virConnectOpen);
	ck_assert_ptr_nonnull(virt_dl.xmlTextWriterEndDocument);
	ck_assert(virt_dl.xmlCheckUTF8((const xmlChar *)"caf\xc3\xa9"));
}
END_TEST

START_TEST(test_missing_library_is_a_clear_error)
{
	/* below the program's directory: removed even when this test fails */
	char dir[128];
	cleanup_free char *lib = NULL;
	char out[4096];
	size_t len = 0;
	ssize_t n;
	int fds[2], status;
	pid_t pid;
	FILE *f;

	unit_test_new_dir(dir, sizeof(dir));
	lib = xasprintf("%s/" LIBVIRT_DL_VIRT_SONAME, dir);
	f = fopen(lib, "w");
	ck_assert_ptr_nonnull(f);
	fclose(f);
	ck_assert_int_eq(pipe(fds), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		setenv("LD_LIBRARY_PATH", dir, 1);
		execl("/proc/self/exe", "test_libvirt_dl", CHILD_FLAG, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	while (len < sizeof(out) - 1 && (n = read(fds[0], out + len, sizeof(out) - 1 - len)) > 0)
		len += (size_t)n;
	out[len] = '\0';
	close(fds[0]);
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	unlink(lib);
	rmdir(dir);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child status %d:\n%s", status,
	              out);
	ck_assert_msg(strstr(out, "load: libvirt backend: cannot load libvirt.so.0: ") != NULL &&
	                      strstr(out, "file too short") != NULL,
	              "%s", out);
	ck_assert_msg(strstr(out, "(2)\n") != NULL, "not ENOENT: %s", out);
	ck_assert_msg(strstr(out, "again: libvirt backend: cannot load libvirt.so.0") != NULL, "%s",
	              out);
	ck_assert_msg(strstr(out, "create: ") != NULL &&
	                      strstr(strstr(out, "create: "),
	                             "libvirt backend: cannot load libvirt.so.0") != NULL,
	              "%s", out);
	ck_assert_msg(strstr(out, "start: ") != NULL &&
	                      strstr(strstr(out, "start: "),
	                             "libvirt backend: cannot load libvirt.so.0") != NULL,
	              "%s", out);
}
END_TEST

static Suite *libvirt_dl_suite(void)
{
	Suite *s;
	TCase *tc;

	s = suite_create("libvirt_dl");
	tc = tcase_create("loader");
	tcase_add_test(tc, test_missing_library_is_a_clear_error);
	tcase_add_test(tc, test_load_real_libraries);
	suite_add_tcase(s, tc);
	return s;
}

/* The program started again with CHILD_FLAG: the child test_missing_library_is_a_clear_error
 * runs. */
static int child_without_libvirt(int argc, char **argv)
{
	if (argc == 2 && strcmp(argv[1], CHILD_FLAG) == 0)
		return run_without_libvirt();
	return -1;
}

const struct unit_test unit_test = { .suite = libvirt_dl_suite,
	                             .run_instead = child_without_libvirt,
	                             .test_dir = "kata-test-libvirt-dl" };
