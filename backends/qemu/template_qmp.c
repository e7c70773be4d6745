/* The QMP sequences of VM templating (template.h): saving a paused template's device state
 * without its shared RAM, and loading it into a clone started with -incoming defer. */
#include "template.h"

#include <errno.h>
#include <string.h>
#include <time.h>

#include "cleanup.h"
#include "json_util.h"
#include "process.h"
#include "fd_util.h"

#define POLL_INTERVAL_MS 5

static void sleep_ms(int ms)
{
	struct timespec ts = { .tv_sec = 0, .tv_nsec = (long)ms * 1000000L };

	nanosleep(&ts, NULL);
}

/* The migration stream goes through /bin/sh (exec:), so the path is quoted; a path that
 * would need more than single quotes is refused. */
static char *exec_uri(const char *command, const char *path, kata_error_t *err)
{
	if (path[0] != '/' || strchr(path, '\'') != NULL || strchr(path, '\n') != NULL) {
		kata_error_set(err, EINVAL, "template file path not usable by qemu's exec: %s",
		               path);
		return NULL;
	}
	return xasprintf("exec:%s '%s'", command, path);
}

static int set_ignore_shared(struct qmp *qmp, int timeout_ms, kata_error_t *err)
{
	cleanup_json json_object *args = json_object_new_object();
	json_object *caps = json_object_new_array();
	json_object *cap = json_object_new_object();

	json_add_string(cap, "capability", "x-ignore-shared");
	json_object_object_add(cap, "state", json_object_new_boolean(true));
	json_object_array_add(caps, cap);
	json_object_object_add(args, "capabilities", caps);
	return qmp_execute(qmp, "migrate-set-capabilities", args, NULL, timeout_ms, err);
}

/* query-migrate's "status"; "none" when qemu has none yet. */
static char *migration_status(struct qmp *qmp, int timeout_ms, kata_error_t *err)
{
	cleanup_json json_object *result = NULL;
	json_object *status;

	if (qmp_execute(qmp, "query-migrate", NULL, &result, timeout_ms, err) < 0)
		return NULL;
	if (result == NULL || !json_object_object_get_ex(result, "status", &status))
		return xstrdup("none");
	if (!json_object_is_type(status, json_type_string)) {
		kata_error_set(err, EPROTO, "query-migrate: status is not a string");
		return NULL;
	}
	return xstrdup(json_object_get_string(status));
}

int qemu_template_save_state(struct qmp *qmp, const char *state_path, int timeout_ms,
                             kata_error_t *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	cleanup_free char *uri = exec_uri("cat >", state_path, err);
	cleanup_json json_object *args = json_object_new_object();

	if (uri == NULL)
		return -1;
	json_add_string(args, "uri", uri);
	if (qmp_execute(qmp, "stop", NULL, NULL, timeout_ms, err) < 0 ||
	    set_ignore_shared(qmp, timeout_ms, err) < 0 ||
	    qmp_execute(qmp, "migrate", args, NULL, timeout_ms, err) < 0)
		return kata_error_wrap(err, "template: save");
	for (;;) {
		cleanup_free char *status = migration_status(qmp, timeout_ms, err);

		if (status == NULL)
			return kata_error_wrap(err, "template: save");
		if (strcmp(status, "completed") == 0)
			return 0;
		if (strcmp(status, "failed") == 0 || strcmp(status, "cancelled") == 0)
			return kata_error_set(err, EIO, "template: saving the device state %s",
			                      status);
		if (now_ms() >= deadline)
			return kata_error_set(err, ETIMEDOUT,
			                      "template: saving the device state took more than "
			                      "%d ms (status %s)",
			                      timeout_ms, status);
		sleep_ms(POLL_INTERVAL_MS);
	}
}

int qemu_template_load_state(struct qmp *qmp, const char *state_path, int timeout_ms,
                             kata_error_t *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	cleanup_free char *uri = exec_uri("cat", state_path, err);
	cleanup_json json_object *args = json_object_new_object();

	if (uri == NULL)
		return -1;
	json_add_string(args, "uri", uri);
	if (set_ignore_shared(qmp, timeout_ms, err) < 0 ||
	    qmp_execute(qmp, "migrate-incoming", args, NULL, timeout_ms, err) < 0)
		return kata_error_wrap(err, "template: load");
	/* A stream qemu cannot load makes it exit: the caller sees the connection or the
	 * process go. The template was paused when saved, so the clone is paused once the
	 * state is in, and continued here. */
	for (;;) {
		cleanup_free char *status = qmp_query_status(qmp, timeout_ms, err);
		cleanup_free char *migration = NULL;

		if (status == NULL)
			return kata_error_wrap(err, "template: load");
		if (strcmp(status, "running") == 0)
			return 0;
		if (strcmp(status, "paused") == 0 || strcmp(status, "postmigrate") == 0) {
			migration = migration_status(qmp, timeout_ms, err);
			if (migration == NULL)
				return kata_error_wrap(err, "template: load");
			if (strcmp(migration, "completed") != 0)
				return kata_error_set(err, EIO,
				                      "template: loading the device state ended "
				                      "'%s'",
				                      migration);
			if (qmp_execute(qmp, "cont", NULL, NULL, timeout_ms, err) < 0)
				return kata_error_wrap(err, "template: continue the clone");
			continue;
		}
		if (strcmp(status, "inmigrate") != 0 && strcmp(status, "prelaunch") != 0)
			return kata_error_set(err, EIO, "template: the clone is '%s' after loading",
			                      status);
		if (now_ms() >= deadline)
			return kata_error_set(err, ETIMEDOUT,
			                      "template: loading the device state took more than "
			                      "%d ms (status %s)",
			                      timeout_ms, status);
		sleep_ms(POLL_INTERVAL_MS);
	}
}
