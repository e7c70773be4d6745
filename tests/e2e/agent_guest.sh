#!/bin/bash
# kata-agent end to end: the guest it sets up (boot time to READY, cgroup controllers,
# the console log) and containers with user and network namespaces. Boots one VM under
# qemu (TCG); cleans up on exit.
source "$(dirname "$0")/agent_lib.sh"

start=$(date +%s%N)
agent_vm_start

check "READY from a booted guest" ac 'timeout 240' wait-ready 'call PING' || agent_finish
echo "figure: READY read $((($(date +%s%N) - start) / 1000000)) ms after qemu was started (TCG, q35, 1 vCPU)"
agent_rootfs u1
agent_rootfs n1
ac 'call STARTPOD {"hostname":"guest1","shareDir":"kataShared"}' >/dev/null

spec() { # NAMESPACES_JSON LINUX_EXTRA ARGS_JSON
	printf '{"ociVersion":"1.0.2","process":{"user":{"uid":0,"gid":0},"args":%s,"env":["PATH=/bin:/sbin"],"cwd":"/"},"root":{"path":"rootfs"},"hostname":"inner","mounts":[{"destination":"/proc","type":"proc","source":"proc"},{"destination":"/sys","type":"sysfs","source":"sysfs","options":["ro","nosuid","nodev","noexec"]},{"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["ro"]}],"linux":{"namespaces":%s%s}}' \
		"$3" "$1" "$2"
}

t_cgroups() {
	local out
	out=$(ac "call NEWCONTAINER {\"id\":\"n1\",\"rootfs\":\"n1/rootfs\",\"oci\":$(spec '[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"},{"type":"network"}]' '' '["/bin/sh","-c","cat /proc/cgroups; ls /sys/fs/cgroup; ip link | grep -c mtu; hostname"]'),\"process\":{\"id\":\"init\",\"stdio\":1,\"stderr\":2}}" \
		'call STARTCONTAINER {"container":"n1"}' 'read-stream 1' 'read-stream 2' \
		'expect-exit n1 init 0' 'call REMOVECONTAINER {"container":"n1"}') || return 1
	echo "$out" | grep -E '^[a-z_]+[[:space:]]+[0-9]+[[:space:]]+[0-9]+[[:space:]]+1$' |
		awk '{print $1}' | tr '\n' ' ' >"$AGENT_DIR/controllers"
	local c
	for c in cpuset cpu cpuacct memory pids freezer; do
		grep -qx "$c" <<<"$out" || { echo "controller $c not mounted for the container"; return 1; }
	done
	# Its own network namespace: only the loopback interface. Its own hostname.
	grep -qx 1 <<<"$out" && grep -qx inner <<<"$out"
}
check "cgroup v1 controllers, network and uts namespaces" t_cgroups
echo "figure: v1 controllers enabled in the guest: $(cat "$AGENT_DIR/controllers" 2>/dev/null)"

t_userns() {
	local out
	out=$(ac "call NEWCONTAINER {\"id\":\"u1\",\"rootfs\":\"u1/rootfs\",\"oci\":$(spec '[{"type":"pid"},{"type":"mount"},{"type":"ipc"},{"type":"uts"},{"type":"user"}]' ',"uidMappings":[{"containerID":0,"hostID":100000,"size":65536}],"gidMappings":[{"containerID":0,"hostID":100000,"size":65536}]' '["/bin/sh","-c","probe ids; cat /proc/self/uid_map; sleep 1000"]'),\"process\":{\"id\":\"init\",\"stdio\":3,\"stderr\":4}}" \
		'call STARTCONTAINER {"container":"u1"}' 'read-some 3 81' \
		'call PSCONTAINER {"container":"u1"}' \
		"call EXECCMD {\"container\":\"u1\",\"process\":$(STDIO=5 STDERR=6 agent_process_json e1 false /bin/probe ids)}" \
		'read-stream 5' 'read-stream 6' 'expect-exit u1 e1 0' \
		'call KILLCONTAINER {"container":"u1","signal":9,"all":true}' 'expect-exit u1 init 137' \
		'call REMOVECONTAINER {"container":"u1"}') || return 1
	grep -q '^uid=0$' <<<"$out" || { echo "not root inside: $out"; return 1; }
	grep -qE '^ +0 +100000 +65536$' <<<"$out" || { echo "no uid map: $out"; return 1; }
	# Seen from the guest, the processes run as uid 100000.
	grep -q '"uid":100000' <<<"$out" || { echo "ps: $out"; return 1; }
	[ "$(grep -c '^uid=0$' <<<"$out")" -eq 2 ]
}
check "user namespace: root inside, uid 100000 outside, exec joins it" t_userns

t_update() {
	local out
	out=$(ac "call NEWCONTAINER {\"id\":\"n1\",\"rootfs\":\"n1/rootfs\",\"oci\":$(spec '[{"type":"pid"},{"type":"mount"}]' ',"resources":{"memory":{"limit":67108864}}' '["/bin/sleep","1000"]'),\"process\":{\"id\":\"init\",\"stdio\":7,\"stderr\":8}}" \
		'call STARTCONTAINER {"container":"n1"}' \
		'call UPDATECONTAINER {"container":"n1","resources":{"memory":{"limit":33554432},"pids":{"limit":10}}}' \
		'call STATSCONTAINER {"container":"n1"}' \
		'fail UPDATECONTAINER {"container":"n1","resources":{"memory":{"limit":"big"}}}' \
		'fail UPDATECONTAINER {"container":"nope","resources":{}}' \
		'call KILLCONTAINER {"container":"n1","signal":9}' 'expect-exit n1 init 137' \
		'call REMOVECONTAINER {"container":"n1"}') || return 1
	grep -q '"limit":33554432' <<<"$out" && grep -q '"pids":{"current":1,"limit":10}' <<<"$out"
}
check "UPDATECONTAINER changes the cgroup limits" t_update

# The memory limit: dd's one 64 MiB read faults the buffer in from inside the kernel, so the
# cgroup is over its limit at once. (sort /dev/zero grew its buffer slowly, and near the limit
# the guest evicted and re-read sort's own pages over 9p for 25-60 s under TCG before the
# OOM killer ran.)
t_limits() {
	local out
	out=$(ac "call NEWCONTAINER {\"id\":\"n1\",\"rootfs\":\"n1/rootfs\",\"oci\":$(spec '[{"type":"pid"},{"type":"mount"}]' ',"resources":{"memory":{"limit":16777216},"pids":{"limit":6}}' '["/bin/sleep","1000"]'),\"process\":{\"id\":\"init\",\"stdio\":7,\"stderr\":8}}" \
		'call STARTCONTAINER {"container":"n1"}' \
		"call EXECCMD {\"container\":\"n1\",\"process\":$(STDIO=9 STDERR=10 agent_process_json oom false /bin/dd if=/dev/zero of=/dev/null bs=64M count=1)}" \
		'read-stream 9' 'read-stream 10' 'expect-exit n1 oom 137' \
		"call EXECCMD {\"container\":\"n1\",\"process\":$(STDIO=11 STDERR=12 agent_process_json fork false /bin/sh -c 'for i in 1 2 3 4 5 6 7 8 9; do sleep 5 & done')}" \
		'sleep 2000' 'call PSCONTAINER {"container":"n1"}' \
		'read-stream 11' 'read-stream 12' 'wait-exit n1 fork' \
		'call KILLCONTAINER {"container":"n1","signal":9}' 'expect-exit n1 init 137' \
		'call REMOVECONTAINER {"container":"n1"}') || return 1
	# sleep 1000, sh and 4 sleeps make 6 tasks: the fifth sleep could not be forked. (The
	# exit report waits for the sleeps: they hold the stdout pipe.)
	grep -q "can.t fork" <<<"$out" || { echo "no fork failure: $out" | tr "\n" " "; return 1; }
	[ "$(grep -o '"cmd":"sleep 5"' <<<"$out" | wc -l)" -eq 4 ] || { echo "ps: $out"; return 1; }
	# dd's exit report says the memory cgroup killed it; the init's, killed by the host's
	# SIGKILL after it, does not (that OOM kill was reported already).
	[ "$(grep -c -x oom-killed <<<"$out")" -eq 1 ] &&
		grep -A1 -x 'status=137' <<<"$out" | head -2 | grep -qx oom-killed ||
		{ echo "oomKilled: $out" | tr "\n" " "; return 1; }
}
check "memory limit: OOM kill is 137, reported oomKilled; pids limit stops forks" t_limits

t_online() {
	local out
	out=$(ac 'call ONLINECPUMEM') || return 1
	grep -q '"cpus":0' <<<"$out"
}
check "ONLINECPUMEM answers (nothing offline here)" t_online

t_console() {
	ac 'call PING' >/dev/null || return 1
	# Routine events (a container made, a process ended) are debug records: only with
	# agent.log=debug, which this guest has not got.
	grep -q 'kata-agent\[1\] info: kata-agent .* starting' "$AGENT_DIR/console.log" &&
		grep -q 'kata-agent\[1\] info: ready [0-9]* ms after the kernel started' "$AGENT_DIR/console.log" &&
		! grep -q 'container n1 created' "$AGENT_DIR/console.log"
}
check "the agent logs to the console" t_console

t_destroy() {
	ac 'call DESTROYPOD' >/dev/null || return 1
	for _ in $(seq 100); do
		kill -0 "$AGENT_QEMU_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	return 1
}
check "DESTROYPOD powers off" t_destroy

# A guest without the channels: the agent cannot serve, says why on the console and
# powers the VM off rather than hang (PID 1 never just exits).
t_fatal() {
	local pid log=$AGENT_DIR/fatal-console.log
	GUEST_KERNEL=$AGENT_BUILD/guest/vmlinux GUEST_INITRD=$AGENT_BUILD/guest/kata-initrd.img \
		GUEST_PARAMS="$(cat "$AGENT_SRCDIR/guest/kernel-params")" \
		GUEST_CONSOLE_CHARDEV="file,path=$log" GUEST_SOCKET_DIR='' GUEST_SHARE_DIR='' guest_qemu_args
	qemu-system-x86_64 "${QEMU_ARGS[@]}" </dev/null >/dev/null 2>&1 &
	pid=$!
	AGENT_QEMU_PID=$pid
	for _ in $(seq 1200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		echo "qemu still runs after 120 s"
		return 1
	fi
	AGENT_QEMU_PID=
	grep -q 'fatal: no virtio-serial port named sh.hyper.channel.0' "$log"
}
check "no channels: the agent logs why and powers off" t_fatal
agent_finish
