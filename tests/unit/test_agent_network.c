/* STARTPOD's "interfaces" and "routes" (agent/guest_network_parse.c): hyperstart's keys read
 * into struct agent_net_config, and every kind of bad input refused with a message that
 * names the interface or route. SETUPINTERFACE and SETUPROUTE (a network that arrives after
 * STARTPOD) are also applied for real, in a network namespace of the test's own. */
#include <arpa/inet.h>
#include "check_main.h"
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "agent/guest_network.h"
#include "agent/request.h"
#include "agent_proto.h"
#include "cleanup.h"
#include "json_util.h"

static json_object *parse(const char *text)
{
	json_object *obj = json_tokener_parse(text);

	ck_assert_msg(obj != NULL, "bad test JSON: %s", text);
	return obj;
}

static void assert_address(const struct agent_net_address *a, int family, const char *text,
                           unsigned prefix_len)
{
	char buf[INET6_ADDRSTRLEN];

	ck_assert_int_eq(a->family, family);
	ck_assert_str_eq(agent_net_address_text(a, buf, sizeof(buf)), text);
	ck_assert_uint_eq(a->prefix_len, prefix_len);
}

/* Parses text, which must fail with a message containing every one of the fragments. */
static void assert_refused(const char *text, const char *fragment1, const char *fragment2)
{
	cleanup_json json_object *req = parse(text);
	cleanup_error kata_error_t err = NULL;
	struct agent_net_config c;

	ck_assert_msg(agent_parse_network(req, &c, &err) == -1, "accepted: %s", text);
	ck_assert_ptr_nonnull(err);
	ck_assert_msg(strstr(err->message, fragment1) != NULL, "`%s` not in `%s`", fragment1,
	              err->message);
	if (fragment2)
		ck_assert_msg(strstr(err->message, fragment2) != NULL, "`%s` not in `%s`",
		              fragment2, err->message);
	ck_assert_ptr_null(c.interfaces);
	ck_assert_ptr_null(c.routes);
}

#define IFACE_HEAD "{\"interfaces\":[{\"device\":\"eth0\",\"macAddr\":\"02:42:ac:11:00:02\","

START_TEST(test_full_request)
{
	cleanup_json json_object *req = parse(
	        "{\"interfaces\":[{\"device\":\"eth0\",\"newDeviceName\":\"net1\","
	        "\"macAddr\":\"02:42:AC:11:00:02\",\"mtu\":1400,\"ipAddresses\":["
	        "{\"ipAddress\":\"10.88.0.5\",\"netMask\":\"16\"},"
	        "{\"ipAddress\":\"fd00::5\",\"netMask\":\"64\"}]}],"
	        "\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.88.0.1\",\"device\":\"net1\"},"
	        "{\"dest\":\"10.1.0.0/16\",\"device\":\"net1\"},"
	        "{\"dest\":\"::/0\",\"gateway\":\"fd00::1\",\"device\":\"net1\"}]}");
	cleanup_error kata_error_t err = NULL;
	struct agent_net_config c;
	const struct agent_net_interface *i;
	const struct agent_net_route *r;
	static const unsigned char mac[6] = { 0x02, 0x42, 0xac, 0x11, 0x00, 0x02 };

	ck_assert_int_eq(agent_parse_network(req, &c, &err), 0);
	ck_assert_uint_eq(c.n_interfaces, 1);
	i = &c.interfaces[0];
	ck_assert_str_eq(i->label, "interfaces[0] (net1, 02:42:AC:11:00:02)");
	ck_assert_str_eq(i->device, "eth0");
	ck_assert_str_eq(i->new_name, "net1");
	ck_assert(i->has_mac);
	ck_assert_mem_eq(i->mac, mac, 6);
	ck_assert_uint_eq(i->mtu, 1400);
	ck_assert_uint_eq(i->n_addresses, 2);
	assert_address(&i->addresses[0], AF_INET, "10.88.0.5", 16);
	assert_address(&i->addresses[1], AF_INET6, "fd00::5", 64);

	ck_assert_uint_eq(c.n_routes, 3);
	r = &c.routes[0];
	ck_assert_str_eq(r->label, "routes[0] (default via 10.88.0.1 dev net1)");
	assert_address(&r->dest, AF_INET, "0.0.0.0", 0);
	ck_assert(r->has_gateway);
	assert_address(&r->gateway, AF_INET, "10.88.0.1", 0);
	ck_assert(!r->has_source);
	ck_assert_str_eq(r->device, "net1");
	r = &c.routes[1];
	assert_address(&r->dest, AF_INET, "10.1.0.0", 16);
	ck_assert(!r->has_gateway);
	ck_assert_str_eq(r->label, "routes[1] (10.1.0.0/16 dev net1)");
	r = &c.routes[2];
	assert_address(&r->dest, AF_INET6, "::", 0);
	assert_address(&r->gateway, AF_INET6, "fd00::1", 0);
	agent_net_config_clear(&c);
	ck_assert_ptr_null(c.interfaces);
}
END_TEST

/* What Clear Containers' runtimes and hyperstart's own clients sent. */
START_TEST(test_foreign_shapes)
{
	cleanup_json json_object *req = parse(
	        "{\"interfaces\":[{\"macAddr\":\"02:42:ac:11:00:02\",\"newDeviceName\":\"eth0\","
	        "\"mtu\":\"1500\",\"device\":\"\",\"ipAddresses\":[{\"ipAddress\":\"172.17.0.2\","
	        "\"netMask\":\"255.255.0.0\"},{\"ipAddress\":\"10.0.0.2\",\"netMask\":8}]},"
	        "{\"device\":\"eth1\",\"ipAddress\":\"192.168.1.2\",\"netMask\":\"24\"}],"
	        "\"routes\":[{\"src\":\"\",\"dest\":\"172.17.0.0\",\"device\":\"eth0\"},"
	        "{\"dest\":\"default\",\"gateway\":\"fd00::1\",\"device\":\"\"},"
	        "{\"dest\":\"any\",\"gateway\":\"\",\"device\":\"eth1\"},"
	        "{\"dest\":\"10.2.0.0/"
	        "255.255.0.0\",\"gateway\":\"172.17.0.1\",\"src\":\"172.17.0.2\"}]}");
	cleanup_error kata_error_t err = NULL;
	struct agent_net_config c;

	ck_assert_int_eq(agent_parse_network(req, &c, &err), 0);
	ck_assert_uint_eq(c.n_interfaces, 2);
	ck_assert_ptr_null(c.interfaces[0].device);
	ck_assert_str_eq(c.interfaces[0].label, "interfaces[0] (eth0, 02:42:ac:11:00:02)");
	ck_assert_uint_eq(c.interfaces[0].mtu, 1500);
	assert_address(&c.interfaces[0].addresses[0], AF_INET, "172.17.0.2", 16);
	assert_address(&c.interfaces[0].addresses[1], AF_INET, "10.0.0.2", 8);
	/* hyperstart's first shape: one address in the interface object itself */
	ck_assert(!c.interfaces[1].has_mac);
	ck_assert_uint_eq(c.interfaces[1].mtu, 0);
	ck_assert_uint_eq(c.interfaces[1].n_addresses, 1);
	assert_address(&c.interfaces[1].addresses[0], AF_INET, "192.168.1.2", 24);

	ck_assert_uint_eq(c.n_routes, 4);
	/* an address alone is a route to that host; an empty src or gateway is no key */
	assert_address(&c.routes[0].dest, AF_INET, "172.17.0.0", 32);
	ck_assert(!c.routes[0].has_source);
	/* "default" takes the gateway's family */
	assert_address(&c.routes[1].dest, AF_INET6, "::", 0);
	ck_assert_ptr_null(c.routes[1].device);
	assert_address(&c.routes[2].dest, AF_INET, "0.0.0.0", 0);
	ck_assert(!c.routes[2].has_gateway);
	assert_address(&c.routes[3].dest, AF_INET, "10.2.0.0", 16);
	ck_assert(c.routes[3].has_source);
	assert_address(&c.routes[3].source, AF_INET, "172.17.0.2", 0);
	agent_net_config_clear(&c);
}
END_TEST

START_TEST(test_nothing)
{
	cleanup_json json_object *req = parse("{\"hostname\":\"x\",\"interfaces\":null}");
	cleanup_error kata_error_t err = NULL;
	struct agent_net_config c;

	ck_assert_int_eq(agent_parse_network(req, &c, &err), 0);
	ck_assert_uint_eq(c.n_interfaces, 0);
	ck_assert_uint_eq(c.n_routes, 0);
	agent_net_config_clear(&c);

	json_object_put(req);
	req = parse("{\"interfaces\":[],\"routes\":[]}");
	ck_assert_int_eq(agent_parse_network(req, &c, &err), 0);
	ck_assert_uint_eq(c.n_interfaces, 0);
	agent_net_config_clear(&c);
}
END_TEST

START_TEST(test_bad_interfaces)
{
	assert_refused("{\"interfaces\":{}}", "interfaces: expected an array", NULL);
	assert_refused("{\"interfaces\":[\"eth0\"]}", "interfaces[0]: expected an object", NULL);
	assert_refused("{\"interfaces\":[{\"mtu\":1500}]}",
	               "interfaces[0]: neither macAddr nor device is given", NULL);
	assert_refused("{\"interfaces\":[{\"device\":\"eth0\",\"macAddr\":\"02:42:ac:11:00\"}]}",
	               "interfaces[0] (eth0, 02:42:ac:11:00): macAddr: `02:42:ac:11:00` is not a "
	               "MAC address",
	               NULL);
	assert_refused("{\"interfaces\":[{\"macAddr\":\"02-42-ac-11-00-02\"}]}",
	               "is not a MAC address", NULL);
	assert_refused("{\"interfaces\":[{\"macAddr\":\"02:42:ac:11:00:0g\"}]}",
	               "is not a MAC address", NULL);
	assert_refused("{\"interfaces\":[{\"device\":\"eth0/x\"}]}",
	               "interfaces[0] (eth0/x): device: `eth0/x` is not a valid interface name",
	               NULL);
	assert_refused(
	        "{\"interfaces\":[{\"device\":\"eth0\",\"newDeviceName\":\"abcdefghijklmnop\"}]}",
	        "newDeviceName: `abcdefghijklmnop` is not a valid interface name", NULL);
	assert_refused("{\"interfaces\":[{\"device\":\"eth 0\"}]}", "not a valid interface name",
	               NULL);
	assert_refused("{\"interfaces\":[{\"device\":7}]}",
	               "interfaces[0].device: expected a string", NULL);
	/* two entries for one device, or one name twice */
	assert_refused("{\"interfaces\":[{\"macAddr\":\"02:42:ac:11:00:02\"},"
	               "{\"macAddr\":\"02:42:AC:11:00:02\"}]}",
	               "interfaces[1] (02:42:AC:11:00:02): the same macAddr as interfaces[0]",
	               NULL);
	assert_refused("{\"interfaces\":[{\"device\":\"eth0\"},"
	               "{\"macAddr\":\"02:42:ac:11:00:03\",\"newDeviceName\":\"eth0\"}]}",
	               "interfaces[1] (eth0, 02:42:ac:11:00:03): the same name as interfaces[0]",
	               NULL);
	{
		char text[4096] = "{\"interfaces\":[";

		for (int i = 0; i <= AGENT_NET_MAX_INTERFACES; i++)
			snprintf(text + strlen(text), sizeof(text) - strlen(text),
			         "%s{\"device\":\"eth%d\"}", i ? "," : "", i);
		strcat(text, "]}");
		assert_refused(text, "interfaces: more than 32", NULL);
	}
}
END_TEST

START_TEST(test_bad_addresses)
{
	assert_refused(IFACE_HEAD
	               "\"ipAddresses\":[{\"ipAddress\":\"10.88.0.300\",\"netMask\":\"16\"}]}]}",
	               "interfaces[0] (eth0, 02:42:ac:11:00:02): ipAddresses[0].ipAddress: "
	               "`10.88.0.300` is not an IPv4 or IPv6 address",
	               NULL);
	assert_refused(IFACE_HEAD
	               "\"ipAddresses\":[{\"ipAddress\":\"10.88.0.5/16\",\"netMask\":\"16\"}]}]}",
	               "is not an IPv4 or IPv6 address", NULL);
	assert_refused(IFACE_HEAD
	               "\"ipAddresses\":[{\"ipAddress\":\"fe80::1%eth0\",\"netMask\":\"64\"}]}]}",
	               "is not an IPv4 or IPv6 address", NULL);
	assert_refused(IFACE_HEAD
	               "\"ipAddresses\":[{\"ipAddress\":\"0.0.0.0\",\"netMask\":\"8\"}]}]}",
	               "`0.0.0.0` cannot be an interface's address", NULL);
	assert_refused(IFACE_HEAD
	               "\"ipAddresses\":[{\"ipAddress\":\"ff02::1\",\"netMask\":\"64\"}]}]}",
	               "cannot be an interface's address", NULL);
	assert_refused(
	        IFACE_HEAD "\"ipAddresses\":[{\"netMask\":\"16\"}]}]}",
	        "interfaces[0] (eth0, 02:42:ac:11:00:02): ipAddresses[0].ipAddress: required",
	        NULL);
	assert_refused(IFACE_HEAD "\"ipAddresses\":[{\"ipAddress\":\"10.88.0.5\"}]}]}",
	               "ipAddresses[0].netMask: required", NULL);
	assert_refused(IFACE_HEAD
	               "\"ipAddresses\":[{\"ipAddress\":\"10.88.0.5\",\"netMask\":\"16\"},"
	               "{\"ipAddress\":\"10.88.0.5\",\"netMask\":\"24\"}]}]}",
	               "address 10.88.0.5 given twice", NULL);
	assert_refused(IFACE_HEAD "\"ipAddresses\":\"10.88.0.5\"}]}",
	               "interfaces[0] (eth0, 02:42:ac:11:00:02): ipAddresses: expected an array",
	               NULL);
}
END_TEST

START_TEST(test_bad_prefixes)
{
	static const struct {
		const char *address, *mask, *message;
	} cases[] = {
		{ "10.88.0.5", "\"33\"",
		  "`33` is not a valid IPv4 prefix length (0-32) or netmask" },
		{ "10.88.0.5", "\"abc\"", "`abc` is not a valid IPv4 prefix length" },
		{ "10.88.0.5", "\"\"", "`` is not a valid IPv4 prefix length" },
		{ "10.88.0.5", "\"-1\"", "`-1` is not a valid IPv4 prefix length" },
		{ "10.88.0.5", "\"255.0.255.0\"",
		  "`255.0.255.0` is not a valid IPv4 prefix length" },
		{ "10.88.0.5", "\"1600\"", "`1600` is not a valid IPv4 prefix length" },
		{ "10.88.0.5", "-1", "prefix length -1 out of range (0-32)" },
		{ "10.88.0.5", "true",
		  "expected a prefix length or netmask (a string), got a boolean" },
		{ "fd00::5", "\"129\"", "`129` is not a valid IPv6 prefix length (0-128)" },
		{ "fd00::5", "\"ffff:ffff::\"", "`ffff:ffff::` is not a valid IPv6 prefix length" },
		{ "fd00::5", "\"255.255.0.0\"", "is not a valid IPv6 prefix length" },
		{ "fd00::5", "200", "prefix length 200 out of range (0-128)" },
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];

		snprintf(text, sizeof(text),
		         IFACE_HEAD "\"ipAddresses\":[{\"ipAddress\":\"%s\",\"netMask\":%s}]}]}",
		         cases[i].address, cases[i].mask);
		assert_refused(text,
		               "interfaces[0] (eth0, 02:42:ac:11:00:02): ipAddresses[0].netMask: ",
		               cases[i].message);
	}
}
END_TEST

START_TEST(test_mtu)
{
	static const struct {
		const char *mtu, *message;
	} bad[] = {
		{ "67", "mtu 67 out of range (68-65535)" },
		{ "65536", "mtu 65536 out of range (68-65535)" },
		{ "-1500", "mtu -1500 out of range" },
		{ "\"9000x\"", "mtu: `9000x` is not a number" },
		{ "\"-1\"", "mtu: `-1` is not a number" },
		{ "true", "mtu: expected an integer" },
		{ "1500.5", "mtu: expected an integer" },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char text[256];

		snprintf(text, sizeof(text), IFACE_HEAD "\"mtu\":%s}]}", bad[i].mtu);
		assert_refused(text, "interfaces[0] (eth0, 02:42:ac:11:00:02): ", bad[i].message);
	}
	assert_refused(IFACE_HEAD "\"mtu\":1000,\"ipAddresses\":[{\"ipAddress\":\"fd00::5\","
	                          "\"netMask\":\"64\"}]}]}",
	               "mtu 1000 is below IPv6's minimum of 1280", NULL);
	{
		cleanup_json json_object *req = parse(
		        IFACE_HEAD
		        "\"mtu\":68,\"ipAddresses\":[{\"ipAddress\":\"10.0.0.1\","
		        "\"netMask\":\"8\"}]},{\"device\":\"eth1\",\"mtu\":65535},"
		        "{\"device\":\"eth2\",\"mtu\":0},{\"device\":\"eth3\",\"mtu\":\"\"}]}");
		cleanup_error kata_error_t err = NULL;
		struct agent_net_config c;

		ck_assert_int_eq(agent_parse_network(req, &c, &err), 0);
		ck_assert_uint_eq(c.interfaces[0].mtu, 68);
		ck_assert_uint_eq(c.interfaces[1].mtu, 65535);
		ck_assert_uint_eq(c.interfaces[2].mtu, 0); /* 0 or "": leave the device's */
		ck_assert_uint_eq(c.interfaces[3].mtu, 0);
		agent_net_config_clear(&c);
	}
}
END_TEST

START_TEST(test_bad_routes)
{
	assert_refused("{\"routes\":[{\"gateway\":\"10.0.0.1\"}]}", "routes[0].dest: required",
	               NULL);
	assert_refused(
	        "{\"routes\":[{\"dest\":\"nowhere\",\"device\":\"eth0\"}]}",
	        "routes[0] (nowhere dev eth0): dest: `nowhere` is not an address or a network",
	        NULL);
	assert_refused("{\"routes\":[{\"dest\":\"10.1.0.0/33\",\"device\":\"eth0\"}]}",
	               "dest: `10.1.0.0/33`: invalid prefix length", NULL);
	assert_refused("{\"routes\":[{\"dest\":\"10.1.2.0/16\",\"device\":\"eth0\"}]}",
	               "dest: `10.1.2.0/16` has bits set beyond its prefix length", NULL);
	assert_refused(
	        "{\"routes\":[{\"dest\":\"10.1.0.0/16\",\"gateway\":\"fd00::1\"}]}",
	        "routes[0] (10.1.0.0/16 via fd00::1): dest, gateway and src are not all IPv4",
	        NULL);
	assert_refused("{\"routes\":[{\"dest\":\"::/0\",\"gateway\":\"10.0.0.1\"}]}",
	               "dest, gateway and src are not all IPv6", NULL);
	assert_refused("{\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.0.0.1\",\"src\":\"fd00:"
	               ":2\"}]}",
	               "dest, gateway and src are not all IPv4", NULL);
	assert_refused("{\"routes\":[{\"dest\":\"10.1.0.0/16\"}]}",
	               "routes[0] (10.1.0.0/16): neither gateway nor device is given", NULL);
	assert_refused("{\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.0.0.300\"}]}",
	               "gateway: `10.0.0.300` is not an IPv4 or IPv6 address", NULL);
	assert_refused("{\"routes\":[{\"dest\":\"default\",\"gateway\":\"224.0.0.1\"}]}",
	               "gateway: `224.0.0.1` is not a unicast address", NULL);
	assert_refused("{\"routes\":[{\"dest\":\"default\",\"device\":\"a/b\"}]}",
	               "device: `a/b` is not a valid interface name", NULL);
	assert_refused(
	        "{\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.0.0.1\",\"src\":\"x\"}]}",
	        "src: `x` is not an IPv4 or IPv6 address", NULL);
	assert_refused("{\"routes\":[5]}", "routes[0]: expected an object", NULL);
	/* a later bad route frees the interfaces parsed before it */
	assert_refused("{\"interfaces\":[{\"device\":\"eth0\"}],\"routes\":[{\"dest\":\"default\","
	               "\"device\":\"eth0\"},{\"dest\":1}]}",
	               "routes[1].dest: expected a string", NULL);
}
END_TEST

START_TEST(test_helpers)
{
	unsigned char mac[6];

	ck_assert(agent_net_parse_mac("aa:BB:cc:dd:ee:0f", mac));
	ck_assert_uint_eq(mac[0], 0xaa);
	ck_assert_uint_eq(mac[1], 0xbb);
	ck_assert_uint_eq(mac[5], 0x0f);
	ck_assert(!agent_net_parse_mac("aa:bb:cc:dd:ee:0f:", mac));
	ck_assert(!agent_net_parse_mac("aa:bb:cc:dd:ee", mac));
	ck_assert(!agent_net_parse_mac("aabbccddeeff", mac));
	ck_assert(!agent_net_parse_mac("aa:bg:cc:dd:ee:ff", mac));
	ck_assert(!agent_net_parse_mac(" a:bb:cc:dd:ee:ff", mac));
	ck_assert(!agent_net_parse_mac(NULL, mac));
	ck_assert(agent_net_valid_name("eth0"));
	ck_assert(agent_net_valid_name("abcdefghijklmno"));
	ck_assert(!agent_net_valid_name("abcdefghijklmnop"));
	ck_assert(!agent_net_valid_name(""));
	ck_assert(!agent_net_valid_name("."));
	ck_assert(!agent_net_valid_name(".."));
	ck_assert(!agent_net_valid_name("eth0:1"));
	ck_assert(!agent_net_valid_name("eth\n"));
	ck_assert(!agent_net_valid_name(NULL));
}
END_TEST

/* STARTPOD carries them: a bad interface fails the whole request, naming it. */
START_TEST(test_startpod_carries_network)
{
	cleanup_json json_object *req =
	        parse("{\"hostname\":\"pod\",\"shareDir\":\"kataShared\",\"interfaces\":[{"
	              "\"device\":\"eth0\","
	              "\"ipAddresses\":[{\"ipAddress\":\"10.0.0.2\",\"netMask\":\"24\"}]}],"
	              "\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.0.0.1\"}]}");
	cleanup_json json_object *bad =
	        parse("{\"hostname\":\"pod\",\"interfaces\":[{\"macAddr\":\"02:00:00:00:00:01\","
	              "\"ipAddresses\":[{\"ipAddress\":\"10.0.0.2\",\"netMask\":\"40\"}]}]}");
	cleanup_error kata_error_t err = NULL;
	struct agent_startpod_request r;

	ck_assert_int_eq(agent_parse_startpod(req, &r, &err), 0);
	ck_assert_uint_eq(r.net.n_interfaces, 1);
	ck_assert_uint_eq(r.net.n_routes, 1);
	ck_assert_str_eq(r.hostname, "pod");
	agent_startpod_request_clear(&r);
	ck_assert_int_eq(agent_parse_startpod(bad, &r, &err), -1);
	ck_assert_str_eq(err->message, "interfaces[0] (02:00:00:00:00:01): ipAddresses[0].netMask: "
	                               "`40` is not a valid IPv4 prefix length (0-32) or netmask");
	ck_assert_ptr_null(r.hostname);
}
END_TEST

/* --- SETUPINTERFACE and SETUPROUTE ------------------------------------------------------ */

static void assert_setup_refused(int (*parse_fn)(json_object *, struct agent_net_config *,
                                                 kata_error_t *),
                                 const char *text, const char *fragment)
{
	cleanup_json json_object *req = parse(text);
	cleanup_error kata_error_t err = NULL;
	struct agent_net_config c;

	ck_assert_msg(parse_fn(req, &c, &err) == -1, "accepted: %s", text);
	ck_assert_msg(strstr(err->message, fragment) != NULL, "`%s` not in `%s`", fragment,
	              err->message);
	ck_assert_ptr_null(c.interfaces);
	ck_assert_ptr_null(c.routes);
}

START_TEST(test_setup_parse)
{
	cleanup_json json_object *req =
	        parse("{\"device\":\"eth0\",\"newDeviceName\":\"net1\","
	              "\"macAddr\":\"02:42:0a:4d:00:05\",\"mtu\":1400,"
	              "\"ipAddresses\":[{\"ipAddress\":\"10.77.0.5\",\"netMask\":\"24\"}]}");
	cleanup_error kata_error_t err = NULL;
	struct agent_net_config c;

	ck_assert_int_eq(agent_parse_setup_interface(req, &c, &err), 0);
	ck_assert_uint_eq(c.n_interfaces, 1);
	ck_assert_str_eq(c.interfaces[0].device, "eth0");
	ck_assert_str_eq(c.interfaces[0].new_name, "net1");
	/* the MAC is given to eth0, not looked for */
	ck_assert(c.interfaces[0].has_mac && c.interfaces[0].set_mac);
	ck_assert_uint_eq(c.interfaces[0].mtu, 1400);
	assert_address(&c.interfaces[0].addresses[0], AF_INET, "10.77.0.5", 24);
	agent_net_config_clear(&c);

	assert_setup_refused(agent_parse_setup_interface, "{\"mtu\":1400}",
	                     "neither macAddr nor device");
	assert_setup_refused(agent_parse_setup_interface, "{\"device\":\"eth/0\"}",
	                     "not a valid interface name");
	assert_setup_refused(agent_parse_setup_interface, "[]", "");
	assert_setup_refused(agent_parse_setup_route,
	                     "{\"interfaces\":[],\"routes\":[{\"dest\":\"default\"}]}",
	                     "interfaces: not taken here");
	assert_setup_refused(agent_parse_setup_route, "{\"routes\":[{\"dest\":\"10.0.0.0/40\"}]}",
	                     "routes[0]");
}
END_TEST

static int apply(int (*parse_fn)(json_object *, struct agent_net_config *, kata_error_t *),
                 const char *text, kata_error_t *err)
{
	cleanup_json json_object *req = parse(text);
	struct agent_net_config c;
	int ret;

	if (parse_fn(req, &c, err) < 0)
		return -1;
	ret = agent_network_apply(&c, err);
	agent_net_config_clear(&c);
	return ret;
}

/* In a namespace of its own (this test's process only, Check forks it): a veth stands for the
 * guest's standby NIC; SETUPINTERFACE gives it the engine's MAC, name, MTU and address, and
 * brings it up; SETUPROUTE adds a route through it. */
START_TEST(test_setup_applied)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *link = NULL, *addr = NULL, *route = NULL;

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(system("ip link add kstandby0 address 02:00:00:00:00:99 type veth "
	                        "peer name kpeer0 && ip link set kpeer0 up"),
	                 0);
	ck_assert_int_eq(apply(agent_parse_setup_interface,
	                       "{\"device\":\"kstandby0\",\"newDeviceName\":\"eth0\","
	                       "\"macAddr\":\"02:42:0a:4d:00:05\",\"mtu\":1400,"
	                       "\"ipAddresses\":[{\"ipAddress\":\"10.77.0.5\",\"netMask\":\"24\"},"
	                       "{\"ipAddress\":\"fd00:77::5\",\"netMask\":\"64\"}]}",
	                       &err),
	                 0);
	link = unit_command_output("ip -o link show dev eth0");
	ck_assert_msg(strstr(link, "link/ether 02:42:0a:4d:00:05") != NULL, "%s", link);
	ck_assert_msg(strstr(link, "mtu 1400") != NULL, "%s", link);
	ck_assert_msg(strstr(link, ",UP") != NULL, "%s", link);
	addr = unit_command_output("ip -o addr show dev eth0");
	ck_assert_msg(strstr(addr, "inet 10.77.0.5/24 brd 10.77.0.255") != NULL, "%s", addr);
	ck_assert_msg(strstr(addr, "inet6 fd00:77::5/64") != NULL, "%s", addr);
	ck_assert_int_eq(apply(agent_parse_setup_route,
	                       "{\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.77.0.1\","
	                       "\"device\":\"eth0\"}]}",
	                       &err),
	                 0);
	route = unit_command_output("ip -o route show default");
	ck_assert_msg(strstr(route, "default via 10.77.0.1 dev eth0") != NULL, "%s", route);
	/* A device the guest does not have: refused by name, nothing changed. */
	ck_assert_int_eq(apply(agent_parse_setup_interface,
	                       "{\"device\":\"eth9\",\"macAddr\":\"02:42:0a:4d:00:06\"}", &err),
	                 -1);
	ck_assert_msg(strstr(err->message, "no network device with this name") != NULL, "%s",
	              err->message);
	ck_assert_msg(strstr(err->message, "eth0 02:42:0a:4d:00:05") != NULL, "%s", err->message);
}
END_TEST

/* A standby NIC (AGENT_STANDBY_NIC_MAC: a template's, or the one create makes for `ctr run
 * --cni`) is taken by an interface that no device matches by its MAC, in STARTPOD and in
 * SETUPINTERFACE without a device, and gets that MAC; a device with the MAC wins over it;
 * two interfaces cannot share one. */
START_TEST(test_standby_nic_taken)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *link = NULL, *other = NULL;

	ck_assert_int_eq(unshare(CLONE_NEWNET), 0);
	ck_assert_int_eq(system("ip link add kstandby0 address " AGENT_STANDBY_NIC_MAC
	                        " type veth peer name kpeer0 && "
	                        "ip link add kother0 address 02:42:0a:4d:00:09 type veth "
	                        "peer name kpeer1"),
	                 0);
	ck_assert_int_eq(
	        apply(agent_parse_network,
	              "{\"interfaces\":[{\"device\":\"eth0\",\"newDeviceName\":\"eth0\","
	              "\"macAddr\":\"02:42:0a:4d:00:05\",\"mtu\":1400,"
	              "\"ipAddresses\":[{\"ipAddress\":\"10.77.0.5\",\"netMask\":\"24\"}]},"
	              "{\"macAddr\":\"02:42:0a:4d:00:09\",\"newDeviceName\":\"eth1\"}]}",
	              &err),
	        0);
	link = unit_command_output("ip -o link show dev eth0");
	ck_assert_msg(strstr(link, "link/ether 02:42:0a:4d:00:05") != NULL, "%s", link);
	ck_assert_msg(strstr(link, "mtu 1400") != NULL && strstr(link, ",UP") != NULL, "%s", link);
	other = unit_command_output("ip -o link show dev eth1");
	ck_assert_msg(strstr(other, "link/ether 02:42:0a:4d:00:09") != NULL, "%s", other);
	/* no standby NIC left: a third interface is missing, by MAC */
	ck_assert_int_eq(
	        apply(agent_parse_setup_interface, "{\"macAddr\":\"02:42:0a:4d:00:0a\"}", &err),
	        -1);
	ck_assert_msg(strstr(err->message, "no network device with this MAC address") != NULL, "%s",
	              err->message);
	kata_error_free(&err);
	/* SETUPINTERFACE without a device takes a standby NIC as STARTPOD does */
	ck_assert_int_eq(system("ip link add kstandby1 address " AGENT_STANDBY_NIC_MAC
	                        " type veth peer name kpeer2"),
	                 0);
	ck_assert_int_eq(apply(agent_parse_setup_interface,
	                       "{\"macAddr\":\"02:42:0a:4d:00:0a\",\"newDeviceName\":\"net2\"}",
	                       &err),
	                 0);
	free(link);
	link = unit_command_output("ip -o link show dev net2");
	ck_assert_msg(strstr(link, "link/ether 02:42:0a:4d:00:0a") != NULL, "%s", link);
}
END_TEST

static Suite *network_suite(void)
{
	Suite *s = suite_create("agent_network");
	TCase *tc = tcase_create("parse");
	TCase *applied = tcase_create("applied");

	tcase_add_test(tc, test_full_request);
	tcase_add_test(tc, test_foreign_shapes);
	tcase_add_test(tc, test_nothing);
	tcase_add_test(tc, test_bad_interfaces);
	tcase_add_test(tc, test_bad_addresses);
	tcase_add_test(tc, test_bad_prefixes);
	tcase_add_test(tc, test_mtu);
	tcase_add_test(tc, test_bad_routes);
	tcase_add_test(tc, test_helpers);
	tcase_add_test(tc, test_startpod_carries_network);
	tcase_add_test(tc, test_setup_parse);
	suite_add_tcase(s, tc);
	/* a device missing by MAC is waited for, as a hot-plugged one (5 s) */
	tcase_set_timeout(applied, 30);
	tcase_add_test(applied, test_setup_applied);
	tcase_add_test(applied, test_standby_nic_taken);
	suite_add_tcase(s, applied);
	return s;
}

/* test_setup_applied unshares its network namespace: only in a process of its own. */
const struct unit_test unit_test = { .suite = network_suite, .always_fork = true };
