/* The container's network in its VM (docs/network.md): for every interface the engine put
 * in the container's network namespace, a tap in that namespace joined to it by tc
 * redirects (internetworking_model = "tcfilter") or a macvtap on it ("macvtap"), a
 * virtio-net device on the tap, and the
 * interface's addresses and routes handed to the agent in STARTPOD.
 *
 * What was made is kept as JSON in the sandbox's record (sandbox_record.network), written
 * before each piece is made, so that delete (and delete --force after a runtime killed
 * half-way) removes exactly that and leaves the engine's interfaces as they were. */
#ifndef KATA_CLI_NETWORK_H
#define KATA_CLI_NETWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "agent_proto.h"
#include "config.h"
#include "error.h"
#include "hypervisor.h"
#include "oci_spec.h"

/* The taps' names: tap0_kata, tap1_kata, ... (Kata's), in the container's namespace. */
#define NETWORK_TAP_FORMAT "tap%zu_kata"
/* At most this many interfaces are carried into one VM. */
#define NETWORK_MAX_INTERFACES 8

/* The VM's NICs: open tap file descriptors, closed by network_nics_clear(). */
struct network_nics {
	struct hypervisor_nic nics[NETWORK_MAX_INTERFACES];
	size_t n;
};

/* Called with the record each time it gained something to undo (may be NULL). */
struct network_checkpoint {
	void (*save)(void *opaque);
	void *opaque;
};

/* The file the runtime bind-mounts a network namespace of its own on, in the sandbox
 * directory (sandbox_teardown unmounts and removes it with the rest). */
#define NETWORK_OWN_NETNS_FILE "netns"

/* Whether create makes the container's network namespace itself: the spec asks for a new
 * one (a `network` namespace without a path), the model is not "none" and disable_new_netns
 * is not set. The hooks fill it before the VM boots (Docker's libnetwork-setkey); the shim
 * starts in it, so that the pid the engine sees is in a namespace of the container's own,
 * never the engine's. */
bool network_wants_own_netns(const struct kata_config *config, const struct oci_spec *spec);

/* --- the standby NIC (network_standby.c, docs/network.md "Standby NIC") ---------------------
 * containerd's `ctr run --cni` configures the container's namespace between create and start,
 * after the VM booted. For it, create gives the VM one NIC on a tap of its own in the
 * namespace, joined to nothing and left down in the guest; at start an interface that
 * appeared since is joined to that tap and the agent configures the NIC (SETUPINTERFACE,
 * SETUPROUTE). */

/* The standby NIC's MAC address until then: the agent gives such a NIC to an interface
 * that no device matches by its MAC (lib/agent_proto.h). */
#define NETWORK_STANDBY_MAC AGENT_STANDBY_NIC_MAC

/* Whether create gives the VM a standby NIC: the runtime made the container's namespace and
 * nothing was in it to carry (netns_record NULL), the agent is this project's (dialect kata),
 * the model is tcfilter, the spec has no
 * prestart or createRuntime hook (Docker's fills the namespace before the VM boots), and the
 * bundle is a containerd task's (.../io.containerd.runtime.v2.task/NS/ID, or v1's). */
bool network_wants_standby(const struct kata_config *config, const struct oci_spec *spec,
                           const char *bundle, json_object *netns_record);

/* Makes the standby tap in the namespace at netns: *record names it (saved through cp before
 * the tap exists), nics gets its fd with the standby MAC. */
int network_standby_setup(const char *netns, json_object **record,
                          const struct network_checkpoint *cp, struct network_nics *nics,
                          kata_error_t *err);

/* What the agent must be asked at start: SETUPINTERFACE's and SETUPROUTE's payloads. */
struct network_late {
	json_object *setup_interface;
	json_object *setup_route; /* NULL: no route to add */
};

void network_late_clear(struct network_late *late);

/* At start, in a namespace the runtime made (record: what create carried; NULL: nothing):
 * 0 when no interface appeared since create; 1 when one appeared and was joined to the
 * standby tap (record updated and saved through cp before anything was made; late filled);
 * -1, naming the interface, when one appeared and cannot be carried: no standby NIC, more
 * than one interface, or an interface create would refuse. */
int network_join_late(const char *netns, json_object *record, const struct network_checkpoint *cp,
                      struct network_late *late, kata_error_t *err);

/* Plumbs the spec's network namespace (linux.namespaces, type network, with a path) for the
 * VM. *record is set before anything is made (NULL when there is nothing to do: no
 * namespace path, or the model "none"); nics gets one open tap per interface. On failure,
 * what was made is removed again and no fd is left open. */
int network_setup(const struct kata_config *config, const struct oci_spec *spec,
                  json_object **record, const struct network_checkpoint *cp,
                  struct network_nics *nics, kata_error_t *err);

/* The same for the namespace at netns_path (NULL: nothing to do). */
int network_setup_at(const struct kata_config *config, const char *netns_path, json_object **record,
                     const struct network_checkpoint *cp, struct network_nics *nics,
                     kata_error_t *err);

/* Removes the taps and filters the record names; what is gone already is no error (the
 * engine may have removed the namespace first). Harmless to call twice. */
int network_teardown(json_object *record, kata_error_t *err);

void network_nics_clear(struct network_nics *nics);

/* Adds hyperstart's `interfaces` and `routes` keys to a STARTPOD object (nothing when the
 * record is NULL). */
void network_startpod_add(json_object *startpod, json_object *record);

/* --- parts, for tests ---------------------------------------------------------------- */

/* Enters the network namespace at path; *saved is the caller's, for netns_return(). */
int netns_enter(const char *path, int *saved, kata_error_t *err);
int netns_return(int *saved, kata_error_t *err);

/* Makes a new network namespace and bind-mounts it on path (a new file), the calling thread
 * staying in its own; on failure nothing is left. */
int netns_create_at(const char *path, kata_error_t *err);

/* A child of the runtime standing in a network namespace while the OCI hooks run: its pid is
 * the state's, so that a hook finds the namespace at /proc/PID/ns/net, as Docker's does. */
struct netns_holder {
	pid_t pid;
	int release_fd;
};

/* Starts it in the namespace at path (NULL: the runtime's own) and waits until it is there. */
int netns_holder_start(const char *path, struct netns_holder *holder, kata_error_t *err);
/* Lets it exit and reaps it; harmless to call twice. */
void netns_holder_stop(struct netns_holder *holder);

/* Creates a tap named name in the current network namespace (with a vnet header, as qemu
 * uses it); it lives as long as the returned fd (or a copy) is open. */
int network_tap_open(const char *name, kata_error_t *err);

/* Creates a macvtap named name in passthru mode on the link lower_ifindex (whose MAC address
 * is mac) in the current network namespace and opens its /dev/tapN; *ifindex is N, the
 * macvtap's index. The macvtap outlives the fd: nl_link_delete removes it. */
struct mnl_socket;
int network_macvtap_open(struct mnl_socket *nl, int lower_ifindex, const unsigned char mac[6],
                         const char *name, int *ifindex, kata_error_t *err);

/* "02:42:ac:11:00:02" */
void network_format_mac(const unsigned char mac[6], char out[18]);

#endif
