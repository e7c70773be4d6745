/* Pods (cli/pod.h): the annotations read, the guest's namespaces of a pod's container, the
 * sandbox lock's refusals and the containers a sandbox's delete removes or refuses for. */
#include "check_main.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "cli/pod.h"
#include "cli/sandbox.h"
#include "config.h"
#include "json_util.h"

static char **pairs(const char *k1, const char *v1, const char *k2, const char *v2, const char *k3,
                    const char *v3)
{
	const char *all[] = { k1, v1, k2, v2, k3, v3 };
	char **out = xcalloc(7, sizeof(char *));
	size_t n = 0;

	for (size_t i = 0; i < 6 && all[i] != NULL; i += 2) {
		out[n++] = xstrdup(all[i]);
		out[n++] = xstrdup(all[i + 1]);
	}
	return out;
}

/* Parses and returns the role; *sandbox gets the sandbox id (or NULL), *errno_value the
 * error's errno (0 without one). */
static int parse(char **annotations, const char *id, char **sandbox, int *errno_value)
{
	struct pod_ref ref;
	kata_error_t err = NULL;
	int role = -1;

	*sandbox = NULL;
	*errno_value = 0;
	if (pod_ref_from_annotations(annotations, id, &ref, &err) == 0) {
		role = (int)ref.role;
		*sandbox = steal_pointer(&ref.sandbox_id);
		pod_ref_clear(&ref);
	} else {
		ck_assert_ptr_nonnull(err);
		ck_assert_ptr_nonnull(err->message);
		*errno_value = err->errno_value;
		kata_error_free(&err);
	}
	strv_free(annotations);
	return role;
}

START_TEST(test_annotations)
{
	char *sb;
	int e;

	ck_assert_int_eq(parse(NULL, "c", &sb, &e), POD_NONE);
	ck_assert_ptr_null(sb);
	ck_assert_int_eq(parse(pairs("other", "x", NULL, NULL, NULL, NULL), "c", &sb, &e),
	                 POD_NONE);
	/* containerd's CRI plugin */
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "sandbox", POD_CRI_SANDBOX_ID, "p1",
	                             NULL, NULL),
	                       "p1", &sb, &e),
	                 POD_SANDBOX);
	ck_assert_str_eq(sb, "p1");
	free(sb);
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "container", POD_CRI_SANDBOX_ID, "p1",
	                             NULL, NULL),
	                       "c1", &sb, &e),
	                 POD_CONTAINER);
	ck_assert_str_eq(sb, "p1");
	free(sb);
	/* CRI-O */
	ck_assert_int_eq(parse(pairs(POD_CRIO_CONTAINER_TYPE, "container", POD_CRIO_SANDBOX_ID,
	                             "p2", NULL, NULL),
	                       "c1", &sb, &e),
	                 POD_CONTAINER);
	ck_assert_str_eq(sb, "p2");
	free(sb);
	ck_assert_int_eq(parse(pairs(POD_CRIO_CONTAINER_TYPE, "sandbox", NULL, NULL, NULL, NULL),
	                       "p2", &sb, &e),
	                 POD_SANDBOX);
	ck_assert_str_eq(sb, "p2");
	free(sb);
	/* both kinds, agreeing */
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "container", POD_CRIO_CONTAINER_TYPE,
	                             "container", POD_CRI_SANDBOX_ID, "p3"),
	                       "c1", &sb, &e),
	                 POD_CONTAINER);
	ck_assert_str_eq(sb, "p3");
	free(sb);
}
END_TEST

START_TEST(test_annotations_refused)
{
	char *sb;
	int e;

	/* the two kinds disagree on the type, or on the sandbox */
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "sandbox", POD_CRIO_CONTAINER_TYPE,
	                             "container", POD_CRI_SANDBOX_ID, "p1"),
	                       "c1", &sb, &e),
	                 -1);
	ck_assert_int_eq(e, EINVAL);
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "container", POD_CRI_SANDBOX_ID, "p1",
	                             POD_CRIO_SANDBOX_ID, "p2"),
	                       "c1", &sb, &e),
	                 -1);
	ck_assert_int_eq(e, EINVAL);
	/* an unknown type, a container without a sandbox or naming itself or a bad id */
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "podsandbox", NULL, NULL, NULL, NULL),
	                       "c1", &sb, &e),
	                 -1);
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "container", NULL, NULL, NULL, NULL),
	                       "c1", &sb, &e),
	                 -1);
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "container", POD_CRI_SANDBOX_ID, "c1",
	                             NULL, NULL),
	                       "c1", &sb, &e),
	                 -1);
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "container", POD_CRI_SANDBOX_ID,
	                             "../x", NULL, NULL),
	                       "c1", &sb, &e),
	                 -1);
	/* a sandbox that names another sandbox */
	ck_assert_int_eq(parse(pairs(POD_CRI_CONTAINER_TYPE, "sandbox", POD_CRI_SANDBOX_ID, "p9",
	                             NULL, NULL),
	                       "p1", &sb, &e),
	                 -1);
	ck_assert_int_eq(e, EINVAL);
}
END_TEST

static const char *ns_path(json_object *oci, const char *type)
{
	json_object *lx = json_object_object_get(oci, "linux");
	json_object *nss = json_object_object_get(lx, "namespaces");

	for (size_t i = 0; i < json_object_array_length(nss); i++) {
		json_object *ns = json_object_array_get_idx(nss, i);
		json_object *path = NULL;

		if (strcmp(json_object_get_string(json_object_object_get(ns, "type")), type) != 0)
			continue;
		return json_object_object_get_ex(ns, "path", &path) ? json_object_get_string(path)
		                                                    : "";
	}
	return NULL;
}

START_TEST(test_guest_namespaces)
{
	cleanup_json json_object *oci =
	        json_tokener_parse("{\"linux\":{\"namespaces\":["
	                           "{\"type\":\"ipc\",\"path\":\"/proc/42/ns/ipc\"},"
	                           "{\"type\":\"uts\",\"path\":\"/proc/42/ns/uts\"},"
	                           "{\"type\":\"pid\"},{\"type\":\"mount\"},"
	                           "{\"type\":\"cgroup\",\"path\":\"/proc/42/ns/cgroup\"}]}}");

	pod_guest_namespaces(oci, "pod1");
	ck_assert_str_eq(ns_path(oci, "ipc"), AGENT_POD_NS_PREFIX "pod1/ipc");
	ck_assert_str_eq(ns_path(oci, "uts"), AGENT_POD_NS_PREFIX "pod1/uts");
	/* no path: a namespace of its own, also for pid (no shareProcessNamespace) */
	ck_assert_str_eq(ns_path(oci, "pid"), "");
	ck_assert_str_eq(ns_path(oci, "mount"), "");
	ck_assert_str_eq(ns_path(oci, "cgroup"), "/proc/42/ns/cgroup");
	json_object_put(oci);
	oci = json_tokener_parse("{\"linux\":{\"namespaces\":["
	                         "{\"type\":\"pid\",\"path\":\"/proc/42/ns/pid\"}]}}");
	pod_guest_namespaces(oci, "pod1");
	ck_assert_str_eq(ns_path(oci, "pid"), AGENT_POD_NS_PREFIX "pod1/pid");
}
END_TEST

START_TEST(test_size_from_annotations)
{
	struct kata_config config;
	struct sandbox_resources r;
	kata_error_t err = NULL;
	char **a;

	memset(&config, 0, sizeof(config));
	config.hypervisor.default_vcpus = 1;
	config.hypervisor.default_memory = 256;
	config.hypervisor.default_maxvcpus = 4;
	/* no annotation: as configured, with what the limits added (1 vCPU, 64 MiB) */
	r = (struct sandbox_resources){ .vcpus = 2, .memory_mib = 320 };
	ck_assert_int_eq(pod_size_from_annotations(NULL, &config, &r, &err), 0);
	ck_assert_uint_eq(r.vcpus, 2);
	ck_assert_uint_eq(r.memory_mib, 320);
	a = pairs(POD_ANNOTATION_VCPUS, "3", POD_ANNOTATION_MEMORY, "1024", NULL, NULL);
	ck_assert_int_eq(pod_size_from_annotations(a, &config, &r, &err), 0);
	ck_assert_uint_eq(r.vcpus, 4); /* 3 + 1, within default_maxvcpus */
	ck_assert_uint_eq(r.memory_mib, 1088);
	strv_free(a);
	a = pairs(POD_ANNOTATION_VCPUS, "8", NULL, NULL, NULL, NULL);
	r = (struct sandbox_resources){ .vcpus = 1, .memory_mib = 256 };
	ck_assert_int_eq(pod_size_from_annotations(a, &config, &r, &err), 0);
	ck_assert_uint_eq(r.vcpus, 4); /* bounded by default_maxvcpus */
	strv_free(a);
	for (int i = 0; i < 4; i++) {
		static const char *const bad[][2] = { { POD_ANNOTATION_MEMORY, "-1" },
			                              { POD_ANNOTATION_MEMORY, "12" },
			                              { POD_ANNOTATION_VCPUS, "two" },
			                              { POD_ANNOTATION_VCPUS, "0" } };
		a = pairs(bad[i][0], bad[i][1], NULL, NULL, NULL, NULL);
		r = (struct sandbox_resources){ .vcpus = 1, .memory_mib = 256 };
		ck_assert_int_eq(pod_size_from_annotations(a, &config, &r, &err), -1);
		ck_assert_int_eq(err->errno_value, EINVAL);
		ck_assert_uint_eq(r.memory_mib, 256);
		kata_error_free(&err);
		strv_free(a);
	}
}
END_TEST

/* Each test's own directory below the program's (removed even when the test fails). */
static char root[128];

static void setup(void)
{
	unit_test_new_dir(root, sizeof(root));
}

static void teardown(void)
{
	remove_tree(root, NULL);
}

/* A record saved under root: of a sandbox, or of a container of sandbox pod. A live shim
 * is this process. */
static void save(const char *id, const char *pod, bool live, enum container_status status)
{
	struct container_record r = { 0 };
	struct state_handle h;
	kata_error_t err = NULL;

	r.id = xstrdup(id);
	r.saved_status = status;
	if (pod != NULL)
		r.annotations = pairs(POD_CRI_CONTAINER_TYPE,
		                      strcmp(pod, id) == 0 ? "sandbox" : "container",
		                      POD_CRI_SANDBOX_ID, pod, NULL, NULL);
	if (live) {
		process_identify(getpid(), &r.shim, NULL);
		process_identify(getpid(), &r.sandbox.proxy, NULL);
	}
	ck_assert_int_eq(state_create(root, id, &h, &err), 0);
	ck_assert_int_eq(container_save(&h, &r, &err), 0);
	state_unlock(&h);
	container_record_clear(&r);
}

static int lock_errno(const char *id)
{
	struct state_handle h;
	struct container_record r;
	kata_error_t err = NULL;
	int e;

	if (pod_sandbox_lock(root, id, &h, &r, &err) == 0) {
		state_unlock(&h);
		container_record_clear(&r);
		return 0;
	}
	e = err->errno_value;
	kata_error_free(&err);
	return e;
}

/* What a container of a pod adds to its VM, and which sandboxes get room to grow. */
START_TEST(test_growth)
{
	static const char spec_text[] =
	        "{\"ociVersion\": \"1.0.2\", \"process\": {\"args\": [\"sh\"], \"cwd\": \"/\"}, "
	        "\"root\": {\"path\": \"rootfs\"}, \"linux\": {\"resources\": {\"cpu\": "
	        "{\"quota\": 150000, \"period\": 100000}, \"memory\": {\"limit\": 100000000}}}}";
	struct oci_spec *spec = oci_spec_parse(spec_text, sizeof(spec_text) - 1, NULL);
	struct kata_config config;
	struct sandbox_resources r = { .vcpus = 1, .memory_mib = 256 };
	kata_error_t err = NULL;
	char **sandbox = pairs(POD_CRI_CONTAINER_TYPE, "sandbox", NULL, NULL, NULL, NULL);
	char **container =
	        pairs(POD_CRIO_CONTAINER_TYPE, "container", POD_CRIO_SANDBOX_ID, "s", NULL, NULL);
	uint32_t vcpus, mib;

	ck_assert_ptr_nonnull(spec);
	pod_growth_for(spec, &vcpus, &mib);
	ck_assert_uint_eq(vcpus, 2); /* 1.5 CPUs need 2 vCPUs */
	ck_assert_uint_eq(mib, 96);  /* 100000000 bytes, rounded up to MiB */
	pod_growth_for(NULL, &vcpus, &mib);
	ck_assert_uint_eq(vcpus + mib, 0);
	memset(&config, 0, sizeof(config));
	config.hypervisor.name = "qemu";
	config.hypervisor.default_vcpus = 1;
	config.hypervisor.default_memory = 256;
	config.hypervisor.machine_type = "q35";
	ck_assert_int_eq(pod_size_from_annotations(sandbox, &config, &r, &err), 0);
	ck_assert(r.hotplug); /* a pod's sandbox on q35 */
	ck_assert_int_eq(pod_size_from_annotations(container, &config, &r, &err), 0);
	ck_assert(!r.hotplug); /* not a sandbox */
	ck_assert_int_eq(pod_size_from_annotations(NULL, &config, &r, &err), 0);
	ck_assert(!r.hotplug); /* a container of its own */
	config.factory.enable_template = true;
	ck_assert_int_eq(pod_size_from_annotations(sandbox, &config, &r, &err), 0);
	ck_assert(!r.hotplug); /* a template's clone cannot have it */
	config.factory.enable_template = false;
	config.hypervisor.machine_type = "microvm";
	ck_assert_int_eq(pod_size_from_annotations(sandbox, &config, &r, &err), 0);
	ck_assert(!r.hotplug); /* sized at boot */
	config.hypervisor.machine_type = "q35";
	config.hypervisor.name = "libvirt";
	ck_assert_int_eq(pod_size_from_annotations(sandbox, &config, &r, &err), 0);
	ck_assert(!r.hotplug); /* cannot hot-plug */
	strv_free(sandbox);
	strv_free(container);
	oci_spec_free(spec);
}
END_TEST

START_TEST(test_sandbox_lock)
{
	save("p1", "p1", true, CONTAINER_RUNNING);
	save("plain", NULL, true, CONTAINER_RUNNING);
	save("gone", "gone", false, CONTAINER_RUNNING);
	ck_assert_int_eq(lock_errno("p1"), 0);
	ck_assert_int_eq(lock_errno("nothere"), ENOENT);
	ck_assert_int_eq(lock_errno("plain"), EINVAL);
	ck_assert_int_eq(lock_errno("gone"), ESRCH);
}
END_TEST

static bool exists(const char *id)
{
	cleanup_free char *path = xasprintf("%s/%s", root, id);

	return access(path, F_OK) == 0;
}

START_TEST(test_sandbox_delete_takes_its_containers)
{
	struct cli_context ctx = { .root = root };
	kata_error_t err = NULL;

	save("p1", "p1", true, CONTAINER_RUNNING);
	save("c1", "p1", true, CONTAINER_RUNNING);
	save("c2", "p1", false, CONTAINER_RUNNING); /* stopped: its shim is gone */
	save("other", "p2", false, CONTAINER_RUNNING);
	/* a running container of the pod: refused, nothing removed */
	ck_assert_int_eq(pod_sandbox_remove_containers(&ctx, "p1", false, &err), -1);
	ck_assert_int_eq(err->errno_value, EBUSY);
	ck_assert_ptr_nonnull(strstr(err->message, "c1"));
	kata_error_free(&err);
	ck_assert(exists("c1") && exists("c2"));
	/* once it is stopped, both go; the sandbox and another pod's container stay */
	{
		struct state_handle h;
		ck_assert_int_eq(state_open(root, "c1", &h, NULL), 0);
		state_destroy(&h, NULL);
	}
	save("c1", "p1", false, CONTAINER_RUNNING);
	ck_assert_int_eq(pod_sandbox_remove_containers(&ctx, "p1", false, &err), 0);
	ck_assert(!exists("c1") && !exists("c2"));
	ck_assert(exists("p1") && exists("other"));
}
END_TEST

static Suite *pod_suite(void)
{
	Suite *s = suite_create("pod");
	TCase *tc = tcase_create("annotations");
	TCase *store = tcase_create("store");

	tcase_add_test(tc, test_annotations);
	tcase_add_test(tc, test_annotations_refused);
	tcase_add_test(tc, test_guest_namespaces);
	tcase_add_test(tc, test_size_from_annotations);
	tcase_add_test(tc, test_growth);
	suite_add_tcase(s, tc);
	tcase_add_checked_fixture(store, setup, teardown);
	tcase_add_test(store, test_sandbox_lock);
	tcase_add_test(store, test_sandbox_delete_takes_its_containers);
	suite_add_tcase(s, store);
	return s;
}

const struct unit_test unit_test = { .suite = pod_suite, .test_dir = "kata-test-pod" };
