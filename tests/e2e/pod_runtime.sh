#!/bin/bash
# Pods driven through kata-runtime directly, with the annotations containerd's CRI plugin
# (and CRI-O) write: the sandbox container boots the one VM of the pod, its containers run
# in that VM (same guest boot id, one network, the sandbox's ipc and uts namespaces, its pid
# namespace only when the spec asks), each with its own shim, state and lifecycle; deleting
# one leaves the rest; bad input changes nothing; a crash of the pod's qemu stops every
# container and delete cleans them all; nothing is left behind.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

CRI_TYPE=io.kubernetes.cri.container-type
CRI_SANDBOX=io.kubernetes.cri.sandbox-id
CRIO_TYPE=io.kubernetes.cri-o.ContainerType
CRIO_SANDBOX=io.kubernetes.cri-o.SandboxID

# pod_bundle DIR KIND SANDBOX_ID [cri|crio] ARGS...: a bundle with the pod's annotations;
# a container of the pod names its ipc and uts namespaces by path (as containerd does: the
# pause container's, on the host), which the runtime maps onto the sandbox's in the guest.
pod_bundle() {
	local dir=$1 kind=$2 sandbox=$3 flavour=$4 tkey skey
	shift 4
	make_bundle "$dir" "$@" || return 1
	if [ "$flavour" = crio ]; then tkey=$CRIO_TYPE skey=$CRIO_SANDBOX; else
		tkey=$CRI_TYPE skey=$CRI_SANDBOX
	fi
	bundle_edit "$dir" '.annotations = {($tk): $kind, ($sk): $sb}' \
		--arg tk "$tkey" --arg sk "$skey" --arg kind "$kind" --arg sb "$sandbox"
	if [ "$kind" = container ]; then
		bundle_edit "$dir" '.linux.namespaces |= map(if .type == "ipc" or .type == "uts"
			then .path = "/proc/1/ns/" + .type else . end)'
	fi
}

qemu_count() { pgrep -fc -- "-name (guest=)?sandbox-$1( |,|\$)"; }

# kr_exec ID ARGS...: output of a process run in the container.
kr_exec() {
	local id=$1
	shift
	kr exec "$id" "$@" </dev/null 2>&1
}

create_start() {
	local id=$1 b=$2
	kr_detached "$id" create --bundle "$b" "$id" && kr start "$id" >/dev/null 2>&1
}

no_state() { [ ! -e "$ROOT/$1" ]; }

# force_delete_pod LABEL SANDBOX CONTAINERS...: delete --force of the sandbox takes the VM
# and every container of the pod with it; nothing is left.
force_delete_pod() {
	local label=$1 sb=$2 out id
	shift 2
	if out=$(kr delete --force "$sb" 2>&1); then pass "$label: delete --force of the sandbox"; else
		fail "$label: delete --force of the sandbox" "$out"
	fi
	check_nothing_left "$label" "$sb"
	for id in "$@"; do
		if no_state "$id" && wait_for "$id's shim" 10 no_processes_left "$id"; then
			pass "$label: delete --force of the sandbox took $id with it"
		else
			fail "$label: delete --force of the sandbox took $id with it" "$(ls "$ROOT")"
		fi
	done
}

case_pod() {
	local sb c1 c2 c3 out qpid boot_sb boot1 boot2
	new_id sb
	sb=$ID
	new_id web
	c1=$ID
	new_id client
	c2=$ID
	new_id sharepid
	c3=$ID
	pod_bundle "$TMP/sb" sandbox "$sb" cri probe sleep 1000
	pod_bundle "$TMP/c1" container "$sb" cri sh -c \
		'echo pod-hello >/dev/shm/index.html; exec busybox httpd -f -p 127.0.0.1:8080 -h /dev/shm'
	pod_bundle "$TMP/c2" container "$sb" cri probe sleep 1000
	pod_bundle "$TMP/c3" container "$sb" crio probe sleep 1000
	bundle_edit "$TMP/c3" '.linux.namespaces |= map(if .type == "pid"
		then .path = "/proc/1/ns/pid" else . end)'

	if ! create_start "$sb" "$TMP/sb"; then
		fail "sandbox: create and start" "$(detached_error "$sb")"
		return
	fi
	pass "sandbox: create and start"
	qpid=$(qemu_pid_of "$sb")
	if kr_detached "$c1" create --bundle "$TMP/c1" "$c1"; then pass "container 1: create"; else
		fail "container 1: create" "$(detached_error "$c1")"
		return
	fi
	check_eq "container 1: created" created "$(state_field "$c1" status)"
	if out=$(kr start "$c1" 2>&1); then pass "container 1: start"; else fail "container 1: start" "$out"; fi
	if kr_detached "$c2" create --bundle "$TMP/c2" "$c2" && kr start "$c2" >/dev/null 2>&1; then
		pass "container 2: create and start"
	else
		fail "container 2: create and start" "$(detached_error "$c2")"
		return
	fi
	check_eq "one VM for the pod" 1 "$(pgrep -fc -- '-name sandbox-'"$sb"'( |,|$)')"
	check_eq "no VM of container 1's own" "" "$(qemu_pid_of "$c1")"
	check_eq "no VM of container 2's own" "" "$(qemu_pid_of "$c2")"
	check_eq "container 1: running" running "$(state_field "$c1" status)"
	check_eq "container 2: running" running "$(state_field "$c2" status)"
	if [ "$(state_field "$c1" pid)" != "$(state_field "$c2" pid)" ] &&
		[ "$(state_field "$c1" pid)" != "$(state_field "$sb" pid)" ]; then
		pass "each container has its own shim"
	else
		fail "each container has its own shim" "pids $(state_field "$sb" pid) $(state_field "$c1" pid) $(state_field "$c2" pid)"
	fi

	boot_sb=$(kr_exec "$sb" cat /proc/sys/kernel/random/boot_id)
	boot1=$(kr_exec "$c1" cat /proc/sys/kernel/random/boot_id)
	boot2=$(kr_exec "$c2" cat /proc/sys/kernel/random/boot_id)
	if [ -n "$boot_sb" ] && [ "$boot_sb" = "$boot1" ] && [ "$boot1" = "$boot2" ]; then
		pass "the same guest boot id in every container"
	else
		fail "the same guest boot id in every container" "'$boot_sb' '$boot1' '$boot2'"
	fi
	if wait_for "container 1's server" 30 sh -c "'$RUNTIME' --kata-config '$CONFIG' --root '$ROOT' exec '$c2' busybox wget -qO- http://127.0.0.1:8080/index.html </dev/null | grep -q pod-hello"; then
		pass "one network: container 2 reaches container 1 on localhost"
	else
		fail "one network: container 2 reaches container 1 on localhost" \
			"$(kr_exec "$c2" busybox wget -qO- http://127.0.0.1:8080/index.html)"
	fi
	check_eq "ipc shared with the sandbox" "$(kr_exec "$sb" readlink /proc/self/ns/ipc)" \
		"$(kr_exec "$c1" readlink /proc/self/ns/ipc)"
	check_eq "uts shared with the sandbox" "$(kr_exec "$sb" hostname)" "$(kr_exec "$c1" hostname)"
	if [ "$(kr_exec "$sb" readlink /proc/self/ns/pid)" != "$(kr_exec "$c1" readlink /proc/self/ns/pid)" ]; then
		pass "pid namespace of its own without shareProcessNamespace"
	else
		fail "pid namespace of its own without shareProcessNamespace" "same as the sandbox's"
	fi
	if [ "$(kr_exec "$sb" readlink /proc/self/ns/mnt)" != "$(kr_exec "$c1" readlink /proc/self/ns/mnt)" ]; then
		pass "mount namespace of its own"
	else
		fail "mount namespace of its own" "same as the sandbox's"
	fi
	out=$(kr exec "$c1" sh -c 'exit 7' </dev/null >/dev/null 2>&1; echo $?)
	check_eq "exec in a container of the pod: its exit code" 7 "$out"
	check_contains "ps of a container of the pod" "httpd" "$(kr ps "$c1" 2>&1)"

	# the pid namespace shared when the spec asks (CRI-O's annotations this time)
	if kr_detached "$c3" create --bundle "$TMP/c3" "$c3" && kr start "$c3" >/dev/null 2>&1; then
		pass "CRI-O annotations: create and start"
		check_eq "pid namespace shared with the sandbox when asked" \
			"$(kr_exec "$sb" readlink /proc/self/ns/pid)" "$(kr_exec "$c3" readlink /proc/self/ns/pid)"
		check_contains "the pause process is seen from the container sharing its pids" \
			"sleep 1000" "$(kr_exec "$c3" ps -o args)"
	else
		fail "CRI-O annotations: create and start" "$(detached_error "$c3")"
	fi

	# bad input changes nothing
	new_id orphan
	pod_bundle "$TMP/orphan" container "rt$$-nosuch" cri probe sleep 1
	if out=$(kr create --bundle "$TMP/orphan" "$ID" 2>&1 </dev/null); then
		fail "a container naming no sandbox: refused" "created"
	else
		check_contains "a container naming no sandbox: refused" "does not exist" "$out"
	fi
	if no_state "$ID"; then pass "... and nothing made"; else fail "... and nothing made" "$ID"; fi
	if out=$(kr create --bundle "$TMP/sb" "$sb" 2>&1 </dev/null); then
		fail "a second sandbox of the same id: refused" "created"
	else
		check_contains "a second sandbox of the same id: refused" "exists" "$out"
	fi
	check_eq "... the pod's VM untouched" "$qpid" "$(qemu_pid_of "$sb")"
	check_eq "... the sandbox still running" running "$(state_field "$sb" status)"
	new_id disagree
	pod_bundle "$TMP/disagree" container "$sb" cri probe sleep 1
	bundle_edit "$TMP/disagree" '.annotations[$k] = "sandbox"' --arg k "$CRIO_TYPE"
	if out=$(kr create --bundle "$TMP/disagree" "$ID" 2>&1 </dev/null); then
		fail "annotations that disagree: refused" "created"
	else
		check_contains "annotations that disagree: refused" "disagree" "$out"
	fi
	if no_state "$ID"; then pass "... and nothing made"; else fail "... and nothing made" "$ID"; fi

	# pause is the whole VM's
	out=$(kr pause "$c2" 2>&1)
	check_contains "pause of a container of a pod says it pauses the pod's VM" "whole VM" "$out"
	check_eq "... paused" paused "$(state_field "$c2" status)"
	check_eq "... and so is every other container of the pod" "paused paused" \
		"$(state_field "$c1" status) $(state_field "$sb" status)"
	kr resume "$c2" >/dev/null 2>&1
	check_eq "... resumed" running "$(state_field "$c2" status)"
	check_eq "... with every other container of the pod" "running running" \
		"$(state_field "$c1" status) $(state_field "$sb" status)"

	# one container goes, the rest stays
	kr kill "$c2" KILL >/dev/null 2>&1
	if wait_status "$c2" stopped 20; then pass "kill: container 2 stopped"; else fail "kill: container 2 stopped" "$(state_field "$c2" status)"; fi
	check_eq "kill: container 1 still running" running "$(state_field "$c1" status)"
	if out=$(kr delete "$c2" 2>&1); then pass "delete of container 2"; else fail "delete of container 2" "$out"; fi
	if no_state "$c2"; then pass "delete: container 2's state gone"; else
		fail "delete: container 2's state gone" "$ROOT/$c2"
	fi
	if grep -q "/$c2/rootfs" /proc/mounts; then
		fail "delete: container 2's rootfs unmounted" "still mounted"
	else
		pass "delete: container 2's rootfs unmounted"
	fi
	check_eq "delete: the pod's VM untouched" "$qpid" "$(qemu_pid_of "$sb")"
	check_eq "delete: container 1 still runs" "pod-hello" \
		"$(kr_exec "$c1" busybox wget -qO- http://127.0.0.1:8080/index.html)"

	# the sandbox goes last: refused while a container runs, --force takes them all
	kr kill "$sb" KILL >/dev/null 2>&1
	wait_status "$sb" stopped 20 >/dev/null 2>&1
	if out=$(kr delete "$sb" 2>&1); then
		fail "delete of the sandbox while its containers run: refused" "deleted"
	else
		check_contains "delete of the sandbox while its containers run: refused" "$c1" "$out"
	fi
	check_eq "... nothing changed" running "$(state_field "$c1" status)"
	new_id late
	pod_bundle "$TMP/late" container "$sb" cri probe sleep 1
	if out=$(kr create --bundle "$TMP/late" "$ID" 2>&1 </dev/null); then
		fail "a container naming a stopped sandbox: refused" "created"
	else
		check_contains "a container naming a stopped sandbox: refused" "stopped" "$out"
	fi
	force_delete_pod sandbox "$sb" "$c1" "$c3"
}

# Two containers of one pod created at the same moment: serialised on the pod. The pod is
# on microvm (the default here), sized at boot by Kata's annotation on its sandbox (2 vCPUs);
# a container's limits do not grow it (docs/pods.md, "Sizing").
case_concurrent() {
	local sb a b pa pb ra rb cpus mem
	new_id csb
	sb=$ID
	new_id ca
	a=$ID
	new_id cb
	b=$ID
	pod_bundle "$TMP/csb" sandbox "$sb" cri probe sleep 1000
	bundle_edit "$TMP/csb" '.annotations["io.katacontainers.config.hypervisor.default_vcpus"] = "2"'
	pod_bundle "$TMP/ca" container "$sb" cri probe sleep 1000
	bundle_edit "$TMP/ca" '.linux.resources.cpu = {"quota": 200000, "period": 100000}
		| .linux.resources.memory = {"limit": 134217728}'
	pod_bundle "$TMP/cb" container "$sb" cri probe sleep 1000
	if ! create_start "$sb" "$TMP/csb"; then
		fail "concurrent: sandbox" "$(detached_error "$sb")"
		return
	fi
	check_eq "microvm: the pod's VM sized at boot by its annotation (2 vCPUs)" 0-1 \
		"$(kr_exec "$sb" cat /sys/devices/system/cpu/online)"
	mem=$(kr_exec "$sb" sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
	[ -n "$mem" ] || fail "microvm: the guest's MemTotal" "not read"
	kr_detached "$a" create --bundle "$TMP/ca" "$a" &
	pa=$!
	kr_detached "$b" create --bundle "$TMP/cb" "$b" &
	pb=$!
	wait "$pa"
	ra=$?
	wait "$pb"
	rb=$?
	if [ "$ra" = 0 ] && [ "$rb" = 0 ]; then pass "concurrent: two creates in one pod"; else
		fail "concurrent: two creates in one pod" "$(detached_error "$a") $(detached_error "$b")"
	fi
	kr start "$a" >/dev/null 2>&1 &
	pa=$!
	kr start "$b" >/dev/null 2>&1
	wait "$pa"
	check_eq "concurrent: both running" "running running" \
		"$(state_field "$a" status) $(state_field "$b" status)"
	cpus=$(kr_exec "$sb" cat /sys/devices/system/cpu/online)
	check_eq "microvm: a container's limits do not grow the VM" "0-1 $mem" \
		"$cpus $(kr_exec "$sb" sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)"
	kr kill "$a" KILL >/dev/null 2>&1
	kr kill "$b" KILL >/dev/null 2>&1
	wait_status "$a" stopped 20 >/dev/null 2>&1
	wait_status "$b" stopped 20 >/dev/null 2>&1
	kr delete "$a" >/dev/null 2>&1 &
	pa=$!
	kr delete "$b" >/dev/null 2>&1
	wait "$pa"
	if no_state "$a" && no_state "$b"; then pass "concurrent: two deletes in one pod"; else
		fail "concurrent: two deletes in one pod" "$(ls "$ROOT")"
	fi
	check_eq "concurrent: the sandbox untouched" running "$(state_field "$sb" status)"
	kr kill "$sb" KILL >/dev/null 2>&1
	wait_status "$sb" stopped 20 >/dev/null 2>&1
	if out=$(kr delete "$sb" 2>&1); then pass "concurrent: delete of the stopped sandbox"; else
		fail "concurrent: delete of the stopped sandbox" "$out"
	fi
	check_nothing_left "concurrent" "$sb"
}

# A crash of the pod's qemu: every container stops, delete cleans them all.
case_crash() {
	local sb c qpid
	new_id xsb
	sb=$ID
	new_id xc
	c=$ID
	pod_bundle "$TMP/xsb" sandbox "$sb" cri probe sleep 1000
	pod_bundle "$TMP/xc" container "$sb" cri probe sleep 1000
	if ! create_start "$sb" "$TMP/xsb" || ! create_start "$c" "$TMP/xc"; then
		fail "crash: the pod" "$(detached_error "$sb") $(detached_error "$c")"
		return
	fi
	qpid=$(qemu_pid_of "$sb")
	kill -KILL "$qpid"
	if wait_status "$sb" stopped 30 && wait_status "$c" stopped 30; then
		pass "crash of qemu: every container of the pod stopped"
	else
		fail "crash of qemu: every container of the pod stopped" \
			"$(state_field "$sb" status) $(state_field "$c" status)"
	fi
	if out=$(kr delete "$sb" 2>&1); then pass "crash: delete of the sandbox"; else
		fail "crash: delete of the sandbox" "$out"
	fi
	check_nothing_left "crash" "$sb"
	if no_state "$c" && no_processes_left "$c"; then pass "crash: the container went with it"; else
		fail "crash: the container went with it" "$(ls "$ROOT")"
	fi
}

# q35 and pc grow the pod's VM as its containers come (docs/pods.md, "Sizing"). maxcpus is
# the host's CPUs (the configuration's cap; at least 2 here): the sandbox boots with 1 vCPU,
# a container with a CPU quota of 1 CPU and a 256 MiB limit hot-plugs a vCPU and a 256 MiB
# DIMM, the guest sees them before the container starts, and the container's own cgroup
# still holds it to its limits; a container asking more vCPUs than are left is refused at
# create and changes nothing.
case_grow() {
	local machine=$1 saved=$CONFIG sb c big plain out cpus0 mem0 cpus1 mem1 evpid t0 host_cpus
	local g="grow ($1)"
	host_cpus=$(nproc)
	if [ "$host_cpus" -lt 2 ]; then
		skip "$g" "one host CPU: maxcpus leaves no vCPU to hot-plug"
		return
	fi
	sed -e '/^\[hypervisor.qemu\]/a machine_type = "'"$machine"'"' "$saved" >"$TMP/$machine.toml"
	CONFIG=$TMP/$machine.toml
	new_id gsb
	sb=$ID
	new_id grow
	c=$ID
	new_id big
	big=$ID
	new_id plain
	plain=$ID
	pod_bundle "$TMP/gsb" sandbox "$sb" cri probe sleep 1000
	pod_bundle "$TMP/plain" container "$sb" cri probe sleep 1000
	pod_bundle "$TMP/grow" container "$sb" cri probe sleep 1000
	bundle_edit "$TMP/grow" '.linux.resources.cpu = {"quota": 100000, "period": 100000}
		| .linux.resources.memory = {"limit": 268435456}'
	pod_bundle "$TMP/big" container "$sb" cri probe sleep 1000
	bundle_edit "$TMP/big" '.linux.resources.cpu = {"quota": ($n * 100000), "period": 100000}' \
		--argjson n "$host_cpus"
	if ! create_start "$sb" "$TMP/gsb"; then
		fail "$g: sandbox" "$(detached_error "$sb")"
		CONFIG=$saved
		return
	fi
	cpus0=$(kr_exec "$sb" cat /sys/devices/system/cpu/online)
	mem0=$(kr_exec "$sb" sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
	check_eq "$g: the sandbox's VM boots with 1 vCPU online" 0 "$cpus0"
	# the hot-plug's cost: a create without limits, then one that grows the VM
	t0=$(date +%s%N)
	if kr_detached "$plain" create --bundle "$TMP/plain" "$plain"; then
		echo "figure: create of a container without limits in a $machine pod: $((($(date +%s%N) - t0) / 1000000)) ms (TCG)"
	else
		fail "$g: create of a container without limits" "$(detached_error "$plain")"
	fi
	check_eq "$g: ... which plugs nothing" 0 "$(kr_exec "$sb" cat /sys/devices/system/cpu/online)"
	t0=$(date +%s%N)
	if kr_detached "$c" create --bundle "$TMP/grow" "$c"; then
		echo "figure: create of a container that hot-plugs 1 vCPU and 256 MiB in a $machine pod: $((($(date +%s%N) - t0) / 1000000)) ms (TCG)"
	fi
	if kr start "$c" >/dev/null 2>&1; then pass "$g: create and start with 1 CPU and 256 MiB"; else
		fail "$g: create and start with 1 CPU and 256 MiB" "$(detached_error "$c")"
		CONFIG=$saved
		return
	fi
	cpus1=$(kr_exec "$sb" cat /sys/devices/system/cpu/online)
	mem1=$(kr_exec "$sb" sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' /proc/meminfo)
	check_eq "$g: the guest has 2 vCPUs online" 0-1 "$cpus1"
	check_eq "$g: the container may use them (nproc)" 2 "$(kr_exec "$c" nproc)"
	if [ -n "$mem0" ] && [ -n "$mem1" ] && [ "$((mem1 - mem0))" -ge $((250 * 1024)) ] &&
		[ "$((mem1 - mem0))" -le $((256 * 1024)) ]; then
		pass "$g: the guest's MemTotal grew by 256 MiB"
	else
		fail "$g: the guest's MemTotal grew by 256 MiB" "$mem0 kB before, $mem1 kB after"
	fi
	out=$(kr_exec "$c" probe cgroup)
	check_contains "$g: the container's cgroup has its memory limit" "memory_limit=268435456" "$out"
	check_contains "$g: the container's cgroup has its CPU quota" "cpu_quota=100000" "$out"
	# 300 MiB fits in the grown VM but not in the container's cgroup: the OOM killer of
	# the cgroup ends it, and `events` says so as runc's does
	"$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" events --interval 200ms "$c" \
		>"$TMP/$machine.events" 2>&1 &
	evpid=$!
	track_bg "$evpid"
	wait_for "the first stats event" 30 grep -q '"type":"stats"' "$TMP/$machine.events"
	if grep -q '"type":"oom"' "$TMP/$machine.events"; then
		fail "$g: no oom event before the OOM" "$(cat "$TMP/$machine.events")"
	else
		pass "$g: no oom event before the OOM"
	fi
	out=$(kr exec "$c" dd if=/dev/zero of=/dev/null bs=300M count=1 </dev/null >/dev/null 2>&1
		echo $?)
	check_eq "$g: the container's memory limit holds (OOM kill, 137)" 137 "$out"
	if wait_for "the oom event" 30 grep -qF "{\"type\":\"oom\",\"id\":\"$c\"}" "$TMP/$machine.events"; then
		pass "$g: events reports the OOM kill"
	else
		fail "$g: events reports the OOM kill" "$(tail -n 3 "$TMP/$machine.events")"
	fi
	kill "$evpid" 2>/dev/null
	wait "$evpid" 2>/dev/null
	check_eq "$g: the sandbox still runs" running "$(state_field "$sb" status)"
	# maxcpus leaves host_cpus - 2 vCPUs: host_cpus more are refused, with nothing plugged
	if kr_detached "$big" create --bundle "$TMP/big" "$big"; then
		fail "$g: a container past maxcpus is refused" "create succeeded"
	else
		out=$(detached_error "$big")
		check_contains "$g: a container past maxcpus is refused, named" "\`$big\`" "$out"
		check_contains "$g: the refusal says why" "no room for $host_cpus more vCPUs" "$out"
	fi
	if no_state "$big"; then pass "$g: the refused container left no state"; else
		fail "$g: the refused container left no state" "$(ls "$ROOT")"
	fi
	check_eq "$g: the refusal plugged nothing" 0-1 "$(kr_exec "$sb" cat /sys/devices/system/cpu/online)"
	check_eq "$g: the container runs on" running "$(state_field "$c" status)"
	force_delete_pod "$g" "$sb" "$c" "$plain"
	CONFIG=$saved
}

case_pod
case_concurrent
case_crash
case_grow q35
case_grow pc
rt_finish
