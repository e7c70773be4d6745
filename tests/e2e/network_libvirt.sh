#!/bin/bash
# The container's network on the libvirt backend (docs/network.md, "libvirt backend"): the
# domain starts without a NIC, the runtime hot-plugs one per veth of the namespace through
# libvirt's monitor passthrough (q35: into the empty pcie-root-ports of the domain XML; pc:
# into its root bus), and the agent, waiting for each MAC, configures them. A web server in the
# VM answers at the veth's address, the guest answers a ping, and after delete the namespace is
# as the "engine" left it and no domain is left. Every namespace is made here; the libvirtd is
# the tests' own (tests/e2e/lib/libvirtd.sh).
set -u
. "$(dirname "$0")/lib/runtime.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/libvirtd.sh"
rt_init

net_cleanup() {
	rt_cleanup
	netns_delete
	libvirtd_stop
}
trap net_cleanup EXIT

if ! netns_create "kata-e2e-netlv-$$"; then
	fail "network namespace" "ip netns add failed"
	exit 1
fi
HOST_NS=$TEST_NETNS
if ! libvirt_setup "$CONFIG" "$TMP/libvirt.toml"; then
	fail "libvirtd for the tests" "see the log above"
	exit 1
fi
CONFIG=$TMP/libvirt.toml

# add_veth POD N IFNAME MTU: a veth IFNAME in the pod's namespace, 10.67.N.2/24, whose peer
# in the host namespace is 10.67.N.1/24.
add_veth() {
	ip -n "$HOST_NS" link add "lv$2-$$" mtu "$4" type veth peer name "$3" mtu "$4" netns "$1" &&
		ip -n "$HOST_NS" addr add "10.67.$2.1/24" dev "lv$2-$$" &&
		ip -n "$HOST_NS" link set "lv$2-$$" up &&
		ip -n "$1" addr add "10.67.$2.2/24" dev "$3" &&
		ip -n "$1" link set "$3" up
}

# new_pod NAME: an empty pod namespace with lo up; sets POD.
new_pod() {
	POD="kata-e2e-lvpod-$1-$$"
	pod_netns_add "$POD"
}

pod_state() {
	nsenter "--net=/run/netns/$1" sh -c 'ip -d link; ip -o addr | awk "{print \$2, \$3, \$4}";
		ip route; tc qdisc show' 2>&1
}

# pod_settled POD: waits (at most 10 s) until the pod's veths have their carrier and their
# IPv6 link-local addresses, past DAD: the kernel adds them a moment after "link set up", and
# what delete must restore is the state the engine's namespace settles in.
pod_settled() {
	local i links
	links=$(ip -n "$1" -o link show | grep -vc ': lo:')
	for ((i = 0; i < 100; i++)); do
		if ! ip -n "$1" link show | grep -q NO-CARRIER &&
			[ -z "$(ip -n "$1" -6 addr show tentative)" ] &&
			[ "$(ip -n "$1" -6 -o addr show scope link | wc -l)" -eq "$links" ]; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

mac_of() { ip -n "$1" -o link show "$2" | sed -n 's|.*link/ether \([^ ]*\).*|\1|p'; }

domain_xml() { virsh -c "$LIBVIRTD_URI" dumpxml "sandbox-$1" 2>&1; }

# case_hotplugged MACHINE N: two veths (eth0 MTU 1400 with the default route, eth1 MTU 1500)
# on a MACHINE domain.
case_hotplugged() {
	local machine=$1 n=$2 before body out xml config=$TMP/$1.toml
	sed -e '/^machine_type = /d' \
		-e "s/^\[hypervisor\.libvirt\]\$/&\nmachine_type = \"$machine\"/" "$CONFIG" >"$config"
	new_pod "$machine" &&
		add_veth "$POD" "$n" eth0 1400 &&
		add_veth "$POD" "$((n + 1))" eth1 1500 &&
		ip -n "$POD" route add default via "10.67.$n.1" || {
		fail "$machine: pod namespace" "ip failed"
		return
	}
	pod_settled "$POD" || fail "$machine: the pod's veths settle" "$(pod_state "$POD")"
	before=$(pod_state "$POD")
	bundle_in_pod "$TMP/$machine" "$POD" /usr/sbin/httpd -f -p 80 -h /etc || {
		fail "$machine: bundle" "make-bundle failed"
		return
	}
	new_id "$machine"
	if ! CONFIG=$config kr_detached "$ID" run -d --bundle "$TMP/$machine" "$ID"; then
		fail "$machine: run -d with two veths in the namespace" "$(detached_error "$ID")"
		return
	fi
	pass "$machine: run -d with two veths in the namespace"
	xml=$(domain_xml "$ID")
	case "$xml" in
	*"<interface"*) fail "$machine: the domain XML has no NIC (they are hot-plugged)" "$xml" ;;
	*) pass "$machine: the domain XML has no NIC (they are hot-plugged)" ;;
	esac
	if [ "$machine" = q35 ]; then
		# and no other: the domain's own devices are on the root bus
		check_eq "q35: one pcie-root-port per NIC, none for anything else" 2 "$(grep -c "model='pcie-root-port'" <<<"$xml")"
	fi
	body=$(http_get "10.67.$n.2" 80 /hostname 120)
	check_eq "$machine: the web server in the VM answers at eth0's address" kata "$(tr -d '\n' <<<"$body")"
	body=$(http_get "10.67.$((n + 1)).2" 80 /hostname 30)
	check_eq "$machine: ... and at eth1's" kata "$(tr -d '\n' <<<"$body")"
	out=$(CONFIG=$config kr exec "$ID" /bin/sh -c 'for i in eth0 eth1; do ip -o -4 addr show dev $i;
		cat /sys/class/net/$i/mtu /sys/class/net/$i/address; done; ip route' 2>&1)
	check_contains "$machine: the guest's eth0 has the veth's address" "inet 10.67.$n.2/24" "$out"
	check_contains "$machine: the guest's eth1 has the veth's address" "inet 10.67.$((n + 1)).2/24" "$out"
	check_contains "$machine: the guest's eth0 has the veth's MTU and MAC" \
		$'\n'"1400"$'\n'"$(mac_of "$POD" eth0)" "$out"
	check_contains "$machine: the guest's eth1 has the veth's MTU and MAC" \
		$'\n'"1500"$'\n'"$(mac_of "$POD" eth1)" "$out"
	check_contains "$machine: the guest has the default route" "default via 10.67.$n.1 dev eth0" "$out"
	out=$("${IN_NETNS[@]}" busybox ping -c 1 -W 10 "10.67.$n.2" 2>&1)
	check_contains "$machine: the guest answers a ping from the veth's peer" "1 packets received" "$out"
	CONFIG=$config delete_and_check "$machine: delete" "$ID"
	check_eq "$machine: after delete the namespace is exactly as the engine left it" "$before" "$(pod_state "$POD")"
	check_eq "$machine: no domain left" "" "$(virsh -c "$LIBVIRTD_URI" list --all --name 2>&1 | grep -F "$ID")"
}

case_hotplugged q35 1
case_hotplugged pc 3
rt_finish
