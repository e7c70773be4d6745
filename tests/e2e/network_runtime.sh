#!/bin/bash
# kata-runtime and a network namespace prepared as an engine prepares one (docs/network.md),
# without an engine: the VM answers on the veth's address, the plumbing is there while it runs
# and gone after delete with the veth exactly as it was; a namespace path that does not exist
# and an interface the runtime cannot carry are clear errors at create that leave nothing; a
# runtime killed during set-up leaves what delete --force removes; internetworking_model =
# "none" gives no card, "macvtap" a macvtap on the veth. Every namespace is made here (a
# "host" side and the pods).
set -u
. "$(dirname "$0")/lib/runtime.sh"
. "$(dirname "$0")/lib/netns.sh"
rt_init

PODS=()
net_cleanup() {
	local pod
	rt_cleanup
	for pod in "${PODS[@]}"; do
		ip netns del "$pod" 2>/dev/null
	done
	netns_delete
}
trap net_cleanup EXIT

if ! netns_create "kata-e2e-netrt-$$"; then
	fail "network namespace" "ip netns add failed"
	exit 1
fi
HOST_NS=$TEST_NETNS

# new_pod NAME N: a pod namespace whose eth0 (a veth, MTU 1400) is 10.66.N.2/24 with the
# host side at 10.66.N.1, a default route through it, and an IPv6 address; sets POD.
new_pod() {
	POD="kata-e2e-pod-$1-$$"
	PODS+=("$POD")
	ip netns add "$POD" &&
		ip -n "$HOST_NS" link add "h$2-$$" mtu 1400 type veth peer name eth0 mtu 1400 netns "$POD" &&
		ip -n "$HOST_NS" addr add "10.66.$2.1/24" dev "h$2-$$" &&
		ip -n "$HOST_NS" link set "h$2-$$" up &&
		ip -n "$POD" link set lo up &&
		ip -n "$POD" addr add "10.66.$2.2/24" dev eth0 &&
		ip -n "$POD" -6 addr add "fd00:6b63::$2/64" dev eth0 nodad &&
		ip -n "$POD" link set eth0 up &&
		ip -n "$POD" route add default via "10.66.$2.1"
}

# What an engine sees of its namespace (addresses without their changing DAD flags).
pod_state() {
	nsenter "--net=/run/netns/$1" sh -c 'ip -d link show eth0; ip -o addr | awk "{print \$2, \$3, \$4}";
		ip route; tc qdisc show; tc filter show dev eth0 ingress; ip -o link | cut -d: -f2' 2>&1
}

# web_server_in_pod NAME N LABEL: a pod namespace (new_pod NAME N) and a busybox httpd in a VM
# joined to it, reached at the veth's address; sets POD, ID and BEFORE (the pod's state
# before). Returns 1 when a step fails.
web_server_in_pod() {
	local name=$1 n=$2 label=$3 body
	new_pod "$name" "$n" || {
		fail "$label: pod namespace" "ip failed"
		return 1
	}
	BEFORE=$(pod_state "$POD")
	bundle_in_pod "$TMP/$name" "$POD" /usr/sbin/httpd -f -p 80 -h /etc || {
		fail "$label: bundle" "make-bundle failed"
		return 1
	}
	new_id "$name"
	if ! kr_detached "$ID" run -d --bundle "$TMP/$name" "$ID"; then
		fail "$label: run -d in a pod namespace" "$(detached_error "$ID")"
		return 1
	fi
	body=$(http_get "10.66.$n.2" 80 /hostname 120)
	check_eq "$label: the web server in the VM answers at the veth's address" kata "$(tr -d '\n' <<<"$body")"
}

case_web_server() {
	local filters out
	web_server_in_pod web 1 tcfilter || return
	filters=$(nsenter "--net=/run/netns/$POD" tc filter show dev eth0 ingress 2>&1)
	check_contains "eth0's ingress goes to the tap" "Redirect to device tap0_kata" "$filters"
	out=$(kr exec "$ID" /bin/sh -c 'ip -o addr show dev eth0; cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address; ip route' 2>&1)
	check_contains "the guest's eth0 has the veth's address" "inet 10.66.1.2/24" "$out"
	check_contains "the guest's eth0 has the veth's IPv6 address" "inet6 fd00:6b63::1/64" "$out"
	check_contains "the guest's eth0 has the veth's MTU" $'\n1400\n' "$out"
	check_contains "the guest's eth0 has the veth's MAC" \
		"$(ip -n "$POD" -o link show eth0 | sed -n 's|.*link/ether \([^ ]*\).*|\1|p')" "$out"
	check_contains "the guest has the default route" "default via 10.66.1.1 dev eth0" "$out"
	out=$("${IN_NETNS[@]}" busybox ping -c 1 -W 10 10.66.1.2 2>&1)
	check_contains "the guest answers a ping from the host side" "1 packets received" "$out"
	delete_and_check "delete of the web server" "$ID"
	check_eq "after delete the pod's namespace is exactly as the engine left it" "$BEFORE" "$(pod_state "$POD")"
}

case_no_such_namespace() {
	local out
	new_id nons
	make_bundle "$TMP/nons" /bin/true &&
		bundle_edit "$TMP/nons" '.linux.namespaces = ([.linux.namespaces[] | select(.type != "network")]
			+ [{type: "network", path: "/run/netns/kata-e2e-no-such-ns"}])'
	out=$(kr create --bundle "$TMP/nons" "$ID" 2>&1)
	check_eq "create with a namespace path that does not exist fails" 1 "$?"
	check_contains "... naming the namespace" "network namespace \`/run/netns/kata-e2e-no-such-ns\`: No such file" "$out"
	check_nothing_left "create with a namespace path that does not exist" "$ID"
}

case_interface_it_cannot_carry() {
	local before out
	new_pod bridge 2 || {
		fail "pod namespace" "ip failed"
		return
	}
	ip -n "$POD" link add kbr0 type bridge && ip -n "$POD" link set kbr0 up
	before=$(pod_state "$POD")
	new_id bridge
	bundle_in_pod "$TMP/bridge" "$POD" /bin/true
	out=$(kr create --bundle "$TMP/bridge" "$ID" 2>&1)
	check_eq "create with a bridge in the namespace fails" 1 "$?"
	check_contains "... naming the interface" "interface \`kbr0\`: a bridge device cannot be carried" "$out"
	check_nothing_left "create with an interface it cannot carry" "$ID"
	check_eq "... and the namespace is as it was" "$before" "$(pod_state "$POD")"
}

# The runtime is killed once the tap exists (set-up or boot under way): delete --force
# removes the taps and filters from the record alone.
case_killed_during_setup() {
	local before pid i
	new_pod killed 3 || {
		fail "pod namespace" "ip failed"
		return
	}
	before=$(pod_state "$POD")
	bundle_in_pod "$TMP/killed" "$POD" /bin/sleep 1000
	new_id killed
	"$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" create --bundle "$TMP/killed" "$ID" \
		>/dev/null 2>&1 </dev/null &
	pid=$!
	track_bg "$pid"
	for ((i = 0; i < 2000; i++)); do
		[ -n "$(kata_taps_in "/run/netns/$POD")" ] && break
		sleep 0.01
	done
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	if [ "$i" -lt 2000 ]; then pass "the tap appeared during create"; else fail "the tap appeared during create" "it never did"; fi
	delete_and_check "delete --force after a runtime killed during set-up" "$ID"
	check_eq "... leaves the namespace exactly as the engine left it" "$before" "$(pod_state "$POD")"
}

case_model_none() {
	local config out
	new_pod none 4 || {
		fail "pod namespace" "ip failed"
		return
	}
	config=$TMP/none.toml
	sed 's/^internetworking_model = .*/internetworking_model = "none"/' "$CONFIG" >"$config"
	bundle_in_pod "$TMP/none" "$POD" /sbin/ip -o addr
	new_id none
	out=$(timeout -k 5 120 "$RUNTIME" --kata-config "$config" --root "$ROOT" run --bundle "$TMP/none" "$ID" 2>&1 </dev/null)
	check_contains "internetworking_model = \"none\": lo is up" "inet 127.0.0.1/8" "$out"
	case "$out" in
	*eth0*) fail "internetworking_model = \"none\": no eth0" "$out" ;;
	*) pass "internetworking_model = \"none\": no eth0" ;;
	esac
	check_eq "internetworking_model = \"none\": no tap made" "" "$(kata_taps_in "/run/netns/$POD")"
	timeout 60 "$RUNTIME" --kata-config "$config" --root "$ROOT" delete --force "$ID" >/dev/null 2>&1
	check_nothing_left "internetworking_model = \"none\"" "$ID"
}

# internetworking_model = "bridged" (Kata 1.x's older model, not built): refused at create,
# naming the interface, when there is one to carry; a namespace with lo only needs no model.
case_model_not_built() {
	local config before out
	new_pod bridged 6 || {
		fail "pod namespace" "ip failed"
		return
	}
	config=$TMP/bridged.toml
	sed 's/^internetworking_model = .*/internetworking_model = "bridged"/' "$CONFIG" >"$config"
	before=$(pod_state "$POD")
	bundle_in_pod "$TMP/bridged" "$POD" /bin/true
	new_id bridged
	out=$("$RUNTIME" --kata-config "$config" --root "$ROOT" create --bundle "$TMP/bridged" "$ID" 2>&1 </dev/null)
	check_eq "internetworking_model = \"bridged\" with a veth: create fails" 1 "$?"
	check_contains "... naming the interface and the model" \
		"interface \`eth0\`: internetworking_model \`bridged\` is not supported yet" "$out"
	check_nothing_left "internetworking_model = \"bridged\" with a veth" "$ID"
	check_eq "... and the namespace is as it was" "$before" "$(pod_state "$POD")"
	PODS+=("$POD-lo")
	ip netns add "$POD-lo" || {
		fail "lo-only namespace" "ip failed"
		return
	}
	bundle_in_pod "$TMP/bridged-lo" "$POD-lo" /bin/echo lo-only ran
	new_id bridgedlo
	out=$(timeout -k 5 120 "$RUNTIME" --kata-config "$config" --root "$ROOT" run --bundle "$TMP/bridged-lo" "$ID" 2>&1 </dev/null)
	check_contains "internetworking_model = \"bridged\", lo only: the container runs" "lo-only ran" "$out"
	timeout 60 "$RUNTIME" --kata-config "$config" --root "$ROOT" delete --force "$ID" >/dev/null 2>&1
	check_nothing_left "internetworking_model = \"bridged\", lo only" "$ID"
}

# internetworking_model = "macvtap" (from a configuration file): a macvtap in passthru mode on
# the veth instead of the tc redirects; the guest has the veth's MAC; delete removes it.
case_macvtap() {
	# kr reads CONFIG: this case's own file
	local base=$CONFIG CONFIG=$TMP/macvtap.toml links out
	if ! ip -n "$HOST_NS" link add kata-mvt-probe type veth peer name kata-mvt-peer ||
		! ip -n "$HOST_NS" link add link kata-mvt-probe name kata-mvt type macvtap mode passthru 2>/dev/null; then
		ip -n "$HOST_NS" link del kata-mvt-probe 2>/dev/null
		echo "SKIP macvtap: this kernel makes no macvtap devices (CONFIG_MACVTAP)"
		return
	fi
	ip -n "$HOST_NS" link del kata-mvt-probe
	sed 's/^internetworking_model = .*/internetworking_model = "macvtap"/' "$base" >"$CONFIG"
	check_contains "the configuration file asks for macvtap" 'internetworking_model = "macvtap"' "$(cat "$CONFIG")"
	web_server_in_pod macvtap 5 macvtap || return
	links=$(ip -n "$POD" -d -o link show tap0_kata 2>&1)
	check_contains "macvtap: a macvtap on eth0" "tap0_kata@eth0" "$links"
	check_contains "macvtap: in passthru mode" "macvtap mode passthru" "$links"
	check_eq "macvtap: no tc redirect on eth0" "" "$(nsenter "--net=/run/netns/$POD" tc filter show dev eth0 ingress 2>&1)"
	out=$(kr exec "$ID" /bin/sh -c 'ip -o addr show dev eth0; cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address' 2>&1)
	check_contains "macvtap: the guest's eth0 has the veth's address" "inet 10.66.5.2/24" "$out"
	check_contains "macvtap: the guest's eth0 has the veth's MTU" $'\n1400\n' "$out"
	check_contains "macvtap: the guest's eth0 has the veth's MAC" \
		"$(ip -n "$POD" -o link show eth0 | sed -n 's|.*link/ether \([^ ]*\).*|\1|p')" "$out"
	delete_and_check "delete of the macvtap web server" "$ID"
	check_eq "macvtap: after delete the pod's namespace is exactly as the engine left it" "$BEFORE" "$(pod_state "$POD")"
}

case_web_server
case_macvtap
case_no_such_namespace
case_interface_it_cannot_carry
case_killed_during_setup
case_model_none
case_model_not_built
rt_finish
