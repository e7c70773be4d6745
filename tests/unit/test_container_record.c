/* The runtime's container record: what one call leaves for the next. */
#include "check_main.h"
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli/container.h"
#include "json_util.h"

static void fill(struct container_record *r)
{
	memset(r, 0, sizeof(*r));
	r->id = xstrdup("c1");
	r->bundle = xstrdup("/b");
	r->config_path = xstrdup("/etc/kata-containers/configuration.toml");
	r->saved_status = CONTAINER_RUNNING;
	r->created = container_timestamp_now();
	r->owner = xstrdup("root");
	r->annotations = xcalloc(3, sizeof(char *));
	r->annotations[0] = xstrdup("k");
	r->annotations[1] = xstrdup("v");
	r->sandbox.id = xstrdup("c1");
	r->sandbox.dir = xstrdup("/run/kata-containers/.vm/0123456789abcdef");
	r->sandbox.shared_dir = xstrdup("/run/kata-containers/.vm/0123456789abcdef/shared");
	r->sandbox.proxy_socket = xstrdup("/run/kata-containers/.vm/0123456789abcdef/proxy.sock");
	r->sandbox.hypervisor = json_object_new_object();
	json_object_object_add(r->sandbox.hypervisor, "backend", json_object_new_string("qemu"));
	r->sandbox.mounts = xcalloc(2, sizeof(char *));
	r->sandbox.mounts[0] =
	        xstrdup("/run/kata-containers/.vm/0123456789abcdef/shared/c1/rootfs");
	r->sandbox.vcpus = 2;
	r->sandbox.memory_mib = 384;
	r->shim.pid = getpid();
	process_identify(getpid(), &r->shim, NULL);
}

START_TEST(test_round_trip)
{
	cleanup_error kata_error_t err = NULL;
	struct container_record a, b;
	cleanup_json json_object *obj = NULL;

	fill(&a);
	obj = container_record_to_json(&a);
	ck_assert_int_eq(container_record_from_json(obj, &b, &err), 0);
	ck_assert_str_eq(b.id, "c1");
	ck_assert_int_eq(b.saved_status, CONTAINER_RUNNING);
	ck_assert_str_eq(b.annotations[1], "v");
	ck_assert_str_eq(b.sandbox.mounts[0], a.sandbox.mounts[0]);
	ck_assert_uint_eq(b.sandbox.vcpus, 2);
	ck_assert_uint_eq(b.sandbox.memory_mib, 384);
	ck_assert_int_eq(b.shim.pid, a.shim.pid);
	ck_assert_uint_eq(b.shim.start_time, a.shim.start_time);
	ck_assert_ptr_null(b.deferred_newcontainer);
	container_record_clear(&a);
	container_record_clear(&b);
}
END_TEST

START_TEST(test_deferred_newcontainer_survives)
{
	cleanup_error kata_error_t err = NULL;
	struct container_record a, b;
	cleanup_json json_object *obj = NULL;
	json_object *id = NULL;

	fill(&a);
	a.deferred_token = xstrdup("aGVsbG8gd29ybGQh");
	a.deferred_newcontainer = json_object_new_object();
	json_object_object_add(a.deferred_newcontainer, "id", json_object_new_string("c1"));
	obj = container_record_to_json(&a);
	ck_assert_int_eq(container_record_from_json(obj, &b, &err), 0);
	ck_assert_str_eq(b.deferred_token, "aGVsbG8gd29ybGQh");
	ck_assert(json_object_object_get_ex(b.deferred_newcontainer, "id", &id));
	ck_assert_str_eq(json_object_get_string(id), "c1");
	container_record_clear(&a);
	container_record_clear(&b);
}
END_TEST

START_TEST(test_status_follows_the_shim)
{
	struct container_record r;

	fill(&r);
	ck_assert_int_eq(container_current_status(&r), CONTAINER_RUNNING);
	r.shim.start_time += 1; /* a reused pid is not our shim */
	ck_assert_int_eq(container_current_status(&r), CONTAINER_STOPPED);
	r.saved_status = CONTAINER_CREATING;
	ck_assert_int_eq(container_current_status(&r), CONTAINER_CREATING);
	container_record_clear(&r);
}
END_TEST

START_TEST(test_malformed_records)
{
	cleanup_error kata_error_t err = NULL;
	struct container_record r;
	cleanup_json json_object *obj =
	        json_tokener_parse("{\"id\": \"c1\", \"status\": \"dancing\", "
	                           "\"sandbox\": {}}");

	ck_assert_int_eq(container_record_from_json(obj, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "dancing"));
	kata_error_free(&err);
	json_object_put(obj);
	obj = json_tokener_parse("{\"id\": 7, \"status\": \"running\", \"sandbox\": {}}");
	ck_assert_int_eq(container_record_from_json(obj, &r, &err), -1);
	ck_assert_ptr_nonnull(strstr(err->message, "id"));
}
END_TEST

START_TEST(test_oci_state)
{
	struct container_record r;
	cleanup_json json_object *state = NULL;
	json_object *pid = NULL;

	fill(&r);
	state = container_oci_state(&r, CONTAINER_STOPPED);
	ck_assert(json_object_object_get_ex(state, "pid", &pid));
	ck_assert_int_eq(json_object_get_int(pid), 0);
	json_object_put(state);
	state = container_oci_state(&r, CONTAINER_RUNNING);
	ck_assert(json_object_object_get_ex(state, "pid", &pid));
	ck_assert_int_eq(json_object_get_int(pid), getpid());
	container_record_clear(&r);
}
END_TEST

static Suite *container_record_suite(void)
{
	Suite *s = suite_create("container_record");
	TCase *tc = tcase_create("record");

	tcase_add_test(tc, test_round_trip);
	tcase_add_test(tc, test_deferred_newcontainer_survives);
	tcase_add_test(tc, test_status_follows_the_shim);
	tcase_add_test(tc, test_malformed_records);
	tcase_add_test(tc, test_oci_state);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = container_record_suite };
