/* The parts of the network plumbing (network.c) that the standby NIC (network_standby.c)
 * shares: what a namespace holds, the checks an interface must pass to be carried, the
 * guest's view of it, and the tc join of an interface to its tap. */
#ifndef KATA_CLI_NETWORK_VIEW_H
#define KATA_CLI_NETWORK_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

#include "error.h"
#include "network.h"
#include "network_netlink.h"

/* One interface of the namespace carried into the VM. */
struct endpoint {
	struct nl_link link;
	char tap[IFNAMSIZ];
};

/* What the namespace holds, as read at create. */
struct netns_view {
	struct nl_link *links;
	size_t n_links;
	struct nl_addr *addrs;
	size_t n_addrs;
	struct nl_route *routes;
	size_t n_routes;
	struct endpoint endpoints[NETWORK_MAX_INTERFACES];
	size_t n_endpoints;
	bool macvtap; /* the model: macvtap, or tcfilter */
};

/* Reads the current namespace's links, addresses and routes into view (no endpoints). */
int netns_view_read(struct mnl_socket *nl, struct netns_view *view, kata_error_t *err);
void netns_view_clear(struct netns_view *view);

/* 1: link is to be carried into the VM; 0: it is skipped (lo, a tunnel device that is down);
 * -1: it cannot be, err naming it. */
int network_endpoint_check(struct mnl_socket *nl, const struct nl_link *link, bool macvtap,
                           kata_error_t *err);

/* The guest's view of an interface (STARTPOD's `interfaces` entry) and of the namespace's
 * routes through the carried interfaces (STARTPOD's `routes`). */
json_object *network_interface_json(const struct netns_view *view, const struct endpoint *ep);
json_object *network_routes_json(const struct netns_view *view);

/* Joins ep's interface to its tap (which exists, in the current namespace): the tap's MTU,
 * an ingress qdisc on each, a mirred redirect each way. */
int network_join_tap(struct mnl_socket *nl, const struct endpoint *ep, kata_error_t *err);

#endif
