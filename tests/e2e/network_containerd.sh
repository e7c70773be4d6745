#!/bin/bash
# containerd with CNI reaching containers in kata-runtime's VMs (docs/network.md): as
# containerd's CRI plugin does it, the test makes each pod's network namespace, runs Debian's
# CNI bridge plugin (containernetworking-plugins) on it with a configuration written here, and
# has containerd join it (`ctr run --with-ns network:PATH`). A busybox web server is reached
# from the bridge's side and from a second container, IPv6 and the MTU arrive, and after the
# container is gone its namespace holds the veth exactly as the plugin made it.
# `ctr run --cni` runs CNI on /proc/PID/ns/net of the task between create and start, when the
# VM has booted: under runc and kata-runtime alike the container gets the plugin's address;
# kata-runtime's plugin fills the namespace the runtime made for the container (never
# containerd's own), and start joins the veth to the VM's standby NIC (docs/network.md).
# containerd, the bridge and every namespace live inside a namespace this test makes first.
set -u
. "$(dirname "$0")/lib/engines.sh"
. "$(dirname "$0")/lib/netns.sh"
require_built

for tool in containerd ctr /usr/lib/cni/bridge /usr/lib/cni/host-local; do
	if ! command -v "$tool" >/dev/null; then
		fail "containerd with CNI" "$tool is not installed (make deps)"
		exit 1
	fi
done

WORK=$(mktemp -d /tmp/kata-e2e-netctr-XXXXXX)
SOCK=$WORK/containerd.sock
CONTAINERD_PID=
IDS=()
PODS=()

cni() { # cni ADD|DEL POD
	"${IN_NETNS[@]}" env CNI_COMMAND="$1" CNI_CONTAINERID="$2" CNI_NETNS="/run/netns/$2" \
		CNI_IFNAME=eth0 CNI_PATH=/usr/lib/cni /usr/lib/cni/bridge <"$WORK/bridge.conf"
}

cleanup() {
	local id pod
	for id in "${IDS[@]}"; do
		ctr --address "$SOCK" task kill -s SIGKILL "$id" >/dev/null 2>&1
		ctr --address "$SOCK" task rm -f "$id" >/dev/null 2>&1
		ctr --address "$SOCK" container rm "$id" >/dev/null 2>&1
	done
	for pod in "${PODS[@]}"; do
		cni DEL "$pod" >/dev/null 2>&1
		ip netns del "$pod" 2>/dev/null
	done
	if [ -n "$CONTAINERD_PID" ]; then
		kill "$CONTAINERD_PID" 2>/dev/null
		wait "$CONTAINERD_PID" 2>/dev/null
	fi
	grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
	rm -rf "$WORK"
	netns_delete
}
trap cleanup EXIT

if ! netns_create "kata-e2e-netctr-$$"; then
	fail "network namespace" "ip netns add failed"
	exit 1
fi

# The bridge (with an MTU other than 1500), IPv4 and IPv6 from host-local, whose leases stay
# in the test's directory.
SUB=$(($$ % 250))
cat >"$WORK/bridge.conf" <<CONF
{
  "cniVersion": "0.4.0",
  "name": "kata-e2e",
  "type": "bridge",
  "bridge": "kbr$SUB",
  "isGateway": true,
  "mtu": 1400,
  "ipam": {
    "type": "host-local",
    "dataDir": "$WORK/ipam",
    "ranges": [[{"subnet": "10.77.$SUB.0/24"}], [{"subnet": "fd00:6b62:$SUB::/64"}]],
    "routes": [{"dst": "0.0.0.0/0"}, {"dst": "::/0"}]
  }
}
CONF

cat >"$WORK/config.toml" <<CONF
version = 2
root = "$WORK/root"
state = "$WORK/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
CONF
KATA_CONF_FILE=$CONFIG "${IN_NETNS[@]}" containerd --config "$WORK/config.toml" >"$WORK/containerd.log" 2>&1 &
CONTAINERD_PID=$!
if ! wait_for "containerd" 30 ctr --address "$SOCK" version; then
	fail "containerd starts" "$(tail -5 "$WORK/containerd.log")"
	exit 1
fi
CTR=(ctr --address "$SOCK")

# new_pod NAME: a pod's namespace with the bridge plugin's veth in it; sets POD_IP to its IPv4
# address. (Not in a subshell: the cleanup must know the namespace.)
new_pod() {
	local pod="kata-e2e-pod-$1-$$" result
	PODS+=("$pod")
	ip netns add "$pod" || return 1
	result=$(cni ADD "$pod") || {
		echo "CNI ADD failed: $result" >&2
		return 1
	}
	POD_IP=$(jq -r '.ips[] | select(.version == "4") | .address' <<<"$result" | cut -d/ -f1)
}

ctr_run() { # ctr_run POD [ctr options] -- ID COMMAND...
	local pod=$1 opts=()
	shift
	while [ "$1" != "--" ]; do
		opts+=("$1")
		shift
	done
	shift
	"${CTR[@]}" run --runc-binary "$RUNTIME" --with-ns "network:/run/netns/$pod" \
		--rootfs "${opts[@]}" "$ROOTFS" "$@"
}

new_id() {
	local id="kata-e2e-net-$1-$$"
	IDS+=("$id")
	echo "$id"
}

task_running() { [ "$("${CTR[@]}" task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }')" = RUNNING ]; }

remove() {
	"${CTR[@]}" task kill -s SIGKILL "$1" >/dev/null 2>&1
	wait_for "$1 stopped" 30 bash -c "! ${CTR[*]} task ls | awk '\$1 == \"$1\" {print \$3}' | grep -q RUNNING"
	"${CTR[@]}" task rm -f "$1" >/dev/null 2>&1
	"${CTR[@]}" container rm "$1" >/dev/null 2>&1
}

# What an engine sees of its veth (addresses without their DAD flags, which change on their own).
pod_links() {
	nsenter "--net=/run/netns/$1" sh -c 'ip -d link show eth0; ip -o addr show eth0 | awk "{print \$3, \$4}";
		tc qdisc show dev eth0; tc filter show dev eth0 ingress; ip -o link | cut -d: -f2' 2>&1
}

case_web_server_and_client() {
	local web_pod web_ip id before out body client_pod client
	web_pod=kata-e2e-pod-web-$$
	new_pod web || {
		fail "CNI bridge: pod namespace" "see above"
		return
	}
	web_ip=$POD_IP
	before=$(pod_links "$web_pod")
	id=$(new_id web)
	ctr_run "$web_pod" -d -- "$id" /usr/sbin/httpd -f -p 80 -h /etc >/dev/null 2>&1
	if ! wait_for "$id running" 60 task_running "$id"; then
		fail "ctr run -d httpd" "the task never ran"
		return
	fi
	body=$(http_get "$web_ip" 80 /hostname 120)
	check_eq "containerd + CNI: the web server in the VM answers at $web_ip" kata "$(tr -d '\n' <<<"$body")"

	out=$("${CTR[@]}" task exec --exec-id e1 "$id" /bin/sh -c \
		'ip -o addr show dev eth0; cat /sys/class/net/eth0/mtu; ip route; ip -6 route' 2>&1)
	check_contains "the guest's eth0 has the CNI address" "inet $web_ip/24" "$out"
	check_contains "IPv6: the CNI address arrives" "inet6 fd00:6b62:$SUB::" "$out"
	check_contains "MTU 1400 holds" $'\n1400\n' "$out"
	check_contains "the default route arrives" "default via 10.77.$SUB.1 dev eth0" "$out"
	check_contains "the IPv6 default route arrives" "default via fd00:6b62:$SUB::1 dev eth0" "$out"

	client_pod=kata-e2e-pod-client-$$
	new_pod client || {
		fail "CNI bridge: client pod" "see above"
		return
	}
	client=$(new_id client)
	out=$(ctr_run "$client_pod" --rm -- "$client" /bin/sh -c \
		'printf "GET /hostname HTTP/1.0\r\n\r\n" | nc -w 30 "$0" 80' "$web_ip" 2>&1)
	check_eq "a second container reaches the first at $web_ip" kata "$(tail -n 1 <<<"$out" | tr -d '\r')"
	check_nothing_left "ctr run --rm of the client" "$client"

	remove "$id"
	check_nothing_left "ctr task rm of the web server" "$id"
	# The pod's namespace outlives the container (as a CRI pod's does): kata-runtime's tap
	# and filters are gone from it, the veth is as the plugin left it.
	if [ -z "$(kata_taps_in "/run/netns/$web_pod")" ]; then
		pass "no tap left in the pod's namespace"
	else
		fail "no tap left in the pod's namespace" "$(kata_taps_in "/run/netns/$web_pod")"
	fi
	check_eq "the pod's veth is exactly as the engine left it" "$before" "$(pod_links "$web_pod")"
}

# ctr_cni ARGS...: ctr in the test's network namespace and in a mount namespace of its own,
# where /etc/cni/net.d (where ctr takes its one CNI configuration from) and /var/lib/cni
# (libcni's cache) are the test's directories: the host's CNI state is neither read nor written.
ctr_cni() {
	"${IN_NETNS[@]}" unshare --mount --propagation private sh -c \
		'mount --bind "$0/net.d" /etc/cni/net.d && mount --bind "$0/cni-state" /var/lib/cni && exec "$@"' \
		"$WORK" "${CTR[@]}" "$@"
}

engine_links() { "${IN_NETNS[@]}" ip -o link | cut -d: -f2 | sed 's/@.*//' | sort; }

case_ctr_run_cni() {
	local id out rc before
	mkdir -p "$WORK/net.d" "$WORK/cni-state" &&
		cp "$WORK/bridge.conf" "$WORK/net.d/10-kata-e2e.conf" || {
		fail "ctr run --cni: configuration" "mkdir or cp failed"
		return
	}
	# runc, for comparison: CNI configures the container's namespace between create and start
	id=$(new_id cni-runc)
	out=$(ctr_cni run --cni --rm --rootfs "$ROOTFS" "$id" /sbin/ip -o addr show dev eth0 2>&1)
	check_contains "ctr run --cni under runc: eth0 has the plugin's address" "inet 10.77.$SUB." "$out"
	"${CTR[@]}" container rm "$id" >/dev/null 2>&1

	# kata-runtime: CNI's veth lands in the namespace the runtime made for the container and
	# start joins it to the VM's standby NIC (docs/network.md "Standby NIC")
	before=$(engine_links)
	id=$(new_id cni-kata)
	out=$(ctr_cni run --cni --rm --runc-binary "$RUNTIME" --rootfs "$ROOTFS" "$id" /bin/sh -c \
		'ip -o addr show dev eth0; cat /sys/class/net/eth0/mtu; ip route; ip -6 route' 2>&1)
	check_contains "ctr run --cni under kata-runtime: eth0 has the plugin's address" \
		"inet 10.77.$SUB." "$out"
	check_contains "... its IPv6 address" "inet6 fd00:6b62:$SUB::" "$out"
	check_contains "... the bridge's MTU, 1400" $'\n1400\n' "$out"
	check_contains "... the default route" "default via 10.77.$SUB.1 dev eth0" "$out"
	check_contains "... the IPv6 default route" "default via fd00:6b62:$SUB::1 dev eth0" "$out"
	check_nothing_left "ctr run --cni --rm under kata-runtime" "$id"
	check_eq "ctr's CNI DEL released the container's address" "" "$(grep -rl -- "$id" "$WORK/ipam")"
	# The shim, whose pid ctr hands to CNI, stood in a namespace of the container's own:
	# containerd's namespace got no eth0, address or route from the plugin.
	check_eq "containerd's namespace has the links it had" "$before" "$(engine_links)"
	check_eq "containerd's namespace got no default route from the plugin" "" \
		"$("${IN_NETNS[@]}" sh -c 'ip route show default; ip -6 route show default')"
	case_ctr_run_cni_web_server
}

# A web server started with `ctr run -d --cni`, reached from the bridge's side; the guest's NIC
# has the veth's MAC address; after ctr removes it, nothing is left.
case_ctr_run_cni_web_server() {
	local id ip pid body veth_mac guest_mac
	id=$(new_id cni-web)
	ctr_cni run -d --cni --runc-binary "$RUNTIME" --rootfs "$ROOTFS" "$id" \
		/usr/sbin/httpd -f -p 80 -h /etc >/dev/null 2>&1
	if ! wait_for "$id running" 60 task_running "$id"; then
		fail "ctr run -d --cni httpd" "the task never ran"
		return
	fi
	ip=$(grep -rl -- "$id" "$WORK/ipam" | sed -n 's|.*/\(10\.[0-9.]*\)$|\1|p')
	body=$(http_get "$ip" 80 /hostname 120)
	check_eq "ctr run -d --cni: the web server in the VM answers at ${ip:-?}" kata \
		"$(tr -d '\n' <<<"$body")"
	pid=$("${CTR[@]}" task ls | awk -v id="$id" '$1 == id { print $2 }')
	# (ip, not /sys: nsenter --net keeps the test's own /sys)
	veth_mac=$(nsenter "--net=/proc/$pid/ns/net" ip -o link show dev eth0 2>&1 |
		grep -o 'link/ether [0-9a-f:]*')
	guest_mac=$("${CTR[@]}" task exec --exec-id mac "$id" ip -o link show dev eth0 2>&1 |
		grep -o 'link/ether [0-9a-f:]*')
	[ -n "$veth_mac" ] || veth_mac="(no eth0 in the namespace of the task's pid $pid)"
	check_eq "the guest's eth0 has the CNI veth's MAC address" "$veth_mac" "$guest_mac"
	ctr_cni task kill -s SIGKILL "$id" >/dev/null 2>&1
	wait_for "$id stopped" 30 bash -c "! ${CTR[*]} task ls | awk '\$1 == \"$id\" {print \$3}' | grep -q RUNNING"
	ctr_cni task rm -f "$id" >/dev/null 2>&1
	ctr_cni container rm "$id" >/dev/null 2>&1
	# (ctr 1.6 runs CNI DEL only when a `run` it waits for ends, not at `task rm`: the lease
	# stays in the test's directory, as it would under runc)
	check_nothing_left "ctr task rm of the --cni web server" "$id"
}

case_web_server_and_client
case_ctr_run_cni
exit "$FAILED"
