/* The fake hypervisor backend (see fake_hypervisor.h). */
#include "fake_hypervisor.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

struct fake_sandbox {
	char *id;
	char *dir;
	bool created_dir;
	enum hypervisor_state state;
	char *channel_paths[HYPERVISOR_CHANNEL_COUNT];
	char *console_path;
};

static bool should_fail(const char *op)
{
	const char *list = getenv(FAKE_HYPERVISOR_ENV_FAIL);
	size_t len = strlen(op);

	for (const char *p = list; p != NULL && *p;) {
		size_t n = strcspn(p, ",");

		if (n == len && strncmp(p, op, n) == 0)
			return true;
		p += n + (p[n] == ',');
	}
	return false;
}

static struct fake_sandbox *fake_of(struct hypervisor *hv, const char *op, kata_error_t *err)
{
	if (should_fail(op)) {
		kata_error_set(err, EIO, "%s: injected failure", op);
		return NULL;
	}
	if (hv->priv == NULL)
		kata_error_set(err, EINVAL, "%s: no sandbox", op);
	return hv->priv;
}

static void fake_sandbox_free(struct fake_sandbox *sb)
{
	if (sb == NULL)
		return;
	free(sb->id);
	free(sb->dir);
	free(sb->channel_paths[0]);
	free(sb->channel_paths[1]);
	free(sb->console_path);
	free(sb);
}

static void fill_paths(struct fake_sandbox *sb)
{
	sb->channel_paths[0] = xasprintf("%s/ctl.sock", sb->dir);
	sb->channel_paths[1] = xasprintf("%s/io.sock", sb->dir);
	sb->console_path = xasprintf("%s/console.sock", sb->dir);
}

static int fake_create(struct hypervisor *hv, const struct hypervisor_sandbox_params *params,
                       unsigned int flags, kata_error_t *err)
{
	struct fake_sandbox *sb;

	if (should_fail("create"))
		return kata_error_set(err, EIO, "create: injected failure");
	if (hv->priv != NULL)
		return kata_error_set(err, EEXIST, "create: sandbox already created");
	sb = xzalloc(sizeof(*sb));
	sb->id = xstrdup(params->id);
	sb->dir = xstrdup(params->dir);
	if (mkdir(sb->dir, 0750) == 0) {
		sb->created_dir = true;
	} else if (errno != EEXIST) {
		kata_error_sys(err, "create: mkdir %s", sb->dir);
		fake_sandbox_free(sb);
		return -1;
	}
	fill_paths(sb);
	sb->state = HYPERVISOR_STATE_CREATED;
	hv->priv = sb;
	return 0;
}

/* A transition allowed from `from` only. */
static int transition(struct hypervisor *hv, const char *op, enum hypervisor_state from,
                      enum hypervisor_state to, kata_error_t *err)
{
	struct fake_sandbox *sb = fake_of(hv, op, err);

	if (sb == NULL)
		return -1;
	if (sb->state != from)
		return kata_error_set(err, EINVAL, "%s: sandbox is %s, not %s", op,
		                      hypervisor_state_name(sb->state),
		                      hypervisor_state_name(from));
	sb->state = to;
	return 0;
}

static int fake_start(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return transition(hv, "start", HYPERVISOR_STATE_CREATED, HYPERVISOR_STATE_RUNNING, err);
}

static int fake_pause(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return transition(hv, "pause", HYPERVISOR_STATE_RUNNING, HYPERVISOR_STATE_PAUSED, err);
}

static int fake_resume(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return transition(hv, "resume", HYPERVISOR_STATE_PAUSED, HYPERVISOR_STATE_RUNNING, err);
}

static int fake_stop(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct fake_sandbox *sb = fake_of(hv, "stop", err);

	if (sb == NULL)
		return -1;
	if (sb->state != HYPERVISOR_STATE_CREATED)
		sb->state = HYPERVISOR_STATE_STOPPED;
	return 0;
}

static int fake_state(struct hypervisor *hv, enum hypervisor_state *state, unsigned int flags,
                      kata_error_t *err)
{
	struct fake_sandbox *sb = fake_of(hv, "state", err);

	if (sb == NULL)
		return -1;
	*state = sb->state;
	return 0;
}

static int fake_cleanup(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct fake_sandbox *sb = fake_of(hv, "cleanup", err);

	if (sb == NULL)
		return -1;
	sb->state = HYPERVISOR_STATE_STOPPED;
	if (sb->created_dir && rmdir(sb->dir) < 0 && errno != ENOENT)
		return kata_error_sys(err, "cleanup: rmdir %s", sb->dir);
	return 0;
}

static pid_t fake_pid(struct hypervisor *hv)
{
	struct fake_sandbox *sb = hv->priv;

	/* No process: the runtime records something that is surely not a VM's. */
	return sb != NULL && (sb->state == HYPERVISOR_STATE_RUNNING ||
	                      sb->state == HYPERVISOR_STATE_PAUSED)
	               ? getpid()
	               : -1;
}

static const char *fake_channel_path(struct hypervisor *hv, enum hypervisor_channel channel)
{
	struct fake_sandbox *sb = hv->priv;

	return sb != NULL ? sb->channel_paths[channel] : NULL;
}

static const char *fake_console_path(struct hypervisor *hv)
{
	struct fake_sandbox *sb = hv->priv;

	return sb != NULL ? sb->console_path : NULL;
}

static json_object *fake_save(struct hypervisor *hv)
{
	struct fake_sandbox *sb = hv->priv;
	json_object *obj;

	if (sb == NULL)
		return NULL;
	obj = json_object_new_object();
	json_object_object_add(obj, "id", json_object_new_string(sb->id));
	json_object_object_add(obj, "dir", json_object_new_string(sb->dir));
	json_object_object_add(obj, "created_dir", json_object_new_boolean(sb->created_dir));
	json_object_object_add(obj, "state",
	                       json_object_new_string(hypervisor_state_name(sb->state)));
	return obj;
}

static int fake_restore(struct hypervisor *hv, json_object *saved, unsigned int flags,
                        kata_error_t *err)
{
	json_object *id, *dir, *created, *state;
	struct fake_sandbox *sb;
	bool found = false;

	if (hv->priv != NULL)
		return kata_error_set(err, EEXIST, "restore: handle already holds a sandbox");
	if (!json_object_object_get_ex(saved, "id", &id) ||
	    !json_object_is_type(id, json_type_string) ||
	    !json_object_object_get_ex(saved, "dir", &dir) ||
	    !json_object_is_type(dir, json_type_string) ||
	    !json_object_object_get_ex(saved, "created_dir", &created) ||
	    !json_object_is_type(created, json_type_boolean) ||
	    !json_object_object_get_ex(saved, "state", &state) ||
	    !json_object_is_type(state, json_type_string))
		return kata_error_set(err, EINVAL,
		                      "saved fake state: expected {id, dir, "
		                      "created_dir, state}");
	sb = xzalloc(sizeof(*sb));
	for (int s = HYPERVISOR_STATE_CREATED; s <= HYPERVISOR_STATE_CRASHED; s++) {
		if (strcmp(json_object_get_string(state), hypervisor_state_name(s)) == 0) {
			sb->state = (enum hypervisor_state)s;
			found = true;
		}
	}
	if (!found) {
		free(sb);
		return kata_error_set(err, EINVAL, "saved fake state: unknown state '%s'",
		                      json_object_get_string(state));
	}
	sb->id = xstrdup(json_object_get_string(id));
	sb->dir = xstrdup(json_object_get_string(dir));
	sb->created_dir = json_object_get_boolean(created);
	fill_paths(sb);
	hv->priv = sb;
	return 0;
}

static void fake_free_priv(struct hypervisor *hv)
{
	fake_sandbox_free(hv->priv);
	hv->priv = NULL;
}

const struct hypervisor_ops fake_hypervisor_ops = {
	.name = "fake",
	.create = fake_create,
	.start = fake_start,
	.stop = fake_stop,
	.pause = fake_pause,
	.resume = fake_resume,
	.state = fake_state,
	.cleanup = fake_cleanup,
	.pid = fake_pid,
	.channel_path = fake_channel_path,
	.console_path = fake_console_path,
	.save = fake_save,
	.restore = fake_restore,
	.free_priv = fake_free_priv,
};
