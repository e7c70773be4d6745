#!/bin/bash
# kata-agent networking end to end: STARTPOD's "interfaces" and "routes" (hyperstart's keys)
# configure the guest's virtio-net devices, and real packets go both ways between the guest
# and the tap it is plugged into.
#
# Every network here lives in a network namespace this script creates: the script runs
# itself again inside it (nsenter --net), where it makes the taps, gives the host end of
# them addresses and runs qemu (-netdev tap). Nothing is routed out of it; the namespace
# goes at the end, whatever happened. Three VMs (TCG):
#   1. q35, two virtio-net-pci NICs: bad STARTPODs (unknown MAC, bad address, MTU, a route
#      to an unknown device) are refused naming the interface or route; then the NICs are
#      found by MAC and their names swapped, MTU 1400, IPv4 + IPv6 addresses, routes; ping
#      and TCP both ways, IPv4 and IPv6, through the default routes too; /etc/hosts,
#      /etc/hostname and /etc/resolv.conf bind-mounted from the share; a container with a
#      network namespace of its own has lo up.
#   2. microvm, one virtio-net-device (virtio-mmio) NIC found by its name: ping both ways.
#   3. microvm without a NIC, STARTPOD without interfaces: lo is up in the container.
set -u

if [ -z "${AGENT_NET_NS:-}" ]; then
	ns=kata-agent-net-$$
	if ! ip netns add "$ns"; then
		echo "FAIL: setup: ip netns add $ns"
		exit 1
	fi
	remove_ns() { ip netns delete "$ns" 2>/dev/null; }
	trap remove_ns EXIT
	trap 'exit 1' INT TERM
	AGENT_NET_NS=$ns nsenter --net="/run/netns/$ns" bash "$0" "$@"
	rc=$?
	remove_ns
	if ip netns list | grep -qw "$ns"; then
		echo "FAIL: no leftovers: network namespace $ns is still there"
		exit 1
	fi
	echo "PASS: no leftovers: the test's network namespace is gone"
	exit $rc
fi

# --- inside the test's network namespace ---------------------------------------------------
source "$(dirname "$0")/agent_lib.sh"

MAC_B=02:42:ac:11:00:02 # on tap0: the guest's second NIC, to be its eth0
MAC_A=02:42:ac:11:00:0a # on tap1: the guest's first NIC, to be its eth1
SEQ=10

net_setup() {
	ip link set lo up &&
		ip tuntap add dev tap0 mode tap &&
		ip tuntap add dev tap1 mode tap &&
		ip link set tap0 mtu 1400 up &&
		ip link set tap1 up &&
		ip addr add 10.88.0.1/16 dev tap0 &&
		ip addr add fd00::1/64 dev tap0 nodad &&
		# What lies beyond the guest's default routes: addresses of this namespace.
		ip addr add 10.99.0.1/32 dev lo &&
		ip addr add fd99::1/128 dev lo
}
if ! net_setup; then
	echo "FAIL: setup: taps and addresses in the test's network namespace"
	exit 1
fi

# The NICs, in PCI slot order: MAC_A's is probed first and becomes the guest's eth0.
two_nics() {
	QEMU_ARGS+=(-netdev "tap,id=net1,ifname=tap1,script=no,downscript=no"
		-device "virtio-net-pci,netdev=net1,mac=$MAC_A"
		-netdev "tap,id=net0,ifname=tap0,script=no,downscript=no"
		-device "virtio-net-pci,netdev=net0,mac=$MAC_B")
}
mmio_nic() {
	QEMU_ARGS+=(-netdev "tap,id=net0,ifname=tap0,script=no,downscript=no"
		-device "virtio-net-device,netdev=net0,mac=$MAC_B")
}

# Runs ARGS in container c1 (EXECCMD); prints its stdout and stderr and "status=N".
gexec() {
	local out=$((SEQ + 1)) err=$((SEQ + 2)) id="e$SEQ"
	SEQ=$((SEQ + 2))
	ac "call EXECCMD {\"container\":\"c1\",\"process\":$(STDIO=$out STDERR=$err agent_process_json "$id" false "$@")}" \
		"read-stream $out" "read-stream $err" "wait-exit c1 $id"
}
# The same, which must exit 0.
gexec_ok() {
	local out
	out=$(gexec "$@") || { echo "$out"; return 1; }
	echo "$out"
	grep -qx 'status=0' <<<"$out"
}

spec() { # MOUNTS_JSON NAMESPACES_JSON
	printf '{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":["/bin/sleep","1000"],"env":["PATH=/bin:/sbin:/usr/bin"],"cwd":"/"},"root":{"path":"rootfs"},"mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["ro","nosuid","nodev","noexec"]}%s],"linux":{"namespaces":%s}}' \
		"$1" "$2"
}

start_container() { # ID SPEC
	ac "call NEWCONTAINER {\"id\":\"$1\",\"rootfs\":\"$1/rootfs\",\"oci\":$2,\"process\":{\"id\":\"init\",\"stdio\":1,\"stderr\":2}}" \
		"call STARTCONTAINER {\"container\":\"$1\"}"
}

# STARTPOD must fail with an ERROR containing TEXT.
startpod_refused() { # TEXT JSON
	local out
	out=$(ac "fail STARTPOD $2") || { echo "$out"; return 1; }
	out=${out//\\\//\/} # JSON's escaped slashes
	grep -qF -- "$1" <<<"$out" || { echo "ERROR without \`$1\`: $out"; return 1; }
}

iface_b() { # EXTRA_KEYS (after macAddr)
	printf '{"device":"eth1","newDeviceName":"eth0","macAddr":"%s"%s}' "$MAC_B" "$1"
}
ADDRS_B='"ipAddresses":[{"ipAddress":"10.88.0.5","netMask":"16"},{"ipAddress":"fd00::5","netMask":"64"}]'
GOOD_INTERFACES="[$(iface_b ",\"mtu\":1400,$ADDRS_B"),{\"newDeviceName\":\"eth1\",\"macAddr\":\"$MAC_A\",\"mtu\":9000}]"
GOOD_ROUTES='[{"dest":"default","gateway":"10.88.0.1","device":"eth0"},{"dest":"10.1.0.0/16","gateway":"10.88.0.254","device":"eth0"},{"dest":"192.168.50.0/24","device":"eth1"},{"dest":"::/0","gateway":"fd00::1","device":"eth0"}]'

# ---------------------------------------------------------------------------------------------
# VM 1: q35, two NICs on PCI
AGENT_EXTRA_QEMU_ARGS_FN=two_nics agent_vm_start
check "READY from a guest with two virtio-net-pci NICs" ac 'timeout 240' wait-ready 'call PING' ||
	agent_finish

check "STARTPOD refuses an unknown MAC address after waiting 5 s for it, naming the interface" startpod_refused \
	'after waiting 5000 ms for hot-plugged devices: interfaces[0] (eth0, 02:00:00:00:00:99): no network device with this MAC address' \
	"{\"interfaces\":[{\"newDeviceName\":\"eth0\",\"macAddr\":\"02:00:00:00:00:99\",$ADDRS_B}]}"
check "STARTPOD refuses a bad address, naming the interface" startpod_refused \
	"interfaces[0] (eth0, $MAC_B): ipAddresses[1].ipAddress: \`10.88.0.256\` is not an IPv4 or IPv6 address" \
	"{\"interfaces\":[$(iface_b ',"ipAddresses":[{"ipAddress":"fd00::5","netMask":"64"},{"ipAddress":"10.88.0.256","netMask":"16"}]')]}"
t_bad_prefix_mtu() {
	startpod_refused "interfaces[0] (eth0, $MAC_B): ipAddresses[0].netMask: \`33\` is not a valid IPv4 prefix length" \
		"{\"interfaces\":[$(iface_b ',"ipAddresses":[{"ipAddress":"10.88.0.5","netMask":"33"}]')]}" &&
		startpod_refused "interfaces[0] (eth0, $MAC_B): mtu 70000 out of range (68-65535)" \
			"{\"interfaces\":[$(iface_b ',"mtu":70000')]}"
}
check "STARTPOD refuses a bad prefix and an MTU out of range" t_bad_prefix_mtu
check "STARTPOD refuses a route to an unknown device, naming the route" startpod_refused \
	'routes[0] (10.2.0.0/16 dev eth7): no network device named eth7' \
	"{\"interfaces\":$GOOD_INTERFACES,\"routes\":[{\"dest\":\"10.2.0.0/16\",\"device\":\"eth7\"}]}"

agent_rootfs c1
agent_rootfs n1
# The engine's files, as the runtime puts them in the share; /etc/hostname and
# /etc/resolv.conf do not exist in c1's rootfs (/etc/hosts does).
mkdir -p "$AGENT_DIR/share/c1/etc"
printf '127.0.0.1\tlocalhost\n10.88.0.5\tnetpod\n' >"$AGENT_DIR/share/c1/etc/hosts"
echo netpod >"$AGENT_DIR/share/c1/etc/hostname"
printf 'nameserver 10.88.0.1\nsearch dns.podman\n' >"$AGENT_DIR/share/c1/etc/resolv.conf"
rm -f "$AGENT_DIR/share/c1/rootfs/etc/hostname" "$AGENT_DIR/share/c1/rootfs/etc/resolv.conf"
ETC_MOUNTS=',{"destination":"/etc/hosts","type":"bind","source":"c1/etc/hosts","options":["rbind","rprivate"]},{"destination":"/etc/hostname","type":"bind","source":"c1/etc/hostname","options":["rbind","rprivate"]},{"destination":"/etc/resolv.conf","type":"bind","source":"c1/etc/resolv.conf","options":["rbind","ro"]}'

check "STARTPOD with two interfaces (IPv4, IPv6, MTU 1400, names swapped) and routes" \
	ac "call STARTPOD {\"hostname\":\"netpod\",\"shareDir\":\"kataShared\",\"interfaces\":$GOOD_INTERFACES,\"routes\":$GOOD_ROUTES}"
check "a container in the VM's network" start_container c1 \
	"$(spec "$ETC_MOUNTS" '[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"}]')"

t_links() {
	local out
	out=$(gexec_ok /bin/sh -c 'for d in eth0 eth1; do echo "$d $(cat /sys/class/net/$d/address) $(cat /sys/class/net/$d/mtu) $(cat /sys/class/net/$d/operstate)"; done') ||
		{ echo "$out"; return 1; }
	grep -qx "eth0 $MAC_B 1400 up" <<<"$out" && grep -qx "eth1 $MAC_A 9000 up" <<<"$out" ||
		{ echo "links: $out"; return 1; }
}
check "NICs found by MAC: names swapped, MTUs set, both up" t_links

t_addresses() {
	local out
	out=$(gexec_ok /sbin/ip -o addr) || { echo "$out"; return 1; }
	grep -qE '^[0-9]+: lo +inet 127\.0\.0\.1/8 ' <<<"$out" &&
		grep -qE '^[0-9]+: lo +inet6 ::1/128 ' <<<"$out" &&
		grep -qE '^[0-9]+: eth0 +inet 10\.88\.0\.5/16 brd 10\.88\.255\.255 ' <<<"$out" &&
		grep -qE '^[0-9]+: eth0 +inet6 fd00::5/64 scope global ' <<<"$out" ||
		{ echo "addresses: $out"; return 1; }
	# No duplicate address detection pending: usable at once.
	! grep -E 'fd00::5/64.*tentative' <<<"$out" || return 1
}
check "addresses: lo 127.0.0.1 and ::1, eth0 10.88.0.5/16 and fd00::5/64" t_addresses

t_routes() {
	local out
	out=$(gexec_ok /bin/sh -c 'ip route; ip -6 route') || { echo "$out"; return 1; }
	local want
	for want in '^default via 10\.88\.0\.1 dev eth0' '^10\.1\.0\.0/16 via 10\.88\.0\.254 dev eth0' \
		'^10\.88\.0\.0/16 dev eth0 .*src 10\.88\.0\.5' '^192\.168\.50\.0/24 dev eth1 ' \
		'^default via fd00::1 dev eth0' '^fd00::/64 dev eth0 '; do
		grep -qE "$want" <<<"$out" || { echo "no route /$want/ in: $out"; return 1; }
	done
}
check "routes: IPv4 and IPv6 defaults, a network via a gateway, an on-link network" t_routes

check "host pings the guest (IPv4, a full 1400-byte packet)" busybox ping -c 2 -W 5 -s 1372 10.88.0.5
check "host pings the guest (IPv6)" busybox ping6 -c 2 -W 5 fd00::5
check "guest pings the host (IPv4, on the link)" gexec_ok /bin/ping -c 2 -W 5 10.88.0.1
check "guest pings the host (IPv6, on the link)" gexec_ok /bin/ping6 -c 2 -W 5 fd00::1
check "guest pings beyond its default route (IPv4)" gexec_ok /bin/ping -c 2 -W 5 10.99.0.1
check "guest pings beyond its default route (IPv6)" gexec_ok /bin/ping6 -c 2 -W 5 fd99::1

# TCP, host to guest: nc listens in the container; the host connects and sends a line.
t_tcp_in() {
	local out=$((SEQ + 1)) err=$((SEQ + 2)) id="e$SEQ" got
	SEQ=$((SEQ + 2))
	(
		for _ in $(seq 100); do
			echo "hello from the host" | socat -t 5 - TCP4:10.88.0.5:7777,connect-timeout=2 \
				2>/dev/null && exit 0
			sleep 0.3
		done
		exit 1
	) &
	local sender=$!
	got=$(ac "call EXECCMD {\"container\":\"c1\",\"process\":$(STDIO=$out STDERR=$err agent_process_json "$id" false /usr/bin/nc -l -p 7777)}" \
		"read-stream $out" "read-stream $err" "expect-exit c1 $id 0")
	wait "$sender" || { echo "the host could not connect: $got"; return 1; }
	grep -qx "hello from the host" <<<"$got" || { echo "guest got: $got"; return 1; }
}
check "TCP host -> guest (IPv4)" t_tcp_in

# TCP, guest to host, IPv4 and IPv6: socat listens here, nc connects from the container.
t_tcp_out() { # ADDRESS SOCAT_LISTEN
	local file=$AGENT_DIR/tcp-out
	rm -f "$file"
	timeout 60 socat -u "$2,reuseaddr" "OPEN:$file,creat" &
	local listener=$!
	for _ in $(seq 50); do
		ss -ltnH "sport = :7778" | grep -q . && break
		sleep 0.1
	done
	gexec_ok /bin/sh -c "echo hello from the guest | nc $1 7778" || { kill $listener; return 1; }
	wait $listener
	grep -qx "hello from the guest" "$file" || { echo "host got: $(cat "$file")"; return 1; }
}
check "TCP guest -> host (IPv4)" t_tcp_out 10.88.0.1 TCP4-LISTEN:7778,bind=10.88.0.1
check "TCP guest -> host (IPv6)" t_tcp_out fd00::1 TCP6-LISTEN:7778,bind=[fd00::1]

t_etc_files() {
	local out
	out=$(gexec_ok /bin/sh -c 'cat /etc/hosts /etc/hostname /etc/resolv.conf; grep " /etc/" /proc/self/mounts') ||
		{ echo "$out"; return 1; }
	grep -qP '^10\.88\.0\.5\tnetpod$' <<<"$out" && grep -qx netpod <<<"$out" &&
		grep -qx 'nameserver 10.88.0.1' <<<"$out" && grep -qx 'search dns.podman' <<<"$out" ||
		{ echo "files: $out"; return 1; }
	grep -qE ' /etc/resolv.conf 9p ro,' <<<"$out" && grep -qE ' /etc/hostname 9p rw,' <<<"$out" ||
		{ echo "mounts: $out"; return 1; }
}
check "/etc/hosts, /etc/hostname (absent in the rootfs), /etc/resolv.conf (ro) bound from the share over 9p" t_etc_files

t_own_netns() {
	local out
	out=$(ac "call NEWCONTAINER {\"id\":\"n1\",\"rootfs\":\"n1/rootfs\",\"oci\":$(spec '' '[{"type":"pid"},{"type":"mount"},{"type":"network"}]' | sed 's|"/bin/sleep","1000"|"/bin/sh","-c","ip -o addr; ip -o link"|'),\"process\":{\"id\":\"init\",\"stdio\":3,\"stderr\":4}}" \
		'call STARTCONTAINER {"container":"n1"}' 'read-stream 3' 'read-stream 4' \
		'expect-exit n1 init 0' 'call REMOVECONTAINER {"container":"n1"}') || { echo "$out"; return 1; }
	grep -qE '^1: lo +inet 127\.0\.0\.1/8 ' <<<"$out" && grep -qE '^1: lo: <LOOPBACK,UP,LOWER_UP>' <<<"$out" ||
		{ echo "$out"; return 1; }
	! grep -q eth0 <<<"$out"
}
check "a container with a network namespace of its own has lo up, and nothing else" t_own_netns

ac 'call KILLCONTAINER {"container":"c1","signal":9}' 'expect-exit c1 init 137' \
	'call REMOVECONTAINER {"container":"c1"}' 'call DESTROYPOD' >/dev/null
agent_vm_stop

# ---------------------------------------------------------------------------------------------
# VM 2: microvm, one NIC on virtio-mmio, found by its name (no macAddr)
export GUEST_MACHINE=microvm
AGENT_EXTRA_QEMU_ARGS_FN=mmio_nic agent_vm_start
check "READY from a microvm guest with a virtio-net-device NIC" ac 'timeout 240' wait-ready 'call PING' ||
	agent_finish
agent_rootfs c1
check "STARTPOD: the NIC by its name, IPv4 and IPv6" \
	ac "call STARTPOD {\"shareDir\":\"kataShared\",\"interfaces\":[{\"device\":\"eth0\",$ADDRS_B}],\"routes\":[{\"dest\":\"default\",\"gateway\":\"10.88.0.1\"}]}"
check "a container" start_container c1 "$(spec '' '[{"type":"pid"},{"type":"mount"}]')"
check "microvm: host pings the guest (IPv4)" busybox ping -c 2 -W 5 10.88.0.5
check "microvm: host pings the guest (IPv6)" busybox ping6 -c 2 -W 5 fd00::5
check "microvm: guest pings beyond its default route" gexec_ok /bin/ping -c 2 -W 5 10.99.0.1
ac 'call DESTROYPOD' >/dev/null
agent_vm_stop

# ---------------------------------------------------------------------------------------------
# VM 3: no NIC, no interfaces in STARTPOD (podman --net=none): lo all the same
agent_vm_start
check "READY from a guest without a NIC" ac 'timeout 240' wait-ready || agent_finish
agent_rootfs c1
ac 'call STARTPOD {"shareDir":"kataShared"}' >/dev/null
check "a container without interfaces" start_container c1 "$(spec '' '[{"type":"pid"},{"type":"mount"}]')"
t_lo_only() {
	local out
	out=$(gexec_ok /bin/sh -c 'ip -o addr; ip -o link; ping -c 1 -W 5 127.0.0.1') || { echo "$out"; return 1; }
	grep -qE '^1: lo +inet 127\.0\.0\.1/8 ' <<<"$out" && grep -qE '^1: lo +inet6 ::1/128 ' <<<"$out" &&
		grep -qE '^1: lo: <LOOPBACK,UP,LOWER_UP>' <<<"$out" || { echo "$out"; return 1; }
	[ "$(grep -c ': <' <<<"$out")" -eq 1 ] || { echo "more than lo: $out"; return 1; }
}
check "no interfaces: lo is up with 127.0.0.1 and ::1, and answers" t_lo_only
ac 'call DESTROYPOD' >/dev/null
agent_vm_stop

agent_finish
