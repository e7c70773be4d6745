#include "sandbox.h"
#include "cleanup.h"
#include "hypervisor.h"
#include "fault_point.h"
#include "log.h"
#include "network.h"
#include "sandbox_sweep.h"
#include "share.h"
#include "spawn.h"
#include "fd_util.h"
#include "unix_socket.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

/* How long the proxy may take to connect to the agent and serve its socket: the guest
 * boots under TCG here, which takes about a second. */
#define PROXY_READY_TIMEOUT_MS 30000
#define PROXY_TERM_TIMEOUT_MS  2000

void sandbox_size_for(const struct kata_config *config, const struct oci_spec *spec,
                      struct sandbox_resources *resources)
{
	const struct oci_resources *r =
	        spec != NULL && spec->linux_spec != NULL ? spec->linux_spec->resources : NULL;

	resources->vcpus = config->hypervisor.default_vcpus;
	resources->memory_mib = config->hypervisor.default_memory;
	if (r == NULL)
		return;
	if (r->memory != NULL && r->memory->has_limit && r->memory->limit > 0)
		resources->memory_mib += (uint32_t)((r->memory->limit + (1 << 20) - 1) >> 20);
	if (r->cpu != NULL && r->cpu->has_quota && r->cpu->quota > 0 && r->cpu->has_period &&
	    r->cpu->period > 0)
		resources->vcpus +=
		        (uint32_t)(((uint64_t)r->cpu->quota + r->cpu->period - 1) / r->cpu->period);
	if (config->hypervisor.default_maxvcpus > 0 &&
	    resources->vcpus > config->hypervisor.default_maxvcpus)
		resources->vcpus = config->hypervisor.default_maxvcpus;
}

/* FNV-1a: short, stable names for long (root, id) pairs. */
static uint64_t hash_name(const char *root, const char *id)
{
	uint64_t h = 14695981039346656037ULL;

	for (const char *p = root; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	h = (h ^ 0) * 1099511628211ULL;
	for (const char *p = id; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

/* The directory's name is a hash: its id file tells people (and tests) whose it is. */
static int write_id_file(const char *dir, const char *id, kata_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/id", dir);
	cleanup_close int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0 || dprintf(fd, "%s\n", id) < 0)
		return kata_error_sys(err, "write `%s`", path);
	return 0;
}

char *sandbox_dir_for(const char *root, const char *id)
{
	return xasprintf("%s/%016llx", SANDBOX_BASE_DIR, (unsigned long long)hash_name(root, id));
}

int sandbox_prepare(const char *root, const char *id, struct sandbox_record *sb, kata_error_t *err)
{
	cleanup_free char *dir = sandbox_dir_for(root, id);
	cleanup_free char *shared = xasprintf("%s/shared", dir);

	if (mkdir_all(SANDBOX_BASE_DIR, 0711, 0711, NULL, err) < 0)
		return -1;
	if (mkdir(dir, 0700) < 0) {
		if (errno == EEXIST)
			return kata_error_set(err, EEXIST,
			                      "sandbox directory `%s` exists: a container `%s` "
			                      "was not deleted (try delete --force)",
			                      dir, id);
		return kata_error_sys(err, "create `%s`", dir);
	}
	sb->id = xstrdup(id);
	sb->dir = steal_pointer(&dir);
	fault_point("sandbox-dir");
	if (write_id_file(sb->dir, id, err) < 0)
		return -1;
	/* Searchable: a container in a user namespace reaches its rootfs as a mapped uid. */
	if (mkdir(shared, 0755) < 0)
		return kata_error_sys(err, "create `%s`", shared);
	sb->shared_dir = steal_pointer(&shared);
	return 0;
}

static const char *proxy_dialect_of(const struct kata_config *config)
{
	/* the proxy's -dialect names are the configuration's (docs/dialects.md) */
	switch (config->agent.dialect) {
	case KATA_DIALECT_HYPERSTART:
		return "hyperstart";
	case KATA_DIALECT_CC:
		return "cc";
	default:
		return "kata";
	}
}

/* The proxy serves its socket once the agent said READY: connecting is the readiness test.
 * Asked every millisecond: a clone's proxy serves ~4 ms after its start, and every
 * millisecond waited is on the critical path of a container's start. */
#define PROXY_READY_POLL_US 1000
static int wait_proxy_ready(const struct sandbox_record *sb, kata_error_t *err)
{
	int64_t deadline = now_ms() + PROXY_READY_TIMEOUT_MS;

	for (;;) {
		cleanup_close int fd = unix_socket_connect(sb->proxy_socket, 0, NULL);

		if (fd >= 0)
			return 0;
		if (!process_is_alive(&sb->proxy))
			return kata_error_set(err, ECHILD,
			                      "kata-proxy exited before serving `%s` (see its log)",
			                      sb->proxy_socket);
		if (now_ms() >= deadline)
			return kata_error_set(err, ETIMEDOUT,
			                      "kata-proxy did not serve `%s` within %d ms",
			                      sb->proxy_socket, PROXY_READY_TIMEOUT_MS);
		usleep(PROXY_READY_POLL_US);
	}
}

static int start_proxy(const struct kata_config *config, struct sandbox_record *sb,
                       struct hypervisor *hv, const struct companion_log *log, kata_error_t *err)
{
	cleanup_free char *log_path = companion_log_path(log, sb->dir, "proxy");
	cleanup_free char *vm_pid = NULL;
	cleanup_free char *watch_pid = NULL;
	const char *console = hypervisor_console_path(hv);
	struct process_id vm = { 0 };
	pid_t companion;
	uint64_t companion_start;
	char *argv[24];
	int n = 0;

	sb->proxy_socket = xasprintf("%s/proxy.sock", sb->dir);
	argv[n++] = config->proxy.path;
	argv[n++] = "-listen-socket";
	argv[n++] = sb->proxy_socket;
	argv[n++] = "-ctl-socket";
	argv[n++] = (char *)hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_CTL);
	argv[n++] = "-io-socket";
	argv[n++] = (char *)hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_IO);
	argv[n++] = "-dialect";
	argv[n++] = (char *)proxy_dialect_of(config);
	if (config->agent.dialect == KATA_DIALECT_HYPERSTART) {
		argv[n++] = "-share-dir"; /* exit statuses (docs/dialects.md) */
		argv[n++] = sb->shared_dir;
	}
	if (console != NULL) {
		argv[n++] = "-console";
		argv[n++] = (char *)console;
	}
	if (log->path != NULL) {
		argv[n++] = "-log";
		argv[n++] = log_path;
		argv[n++] = "-log-format";
		argv[n++] = (char *)companion_log_format(log);
	}
	if (log->debug || config->proxy.enable_debug)
		argv[n++] = "-debug";
	/* The VM dies with its virtiofsd, as a Kata sandbox does (proxy/watch.c). */
	if (hypervisor_companion(hv, &companion, &companion_start) &&
	    process_identify(hypervisor_pid(hv), &vm, NULL) == 0) {
		vm_pid = xasprintf("%d:%llu", vm.pid, (unsigned long long)vm.start_time);
		watch_pid = xasprintf("%d:%llu", companion, (unsigned long long)companion_start);
		argv[n++] = "-vm-pid";
		argv[n++] = vm_pid;
		argv[n++] = "-watch-pid";
		argv[n++] = watch_pid;
	}
	argv[n] = NULL;
	/* Without the runtime's log, its stderr goes to its own file (crashes included). */
	if (process_start_daemon(
	            argv,
	            &(const struct launch_setup){ .in = LAUNCH_NULL,
	                                          .out = LAUNCH_NULL,
	                                          .err = LAUNCH_LOG,
	                                          .log_path = log->path != NULL ? NULL : log_path },
	            &sb->proxy, err) < 0)
		return kata_error_wrap(err, "start kata-proxy");
	return 0;
}

static void checkpoint(const struct sandbox_checkpoint *cp)
{
	if (cp != NULL && cp->save != NULL)
		cp->save(cp->opaque);
}

int sandbox_boot(const struct kata_config *config, struct sandbox_record *sb,
                 const struct sandbox_resources *resources, const struct companion_log *log,
                 const struct sandbox_checkpoint *cp, kata_error_t *err)
{
	cleanup_free char *vm_dir = xasprintf("%s/vm", sb->dir);
	struct hypervisor_sandbox_params params = {
		.id = sb->id,
		.dir = vm_dir,
		.shared_dir = sb->shared_dir,
		.vcpus = resources->vcpus,
		.memory_mib = resources->memory_mib,
		.hotplug = resources->hotplug,
		.nics = resources->nics,
		.n_nics = resources->n_nics,
		.debug = log->debug || config->hypervisor.enable_debug,
		.kernel_params = kata_agent_kernel_params(&config->agent),
	};
	struct hypervisor *hv = hypervisor_new(NULL, config, err);
	int ret = -1;

	if (hv == NULL)
		return -1;
	/* A create that fails undoes itself and leaves no handle: nothing to record. */
	if (hypervisor_create(hv, &params, 0, err) < 0)
		goto out;
	fault_point("vm-created");
	/* Recorded before booting: a failed start still leaves a handle to clean up with,
	 * and a runtime killed meanwhile leaves it in the record for delete --force. */
	sb->hypervisor = hypervisor_save(hv);
	checkpoint(cp);
	fault_point("vm-recorded");
	if (hypervisor_start(hv, 0, err) < 0)
		goto out;
	fault_point("vm-started");
	json_object_put(sb->hypervisor);
	sb->hypervisor = hypervisor_save(hv);
	checkpoint(cp);
	if (start_proxy(config, sb, hv, log, err) < 0)
		goto out;
	fault_point("proxy-started");
	checkpoint(cp);
	ret = wait_proxy_ready(sb, err);
	if (ret == 0)
		fault_point("proxy-ready");
out:
	hypervisor_free(hv);
	return ret < 0 ? kata_error_wrap(err, "boot sandbox `%s`", sb->id) : 0;
}

static void keep_first(kata_error_t *first, kata_error_t *next)
{
	if (*first == NULL)
		kata_error_move(first, next);
	else
		kata_error_free(next);
}

/* The handle the backend saved, stopped and cleaned; without a configuration (it could not
 * be read) or a readable handle, the sweep below still ends the VM's processes. */
static int stop_hypervisor(const struct kata_config *config, const struct sandbox_record *sb,
                           kata_error_t *err)
{
	struct hypervisor *hv;
	int ret;

	if (sb->hypervisor == NULL)
		return 0;
	if (config == NULL)
		return kata_error_set(err, EINVAL,
		                      "no configuration to restore the VM's handle with");
	hv = hypervisor_restore(config, sb->hypervisor, err);
	if (hv == NULL)
		return -1;
	ret = hypervisor_cleanup(hv, HYPERVISOR_FLAG_FORCE, err);
	hypervisor_free(hv);
	return ret;
}

/* The id file says whose the directory is: a directory of another id is never touched. */
static bool dir_is_of(const char *dir, const char *id)
{
	cleanup_free char *path = xasprintf("%s/id", dir);
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char line[STATE_ID_MAX + 2];
	ssize_t n;

	if (fd < 0 || (n = read(fd, line, sizeof(line) - 1)) <= 0)
		return true; /* killed before it was written: the name (a hash of root, id) says */
	line[n] = '\0';
	line[strcspn(line, "\n")] = '\0';
	return strcmp(line, id) == 0;
}

int sandbox_teardown(const struct kata_config *config, struct sandbox_record *sb, kata_error_t *err)
{
	kata_error_t first = NULL;
	kata_error_t step = NULL;

	if (sb->dir != NULL && sb->id != NULL && !dir_is_of(sb->dir, sb->id))
		return kata_error_set(err, EEXIST, "`%s` belongs to another container: left alone",
		                      sb->dir);
	if (sb->proxy.pid > 0 && process_terminate(&sb->proxy, PROXY_TERM_TIMEOUT_MS, &step) < 0)
		keep_first(&first, &step);
	if (stop_hypervisor(config, sb, &step) < 0) {
		log_warning("tear down: the VM's handle: %s", step->message);
		keep_first(&first, &step);
	}
	fault_point("vm-stopped");
	/* What the record does not know of (or no longer can say): found by its paths. */
	if (sb->dir != NULL && sandbox_sweep_processes(sb->dir, &step) < 0)
		keep_first(&first, &step);
	/* after the VM: its taps go with qemu, the filters on the engine's veth stay */
	if (network_teardown(sb->network, &step) < 0)
		keep_first(&first, &step);
	if (share_unmount_all(sb->mounts, &step) < 0 ||
	    (sb->dir != NULL && share_unmount_below(sb->dir, &step) < 0)) {
		/* Never remove a tree that may still have the container's rootfs mounted in it. */
		keep_first(&first, &step);
	} else if (sb->dir != NULL) {
		fault_point("unmounted");
		if (remove_tree(sb->dir, &step) < 0)
			keep_first(&first, &step);
	}
	if (first != NULL) {
		kata_error_move(err, &first);
		return kata_error_wrap(err, "tear down sandbox `%s`", sb->id ?: "?");
	}
	return 0;
}
