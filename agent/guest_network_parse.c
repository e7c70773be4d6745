/* STARTPOD's "interfaces" and "routes" (hyperstart's keys, docs/agent-protocol.md) into
 * struct agent_net_config, validated. Pure: no system calls. */
#include "guest_network.h"

#include "cleanup.h"
#include "hex.h"
#include "json_util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static size_t address_len(int family)
{
	return family == AF_INET ? 4 : 16;
}

static unsigned max_prefix(int family)
{
	return family == AF_INET ? 32 : 128;
}

bool agent_net_parse_mac(const char *text, unsigned char mac[AGENT_NET_MAC_LEN])
{
	if (text == NULL || strlen(text) != 3 * AGENT_NET_MAC_LEN - 1)
		return false;
	for (size_t i = 0; i < AGENT_NET_MAC_LEN; i++) {
		const char *p = text + 3 * i;
		int byte = hex_byte_value(p);

		if (byte < 0 || (i + 1 < AGENT_NET_MAC_LEN && p[2] != ':'))
			return false;
		mac[i] = (unsigned char)byte;
	}
	return true;
}

bool agent_net_valid_name(const char *name)
{
	size_t len = name ? strlen(name) : 0;

	if (len == 0 || len > AGENT_NET_MAX_NAME_LEN || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)name[i];

		if (c == '/' || c == ':' || c <= ' ' || c >= 0x7f)
			return false;
	}
	return true;
}

const char *agent_net_address_text(const struct agent_net_address *a, char *buf, size_t size)
{
	if (inet_ntop(a->family, a->bytes, buf, (socklen_t)size) == NULL)
		snprintf(buf, size, "?");
	return buf;
}

/* An IPv4 or IPv6 address, alone (no prefix, no zone). */
static bool parse_ip(const char *text, struct agent_net_address *out)
{
	memset(out, 0, sizeof(*out));
	if (inet_pton(AF_INET, text, out->bytes) == 1)
		out->family = AF_INET;
	else if (inet_pton(AF_INET6, text, out->bytes) == 1)
		out->family = AF_INET6;
	else
		return false;
	return true;
}

static bool is_unspecified(const struct agent_net_address *a)
{
	for (size_t i = 0; i < address_len(a->family); i++)
		if (a->bytes[i] != 0)
			return false;
	return true;
}

static bool is_multicast(const struct agent_net_address *a)
{
	return a->family == AF_INET ? (a->bytes[0] & 0xf0) == 0xe0 : a->bytes[0] == 0xff;
}

/* True when a bit beyond the prefix is set: 10.1.2.0/16 is not a network. */
static bool has_host_bits(const struct agent_net_address *a)
{
	for (size_t bit = a->prefix_len; bit < 8 * address_len(a->family); bit++)
		if (a->bytes[bit / 8] & (0x80 >> (bit % 8)))
			return true;
	return false;
}

/* A prefix length in decimal ("16"), or an IPv4 netmask ("255.255.0.0") as hyperstart
 * also took. */
static int prefix_from_text(const char *text, int family, unsigned *out)
{
	unsigned char mask[4];
	unsigned bits = 0;
	size_t len = strlen(text);

	if (len > 0 && len <= 3 && strspn(text, "0123456789") == len) {
		*out = (unsigned)strtoul(text, NULL, 10);
		return *out <= max_prefix(family) ? 0 : -1;
	}
	if (family != AF_INET || inet_pton(AF_INET, text, mask) != 1)
		return -1;
	/* Contiguous ones, then zeros. */
	while (bits < 32 && (mask[bits / 8] & (0x80 >> (bits % 8))))
		bits++;
	for (unsigned bit = bits; bit < 32; bit++)
		if (mask[bit / 8] & (0x80 >> (bit % 8)))
			return -1;
	*out = bits;
	return 0;
}

/* netMask: a string (prefix length or IPv4 netmask) or an integer. */
static int parse_prefix(json_object *value, int family, const char *path, unsigned *out,
                        kata_error_t *err)
{
	if (json_object_is_type(value, json_type_int)) {
		int64_t n = json_object_get_int64(value);

		if (n < 0 || n > (int64_t)max_prefix(family))
			return kata_error_set(err, EINVAL,
			                      "%s: prefix length %lld out of range (0-%u)", path,
			                      (long long)n, max_prefix(family));
		*out = (unsigned)n;
		return 0;
	}
	if (!json_object_is_type(value, json_type_string))
		return kata_error_set(err, EINVAL,
		                      "%s: expected a prefix length or netmask (a string), got %s",
		                      path, json_type_label(value));
	if (prefix_from_text(json_object_get_string(value), family, out) < 0)
		return kata_error_set(
		        err, EINVAL, "%s: `%s` is not a valid %s prefix length (0-%u)%s", path,
		        json_object_get_string(value), family == AF_INET ? "IPv4" : "IPv6",
		        max_prefix(family), family == AF_INET ? " or netmask" : "");
	return 0;
}

/* An optional string key where "" means absent (Go encoders send empty strings). */
static int get_optional_string(json_object *obj, const char *key, const char *path, char **out,
                               kata_error_t *err)
{
	int ret = json_get_string(obj, key, path, false, out, err);

	if (ret > 0 && (*out)[0] == '\0') {
		free(*out);
		*out = NULL;
		ret = 0;
	}
	return ret;
}

/* An interface address: {"ipAddress": "10.88.0.5", "netMask": "16"}, or the same two
 * keys of hyperstart's older single-address interface. */
static int parse_address_pair(json_object *obj, const char *path, bool required,
                              struct agent_net_address *out, kata_error_t *err)
{
	cleanup_free char *text = NULL;
	cleanup_free char *addr_path = json_path_key(path, "ipAddress");
	cleanup_free char *mask_path = json_path_key(path, "netMask");
	json_object *mask = NULL;
	int ret = json_get_string(obj, "ipAddress", path, required, &text, err);

	if (ret <= 0)
		return ret;
	if (!parse_ip(text, out))
		return kata_error_set(err, EINVAL, "%s: `%s` is not an IPv4 or IPv6 address",
		                      addr_path, text);
	if (is_unspecified(out) || is_multicast(out))
		return kata_error_set(err, EINVAL, "%s: `%s` cannot be an interface's address",
		                      addr_path, text);
	if (!json_object_object_get_ex(obj, "netMask", &mask) || mask == NULL)
		return kata_error_set(err, EINVAL, "%s: required", mask_path);
	if (parse_prefix(mask, out->family, mask_path, &out->prefix_len, err) < 0)
		return -1;
	return 1;
}

/* mtu: an integer, or a string of digits (Clear Containers' first runtime sent one). */
static int parse_mtu(json_object *obj, uint32_t *out, kata_error_t *err)
{
	json_object *value = NULL;
	int64_t n;

	*out = 0;
	if (!json_object_object_get_ex(obj, "mtu", &value) || value == NULL)
		return 0;
	if (json_object_is_type(value, json_type_string)) {
		const char *s = json_object_get_string(value);
		size_t len = strlen(s);

		if (len == 0)
			return 0;
		if (len > 9 || strspn(s, "0123456789") != len)
			return kata_error_set(err, EINVAL, "mtu: `%s` is not a number", s);
		n = strtoll(s, NULL, 10);
	} else if (json_as_int64(value, "mtu", &n, err) < 0) {
		return -1;
	}
	if (n == 0)
		return 0;
	if (n < AGENT_NET_MIN_MTU || n > AGENT_NET_MAX_MTU)
		return kata_error_set(err, EINVAL, "mtu %lld out of range (%d-%d)", (long long)n,
		                      AGENT_NET_MIN_MTU, AGENT_NET_MAX_MTU);
	*out = (uint32_t)n;
	return 0;
}

static char *interface_label(size_t index, const char *name, const char *mac)
{
	if (name && mac)
		return xasprintf("interfaces[%zu] (%s, %s)", index, name, mac);
	if (name || mac)
		return xasprintf("interfaces[%zu] (%s)", index, name ? name : mac);
	return xasprintf("interfaces[%zu]", index);
}

static void add_address(struct agent_net_interface *iface, const struct agent_net_address *a)
{
	iface->addresses =
	        xrealloc(iface->addresses, (iface->n_addresses + 1) * sizeof(*iface->addresses));
	iface->addresses[iface->n_addresses++] = *a;
}

/* Everything but the identity keys; errors are wrapped with the label by the caller. */
static int parse_interface_body(json_object *obj, struct agent_net_interface *iface,
                                kata_error_t *err)
{
	json_object *list = NULL;
	struct agent_net_address a;
	bool has_ipv6 = false;
	int ret;

	if (parse_mtu(obj, &iface->mtu, err) < 0 ||
	    json_get_array(obj, "ipAddresses", "", false, &list, err) < 0)
		return -1;
	if (list != NULL && json_object_array_length(list) > AGENT_NET_MAX_ADDRESSES)
		return kata_error_set(err, E2BIG, "ipAddresses: more than %d addresses",
		                      AGENT_NET_MAX_ADDRESSES);
	for (size_t i = 0; list && i < json_object_array_length(list); i++) {
		json_object *item = json_object_array_get_idx(list, i);
		cleanup_free char *path = json_path_index("ipAddresses", i);

		if (json_check_type(item, json_type_object, path, err) < 0 ||
		    parse_address_pair(item, path, true, &a, err) < 0)
			return -1;
		add_address(iface, &a);
	}
	ret = parse_address_pair(obj, "", false, &a, err);
	if (ret < 0)
		return -1;
	if (ret > 0)
		add_address(iface, &a);
	for (size_t i = 0; i < iface->n_addresses; i++) {
		has_ipv6 |= iface->addresses[i].family == AF_INET6;
		for (size_t j = 0; j < i; j++)
			if (iface->addresses[j].family == iface->addresses[i].family &&
			    memcmp(iface->addresses[j].bytes, iface->addresses[i].bytes, 16) == 0) {
				char text[INET6_ADDRSTRLEN];

				return kata_error_set(err, EINVAL, "address %s given twice",
				                      agent_net_address_text(&iface->addresses[i],
				                                             text, sizeof(text)));
			}
	}
	if (has_ipv6 && iface->mtu != 0 && iface->mtu < AGENT_NET_MIN_MTU_IPV6)
		return kata_error_set(err, EINVAL, "mtu %u is below IPv6's minimum of %d",
		                      iface->mtu, AGENT_NET_MIN_MTU_IPV6);
	return 0;
}

static int parse_interface(json_object *obj, size_t index, struct agent_net_interface *iface,
                           kata_error_t *err)
{
	cleanup_free char *path = json_path_index("interfaces", index);
	cleanup_free char *mac = NULL;

	if (json_check_type(obj, json_type_object, path, err) < 0 ||
	    get_optional_string(obj, "device", path, &iface->device, err) < 0 ||
	    get_optional_string(obj, "newDeviceName", path, &iface->new_name, err) < 0 ||
	    get_optional_string(obj, "macAddr", path, &mac, err) < 0)
		return -1;
	iface->label =
	        interface_label(index, iface->new_name ? iface->new_name : iface->device, mac);
	if (iface->device && !agent_net_valid_name(iface->device))
		return kata_error_set(err, EINVAL, "%s: device: `%s` is not a valid interface name",
		                      iface->label, iface->device);
	if (iface->new_name && !agent_net_valid_name(iface->new_name))
		return kata_error_set(err, EINVAL,
		                      "%s: newDeviceName: `%s` is not a valid interface name",
		                      iface->label, iface->new_name);
	if (mac) {
		if (!agent_net_parse_mac(mac, iface->mac))
			return kata_error_set(err, EINVAL, "%s: macAddr: `%s` is not a MAC address",
			                      iface->label, mac);
		iface->has_mac = true;
	}
	if (!iface->has_mac && !iface->device)
		return kata_error_set(err, EINVAL, "%s: neither macAddr nor device is given",
		                      iface->label);
	if (parse_interface_body(obj, iface, err) < 0)
		return kata_error_wrap(err, "%s", iface->label);
	return 0;
}

/* The name an interface has once configured, when it is known in advance. */
static const char *final_name(const struct agent_net_interface *iface)
{
	return iface->new_name ? iface->new_name : iface->device;
}

static int check_interfaces_distinct(const struct agent_net_config *c, kata_error_t *err)
{
	for (size_t i = 0; i < c->n_interfaces; i++) {
		const struct agent_net_interface *a = &c->interfaces[i];

		for (size_t j = 0; j < i; j++) {
			const struct agent_net_interface *b = &c->interfaces[j];

			if (a->has_mac && b->has_mac && memcmp(a->mac, b->mac, sizeof(a->mac)) == 0)
				return kata_error_set(err, EINVAL, "%s: the same macAddr as %s",
				                      a->label, b->label);
			if (final_name(a) && final_name(b) &&
			    strcmp(final_name(a), final_name(b)) == 0)
				return kata_error_set(err, EINVAL, "%s: the same name as %s",
				                      a->label, b->label);
		}
	}
	return 0;
}

/* dest: "default" (also hyperstart's "any" and "all"), "ADDRESS/PREFIX", or an address
 * alone, which is a route to that one host. */
static int parse_destination(const char *text, struct agent_net_address *out, kata_error_t *err)
{
	cleanup_free char *copy = xstrdup(text);
	char *slash = strchr(copy, '/');

	memset(out, 0, sizeof(*out));
	if (strcmp(text, "default") == 0 || strcmp(text, "any") == 0 || strcmp(text, "all") == 0)
		return 0; /* the family comes from the gateway or the source, else IPv4 */
	if (slash)
		*slash = '\0';
	if (!parse_ip(copy, out))
		return kata_error_set(err, EINVAL, "dest: `%s` is not an address or a network",
		                      text);
	out->prefix_len = max_prefix(out->family);
	if (slash && prefix_from_text(slash + 1, out->family, &out->prefix_len) < 0)
		return kata_error_set(err, EINVAL, "dest: `%s`: invalid prefix length", text);
	if (has_host_bits(out))
		return kata_error_set(err, EINVAL,
		                      "dest: `%s` has bits set beyond its prefix length", text);
	return 0;
}

static int parse_route_address(const char *key, const char *text, struct agent_net_address *out,
                               bool *present, kata_error_t *err)
{
	*present = text != NULL;
	if (text && !parse_ip(text, out))
		return kata_error_set(err, EINVAL, "%s: `%s` is not an IPv4 or IPv6 address", key,
		                      text);
	return 0;
}

/* The strings of one route, read before anything is checked so that the label has them. */
struct route_text {
	char *dest;
	char *gateway;
	char *source;
};

static int parse_route_body(const struct route_text *t, struct agent_net_route *r,
                            kata_error_t *err)
{
	int family;

	if (parse_destination(t->dest, &r->dest, err) < 0 ||
	    parse_route_address("gateway", t->gateway, &r->gateway, &r->has_gateway, err) < 0 ||
	    parse_route_address("src", t->source, &r->source, &r->has_source, err) < 0)
		return -1;
	family = r->dest.family;
	if (family == 0)
		family = r->has_gateway  ? r->gateway.family
		         : r->has_source ? r->source.family
		                         : AF_INET;
	if ((r->has_gateway && r->gateway.family != family) ||
	    (r->has_source && r->source.family != family))
		return kata_error_set(err, EINVAL, "dest, gateway and src are not all %s",
		                      family == AF_INET ? "IPv4" : "IPv6");
	r->dest.family = family;
	if (r->has_gateway && (is_unspecified(&r->gateway) || is_multicast(&r->gateway)))
		return kata_error_set(err, EINVAL, "gateway: `%s` is not a unicast address",
		                      t->gateway);
	if (r->device && !agent_net_valid_name(r->device))
		return kata_error_set(err, EINVAL, "device: `%s` is not a valid interface name",
		                      r->device);
	if (!r->has_gateway && !r->device)
		return kata_error_set(err, EINVAL, "neither gateway nor device is given");
	return 0;
}

static int parse_route(json_object *obj, size_t index, struct agent_net_route *r, kata_error_t *err)
{
	cleanup_free char *path = json_path_index("routes", index);
	struct route_text t = { NULL, NULL, NULL };
	int ret = -1;

	if (json_check_type(obj, json_type_object, path, err) < 0 ||
	    json_get_string(obj, "dest", path, true, &t.dest, err) < 0 ||
	    get_optional_string(obj, "gateway", path, &t.gateway, err) < 0 ||
	    get_optional_string(obj, "src", path, &t.source, err) < 0 ||
	    get_optional_string(obj, "device", path, &r->device, err) < 0)
		goto out;
	r->label = xasprintf("%s (%s%s%s%s%s)", path, t.dest, t.gateway ? " via " : "",
	                     t.gateway ? t.gateway : "", r->device ? " dev " : "",
	                     r->device ? r->device : "");
	if (parse_route_body(&t, r, err) < 0) {
		kata_error_wrap(err, "%s", r->label);
		goto out;
	}
	ret = 0;
out:
	free(t.dest);
	free(t.gateway);
	free(t.source);
	return ret;
}

int agent_parse_network(json_object *req, struct agent_net_config *out, kata_error_t *err)
{
	json_object *interfaces = NULL;
	json_object *routes = NULL;

	memset(out, 0, sizeof(*out));
	if (json_get_array(req, "interfaces", "", false, &interfaces, err) < 0 ||
	    json_get_array(req, "routes", "", false, &routes, err) < 0)
		return -1;
	if (interfaces && json_object_array_length(interfaces) > AGENT_NET_MAX_INTERFACES)
		return kata_error_set(err, E2BIG, "interfaces: more than %d",
		                      AGENT_NET_MAX_INTERFACES);
	if (routes && json_object_array_length(routes) > AGENT_NET_MAX_ROUTES)
		return kata_error_set(err, E2BIG, "routes: more than %d", AGENT_NET_MAX_ROUTES);
	if (interfaces) {
		out->n_interfaces = json_object_array_length(interfaces);
		out->interfaces = xcalloc(out->n_interfaces + 1, sizeof(*out->interfaces));
		for (size_t i = 0; i < out->n_interfaces; i++)
			if (parse_interface(json_object_array_get_idx(interfaces, i), i,
			                    &out->interfaces[i], err) < 0)
				goto fail;
		if (check_interfaces_distinct(out, err) < 0)
			goto fail;
	}
	if (routes) {
		out->n_routes = json_object_array_length(routes);
		out->routes = xcalloc(out->n_routes + 1, sizeof(*out->routes));
		for (size_t i = 0; i < out->n_routes; i++)
			if (parse_route(json_object_array_get_idx(routes, i), i, &out->routes[i],
			                err) < 0)
				goto fail;
	}
	return 0;
fail:
	agent_net_config_clear(out);
	return -1;
}

void agent_net_config_clear(struct agent_net_config *c)
{
	for (size_t i = 0; c->interfaces && i < c->n_interfaces; i++) {
		free(c->interfaces[i].label);
		free(c->interfaces[i].device);
		free(c->interfaces[i].new_name);
		free(c->interfaces[i].addresses);
	}
	for (size_t i = 0; c->routes && i < c->n_routes; i++) {
		free(c->routes[i].label);
		free(c->routes[i].device);
	}
	free(c->interfaces);
	free(c->routes);
	memset(c, 0, sizeof(*c));
}

int agent_parse_setup_interface(json_object *req, struct agent_net_config *out, kata_error_t *err)
{
	memset(out, 0, sizeof(*out));
	out->interfaces = xcalloc(1, sizeof(*out->interfaces));
	out->n_interfaces = 1;
	if (parse_interface(req, 0, &out->interfaces[0], err) < 0)
		goto fail;
	/* hyperstart's reading: the device named takes the MAC */
	out->interfaces[0].set_mac = out->interfaces[0].has_mac && out->interfaces[0].device;
	return 0;
fail:
	agent_net_config_clear(out);
	return -1;
}

int agent_parse_setup_route(json_object *req, struct agent_net_config *out, kata_error_t *err)
{
	if (json_object_object_get_ex(req, "interfaces", NULL)) {
		memset(out, 0, sizeof(*out));
		return kata_error_set(err, EINVAL, "interfaces: not taken here (SETUPINTERFACE)");
	}
	return agent_parse_network(req, out, err);
}
