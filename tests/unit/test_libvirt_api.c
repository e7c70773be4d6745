/* The libvirt backend through the libvirt C API, against libvirt's in-process test driver
 * (test:///default, no daemon): the life cycle across save/restore, a domain destroyed
 * behind the backend's back (crashed), libvirt refusing the domain (its own message in the
 * error), an unreachable libvirt (clear error, and cleanup still removes everything). */
#include "check_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "cleanup.h"
#include "error.h"
#include "hypervisor.h"

#define TEST_URI "test:///default"

static struct kata_config config;
/* Each test's own directory below the program's (removed even when the test fails). */
static char tmpdir[128];
static char *sandbox_dir;
/* test:///default keeps its domains only while a connection is open: the test holds one,
 * as the daemon does in real use, and pokes at the domains through it. */
static virConnectPtr conn;

static void quiet(void *opaque, virErrorPtr error)
{
	(void)opaque;
	(void)error;
}

static void setup(void)
{
	memset(&config, 0, sizeof(config));
	config.hypervisor.name = "libvirt";
	config.hypervisor.uri = TEST_URI;
	config.hypervisor.kernel = "/opt/kata/vmlinux";
	config.hypervisor.machine_type = "q35";
	config.hypervisor.accelerator = KATA_ACCEL_TCG;
	config.hypervisor.default_vcpus = 1;
	config.hypervisor.default_memory = 256;
	unit_test_new_dir(tmpdir, sizeof(tmpdir));
	sandbox_dir = xasprintf("%s/sb/vm", tmpdir);
	virSetErrorFunc(NULL, quiet);
	conn = virConnectOpen(TEST_URI);
	ck_assert_ptr_nonnull(conn);
}

static void teardown(void)
{
	cleanup_free char *sb = xasprintf("%s/sb", tmpdir);

	virConnectClose(conn);
	rmdir(sandbox_dir);
	rmdir(sb);
	ck_assert_int_eq(rmdir(tmpdir), 0); /* the backend left nothing else */
	free(sandbox_dir);
}

static struct hypervisor *create(const char *id)
{
	struct hypervisor_sandbox_params params = { .id = id, .dir = sandbox_dir };
	cleanup_error kata_error_t err = NULL;
	struct hypervisor *hv = hypervisor_new(NULL, &config, &err);

	ck_assert_msg(hv != NULL, "%s", err != NULL ? err->message : "?");
	ck_assert_msg(hypervisor_create(hv, &params, 0, &err) == 0, "%s", err->message);
	return hv;
}

/* What a later runtime process does: a new handle from the saved state. */
static struct hypervisor *reload(struct hypervisor *hv)
{
	json_object *saved = hypervisor_save(hv);
	cleanup_error kata_error_t err = NULL;
	struct hypervisor *again = hypervisor_restore(&config, saved, &err);

	ck_assert_msg(again != NULL, "%s", err != NULL ? err->message : "?");
	json_object_put(saved);
	hypervisor_free(hv);
	return again;
}

static enum hypervisor_state state_of(struct hypervisor *hv)
{
	cleanup_error kata_error_t err = NULL;
	enum hypervisor_state state = HYPERVISOR_STATE_CREATED;

	ck_assert_msg(hypervisor_get_state(hv, &state, 0, &err) == 0, "%s", err->message);
	return state;
}

#define ck_op(call)                                                                                \
	do {                                                                                       \
		cleanup_error kata_error_t err_ = NULL;                                            \
		ck_assert_msg((call) == 0, "%s: %s", #call, err_ != NULL ? err_->message : "?");   \
	} while (0)

static int domain_count(const char *name)
{
	virDomainPtr dom = virDomainLookupByName(conn, name);

	if (dom == NULL)
		return 0;
	virDomainFree(dom);
	return 1;
}

START_TEST(test_lifecycle)
{
	struct hypervisor *hv = create("life");
	cleanup_free char *ctl = xasprintf("%s/ctl.sock", sandbox_dir);
	struct stat st;

	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_CREATED);
	ck_assert_int_eq(stat(sandbox_dir, &st), 0);
	ck_assert_str_eq(hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_CTL), ctl);
	ck_assert_ptr_null(hypervisor_console_log_path(hv));
	hv = reload(hv);
	ck_assert_int_eq(domain_count("sandbox-life"), 0);
	ck_op(hypervisor_start(hv, 0, &err_));
	ck_assert_int_eq(domain_count("sandbox-life"), 1);
	hv = reload(hv);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_RUNNING);
	{
		cleanup_error kata_error_t err = NULL;

		ck_assert_int_eq(hypervisor_start(hv, 0, &err), -1);
		ck_assert_int_eq(err->errno_value, EBUSY);
	}
	ck_op(hypervisor_pause(hv, 0, &err_));
	hv = reload(hv);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_PAUSED);
	ck_op(hypervisor_resume(hv, 0, &err_));
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_RUNNING);
	ck_op(hypervisor_stop(hv, 0, &err_));
	ck_assert_int_eq(domain_count("sandbox-life"), 0);
	hv = reload(hv);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_STOPPED);
	ck_op(hypervisor_stop(hv, 0, &err_)); /* already gone: fine */
	ck_op(hypervisor_cleanup(hv, 0, &err_));
	ck_assert_int_eq(stat(sandbox_dir, &st), -1);
	ck_op(hypervisor_cleanup(hv, 0, &err_));
	hypervisor_free(hv);
}
END_TEST

START_TEST(test_destroyed_behind_our_back_is_crashed)
{
	struct hypervisor *hv = create("crash");
	virDomainPtr dom;
	cleanup_error kata_error_t err = NULL;

	ck_op(hypervisor_start(hv, 0, &err_));
	dom = virDomainLookupByName(conn, "sandbox-crash");
	ck_assert_ptr_nonnull(dom);
	ck_assert_int_eq(virDomainDestroy(dom), 0); /* virsh destroy */
	virDomainFree(dom);
	hv = reload(hv);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_CRASHED);
	ck_assert_int_eq(hypervisor_pause(hv, 0, &err), -1);
	ck_assert_int_eq(err->errno_value, ESRCH);
	ck_assert_msg(strstr(err->message, "gone (crashed)") != NULL, "%s", err->message);
	ck_op(hypervisor_cleanup(hv, HYPERVISOR_FLAG_FORCE, &err_));
	ck_assert_int_eq(access(sandbox_dir, F_OK), -1);
	hypervisor_free(hv);
}
END_TEST

/* A domain of the same name already exists: libvirt refuses ours, with its own words. */
START_TEST(test_refused_domain)
{
	const char *other = "<domain type='test'><name>sandbox-dup</name><memory>65536</memory>"
	                    "<os><type>hvm</type></os></domain>";
	virDomainPtr dom = virDomainCreateXML(conn, other, 0);
	struct hypervisor *hv;
	cleanup_error kata_error_t err = NULL;

	ck_assert_ptr_nonnull(dom);
	hv = create("dup");
	ck_assert_int_eq(hypervisor_start(hv, 0, &err), -1);
	ck_assert_int_eq(err->errno_value, EINVAL);
	ck_assert_msg(strstr(err->message, "libvirt: start: create the domain: ") != NULL &&
	                      strstr(err->message, "sandbox-dup") != NULL &&
	                      strstr(err->message, "already exists") != NULL,
	              "%s", err->message);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_CREATED);
	/* cleanup destroys only our domain (by uuid), not the other one of that name */
	ck_op(hypervisor_cleanup(hv, 0, &err_));
	ck_assert_int_eq(domain_count("sandbox-dup"), 1);
	ck_assert_int_eq(access(sandbox_dir, F_OK), -1);
	virDomainDestroy(dom);
	virDomainFree(dom);
	hypervisor_free(hv);
}
END_TEST

/* No libvirt there: a clear error naming the URI; cleanup still removes the directory. */
START_TEST(test_unreachable_libvirt)
{
	struct hypervisor *hv;
	cleanup_error kata_error_t err = NULL;
	cleanup_error kata_error_t state_err = NULL;
	enum hypervisor_state state;
	cleanup_free char *uri = xasprintf("qemu:///system?socket=%s/no-such-sock", tmpdir);

	config.hypervisor.uri = uri;
	hv = create("unreachable");
	ck_assert_int_eq(hypervisor_start(hv, 0, &err), -1);
	ck_assert_int_eq(err->errno_value, ECONNREFUSED);
	ck_assert_msg(strstr(err->message, "connect to qemu:///system?socket=") != NULL &&
	                      strstr(err->message, "no-such-sock") != NULL,
	              "%s", err->message);
	ck_assert_int_eq(state_of(hv), HYPERVISOR_STATE_CREATED);
	hv = reload(hv);
	ck_op(hypervisor_cleanup(hv, 0, &err_));
	ck_assert_int_eq(access(sandbox_dir, F_OK), -1);
	hypervisor_free(hv);

	/* A started sandbox whose libvirt went away: state says so. */
	config.hypervisor.uri = TEST_URI;
	hv = create("lost");
	ck_op(hypervisor_start(hv, 0, &err_));
	{
		json_object *saved = hypervisor_save(hv);
		json_object *st = json_object_object_get(saved, "state");

		json_object_object_add(st, "uri", json_object_new_string(uri));
		hypervisor_free(hv);
		hv = hypervisor_restore(&config, saved, &state_err);
		json_object_put(saved);
	}
	ck_assert_ptr_nonnull(hv);
	ck_assert_int_eq(hypervisor_get_state(hv, &state, 0, &state_err), -1);
	ck_assert_int_eq(state_err->errno_value, ECONNREFUSED);
	ck_assert_msg(strstr(state_err->message, "libvirt: state: connect to") != NULL, "%s",
	              state_err->message);
	ck_op(hypervisor_cleanup(hv, 0, &err_));
	ck_assert_int_eq(access(sandbox_dir, F_OK), -1);
	hypervisor_free(hv);
	{
		virDomainPtr dom = virDomainLookupByName(conn, "sandbox-lost");

		ck_assert_ptr_nonnull(dom);
		virDomainDestroy(dom);
		virDomainFree(dom);
	}
}
END_TEST

START_TEST(test_create_refusals)
{
	struct hypervisor_sandbox_params params = { .id = "a/b", .dir = sandbox_dir };
	cleanup_error kata_error_t err = NULL;
	cleanup_error kata_error_t err2 = NULL;
	cleanup_hypervisor struct hypervisor *hv = hypervisor_new("libvirt", &config, &err);
	cleanup_free char *long_dir = NULL;

	ck_assert_int_eq(hypervisor_create(hv, &params, 0, &err), -1);
	ck_assert_msg(strstr(err->message, "cannot name a domain") != NULL, "%s", err->message);
	long_dir = xasprintf("%s/%0100d", tmpdir, 0);
	params.id = "long";
	params.dir = long_dir;
	ck_assert_int_eq(hypervisor_create(hv, &params, 0, &err2), -1);
	ck_assert_int_eq(err2->errno_value, ENAMETOOLONG);
	ck_assert_int_eq(access(long_dir, F_OK), -1);
}
END_TEST

static Suite *libvirt_api_suite(void)
{
	Suite *s = suite_create("libvirt_api");
	TCase *tc = tcase_create("test-driver");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_lifecycle);
	tcase_add_test(tc, test_destroyed_behind_our_back_is_crashed);
	tcase_add_test(tc, test_refused_domain);
	tcase_add_test(tc, test_unreachable_libvirt);
	tcase_add_test(tc, test_create_refusals);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = libvirt_api_suite, .test_dir = "kata-test-libvirt" };
