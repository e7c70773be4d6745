/* The QEMU-lite backend, the Clear Containers way: qemu is exec'd directly, daemonizes so
 * that it outlives the runtime, and is driven over QMP (docs/hypervisor.md). */
#include "backends.h"
#include "state.h"
#include "host_info.h"
#include "launch.h"
#include "qemu_backend.h"
#include "qemu_cmdline.h"
#include "qemu_sandbox.h"
#include "qmp.h"
#include "qemu_hotplug.h"
#include "template_clone.h"
#include "virtiofsd.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#define QEMU_START_TIMEOUT_MS      30000 /* qemu's foreground process, until it daemonized */
#define QEMU_QMP_TIMEOUT_MS        10000
#define QEMU_QUIT_TIMEOUT_MS       5000 /* graceful: from "quit" until the process is gone */
#define QEMU_TERM_TIMEOUT_MS       2000 /* then SIGTERM, then SIGKILL */
#define VIRTIOFSD_START_TIMEOUT_MS 10000

static struct qemu_sandbox *sandbox_of(struct hypervisor *hv, kata_error_t *err)
{
	if (hv->priv == NULL)
		kata_error_set(err, EINVAL, "no sandbox: create or restore first");
	return hv->priv;
}

static int qemu_create(struct hypervisor *hv, const struct hypervisor_sandbox_params *params,
                       unsigned int flags, kata_error_t *err)
{
	const struct kata_hypervisor_config *hc = &hv->config->hypervisor;
	struct qemu_sandbox *sb;
	struct qemu_plan plan = { 0 };
	bool virtio_fs = params->shared_dir != NULL && hc->shared_fs == KATA_SHARED_FS_VIRTIO_FS;
	char *console_name;

	if (hv->priv != NULL)
		return kata_error_set(err, EEXIST, "create: sandbox already created");
	if (params->dir[0] != '/' || (params->shared_dir != NULL && params->shared_dir[0] != '/'))
		return kata_error_set(err, EINVAL, "create: directories must be absolute paths");
	/* virtiofsd splits its -o options at commas. */
	if (virtio_fs && strchr(params->shared_dir, ',') != NULL)
		return kata_error_set(err, EINVAL,
		                      "create: virtio-fs cannot share a directory whose path has a "
		                      "comma: %s",
		                      params->shared_dir);
	if (hc->virtio_fs_cache_size != 0 && virtio_fs)
		log_warning(
		        "virtio_fs_cache_size ignored: this qemu has no DAX window for virtio-fs");

	sb = xzalloc(sizeof(*sb));
	hv->priv = sb;
	sb->id = xstrdup(params->id);
	sb->dir = xstrdup(params->dir);
	sb->shared_dir = params->shared_dir != NULL ? xstrdup(params->shared_dir) : NULL;
	sb->debug = params->debug || hc->enable_debug;
	sb->phase = QEMU_PHASE_CREATED;

	plan.id = sb->id;
	plan.shared_dir = sb->shared_dir;
	plan.vcpus = params->vcpus ? params->vcpus : (hc->default_vcpus ? hc->default_vcpus : 1);
	plan.maxvcpus = params->hotplug ? hc->default_maxvcpus : 0;
	plan.memory_hotplug = params->hotplug;
	plan.memory_mib = params->memory_mib ? params->memory_mib
	                                     : (hc->default_memory ? hc->default_memory
	                                                           : QEMU_DEFAULT_MEMORY_MIB);
	plan.host_memory_mib = host_memory_mib();
	plan.host_tsc_khz = host_tsc_khz();
	plan.debug = sb->debug;
	plan.extra_kernel_params = params->kernel_params;
	plan.nics = params->nics;
	plan.n_nics = params->n_nics;
	/* Borrowed until start(): qemu gets copies at fixed numbers (QEMU_NIC_FIRST_FD). */
	if (params->n_nics > 0) {
		sb->tap_fds = xcalloc(params->n_nics, sizeof(*sb->tap_fds));
		for (size_t i = 0; i < params->n_nics; i++)
			sb->tap_fds[i] = params->nics[i].tap_fd;
		sb->n_tap_fds = params->n_nics;
		sb->nics = params->nics;
	}
	if (backend_resolve_accelerator(hv->config, &plan.accelerator, err) < 0)
		goto fail;

	if ((sb->qmp_path = backend_sandbox_path(sb->dir, "qmp.sock", true, err)) == NULL ||
	    (sb->channel_paths[0] = backend_sandbox_path(sb->dir, "ctl.sock", true, err)) == NULL ||
	    (sb->channel_paths[1] = backend_sandbox_path(sb->dir, "io.sock", true, err)) == NULL ||
	    (sb->console_path = backend_sandbox_path(sb->dir, "console.sock", true, err)) == NULL ||
	    (sb->pid_path = backend_sandbox_path(sb->dir, "qemu.pid", false, err)) == NULL)
		goto fail;
	if (sb->debug)
		sb->console_log_path = backend_sandbox_path(sb->dir, "console.log", false, err);
	if (virtio_fs) {
		if ((sb->virtiofsd_socket =
		             backend_sandbox_path(sb->dir, "virtiofsd.sock", true, err)) == NULL)
			goto fail;
		sb->virtiofsd_log = backend_sandbox_path(sb->dir, "virtiofsd.log", false, err);
		sb->virtiofsd_argv =
		        virtiofsd_build_cmdline(hc, sb->shared_dir, sb->virtiofsd_socket);
	}
	plan.qmp_path = sb->qmp_path;
	plan.channel_paths[0] = sb->channel_paths[0];
	plan.channel_paths[1] = sb->channel_paths[1];
	plan.console_path = sb->console_path;
	plan.console_log_path = sb->console_log_path;
	plan.pid_path = sb->pid_path;
	plan.virtiofsd_socket = sb->virtiofsd_socket;
	sb->argv = qemu_build_cmdline(hc, &plan, err);
	if (sb->argv == NULL)
		goto fail;
	if (hv->config->factory.enable_template &&
	    qemu_clone_plan(hv->config, &plan, &sb->boot_argv, &sb->argv, err) < 0)
		goto fail;
	if (mkdir_all(sb->dir, 0755, 0750, &sb->created_dir, err) < 0)
		goto fail;
	console_name = sb->console_log_path;
	log_debug("qemu sandbox %s prepared in %s (accelerator %s%s%s)", sb->id, sb->dir,
	          kata_accelerator_name(plan.accelerator), console_name ? ", console log " : "",
	          console_name ? console_name : "");
	return 0;
fail:
	qemu_sandbox_free(sb);
	hv->priv = NULL;
	return kata_error_wrap(err, "create");
}

/* Kills whatever start() left running and removes the files it made. */
static void undo_start(struct qemu_sandbox *sb)
{
	pid_t pid;
	struct process_id proc = { 0 };

	if (sb->qemu.pid <= 0 && read_pid_file(sb->pid_path, &pid, NULL) == 0 &&
	    process_identify(pid, &proc, NULL) == 0)
		sb->qemu = proc;
	process_terminate(&sb->qemu, 0, NULL);
	process_terminate(&sb->virtiofsd, QEMU_TERM_TIMEOUT_MS, NULL);
	sb->qemu = (struct process_id){ 0 };
	sb->virtiofsd = (struct process_id){ 0 };
	unlink(sb->pid_path);
}

static int qemu_start(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct qemu_sandbox *sb = sandbox_of(hv, err);
	cleanup_qmp struct qmp *qmp = NULL;
	cleanup_free char *status = NULL;
	bool clone_running = false;
	pid_t pid;

	if (sb == NULL)
		return -1;
	if (sb->phase != QEMU_PHASE_CREATED)
		return kata_error_set(err, EBUSY, "start: sandbox %s was started already", sb->id);
	/* Stale files from an earlier failed run would fool the readiness checks. */
	unlink(sb->pid_path);
	if (sb->virtiofsd_argv != NULL &&
	    virtiofsd_start(sb->virtiofsd_argv, sb->virtiofsd_socket, sb->virtiofsd_log,
	                    &sb->virtiofsd, VIRTIOFSD_START_TIMEOUT_MS, err) < 0)
		return kata_error_wrap(err, "start");
	if (sb->boot_argv != NULL) {
		if (qemu_clone_start(hv->config, sb) == 0)
			clone_running = true;
		else {
			/* qemu_clone_start() logged why and cleaned up: a normal boot instead. */
			undo_start(sb);
			strv_free(sb->argv);
			sb->argv = steal_pointer(&sb->boot_argv);
		}
	}
	if (sb->qemu.pid <= 0 &&
	    launch_daemonizing_fds(sb->argv, sb->tap_fds, sb->n_tap_fds, QEMU_NIC_FIRST_FD,
	                           QEMU_START_TIMEOUT_MS, err) < 0)
		goto fail;
	if (sb->qemu.pid <= 0 && (read_pid_file(sb->pid_path, &pid, err) < 0 ||
	                          process_identify(pid, &sb->qemu, err) < 0))
		goto fail;
	/* A clone was seen running over its own QMP connection (template_qmp.c): asking again
	 * on a new one costs a connection and a round trip on every clone's start. */
	if (!clone_running) {
		qmp = qmp_connect(sb->qmp_path, QEMU_QMP_TIMEOUT_MS, err);
		if (qmp == NULL)
			goto fail;
		status = qmp_query_status(qmp, QEMU_QMP_TIMEOUT_MS, err);
		if (status == NULL)
			goto fail;
		if (strcmp(status, "running") != 0) {
			kata_error_set(err, EIO, "qemu status is '%s' instead of running", status);
			goto fail;
		}
	}
	sb->phase = QEMU_PHASE_STARTED;
	log_debug("qemu of sandbox %s running, pid %d", sb->id, (int)sb->qemu.pid);
	return 0;
fail:
	undo_start(sb);
	return kata_error_wrap(err, "start");
}

static void stop_virtiofsd(struct qemu_sandbox *sb)
{
	cleanup_error kata_error_t err = NULL;

	/* It exits by itself once qemu is gone; a short grace, then force. */
	if (process_wait_gone(&sb->virtiofsd, 500) < 0 &&
	    process_terminate(&sb->virtiofsd, QEMU_TERM_TIMEOUT_MS, &err) < 0)
		log_warning("virtiofsd: %s", err->message);
}

static int qemu_stop(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct qemu_sandbox *sb = sandbox_of(hv, err);

	if (sb == NULL)
		return -1;
	if (process_is_alive(&sb->qemu) && !(flags & HYPERVISOR_FLAG_FORCE)) {
		cleanup_error kata_error_t quit_err = NULL;
		cleanup_qmp struct qmp *qmp = qmp_connect(sb->qmp_path, 2000, &quit_err);

		if (qmp != NULL)
			qmp_execute(qmp, "quit", NULL, NULL, 2000, &quit_err);
		if (quit_err != NULL)
			log_debug("stop: quit over QMP: %s", quit_err->message);
		process_wait_gone(&sb->qemu, QEMU_QUIT_TIMEOUT_MS);
	}
	if (process_terminate(&sb->qemu, (flags & HYPERVISOR_FLAG_FORCE) ? 0 : QEMU_TERM_TIMEOUT_MS,
	                      err) < 0)
		return kata_error_wrap(err, "stop");
	stop_virtiofsd(sb);
	if (sb->phase == QEMU_PHASE_STARTED)
		sb->phase = QEMU_PHASE_STOPPED;
	return 0;
}

static int running_qmp(struct qemu_sandbox *sb, struct qmp **qmp, kata_error_t *err)
{
	if (sb->phase != QEMU_PHASE_STARTED)
		return kata_error_set(err, EINVAL, "sandbox %s is not started", sb->id);
	if (!process_is_alive(&sb->qemu))
		return kata_error_set(err, ESRCH, "qemu of sandbox %s is gone (crashed)", sb->id);
	*qmp = qmp_connect(sb->qmp_path, QEMU_QMP_TIMEOUT_MS, err);
	return *qmp != NULL ? 0 : -1;
}

static int run_command(struct hypervisor *hv, const char *op, const char *command,
                       kata_error_t *err)
{
	struct qemu_sandbox *sb = sandbox_of(hv, err);
	cleanup_qmp struct qmp *qmp = NULL;

	if (sb == NULL)
		return -1;
	if (running_qmp(sb, &qmp, err) < 0 ||
	    qmp_execute(qmp, command, NULL, NULL, QEMU_QMP_TIMEOUT_MS, err) < 0)
		return kata_error_wrap(err, "%s", op);
	return 0;
}

static int qemu_grow(struct hypervisor *hv, uint32_t vcpus, uint32_t memory_mib,
                     struct hypervisor_size *size, unsigned int flags, kata_error_t *err)
{
	struct qemu_sandbox *sb = sandbox_of(hv, err);
	cleanup_qmp struct qmp *qmp = NULL;

	if (sb == NULL)
		return -1;
	if (running_qmp(sb, &qmp, err) < 0 ||
	    qemu_hotplug_grow(qmp, vcpus, memory_mib, size, QEMU_QMP_TIMEOUT_MS, err) < 0)
		return kata_error_wrap(err, "grow");
	return 0;
}

static int qemu_pause(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return run_command(hv, "pause", "stop", err);
}

static int qemu_resume(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	return run_command(hv, "resume", "cont", err);
}

enum hypervisor_state qemu_state_from_status(const char *status)
{
	static const char *const paused[] = { "paused",         "suspended",   "debug",
		                              "finish-migrate", "postmigrate", "restore-vm",
		                              "save-vm",        "watchdog",    "colo",
		                              "prelaunch",      "inmigrate" };

	if (strcmp(status, "running") == 0)
		return HYPERVISOR_STATE_RUNNING;
	if (strcmp(status, "shutdown") == 0)
		return HYPERVISOR_STATE_STOPPED;
	for (size_t i = 0; i < sizeof(paused) / sizeof(paused[0]); i++)
		if (strcmp(status, paused[i]) == 0)
			return HYPERVISOR_STATE_PAUSED;
	/* guest-panicked, internal-error, io-error and anything unknown */
	return HYPERVISOR_STATE_CRASHED;
}

/* qemu removes its pid file when it exits normally (the guest powered off, "quit", SIGTERM);
 * a qemu that was killed or crashed leaves it behind. */
static enum hypervisor_state gone_state(struct qemu_sandbox *sb)
{
	return access(sb->pid_path, F_OK) == 0 ? HYPERVISOR_STATE_CRASHED
	                                       : HYPERVISOR_STATE_STOPPED;
}

static int qemu_state(struct hypervisor *hv, enum hypervisor_state *state, unsigned int flags,
                      kata_error_t *err)
{
	struct qemu_sandbox *sb = sandbox_of(hv, err);
	cleanup_qmp struct qmp *qmp = NULL;
	cleanup_free char *status = NULL;

	if (sb == NULL)
		return -1;
	switch (sb->phase) {
	case QEMU_PHASE_CREATED:
		*state = HYPERVISOR_STATE_CREATED;
		return 0;
	case QEMU_PHASE_STOPPED:
		*state = HYPERVISOR_STATE_STOPPED;
		return 0;
	case QEMU_PHASE_STARTED:
		break;
	}
	if (!process_is_alive(&sb->qemu)) {
		*state = gone_state(sb);
		return 0;
	}
	qmp = qmp_connect(sb->qmp_path, QEMU_QMP_TIMEOUT_MS, err);
	if (qmp != NULL)
		status = qmp_query_status(qmp, QEMU_QMP_TIMEOUT_MS, err);
	if (status == NULL) {
		/* It may have died while we asked. */
		if (!process_is_alive(&sb->qemu)) {
			kata_error_free(err);
			*state = gone_state(sb);
			return 0;
		}
		return kata_error_wrap(err, "state");
	}
	*state = qemu_state_from_status(status);
	return 0;
}

static void remove_file(const char *path)
{
	if (path != NULL && unlink(path) < 0 && errno != ENOENT)
		log_warning("cleanup: unlink %s: %s", path, strerror(errno));
}

static int qemu_cleanup(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct qemu_sandbox *sb = sandbox_of(hv, err);

	if (sb == NULL)
		return -1;
	if (sb->phase == QEMU_PHASE_CREATED) {
		/* A start interrupted half-way (its runtime killed before it saved the state)
		 * may have left qemu running: the pid file says which. */
		undo_start(sb);
		sb->phase = QEMU_PHASE_STOPPED;
	}
	if (qemu_stop(hv, flags | HYPERVISOR_FLAG_FORCE, err) < 0)
		return kata_error_wrap(err, "cleanup");
	remove_file(sb->qmp_path);
	remove_file(sb->channel_paths[0]);
	remove_file(sb->channel_paths[1]);
	remove_file(sb->console_path);
	remove_file(sb->console_log_path);
	remove_file(sb->pid_path);
	remove_file(sb->virtiofsd_socket);
	remove_file(sb->virtiofsd_log);
	/* Never recursive: a forgotten bind mount below must not be deleted through. */
	if (sb->created_dir && rmdir(sb->dir) < 0 && errno != ENOENT) {
		if (errno == ENOTEMPTY || errno == EEXIST)
			log_warning("cleanup: %s is not empty, left in place", sb->dir);
		else
			return kata_error_sys(err, "cleanup: rmdir %s", sb->dir);
	}
	return 0;
}

static pid_t qemu_pid(struct hypervisor *hv)
{
	struct qemu_sandbox *sb = hv->priv;

	return sb != NULL && sb->qemu.pid > 0 ? sb->qemu.pid : -1;
}

static bool qemu_companion(struct hypervisor *hv, pid_t *pid, uint64_t *start_time)
{
	struct qemu_sandbox *sb = hv->priv;

	if (sb == NULL || sb->virtiofsd.pid <= 0)
		return false;
	*pid = sb->virtiofsd.pid;
	*start_time = sb->virtiofsd.start_time;
	return true;
}

static const char *qemu_channel_path(struct hypervisor *hv, enum hypervisor_channel channel)
{
	struct qemu_sandbox *sb = hv->priv;

	return sb != NULL ? sb->channel_paths[channel] : NULL;
}

static const char *qemu_console_path(struct hypervisor *hv)
{
	struct qemu_sandbox *sb = hv->priv;

	return sb != NULL ? sb->console_path : NULL;
}

static const char *qemu_console_log_path(struct hypervisor *hv)
{
	struct qemu_sandbox *sb = hv->priv;

	return sb != NULL ? sb->console_log_path : NULL;
}

static json_object *qemu_save(struct hypervisor *hv)
{
	struct qemu_sandbox *sb = hv->priv;

	return sb != NULL ? qemu_sandbox_to_json(sb) : NULL;
}

static int qemu_restore(struct hypervisor *hv, json_object *saved, unsigned int flags,
                        kata_error_t *err)
{
	struct qemu_sandbox *sb;

	if (hv->priv != NULL)
		return kata_error_set(err, EEXIST, "restore: handle already holds a sandbox");
	sb = qemu_sandbox_from_json(saved, err);
	if (sb == NULL)
		return -1;
	hv->priv = sb;
	return 0;
}

static void qemu_free_priv(struct hypervisor *hv)
{
	qemu_sandbox_free(hv->priv);
	hv->priv = NULL;
}

const struct hypervisor_ops hypervisor_qemu_ops = {
	.name = "qemu",
	.create = qemu_create,
	.start = qemu_start,
	.stop = qemu_stop,
	.pause = qemu_pause,
	.resume = qemu_resume,
	.state = qemu_state,
	.cleanup = qemu_cleanup,
	.pid = qemu_pid,
	.companion = qemu_companion,
	.hotplug_nic = qemu_hotplug_nic,
	.channel_path = qemu_channel_path,
	.console_path = qemu_console_path,
	.console_log_path = qemu_console_log_path,
	.save = qemu_save,
	.restore = qemu_restore,
	.free_priv = qemu_free_priv,
	.grow = qemu_grow,
};
