/* kata-check's look at the host's libvirt: which user qemu runs as, whether that user can
 * open /dev/kvm, and the libvirt backend's check operation as kata-check calls it through
 * the ops table (backends/libvirt/libvirt_host.c). */
#include "check_main.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "hypervisor.h"
#include "libvirt/libvirt_host.h"

/* Each test's own directory below the program's (removed even when the test fails). */
static char tmpdir[128];

static void setup(void)
{
	unit_test_new_dir(tmpdir, sizeof(tmpdir));
}

static void teardown(void)
{
	cleanup_free char *cmd = xasprintf("rm -rf %s", tmpdir);

	ck_assert_int_eq(system(cmd), 0);
}

static char *write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	fclose(f);
	return path;
}

START_TEST(test_qemu_user)
{
	cleanup_free char *commented = write_file("a.conf", "#user = \"root\"\n# user = \"x\"\n");
	cleanup_free char *set = write_file("b.conf", "group = \"kvm\"\n  user  =  \"root\"\n");
	cleanup_free char *twice = write_file("c.conf", "user = \"root\"\nuser = \"+0\"\n");
	cleanup_free char *missing = xasprintf("%s/none.conf", tmpdir);
	cleanup_free char *a = libvirt_qemu_user(commented);
	cleanup_free char *b = libvirt_qemu_user(set);
	cleanup_free char *c = libvirt_qemu_user(twice);
	cleanup_free char *d = libvirt_qemu_user(missing);

	ck_assert_str_eq(a, "libvirt-qemu");
	ck_assert_str_eq(b, "root");
	ck_assert_str_eq(c, "+0");
	ck_assert_str_eq(d, "libvirt-qemu");
}
END_TEST

START_TEST(test_kvm_access)
{
	cleanup_free char *dev = write_file("kvm", "");
	cleanup_free char *gone = xasprintf("%s/no-kvm", tmpdir);
	char *why = NULL;

	/* root always can; nobody (not the owner, not in the group) needs the other bits */
	ck_assert_int_eq(chown(dev, 0, 0), 0);
	ck_assert_int_eq(chmod(dev, 0600), 0);
	ck_assert(libvirt_user_can_use_kvm("root", dev, &why));
	ck_assert(libvirt_user_can_use_kvm("+0", dev, &why));
	ck_assert(!libvirt_user_can_use_kvm("nobody", dev, &why));
	ck_assert_ptr_nonnull(strstr(why, "mode 0600, owner 0, group 0"));
	free(why);
	ck_assert_int_eq(chmod(dev, 0666), 0);
	ck_assert(libvirt_user_can_use_kvm("nobody", dev, &why));
	ck_assert_int_eq(chmod(dev, 0604), 0);
	ck_assert(!libvirt_user_can_use_kvm("nobody", dev, &why));
	free(why);
	ck_assert(!libvirt_user_can_use_kvm("no-such-user-here", dev, &why));
	ck_assert_ptr_nonnull(strstr(why, "no user no-such-user-here"));
	free(why);
	ck_assert(!libvirt_user_can_use_kvm("root", gone, &why));
	ck_assert_ptr_nonnull(strstr(why, "No such file"));
	free(why);
}
END_TEST

/* The findings of one hypervisor_check() call, as kata-check would print them. */
struct findings {
	int count;
	char lines[4][512];
};

static void collect(void *opaque, enum hypervisor_check_status status, const char *what,
                    const char *detail)
{
	struct findings *f = opaque;
	static const char *const labels[] = { "ok", "info", "warn", "FAIL" };

	ck_assert_int_lt(f->count, 4);
	snprintf(f->lines[f->count++], sizeof(f->lines[0]), "%s %s %s", labels[status], what,
	         detail);
}

static int check_backend(const char *backend, const char *uri, struct findings *f)
{
	struct kata_config config = { 0 };
	cleanup_hypervisor struct hypervisor *hv = NULL;
	cleanup_error kata_error_t err = NULL;

	config.hypervisor.name = (char *)backend;
	config.hypervisor.uri = (char *)uri;
	memset(f, 0, sizeof(*f));
	hv = hypervisor_new(NULL, &config, &err);
	ck_assert_ptr_nonnull(hv);
	return hypervisor_check(hv, collect, f, 0, &err);
}

START_TEST(test_backend_check)
{
	struct findings f;

	/* libvirt's built-in test driver needs no daemon. */
	ck_assert_int_eq(check_backend("libvirt", "test:///default", &f), 0);
	ck_assert_int_eq(f.count, 1);
	ck_assert_msg(strncmp(f.lines[0], "ok libvirt test:///default reachable (libvirt ", 46) ==
	                      0,
	              "%s", f.lines[0]);

	/* Unreachable: a finding, not an error. */
	ck_assert_int_eq(check_backend("libvirt",
	                               "qemu+unix:///system?socket=/nonexistent/libvirt-sock", &f),
	                 0);
	ck_assert_int_eq(f.count, 1);
	ck_assert_msg(strncmp(f.lines[0], "FAIL libvirt cannot connect to qemu+unix:", 40) == 0,
	              "%s", f.lines[0]);

	/* The qemu backend has nothing of its own to check. */
	ck_assert_int_eq(check_backend("qemu", NULL, &f), 0);
	ck_assert_int_eq(f.count, 0);
}
END_TEST

static Suite *libvirt_host_suite(void)
{
	Suite *s = suite_create("libvirt_host");
	TCase *tc = tcase_create("check");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_qemu_user);
	tcase_add_test(tc, test_kvm_access);
	tcase_add_test(tc, test_backend_check);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = libvirt_host_suite,
	                             .test_dir = "kata-test-libvirt-host" };
