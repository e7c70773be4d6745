# Section 6, net: TCP throughput host -> container and container -> host (iperf3) and the
# round-trip latency of a small TCP echo, through kata-runtime's tcfilter plumbing (engine veth
# -> tc redirect -> tap -> virtio-net), against the same VM with its tap used directly (no
# veth, no filters), measured in the same round, and beside runc on a veth.
# Every network lives in namespaces made here (a "host" side and one per container), joined
# by a veth pair as a CNI bridge plugin would; nothing routes out of them.
# Sourced by bench/run.sh (after streams.sh, whose echo_rtts it uses).
# shellcheck shell=bash

NET_SECONDS=5
NET_HOST_NS=
NET_NAMESPACES=()
NET_POD=
NET_ID=

net_cleanup() {
	local ns
	for ns in "${NET_NAMESPACES[@]}"; do
		ip netns del "$ns" 2>/dev/null
	done
	NET_NAMESPACES=()
}

# net_namespace NAME: a namespace with lo up, deleted at the end of the section.
net_namespace() {
	ip netns add "$1" || die "ip netns add $1"
	NET_NAMESPACES+=("$1")
	ip -n "$1" link set lo up
}

# net_pod NAME HOST-ADDRESS POD-ADDRESS: a pod's namespace whose eth0 is a veth to the host
# namespace, as an engine leaves it.
net_pod() {
	local pod=$1
	local host_side="v${pod: -10}"
	net_namespace "$pod"
	ip -n "$NET_HOST_NS" link add "$host_side" type veth peer name eth0 netns "$pod" ||
		die "veth for $pod"
	ip -n "$NET_HOST_NS" addr add "$2/24" dev "$host_side"
	ip -n "$NET_HOST_NS" link set "$host_side" up
	ip -n "$pod" addr add "$3/24" dev eth0
	ip -n "$pod" link set eth0 up
}

# A copy of the test rootfs with iperf3 and the libraries it loads, serving iperf3 on 5201
# and a TCP echo (busybox nc running cat) on 7; its network namespace is set per run.
# /tmp is a tmpfs: iperf3 keeps each stream's buffer in a file it makes there and maps
# shared, which the VM's 9p-shared rootfs refuses (the data connection then fails and the
# server closes the control connection: "control socket has closed unexpectedly").
net_bundle() {
	local dir=$WORK/bundles/net lib
	bundle net --copy "$dir" /bin/sh -c 'nc -ll -p 7 -e cat & exec iperf3 -s'
	jq '.mounts += [{destination: "/tmp", type: "tmpfs", source: "tmpfs",
		options: ["nosuid", "nodev", "mode=1777"]}]' "$dir/config.json" >"$dir/config.json.new" &&
		mv -f "$dir/config.json.new" "$dir/config.json"
	cp /usr/bin/iperf3 "$dir/rootfs/bin/iperf3"
	for lib in $(ldd /usr/bin/iperf3 | awk '/=> \// { print $3 } /^\t\/lib/ { print $1 }'); do
		mkdir -p "$dir/rootfs$(dirname "$lib")"
		cp -L "$lib" "$dir/rootfs$lib"
	done
}

# net_spec POD: the bundle's config.json, joined to the pod's namespace.
net_spec() {
	jq --arg p "/run/netns/$1" '.linux.namespaces = ([.linux.namespaces[] | select(.type != "network")]
		+ [{type: "network", path: $p}])' "$WORK/bundles/net/config.json.orig" \
		>"$WORK/bundles/net/config.json"
}

# net_iperf FIGURE NS ADDRESS [-R]: one iperf3 measurement of NET_SECONDS as a sample in
# Mbit/s. A run that fails is logged with iperf3's error and made again 2 s later, up to 5
# times; it is never a sample. (iperf3's server listens anew after each test: a client that
# comes right after the previous one's end is refused now and then, under TCG for a second
# or more.)
net_iperf() {
	local figure=$1 ns=$2 addr=$3 try bps
	shift 3
	for ((try = 1; try <= 5; try++)); do
		[ "$try" -gt 1 ] && sleep 2
		ip netns exec "$ns" timeout $((NET_SECONDS + 30)) iperf3 -c "$addr" -t "$NET_SECONDS" -J "$@" \
			>"$WORK/iperf3.json" 2>&1
		bps=$(jq -r '.end.sum_received.bits_per_second // empty' "$WORK/iperf3.json" 2>/dev/null)
		if [ -n "$bps" ]; then
			sample "$figure" "$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')"
			return 0
		fi
		log "iperf3 $* to $addr from $ns, try $try: $(jq -r '.error // empty' "$WORK/iperf3.json" 2>/dev/null ||
			head -c 300 "$WORK/iperf3.json")"
	done
	net_diagnose
	die "iperf3 $* to $addr from $ns failed 5 times"
}

# What a failed measurement needs to be understood: the container's output, the pod's links
# and filters (NET_POD, NET_ID: the round's).
net_diagnose() {
	[ -n "$NET_ID" ] && log "the container's output: $(tail -c 600 "$WORK/$NET_ID.out" "$WORK/$NET_ID.err" 2>&1)" &&
		log "in the container: $(kr "$CONFIG" exec "$NET_ID" sh -c 'ps; netstat -ltn; ip -o addr' </dev/null 2>&1 | tr '\n' ';')"
	[ -n "$NET_POD" ] || return 0
	log "links in $NET_POD: $(ip -n "$NET_POD" -br link 2>&1 | tr '\n' ';')"
	log "filters on eth0: $(tc -n "$NET_POD" filter show dev eth0 ingress 2>&1 | tr '\n' ';')"
}

# net_measure PREFIX NS ADDRESS: throughput both ways and the echo's round trips from NS.
net_measure() {
	local prefix=$1 ns=$2 addr=$3 i
	for ((i = 0; i < 60; i++)); do
		ip netns exec "$ns" timeout 30 iperf3 -c "$addr" -t 1 -J >/dev/null 2>&1 && break
		sleep 1
	done
	net_iperf "${prefix}_in" "$ns" "$addr"
	net_iperf "${prefix}_out" "$ns" "$addr" -R
	echo_rtts "${prefix}_rtt" ip netns exec "$ns" busybox nc "$addr" 7
}

# One round of kata: the tcfilter path from the host side, then, in the same VM, the tap
# alone: the runtime's filters and the veth removed and the host's address put on the tap.
net_kata_round() {
	local r=$1
	local pod="kbnet$$-$r" id="net$$-$r"
	NET_POD=$pod NET_ID=$id
	net_pod "$pod" 10.99.0.1 10.99.0.2
	net_spec "$pod"
	kata_run_detached "$CONFIG" "$id" "$WORK/bundles/net" || die "kata run: $(head -c 300 "$WORK/$id.err")"
	net_measure net_tcfilter "$NET_HOST_NS" 10.99.0.2
	ip -n "$pod" link del eth0 # the veth pair, its ingress qdisc and filters
	tc -n "$pod" qdisc del dev tap0_kata ingress
	ip -n "$pod" addr add 10.99.0.1/24 dev tap0_kata
	net_measure net_tap "$pod" 10.99.0.2
	kata_delete "$CONFIG" "$id"
	ip netns del "$pod"
}

net_runc_round() {
	local r=$1
	local pod="kbrnet$$-$r" id="netrunc$$-$r"
	NET_POD=$pod NET_ID=
	net_pod "$pod" 10.99.1.1 10.99.1.2
	net_spec "$pod"
	runc_run_detached "$id" "$WORK/bundles/net" || die "runc run: $(head -c 300 "$WORK/$id.err")"
	net_measure net_runc "$NET_HOST_NS" 10.99.1.2
	runc_delete "$id"
	# its veth (and the host side's route to 10.99.1.0/24) goes with it: the next round's
	# route must be the only one
	ip netns del "$pod"
}

section_net() {
	local r s
	command -v iperf3 >/dev/null || die "net: needs iperf3 (make deps)"
	NET_HOST_NS="kbnethost$$"
	net_namespace "$NET_HOST_NS"
	net_bundle
	cp "$WORK/bundles/net/config.json" "$WORK/bundles/net/config.json.orig"
	log "net: warm-up"
	net_kata_round 0
	for s in net_tcfilter_in net_tcfilter_out net_tcfilter_rtt net_tap_in net_tap_out net_tap_rtt; do
		rm -f "$WORK/samples/$s"
	done
	for ((r = 1; r <= RUNS; r++)); do
		log "net: round $r/$RUNS"
		net_kata_round "$r"
		[ -n "$RUNC" ] && net_runc_round "$r"
	done
	figure net net_tcfilter_in Mbit/s "tcfilter: TCP host -> container (iperf3 ${NET_SECONDS} s)" \
		net_tap_in "the same VM's tap used directly" ">=" 0.9
	figure net net_tcfilter_out Mbit/s "tcfilter: TCP container -> host (iperf3 -R)" \
		net_tap_out "the same VM's tap used directly" ">=" 0.9
	figure net net_tcfilter_rtt ms "tcfilter: TCP echo round trip, 64 bytes" \
		net_tap_rtt "the same VM's tap used directly" "<=" 1.1
	figure net net_tap_in Mbit/s "bare tap: TCP host -> container" net_runc_in "runc on a veth"
	figure net net_tap_out Mbit/s "bare tap: TCP container -> host" net_runc_out "runc on a veth"
	figure net net_tap_rtt ms "bare tap: TCP echo round trip" net_runc_rtt "runc on a veth"
	figure net net_runc_in Mbit/s "runc: TCP host -> container"
	figure net net_runc_out Mbit/s "runc: TCP container -> host"
	figure net net_runc_rtt ms "runc: TCP echo round trip"
	note "net: under TCG every packet is copied by qemu's emulated virtio-net in userspace (no vhost-net on these hosts), so the VM's absolute throughput is bounded by qemu's one I/O thread and the guest's emulated CPU, not by the plumbing"
	net_cleanup
}
