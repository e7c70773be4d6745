/* The host side of the container's network (cli/network*.c), in a network namespace of each
 * test's own (Check forks every test; the test unshares its namespace first): a veth pair as
 * an engine makes it, plumbed to a tap and back, frames carried both ways, the record and
 * STARTPOD's keys, refusals that leave nothing behind, teardown after a half-made set-up. */
#include "check_main.h"
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include "cleanup.h"
#include "config.h"
#include "error.h"
#include "json_util.h"
#include "cli/network.h"
#include "oci_spec.h"

/* An ethertype for local experiments (IEEE 802): nothing else in the namespace sends it. */
#define TEST_ETHERTYPE 0x88b5
#define VNET_HDR_LEN   10

static struct kata_config config;
/* The container's namespace: held by a child of the test, as an engine holds it. */
static char ctr_ns[64];
static pid_t ns_holder;

static void run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run(const char *fmt, ...)
{
	cleanup_free char *cmd = NULL;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	ck_assert(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	rc = system(cmd);
	ck_assert_msg(rc == 0, "`%s` failed: %d", cmd, rc);
}

/* The command's standard output (in the container's namespace). */
static char *output(const char *cmd)
{
	cleanup_free char *in_ctr = xasprintf("nsenter --net=%s sh -c '%s'", ctr_ns, cmd);

	return unit_command_output(in_ctr);
}

static void run_in(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void run_in(const char *fmt, ...)
{
	cleanup_free char *cmd = NULL;
	va_list ap;

	va_start(ap, fmt);
	ck_assert(vasprintf(&cmd, fmt, ap) >= 0);
	va_end(ap);
	run("nsenter --net=%s sh -c '%s'", ctr_ns, cmd);
}

/* Two namespaces of the test's own: the test's ("the host", where the engine's end of the
 * veth is, peer0) and the container's, with what podman's bridge plugin leaves there: eth0
 * with IPv4 and IPv6 addresses, an MTU of 1400, routes. */
static void setup(void)
{
	int ready[2];
	char byte;

	memset(&config, 0, sizeof(config));
	config.runtime.internetworking_model = "tcfilter";
	ck_assert_msg(unshare(CLONE_NEWNET) == 0, "unshare: %s", strerror(errno));
	ck_assert_int_eq(pipe(ready), 0);
	ns_holder = fork();
	ck_assert_int_ge(ns_holder, 0);
	if (ns_holder == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (unshare(CLONE_NEWNET) < 0)
			_exit(1);
		close(ready[0]);
		if (write(ready[1], "x", 1) != 1)
			_exit(1);
		for (;;)
			pause();
	}
	close(ready[1]);
	ck_assert_int_eq(read(ready[0], &byte, 1), 1);
	close(ready[0]);
	snprintf(ctr_ns, sizeof(ctr_ns), "/proc/%d/ns/net", (int)ns_holder);
	run("ip link add eth0 address 02:42:ac:11:00:02 mtu 1400 type veth peer name peer0 "
	    "mtu 1400 && ip link set eth0 netns %d && ip link set peer0 up",
	    (int)ns_holder);
	run_in("ip link set lo up");
	/* as the CNI bridge plugin makes it: adding an ingress qdisc changes that to 1000 */
	run_in("ip link set eth0 txqueuelen 0");
	run_in("ip addr add 10.88.0.5/16 dev eth0");
	run_in("ip -6 addr add fd00::5/64 dev eth0 nodad");
	run_in("ip link set eth0 up");
	run_in("ip route add default via 10.88.0.1");
	run_in("ip route add 10.1.0.0/16 via 10.88.0.1");
	run_in("ip -6 route add default via fd00::1");
}

static void teardown(void)
{
	kill(ns_holder, SIGKILL);
	waitpid(ns_holder, NULL, 0);
}

static struct oci_spec *spec_with_netns(const char *path)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *text =
	        xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
	                  "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                  "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}%s%s%s]}}",
	                  path != NULL ? ",{\"type\":\"network\",\"path\":\"" : "", path ?: "",
	                  path != NULL ? "\"}" : "");
	struct oci_spec *spec = oci_spec_parse(text, strlen(text), &err);

	ck_assert_msg(spec != NULL, "%s", err != NULL ? err->message : "");
	return spec;
}

/* The container's namespace plumbed with the configured model; the record. */
static json_object *plumbed(struct network_nics *nics)
{
	cleanup_error kata_error_t err = NULL;
	struct oci_spec *spec = spec_with_netns(ctr_ns);
	json_object *record = NULL;

	ck_assert_msg(network_setup(&config, spec, &record, NULL, nics, &err) == 0, "%s",
	              err->message);
	oci_spec_free(spec);
	return record;
}

static int saves;
static void count_save(void *opaque)
{
	(void)opaque;
	saves++;
}

/* The state an engine's interface is in, to compare before and after. */
static char *eth0_state(void)
{
	return output("ip -d addr show dev eth0; "
	              "tc qdisc show dev eth0; tc filter show dev eth0 ingress; ip route; "
	              "ip -6 route");
}

START_TEST(test_setup_plumbs_and_teardown_restores)
{
	cleanup_error kata_error_t err = NULL;
	struct oci_spec *spec = spec_with_netns(ctr_ns);
	struct network_checkpoint cp = { count_save, NULL };
	struct network_nics nics;
	cleanup_json json_object *record = NULL;
	cleanup_free char *before = eth0_state();
	cleanup_free char *filters = NULL, *tap_filters = NULL, *after = NULL, *links = NULL;

	saves = 0;
	ck_assert_msg(network_setup(&config, spec, &record, &cp, &nics, &err) == 0, "%s",
	              err->message);
	ck_assert_int_eq(saves, 1);
	ck_assert_ptr_nonnull(record);
	ck_assert_uint_eq(nics.n, 1);
	ck_assert_int_ge(nics.nics[0].tap_fd, 0);
	ck_assert_str_eq(nics.nics[0].mac, "02:42:ac:11:00:02");
	ck_assert_uint_eq(nics.nics[0].mtu, 1400);
	links = output("ip -o link show tap0_kata");
	ck_assert_msg(strstr(links, "mtu 1400") != NULL && strstr(links, ",UP") != NULL, "%s",
	              links);
	filters = output("tc filter show dev eth0 ingress");
	ck_assert_msg(strstr(filters, "u32") && strstr(filters, "mirred") &&
	                      strstr(filters, "Redirect to device tap0_kata"),
	              "%s", filters);
	tap_filters = output("tc filter show dev tap0_kata ingress");
	ck_assert_msg(strstr(tap_filters, "Redirect to device eth0"), "%s", tap_filters);

	ck_assert_msg(network_teardown(record, &err) == 0, "%s", err->message);
	free(links);
	links = output("ip -o link show");
	ck_assert_msg(strstr(links, "tap0_kata") == NULL, "%s", links);
	after = eth0_state();
	ck_assert_str_eq(before, after);
	/* twice is harmless */
	ck_assert_msg(network_teardown(record, &err) == 0, "%s", err->message);
	network_nics_clear(&nics);
	oci_spec_free(spec);
}
END_TEST

static json_object *path_get(json_object *obj, const char *key, size_t idx, const char *field)
{
	json_object *arr = NULL, *value = NULL;

	ck_assert(json_object_object_get_ex(obj, key, &arr));
	ck_assert_uint_gt(json_object_array_length(arr), idx);
	obj = json_object_array_get_idx(arr, idx);
	if (field == NULL)
		return obj;
	if (!json_object_object_get_ex(obj, field, &value))
		return NULL;
	return value;
}

static bool has_route(json_object *routes, const char *dest, const char *gateway)
{
	for (size_t i = 0; i < json_object_array_length(routes); i++) {
		json_object *r = json_object_array_get_idx(routes, i), *d, *g = NULL, *dev;

		ck_assert(json_object_object_get_ex(r, "dest", &d));
		ck_assert(json_object_object_get_ex(r, "device", &dev));
		ck_assert_str_eq(json_object_get_string(dev), "eth0");
		json_object_object_get_ex(r, "gateway", &g);
		if (strcmp(json_object_get_string(d), dest) == 0 &&
		    (gateway == NULL
		             ? g == NULL
		             : g != NULL && strcmp(json_object_get_string(g), gateway) == 0))
			return true;
	}
	return false;
}

START_TEST(test_startpod_keys)
{
	cleanup_error kata_error_t err = NULL;
	struct network_nics nics;
	cleanup_json json_object *record = NULL;
	cleanup_json json_object *startpod = json_object_new_object();
	cleanup_json json_object *empty = json_object_new_object();
	json_object *iface, *addrs, *routes = NULL;

	run_in("ip route add 192.168.7.0/24 dev eth0");
	record = plumbed(&nics);
	network_startpod_add(startpod, record);
	iface = path_get(startpod, "interfaces", 0, NULL);
	ck_assert_str_eq(json_object_get_string(path_get(startpod, "interfaces", 0, "device")),
	                 "eth0");
	ck_assert_str_eq(
	        json_object_get_string(path_get(startpod, "interfaces", 0, "newDeviceName")),
	        "eth0");
	ck_assert_str_eq(json_object_get_string(path_get(startpod, "interfaces", 0, "macAddr")),
	                 "02:42:ac:11:00:02");
	ck_assert_int_eq(json_object_get_int(path_get(startpod, "interfaces", 0, "mtu")), 1400);
	ck_assert(json_object_object_get_ex(iface, "ipAddresses", &addrs));
	/* the global ones only: the guest makes its own link-local address */
	ck_assert_uint_eq(json_object_array_length(addrs), 2);
	ck_assert_str_eq(json_object_get_string(path_get(iface, "ipAddresses", 0, "ipAddress")),
	                 "10.88.0.5");
	ck_assert_str_eq(json_object_get_string(path_get(iface, "ipAddresses", 0, "netMask")),
	                 "16");
	ck_assert_str_eq(json_object_get_string(path_get(iface, "ipAddresses", 1, "ipAddress")),
	                 "fd00::5");
	ck_assert_str_eq(json_object_get_string(path_get(iface, "ipAddresses", 1, "netMask")),
	                 "64");
	ck_assert(json_object_object_get_ex(startpod, "routes", &routes));
	ck_assert(has_route(routes, "default", "10.88.0.1"));
	ck_assert(has_route(routes, "10.1.0.0/16", "10.88.0.1"));
	ck_assert(has_route(routes, "::/0", "fd00::1"));
	ck_assert(has_route(routes, "192.168.7.0/24", NULL));
	/* not the ones the guest's own addresses make */
	ck_assert(!has_route(routes, "10.88.0.0/16", NULL));
	ck_assert(!has_route(routes, "fd00::/64", NULL));
	ck_assert_uint_eq(json_object_array_length(routes), 4);
	/* routes without a gateway come first: the others may go through them */
	ck_assert_str_eq(json_object_get_string(path_get(startpod, "routes", 0, "dest")),
	                 "192.168.7.0/24");

	network_startpod_add(empty, NULL);
	ck_assert_int_eq(json_object_object_length(empty), 0);
	ck_assert_int_eq(network_teardown(record, &err), 0);
	network_nics_clear(&nics);
}
END_TEST

static int packet_socket(const char *ifname)
{
	struct sockaddr_ll addr = { .sll_family = AF_PACKET,
		                    .sll_protocol = htons(TEST_ETHERTYPE),
		                    .sll_ifindex = (int)if_nametoindex(ifname) };
	int fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(TEST_ETHERTYPE));

	ck_assert_int_ge(fd, 0);
	ck_assert_int_ne(addr.sll_ifindex, 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	return fd;
}

static size_t make_frame(unsigned char *frame, const char *payload)
{
	static const unsigned char src[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };
	size_t len = strlen(payload);

	memset(frame, 0xff, 6); /* broadcast */
	memcpy(frame + 6, src, 6);
	frame[12] = TEST_ETHERTYPE >> 8;
	frame[13] = TEST_ETHERTYPE & 0xff;
	memcpy(frame + 14, payload, len);
	return 14 + len < 60 ? 60 : 14 + len; /* padded to Ethernet's minimum */
}

/* Reads frames from fd (skipping `skip` bytes of header each) until one of our ethertype
 * with the payload arrives; false after 3 s. */
static bool receive(int fd, size_t skip, const char *payload)
{
	for (int tries = 0; tries < 300; tries++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		unsigned char buf[2048];
		ssize_t n;

		if (poll(&pfd, 1, 10) <= 0)
			continue;
		n = read(fd, buf, sizeof(buf));
		if (n < (ssize_t)(skip + 14 + strlen(payload)))
			continue;
		if (buf[skip + 12] == (TEST_ETHERTYPE >> 8) &&
		    buf[skip + 13] == (TEST_ETHERTYPE & 0xff) &&
		    memcmp(buf + skip + 14, payload, strlen(payload)) == 0)
			return true;
	}
	return false;
}

/* Frames cross between the VM's end (tap_fd, as qemu uses it) and the veth's peer, peer0. */
static void assert_frames_cross(int tap_fd)
{
	cleanup_close int peer = packet_socket("peer0");
	unsigned char frame[VNET_HDR_LEN + 128] = { 0 };
	size_t len;

	/* what the guest sends (a vnet header, then the frame) leaves through the veth */
	len = make_frame(frame + VNET_HDR_LEN, "from the guest");
	ck_assert_int_eq(write(tap_fd, frame, VNET_HDR_LEN + len), (ssize_t)(VNET_HDR_LEN + len));
	ck_assert(receive(peer, 0, "from the guest"));
	/* what arrives on the veth reaches the guest */
	len = make_frame(frame, "to the guest");
	ck_assert_int_eq(write(peer, frame, len), (ssize_t)len);
	ck_assert(receive(tap_fd, VNET_HDR_LEN, "to the guest"));
}

START_TEST(test_frames_cross_both_ways)
{
	cleanup_error kata_error_t err = NULL;
	struct network_nics nics;
	cleanup_json json_object *record = NULL;

	record = plumbed(&nics);
	assert_frames_cross(nics.nics[0].tap_fd);
	ck_assert_int_eq(network_teardown(record, &err), 0);
	network_nics_clear(&nics);
}
END_TEST

START_TEST(test_nothing_to_do)
{
	cleanup_error kata_error_t err = NULL;
	struct oci_spec *no_path = spec_with_netns(NULL);
	struct oci_spec *spec = spec_with_netns(ctr_ns);
	struct network_nics nics;
	json_object *record = NULL;

	/* the namespace is the VM's own: nothing on the host */
	ck_assert_int_eq(network_setup(&config, no_path, &record, NULL, &nics, &err), 0);
	ck_assert_ptr_null(record);
	ck_assert_uint_eq(nics.n, 0);
	/* turned off */
	config.runtime.internetworking_model = "none";
	ck_assert_int_eq(network_setup(&config, spec, &record, NULL, &nics, &err), 0);
	ck_assert_ptr_null(record);
	ck_assert_uint_eq(nics.n, 0);
	/* a namespace with only lo (podman --net=none) */
	config.runtime.internetworking_model = "tcfilter";
	run_in("ip link del eth0");
	ck_assert_int_eq(network_setup(&config, spec, &record, NULL, &nics, &err), 0);
	ck_assert_ptr_null(record);
	ck_assert_uint_eq(nics.n, 0);
	ck_assert_int_eq(network_teardown(NULL, &err), 0);
	oci_spec_free(no_path);
	oci_spec_free(spec);
}
END_TEST

/* A refused set-up names the interface and leaves the namespace as it was. */
static void assert_refused(const char *model, const char *path, const char *expected)
{
	cleanup_error kata_error_t err = NULL;
	struct oci_spec *spec = spec_with_netns(path);
	struct network_nics nics;
	json_object *record = NULL;
	cleanup_free char *before = output("ip link; tc qdisc; ip addr; ip route");
	cleanup_free char *after = NULL;

	config.runtime.internetworking_model = (char *)model;
	ck_assert_int_eq(network_setup(&config, spec, &record, NULL, &nics, &err), -1);
	ck_assert_msg(strstr(err->message, expected) != NULL, "`%s` lacks `%s`", err->message,
	              expected);
	ck_assert_ptr_null(record);
	ck_assert_uint_eq(nics.n, 0);
	after = output("ip link; tc qdisc; ip addr; ip route");
	ck_assert_str_eq(before, after);
	oci_spec_free(spec);
}

START_TEST(test_refusals)
{
	assert_refused("tcfilter", "/run/netns/kata-test-no-such-netns",
	               "network namespace `/run/netns/kata-test-no-such-netns`: No such file");
	assert_refused("tcfilter", "/proc/self/ns/uts", "`/proc/self/ns/uts`: enter");
	assert_refused("bridged", ctr_ns, "internetworking_model `bridged` is not supported");
	run_in("ip link add br0 type bridge && ip link set br0 up");
	assert_refused("tcfilter", ctr_ns,
	               "interface `br0`: a bridge device cannot be carried into the VM");
	run_in("ip link del br0 && tc qdisc add dev eth0 ingress");
	assert_refused("tcfilter", ctr_ns, "interface `eth0` has an ingress qdisc already");
	run_in("tc qdisc del dev eth0 ingress && ip tuntap add tap0_kata mode tap");
	assert_refused("tcfilter", ctr_ns, "a link named `tap0_kata` exists already");
}
END_TEST

/* A runtime killed after it recorded the set-up, with some of it made: teardown from the
 * record alone removes what is there. */
START_TEST(test_teardown_after_a_half_made_setup)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *record = NULL;
	cleanup_free char *index = output("ip -o link show eth0 | cut -d: -f1");
	cleanup_free char *text = NULL;
	cleanup_free char *left = NULL;
	cleanup_free char *before = eth0_state();
	cleanup_free char *after = NULL;

	text = xasprintf(
	        "{\"model\":\"tcfilter\",\"netns\":\"%s\",\"endpoints\":[{\"device\":"
	        "\"eth0\",\"index\":%d,\"tap\":\"tap0_kata\",\"txqlen\":0},{\"device\":\"eth1\","
	        "\"index\":99,\"tap\":\"tap1_kata\"}]}",
	        ctr_ns, atoi(index));
	record = json_tokener_parse(text);
	ck_assert_ptr_nonnull(record);
	run_in("ip tuntap add tap0_kata mode tap && tc qdisc add dev eth0 ingress");
	ck_assert_msg(network_teardown(record, &err) == 0, "%s", err->message);
	left = output("ip -o link show; tc qdisc show dev eth0");
	ck_assert_msg(strstr(left, "tap0_kata") == NULL && strstr(left, "ingress") == NULL, "%s",
	              left);
	after = eth0_state();
	ck_assert_str_eq(before, after); /* the ingress qdisc the "runtime" made is gone */
	/* an interface that took the recorded name is not the engine's: left alone */
	run_in("ip link del eth0 && ip link add eth0 type veth peer name peer1 && "
	       "tc qdisc add dev eth0 ingress");
	ck_assert_int_eq(network_teardown(record, &err), 0);
	free(left);
	left = output("tc qdisc show dev eth0");
	ck_assert_msg(strstr(left, "ingress") != NULL, "%s", left);
}
END_TEST

/* Whether this kernel makes macvtap devices (CONFIG_MACVTAP). */
static bool kernel_has_macvtap(void)
{
	return system("ip link add kata-mvt-probe link peer0 type macvtap mode passthru "
	              ">/dev/null 2>&1 && ip link del kata-mvt-probe") == 0;
}

/* internetworking_model = "macvtap": a macvtap in passthru mode on the veth, with its MAC and
 * MTU; its /dev/tapN carries frames both ways; teardown leaves the veth as it was. */
START_TEST(test_macvtap_plumbs_carries_and_is_removed)
{
	cleanup_error kata_error_t err = NULL;
	struct network_nics nics;
	cleanup_json json_object *record = NULL;
	cleanup_free char *before = eth0_state();
	cleanup_free char *links = NULL, *after = NULL, *qdiscs = NULL;
	json_object *model = NULL;

	if (!kernel_has_macvtap()) {
		printf("SKIP macvtap: this kernel makes no macvtap devices (CONFIG_MACVTAP)\n");
		return;
	}
	config.runtime.internetworking_model = "macvtap";
	record = plumbed(&nics);
	ck_assert_uint_eq(nics.n, 1);
	ck_assert_int_ge(nics.nics[0].tap_fd, 0);
	ck_assert_str_eq(nics.nics[0].mac, "02:42:ac:11:00:02");
	ck_assert_uint_eq(nics.nics[0].mtu, 1400);
	ck_assert(json_object_object_get_ex(record, "model", &model));
	ck_assert_str_eq(json_object_get_string(model), "macvtap");
	links = output("ip -d -o link show tap0_kata");
	ck_assert_msg(strstr(links, "tap0_kata@eth0") && strstr(links, "macvtap mode passthru") &&
	                      strstr(links, "mtu 1400") && strstr(links, ",UP") &&
	                      strstr(links, "02:42:ac:11:00:02"),
	              "%s", links);
	/* no tc plumbing with this model */
	qdiscs = output("tc qdisc show dev eth0");
	ck_assert_msg(strstr(qdiscs, "ingress") == NULL, "%s", qdiscs);

	assert_frames_cross(nics.nics[0].tap_fd);

	network_nics_clear(&nics);
	ck_assert_msg(network_teardown(record, &err) == 0, "%s", err->message);
	free(links);
	links = output("ip -o link show");
	ck_assert_msg(strstr(links, "tap0_kata") == NULL, "%s", links);
	after = eth0_state(); /* its promiscuity back to 0 too */
	ck_assert_str_eq(before, after);
	ck_assert_msg(network_teardown(record, &err) == 0, "%s", err->message);
}
END_TEST

START_TEST(test_macvtap_refusals)
{
	if (!kernel_has_macvtap()) {
		printf("SKIP macvtap: this kernel makes no macvtap devices (CONFIG_MACVTAP)\n");
		return;
	}
	/* its macvtap would sit on the macvlan's lower device, outside the namespace */
	run_in("ip link add mv0 link eth0 type macvlan && ip link set mv0 up");
	assert_refused("macvtap", ctr_ns,
	               "interface `mv0`: internetworking_model macvtap carries veth devices "
	               "only, not a macvlan device");
	run_in("ip link del mv0 && ip tuntap add tap0_kata mode tap");
	assert_refused("macvtap", ctr_ns, "a link named `tap0_kata` exists already");
}
END_TEST

/* network_join_late, which must find nothing new: 0, and no request for the agent. */
static void assert_nothing_late(const char *netns, json_object *record)
{
	cleanup_error kata_error_t err = NULL;
	struct network_late late;

	ck_assert_msg(network_join_late(netns, record, NULL, &late, &err) == 0, "%s",
	              err != NULL ? err->message : "");
	ck_assert_ptr_null(late.setup_interface);
	ck_assert_ptr_null(late.setup_route);
}

/* network_join_late, which must refuse with expected in its message, leaving late empty. */
static void assert_late_refused(const char *netns, json_object *record, const char *expected)
{
	cleanup_error kata_error_t err = NULL;
	struct network_late late;

	ck_assert_int_eq(network_join_late(netns, record, NULL, &late, &err), -1);
	ck_assert_msg(strstr(err->message, expected) != NULL, "`%s` not in `%s`", expected,
	              err->message);
	ck_assert_ptr_null(late.setup_interface);
	ck_assert_ptr_null(late.setup_route);
}

/* At start, without a standby NIC: an interface create did not carry is refused by name;
 * what create carried, its taps, lo and down tunnels are not. */
START_TEST(test_start_finds_interfaces_added_after_create)
{
	cleanup_error kata_error_t err = NULL;
	struct network_nics nics;
	cleanup_json json_object *record = NULL;

	record = plumbed(&nics);
	assert_nothing_late(ctr_ns, record);
	run("ip link add eth1 type veth peer name peer1 && ip link set eth1 netns %d",
	    (int)ns_holder);
	assert_late_refused(ctr_ns, record,
	                    "interface `eth1` appeared in the container's network namespace after "
	                    "create: the VM's network cards were made when it booted, at create, "
	                    "and it has no standby card for it");
	ck_assert_int_eq(network_teardown(record, &err), 0);
	network_nics_clear(&nics);
	/* nothing carried at create: the engine's eth0 is new */
	assert_late_refused(ctr_ns, NULL, "interface `eth0`");
	run_in("ip link del eth1 && ip link del eth0");
	assert_nothing_late(ctr_ns, NULL);
	assert_late_refused("/run/netns/kata-test-no-such-netns", NULL, "kata-test-no-such-netns");
}
END_TEST

/* What `ctr run --cni` does: create finds the namespace empty and gives the VM a standby NIC
 * (a tap of its own, down, joined to nothing); CNI then puts a veth there; start joins it to
 * the standby tap and asks the agent to give the guest's NIC the veth's MAC, name, MTU,
 * addresses and routes. Frames cross; a second late interface is refused; delete leaves
 * the veth as the engine made it. */
START_TEST(test_standby_nic_takes_a_late_interface)
{
	cleanup_error kata_error_t err = NULL;
	struct network_checkpoint cp = { count_save, NULL };
	struct network_nics nics = { .n = 0 };
	__attribute__((cleanup(network_late_clear))) struct network_late late = { NULL, NULL };
	cleanup_json json_object *record = NULL;
	cleanup_free char *tap = NULL, *before = NULL, *filters = NULL, *after = NULL;
	cleanup_free char *links = NULL;
	json_object *v = NULL;

	run_in("ip link del eth0"); /* the namespace as the runtime makes it: lo only */
	saves = 0;
	ck_assert_msg(network_standby_setup(ctr_ns, &record, &cp, &nics, &err) == 0, "%s",
	              err->message);
	ck_assert_int_eq(saves, 1);
	ck_assert_uint_eq(nics.n, 1);
	ck_assert_int_ge(nics.nics[0].tap_fd, 0);
	ck_assert_str_eq(nics.nics[0].mac, NETWORK_STANDBY_MAC);
	tap = output("ip -o link show tap0_kata");
	ck_assert_msg(strstr(tap, "tap0_kata") != NULL && strstr(tap, ",UP") == NULL, "%s", tap);
	assert_nothing_late(ctr_ns, record); /* the standby tap is the runtime's own */

	/* CNI's bridge plugin, between create and start */
	run("ip link add eth0 address 02:42:0a:4d:00:07 mtu 1450 type veth peer name peer0 "
	    "mtu 1450 && ip link set eth0 netns %d && ip link set peer0 up",
	    (int)ns_holder);
	run_in("ip link set eth0 txqueuelen 0 && ip addr add 10.77.0.7/16 dev eth0 && "
	       "ip link set eth0 up && ip route add default via 10.77.0.1");
	before = eth0_state();
	ck_assert_msg(network_join_late(ctr_ns, record, &cp, &late, &err) == 1, "%s", err->message);
	ck_assert_int_eq(saves, 2);
	/* SETUPINTERFACE: the guest's standby NIC takes the veth's identity (found by none) */
	ck_assert(!json_object_object_get_ex(late.setup_interface, "device", NULL));
	ck_assert(json_object_object_get_ex(late.setup_interface, "newDeviceName", &v));
	ck_assert_str_eq(json_object_get_string(v), "eth0");
	ck_assert(json_object_object_get_ex(late.setup_interface, "macAddr", &v));
	ck_assert_str_eq(json_object_get_string(v), "02:42:0a:4d:00:07");
	ck_assert(json_object_object_get_ex(late.setup_interface, "mtu", &v));
	ck_assert_int_eq(json_object_get_int(v), 1450);
	ck_assert_str_eq(json_object_get_string(
	                         path_get(late.setup_interface, "ipAddresses", 0, "ipAddress")),
	                 "10.77.0.7");
	ck_assert_ptr_nonnull(late.setup_route);
	ck_assert(json_object_object_get_ex(late.setup_route, "routes", &v));
	ck_assert(has_route(v, "default", "10.77.0.1"));
	/* the record: what delete must undo */
	ck_assert_str_eq(json_object_get_string(path_get(record, "endpoints", 0, "device")),
	                 "eth0");
	ck_assert_str_eq(json_object_get_string(path_get(record, "interfaces", 0, "macAddr")),
	                 "02:42:0a:4d:00:07");
	filters = output("tc filter show dev eth0 ingress");
	ck_assert_msg(strstr(filters, "Redirect to device tap0_kata") != NULL, "%s", filters);
	free(tap);
	tap = output("ip -o link show tap0_kata");
	ck_assert_msg(strstr(tap, "mtu 1450") != NULL && strstr(tap, ",UP") != NULL, "%s", tap);
	assert_frames_cross(nics.nics[0].tap_fd);

	/* joined once: nothing new, then a second interface has no standby card left */
	assert_nothing_late(ctr_ns, record);
	run("ip link add eth1 type veth peer name peer1 && ip link set eth1 netns %d",
	    (int)ns_holder);
	assert_late_refused(ctr_ns, record, "interface `eth1` appeared");
	run_in("ip link del eth1");

	network_nics_clear(&nics);
	ck_assert_msg(network_teardown(record, &err) == 0, "%s", err->message);
	links = output("ip -o link show");
	ck_assert_msg(strstr(links, "tap0_kata") == NULL, "%s", links);
	after = eth0_state();
	ck_assert_str_eq(before, after);
}
END_TEST

/* Two interfaces at once: refused, naming both, before anything is made. */
START_TEST(test_standby_refuses_two_late_interfaces)
{
	cleanup_error kata_error_t err = NULL;
	struct network_nics nics = { .n = 0 };
	cleanup_json json_object *record = NULL;
	cleanup_free char *qdiscs = NULL, *links = NULL;

	run_in("ip link del eth0");
	ck_assert_msg(network_standby_setup(ctr_ns, &record, NULL, &nics, &err) == 0, "%s",
	              err->message);
	run("ip link add eth0 type veth peer name peer0 && ip link set eth0 netns %d && "
	    "ip link add eth1 type veth peer name peer1 && ip link set eth1 netns %d",
	    (int)ns_holder, (int)ns_holder);
	assert_late_refused(ctr_ns, record, "interfaces `eth0` and `eth1` appeared");
	qdiscs = output("tc qdisc show ingress");
	ck_assert_msg(strstr(qdiscs, "ingress") == NULL, "%s", qdiscs);
	ck_assert_ptr_null(path_get(record, "endpoints", 0, "device"));
	network_nics_clear(&nics);
	ck_assert_msg(network_teardown(record, &err) == 0, "%s", err->message);
	links = output("ip -o link show");
	ck_assert_msg(strstr(links, "tap0_kata") == NULL && strstr(links, "eth0") != NULL, "%s",
	              links);
}
END_TEST

START_TEST(test_teardown_after_the_engine_removed_the_namespace)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_json json_object *record = json_tokener_parse(
	        "{\"netns\":\"/run/netns/kata-test-gone\",\"endpoints\":[{\"device\":\"eth0\","
	        "\"index\":2,\"tap\":\"tap0_kata\"}]}");

	ck_assert_int_eq(network_teardown(record, &err), 0);
}
END_TEST

/* The namespace create makes for Docker's hook: new, bind-mounted on a file (in a mount
 * namespace of the test's own, gone with it), the runtime staying in its own; the hooks'
 * process stands in it and is reaped when let go. */
START_TEST(test_own_netns_and_its_holder)
{
	cleanup_error kata_error_t err = NULL;
	/* under the program's test directory: removed even when this test fails */
	cleanup_free char *dir = xasprintf("%s/netns-XXXXXX", unit_test_dir);
	cleanup_free char *path = NULL, *proc = NULL;
	struct netns_holder holder;
	struct stat made, self, held;
	pid_t pid;

	ck_assert_int_eq(unshare(CLONE_NEWNS), 0);
	ck_assert_int_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	ck_assert_ptr_nonnull(mkdtemp(dir));
	path = xasprintf("%s/netns", dir);
	ck_assert_msg(netns_create_at(path, &err) == 0, "%s", err != NULL ? err->message : "");
	ck_assert_int_eq(stat(path, &made), 0);
	ck_assert_int_eq(stat("/proc/thread-self/ns/net", &self), 0);
	ck_assert(made.st_ino != self.st_ino);
	/* the same file again: refused, the first left as it was */
	ck_assert_int_eq(netns_create_at(path, &err), -1);
	ck_assert_msg(strstr(err->message, "File exists") != NULL, "%s", err->message);
	kata_error_free(&err);
	ck_assert_int_eq(stat(path, &held), 0);
	ck_assert_uint_eq(held.st_ino, made.st_ino);

	ck_assert_msg(netns_holder_start(path, &holder, &err) == 0, "%s", err->message);
	pid = holder.pid;
	proc = xasprintf("/proc/%d/ns/net", (int)pid);
	ck_assert_int_eq(stat(proc, &held), 0);
	ck_assert_uint_eq(held.st_ino, made.st_ino);
	netns_holder_stop(&holder);
	ck_assert_int_eq(kill(pid, 0), -1); /* reaped, not a zombie */
	netns_holder_stop(&holder);         /* harmless twice */

	/* without a path it stays in the runtime's */
	ck_assert_int_eq(netns_holder_start(NULL, &holder, &err), 0);
	free(proc);
	proc = xasprintf("/proc/%d/ns/net", (int)holder.pid);
	ck_assert_int_eq(stat(proc, &held), 0);
	ck_assert_uint_eq(held.st_ino, self.st_ino);
	netns_holder_stop(&holder);

	/* not a namespace: a clear error, no process left */
	ck_assert_int_eq(netns_holder_start(dir, &holder, &err), -1);
	ck_assert_msg(strstr(err->message, "could not enter") != NULL, "%s", err->message);
	ck_assert_int_eq(holder.pid, -1);
	kata_error_free(&err);
	ck_assert_int_eq(netns_holder_start("/run/netns/kata-test-no-such", &holder, &err), -1);
	ck_assert_int_eq(holder.pid, -1);

	ck_assert_int_eq(umount2(path, MNT_DETACH), 0);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(rmdir(dir), 0);
}
END_TEST

static bool wants_own(const char *model, bool disabled, const char *netns, const char *hooks)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *text =
	        xasprintf("{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"rootfs\"},"
	                  "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},%s"
	                  "\"linux\":{\"namespaces\":[{\"type\":\"mount\"}%s]}}",
	                  hooks, netns);
	struct oci_spec *spec = oci_spec_parse(text, strlen(text), &err);
	bool wants;

	ck_assert_msg(spec != NULL, "%s", err != NULL ? err->message : "");
	config.runtime.internetworking_model = (char *)model;
	config.runtime.disable_new_netns = disabled;
	wants = network_wants_own_netns(&config, spec);
	oci_spec_free(spec);
	return wants;
}

/* Made whenever the spec asks for a new namespace, unless the network is turned off. */
START_TEST(test_when_the_runtime_makes_the_namespace)
{
	const char *new_ns = ",{\"type\":\"network\"}";
	const char *path = ",{\"type\":\"network\",\"path\":\"/run/netns/x\"}";
	const char *prestart = "\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]},";
	const char *create_runtime = "\"hooks\":{\"createRuntime\":[{\"path\":\"/bin/true\"}]},";
	const char *poststart = "\"hooks\":{\"poststart\":[{\"path\":\"/bin/true\"}]},";

	ck_assert(wants_own("tcfilter", false, new_ns, prestart));
	ck_assert(wants_own("tcfilter", false, new_ns, create_runtime));
	ck_assert(wants_own("tcfilter", false, new_ns, poststart));
	ck_assert(wants_own("tcfilter", false, new_ns, "")); /* ctr run --cni fills it later */
	ck_assert(wants_own("macvtap", false, new_ns, ""));
	ck_assert(!wants_own("tcfilter", false, path, prestart));
	ck_assert(!wants_own("tcfilter", false, "", prestart)); /* the host's network */
	ck_assert(!wants_own("none", false, new_ns, prestart));
	ck_assert(!wants_own("tcfilter", true, new_ns, prestart));
}
END_TEST

/* The standby NIC only for containerd's tasks whose namespace create made and found empty. */
START_TEST(test_when_create_makes_a_standby_nic)
{
	cleanup_error kata_error_t err = NULL;
	const char *task = "/run/containerd/io.containerd.runtime.v2.task/default/c1";
	const char *v1 = "/run/containerd/io.containerd.runtime.v1.linux/default/c1";
	static const char plain[] = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
	                            "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                            "\"linux\":{\"namespaces\":[{\"type\":\"network\"}]}}";
	static const char hooked[] = "{\"ociVersion\":\"1.0.2\",\"root\":{\"path\":\"r\"},"
	                             "\"process\":{\"args\":[\"sh\"],\"cwd\":\"/\"},"
	                             "\"hooks\":{\"prestart\":[{\"path\":\"/bin/true\"}]},"
	                             "\"linux\":{\"namespaces\":[{\"type\":\"network\"}]}}";
	struct oci_spec *spec = oci_spec_parse(plain, strlen(plain), &err);
	struct oci_spec *docker = oci_spec_parse(hooked, strlen(hooked), &err);
	cleanup_json json_object *carried = json_object_new_object();

	ck_assert_ptr_nonnull(spec);
	ck_assert_ptr_nonnull(docker);
	config.runtime.internetworking_model = "tcfilter";
	config.runtime.disable_new_netns = false;
	ck_assert(network_wants_standby(&config, spec, task, NULL));
	ck_assert(network_wants_standby(&config, spec, v1, NULL));
	ck_assert(!network_wants_standby(&config, spec, "/home/me/bundle", NULL)); /* runc's way */
	ck_assert(!network_wants_standby(&config, spec, task, carried)); /* it had an interface */
	ck_assert(!network_wants_standby(&config, docker, task, NULL)); /* Docker's hook fills it */
	config.agent.dialect = KATA_DIALECT_HYPERSTART;                 /* runV's agent */
	ck_assert(!network_wants_standby(&config, spec, task, NULL));
	config.agent.dialect = KATA_DIALECT_KATA;
	config.runtime.internetworking_model = "macvtap";
	ck_assert(!network_wants_standby(&config, spec, task, NULL));
	config.runtime.internetworking_model = "none";
	ck_assert(!network_wants_standby(&config, spec, task, NULL));
	oci_spec_free(spec);
	oci_spec_free(docker);
}
END_TEST

static Suite *network_suite(void)
{
	Suite *s = suite_create("network");
	TCase *tc = tcase_create("tcfilter");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_setup_plumbs_and_teardown_restores);
	tcase_add_test(tc, test_startpod_keys);
	tcase_add_test(tc, test_frames_cross_both_ways);
	tcase_add_test(tc, test_nothing_to_do);
	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_teardown_after_a_half_made_setup);
	tcase_add_test(tc, test_teardown_after_the_engine_removed_the_namespace);
	tcase_add_test(tc, test_start_finds_interfaces_added_after_create);
	tcase_add_test(tc, test_standby_nic_takes_a_late_interface);
	tcase_add_test(tc, test_standby_refuses_two_late_interfaces);
	suite_add_tcase(s, tc);
	tc = tcase_create("macvtap");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_macvtap_plumbs_carries_and_is_removed);
	tcase_add_test(tc, test_macvtap_refusals);
	suite_add_tcase(s, tc);
	tc = tcase_create("own namespace");
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_own_netns_and_its_holder);
	tcase_add_test(tc, test_when_the_runtime_makes_the_namespace);
	tcase_add_test(tc, test_when_create_makes_a_standby_nic);
	suite_add_tcase(s, tc);
	return s;
}

/* Every test unshares a network namespace of its own: it must run in its own process. */
const struct unit_test unit_test = {
	.suite = network_suite,
	.always_fork = true,
	.test_dir = "kata-test-network",
};
