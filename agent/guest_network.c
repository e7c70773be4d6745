/* Applies STARTPOD's interfaces and routes with rtnetlink, through libnl-route (Debian
 * ships it as a static library; the agent is fully static). No `ip` child processes. */
#include "guest_network.h"

#include "agent_proto.h"
#include "cleanup.h"
#include "fd_util.h"
#include "log.h"

#include <errno.h>
#include <linux/if_arp.h>
#include <linux/if.h>
#include <netlink/netlink.h>
#include <netlink/route/addr.h>
#include <netlink/route/link.h>
#include <netlink/route/nexthop.h>
#include <netlink/route/route.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

static void cleanup_nl_sock_fn(struct nl_sock **sk)
{
	if (*sk)
		nl_socket_free(*sk);
}
static void cleanup_nl_cache_fn(struct nl_cache **cache)
{
	if (*cache)
		nl_cache_free(*cache);
}
static void cleanup_nl_addr_fn(struct nl_addr **addr)
{
	if (*addr)
		nl_addr_put(*addr);
}
static void cleanup_rtnl_link_fn(struct rtnl_link **link)
{
	if (*link)
		rtnl_link_put(*link);
}
static void cleanup_rtnl_addr_fn(struct rtnl_addr **addr)
{
	if (*addr)
		rtnl_addr_put(*addr);
}
static void cleanup_rtnl_route_fn(struct rtnl_route **route)
{
	if (*route)
		rtnl_route_put(*route);
}
#define cleanup_nl_sock    __attribute__((cleanup(cleanup_nl_sock_fn)))
#define cleanup_nl_cache   __attribute__((cleanup(cleanup_nl_cache_fn)))
#define cleanup_nl_addr    __attribute__((cleanup(cleanup_nl_addr_fn)))
#define cleanup_rtnl_link  __attribute__((cleanup(cleanup_rtnl_link_fn)))
#define cleanup_rtnl_addr  __attribute__((cleanup(cleanup_rtnl_addr_fn)))
#define cleanup_rtnl_route __attribute__((cleanup(cleanup_rtnl_route_fn)))

/* libnl answers with its own negative NLE_* codes; their text says what the kernel said. */
static int nl_error(kata_error_t *err, int nlerr, const char *what)
{
	return kata_error_set(err, EIO, "%s: %s", what, nl_geterror(nlerr));
}

static struct nl_sock *rtnl_open(kata_error_t *err)
{
	struct nl_sock *sk = nl_socket_alloc();
	int ret;

	if (sk == NULL) {
		kata_error_set(err, ENOMEM, "allocate a netlink socket");
		return NULL;
	}
	ret = nl_connect(sk, NETLINK_ROUTE);
	if (ret < 0) {
		nl_socket_free(sk);
		nl_error(err, ret, "connect to rtnetlink");
		return NULL;
	}
	return sk;
}

static struct nl_addr *nl_address(const struct agent_net_address *a, unsigned prefix_len)
{
	struct nl_addr *addr = nl_addr_build(a->family, a->bytes, a->family == AF_INET ? 4 : 16);

	if (addr == NULL)
		abort(); /* out of memory, as the x*alloc functions */
	nl_addr_set_prefixlen(addr, (int)prefix_len);
	return addr;
}

/* One RTM_NEWLINK on ifindex: flags to set and clear, a new name, an MTU. */
static int link_change(struct nl_sock *sk, int ifindex, unsigned up, unsigned down,
                       const char *name, uint32_t mtu, const char *what, kata_error_t *err)
{
	cleanup_rtnl_link struct rtnl_link *orig = rtnl_link_alloc();
	cleanup_rtnl_link struct rtnl_link *change = rtnl_link_alloc();
	int ret;

	if (orig == NULL || change == NULL)
		abort();
	rtnl_link_set_ifindex(orig, ifindex);
	if (up)
		rtnl_link_set_flags(change, up);
	if (down)
		rtnl_link_unset_flags(change, down);
	if (name)
		rtnl_link_set_name(change, name);
	if (mtu)
		rtnl_link_set_mtu(change, mtu);
	ret = rtnl_link_change(sk, orig, change, 0);
	return ret < 0 ? nl_error(err, ret, what) : 0;
}

/* The index of the device named name, asked of the kernel (RTM_GETLINK). */
static int link_index(struct nl_sock *sk, const char *name, int *ifindex, kata_error_t *err)
{
	cleanup_rtnl_link struct rtnl_link *link = NULL;
	int ret = rtnl_link_get_kernel(sk, 0, name, &link);

	if (ret == -NLE_OBJ_NOTFOUND || ret == -NLE_NODEV)
		return kata_error_set(err, ENODEV, "no network device named %s", name);
	if (ret < 0) {
		cleanup_free char *what = xasprintf("look up the device %s", name);

		return nl_error(err, ret, what);
	}
	*ifindex = rtnl_link_get_ifindex(link);
	return 0;
}

static int loopback_up(struct nl_sock *sk, kata_error_t *err)
{
	int ifindex;

	if (link_index(sk, "lo", &ifindex, err) < 0)
		return -1;
	return link_change(sk, ifindex, IFF_UP, 0, NULL, 0, "bring lo up", err);
}

int agent_network_loopback_up(kata_error_t *err)
{
	cleanup_nl_sock struct nl_sock *sk = rtnl_open(err);

	return sk ? loopback_up(sk, err) : -1;
}

/* --- finding the devices --------------------------------------------------------------- */

struct found_link {
	int ifindex;
	char name[IFNAMSIZ];
	unsigned flags;
	bool give_mac; /* a standby NIC taken for the interface: it gets the interface's MAC */
};

static bool link_has_mac(struct rtnl_link *link, const unsigned char *mac)
{
	struct nl_addr *addr = rtnl_link_get_addr(link);

	return addr && nl_addr_get_len(addr) == AGENT_NET_MAC_LEN &&
	       memcmp(nl_addr_get_binary_addr(addr), mac, AGENT_NET_MAC_LEN) == 0;
}

/* "eth0 52:54:00:12:34:56, lo": what the guest has, for an error message. */
static char *describe_links(struct nl_cache *cache)
{
	cleanup_free char *text = xstrdup("");

	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *link = (struct rtnl_link *)o;
		struct nl_addr *addr = rtnl_link_get_addr(link);
		char mac[64] = "";
		char *next;

		if (addr && nl_addr_get_len(addr) == AGENT_NET_MAC_LEN)
			nl_addr2str(addr, mac, sizeof(mac));
		next = xasprintf("%s%s%s%s%s", text, text[0] ? ", " : "", rtnl_link_get_name(link),
		                 mac[0] ? " " : "", mac);
		free(text);
		text = next;
	}
	return steal_pointer(&text);
}

/* A standby NIC (AGENT_STANDBY_NIC_MAC) that none of the interfaces before this one took. */
static struct rtnl_link *free_standby(struct nl_cache *cache, const struct found_link *taken,
                                      size_t n_taken)
{
	unsigned char standby[AGENT_NET_MAC_LEN];

	if (!agent_net_parse_mac(AGENT_STANDBY_NIC_MAC, standby))
		abort();
	for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
		struct rtnl_link *link = (struct rtnl_link *)o;
		bool used = false;

		if (!link_has_mac(link, standby))
			continue;
		for (size_t i = 0; i < n_taken; i++)
			used = used || taken[i].ifindex == rtnl_link_get_ifindex(link);
		if (!used)
			return link;
	}
	return NULL;
}

/* The device of iface: by name when the host named it and did not ask to find it by MAC;
 * else by MAC, or a free standby NIC when no device has that MAC. taken: the devices of the
 * interfaces before it. */
static int find_link(struct nl_cache *cache, const struct agent_net_interface *iface,
                     const struct found_link *taken, size_t n_taken, struct found_link *out,
                     kata_error_t *err)
{
	struct rtnl_link *match = NULL;

	out->give_mac = iface->set_mac;
	if (iface->has_mac && !iface->set_mac) {
		for (struct nl_object *o = nl_cache_get_first(cache); o; o = nl_cache_get_next(o)) {
			if (!link_has_mac((struct rtnl_link *)o, iface->mac))
				continue;
			if (match)
				return kata_error_set(
				        err, EEXIST,
				        "%s: more than one device has this MAC address",
				        iface->label);
			match = (struct rtnl_link *)o;
		}
		if (match == NULL) {
			match = free_standby(cache, taken, n_taken);
			out->give_mac = match != NULL;
		}
	} else {
		match = rtnl_link_get_by_name(cache, iface->device);
		if (match)
			rtnl_link_put(match); /* the cache keeps its reference */
	}
	if (match == NULL) {
		cleanup_free char *have = describe_links(cache);

		return kata_error_set(
		        err, ENODEV, "%s: no network device with this %s (the guest has: %s)",
		        iface->label, iface->has_mac && !iface->set_mac ? "MAC address" : "name",
		        have);
	}
	if (rtnl_link_get_arptype(match) != ARPHRD_ETHER)
		return kata_error_set(err, EINVAL, "%s: %s is not an Ethernet device", iface->label,
		                      rtnl_link_get_name(match));
	out->ifindex = rtnl_link_get_ifindex(match);
	snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(match));
	out->flags = rtnl_link_get_flags(match);
	return 0;
}

static int find_links(struct nl_sock *sk, const struct agent_net_config *c,
                      struct found_link *links, bool *name_taken, kata_error_t *err)
{
	cleanup_nl_cache struct nl_cache *cache = NULL;
	int ret = rtnl_link_alloc_cache(sk, AF_UNSPEC, &cache);

	if (ret < 0)
		return nl_error(err, ret, "list the network devices");
	for (size_t i = 0; i < c->n_interfaces; i++) {
		const struct agent_net_interface *iface = &c->interfaces[i];

		if (find_link(cache, iface, links, i, &links[i], err) < 0)
			return -1;
		for (size_t j = 0; j < i; j++)
			if (links[j].ifindex == links[i].ifindex)
				return kata_error_set(err, EINVAL, "%s: the same device as %s (%s)",
				                      iface->label, c->interfaces[j].label,
				                      links[i].name);
		if (iface->new_name) {
			struct rtnl_link *other = rtnl_link_get_by_name(cache, iface->new_name);

			name_taken[i] = other && rtnl_link_get_ifindex(other) != links[i].ifindex;
			if (other)
				rtnl_link_put(other); /* the lookup took a reference */
		}
	}
	return 0;
}

static bool any_by_mac(const struct agent_net_config *c)
{
	for (size_t i = 0; i < c->n_interfaces; i++)
		if (c->interfaces[i].has_mac && !c->interfaces[i].set_mac)
			return true;
	return false;
}

/* find_links, again and again while a device is missing, for at most
 * AGENT_NET_HOTPLUG_WAIT_MS: a NIC hot-plugged after the VM started (the libvirt backend, a
 * clone of a template, a standby NIC) appears once the guest kernel has taken the PCI
 * hot-plug event. Only when some interface is found by MAC: a name the host chose is there
 * from the start. */
static int find_links_waiting(struct nl_sock *sk, const struct agent_net_config *c,
                              struct found_link *links, bool *name_taken, kata_error_t *err)
{
	int64_t start = now_ms();
	bool waited = false;

	for (;;) {
		cleanup_error kata_error_t missing = NULL;

		if (find_links(sk, c, links, name_taken, &missing) == 0) {
			if (waited)
				log_info("network devices there after waiting %lld ms",
				         (long long)(now_ms() - start));
			return 0;
		}
		if (missing->errno_value != ENODEV || !any_by_mac(c) ||
		    now_ms() - start >= AGENT_NET_HOTPLUG_WAIT_MS) {
			kata_error_move(err, &missing);
			return waited ? kata_error_wrap(err,
			                                "after waiting %d ms for hot-plugged "
			                                "devices",
			                                AGENT_NET_HOTPLUG_WAIT_MS)
			              : -1;
		}
		waited = true;
		nanosleep(&(struct timespec){ .tv_nsec = AGENT_NET_HOTPLUG_POLL_MS * 1000000L },
		          NULL);
	}
}

/* --- configuring them ------------------------------------------------------------------ */

/* The MAC addresses given to devices (SETUPINTERFACE's, a standby NIC's), each device down
 * while it changes. */
static int set_macs(struct nl_sock *sk, const struct agent_net_config *c, struct found_link *links,
                    kata_error_t *err)
{
	for (size_t i = 0; i < c->n_interfaces; i++) {
		const struct agent_net_interface *iface = &c->interfaces[i];
		cleanup_rtnl_link struct rtnl_link *orig = rtnl_link_alloc();
		cleanup_rtnl_link struct rtnl_link *change = rtnl_link_alloc();
		cleanup_nl_addr struct nl_addr *mac = NULL;
		int ret;

		if (!links[i].give_mac)
			continue;
		if ((links[i].flags & IFF_UP) &&
		    link_change(sk, links[i].ifindex, 0, IFF_UP, NULL, 0, "bring it down", err) < 0)
			return kata_error_wrap(err, "%s", iface->label);
		links[i].flags &= ~(unsigned)IFF_UP;
		mac = nl_addr_build(AF_LLC, iface->mac, AGENT_NET_MAC_LEN);
		if (orig == NULL || change == NULL || mac == NULL)
			abort();
		rtnl_link_set_ifindex(orig, links[i].ifindex);
		rtnl_link_set_addr(change, mac);
		ret = rtnl_link_change(sk, orig, change, 0);
		if (ret < 0) {
			nl_error(err, ret, "set the MAC address");
			return kata_error_wrap(err, "%s", iface->label);
		}
	}
	return 0;
}

static bool needs_rename(const struct agent_net_interface *iface, const struct found_link *link)
{
	return iface->new_name && strcmp(iface->new_name, link->name) != 0;
}

/* Names first, in two steps when a wanted name is held by another of the devices (the
 * guest's eth0 is to become eth1 and its eth1 eth0): renaming needs the device down. */
static int rename_links(struct nl_sock *sk, const struct agent_net_config *c,
                        struct found_link *links, const bool *name_taken, kata_error_t *err)
{
	for (size_t i = 0; i < c->n_interfaces; i++) {
		char temporary[IFNAMSIZ];

		if (!needs_rename(&c->interfaces[i], &links[i]))
			continue;
		if ((links[i].flags & IFF_UP) &&
		    link_change(sk, links[i].ifindex, 0, IFF_UP, NULL, 0, "bring it down", err) < 0)
			return kata_error_wrap(err, "%s", c->interfaces[i].label);
		links[i].flags &= ~(unsigned)IFF_UP;
		if (!name_taken[i])
			continue;
		snprintf(temporary, sizeof(temporary), "katanet%u",
		         (unsigned)(i % AGENT_NET_MAX_INTERFACES));
		if (link_change(sk, links[i].ifindex, 0, 0, temporary, 0, "rename", err) < 0)
			return kata_error_wrap(err, "%s", c->interfaces[i].label);
	}
	for (size_t i = 0; i < c->n_interfaces; i++) {
		const struct agent_net_interface *iface = &c->interfaces[i];
		cleanup_free char *what = NULL;

		if (!needs_rename(iface, &links[i]))
			continue;
		what = xasprintf("rename %s to %s", links[i].name, iface->new_name);
		if (link_change(sk, links[i].ifindex, 0, 0, iface->new_name, 0, what, err) < 0)
			return kata_error_wrap(err, "%s", iface->label);
		snprintf(links[i].name, sizeof(links[i].name), "%s", iface->new_name);
	}
	return 0;
}

static int add_address(struct nl_sock *sk, int ifindex, const struct agent_net_address *a,
                       kata_error_t *err)
{
	cleanup_rtnl_addr struct rtnl_addr *addr = rtnl_addr_alloc();
	cleanup_nl_addr struct nl_addr *local = nl_address(a, a->prefix_len);
	cleanup_nl_addr struct nl_addr *broadcast = NULL;
	char text[INET6_ADDRSTRLEN];
	cleanup_free char *what = NULL;
	int ret;

	if (addr == NULL)
		abort();
	rtnl_addr_set_ifindex(addr, ifindex);
	if (rtnl_addr_set_local(addr, local) < 0)
		abort();
	rtnl_addr_set_prefixlen(addr, (int)a->prefix_len);
	if (a->family == AF_INET6) {
		/* Usable at once: no duplicate address detection (the engine gave it out). */
		rtnl_addr_set_flags(addr, IFA_F_NODAD);
	} else if (a->prefix_len <= 30) {
		/* The broadcast address of the network, as the engines' own set-up gives. */
		struct agent_net_address b = *a;

		for (unsigned bit = a->prefix_len; bit < 32; bit++)
			b.bytes[bit / 8] |= (unsigned char)(0x80 >> (bit % 8));
		broadcast = nl_address(&b, 32);
		rtnl_addr_set_broadcast(addr, broadcast);
	}
	ret = rtnl_addr_add(sk, addr, NLM_F_REPLACE);
	if (ret == 0)
		return 0;
	what = xasprintf("add address %s/%u", agent_net_address_text(a, text, sizeof(text)),
	                 a->prefix_len);
	return nl_error(err, ret, what);
}

static int configure_link(struct nl_sock *sk, const struct agent_net_interface *iface,
                          const struct found_link *link, kata_error_t *err)
{
	if (iface->mtu &&
	    link_change(sk, link->ifindex, 0, 0, NULL, iface->mtu, "set the MTU", err) < 0)
		return -1;
	for (size_t i = 0; i < iface->n_addresses; i++)
		if (add_address(sk, link->ifindex, &iface->addresses[i], err) < 0)
			return -1;
	return link_change(sk, link->ifindex, IFF_UP, 0, NULL, 0, "bring it up", err);
}

static int add_route(struct nl_sock *sk, const struct agent_net_route *r, kata_error_t *err)
{
	cleanup_rtnl_route struct rtnl_route *route = rtnl_route_alloc();
	cleanup_nl_addr struct nl_addr *dest = nl_address(&r->dest, r->dest.prefix_len);
	struct rtnl_nexthop *nh;
	int ifindex = 0;
	int ret;

	if (r->device && link_index(sk, r->device, &ifindex, err) < 0)
		return -1;
	nh = rtnl_route_nh_alloc();
	if (route == NULL || nh == NULL)
		abort();
	if (ifindex)
		rtnl_route_nh_set_ifindex(nh, ifindex);
	if (r->has_gateway) {
		cleanup_nl_addr struct nl_addr *gateway = nl_address(&r->gateway, 0);

		rtnl_route_nh_set_gateway(nh, gateway); /* takes its own reference */
	}
	rtnl_route_add_nexthop(route, nh); /* the route owns nh from here */
	rtnl_route_set_family(route, (uint8_t)r->dest.family);
	rtnl_route_set_table(route, RT_TABLE_MAIN);
	rtnl_route_set_protocol(route, RTPROT_BOOT);
	rtnl_route_set_type(route, RTN_UNICAST);
	/* An IPv4 route without a gateway is on the link; IPv6 routes are all universal. */
	rtnl_route_set_scope(route, r->dest.family == AF_INET && !r->has_gateway
	                                    ? RT_SCOPE_LINK
	                                    : RT_SCOPE_UNIVERSE);
	if (rtnl_route_set_dst(route, dest) < 0)
		return kata_error_set(err, EINVAL, "dest does not fit the route's family");
	if (r->has_source) {
		cleanup_nl_addr struct nl_addr *source = nl_address(&r->source, 0);

		if (rtnl_route_set_pref_src(route, source) < 0)
			return kata_error_set(err, EINVAL, "src does not fit the route's family");
	}
	/* Replace: a route the kernel made for an address's own network may be sent too. */
	ret = rtnl_route_add(sk, route, NLM_F_REPLACE);
	return ret < 0 ? nl_error(err, ret, "add the route") : 0;
}

int agent_network_apply(const struct agent_net_config *c, kata_error_t *err)
{
	cleanup_nl_sock struct nl_sock *sk = NULL;
	cleanup_free struct found_link *links = NULL;
	cleanup_free bool *name_taken = NULL;

	/* lo came up with the agent (run.c): a pod without a network needs no netlink at all,
	 * which a clone would pay for in translated guest code (docs/templating.md) */
	if (c->n_interfaces == 0 && c->n_routes == 0)
		return 0;
	sk = rtnl_open(err);
	if (sk == NULL || loopback_up(sk, err) < 0)
		return -1;
	links = xcalloc(c->n_interfaces + 1, sizeof(*links));
	name_taken = xcalloc(c->n_interfaces + 1, sizeof(*name_taken));
	/* Every device is found before anything is changed. */
	if (find_links_waiting(sk, c, links, name_taken, err) < 0 ||
	    set_macs(sk, c, links, err) < 0 || rename_links(sk, c, links, name_taken, err) < 0)
		return -1;
	for (size_t i = 0; i < c->n_interfaces; i++) {
		if (configure_link(sk, &c->interfaces[i], &links[i], err) < 0)
			return kata_error_wrap(err, "%s", c->interfaces[i].label);
		log_info("%s: %s is up (mtu %u, %zu addresses)", c->interfaces[i].label,
		         links[i].name, c->interfaces[i].mtu, c->interfaces[i].n_addresses);
	}
	for (size_t i = 0; i < c->n_routes; i++)
		if (add_route(sk, &c->routes[i], err) < 0)
			return kata_error_wrap(err, "%s", c->routes[i].label);
	return 0;
}
