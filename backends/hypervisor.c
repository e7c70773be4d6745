/* The registry of hypervisor backends and the checked wrappers around their operations. */
#include "hypervisor.h"
#include "backends.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"

/* Built-in backends: what kata-runtime ships. Others (the tests' fake) are added at run time
 * with hypervisor_register(). */
static const struct hypervisor_ops *builtin_backends[] = {
	&hypervisor_qemu_ops,
	&hypervisor_libvirt_ops,
};

#define MAX_REGISTERED 8
static const struct hypervisor_ops *registered_backends[MAX_REGISTERED];

void hypervisor_register(const struct hypervisor_ops *ops)
{
	for (size_t i = 0; i < MAX_REGISTERED; i++) {
		if (registered_backends[i] == NULL ||
		    strcmp(registered_backends[i]->name, ops->name) == 0) {
			registered_backends[i] = ops;
			return;
		}
	}
}

const struct hypervisor_ops *hypervisor_find_ops(const char *name)
{
	if (name == NULL)
		return NULL;
	for (size_t i = 0; i < MAX_REGISTERED && registered_backends[i] != NULL; i++)
		if (strcmp(registered_backends[i]->name, name) == 0)
			return registered_backends[i];
	for (size_t i = 0; i < sizeof(builtin_backends) / sizeof(builtin_backends[0]); i++)
		if (strcmp(builtin_backends[i]->name, name) == 0)
			return builtin_backends[i];
	return NULL;
}

struct hypervisor *hypervisor_new(const char *name, const struct kata_config *config,
                                  kata_error_t *err)
{
	const struct hypervisor_ops *ops;
	struct hypervisor *hv;

	if (name == NULL && config != NULL)
		name = config->hypervisor.name;
	if (name == NULL) {
		kata_error_set(err, EINVAL, "hypervisor: no backend named");
		return NULL;
	}
	ops = hypervisor_find_ops(name);
	if (ops == NULL) {
		kata_error_set(err, ENOENT, "hypervisor: unknown backend '%s'", name);
		return NULL;
	}
	hv = xzalloc(sizeof(*hv));
	hv->ops = ops;
	hv->config = config;
	return hv;
}

void hypervisor_free(struct hypervisor *hv)
{
	if (hv == NULL)
		return;
	if (hv->ops->free_priv != NULL)
		hv->ops->free_priv(hv);
	free(hv);
}

void hypervisor_freep(struct hypervisor **hv)
{
	hypervisor_free(*hv);
	*hv = NULL;
}

static int check_call(struct hypervisor *hv, const char *op, bool implemented, unsigned int flags,
                      kata_error_t *err)
{
	if (!implemented)
		return kata_error_set(err, ENOTSUP, "%s: %s: not supported", hv->ops->name, op);
	if (flags & ~HYPERVISOR_FLAGS_ALL)
		return kata_error_set(err, EINVAL, "%s: %s: unknown flags 0x%x", hv->ops->name, op,
		                      flags & ~HYPERVISOR_FLAGS_ALL);
	return 0;
}

/* Every wrapper: check, call, and name the backend in an error. */
#define CALL_OP(hv, op, flags, err, ...)                                                           \
	({                                                                                         \
		int ret_ = check_call(hv, #op, (hv)->ops->op != NULL, flags, err);                 \
		if (ret_ == 0) {                                                                   \
			ret_ = (hv)->ops->op(hv, ##__VA_ARGS__, flags, err);                       \
			if (ret_ < 0)                                                              \
				kata_error_wrap(err, "%s", (hv)->ops->name);                       \
		}                                                                                  \
		ret_;                                                                              \
	})

int hypervisor_create(struct hypervisor *hv, const struct hypervisor_sandbox_params *params,
                      unsigned int flags, kata_error_t *err)
{
	if (params == NULL || params->id == NULL || params->dir == NULL)
		return kata_error_set(err, EINVAL, "%s: create: sandbox id and directory needed",
		                      hv->ops->name);
	return CALL_OP(hv, create, flags, err, params);
}

int hypervisor_start(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return CALL_OP(hv, start, flags, err);
}

int hypervisor_stop(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return CALL_OP(hv, stop, flags, err);
}

int hypervisor_grow(struct hypervisor *hv, uint32_t vcpus, uint32_t memory_mib,
                    struct hypervisor_size *size, unsigned int flags, kata_error_t *err)
{
	if (hv->ops->grow == NULL)
		return kata_error_set(err, ENOTSUP,
		                      "the %s backend cannot hot-plug vCPUs or memory (size the "
		                      "pod at boot: docs/pods.md)",
		                      hv->ops->name);
	return CALL_OP(hv, grow, flags, err, vcpus, memory_mib, size);
}

int hypervisor_pause(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return CALL_OP(hv, pause, flags, err);
}

int hypervisor_resume(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return CALL_OP(hv, resume, flags, err);
}

int hypervisor_get_state(struct hypervisor *hv, enum hypervisor_state *state, unsigned int flags,
                         kata_error_t *err)
{
	return CALL_OP(hv, state, flags, err, state);
}

int hypervisor_hotplug_nic(struct hypervisor *hv, const struct hypervisor_nic *nic,
                           unsigned int index, unsigned int flags, kata_error_t *err)
{
	return CALL_OP(hv, hotplug_nic, flags, err, nic, index);
}

int hypervisor_cleanup(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return CALL_OP(hv, cleanup, flags, err);
}

pid_t hypervisor_pid(struct hypervisor *hv)
{
	return hv->ops->pid != NULL ? hv->ops->pid(hv) : -1;
}

bool hypervisor_companion(struct hypervisor *hv, pid_t *pid, uint64_t *start_time)
{
	return hv->ops->companion != NULL && hv->ops->companion(hv, pid, start_time);
}

const char *hypervisor_channel_path(struct hypervisor *hv, enum hypervisor_channel channel)
{
	if (hv->ops->channel_path == NULL || (unsigned int)channel >= HYPERVISOR_CHANNEL_COUNT)
		return NULL;
	return hv->ops->channel_path(hv, channel);
}

const char *hypervisor_console_path(struct hypervisor *hv)
{
	return hv->ops->console_path != NULL ? hv->ops->console_path(hv) : NULL;
}

const char *hypervisor_console_log_path(struct hypervisor *hv)
{
	return hv->ops->console_log_path != NULL ? hv->ops->console_log_path(hv) : NULL;
}

json_object *hypervisor_save(struct hypervisor *hv)
{
	json_object *saved = json_object_new_object();
	json_object *state = hv->ops->save != NULL ? hv->ops->save(hv) : NULL;

	json_object_object_add(saved, "backend", json_object_new_string(hv->ops->name));
	json_object_object_add(saved, "state", state != NULL ? state : json_object_new_object());
	return saved;
}

struct hypervisor *hypervisor_restore(const struct kata_config *config, json_object *saved,
                                      kata_error_t *err)
{
	cleanup_hypervisor struct hypervisor *hv = NULL;
	json_object *name = NULL, *state = NULL;

	if (!json_object_is_type(saved, json_type_object) ||
	    !json_object_object_get_ex(saved, "backend", &name) ||
	    !json_object_is_type(name, json_type_string) ||
	    !json_object_object_get_ex(saved, "state", &state) ||
	    !json_object_is_type(state, json_type_object)) {
		kata_error_set(err, EINVAL,
		               "hypervisor: saved state: expected {\"backend\": string, \"state\": "
		               "object}");
		return NULL;
	}
	hv = hypervisor_new(json_object_get_string(name), config, err);
	if (hv == NULL)
		return NULL;
	if (CALL_OP(hv, restore, 0, err, state) < 0) {
		kata_error_wrap(err, "restore");
		return NULL;
	}
	return steal_pointer(&hv);
}

int hypervisor_check(struct hypervisor *hv, hypervisor_check_report_fn report, void *opaque,
                     unsigned int flags, kata_error_t *err)
{
	if (hv->ops->check == NULL)
		return 0;
	return CALL_OP(hv, check, flags, err, report, opaque);
}

const char *hypervisor_state_name(enum hypervisor_state state)
{
	switch (state) {
	case HYPERVISOR_STATE_CREATED:
		return "created";
	case HYPERVISOR_STATE_RUNNING:
		return "running";
	case HYPERVISOR_STATE_PAUSED:
		return "paused";
	case HYPERVISOR_STATE_STOPPED:
		return "stopped";
	case HYPERVISOR_STATE_CRASHED:
		return "crashed";
	}
	return "unknown";
}
