/* The standby NIC (network.h, docs/network.md "Standby NIC"): a network that an engine puts in
 * the container's namespace after create, as containerd's `ctr run --cni` does, still reaches
 * the VM, which booted at create: create gave it a NIC on a tap of its own, and start joins
 * the new interface to that tap and has the agent configure the NIC. */
#include <net/if.h> /* before the linux/ headers */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>

#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "network.h"
#include "network_netlink.h"
#include "network_view.h"

/* Where containerd's shims keep a task's bundle: .../DIR/NAMESPACE/ID. */
static bool is_containerd_task(const char *bundle)
{
	return bundle != NULL && (strstr(bundle, "/io.containerd.runtime.v2.task/") != NULL ||
	                          strstr(bundle, "/io.containerd.runtime.v1.linux/") != NULL);
}

static bool has_runtime_hooks(const struct oci_spec *spec)
{
	return spec->hooks != NULL && (spec->hooks->lists[OCI_HOOK_PRESTART].n_hooks > 0 ||
	                               spec->hooks->lists[OCI_HOOK_CREATE_RUNTIME].n_hooks > 0);
}

bool network_wants_standby(const struct kata_config *config, const struct oci_spec *spec,
                           const char *bundle, json_object *netns_record)
{
	const char *model = config->runtime.internetworking_model;

	/* SETUPINTERFACE as this project's agent reads it (docs/agent-protocol.md) */
	return netns_record == NULL && config->agent.dialect == KATA_DIALECT_KATA &&
	       network_wants_own_netns(config, spec) && strcmp(model, "tcfilter") == 0 &&
	       !has_runtime_hooks(spec) && is_containerd_task(bundle);
}

static json_object *standby_record(const char *netns, const char *tap)
{
	json_object *rec = json_object_new_object();
	json_object *endpoints = json_object_new_array();
	json_object *endpoint = json_object_new_object();

	json_add_string(rec, "model", "tcfilter");
	json_add_string(rec, "netns", netns);
	/* no device yet: teardown removes the tap alone */
	json_add_string(endpoint, "tap", tap);
	json_object_object_add(endpoint, "standby", json_object_new_boolean(1));
	json_object_array_add(endpoints, endpoint);
	json_object_object_add(rec, "endpoints", endpoints);
	json_object_object_add(rec, "interfaces", json_object_new_array());
	json_object_object_add(rec, "routes", json_object_new_array());
	return rec;
}

int network_standby_setup(const char *netns, json_object **record,
                          const struct network_checkpoint *cp, struct network_nics *nics,
                          kata_error_t *err)
{
	char tap[IFNAMSIZ];
	int saved = -1;
	int fd;

	snprintf(tap, sizeof(tap), NETWORK_TAP_FORMAT, (size_t)0);
	if (netns_enter(netns, &saved, err) < 0)
		return kata_error_wrap(err, "network");
	*record = standby_record(netns, tap);
	if (cp != NULL && cp->save != NULL)
		cp->save(cp->opaque); /* delete --force must know the tap before it exists */
	/* Left down: nothing is joined to it yet, and the guest leaves its NIC down. */
	fd = network_tap_open(tap, err);
	if (netns_return(&saved, fd < 0 ? NULL : err) < 0) {
		if (fd >= 0)
			close(fd);
		fd = -1;
	}
	if (fd < 0)
		return kata_error_wrap(err, "network namespace `%s`: standby tap", netns);
	nics->nics[0].tap_fd = fd;
	snprintf(nics->nics[0].mac, sizeof(nics->nics[0].mac), "%s", NETWORK_STANDBY_MAC);
	nics->nics[0].mtu = 1500;
	nics->n = 1;
	return 0;
}

void network_late_clear(struct network_late *late)
{
	json_object_put(late->setup_interface);
	json_object_put(late->setup_route);
	late->setup_interface = late->setup_route = NULL;
}

/* --- at start ------------------------------------------------------------------------- */

/* The record's endpoint whose key is the string name (name NULL: whose key is there). */
static json_object *recorded_endpoint(json_object *record, const char *key, const char *name)
{
	json_object *endpoints = NULL;
	size_t n;

	if (record == NULL || !json_object_object_get_ex(record, "endpoints", &endpoints) ||
	    !json_object_is_type(endpoints, json_type_array))
		return NULL;
	n = json_object_array_length(endpoints);
	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(endpoints, i), *v = NULL;

		if (json_object_object_get_ex(e, key, &v) &&
		    (name == NULL || strcmp(json_object_get_string(v), name) == 0))
			return e;
	}
	return NULL;
}

/* The first two interfaces that appeared since create (NULL: fewer). */
static void find_late_interfaces(const struct netns_view *view, json_object *record,
                                 const struct nl_link *found[2])
{
	found[0] = found[1] = NULL;
	for (size_t i = 0; i < view->n_links && found[1] == NULL; i++) {
		const struct nl_link *link = &view->links[i];

		if ((link->flags & IFF_LOOPBACK) ||
		    (link->type != ARPHRD_ETHER && !(link->flags & IFF_UP)) ||
		    recorded_endpoint(record, "device", link->name) != NULL ||
		    recorded_endpoint(record, "tap", link->name) != NULL)
			continue;
		found[found[0] == NULL ? 0 : 1] = link;
	}
}

/* The standby tap, when there is one and nothing was joined to it yet. */
static const char *free_standby_tap(json_object *record)
{
	json_object *endpoint = recorded_endpoint(record, "standby", NULL), *tap = NULL;

	if (endpoint == NULL || json_object_object_get_ex(endpoint, "device", NULL) ||
	    !json_object_object_get_ex(endpoint, "tap", &tap))
		return NULL;
	return json_object_get_string(tap);
}

/* The record says what is joined before it is: the veth's ingress qdisc and queue length are
 * the engine's to get back at delete. */
static void record_joined(json_object *record, const struct netns_view *view,
                          const struct endpoint *ep)
{
	json_object *endpoint = recorded_endpoint(record, "tap", ep->tap);
	json_object *interfaces = json_object_new_array();

	json_add_string(endpoint, "device", ep->link.name);
	json_object_object_add(endpoint, "index", json_object_new_int64(ep->link.ifindex));
	json_object_object_add(endpoint, "txqlen", json_object_new_int64(ep->link.txqlen));
	json_object_array_add(interfaces, network_interface_json(view, ep));
	json_object_object_add(record, "interfaces", interfaces);
	json_object_object_add(record, "routes", network_routes_json(view));
}

/* SETUPINTERFACE finds no device with the interface's MAC address, so the guest's standby
 * NIC takes it, and its name; SETUPROUTE adds the routes (none: no request). */
static void late_requests(json_object *record, const struct netns_view *view,
                          const struct endpoint *ep, struct network_late *late)
{
	json_object *routes = NULL;

	late->setup_interface = network_interface_json(view, ep);
	/* with a device, the agent would look for that name (hyperstart's reading) */
	json_object_object_del(late->setup_interface, "device");
	json_object_object_get_ex(record, "routes", &routes);
	if (routes != NULL && json_object_array_length(routes) > 0) {
		late->setup_route = json_object_new_object();
		json_object_object_add(late->setup_route, "routes", json_object_get(routes));
	}
}

static int join_in_netns(struct mnl_socket *nl, json_object *record,
                         const struct network_checkpoint *cp, struct network_late *late,
                         kata_error_t *err)
{
	struct netns_view view = { .macvtap = false };
	const struct nl_link *found[2];
	const struct nl_link *link;
	const char *tap;
	struct endpoint *ep = &view.endpoints[0];
	int ret = -1;

	if (netns_view_read(nl, &view, err) < 0)
		goto out;
	find_late_interfaces(&view, record, found);
	link = found[0];
	ret = 0;
	if (link == NULL)
		goto out;
	ret = -1;
	tap = free_standby_tap(record);
	if (tap == NULL) {
		kata_error_set(
		        err, ENOTSUP,
		        "interface `%s` appeared in the container's network namespace after "
		        "create: the VM's network cards were made when it booted, at create, "
		        "and it has no standby card for it; prepare the namespace before "
		        "create (docs/network.md)",
		        link->name);
		goto out;
	}
	if (found[1] != NULL) {
		kata_error_set(
		        err, ENOTSUP,
		        "interfaces `%s` and `%s` appeared in the container's network namespace "
		        "after create: the VM has one standby network card for that "
		        "(docs/network.md)",
		        link->name, found[1]->name);
		goto out;
	}
	/* (find_late_interfaces left out what the check skips: lo, tunnels that are down) */
	if (network_endpoint_check(nl, link, false, err) < 0) {
		kata_error_wrap(err, "interface that appeared after create");
		goto out;
	}
	ep->link = *link;
	snprintf(ep->tap, sizeof(ep->tap), "%s", tap);
	view.n_endpoints = 1;
	record_joined(record, &view, ep);
	if (cp != NULL && cp->save != NULL)
		cp->save(cp->opaque);
	if (network_join_tap(nl, ep, err) < 0) {
		kata_error_wrap(err, "interface `%s`", link->name);
		goto out;
	}
	late_requests(record, &view, ep, late);
	log_info("interface %s joined to the standby tap %s", link->name, tap);
	ret = 1;
out:
	netns_view_clear(&view);
	return ret;
}

int network_join_late(const char *netns, json_object *record, const struct network_checkpoint *cp,
                      struct network_late *late, kata_error_t *err)
{
	struct mnl_socket *nl;
	int saved = -1;
	int ret;

	late->setup_interface = late->setup_route = NULL;
	if (netns_enter(netns, &saved, err) < 0)
		return kata_error_wrap(err, "network");
	nl = nl_open(err);
	ret = nl == NULL ? -1 : join_in_netns(nl, record, cp, late, err);
	nl_close(nl);
	if (netns_return(&saved, ret < 0 ? NULL : err) < 0)
		ret = -1;
	if (ret < 0) {
		network_late_clear(late);
		return kata_error_wrap(err, "network namespace `%s`", netns);
	}
	return ret;
}
