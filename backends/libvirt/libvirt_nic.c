/* Hot-plugging NICs into a libvirt domain (see libvirt_nic.h). */
#include "libvirt_nic.h"
#include "libvirt_conn.h"
#include "libvirt_xml.h"
#include "nic_hotplug.h"
#include "qemu/qmp_message.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd_util.h"
#include "log.h"

int libvirt_nics_keep(struct libvirt_sandbox *sb, const struct hypervisor_nic *nics, size_t n,
                      kata_error_t *err)
{
	if (n > NIC_HOTPLUG_MAX)
		return kata_error_set(err, EINVAL, "%zu NICs: at most %d", n, NIC_HOTPLUG_MAX);
	for (size_t i = 0; i < n; i++) {
		struct hypervisor_nic *kept = &sb->pending_nics[i];

		*kept = nics[i];
		kept->tap_fd = fcntl(nics[i].tap_fd, F_DUPFD_CLOEXEC, 3);
		if (kept->tap_fd < 0)
			return kata_error_sys(err, "NIC %zu (%s): dup its tap", i, nics[i].mac);
		sb->n_pending_nics = i + 1;
	}
	return 0;
}

void libvirt_nics_release(struct libvirt_sandbox *sb)
{
	for (size_t i = 0; i < sb->n_pending_nics; i++)
		if (sb->pending_nics[i].tap_fd >= 0)
			close(sb->pending_nics[i].tap_fd);
	sb->n_pending_nics = 0;
}

/* One QMP command through libvirt; the reply is qemu's, passed through as text. */
static int monitor_execute(void *opaque, const char *command, json_object *args, int fd,
                           kata_error_t *err)
{
	virDomainPtr dom = opaque;
	json_object *request = json_object_new_object();
	cleanup_free char *text = NULL;
	cleanup_free char *reply = NULL;
	struct qmp_message msg;
	int fds[1] = { fd };
	int ret;

	json_object_object_add(request, "execute", json_object_new_string(command));
	json_object_object_add(request, "arguments", json_object_get(args));
	text = xstrdup(json_object_to_json_string_ext(request, JSON_C_TO_STRING_PLAIN));
	json_object_put(request);
	if (virt_dl.virDomainQemuMonitorCommandWithFiles(
	            dom, text, fd >= 0 ? 1 : 0, fd >= 0 ? fds : NULL, NULL, NULL, &reply, 0) < 0)
		return libvirt_error(err, command);
	if (reply == NULL)
		return kata_error_set(err, EPROTO, "%s: no reply from the monitor", command);
	if (qmp_message_parse(reply, strlen(reply), &msg, err) < 0)
		return kata_error_wrap(err, "%s", command);
	ret = 0;
	if (msg.type == QMP_MESSAGE_ERROR)
		ret = kata_error_set(err, EIO, "%s: %s", command, msg.error_desc);
	else if (msg.type != QMP_MESSAGE_RETURN)
		ret = kata_error_set(err, EPROTO, "%s: the monitor's reply is not an answer",
		                     command);
	qmp_message_clear(&msg);
	return ret;
}

static int plug(virDomainPtr dom, const struct kata_hypervisor_config *hc,
                const struct hypervisor_nic *nic, unsigned index, kata_error_t *err)
{
	struct nic_hotplug_monitor mon = { .execute = monitor_execute, .opaque = dom };
	char alias[40];

	libvirt_nic_port_alias(index, alias);
	return nic_hotplug_run(&mon, nic, index,
	                       strcmp(kata_machine_type(hc), "q35") == 0 ? alias : NULL, err);
}

int libvirt_nics_plug(struct libvirt_sandbox *sb, const struct kata_hypervisor_config *hc,
                      virDomainPtr dom, kata_error_t *err)
{
	int64_t started = now_ms();
	int ret = 0;

	for (size_t i = 0; i < sb->n_pending_nics && ret == 0; i++)
		ret = plug(dom, hc, &sb->pending_nics[i], (unsigned)i, err);
	if (ret == 0 && sb->n_pending_nics > 0)
		log_debug("domain %s: %zu NICs hot-plugged in %lld ms (monitor passthrough: "
		          "libvirt marks the domain tainted)",
		          sb->name, sb->n_pending_nics, (long long)(now_ms() - started));
	libvirt_nics_release(sb);
	return ret;
}

int libvirt_hotplug_nic(struct hypervisor *hv, const struct hypervisor_nic *nic, unsigned index,
                        unsigned flags, kata_error_t *err)
{
	struct libvirt_sandbox *sb = hv->priv;
	cleanup_virconn virConnectPtr conn = NULL;
	cleanup_virdomain virDomainPtr dom = NULL;

	if (sb == NULL)
		return kata_error_set(err, EINVAL, "hotplug_nic: no sandbox");
	if (sb->phase != LIBVIRT_PHASE_STARTED)
		return kata_error_set(err, EINVAL, "hotplug_nic: sandbox %s is not started",
		                      sb->id);
	conn = libvirt_connect(sb->uri, err);
	if (conn == NULL || libvirt_lookup(conn, sb->uuid, &dom, err) < 0)
		return kata_error_wrap(err, "hotplug_nic");
	if (dom == NULL)
		return kata_error_set(err, ESRCH, "hotplug_nic: domain %s is gone", sb->name);
	return plug(dom, &hv->config->hypervisor, nic, index, err) < 0
	               ? kata_error_wrap(err, "hotplug_nic")
	               : 0;
}
