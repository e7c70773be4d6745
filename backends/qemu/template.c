/* Making, checking and removing the qemu backend's VM template (template.h). */
#include "template.h"

#include "backends.h"
#include "host_info.h"
#include "launch.h"
#include "qemu_cmdline.h"
#include "state.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "process.h"
#include "unix_socket.h"
#include "fd_util.h"

#define TEMPLATE_START_TIMEOUT_MS 30000
#define TEMPLATE_READY_TIMEOUT_MS 60000 /* boot under TCG on a busy host */
#define TEMPLATE_QMP_TIMEOUT_MS   10000
#define TEMPLATE_SAVE_TIMEOUT_MS  30000
#define TEMPLATE_CONSOLE_MAX      (64 * 1024)
/* After READY the guest runs this long before it is saved: the kernel's work deferred from
 * its boot by up to a second (the TSC's refined calibration, which switches clocksources
 * under stop_machine) is then done once here, not again in every clone. */
#define TEMPLATE_SETTLE_MS 1000
/* What kata-agent writes to the console once READY is queued (agent/run.c). */
#define AGENT_READY_CONSOLE_MARK "after the kernel started"

const char *qemu_template_status_name(enum qemu_template_status status)
{
	switch (status) {
	case QEMU_TEMPLATE_OK:
		return "ready";
	case QEMU_TEMPLATE_ABSENT:
		return "absent";
	case QEMU_TEMPLATE_STALE:
		return "stale";
	case QEMU_TEMPLATE_DAMAGED:
		return "damaged";
	}
	return "unknown";
}

int qemu_template_supported(const struct kata_config *config, kata_error_t *err)
{
	const struct kata_hypervisor_config *hc = &config->hypervisor;

	if (strcmp(hc->name, "qemu") != 0)
		return kata_error_set(err, ENOTSUP,
		                      "[factory] enable_template: the %s backend cannot start VMs "
		                      "from a template (docs/templating.md)",
		                      hc->name);
	if (hc->shared_fs == KATA_SHARED_FS_VIRTIO_FS)
		return kata_error_set(err, ENOTSUP,
		                      "[factory] enable_template: not with shared_fs = "
		                      "\"virtio-fs\" (virtiofsd needs the guest memory shared, a "
		                      "clone's is copy-on-write)");
	if (config->agent.dialect != KATA_DIALECT_KATA)
		return kata_error_set(
		        err, ENOTSUP,
		        "[factory] enable_template: only with this project's agent "
		        "(dialect \"kata\"), which re-seeds its RNG and sets its clock "
		        "after a clone");
	if (config->factory.template_path == NULL || config->factory.template_path[0] != '/')
		return kata_error_set(err, EINVAL, "[factory] template_path must be absolute");
	return 0;
}

static char *path_in(const char *dir, const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

/* Everything the template's qemu is given: its argv depends on nothing of a sandbox. */
struct template_files {
	char *dir, *qmp, *ctl, *io, *console, *pid, *share, *memory, *state;
};

static void template_files_init(struct template_files *f, const char *dir)
{
	f->dir = xstrdup(dir);
	f->qmp = path_in(dir, "qmp.sock");
	f->ctl = path_in(dir, "ctl.sock");
	f->io = path_in(dir, "io.sock");
	f->console = path_in(dir, "console.sock");
	f->pid = path_in(dir, "qemu.pid");
	f->share = path_in(dir, "share");
	f->memory = path_in(dir, QEMU_TEMPLATE_MEMORY);
	f->state = path_in(dir, QEMU_TEMPLATE_STATE);
}

static void template_files_free(struct template_files *f)
{
	free(f->dir);
	free(f->qmp);
	free(f->ctl);
	free(f->io);
	free(f->console);
	free(f->pid);
	free(f->share);
	free(f->memory);
	free(f->state);
}

static char **template_argv(const struct kata_config *config, const struct template_files *f,
                            kata_error_t *err)
{
	const struct kata_hypervisor_config *hc = &config->hypervisor;
	struct qemu_plan plan = { 0 };

	if (strlen(f->console) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return kata_error_set(err, ENAMETOOLONG,
		                      "template_path %s is too long for its "
		                      "sockets",
		                      f->dir),
		       NULL;
	plan.id = "template";
	/* as a sandbox's (cli/sandbox.c): a clone's command line must be the template's */
	plan.extra_kernel_params = kata_agent_kernel_params(&config->agent);
	plan.shared_dir = f->share;
	plan.vcpus = hc->default_vcpus ? hc->default_vcpus : 1;
	plan.memory_mib = hc->default_memory ? hc->default_memory : QEMU_DEFAULT_MEMORY_MIB;
	plan.host_tsc_khz = host_tsc_khz();
	plan.qmp_path = f->qmp;
	plan.channel_paths[0] = f->ctl;
	plan.channel_paths[1] = f->io;
	plan.console_path = f->console;
	plan.pid_path = f->pid;
	plan.template_mode = QEMU_TEMPLATE_SAVE;
	plan.template_memory_path = f->memory;
	if (backend_resolve_accelerator(config, &plan.accelerator, err) < 0)
		return NULL;
	return qemu_build_cmdline(hc, &plan, err);
}

static char *file_fact(const char *what, const char *path, kata_error_t *err)
{
	struct stat st;

	if (path == NULL || path[0] == '\0')
		return xasprintf("%s: none\n", what);
	if (stat(path, &st) < 0) {
		kata_error_sys(err, "template key: stat %s", path);
		return NULL;
	}
	return xasprintf("%s: %s size=%lld ino=%llu dev=%llu mtime=%lld.%09ld\n", what, path,
	                 (long long)st.st_size, (unsigned long long)st.st_ino,
	                 (unsigned long long)st.st_dev, (long long)st.st_mtim.tv_sec,
	                 st.st_mtim.tv_nsec);
}

char *qemu_template_key(const struct kata_config *config, kata_error_t *err)
{
	const struct kata_hypervisor_config *hc = &config->hypervisor;
	struct template_files f;
	cleanup_strv char **argv = NULL;
	cleanup_free char *qemu = NULL, *kernel = NULL, *initrd = NULL, *key = NULL;

	template_files_init(&f, config->factory.template_path);
	argv = template_argv(config, &f, err);
	template_files_free(&f);
	if (argv == NULL)
		return NULL;
	if ((qemu = file_fact("qemu", argv[0], err)) == NULL ||
	    (kernel = file_fact("kernel", hc->kernel, err)) == NULL ||
	    (initrd = file_fact("initrd", hc->initrd, err)) == NULL)
		return NULL;
	key = xasprintf("kata-runtime %s template format %d\n%s%s%s", KATA_VERSION,
	                QEMU_TEMPLATE_FORMAT, qemu, kernel, initrd);
	for (char **a = argv; *a != NULL; a++) {
		char *longer = xasprintf("%sargv: %s\n", key, *a);

		free(key);
		key = longer;
	}
	return steal_pointer(&key);
}

static bool file_size(const char *path, uint64_t *size)
{
	struct stat st;

	if (stat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return false;
	*size = (uint64_t)st.st_size;
	return true;
}

enum qemu_template_status qemu_template_check(const char *dir, const char *key, char **reason)
{
	cleanup_free char *meta_path = path_in(dir, QEMU_TEMPLATE_META);
	cleanup_free char *memory = path_in(dir, QEMU_TEMPLATE_MEMORY);
	cleanup_free char *state = path_in(dir, QEMU_TEMPLATE_STATE);
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *meta = NULL;
	cleanup_free char *saved_key = NULL;
	uint64_t memory_size = 0, state_size = 0, want_memory = 0, want_state = 0;
	bool has_memory = file_size(memory, &memory_size);
	bool has_state = file_size(state, &state_size);

	*reason = NULL;
	if (access(meta_path, F_OK) < 0 && errno == ENOENT) {
		if (!has_memory && !has_state) {
			*reason = xasprintf("no template in %s", dir);
			return QEMU_TEMPLATE_ABSENT;
		}
		*reason = xasprintf("%s has template files but no %s: a template half made "
		                    "(its maker died?)",
		                    dir, QEMU_TEMPLATE_META);
		return QEMU_TEMPLATE_DAMAGED;
	}
	meta = json_parse_file(meta_path, 1024 * 1024, &err);
	if (meta == NULL || json_get_string(meta, "key", "", true, &saved_key, &err) < 0 ||
	    json_get_uint64(meta, "memory_bytes", "", true, &want_memory, &err) < 0 ||
	    json_get_uint64(meta, "state_bytes", "", true, &want_state, &err) < 0) {
		*reason = xasprintf("%s: %s", meta_path, err->message);
		return QEMU_TEMPLATE_DAMAGED;
	}
	if (!has_memory || !has_state || memory_size != want_memory || state_size != want_state) {
		*reason = xasprintf("%s: its memory (%llu bytes) or device state (%llu bytes) "
		                    "is missing or not the size it was saved with (%llu, %llu)",
		                    dir, (unsigned long long)memory_size,
		                    (unsigned long long)state_size, (unsigned long long)want_memory,
		                    (unsigned long long)want_state);
		return QEMU_TEMPLATE_DAMAGED;
	}
	if (key != NULL && strcmp(key, saved_key) != 0) {
		*reason = xasprintf("%s was made from another kernel, initrd, qemu or "
		                    "configuration",
		                    dir);
		return QEMU_TEMPLATE_STALE;
	}
	*reason = xasprintf("template in %s matches", dir);
	return QEMU_TEMPLATE_OK;
}

static int open_lock(const char *dir, int operation, kata_error_t *err)
{
	cleanup_free char *path = path_in(dir, QEMU_TEMPLATE_LOCK);
	cleanup_close int fd = -1;

	if (mkdir_all(dir, 0755, 0700, NULL, err) < 0)
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return kata_error_sys(err, "open %s", path);
	while (flock(fd, operation) < 0) {
		if (errno != EINTR)
			return kata_error_sys(err, "flock %s", path);
	}
	return steal_fd(&fd);
}

static void unlink_quiet(const char *path)
{
	if (unlink(path) < 0 && errno != ENOENT)
		log_warning("template: unlink %s: %m", path);
}

/* Everything but the lock. Running clones keep their (unlinked) memory file. */
static void remove_template_files(const struct template_files *f)
{
	cleanup_free char *meta = path_in(f->dir, QEMU_TEMPLATE_META);

	unlink_quiet(meta); /* first: from here on the files are no template */
	unlink_quiet(f->memory);
	unlink_quiet(f->state);
	unlink_quiet(f->qmp);
	unlink_quiet(f->ctl);
	unlink_quiet(f->io);
	unlink_quiet(f->console);
	unlink_quiet(f->pid);
	if (rmdir(f->share) < 0 && errno != ENOENT)
		log_warning("template: rmdir %s: %m", f->share);
}

/* Reads the template's console until the agent says it is ready (its READY is queued for
 * the first host to open the control port: a clone's proxy). */
static int wait_agent_ready(int console_fd, const struct process_id *qemu, int timeout_ms,
                            kata_error_t *err)
{
	int64_t deadline = now_ms() + timeout_ms;
	cleanup_free char *seen = xzalloc(TEMPLATE_CONSOLE_MAX + 1);
	size_t len = 0;

	for (;;) {
		struct pollfd pfd = { .fd = console_fd, .events = POLLIN };
		int64_t left = deadline - now_ms();
		char buf[4096];
		ssize_t n;

		if (left <= 0)
			return kata_error_set(err, ETIMEDOUT,
			                      "template: the agent was not ready within %d ms",
			                      timeout_ms);
		if (!process_is_alive(qemu))
			return kata_error_set(err, ECHILD, "template: qemu exited during the boot");
		if (poll(&pfd, 1, left > 100 ? 100 : (int)left) <= 0)
			continue;
		n = read(console_fd, buf, sizeof(buf));
		if (n == 0)
			return kata_error_set(err, EPIPE, "template: the console closed");
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return kata_error_sys(err, "template: read console");
		}
		if (len + (size_t)n > TEMPLATE_CONSOLE_MAX) {
			/* Keep the tail: the mark is at most a line. */
			size_t keep = TEMPLATE_CONSOLE_MAX / 2;

			memmove(seen, seen + len - keep, keep);
			len = keep;
		}
		memcpy(seen + len, buf, (size_t)n);
		len += (size_t)n;
		seen[len] = '\0';
		/* The console may carry NULs; search line by line after each read. */
		for (size_t i = 0; i < len; i++)
			if (seen[i] == '\0')
				seen[i] = ' ';
		if (strstr(seen, AGENT_READY_CONSOLE_MARK) != NULL)
			return 0;
	}
}

static int write_meta(const struct template_files *f, const char *key, kata_error_t *err)
{
	cleanup_free char *meta_path = path_in(f->dir, QEMU_TEMPLATE_META);
	cleanup_json json_object *meta = json_object_new_object();
	uint64_t memory_size, state_size;

	if (!file_size(f->memory, &memory_size) || !file_size(f->state, &state_size) ||
	    state_size == 0)
		return kata_error_set(err, EIO, "template: qemu saved no memory or device state");
	json_add_string(meta, "key", key);
	json_object_object_add(meta, "memory_bytes", json_object_new_uint64(memory_size));
	json_object_object_add(meta, "state_bytes", json_object_new_uint64(state_size));
	json_object_object_add(meta, "created", json_object_new_int64((int64_t)time(NULL)));
	return json_write_file_atomic(meta_path, meta, 0600, err);
}

/* With the exclusive lock held. */
static int build_locked(const struct kata_config *config, kata_error_t *err)
{
	struct template_files f;
	cleanup_strv char **argv = NULL;
	cleanup_free char *key = NULL;
	cleanup_close int console_fd = -1;
	cleanup_qmp struct qmp *qmp = NULL;
	struct process_id qemu = { 0 };
	pid_t pid;
	int64_t started = now_ms();
	int ret = -1;

	template_files_init(&f, config->factory.template_path);
	remove_template_files(&f);
	key = qemu_template_key(config, err);
	if (key == NULL)
		goto out;
	argv = template_argv(config, &f, err);
	if (argv == NULL)
		goto out;
	if (mkdir(f.share, 0700) < 0 && errno != EEXIST) {
		kata_error_sys(err, "mkdir %s", f.share);
		goto out;
	}
	/* Paused (-S) until the console is connected: all of the agent's words are seen. */
	if (launch_daemonizing(argv, TEMPLATE_START_TIMEOUT_MS, err) < 0 ||
	    read_pid_file(f.pid, &pid, err) < 0 || process_identify(pid, &qemu, err) < 0)
		goto out;
	if ((console_fd = unix_socket_connect(f.console, TEMPLATE_QMP_TIMEOUT_MS, err)) < 0 ||
	    (qmp = qmp_connect(f.qmp, TEMPLATE_QMP_TIMEOUT_MS, err)) == NULL ||
	    qmp_execute(qmp, "cont", NULL, NULL, TEMPLATE_QMP_TIMEOUT_MS, err) < 0 ||
	    wait_agent_ready(console_fd, &qemu, TEMPLATE_READY_TIMEOUT_MS, err) < 0)
		goto out;
	usleep(TEMPLATE_SETTLE_MS * 1000);
	if (qemu_template_save_state(qmp, f.state, TEMPLATE_SAVE_TIMEOUT_MS, err) < 0)
		goto out;
	qmp_execute(qmp, "quit", NULL, NULL, TEMPLATE_QMP_TIMEOUT_MS, NULL);
	process_wait_gone(&qemu, 5000);
	if (write_meta(&f, key, err) < 0)
		goto out;
	log_info("template made in %s in %lld ms", f.dir, (long long)(now_ms() - started));
	ret = 0;
out:
	if (qemu.pid > 0)
		process_terminate(&qemu, 2000, NULL);
	if (ret < 0) {
		remove_template_files(&f);
		kata_error_wrap(err, "template %s", f.dir);
	} else {
		unlink_quiet(f.qmp);
		unlink_quiet(f.ctl);
		unlink_quiet(f.io);
		unlink_quiet(f.console);
		unlink_quiet(f.pid);
		rmdir(f.share);
	}
	template_files_free(&f);
	return ret;
}

int qemu_template_create(const struct kata_config *config, kata_error_t *err)
{
	cleanup_close int lock = -1;

	if (qemu_template_supported(config, err) < 0)
		return -1;
	lock = open_lock(config->factory.template_path, LOCK_EX, err);
	if (lock < 0)
		return -1;
	return build_locked(config, err);
}

int qemu_template_destroy(const struct kata_config *config, kata_error_t *err)
{
	cleanup_close int lock = -1;
	cleanup_free char *lock_path = NULL;
	struct template_files f;
	struct stat st;

	if (stat(config->factory.template_path, &st) < 0 && errno == ENOENT)
		return 0;
	lock = open_lock(config->factory.template_path, LOCK_EX, err);
	if (lock < 0)
		return -1;
	template_files_init(&f, config->factory.template_path);
	remove_template_files(&f);
	lock_path = path_in(f.dir, QEMU_TEMPLATE_LOCK);
	unlink_quiet(lock_path);
	if (rmdir(f.dir) < 0 && errno != ENOENT && errno != ENOTEMPTY)
		log_warning("template: rmdir %s: %m", f.dir);
	template_files_free(&f);
	return 0;
}

json_object *qemu_template_status_json(const struct kata_config *config, kata_error_t *err)
{
	const char *dir = config->factory.template_path;
	cleanup_free char *key = qemu_template_key(config, err);
	cleanup_free char *reason = NULL;
	cleanup_free char *memory = path_in(dir, QEMU_TEMPLATE_MEMORY);
	cleanup_free char *state = path_in(dir, QEMU_TEMPLATE_STATE);
	enum qemu_template_status status;
	json_object *out;
	uint64_t size;

	if (key == NULL)
		return NULL;
	status = qemu_template_check(dir, key, &reason);
	out = json_object_new_object();
	json_add_string(out, "path", dir);
	json_add_string(out, "status", qemu_template_status_name(status));
	json_add_string(out, "reason", reason);
	if (file_size(memory, &size))
		json_object_object_add(out, "memory_bytes", json_object_new_uint64(size));
	if (file_size(state, &size))
		json_object_object_add(out, "state_bytes", json_object_new_uint64(size));
	return out;
}

int qemu_template_acquire(const struct kata_config *config, kata_error_t *err)
{
	const char *dir = config->factory.template_path;
	cleanup_close int lock = -1;
	cleanup_free char *key = NULL, *reason = NULL;
	enum qemu_template_status status;

	if (qemu_template_supported(config, err) < 0)
		return -1;
	key = qemu_template_key(config, err);
	if (key == NULL)
		return -1;
	lock = open_lock(dir, LOCK_SH, err);
	if (lock < 0)
		return -1;
	status = qemu_template_check(dir, key, &reason);
	if (status == QEMU_TEMPLATE_ABSENT || status == QEMU_TEMPLATE_STALE) {
		/* Made (or remade) once: whoever gets the exclusive lock first looks again. */
		if (flock(lock, LOCK_EX) < 0)
			return kata_error_sys(err, "flock %s", dir);
		free(reason);
		status = qemu_template_check(dir, key, &reason);
		if (status == QEMU_TEMPLATE_ABSENT || status == QEMU_TEMPLATE_STALE) {
			log_info("template: %s; making a new one", reason);
			if (build_locked(config, err) < 0)
				return -1;
			free(reason);
			status = qemu_template_check(dir, key, &reason);
		}
		if (flock(lock, LOCK_SH) < 0)
			return kata_error_sys(err, "flock %s", dir);
	}
	if (status != QEMU_TEMPLATE_OK)
		return kata_error_set(err, EIO,
		                      "template %s: %s (kata-runtime factory destroy, then "
		                      "factory init, makes a new one)",
		                      qemu_template_status_name(status), reason);
	return steal_fd(&lock);
}
