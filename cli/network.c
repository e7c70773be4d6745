/* The container's network namespace carried into the VM (network.h): each interface joined
 * to a tap by two tc redirects (internetworking_model = "tcfilter"), or given a macvtap in
 * passthru mode ("macvtap"), the tap given to the VM. */
#include <net/if.h> /* before the linux/ headers */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/rtnetlink.h>

#include "cleanup.h"
#include "json_util.h"
#include "log.h"
#include "network.h"
#include "network_netlink.h"
#include "network_view.h"

void netns_view_clear(struct netns_view *view)
{
	free(view->links);
	free(view->addrs);
	free(view->routes);
	memset(view, 0, sizeof(*view));
}

/* Devices a tc redirect can stand in for: Ethernet devices an engine puts in a namespace. */
static bool kind_is_carried(const char *kind)
{
	return strcmp(kind, "veth") == 0 || strcmp(kind, "macvlan") == 0 ||
	       strcmp(kind, "ipvlan") == 0;
}

static bool link_exists(const struct netns_view *view, const char *name)
{
	for (size_t i = 0; i < view->n_links; i++)
		if (strcmp(view->links[i].name, name) == 0)
			return true;
	return false;
}

int network_endpoint_check(struct mnl_socket *nl, const struct nl_link *link, bool macvtap,
                           kata_error_t *err)
{
	bool has_ingress = false;

	if (link->flags & IFF_LOOPBACK)
		return 0; /* the guest has its own */
	if (link->type != ARPHRD_ETHER) {
		/* A namespace gets tunl0, sit0, ... (down) when their modules are loaded. */
		if (!(link->flags & IFF_UP))
			return 0;
		return kata_error_set(err, ENOTSUP,
		                      "interface `%s`: not an Ethernet device (link type %u): it "
		                      "cannot be carried into the VM",
		                      link->name, link->type);
	}
	if (!kind_is_carried(link->kind))
		return kata_error_set(err, ENOTSUP,
		                      "interface `%s`: a %s device cannot be carried into the VM "
		                      "(veth, macvlan and ipvlan can)",
		                      link->name, link->kind[0] ? link->kind : "physical");
	/* A macvtap on a macvlan would sit on the macvlan's own lower device, outside. */
	if (macvtap && strcmp(link->kind, "veth") != 0)
		return kata_error_set(err, ENOTSUP,
		                      "interface `%s`: internetworking_model macvtap carries "
		                      "veth devices only, not a %s device",
		                      link->name, link->kind);
	if (!link->has_mac)
		return kata_error_set(err, EINVAL, "interface `%s`: no MAC address", link->name);
	if (!macvtap && nl_has_ingress(nl, link->ifindex, &has_ingress, err) < 0)
		return kata_error_wrap(err, "interface `%s`", link->name);
	/* delete removes the ingress qdisc it finds: it must be ours alone. */
	if (has_ingress)
		return kata_error_set(err, EBUSY,
		                      "interface `%s` has an ingress qdisc already: it cannot be "
		                      "redirected to the VM",
		                      link->name);
	return 1;
}

static int pick_endpoint(struct mnl_socket *nl, struct netns_view *view, const struct nl_link *link,
                         kata_error_t *err)
{
	int carried = network_endpoint_check(nl, link, view->macvtap, err);
	struct endpoint *ep;

	if (carried <= 0)
		return carried;
	if (view->n_endpoints == NETWORK_MAX_INTERFACES)
		return kata_error_set(err, E2BIG, "interface `%s`: more than %d interfaces",
		                      link->name, NETWORK_MAX_INTERFACES);
	ep = &view->endpoints[view->n_endpoints];
	ep->link = *link;
	snprintf(ep->tap, sizeof(ep->tap), NETWORK_TAP_FORMAT, view->n_endpoints);
	if (link_exists(view, ep->tap))
		return kata_error_set(err, EEXIST,
		                      "interface `%s`: a link named `%s` exists already in its "
		                      "namespace",
		                      link->name, ep->tap);
	view->n_endpoints++;
	return 0;
}

int netns_view_read(struct mnl_socket *nl, struct netns_view *view, kata_error_t *err)
{
	if (nl_links(nl, &view->links, &view->n_links, err) < 0 ||
	    nl_addrs(nl, &view->addrs, &view->n_addrs, err) < 0 ||
	    nl_routes(nl, &view->routes, &view->n_routes, err) < 0)
		return -1;
	return 0;
}

static int read_netns(struct mnl_socket *nl, struct netns_view *view, kata_error_t *err)
{
	if (netns_view_read(nl, view, err) < 0)
		return -1;
	for (size_t i = 0; i < view->n_links; i++)
		if (pick_endpoint(nl, view, &view->links[i], err) < 0)
			return -1;
	return 0;
}

/* --- the record ----------------------------------------------------------------------- */

static const struct endpoint *endpoint_by_index(const struct netns_view *view, int ifindex)
{
	for (size_t i = 0; i < view->n_endpoints; i++)
		if (view->endpoints[i].link.ifindex == ifindex)
			return &view->endpoints[i];
	return NULL;
}

json_object *network_interface_json(const struct netns_view *view, const struct endpoint *ep)
{
	json_object *obj = json_object_new_object();
	json_object *addrs = json_object_new_array();
	char mac[18];

	network_format_mac(ep->link.mac, mac);
	json_add_string(obj, "device", ep->link.name);
	json_add_string(obj, "newDeviceName", ep->link.name);
	json_add_string(obj, "macAddr", mac);
	json_object_object_add(obj, "mtu", json_object_new_int64(ep->link.mtu));
	for (size_t i = 0; i < view->n_addrs; i++) {
		const struct nl_addr *a = &view->addrs[i];
		char text[INET6_ADDRSTRLEN];
		char prefix[4];
		json_object *addr;

		/* link-local addresses the guest kernel makes itself */
		if (a->ifindex != ep->link.ifindex || a->scope != RT_SCOPE_UNIVERSE)
			continue;
		inet_ntop(a->family, a->addr, text, sizeof(text));
		snprintf(prefix, sizeof(prefix), "%u", a->prefix_len);
		addr = json_object_new_object();
		json_add_string(addr, "ipAddress", text);
		json_add_string(addr, "netMask", prefix);
		json_object_array_add(addrs, addr);
	}
	json_object_object_add(obj, "ipAddresses", addrs);
	return obj;
}

static json_object *route_json(const struct nl_route *r, const struct endpoint *ep)
{
	json_object *obj = json_object_new_object();
	char text[INET6_ADDRSTRLEN];

	if (r->dst_len == 0) {
		json_add_string(obj, "dest", r->family == AF_INET ? "default" : "::/0");
	} else {
		cleanup_free char *dest = NULL;

		inet_ntop(r->family, r->dst, text, sizeof(text));
		dest = xasprintf("%s/%u", text, r->dst_len);
		json_add_string(obj, "dest", dest);
	}
	if (r->has_gateway) {
		inet_ntop(r->family, r->gateway, text, sizeof(text));
		json_add_string(obj, "gateway", text);
	}
	json_add_string(obj, "device", ep->link.name);
	return obj;
}

/* The routes the guest must add: not those its addresses make (proto kernel), and the
 * ones through a gateway after the others, which they may need. */
json_object *network_routes_json(const struct netns_view *view)
{
	json_object *routes = json_object_new_array();

	for (int with_gateway = 0; with_gateway < 2; with_gateway++) {
		for (size_t i = 0; i < view->n_routes; i++) {
			const struct nl_route *r = &view->routes[i];
			const struct endpoint *ep = endpoint_by_index(view, r->oif);

			if (ep == NULL || r->protocol == RTPROT_KERNEL ||
			    r->has_gateway != (with_gateway == 1))
				continue;
			json_object_array_add(routes, route_json(r, ep));
		}
	}
	return routes;
}

static json_object *record_json(const char *netns, const struct netns_view *view)
{
	json_object *rec = json_object_new_object();
	json_object *endpoints = json_object_new_array();
	json_object *interfaces = json_object_new_array();

	json_add_string(rec, "model", view->macvtap ? "macvtap" : "tcfilter");
	json_add_string(rec, "netns", netns);
	for (size_t i = 0; i < view->n_endpoints; i++) {
		const struct endpoint *ep = &view->endpoints[i];
		json_object *e = json_object_new_object();

		json_add_string(e, "device", ep->link.name);
		json_object_object_add(e, "index", json_object_new_int64(ep->link.ifindex));
		json_add_string(e, "tap", ep->tap);
		json_object_object_add(e, "txqlen", json_object_new_int64(ep->link.txqlen));
		json_object_array_add(endpoints, e);
		json_object_array_add(interfaces, network_interface_json(view, ep));
	}
	json_object_object_add(rec, "endpoints", endpoints);
	json_object_object_add(rec, "interfaces", interfaces);
	json_object_object_add(rec, "routes", network_routes_json(view));
	return rec;
}

/* --- making and removing -------------------------------------------------------------- */

/* Removes the tap (or macvtap) and, with tcfilter, the veth's ingress qdisc (with its
 * filters) of every endpoint the record names, in the current namespace. The veth is matched
 * by name and index, so that another interface that took the name is left alone. */
static int remove_endpoints(struct mnl_socket *nl, json_object *endpoints, bool tcfilter,
                            kata_error_t *err)
{
	size_t n = json_object_is_type(endpoints, json_type_array)
	                   ? json_object_array_length(endpoints)
	                   : 0;
	kata_error_t first = NULL;

	for (size_t i = 0; i < n; i++) {
		json_object *e = json_object_array_get_idx(endpoints, i);
		cleanup_free char *device = NULL, *tap = NULL;
		int32_t index = 0;
		uint32_t txqlen = 0, now = 0;
		kata_error_t step = NULL;
		int found;

		/* no device: a standby tap that nothing was joined to (network_standby.c) */
		if (json_get_string(e, "device", "endpoints", false, &device, &step) < 0 ||
		    json_get_string(e, "tap", "endpoints", true, &tap, &step) < 0 ||
		    json_get_int32(e, "index", "endpoints", device != NULL, &index, &step) < 0)
			goto next;
		found = tcfilter && device != NULL ? nl_link_index(nl, device, &step) : 0;
		if (found < 0 ||
		    (found > 0 && found == index && nl_ingress_delete(nl, found, &step) < 0))
			goto next;
		/* a record without txqlen is from before the set-up read it: nothing to restore */
		if (found > 0 && found == index && json_object_object_get_ex(e, "txqlen", NULL) &&
		    (json_get_uint32(e, "txqlen", "endpoints", true, &txqlen, &step) < 0 ||
		     nl_link_txqlen(nl, found, &now, &step) < 0 ||
		     (now != txqlen && nl_link_set_txqlen(nl, found, txqlen, &step) < 0)))
			goto next;
		found = nl_link_index(nl, tap, &step);
		if (found > 0 && nl_link_delete(nl, found, &step) < 0 &&
		    step->errno_value == ENODEV)
			kata_error_free(&step); /* gone with qemu meanwhile */
	next:
		if (step != NULL) {
			kata_error_wrap(&step, "interface `%s`", device ?: "?");
			if (first == NULL)
				kata_error_move(&first, &step);
			else
				kata_error_free(&step);
		}
	}
	if (first != NULL) {
		kata_error_move(err, &first);
		return -1;
	}
	return 0;
}

/* The macvtap takes the veth's MAC address and every frame arriving on it; what the guest
 * sends leaves through the veth. */
static int plumb_macvtap(struct mnl_socket *nl, const struct endpoint *ep,
                         struct hypervisor_nic *nic, kata_error_t *err)
{
	int index = 0;
	cleanup_close int fd =
	        network_macvtap_open(nl, ep->link.ifindex, ep->link.mac, ep->tap, &index, err);

	if (fd < 0)
		return -1;
	if (nl_link_set_mtu_up(nl, index, ep->link.mtu, err) < 0)
		return kata_error_wrap(err, "macvtap `%s`", ep->tap);
	nic->tap_fd = steal_fd(&fd);
	network_format_mac(ep->link.mac, nic->mac);
	nic->mtu = ep->link.mtu;
	return 0;
}

int network_join_tap(struct mnl_socket *nl, const struct endpoint *ep, kata_error_t *err)
{
	int tap_index = nl_link_index(nl, ep->tap, err);

	if (tap_index < 0)
		return -1;
	if (tap_index == 0)
		return kata_error_set(err, ENODEV, "tap `%s` vanished", ep->tap);
	if (nl_link_set_mtu_up(nl, tap_index, ep->link.mtu, err) < 0 ||
	    nl_ingress_add(nl, tap_index, err) < 0 ||
	    nl_ingress_add(nl, ep->link.ifindex, err) < 0 ||
	    /* the qdisc gave a queue length of 0 one of 1000: the engine's veth keeps its own */
	    nl_link_set_txqlen(nl, ep->link.ifindex, ep->link.txqlen, err) < 0 ||
	    nl_redirect_add(nl, ep->link.ifindex, tap_index, err) < 0 ||
	    nl_redirect_add(nl, tap_index, ep->link.ifindex, err) < 0)
		return kata_error_wrap(err, "join to tap `%s`", ep->tap);
	return 0;
}

static int plumb_endpoint(struct mnl_socket *nl, const struct endpoint *ep,
                          struct hypervisor_nic *nic, kata_error_t *err)
{
	cleanup_close int fd = network_tap_open(ep->tap, err);

	if (fd < 0 || network_join_tap(nl, ep, err) < 0)
		return -1;
	nic->tap_fd = steal_fd(&fd);
	network_format_mac(ep->link.mac, nic->mac);
	nic->mtu = ep->link.mtu;
	return 0;
}

static int setup_in_netns(const char *netns, const char *model, json_object **record,
                          const struct network_checkpoint *cp, struct network_nics *nics,
                          kata_error_t *err)
{
	bool macvtap = strcmp(model, "macvtap") == 0;
	struct mnl_socket *nl = nl_open(err);
	struct netns_view view = { .macvtap = macvtap };
	int ret = -1;

	if (nl == NULL)
		return -1;
	if (read_netns(nl, &view, err) < 0)
		goto out;
	ret = 0;
	if (view.n_endpoints == 0)
		goto out; /* only lo: the guest has its own */
	/* A model this runtime cannot apply matters only when there is something to carry. */
	if (!macvtap && strcmp(model, "tcfilter") != 0) {
		ret = kata_error_set(err, ENOTSUP,
		                     "interface `%s`: internetworking_model `%s` is not supported "
		                     "yet (tcfilter, macvtap or none)",
		                     view.endpoints[0].link.name, model);
		goto out;
	}
	*record = record_json(netns, &view);
	if (cp != NULL && cp->save != NULL)
		cp->save(cp->opaque); /* delete --force must know the taps before they exist */
	for (size_t i = 0; i < view.n_endpoints && ret == 0; i++) {
		ret = macvtap ? plumb_macvtap(nl, &view.endpoints[i], &nics->nics[i], err)
		              : plumb_endpoint(nl, &view.endpoints[i], &nics->nics[i], err);
		if (ret < 0)
			kata_error_wrap(err, "interface `%s`", view.endpoints[i].link.name);
		else
			nics->n++;
	}
	if (ret < 0) {
		kata_error_t undo_err = NULL;
		json_object *endpoints = NULL;

		network_nics_clear(nics);
		json_object_object_get_ex(*record, "endpoints", &endpoints);
		if (remove_endpoints(nl, endpoints, !macvtap, &undo_err) < 0) {
			log_warning("undo network set-up: %s", undo_err->message);
			kata_error_free(&undo_err);
		}
	}
out:
	netns_view_clear(&view);
	nl_close(nl);
	return ret;
}

bool network_wants_own_netns(const struct kata_config *config, const struct oci_spec *spec)
{
	const char *model = config->runtime.internetworking_model;
	const struct oci_namespace *ns = oci_spec_namespace(spec, OCI_NS_NETWORK);

	return model != NULL && strcmp(model, "none") != 0 && !config->runtime.disable_new_netns &&
	       ns != NULL && ns->path == NULL;
}

int network_setup_at(const struct kata_config *config, const char *netns_path, json_object **record,
                     const struct network_checkpoint *cp, struct network_nics *nics,
                     kata_error_t *err)
{
	const char *model = config->runtime.internetworking_model;
	int saved = -1;
	int ret;

	*record = NULL;
	memset(nics, 0, sizeof(*nics));
	for (size_t i = 0; i < NETWORK_MAX_INTERFACES; i++)
		nics->nics[i].tap_fd = -1;
	if (model == NULL || strcmp(model, "none") == 0 || netns_path == NULL)
		return 0;
	if (netns_enter(netns_path, &saved, err) < 0)
		return kata_error_wrap(err, "network");
	ret = setup_in_netns(netns_path, model, record, cp, nics, err);
	if (netns_return(&saved, ret < 0 ? NULL : err) < 0) {
		network_nics_clear(nics);
		ret = -1;
	}
	return ret < 0 ? kata_error_wrap(err, "network namespace `%s`", netns_path) : 0;
}

int network_setup(const struct kata_config *config, const struct oci_spec *spec,
                  json_object **record, const struct network_checkpoint *cp,
                  struct network_nics *nics, kata_error_t *err)
{
	const struct oci_namespace *ns = oci_spec_namespace(spec, OCI_NS_NETWORK);

	return network_setup_at(config, ns != NULL ? ns->path : NULL, record, cp, nics, err);
}

int network_teardown(json_object *record, kata_error_t *err)
{
	cleanup_free char *netns = NULL, *model = NULL;
	json_object *endpoints = NULL;
	struct mnl_socket *nl;
	kata_error_t enter_err = NULL;
	int saved = -1;
	int ret;

	if (record == NULL)
		return 0;
	if (json_get_string(record, "netns", "network", true, &netns, err) < 0 ||
	    json_get_string(record, "model", "network", false, &model, err) < 0 ||
	    json_get_array(record, "endpoints", "network", false, &endpoints, err) < 0)
		return kata_error_wrap(err, "network");
	if (netns_enter(netns, &saved, &enter_err) < 0) {
		/* The engine removed the namespace first: its interfaces went with it. */
		if (enter_err->errno_value == ENOENT || enter_err->errno_value == EINVAL) {
			kata_error_free(&enter_err);
			return 0;
		}
		kata_error_move(err, &enter_err);
		return kata_error_wrap(err, "network");
	}
	nl = nl_open(err);
	ret = nl == NULL ? -1
	                 : remove_endpoints(nl, endpoints,
	                                    model == NULL || strcmp(model, "macvtap") != 0, err);
	nl_close(nl);
	if (netns_return(&saved, ret < 0 ? NULL : err) < 0)
		ret = -1;
	return ret < 0 ? kata_error_wrap(err, "network namespace `%s`", netns) : 0;
}

void network_nics_clear(struct network_nics *nics)
{
	for (size_t i = 0; i < nics->n; i++) {
		if (nics->nics[i].tap_fd >= 0)
			close(nics->nics[i].tap_fd);
		nics->nics[i].tap_fd = -1;
	}
	nics->n = 0;
}
