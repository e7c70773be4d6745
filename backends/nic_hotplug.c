/* The QMP command sequence that hot-plugs a NIC (see nic_hotplug.h). */
#include "nic_hotplug.h"

#include <errno.h>
#include <stdio.h>

#include "cleanup.h"
#include "log.h"

void nic_hotplug_port_id(unsigned index, char out[32])
{
	snprintf(out, 32, "katanicport%u", index);
}

static json_object *args_of(const char *key, const char *value)
{
	json_object *args = json_object_new_object();

	json_object_object_add(args, key, json_object_new_string(value));
	return args;
}

/* An undo step: its failure is only logged, the first error is the one reported. */
static void undo(const struct nic_hotplug_monitor *mon, const char *command, const char *key,
                 const char *value)
{
	json_object *args = args_of(key, value);
	cleanup_error kata_error_t err = NULL;

	if (mon->execute(mon->opaque, command, args, -1, &err) < 0)
		log_warning("hot-plug undo: %s", err->message);
	json_object_put(args);
}

int nic_hotplug_run(const struct nic_hotplug_monitor *mon, const struct hypervisor_nic *nic,
                    unsigned index, const char *bus, kata_error_t *err)
{
	char fd_name[32], netdev_id[32], device_id[32];
	json_object *args;
	int ret;

	if (index >= NIC_HOTPLUG_MAX)
		return kata_error_set(err, ENOSPC, "hot-plug NIC %u: at most %d NICs", index,
		                      NIC_HOTPLUG_MAX);
	if (nic->tap_fd < 0)
		return kata_error_set(err, EBADF, "hot-plug NIC %u: no tap", index);
	snprintf(fd_name, sizeof(fd_name), "katanetfd%u", index);
	snprintf(netdev_id, sizeof(netdev_id), "katanet%u", index);
	snprintf(device_id, sizeof(device_id), "katanic%u", index);

	args = args_of("fdname", fd_name);
	ret = mon->execute(mon->opaque, "getfd", args, nic->tap_fd, err);
	json_object_put(args);
	if (ret < 0)
		return kata_error_wrap(err, "hot-plug NIC %u (%s)", index, nic->mac);

	/* No vhost: there is no /dev/vhost-net on these machines (as on the command line). No
	 * vnet_hdr either: qemu refuses it with fd= and asks the fd (TUNGETIFF's IFF_VNET_HDR),
	 * which a tap opened with a vnet header and a macvtap's /dev/tapN (one by default) have,
	 * so both ends agree on the virtio-net header and its offloads. */
	args = args_of("type", "tap");
	json_object_object_add(args, "id", json_object_new_string(netdev_id));
	json_object_object_add(args, "fd", json_object_new_string(fd_name));
	json_object_object_add(args, "vhost", json_object_new_boolean(0));
	ret = mon->execute(mon->opaque, "netdev_add", args, -1, err);
	json_object_put(args);
	if (ret < 0) {
		undo(mon, "closefd", "fdname", fd_name);
		return kata_error_wrap(err, "hot-plug NIC %u (%s)", index, nic->mac);
	}

	args = args_of("driver", "virtio-net-pci");
	json_object_object_add(args, "id", json_object_new_string(device_id));
	json_object_object_add(args, "netdev", json_object_new_string(netdev_id));
	json_object_object_add(args, "mac", json_object_new_string(nic->mac));
	if (bus != NULL)
		json_object_object_add(args, "bus", json_object_new_string(bus));
	ret = mon->execute(mon->opaque, "device_add", args, -1, err);
	json_object_put(args);
	if (ret < 0) {
		/* netdev_add took the fd from the monitor's table: netdev_del closes it. */
		undo(mon, "netdev_del", "id", netdev_id);
		return kata_error_wrap(err, "hot-plug NIC %u (%s)", index, nic->mac);
	}
	log_debug("NIC %u (%s) hot-plugged%s%s", index, nic->mac, bus ? " into " : "",
	          bus ? bus : "");
	return 0;
}
