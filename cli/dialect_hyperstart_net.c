/* STARTPOD's "interfaces" and "routes" as runV's hyperstart (v1.1.0) takes them
 * (docs/dialects.md). cli/network.c writes them for this project's agent, which finds a NIC
 * by its MAC; hyperstart refuses any key it does not know (macAddr among them) and:
 *
 *   - finds the NIC by "device", the guest kernel's name (/sys/class/net/DEVICE), then
 *     renames it to "newDeviceName" and sets "mtu";
 *   - takes "ipAddresses": [{"ipAddress", "netMask"}], IPv4 only, and refuses an interface
 *     without one;
 *   - takes routes {"dest", "gateway", "device"}, IPv4 only, "device" being the name after
 *     the rename;
 *   - does not read the kernel's answers, so what it cannot apply is lost without a word:
 *     it is refused here instead.
 *
 * The guest kernel names the virtio-net devices eth0, eth1, ... in the order the VM has
 * them, which is the order of the record's interfaces (cli/network.c). The MAC is the VM
 * device's own (the hypervisor gives it the veth's). */
#include "cleanup.h"
#include "dialect.h"
#include "json_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *string_of(json_object *obj, const char *key)
{
	json_object *value = NULL;

	if (!json_object_object_get_ex(obj, key, &value) ||
	    !json_object_is_type(value, json_type_string))
		return NULL;
	return json_object_get_string(value);
}

static bool is_ipv4(const char *text)
{
	struct in_addr addr;

	return text != NULL && inet_pton(AF_INET, text, &addr) == 1;
}

static json_object *hyperstart_addresses(const char *name, json_object *addrs, kata_error_t *err)
{
	size_t n =
	        json_object_is_type(addrs, json_type_array) ? json_object_array_length(addrs) : 0;
	json_object *out = json_object_new_array();

	for (size_t i = 0; i < n; i++) {
		json_object *a = json_object_array_get_idx(addrs, i);
		const char *ip = string_of(a, "ipAddress");
		const char *mask = string_of(a, "netMask");
		json_object *entry;

		if (!is_ipv4(ip)) {
			kata_error_set(
			        err, ENOTSUP,
			        "interface `%s`: address %s/%s: not possible with the hyperstart "
			        "dialect (runV's hyperstart sets IPv4 addresses only)",
			        name, ip ?: "?", mask ?: "?");
			json_object_put(out);
			return NULL;
		}
		entry = json_object_new_object();
		json_add_string(entry, "ipAddress", ip);
		json_add_string(entry, "netMask", mask ?: "32");
		json_object_array_add(out, entry);
	}
	if (json_object_array_length(out) == 0) {
		kata_error_set(err, ENOTSUP,
		               "interface `%s`: no IPv4 address: not possible with the hyperstart "
		               "dialect (runV's hyperstart configures no interface without one)",
		               name);
		json_object_put(out);
		return NULL;
	}
	return out;
}

static json_object *hyperstart_interface(size_t index, json_object *iface, kata_error_t *err)
{
	const char *name = string_of(iface, "newDeviceName") ?: string_of(iface, "device");
	json_object *addrs = NULL;
	json_object *mtu = NULL;
	json_object *out;
	char guest_name[16];

	if (name == NULL) {
		kata_error_set(err, EINVAL, "interfaces[%zu]: no name", index);
		return NULL;
	}
	json_object_object_get_ex(iface, "ipAddresses", &addrs);
	addrs = hyperstart_addresses(name, addrs, err);
	if (addrs == NULL)
		return NULL;
	snprintf(guest_name, sizeof(guest_name), "eth%zu", index);
	out = json_object_new_object();
	json_add_string(out, "device", guest_name);
	json_add_string(out, "newDeviceName", name);
	if (json_object_object_get_ex(iface, "mtu", &mtu))
		json_object_object_add(out, "mtu", json_object_get(mtu));
	json_object_object_add(out, "ipAddresses", addrs);
	return out;
}

static json_object *hyperstart_route(size_t index, json_object *route, kata_error_t *err)
{
	const char *dest = string_of(route, "dest");
	const char *gateway = string_of(route, "gateway");
	const char *device = string_of(route, "device");
	cleanup_free char *dest_addr = xstrdup(dest ?: "");
	char *slash = strchr(dest_addr, '/');
	json_object *out;

	(void)index;
	if (slash != NULL)
		*slash = '\0';
	if ((dest == NULL || (strcmp(dest, "default") != 0 && !is_ipv4(dest_addr))) ||
	    (gateway != NULL && !is_ipv4(gateway))) {
		kata_error_set(err, ENOTSUP,
		               "route to %s%s%s on `%s`: not possible with the hyperstart dialect "
		               "(runV's hyperstart adds IPv4 routes only)",
		               dest ?: "?", gateway ? " via " : "", gateway ?: "", device ?: "?");
		return NULL;
	}
	out = json_object_new_object();
	json_add_string(out, "dest", dest);
	if (gateway != NULL)
		json_add_string(out, "gateway", gateway);
	if (device != NULL)
		json_add_string(out, "device", device);
	return out;
}

/* Replaces startpod[key], an array, by fn applied to each element (with its index). */
static int reshape_array(json_object *startpod, const char *key,
                         json_object *(*fn)(size_t, json_object *, kata_error_t *),
                         kata_error_t *err)
{
	json_object *in = NULL;
	json_object *out;
	size_t n;

	if (!json_object_object_get_ex(startpod, key, &in))
		return 0;
	n = json_object_is_type(in, json_type_array) ? json_object_array_length(in) : 0;
	out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		json_object *element = fn(i, json_object_array_get_idx(in, i), err);

		if (element == NULL) {
			json_object_put(out);
			return -1;
		}
		json_object_array_add(out, element);
	}
	json_object_object_add(startpod, key, out);
	return 0;
}

int hyperstart_startpod_network(json_object *startpod, kata_error_t *err)
{
	if (reshape_array(startpod, "interfaces", hyperstart_interface, err) < 0 ||
	    reshape_array(startpod, "routes", hyperstart_route, err) < 0)
		return -1;
	return 0;
}
