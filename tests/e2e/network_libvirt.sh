#!/bin/bash
# The container's network on the libvirt backend (docs/network.md, "libvirt backend"): the
# domain starts without a NIC, the runtime hot-plugs one per veth of the namespace through
# libvirt's monitor passthrough (q35: into the empty pcie-root-ports of the domain XML; pc:
# into its root bus), and the agent, waiting for each MAC, configures them. A web server in the
# VM answers at the veth's address, the guest answers a ping, 1 MB goes each way intact, and
# after delete the namespace is as the "engine" left it and no domain is left. Each machine
# with internetworking_model "tcfilter" (a tap joined to each veth by tc redirects) and
# "macvtap" (a passthru macvtap on each veth, its /dev/tapN hot-plugged). Every namespace is
# made here; the libvirtd is the tests' own (tests/e2e/lib/libvirtd.sh).
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

# The macvtaps of a pod's namespace: "NAME@LOWER MODE INDEX" a line.
macvtaps_in() {
	ip -n "$1" -d -o link show type macvtap 2>&1 |
		sed -n 's|^\([0-9]*\): \([^:]*\):.* macvtap mode \([a-z]*\).*|\2 \3 \1|p'
}

# While the container runs: one macvtap in passthru mode per veth, no tc redirect, and its
# /dev/tapN (N its index) there; sets MACVTAP_NODES.
check_macvtaps_running() {
	local name=$1 pod=$2 taps
	taps=$(macvtaps_in "$pod")
	check_eq "$name: a macvtap in passthru mode on each veth" \
		"tap0_kata@eth0 passthru;tap1_kata@eth1 passthru" \
		"$(awk '{print $1, $2}' <<<"$taps" | sort | paste -sd';')"
	check_eq "$name: no tc redirect on the veths" "" \
		"$(nsenter "--net=/run/netns/$pod" tc filter show dev eth0 ingress 2>&1)$(
			nsenter "--net=/run/netns/$pod" tc filter show dev eth1 ingress 2>&1)"
	MACVTAP_NODES=$(awk '{printf "/dev/tap%s ", $3}' <<<"$taps")
	# shellcheck disable=SC2086
	if [ -n "$MACVTAP_NODES" ] && ls $MACVTAP_NODES >/dev/null 2>&1; then
		pass "$name: the macvtaps' character devices exist"
	else
		fail "$name: the macvtaps' character devices exist" "$MACVTAP_NODES (from: $taps)"
	fi
}

# After delete: no macvtap, and their character devices gone with them.
check_macvtaps_gone() {
	local name=$1 pod=$2 node left=
	check_eq "$name: no macvtap left" "" "$(macvtaps_in "$pod")"
	for node in $MACVTAP_NODES; do
		[ -e "$node" ] && left+="$node "
	done
	check_eq "$name: their character devices are gone" "" "$left"
}

# The container's web server: /hostname, and /big, 1 MB of random bytes in base64 made at
# start, on a tmpfs (the rootfs is shared by every bundle).
WEB_SERVER=(/bin/sh -c 'mkdir /dev/shm/www && cp /etc/hostname /dev/shm/www/ &&
	head -c 1000000 /dev/urandom | base64 >/dev/shm/www/big && exec httpd -f -p 80 -h /dev/shm/www')

md5_of() { md5sum | cut -d' ' -f1; }

# check_bulk NAME CONFIG ID N: 1 MB each way between the veth's peer and the guest, checked
# by its MD5: frames of the MTU and, with the NIC's offloads, larger segments, each with the
# virtio-net header the tap (or macvtap) fd and qemu agree on.
check_bulk() {
	local name=$1 config=$2 id=$3 n=$4 got want pid www=$TMP/www-$4
	got=$(timeout 120 "${IN_NETNS[@]}" bash -c 'exec 3<>"/dev/tcp/$0/80" &&
		printf "GET /big HTTP/1.0\r\n\r\n" >&3 && cat <&3' "10.67.$n.2" 2>/dev/null |
		sed '1,/^\r$/d' | md5_of)
	want=$(CONFIG=$config kr exec "$id" /bin/sh -c 'md5sum /dev/shm/www/big' 2>&1 | cut -d' ' -f1)
	if [ ${#want} -eq 32 ] && [ "$got" = "$want" ]; then
		pass "$name: 1 MB from the guest to the veth's peer, intact"
	else
		fail "$name: 1 MB from the guest to the veth's peer, intact" "got $got, the guest has $want"
	fi
	mkdir -p "$www" && head -c 1000000 /dev/urandom | base64 >"$www/big"
	"${IN_NETNS[@]}" busybox httpd -f -p "10.67.$n.1:8080" -h "$www" &
	pid=$!
	track_bg "$pid"
	want=$(md5_of <"$www/big")
	got=$(CONFIG=$config kr exec "$id" /bin/sh -c \
		"wget -q -O - http://10.67.$n.1:8080/big | md5sum" 2>&1 | cut -d' ' -f1)
	kill "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	check_eq "$name: 1 MB from the veth's peer to the guest, intact" "$want" "$got"
}

# case_hotplugged MACHINE N [MODEL]: two veths (eth0 MTU 1400 with the default route, eth1
# MTU 1500) on a MACHINE domain, carried by internetworking_model MODEL (default: tcfilter).
case_hotplugged() {
	local machine=$1 n=$2 model=${3:-tcfilter} name before body out xml config
	name=$machine
	[ "$model" = tcfilter ] || name="$machine $model"
	config="$TMP/$machine-$model.toml"
	sed -e '/^machine_type = /d' \
		-e "s/^internetworking_model = .*/internetworking_model = \"$model\"/" \
		-e "s/^\[hypervisor\.libvirt\]\$/&\nmachine_type = \"$machine\"/" "$CONFIG" >"$config"
	check_contains "$name: the configuration asks for $model" "internetworking_model = \"$model\"" "$(cat "$config")"
	new_pod "$machine-$model" &&
		add_veth "$POD" "$n" eth0 1400 &&
		add_veth "$POD" "$((n + 1))" eth1 1500 &&
		ip -n "$POD" route add default via "10.67.$n.1" || {
		fail "$name: pod namespace" "ip failed"
		return
	}
	pod_settled "$POD" || fail "$name: the pod's veths settle" "$(pod_state "$POD")"
	before=$(pod_state "$POD")
	bundle_in_pod "$TMP/$machine-$model" "$POD" "${WEB_SERVER[@]}" || {
		fail "$name: bundle" "make-bundle failed"
		return
	}
	new_id "$machine-$model"
	if ! CONFIG=$config kr_detached "$ID" run -d --bundle "$TMP/$machine-$model" "$ID"; then
		fail "$name: run -d with two veths in the namespace" "$(detached_error "$ID")"
		return
	fi
	pass "$name: run -d with two veths in the namespace"
	[ "$model" = macvtap ] && check_macvtaps_running "$name" "$POD"
	xml=$(domain_xml "$ID")
	case "$xml" in
	*"<interface"*) fail "$name: the domain XML has no NIC (they are hot-plugged)" "$xml" ;;
	*) pass "$name: the domain XML has no NIC (they are hot-plugged)" ;;
	esac
	if [ "$machine" = q35 ]; then
		# and no other: the domain's own devices are on the root bus
		check_eq "$name: one pcie-root-port per NIC, none for anything else" 2 "$(grep -c "model='pcie-root-port'" <<<"$xml")"
	fi
	body=$(http_get "10.67.$n.2" 80 /hostname 120)
	check_eq "$name: the web server in the VM answers at eth0's address" kata "$(tr -d '\n' <<<"$body")"
	body=$(http_get "10.67.$((n + 1)).2" 80 /hostname 30)
	check_eq "$name: ... and at eth1's" kata "$(tr -d '\n' <<<"$body")"
	out=$(CONFIG=$config kr exec "$ID" /bin/sh -c 'for i in eth0 eth1; do ip -o -4 addr show dev $i;
		cat /sys/class/net/$i/mtu /sys/class/net/$i/address; done; ip route' 2>&1)
	check_contains "$name: the guest's eth0 has the veth's address" "inet 10.67.$n.2/24" "$out"
	check_contains "$name: the guest's eth1 has the veth's address" "inet 10.67.$((n + 1)).2/24" "$out"
	check_contains "$name: the guest's eth0 has the veth's MTU and MAC" \
		$'\n'"1400"$'\n'"$(mac_of "$POD" eth0)" "$out"
	check_contains "$name: the guest's eth1 has the veth's MTU and MAC" \
		$'\n'"1500"$'\n'"$(mac_of "$POD" eth1)" "$out"
	check_contains "$name: the guest has the default route" "default via 10.67.$n.1 dev eth0" "$out"
	out=$("${IN_NETNS[@]}" busybox ping -c 1 -W 10 "10.67.$n.2" 2>&1)
	check_contains "$name: the guest answers a ping from the veth's peer" "1 packets received" "$out"
	check_bulk "$name" "$config" "$ID" "$n"
	CONFIG=$config delete_and_check "$name: delete" "$ID"
	check_eq "$name: after delete the namespace is exactly as the engine left it" "$before" "$(pod_state "$POD")"
	[ "$model" = macvtap ] && check_macvtaps_gone "$name" "$POD"
	check_eq "$name: no domain left" "" "$(virsh -c "$LIBVIRTD_URI" list --all --name 2>&1 | grep -F "$ID")"
}

case_hotplugged q35 1
case_hotplugged pc 3
case_hotplugged q35 5 macvtap
case_hotplugged pc 7 macvtap
rt_finish
