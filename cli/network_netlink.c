/* Netlink through libmnl: the requests of network_netlink.h. */
#include "network_netlink.h" /* net/if.h before the linux/ headers */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <libmnl/libmnl.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_mirred.h>

#include "cleanup.h"

/* A dump's datagrams hold many messages; a link's is about 1.5 KiB. */
#define NL_RECV_SIZE (32 * 1024)
#define NL_SEND_SIZE 1024
/* The redirect filters' priority on the ingress qdisc (the qdisc is ours alone). */
#define NL_FILTER_PRIO 1

struct mnl_socket *nl_open(kata_error_t *err)
{
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	if (nl == NULL) {
		kata_error_sys(err, "open a netlink socket");
		return NULL;
	}
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		kata_error_sys(err, "bind a netlink socket");
		mnl_socket_close(nl);
		return NULL;
	}
	return nl;
}

void nl_close(struct mnl_socket *nl)
{
	if (nl != NULL)
		mnl_socket_close(nl);
}

static struct nlmsghdr *nl_header(char *buf, uint16_t type, uint16_t flags)
{
	static unsigned int seq;
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	if (seq == 0)
		seq = (unsigned int)time(NULL);
	nlh->nlmsg_seq = ++seq;
	return nlh;
}

/* Sends one request and reads the answers up to its ACK or the dump's end; each message
 * goes to cb (NULL for a plain request). On a kernel error, err takes its errno. */
static int nl_talk(struct mnl_socket *nl, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data,
                   const char *what, kata_error_t *err)
{
	cleanup_free char *buf = xmalloc(NL_RECV_SIZE);
	unsigned int portid = mnl_socket_get_portid(nl);

	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0)
		return kata_error_sys(err, "%s: netlink send", what);
	for (;;) {
		ssize_t n = mnl_socket_recvfrom(nl, buf, NL_RECV_SIZE);
		int ret;

		if (n < 0)
			return kata_error_sys(err, "%s: netlink receive", what);
		ret = mnl_cb_run(buf, (size_t)n, nlh->nlmsg_seq, portid, cb, data);
		if (ret < 0)
			return kata_error_sys(err, "%s", what);
		if (ret == MNL_CB_STOP)
			return 0;
	}
}

/* --- links ---------------------------------------------------------------------------- */

struct link_list {
	struct nl_link *links;
	size_t n;
};

static int link_info_attr(const struct nlattr *attr, void *data)
{
	struct nl_link *link = data;

	if (mnl_attr_get_type(attr) == IFLA_INFO_KIND &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
		snprintf(link->kind, sizeof(link->kind), "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

static int link_attr(const struct nlattr *attr, void *data)
{
	struct nl_link *link = data;

	switch (mnl_attr_get_type(attr)) {
	case IFLA_IFNAME:
		if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0)
			snprintf(link->name, sizeof(link->name), "%s", mnl_attr_get_str(attr));
		break;
	case IFLA_MTU:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			link->mtu = mnl_attr_get_u32(attr);
		break;
	case IFLA_TXQLEN:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			link->txqlen = mnl_attr_get_u32(attr);
		break;
	case IFLA_ADDRESS:
		if (mnl_attr_get_payload_len(attr) == sizeof(link->mac)) {
			memcpy(link->mac, mnl_attr_get_payload(attr), sizeof(link->mac));
			link->has_mac = true;
		}
		break;
	case IFLA_LINKINFO:
		if (mnl_attr_validate(attr, MNL_TYPE_NESTED) == 0)
			mnl_attr_parse_nested(attr, link_info_attr, link);
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int link_message(const struct nlmsghdr *nlh, void *data)
{
	struct link_list *list = data;
	const struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	struct nl_link link = { 0 };

	if (nlh->nlmsg_type != RTM_NEWLINK)
		return MNL_CB_OK;
	link.ifindex = ifi->ifi_index;
	link.type = ifi->ifi_type;
	link.flags = ifi->ifi_flags;
	mnl_attr_parse(nlh, sizeof(*ifi), link_attr, &link);
	list->links = xrealloc(list->links, (list->n + 1) * sizeof(*list->links));
	list->links[list->n++] = link;
	return MNL_CB_OK;
}

int nl_links(struct mnl_socket *nl, struct nl_link **links, size_t *n, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh = nl_header(buf, RTM_GETLINK, NLM_F_DUMP);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct link_list list = { 0 };

	ifi->ifi_family = AF_UNSPEC;
	if (nl_talk(nl, nlh, link_message, &list, "list links", err) < 0) {
		free(list.links);
		return -1;
	}
	*links = list.links;
	*n = list.n;
	return 0;
}

int nl_link_index(struct mnl_socket *nl, const char *name, kata_error_t *err)
{
	cleanup_free struct nl_link *links = NULL;
	size_t n = 0;

	if (nl_links(nl, &links, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(links[i].name, name) == 0)
			return links[i].ifindex;
	return 0;
}

int nl_link_set_mtu_up(struct mnl_socket *nl, int ifindex, uint32_t mtu, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh = nl_header(buf, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	ifi->ifi_flags = IFF_UP;
	ifi->ifi_change = IFF_UP;
	mnl_attr_put_u32(nlh, IFLA_MTU, mtu);
	return nl_talk(nl, nlh, NULL, NULL, "set link up", err);
}

int nl_link_set_txqlen(struct mnl_socket *nl, int ifindex, uint32_t txqlen, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh = nl_header(buf, RTM_NEWLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_u32(nlh, IFLA_TXQLEN, txqlen);
	return nl_talk(nl, nlh, NULL, NULL, "set transmit queue length", err);
}

int nl_link_txqlen(struct mnl_socket *nl, int ifindex, uint32_t *txqlen, kata_error_t *err)
{
	cleanup_free struct nl_link *links = NULL;
	size_t n = 0;

	if (nl_links(nl, &links, &n, err) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (links[i].ifindex == ifindex) {
			*txqlen = links[i].txqlen;
			return 0;
		}
	}
	return kata_error_set(err, ENODEV, "no link with index %d", ifindex);
}

int nl_link_delete(struct mnl_socket *nl, int ifindex, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh = nl_header(buf, RTM_DELLINK, NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	return nl_talk(nl, nlh, NULL, NULL, "delete link", err);
}

int nl_macvtap_add(struct mnl_socket *nl, int lower_ifindex, const char *name, int ifindex,
                   kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh = nl_header(buf, RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL | NLM_F_ACK);
	struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	struct nlattr *linkinfo, *data;

	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	mnl_attr_put_strz(nlh, IFLA_IFNAME, name);
	mnl_attr_put_u32(nlh, IFLA_LINK, (uint32_t)lower_ifindex);
	linkinfo = mnl_attr_nest_start(nlh, IFLA_LINKINFO);
	mnl_attr_put_strz(nlh, IFLA_INFO_KIND, "macvtap");
	data = mnl_attr_nest_start(nlh, IFLA_INFO_DATA);
	mnl_attr_put_u32(nlh, IFLA_MACVLAN_MODE, MACVLAN_MODE_PASSTHRU);
	mnl_attr_nest_end(nlh, data);
	mnl_attr_nest_end(nlh, linkinfo);
	return nl_talk(nl, nlh, NULL, NULL, "create macvtap", err);
}

/* --- addresses ------------------------------------------------------------------------ */

struct addr_list {
	struct nl_addr *addrs;
	size_t n;
};

struct addr_attrs {
	const struct nlattr *local, *address;
};

static int addr_attr(const struct nlattr *attr, void *data)
{
	struct addr_attrs *a = data;

	if (mnl_attr_get_type(attr) == IFA_LOCAL)
		a->local = attr;
	else if (mnl_attr_get_type(attr) == IFA_ADDRESS)
		a->address = attr;
	return MNL_CB_OK;
}

static int addr_message(const struct nlmsghdr *nlh, void *data)
{
	struct addr_list *list = data;
	const struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_attrs attrs = { 0 };
	const struct nlattr *use;
	struct nl_addr addr = { 0 };
	size_t len = ifa->ifa_family == AF_INET ? 4 : 16;

	if (nlh->nlmsg_type != RTM_NEWADDR ||
	    (ifa->ifa_family != AF_INET && ifa->ifa_family != AF_INET6))
		return MNL_CB_OK;
	mnl_attr_parse(nlh, sizeof(*ifa), addr_attr, &attrs);
	/* IPv4: IFA_LOCAL is the interface's own address (IFA_ADDRESS the peer's, if any). */
	use = attrs.local != NULL ? attrs.local : attrs.address;
	if (use == NULL || mnl_attr_get_payload_len(use) != len)
		return MNL_CB_OK;
	addr.family = ifa->ifa_family;
	addr.ifindex = (int)ifa->ifa_index;
	addr.prefix_len = ifa->ifa_prefixlen;
	addr.scope = ifa->ifa_scope;
	memcpy(addr.addr, mnl_attr_get_payload(use), len);
	list->addrs = xrealloc(list->addrs, (list->n + 1) * sizeof(*list->addrs));
	list->addrs[list->n++] = addr;
	return MNL_CB_OK;
}

int nl_addrs(struct mnl_socket *nl, struct nl_addr **addrs, size_t *n, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh = nl_header(buf, RTM_GETADDR, NLM_F_DUMP);
	struct ifaddrmsg *ifa = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifa));
	struct addr_list list = { 0 };

	ifa->ifa_family = AF_UNSPEC;
	if (nl_talk(nl, nlh, addr_message, &list, "list addresses", err) < 0) {
		free(list.addrs);
		return -1;
	}
	*addrs = list.addrs;
	*n = list.n;
	return 0;
}

/* --- routes --------------------------------------------------------------------------- */

struct route_list {
	struct nl_route *routes;
	size_t n;
};

static int route_attr(const struct nlattr *attr, void *data)
{
	struct nl_route *r = data;
	size_t len = r->family == AF_INET ? 4 : 16;

	switch (mnl_attr_get_type(attr)) {
	case RTA_TABLE:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			r->table = mnl_attr_get_u32(attr);
		break;
	case RTA_OIF:
		if (mnl_attr_validate(attr, MNL_TYPE_U32) == 0)
			r->oif = (int)mnl_attr_get_u32(attr);
		break;
	case RTA_DST:
		if (mnl_attr_get_payload_len(attr) == len)
			memcpy(r->dst, mnl_attr_get_payload(attr), len);
		break;
	case RTA_GATEWAY:
		if (mnl_attr_get_payload_len(attr) == len) {
			memcpy(r->gateway, mnl_attr_get_payload(attr), len);
			r->has_gateway = true;
		}
		break;
	default:
		break;
	}
	return MNL_CB_OK;
}

static int route_message(const struct nlmsghdr *nlh, void *data)
{
	struct route_list *list = data;
	const struct rtmsg *rtm = mnl_nlmsg_get_payload(nlh);
	struct nl_route r = { 0 };

	if (nlh->nlmsg_type != RTM_NEWROUTE ||
	    (rtm->rtm_family != AF_INET && rtm->rtm_family != AF_INET6))
		return MNL_CB_OK;
	r.family = rtm->rtm_family;
	r.dst_len = rtm->rtm_dst_len;
	r.protocol = rtm->rtm_protocol;
	r.type = rtm->rtm_type;
	r.table = rtm->rtm_table;
	mnl_attr_parse(nlh, sizeof(*rtm), route_attr, &r);
	if (r.table != RT_TABLE_MAIN || r.type != RTN_UNICAST)
		return MNL_CB_OK;
	list->routes = xrealloc(list->routes, (list->n + 1) * sizeof(*list->routes));
	list->routes[list->n++] = r;
	return MNL_CB_OK;
}

int nl_routes(struct mnl_socket *nl, struct nl_route **routes, size_t *n, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh = nl_header(buf, RTM_GETROUTE, NLM_F_DUMP);
	struct rtmsg *rtm = mnl_nlmsg_put_extra_header(nlh, sizeof(*rtm));
	struct route_list list = { 0 };

	rtm->rtm_family = AF_UNSPEC;
	if (nl_talk(nl, nlh, route_message, &list, "list routes", err) < 0) {
		free(list.routes);
		return -1;
	}
	*routes = list.routes;
	*n = list.n;
	return 0;
}

/* --- traffic control ------------------------------------------------------------------ */

struct qdisc_query {
	int ifindex;
	bool found;
};

static int qdisc_message(const struct nlmsghdr *nlh, void *data)
{
	struct qdisc_query *q = data;
	const struct tcmsg *tcm = mnl_nlmsg_get_payload(nlh);

	if (nlh->nlmsg_type == RTM_NEWQDISC && tcm->tcm_ifindex == q->ifindex &&
	    tcm->tcm_parent == TC_H_INGRESS)
		q->found = true;
	return MNL_CB_OK;
}

int nl_has_ingress(struct mnl_socket *nl, int ifindex, bool *has, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh = nl_header(buf, RTM_GETQDISC, NLM_F_DUMP);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	struct qdisc_query q = { ifindex, false };

	tcm->tcm_family = AF_UNSPEC;
	if (nl_talk(nl, nlh, qdisc_message, &q, "list qdiscs", err) < 0)
		return -1;
	*has = q.found;
	return 0;
}

static struct nlmsghdr *ingress_message(char *buf, uint16_t type, uint16_t flags, int ifindex)
{
	struct nlmsghdr *nlh = nl_header(buf, type, NLM_F_ACK | flags);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	tcm->tcm_handle = TC_H_MAKE(TC_H_INGRESS, 0);
	tcm->tcm_parent = TC_H_INGRESS;
	mnl_attr_put_strz(nlh, TCA_KIND, "ingress");
	return nlh;
}

int nl_ingress_add(struct mnl_socket *nl, int ifindex, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];

	return nl_talk(nl, ingress_message(buf, RTM_NEWQDISC, NLM_F_CREATE | NLM_F_EXCL, ifindex),
	               NULL, NULL, "add ingress qdisc", err);
}

int nl_ingress_delete(struct mnl_socket *nl, int ifindex, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	kata_error_t talk_err = NULL;

	if (nl_talk(nl, ingress_message(buf, RTM_DELQDISC, 0, ifindex), NULL, NULL,
	            "delete ingress qdisc", &talk_err) == 0)
		return 0;
	/* The kernel says EINVAL or ENOENT when there is no ingress qdisc (or no link). */
	if (talk_err->errno_value == EINVAL || talk_err->errno_value == ENOENT ||
	    talk_err->errno_value == ENODEV) {
		kata_error_free(&talk_err);
		return 0;
	}
	kata_error_move(err, &talk_err);
	return -1;
}

int nl_redirect_add(struct mnl_socket *nl, int from_ifindex, int to_ifindex, kata_error_t *err)
{
	char buf[NL_SEND_SIZE];
	struct nlmsghdr *nlh =
	        nl_header(buf, RTM_NEWTFILTER, NLM_F_ACK | NLM_F_CREATE | NLM_F_EXCL);
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	/* One selector with one key of mask 0 (every frame matches); a union, since a struct
	 * with a flexible array (keys[]) may not be followed by another member. */
	union {
		struct tc_u32_sel sel;
		unsigned char bytes[sizeof(struct tc_u32_sel) + sizeof(struct tc_u32_key)];
	} selector = { 0 };
	struct tc_mirred mirred = {
		.action = TC_ACT_STOLEN,
		.eaction = TCA_EGRESS_REDIR,
		.ifindex = (uint32_t)to_ifindex,
	};
	struct nlattr *options, *actions, *action, *action_options;

	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = from_ifindex;
	tcm->tcm_parent = TC_H_MAKE(TC_H_INGRESS, 0);
	tcm->tcm_info = TC_H_MAKE((uint32_t)NL_FILTER_PRIO << 16, htons(ETH_P_ALL));
	mnl_attr_put_strz(nlh, TCA_KIND, "u32");
	options = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	selector.sel.flags = TC_U32_TERMINAL;
	selector.sel.nkeys = 1;
	mnl_attr_put(nlh, TCA_U32_SEL, sizeof(selector), &selector);
	actions = mnl_attr_nest_start(nlh, TCA_U32_ACT);
	action = mnl_attr_nest_start(nlh, 1); /* the first action of the list */
	mnl_attr_put_strz(nlh, TCA_ACT_KIND, "mirred");
	action_options = mnl_attr_nest_start(nlh, TCA_ACT_OPTIONS);
	mnl_attr_put(nlh, TCA_MIRRED_PARMS, sizeof(mirred), &mirred);
	mnl_attr_nest_end(nlh, action_options);
	mnl_attr_nest_end(nlh, action);
	mnl_attr_nest_end(nlh, actions);
	mnl_attr_nest_end(nlh, options);
	return nl_talk(nl, nlh, NULL, NULL, "add redirect filter", err);
}
