/* A container's place in a pod, from its annotations (cli/pod.h). */
#include "pod.h"

#include <errno.h>
#include <string.h>

#include "agent_proto.h"
#include "cleanup.h"
#include "json_util.h"

static const char *annotation(char *const *annotations, const char *key)
{
	for (size_t i = 0;
	     annotations != NULL && annotations[i] != NULL && annotations[i + 1] != NULL; i += 2)
		if (strcmp(annotations[i], key) == 0)
			return annotations[i + 1];
	return NULL;
}

/* containerd says "sandbox" or "container"; CRI-O the same. */
static int role_of(const char *key, const char *value, enum pod_role *role, kata_error_t *err)
{
	if (value == NULL)
		*role = POD_NONE;
	else if (strcmp(value, "sandbox") == 0)
		*role = POD_SANDBOX;
	else if (strcmp(value, "container") == 0)
		*role = POD_CONTAINER;
	else
		return kata_error_set(err, EINVAL,
		                      "annotation %s: `%s` is neither `sandbox` nor `container`",
		                      key, value);
	return 0;
}

int pod_ref_from_annotations(char *const *annotations, const char *id, struct pod_ref *ref,
                             kata_error_t *err)
{
	const char *cri_type = annotation(annotations, POD_CRI_CONTAINER_TYPE);
	const char *crio_type = annotation(annotations, POD_CRIO_CONTAINER_TYPE);
	const char *cri_sandbox = annotation(annotations, POD_CRI_SANDBOX_ID);
	const char *crio_sandbox = annotation(annotations, POD_CRIO_SANDBOX_ID);
	enum pod_role cri_role, crio_role;
	const char *sandbox;

	memset(ref, 0, sizeof(*ref));
	if (role_of(POD_CRI_CONTAINER_TYPE, cri_type, &cri_role, err) < 0 ||
	    role_of(POD_CRIO_CONTAINER_TYPE, crio_type, &crio_role, err) < 0)
		return -1;
	if (cri_type != NULL && crio_type != NULL && cri_role != crio_role)
		return kata_error_set(err, EINVAL, "annotations disagree: %s is `%s`, %s is `%s`",
		                      POD_CRI_CONTAINER_TYPE, cri_type, POD_CRIO_CONTAINER_TYPE,
		                      crio_type);
	if (cri_sandbox != NULL && crio_sandbox != NULL && strcmp(cri_sandbox, crio_sandbox) != 0)
		return kata_error_set(err, EINVAL, "annotations disagree: %s is `%s`, %s is `%s`",
		                      POD_CRI_SANDBOX_ID, cri_sandbox, POD_CRIO_SANDBOX_ID,
		                      crio_sandbox);
	ref->role = cri_type != NULL ? cri_role : crio_role;
	sandbox = cri_sandbox != NULL ? cri_sandbox : crio_sandbox;
	switch (ref->role) {
	case POD_NONE:
		return 0;
	case POD_SANDBOX:
		if (sandbox != NULL && strcmp(sandbox, id) != 0)
			return kata_error_set(err, EINVAL,
			                      "annotations: sandbox container `%s` names another "
			                      "sandbox `%s`",
			                      id, sandbox);
		ref->sandbox_id = xstrdup(id);
		return 0;
	case POD_CONTAINER:
		if (sandbox == NULL || sandbox[0] == '\0')
			return kata_error_set(
			        err, EINVAL,
			        "annotations: container `%s` of a pod names no sandbox "
			        "(%s or %s)",
			        id, POD_CRI_SANDBOX_ID, POD_CRIO_SANDBOX_ID);
		if (strcmp(sandbox, id) == 0)
			return kata_error_set(
			        err, EINVAL,
			        "annotations: container `%s` names itself as its sandbox", id);
		if (!state_id_is_valid(sandbox))
			return kata_error_set(err, EINVAL, "annotations: invalid sandbox id `%s`",
			                      sandbox);
		ref->sandbox_id = xstrdup(sandbox);
		return 0;
	}
	return 0;
}

void pod_ref_clear(struct pod_ref *ref)
{
	free(ref->sandbox_id);
	memset(ref, 0, sizeof(*ref));
}

static enum pod_role record_role(const struct container_record *record, char **sandbox_id)
{
	struct pod_ref ref;
	cleanup_error kata_error_t err = NULL;
	enum pod_role role;

	if (record->id == NULL ||
	    pod_ref_from_annotations(record->annotations, record->id, &ref, &err) < 0)
		return POD_NONE;
	role = ref.role;
	if (sandbox_id != NULL)
		*sandbox_id = steal_pointer(&ref.sandbox_id);
	pod_ref_clear(&ref);
	return role;
}

bool pod_record_is_sandbox(const struct container_record *record)
{
	return record_role(record, NULL) == POD_SANDBOX;
}

char *pod_record_sandbox_id(const struct container_record *record)
{
	char *sandbox = NULL;

	if (record_role(record, &sandbox) != POD_CONTAINER) {
		free(sandbox);
		return NULL;
	}
	return sandbox;
}

char *pod_sandbox_of(const char *root, const char *id)
{
	struct container_record record;
	char *sandbox;

	if (container_load(root, id, NULL, &record, NULL) < 0)
		return NULL;
	sandbox = pod_record_sandbox_id(&record);
	container_record_clear(&record);
	return sandbox;
}

void pod_guest_namespaces(json_object *oci, const char *sandbox_id)
{
	static const char *const shared[] = { "ipc", "uts", "pid" };
	json_object *lx = NULL, *namespaces = NULL;
	size_t n;

	if (!json_object_object_get_ex(oci, "linux", &lx) ||
	    !json_object_object_get_ex(lx, "namespaces", &namespaces) ||
	    !json_object_is_type(namespaces, json_type_array))
		return;
	n = json_object_array_length(namespaces);
	for (size_t i = 0; i < n; i++) {
		json_object *ns = json_object_array_get_idx(namespaces, i);
		json_object *type = NULL;

		/* A namespace without a path is the container's own (a new one). */
		if (!json_object_object_get_ex(ns, "path", NULL) ||
		    !json_object_object_get_ex(ns, "type", &type) ||
		    !json_object_is_type(type, json_type_string))
			continue;
		for (size_t k = 0; k < sizeof(shared) / sizeof(shared[0]); k++) {
			cleanup_free char *path = NULL;

			if (strcmp(json_object_get_string(type), shared[k]) != 0)
				continue;
			path = xasprintf("%s%s/%s", AGENT_POD_NS_PREFIX, sandbox_id, shared[k]);
			json_object_object_add(ns, "path", json_object_new_string(path));
		}
	}
}
