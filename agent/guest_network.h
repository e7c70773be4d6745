/* The guest's network, as STARTPOD describes it with hyperstart's "interfaces" and
 * "routes" keys (docs/agent-protocol.md). guest_network_parse.c reads and validates them (pure
 * code, unit-tested and fuzzed); guest_network.c applies them with netlink (libnl-route) before
 * any container starts. Every message names the interface or route it is about. */
#ifndef KATA_AGENT_GUEST_NETWORK_H
#define KATA_AGENT_GUEST_NETWORK_H

#include "error.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on what one STARTPOD may ask for. */
#define AGENT_NET_MAX_INTERFACES 32
#define AGENT_NET_MAX_ADDRESSES  64 /* per interface */
#define AGENT_NET_MAX_ROUTES     256
/* MTU accepted for an interface: IPv4's minimum up to what virtio-net carries. IPv6 needs
 * 1280 (the kernel turns IPv6 off on a smaller link). */
#define AGENT_NET_MIN_MTU      68
#define AGENT_NET_MIN_MTU_IPV6 1280
#define AGENT_NET_MAX_MTU      65535
#define AGENT_NET_MAC_LEN      6
/* How long STARTPOD waits for a device named by MAC to appear (a NIC hot-plugged after the
 * VM started: the libvirt backend, a clone of a template), polling every ..._POLL_MS. */
#define AGENT_NET_HOTPLUG_WAIT_MS 5000
#define AGENT_NET_HOTPLUG_POLL_MS 50
/* IFNAMSIZ - 1 */
#define AGENT_NET_MAX_NAME_LEN 15

/* An IPv4 or IPv6 address with its prefix length. */
struct agent_net_address {
	int family; /* AF_INET or AF_INET6 */
	unsigned char bytes[16];
	unsigned prefix_len;
};

struct agent_net_interface {
	char *label;    /* "interfaces[0] (eth0, 02:42:ac:11:00:02)", for messages */
	char *device;   /* its name in the guest as the host knows it; NULL: find by MAC */
	char *new_name; /* the name it must get; NULL: keep it */
	bool has_mac;
	/* mac is the address to give the device named `device`, not the one to find it by
	 * (SETUPINTERFACE with a device, as hyperstart reads it) */
	bool set_mac;
	unsigned char mac[AGENT_NET_MAC_LEN];
	uint32_t mtu; /* 0: leave it */
	struct agent_net_address *addresses;
	size_t n_addresses;
};

struct agent_net_route {
	char *label;                   /* "routes[1] (10.1.0.0/16 via 10.88.0.1 dev eth0)" */
	struct agent_net_address dest; /* prefix_len 0: the default route */
	bool has_gateway;
	struct agent_net_address gateway; /* prefix_len unused */
	bool has_source;
	struct agent_net_address source; /* preferred source address ("src") */
	char *device;                    /* the interface's final name in the guest; NULL: any */
};

struct agent_net_config {
	struct agent_net_interface *interfaces;
	size_t n_interfaces;
	struct agent_net_route *routes;
	size_t n_routes;
};

/* --- guest_network_parse.c: pure ------------------------------------------------------------ */

/* Reads req["interfaces"] and req["routes"] (both optional) into out, validated: names,
 * MAC addresses, addresses and prefixes, MTUs, route families. */
int agent_parse_network(json_object *req, struct agent_net_config *out, kata_error_t *err);
void agent_net_config_clear(struct agent_net_config *c);

/* SETUPINTERFACE's payload, one interface in STARTPOD's shape, into out as its only
 * interface: with `device`, the guest's device of that name gets `macAddr` (hyperstart's
 * reading); without, the device is found by `macAddr` (or is a free standby NIC) as in
 * STARTPOD. */
int agent_parse_setup_interface(json_object *req, struct agent_net_config *out, kata_error_t *err);
/* SETUPROUTE's payload, {"routes": [...]} as in STARTPOD (no "interfaces"). */
int agent_parse_setup_route(json_object *req, struct agent_net_config *out, kata_error_t *err);

/* "02:42:ac:11:00:02" (either case) into 6 bytes. */
bool agent_net_parse_mac(const char *text, unsigned char mac[AGENT_NET_MAC_LEN]);
/* A name the kernel accepts for a network device (1-15 bytes, no '/', ':' or space). */
bool agent_net_valid_name(const char *name);
/* The address in text form ("10.88.0.5", "fd00::5"); buf holds at least 46 bytes. */
const char *agent_net_address_text(const struct agent_net_address *a, char *buf, size_t size);

/* --- guest_network.c: netlink ------------------------------------------------------------------ */

/* Brings the loopback device of the current network namespace up (127.0.0.1, ::1). */
int agent_network_loopback_up(kata_error_t *err);
/* Finds every interface (by MAC, else by name; a MAC not there yet is waited for, at most
 * AGENT_NET_HOTPLUG_WAIT_MS), renames it, sets its MTU, adds its
 * addresses (IPv6 without duplicate address detection), brings it up; then adds the
 * routes. Nothing is changed when an interface cannot be found. */
int agent_network_apply(const struct agent_net_config *c, kata_error_t *err);

#endif
