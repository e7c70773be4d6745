/* The QMP sequences of VM templating (template.h): saving a paused template's device state
 * without its shared RAM, and loading it into a clone started with -incoming defer. */
#include "template.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

/* The name under which the state file's descriptor is handed to qemu (getfd), and the
 * migration URI that names it. qemu 7.2 has no file: URI; fd: reads or writes the file
 * directly, with no shell between. */
#define STATE_FD_NAME "template-state"
#define STATE_FD_URI  "fd:" STATE_FD_NAME

/* Opens the state file (flags for open(2)) and hands it to qemu under STATE_FD_NAME; the
 * caller closes the returned descriptor once qemu has taken it (its copy is its own). */
static int pass_state_fd(struct qmp *qmp, const char *state_path, int flags, int timeout_ms,
                         kata_error_t *err)
{
	cleanup_json json_object *args = json_object_new_object();
	int fd = open(state_path, flags | O_CLOEXEC, 0600);

	if (fd < 0)
		return kata_error_sys(err, "open %s", state_path);
	json_add_string(args, "fdname", STATE_FD_NAME);
	if (qmp_send_fd(qmp, fd, err) < 0 ||
	    qmp_execute(qmp, "getfd", args, NULL, timeout_ms, err) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void add_capability(json_object *caps, const char *name)
{
	json_object *cap = json_object_new_object();

	json_add_string(cap, "capability", name);
	json_object_object_add(cap, "state", json_object_new_boolean(true));
	json_object_array_add(caps, cap);
}

/* x-ignore-shared, and with events, a MIGRATION event at each change of the migration's
 * status: what the load waits for instead of asking on a timer. */
static int set_capabilities(struct qmp *qmp, bool events, int timeout_ms, kata_error_t *err)
{
	cleanup_json json_object *args = json_object_new_object();
	json_object *caps = json_object_new_array();

	add_capability(caps, "x-ignore-shared");
	if (events)
		add_capability(caps, "events");
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
	cleanup_json json_object *args = json_object_new_object();
	cleanup_close int fd = -1;

	json_add_string(args, "uri", STATE_FD_URI);
	/* O_EXCL: the file was removed first; a template's files are never rewritten in place. */
	if (qmp_execute(qmp, "stop", NULL, NULL, timeout_ms, err) < 0 ||
	    set_capabilities(qmp, false, timeout_ms, err) < 0 ||
	    (fd = pass_state_fd(qmp, state_path, O_WRONLY | O_CREAT | O_EXCL, timeout_ms, err)) <
	            0 ||
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
	cleanup_json json_object *args = json_object_new_object();
	cleanup_close int fd = -1;

	json_add_string(args, "uri", STATE_FD_URI);
	if (set_capabilities(qmp, true, timeout_ms, err) < 0 ||
	    (fd = pass_state_fd(qmp, state_path, O_RDONLY, timeout_ms, err)) < 0 ||
	    qmp_execute(qmp, "migrate-incoming", args, NULL, timeout_ms, err) < 0)
		return kata_error_wrap(err, "template: load");
	/* A stream qemu cannot load makes it exit: the caller sees the connection or the
	 * process go. The template was paused when saved, so the clone is paused once the
	 * state is in, and continued here. While it loads, the next MIGRATION event (its
	 * status changed) is the moment to ask again. */
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
		if (qmp_wait_event(qmp, "MIGRATION", (int)(deadline - now_ms()), err) < 0)
			return kata_error_wrap(err, "template: load");
	}
}
