/* The netlink requests the network plumbing needs (docs/network.md), through libmnl: read
 * a namespace's links, addresses and routes; create taps; add and remove the ingress qdiscs
 * and the u32 + mirred redirects that join a veth to its tap.
 *
 * A socket talks to the network namespace it was opened in: open it inside the sandbox's. */
#ifndef KATA_CLI_NETWORK_NETLINK_H
#define KATA_CLI_NETWORK_NETLINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <net/if.h>

#include "error.h"

struct mnl_socket;

struct nl_link {
	int ifindex;
	char name[IFNAMSIZ];
	char kind[32];  /* IFLA_INFO_KIND: "veth", "tun", ...; empty for a physical device */
	uint16_t type;  /* ARPHRD_* */
	uint32_t flags; /* IFF_* */
	uint32_t mtu;
	uint32_t txqlen; /* the kernel sets 0 to 1000 when an ingress qdisc is added */
	uint8_t mac[6];
	bool has_mac;
};

struct nl_addr {
	int family; /* AF_INET or AF_INET6 */
	int ifindex;
	uint8_t addr[16];
	uint8_t prefix_len;
	uint8_t scope; /* RT_SCOPE_* */
};

struct nl_route {
	int family;
	int oif; /* 0: none */
	uint8_t dst[16];
	uint8_t dst_len;
	uint8_t gateway[16];
	bool has_gateway;
	uint8_t protocol; /* RTPROT_* */
	uint8_t type;     /* RTN_* */
	uint32_t table;
};

struct mnl_socket *nl_open(kata_error_t *err);
void nl_close(struct mnl_socket *nl);

int nl_links(struct mnl_socket *nl, struct nl_link **links, size_t *n, kata_error_t *err);
int nl_addrs(struct mnl_socket *nl, struct nl_addr **addrs, size_t *n, kata_error_t *err);
/* Unicast routes of the main table, both families. */
int nl_routes(struct mnl_socket *nl, struct nl_route **routes, size_t *n, kata_error_t *err);
/* The link's index by name: 0 when there is none. */
int nl_link_index(struct mnl_socket *nl, const char *name, kata_error_t *err);

int nl_link_set_mtu_up(struct mnl_socket *nl, int ifindex, uint32_t mtu, kata_error_t *err);
int nl_link_set_txqlen(struct mnl_socket *nl, int ifindex, uint32_t txqlen, kata_error_t *err);
/* The link's transmit queue length; 0 found too. */
int nl_link_txqlen(struct mnl_socket *nl, int ifindex, uint32_t *txqlen, kata_error_t *err);
int nl_link_delete(struct mnl_socket *nl, int ifindex, kata_error_t *err);

/* A macvtap named name on the lower link, in passthru mode (it takes the lower link's MAC
 * address and every frame arriving on it), with the interface index ifindex (0: any). */
int nl_macvtap_add(struct mnl_socket *nl, int lower_ifindex, const char *name, int ifindex,
                   kata_error_t *err);

/* Whether the link has an ingress qdisc. */
int nl_has_ingress(struct mnl_socket *nl, int ifindex, bool *has, kata_error_t *err);
int nl_ingress_add(struct mnl_socket *nl, int ifindex, kata_error_t *err);
/* Removing the qdisc removes its filters too. No qdisc is not an error. */
int nl_ingress_delete(struct mnl_socket *nl, int ifindex, kata_error_t *err);
/* Every frame that enters `from` leaves through `to` (u32 match-all, mirred egress redirect). */
int nl_redirect_add(struct mnl_socket *nl, int from_ifindex, int to_ifindex, kata_error_t *err);

#endif
