/* The runV-style backend: each sandbox is a transient libvirt domain, made and driven through
 * the libvirt C API (docs/libvirt.md). libvirt runs qemu; the backend keeps only the domain's
 * name, uuid and the connection URI, so any later runtime process can find it again. */
#include "backends.h"
#include "state.h"
#include "libvirt_backend.h"
#include "libvirt_conn.h"
#include "libvirt_nic.h"
#include "libvirt_host.h"
#include "libvirt_sandbox.h"
#include "libvirt_xml.h"
#include "process.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "cleanup.h"
#include "log.h"

#define LIBVIRT_DOMAIN_PREFIX "sandbox-" /* as the qemu backend names its VM (-name) */
#define LIBVIRT_TERM_MS       2000       /* the fallback kill when libvirt cannot be reached */

static struct libvirt_sandbox *sandbox_of(struct hypervisor *hv, kata_error_t *err)
{
	if (hv->priv == NULL)
		kata_error_set(err, EINVAL, "no sandbox: create or restore first");
	return hv->priv;
}

/* A random (version 4) uuid, fixed at create so that the saved state names the domain
 * before it exists. */
static int make_uuid(char out[LIBVIRT_UUID_STRING_LEN], kata_error_t *err)
{
	unsigned char b[16];

	if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b))
		return kata_error_sys(err, "getrandom");
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, LIBVIRT_UUID_STRING_LEN,
	         "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
	         b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
	         b[15]);
	return 0;
}

static int fill_paths(struct libvirt_sandbox *sb, kata_error_t *err)
{
	if ((sb->channel_paths[0] = backend_sandbox_path(sb->dir, "ctl.sock", true, err)) == NULL ||
	    (sb->channel_paths[1] = backend_sandbox_path(sb->dir, "io.sock", true, err)) == NULL ||
	    (sb->console_path = backend_sandbox_path(sb->dir, "console.sock", true, err)) == NULL)
		return -1;
	if (sb->debug)
		sb->console_log_path = backend_sandbox_path(sb->dir, "console.log", false, err);
	return 0;
}

static int libvirt_create(struct hypervisor *hv, const struct hypervisor_sandbox_params *params,
                          unsigned int flags, kata_error_t *err)
{
	const struct kata_hypervisor_config *hc = &hv->config->hypervisor;
	struct libvirt_sandbox *sb;
	struct libvirt_plan plan = { 0 };
	char uuid[LIBVIRT_UUID_STRING_LEN];

	if (hv->priv != NULL)
		return kata_error_set(err, EEXIST, "create: sandbox already created");
	if (params->dir[0] != '/' || (params->shared_dir != NULL && params->shared_dir[0] != '/'))
		return kata_error_set(err, EINVAL, "create: directories must be absolute paths");
	/* libvirtd opens a tap by name in its own network namespace, never the container's,
	 * and takes no tap fds for a qemu domain: start() hot-plugs them (libvirt_nic.h). */
	if (params->n_nics > NIC_HOTPLUG_MAX)
		return kata_error_set(err, EINVAL, "create: %zu NICs: at most %d", params->n_nics,
		                      NIC_HOTPLUG_MAX);
	/* libvirt refuses a '/' in a domain name. */
	if (params->id[0] == '\0' || strchr(params->id, '/') != NULL)
		return kata_error_set(err, EINVAL, "create: sandbox id '%s' cannot name a domain",
		                      params->id);
	if (make_uuid(uuid, err) < 0)
		return kata_error_wrap(err, "create");

	sb = xzalloc(sizeof(*sb));
	hv->priv = sb;
	sb->id = xstrdup(params->id);
	sb->name = xasprintf("%s%s", LIBVIRT_DOMAIN_PREFIX, params->id);
	sb->uuid = xstrdup(uuid);
	sb->uri = xstrdup(hc->uri != NULL && hc->uri[0] ? hc->uri : KATA_DEFAULT_LIBVIRT_URI);
	sb->dir = xstrdup(params->dir);
	sb->shared_dir = params->shared_dir != NULL ? xstrdup(params->shared_dir) : NULL;
	sb->debug = params->debug || hc->enable_debug;
	sb->phase = LIBVIRT_PHASE_CREATED;
	if (fill_paths(sb, err) < 0)
		goto fail;
	if (libvirt_nics_keep(sb, params->nics, params->n_nics, err) < 0)
		goto fail;

	plan.name = sb->name;
	plan.uuid = sb->uuid;
	plan.shared_dir = sb->shared_dir;
	plan.vcpus = params->vcpus ? params->vcpus : (hc->default_vcpus ? hc->default_vcpus : 1);
	plan.maxvcpus = params->hotplug ? hc->default_maxvcpus : 0;
	plan.memory_mib = params->memory_mib ? params->memory_mib
	                                     : (hc->default_memory ? hc->default_memory
	                                                           : KATA_DEFAULT_MEMORY_MIB);
	plan.debug = sb->debug;
	plan.extra_kernel_params = params->kernel_params;
	plan.channel_paths[0] = sb->channel_paths[0];
	plan.channel_paths[1] = sb->channel_paths[1];
	plan.console_path = sb->console_path;
	plan.console_log_path = sb->console_log_path;
	plan.nic_ports = (uint32_t)params->n_nics;
	if (backend_resolve_accelerator(hv->config, &plan.accelerator, err) < 0)
		goto fail;
	sb->xml = libvirt_domain_xml(hc, &plan, err);
	if (sb->xml == NULL)
		goto fail;
	if (hc->memory_slots > 0)
		log_debug("memory_slots ignored: the libvirt backend has no memory hotplug");
	if (mkdir_all(sb->dir, 0755, 0750, &sb->created_dir, err) < 0)
		goto fail;
	log_debug("libvirt sandbox %s prepared in %s: domain %s (%s) on %s, accelerator %s", sb->id,
	          sb->dir, sb->name, sb->uuid, sb->uri, kata_accelerator_name(plan.accelerator));
	return 0;
fail:
	libvirt_sandbox_free(sb);
	hv->priv = NULL;
	return kata_error_wrap(err, "create");
}

static int libvirt_start(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct libvirt_sandbox *sb = sandbox_of(hv, err);
	cleanup_virconn virConnectPtr conn = NULL;
	cleanup_virdomain virDomainPtr dom = NULL;
	int state = VIR_DOMAIN_NOSTATE, reason = 0;

	if (sb == NULL)
		return -1;
	if (sb->phase != LIBVIRT_PHASE_CREATED)
		return kata_error_set(err, EBUSY, "start: sandbox %s was started already", sb->id);
	conn = libvirt_connect(sb->uri, err);
	if (conn == NULL)
		return kata_error_wrap(err, "start");
	dom = virt_dl.virDomainCreateXML(conn, sb->xml, 0);
	if (dom == NULL) {
		/* libvirt refused the XML, or qemu failed: libvirt's message says which. */
		libvirt_error(err, "create the domain");
		return kata_error_wrap(err, "start");
	}
	if (virt_dl.virDomainGetState(dom, &state, &reason, 0) < 0) {
		libvirt_error(err, "domain state");
		goto fail;
	}
	if (state != VIR_DOMAIN_RUNNING) {
		kata_error_set(err, EIO, "domain %s is in state %d (reason %d), not running",
		               sb->name, state, reason);
		goto fail;
	}
	if (libvirt_nics_plug(sb, &hv->config->hypervisor, dom, err) < 0)
		goto fail;
	sb->phase = LIBVIRT_PHASE_STARTED;
	log_debug("domain %s of sandbox %s running on %s", sb->name, sb->id, sb->uri);
	return 0;
fail:
	virt_dl.virDomainDestroy(dom);
	return kata_error_wrap(err, "start");
}

/* The domain's qemu on this host, found by the uuid libvirt passes it (-uuid); -1 if there
 * is none (or the connection is remote). libvirt has no API that tells qemu's pid. */
static pid_t find_local_qemu(const char *uuid)
{
	cleanup_closedir DIR *proc = opendir("/proc");
	struct dirent *de;

	while (proc != NULL && (de = readdir(proc)) != NULL) {
		char path[64], buf[8192], state;
		uint64_t start;
		ssize_t n;
		pid_t pid = (pid_t)strtol(de->d_name, NULL, 10);
		cleanup_close int fd = -1;

		if (pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0 || (n = read(fd, buf, sizeof(buf) - 1)) <= 0)
			continue;
		buf[n] = '\0';
		if (strstr(buf, "qemu") == NULL)
			continue;
		for (char *arg = buf; arg < buf + n; arg += strlen(arg) + 1) {
			char *next = arg + strlen(arg) + 1;

			if (strcmp(arg, "-uuid") == 0 && next < buf + n &&
			    strcmp(next, uuid) == 0 &&
			    process_read_stat(pid, &state, &start) == 0 && state != 'Z' &&
			    state != 'X')
				return pid;
		}
	}
	return -1;
}

/* libvirt cannot be reached: end the domain's qemu directly, if it runs here. */
static void kill_local_qemu(struct libvirt_sandbox *sb)
{
	struct process_id proc = { 0 };
	pid_t pid = find_local_qemu(sb->uuid);
	cleanup_error kata_error_t err = NULL;

	if (pid <= 0 || process_identify(pid, &proc, NULL) < 0)
		return;
	log_warning("libvirt unreachable: killing qemu %d of domain %s directly", (int)pid,
	            sb->name);
	if (process_terminate(&proc, LIBVIRT_TERM_MS, &err) < 0)
		log_warning("%s", err->message);
}

static bool domain_is_gone(void)
{
	const virError *e = virt_dl.virGetLastError();

	return e != NULL && (e->code == VIR_ERR_NO_DOMAIN || e->code == VIR_ERR_OPERATION_INVALID);
}

static int libvirt_stop(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct libvirt_sandbox *sb = sandbox_of(hv, err);
	cleanup_virconn virConnectPtr conn = NULL;
	cleanup_virdomain virDomainPtr dom = NULL;

	if (sb == NULL)
		return -1;
	conn = libvirt_connect(sb->uri, err);
	if (conn == NULL || libvirt_lookup(conn, sb->uuid, &dom, err) < 0)
		return kata_error_wrap(err, "stop");
	if (dom != NULL) {
		/* Graceful is SIGTERM only (the agent has no ACPI handler for a shutdown
		 * request); libvirt then waits for qemu and its virtiofsd to exit. */
		bool done = false;

		if (!(flags & HYPERVISOR_FLAG_FORCE))
			done = virt_dl.virDomainDestroyFlags(dom, VIR_DOMAIN_DESTROY_GRACEFUL) ==
			               0 ||
			       domain_is_gone();
		if (!done && virt_dl.virDomainDestroy(dom) < 0 && !domain_is_gone()) {
			libvirt_error(err, "destroy the domain");
			return kata_error_wrap(err, "stop");
		}
		virt_dl.virResetLastError();
	}
	if (sb->phase == LIBVIRT_PHASE_STARTED)
		sb->phase = LIBVIRT_PHASE_STOPPED;
	return 0;
}

/* The running domain, for pause and resume. */
static int running_domain(struct libvirt_sandbox *sb, virConnectPtr *conn, virDomainPtr *dom,
                          kata_error_t *err)
{
	if (sb->phase != LIBVIRT_PHASE_STARTED)
		return kata_error_set(err, EINVAL, "sandbox %s is not started", sb->id);
	*conn = libvirt_connect(sb->uri, err);
	if (*conn == NULL || libvirt_lookup(*conn, sb->uuid, dom, err) < 0)
		return -1;
	if (*dom == NULL)
		return kata_error_set(err, ESRCH, "domain %s of sandbox %s is gone (crashed)",
		                      sb->name, sb->id);
	return 0;
}

static int libvirt_pause(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct libvirt_sandbox *sb = sandbox_of(hv, err);
	cleanup_virconn virConnectPtr conn = NULL;
	cleanup_virdomain virDomainPtr dom = NULL;

	if (sb == NULL)
		return -1;
	if (running_domain(sb, &conn, &dom, err) < 0)
		return kata_error_wrap(err, "pause");
	if (virt_dl.virDomainSuspend(dom) < 0) {
		libvirt_error(err, "suspend");
		return kata_error_wrap(err, "pause");
	}
	return 0;
}

static int libvirt_resume(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct libvirt_sandbox *sb = sandbox_of(hv, err);
	cleanup_virconn virConnectPtr conn = NULL;
	cleanup_virdomain virDomainPtr dom = NULL;

	if (sb == NULL)
		return -1;
	if (running_domain(sb, &conn, &dom, err) < 0)
		return kata_error_wrap(err, "resume");
	if (virt_dl.virDomainResume(dom) < 0) {
		libvirt_error(err, "resume");
		return kata_error_wrap(err, "resume");
	}
	return 0;
}

enum hypervisor_state libvirt_state_from_domain(int state, int reason)
{
	switch (state) {
	case VIR_DOMAIN_RUNNING:
	case VIR_DOMAIN_BLOCKED:
		return HYPERVISOR_STATE_RUNNING;
	case VIR_DOMAIN_PAUSED:
		if (reason == VIR_DOMAIN_PAUSED_CRASHED || reason == VIR_DOMAIN_PAUSED_IOERROR)
			return HYPERVISOR_STATE_CRASHED;
		if (reason == VIR_DOMAIN_PAUSED_SHUTTING_DOWN)
			return HYPERVISOR_STATE_STOPPED;
		return HYPERVISOR_STATE_PAUSED;
	case VIR_DOMAIN_PMSUSPENDED:
		return HYPERVISOR_STATE_PAUSED;
	case VIR_DOMAIN_SHUTDOWN:
		return HYPERVISOR_STATE_STOPPED;
	case VIR_DOMAIN_SHUTOFF:
		return reason == VIR_DOMAIN_SHUTOFF_CRASHED ? HYPERVISOR_STATE_CRASHED
		                                            : HYPERVISOR_STATE_STOPPED;
	default: /* VIR_DOMAIN_CRASHED, VIR_DOMAIN_NOSTATE and anything newer */
		return HYPERVISOR_STATE_CRASHED;
	}
}

static int libvirt_state(struct hypervisor *hv, enum hypervisor_state *state, unsigned int flags,
                         kata_error_t *err)
{
	struct libvirt_sandbox *sb = sandbox_of(hv, err);
	cleanup_virconn virConnectPtr conn = NULL;
	cleanup_virdomain virDomainPtr dom = NULL;
	int dom_state, reason;

	if (sb == NULL)
		return -1;
	switch (sb->phase) {
	case LIBVIRT_PHASE_CREATED:
		*state = HYPERVISOR_STATE_CREATED;
		return 0;
	case LIBVIRT_PHASE_STOPPED:
		*state = HYPERVISOR_STATE_STOPPED;
		return 0;
	case LIBVIRT_PHASE_STARTED:
		break;
	}
	conn = libvirt_connect(sb->uri, err);
	if (conn == NULL || libvirt_lookup(conn, sb->uuid, &dom, err) < 0)
		return kata_error_wrap(err, "state");
	/* libvirt forgets a transient domain as soon as it ends, and why it ended with it:
	 * one that ended without stop() is taken as crashed (docs/libvirt.md). */
	if (dom == NULL) {
		*state = HYPERVISOR_STATE_CRASHED;
		return 0;
	}
	if (virt_dl.virDomainGetState(dom, &dom_state, &reason, 0) < 0) {
		if (domain_is_gone()) {
			virt_dl.virResetLastError();
			*state = HYPERVISOR_STATE_CRASHED;
			return 0;
		}
		libvirt_error(err, "domain state");
		return kata_error_wrap(err, "state");
	}
	*state = libvirt_state_from_domain(dom_state, reason);
	return 0;
}

static void remove_file(const char *path)
{
	if (path != NULL && unlink(path) < 0 && errno != ENOENT)
		log_warning("cleanup: unlink %s: %s", path, strerror(errno));
}

static int libvirt_cleanup(struct hypervisor *hv, unsigned int flags, kata_error_t *err)
{
	struct libvirt_sandbox *sb = sandbox_of(hv, err);
	cleanup_error kata_error_t stop_err = NULL;

	if (sb == NULL)
		return -1;
	if (libvirt_stop(hv, flags | HYPERVISOR_FLAG_FORCE, &stop_err) < 0) {
		if (stop_err->errno_value != ECONNREFUSED && stop_err->errno_value != ECONNRESET) {
			kata_error_move(err, &stop_err);
			return kata_error_wrap(err, "cleanup");
		}
		/* The daemon is gone: its qemu may still run. */
		log_warning("cleanup: %s", stop_err->message);
		kill_local_qemu(sb);
	}
	sb->phase = LIBVIRT_PHASE_STOPPED;
	remove_file(sb->channel_paths[0]);
	remove_file(sb->channel_paths[1]);
	remove_file(sb->console_path);
	remove_file(sb->console_log_path);
	/* Never recursive: a forgotten bind mount below must not be deleted through. */
	if (sb->created_dir && rmdir(sb->dir) < 0 && errno != ENOENT) {
		if (errno == ENOTEMPTY || errno == EEXIST)
			log_warning("cleanup: %s is not empty, left in place", sb->dir);
		else
			return kata_error_sys(err, "cleanup: rmdir %s", sb->dir);
	}
	return 0;
}

static pid_t libvirt_pid(struct hypervisor *hv)
{
	struct libvirt_sandbox *sb = hv->priv;

	return sb != NULL && sb->phase == LIBVIRT_PHASE_STARTED ? find_local_qemu(sb->uuid) : -1;
}

static const char *libvirt_channel_path(struct hypervisor *hv, enum hypervisor_channel channel)
{
	struct libvirt_sandbox *sb = hv->priv;

	return sb != NULL ? sb->channel_paths[channel] : NULL;
}

static const char *libvirt_console_path(struct hypervisor *hv)
{
	struct libvirt_sandbox *sb = hv->priv;

	return sb != NULL ? sb->console_path : NULL;
}

static const char *libvirt_console_log_path(struct hypervisor *hv)
{
	struct libvirt_sandbox *sb = hv->priv;

	return sb != NULL ? sb->console_log_path : NULL;
}

static json_object *libvirt_save(struct hypervisor *hv)
{
	struct libvirt_sandbox *sb = hv->priv;

	return sb != NULL ? libvirt_sandbox_to_json(sb) : NULL;
}

static int libvirt_restore(struct hypervisor *hv, json_object *saved, unsigned int flags,
                           kata_error_t *err)
{
	struct libvirt_sandbox *sb;

	if (hv->priv != NULL)
		return kata_error_set(err, EEXIST, "restore: handle already holds a sandbox");
	sb = libvirt_sandbox_from_json(saved, err);
	if (sb == NULL)
		return -1;
	hv->priv = sb;
	return 0;
}

static void libvirt_free_priv(struct hypervisor *hv)
{
	libvirt_sandbox_free(hv->priv);
	hv->priv = NULL;
}

const struct hypervisor_ops hypervisor_libvirt_ops = {
	.name = "libvirt",
	.create = libvirt_create,
	.start = libvirt_start,
	.stop = libvirt_stop,
	.pause = libvirt_pause,
	.resume = libvirt_resume,
	.state = libvirt_state,
	.cleanup = libvirt_cleanup,
	.pid = libvirt_pid,
	.hotplug_nic = libvirt_hotplug_nic,
	.channel_path = libvirt_channel_path,
	.console_path = libvirt_console_path,
	.console_log_path = libvirt_console_log_path,
	.save = libvirt_save,
	.restore = libvirt_restore,
	.free_priv = libvirt_free_priv,
	.check = libvirt_check,
};
