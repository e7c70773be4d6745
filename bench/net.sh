# Section 6, net: TCP throughput host -> container and container -> host (iperf3) and the
# round-trip latency of a small TCP echo, through kata-runtime's tcfilter plumbing (engine veth
# -> tc redirect -> tap -> virtio-net), against the same VM with its tap used directly (no
# veth, no filters), and beside runc on a veth.
# The two paths take turns in each VM, NET_PAIRS pairs of them (tcfilter then tap, tap then
# tcfilter, ...: ABBA), and every figure's ratio is the median of the pairs' ratios: on a shared
# machine the load drifts by more than what is judged here, and a pair's two halves share it.
# To switch a VM to its bare tap the bench removes the filters and moves the host's address
# onto the tap; to switch back it makes the runtime's filters again and checks that the
# namespace is then exactly as the runtime left it.
# Every network lives in namespaces made here (a "host" side and one per container), joined
# by a veth pair as a CNI bridge plugin would; nothing routes out of them.
# Sourced by bench/run.sh (after streams.sh, whose echo_rtts it uses).
# shellcheck shell=bash

NET_SECONDS=2   # each iperf3 run, counted after NET_OMIT s of it (TCP's ramp)
NET_OMIT=1
NET_PAIRS=3     # turns of the two paths in each VM
NET_ECHOES=100  # round trips of the echo per path and turn
NET_HOST_ADDR=10.99.0.1
NET_POD_ADDR=10.99.0.2
NET_HOST_NS=
NET_NAMESPACES=()
NET_POD=
NET_ID=
NET_TAP=
NET_PLUMBING=

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

# net_host_side POD: the name of the host side of the pod's veth.
net_host_side() { echo "v${1: -10}"; }

# net_pod NAME HOST-ADDRESS POD-ADDRESS: a pod's namespace whose eth0 is a veth to the host
# namespace, as an engine leaves it.
net_pod() {
	local pod=$1 host_side
	host_side=$(net_host_side "$pod")
	net_namespace "$pod"
	ip -n "$NET_HOST_NS" link add "$host_side" type veth peer name eth0 netns "$pod" ||
		die "veth for $pod"
	ip -n "$NET_HOST_NS" addr add "$2/24" dev "$host_side"
	ip -n "$NET_HOST_NS" link set "$host_side" up
	ip -n "$pod" addr add "$3/24" dev eth0
	ip -n "$pod" link set eth0 up
}

# net_pod_del POD: the pod's namespace and its veth, whose host side goes now: a namespace
# is dismantled later, and its veth's name (and host route) would be taken when the next
# pod comes.
net_pod_del() {
	ip -n "$NET_HOST_NS" link del "$(net_host_side "$1")"
	ip netns del "$1"
}

# A copy of the test rootfs with iperf3 and the libraries it loads, serving iperf3 on 5201
# (host -> container) and 5202 (-R: a server finishing one test refuses the next for a moment
# under TCG, so each direction has its own) and a TCP echo (busybox nc running cat) on 7; its
# network namespace is set per run.
# /tmp is a tmpfs: iperf3 keeps each stream's buffer in a file it makes there and maps
# shared, which the VM's 9p-shared rootfs refuses (the data connection then fails and the
# server closes the control connection: "control socket has closed unexpectedly").
net_bundle() {
	local dir=$WORK/bundles/net lib
	bundle net --copy "$dir" /bin/sh -c 'nc -ll -p 7 -e cat & iperf3 -s -p 5202 & exec iperf3 -s'
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

# net_iperf FIGURE NS ADDRESS PORT [-R]: one iperf3 measurement (NET_SECONDS after NET_OMIT)
# as a sample in Mbit/s. A run that fails is logged with iperf3's error and made again 2 s
# later, up to 5 times; it is never a sample.
net_iperf() {
	local figure=$1 ns=$2 addr=$3 port=$4 try bps
	shift 4
	for ((try = 1; try <= 5; try++)); do
		[ "$try" -gt 1 ] && sleep 2
		ip netns exec "$ns" timeout $((NET_OMIT + NET_SECONDS + 30)) iperf3 -c "$addr" -p "$port" \
			-O "$NET_OMIT" -t "$NET_SECONDS" -J "$@" >"$WORK/iperf3.json" 2>&1
		bps=$(jq -r '.end.sum_received.bits_per_second // empty' "$WORK/iperf3.json" 2>/dev/null)
		if [ -n "$bps" ]; then
			sample "$figure" "$(awk -v b="$bps" 'BEGIN { printf "%.1f", b / 1e6 }')"
			return 0
		fi
		log "iperf3 $* to $addr:$port from $ns, try $try: $(jq -r '.error // empty' "$WORK/iperf3.json" 2>/dev/null ||
			head -c 300 "$WORK/iperf3.json")"
	done
	net_diagnose
	die "iperf3 $* to $addr:$port from $ns failed 5 times"
}

# What a failed measurement needs to be understood: the container's output, the pod's links
# and filters (NET_POD, NET_ID: the round's).
net_diagnose() {
	[ -n "$NET_ID" ] && log "the container's output: $(tail -c 600 "$WORK/$NET_ID.out" "$WORK/$NET_ID.err" 2>&1)" &&
		log "in the container: $(kr "$CONFIG" exec "$NET_ID" sh -c 'ps; netstat -tn; ip -o addr; ip neigh; cat /proc/net/dev
			cat /sys/class/net/eth0/queues/rx-0/virtio_net/mergeable_rx_buffer_size' </dev/null 2>&1 | tr '\n' ';')"
	[ -n "$NET_POD" ] || return 0
	log "links in $NET_POD: $(ip -n "$NET_POD" -s -o link 2>&1 | tr '\n' ';')"
	log "addresses and neighbours in $NET_POD: $(ip -n "$NET_POD" -br addr 2>&1 | tr '\n' ';') $(ip -n "$NET_POD" neigh 2>&1 | tr '\n' ';')"
	log "neighbours on the host side: $(ip -n "$NET_HOST_NS" neigh 2>&1 | tr '\n' ';')"
	log "filters on eth0: $(tc -n "$NET_POD" filter show dev eth0 ingress 2>&1 | tr '\n' ';')"
}

# net_ready NS ADDRESS: waits for the container's iperf3 servers (a VM boots first), and a
# second more: a server that has just ended a test refuses the next for a moment.
net_ready() {
	local i port
	for port in 5201 5202; do
		for ((i = 0; i < 60; i++)); do
			ip netns exec "$1" timeout 30 iperf3 -c "$2" -p "$port" -t 1 -J >/dev/null 2>&1 && break
			sleep 1
		done
		[ "$i" -lt 60 ] || {
			net_diagnose
			die "no iperf3 server at $2:$port from $1 after 60 tries"
		}
	done
	sleep 1
}

# net_measure PREFIX NS ADDRESS [echo-first]: throughput both ways and the echo's round trips
# from NS, the echo last or first: the two echoes of a pair then come one right after the
# other, around the switch (the round trip drifts over seconds, by more than what is judged).
net_measure() {
	local prefix=$1 ns=$2 addr=$3 order=${4:-}
	[ "$order" = echo-first ] && net_echo "${prefix}_rtt" "$ns" "$addr"
	net_iperf "${prefix}_in" "$ns" "$addr" 5201
	net_iperf "${prefix}_out" "$ns" "$addr" 5202 -R
	[ "$order" = echo-first ] || net_echo "${prefix}_rtt" "$ns" "$addr"
}

# net_echo FIGURE NS ADDRESS: NET_ECHOES round trips of the container's echo from NS.
net_echo() {
	(ECHO_COUNT=$NET_ECHOES echo_rtts "$1" ip netns exec "$2" busybox nc "$3" 7) || {
		net_diagnose
		die "net: the echo failed from $2"
	}
}

# net_plumbing POD: what makes the pod's path: qdiscs, filters (less their actions' counters
# and indexes), links and IPv4 addresses.
net_plumbing() {
	{
		tc -n "$1" qdisc show
		tc -n "$1" filter show dev eth0 ingress
		tc -n "$1" filter show dev "$NET_TAP" ingress
		ip -n "$1" -o link show
		ip -n "$1" -o -4 addr show
	} 2>&1 | sed 's/index [0-9]* ref [0-9]* bind [0-9]*/index - ref - bind -/'
}

# net_use_tap POD: the VM's tap used directly: no filters on eth0, no ingress qdisc on the
# tap, the host's address on the tap (and none on eth0: it would answer for the VM).
net_use_tap() {
	local pod=$1
	if ! { tc -n "$pod" filter del dev eth0 ingress &&
		tc -n "$pod" qdisc del dev "$NET_TAP" ingress &&
		ip -n "$pod" addr del "$NET_POD_ADDR/24" dev eth0 &&
		ip -n "$pod" addr add "$NET_HOST_ADDR/24" dev "$NET_TAP"; }; then
		die "net: cannot switch $pod to its bare tap"
	fi
	# the VM learns the new address's MAC from the ARP request this makes it send
	ip -n "$pod" neigh flush dev "$NET_TAP"
}

# net_redirect POD FROM TO: every frame arriving on FROM sent out of TO, the runtime's filter
# (cli/network_netlink.c: u32 matching all at priority 1, mirred egress redirect, stolen).
net_redirect() {
	tc -n "$1" filter add dev "$2" parent ffff: protocol all prio 1 \
		u32 match u32 0 0 action mirred egress redirect dev "$3"
}

# net_use_filters POD: back to the runtime's plumbing, checked against what it had made.
net_use_filters() {
	local pod=$1 now
	if ! { ip -n "$pod" addr del "$NET_HOST_ADDR/24" dev "$NET_TAP" &&
		ip -n "$pod" addr add "$NET_POD_ADDR/24" dev eth0 &&
		tc -n "$pod" qdisc add dev "$NET_TAP" ingress &&
		net_redirect "$pod" eth0 "$NET_TAP" &&
		net_redirect "$pod" "$NET_TAP" eth0; }; then
		die "net: cannot switch $pod back to its filters"
	fi
	ip -n "$NET_HOST_NS" neigh flush dev "$(net_host_side "$pod")"
	now=$(net_plumbing "$pod")
	[ "$now" = "$NET_PLUMBING" ] ||
		die "net: $pod's plumbing differs from the runtime's: $(diff <(echo "$NET_PLUMBING") <(echo "$now") | tr '\n' ';')"
}

# net_switch POD PATH: the pod's VM reached through PATH (tcfilter or tap) from now on.
net_switch() {
	if [ "$2" = tap ]; then net_use_tap "$1"; else net_use_filters "$1"; fi
}

# net_client POD PATH: the namespace a path is measured from.
net_client() {
	if [ "$2" = tap ]; then echo "$1"; else echo "$NET_HOST_NS"; fi
}

# net_kata_round ROUND PAIRS: one VM; its tcfilter path and its bare tap take turns, PAIRS
# pairs, each path first in every other pair (tcfilter first in odd rounds, the tap in even
# ones, so that each comes first as often), a paired ratio per pair.
net_kata_round() {
	local r=$1 pairs=$2 p path next
	local pod="kbnet$$-$r" id="net$$-$r"
	NET_POD=$pod NET_ID=$id
	net_pod "$pod" "$NET_HOST_ADDR" "$NET_POD_ADDR"
	net_spec "$pod"
	kata_run_detached "$CONFIG" "$id" "$WORK/bundles/net" || die "kata run: $(head -c 300 "$WORK/$id.err")"
	NET_TAP=$(ip -n "$pod" -o link show type tun | awk -F': ' '{ print $2; exit }')
	NET_PLUMBING=$(net_plumbing "$pod")
	if ! grep -q "Egress Redirect to device $NET_TAP" <<<"$NET_PLUMBING" ||
		! grep -q "Egress Redirect to device eth0" <<<"$NET_PLUMBING"; then
		die "net: no tcfilter plumbing in $pod: $(tr '\n' ';' <<<"$NET_PLUMBING")"
	fi
	net_ready "$NET_HOST_NS" "$NET_POD_ADDR"
	path=tcfilter
	((r % 2)) || {
		net_switch "$pod" tap
		path=tap
	}
	for ((p = 1; p <= pairs; p++)); do
		net_measure "net_$path" "$(net_client "$pod" "$path")" "$NET_POD_ADDR"
		if [ "$path" = tap ]; then next=tcfilter; else next=tap; fi
		net_switch "$pod" "$next"
		path=$next
		net_measure "net_$path" "$(net_client "$pod" "$path")" "$NET_POD_ADDR" echo-first
		pair_ratio net_tcfilter_in net_tap_in
		pair_ratio net_tcfilter_out net_tap_out
		pair_ratio net_tcfilter_rtt net_tap_rtt "$NET_ECHOES"
	done
	# the runtime's delete finds what it made
	[ "$path" = tap ] && net_switch "$pod" tcfilter
	kata_delete "$CONFIG" "$id"
	net_pod_del "$pod"
}

net_runc_round() {
	local r=$1
	local pod="kbrnet$$-$r" id="netrunc$$-$r"
	NET_POD=$pod NET_ID=
	net_pod "$pod" 10.99.1.1 10.99.1.2
	net_spec "$pod"
	runc_run_detached "$id" "$WORK/bundles/net" || die "runc run: $(head -c 300 "$WORK/$id.err")"
	net_ready "$NET_HOST_NS" 10.99.1.2
	net_measure net_runc "$NET_HOST_NS" 10.99.1.2
	runc_delete "$id"
	net_pod_del "$pod"
}

section_net() {
	local r
	command -v iperf3 >/dev/null || die "net: needs iperf3 (make deps)"
	NET_HOST_NS="kbnethost$$"
	net_namespace "$NET_HOST_NS"
	net_bundle
	cp "$WORK/bundles/net/config.json" "$WORK/bundles/net/config.json.orig"
	log "net: warm-up"
	net_kata_round 0 1
	rm -f "$WORK"/samples/net_*
	for ((r = 1; r <= RUNS; r++)); do
		log "net: round $r/$RUNS"
		net_kata_round "$r" "$NET_PAIRS"
		[ -n "$RUNC" ] && net_runc_round "$r"
	done
	figure net net_tcfilter_in Mbit/s "tcfilter: TCP host -> container (iperf3 ${NET_SECONDS} s)" \
		net_tap_in "the same VM's tap used directly, in turns" ">=" 0.9
	figure net net_tcfilter_out Mbit/s "tcfilter: TCP container -> host (iperf3 -R)" \
		net_tap_out "the same VM's tap used directly, in turns" ">=" 0.9
	figure net net_tcfilter_rtt ms "tcfilter: TCP echo round trip, 64 bytes" \
		net_tap_rtt "the same VM's tap used directly, in turns" "<=" 1.1
	figure net net_tap_in Mbit/s "bare tap: TCP host -> container" net_runc_in "runc on a veth"
	figure net net_tap_out Mbit/s "bare tap: TCP container -> host" net_runc_out "runc on a veth"
	figure net net_tap_rtt ms "bare tap: TCP echo round trip" net_runc_rtt "runc on a veth"
	figure net net_runc_in Mbit/s "runc: TCP host -> container"
	figure net net_runc_out Mbit/s "runc: TCP container -> host"
	figure net net_runc_rtt ms "runc: TCP echo round trip"
	note "net: each VM's tcfilter path and bare tap take turns, ${NET_PAIRS} pairs a VM, ${RUNS} VMs; a tcfilter ratio is the median of the pairs' ratios (a pair's echo ratio: the medians of its ${NET_ECHOES} round trips a path)"
	note "net: under TCG every packet is copied by qemu's emulated virtio-net in userspace (no vhost-net on these hosts) and the guest's TCP runs on an emulated CPU (qemu's vCPU thread ~90% busy during a transfer, its main loop ~30%): the VM's absolute throughput is bounded by that, not by the plumbing"
	net_cleanup
}
