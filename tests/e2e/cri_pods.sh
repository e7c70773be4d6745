#!/bin/bash
# Kubernetes pods in kata-runtime's VMs, driven as the kubelet drives them: containerd's CRI
# plugin (built into Debian's containerd) with a private configuration that registers the
# runtime handler `kata` (containerd's runc shim running the built kata-runtime) beside
# `runc`, reached through the CRI gRPC API by a small client (cri/cri.py, its messages in
# cri/api.proto). Pod networks come from the CRI plugin's CNI (Debian's bridge plugin, a
# configuration written here); containerd, its bridge and every pod live inside a network
# namespace this test makes first. The pause and busybox images are made here from the test
# rootfs and imported into containerd's k8s.io namespace: no registry is reached.
# A `kata` pod is one VM whatever its containers; a `runc` pod runs beside it on the host.
set -u
. "$(dirname "$0")/lib/engines.sh"
. "$(dirname "$0")/lib/netns.sh"
. "$(dirname "$0")/lib/cri.sh"
require_built

if ! missing=$(cri_missing); then
	fail "prerequisites" "$missing"
	exit 1
fi

cleanup() {
	cri_stop
	netns_delete
}
trap cleanup EXIT

if ! netns_create "kata-e2e-cri-$$"; then
	fail "network namespace" "ip netns add failed"
	exit 1
fi
if ! cri_start "$(mktemp -d /tmp/kata-e2e-cri-XXXXXX)"; then
	fail "containerd's CRI plugin starts" "$CRI_ERROR"
	exit 1
fi
pass "containerd's CRI plugin starts"

exec_field() { # exec_field ID FIELD CMD...
	local id=$1 field=$2
	shift 2
	cri exec "$id" 60 "$@" | jq -r ".$field"
}

status_field() { cri status "$1" 2>/dev/null | jq -r ".$2"; }
exited() { [ "$(status_field "$1" state)" = CONTAINER_EXITED ]; }
vm_count() { pgrep -fc -- "-name (guest=)?sandbox-$1( |,|\$)"; }

KATA_POD=
RUNC_POD=

case_kata_pod() {
	local web client out boot_web boot_client host_boot ids id c0 c42 c137 oom nooom
	cri_pod_config kpod
	if ! KATA_POD=$(cri runp "$CRI_WORK/kpod-pod.json" kata 2>"$CRI_WORK/runp.err"); then
		fail "RunPodSandbox with handler kata" "$(cat "$CRI_WORK/runp.err")"
		return 1
	fi
	CRI_PODS+=("$KATA_POD")
	pass "RunPodSandbox with handler kata"
	check_eq "the kata pod is one VM" 1 "$(vm_count "$KATA_POD")"
	check_eq "the kata pod is ready" SANDBOX_READY "$(cri podstatus "$KATA_POD" | jq -r .state)"
	check_contains "the kata pod has its CNI address" "10.78.$CRI_SUB." \
		"$(cri podstatus "$KATA_POD" | jq -r .network.ip)"

	web=$(cri_run_container "$KATA_POD" kpod web 0 sh -c \
		'mkdir -p /www && echo pod-hello >/www/index.html && exec busybox httpd -f -p 127.0.0.1:8080 -h /www') ||
		{ fail "kata pod: container web" "$(tail -3 "$CRI_WORK/containerd.log")"; return 1; }
	client=$(cri_run_container "$KATA_POD" kpod client 0 sleep 100000) ||
		{ fail "kata pod: container client" "$(tail -3 "$CRI_WORK/containerd.log")"; return 1; }
	pass "kata pod: two containers created and started"
	check_eq "kata pod: still one VM with two containers" 1 "$(vm_count "$KATA_POD")"
	check_eq "kata pod: no VM of a container's own" "0 0" "$(vm_count "$web") $(vm_count "$client")"
	boot_web=$(exec_field "$web" stdout cat /proc/sys/kernel/random/boot_id)
	boot_client=$(exec_field "$client" stdout cat /proc/sys/kernel/random/boot_id)
	host_boot=$(cat /proc/sys/kernel/random/boot_id)
	if [ -n "$boot_web" ] && [ "$boot_web" = "$boot_client" ] && [ "$boot_web" != "$host_boot" ]; then
		pass "kata pod: both containers in the same guest (boot id), not the host's"
	else
		fail "kata pod: both containers in the same guest (boot id), not the host's" \
			"web '$boot_web' client '$boot_client' host '$host_boot'"
	fi
	for ((i = 0; i < 60; i++)); do
		out=$(exec_field "$client" stdout busybox wget -qO- http://127.0.0.1:8080/index.html 2>/dev/null)
		[ "$out" = pod-hello ] && break
		sleep 1
	done
	check_eq "kata pod: one network (client reaches web on localhost)" pod-hello "$out"

	out=$(cri exec "$client" 60 sh -c 'echo out; echo err >&2; exit 3')
	check_eq "ExecSync: stdout" out "$(jq -r .stdout <<<"$out" | tr -d '\n')"
	check_eq "ExecSync: stderr" err "$(jq -r .stderr <<<"$out" | tr -d '\n')"
	check_eq "ExecSync: exit code" 3 "$(jq -r .exit_code <<<"$out")"

	c0=$(cri_run_container "$KATA_POD" kpod exit0 0 sh -c 'exit 0')
	c42=$(cri_run_container "$KATA_POD" kpod exit42 0 sh -c 'exit 42')
	c137=$(cri_run_container "$KATA_POD" kpod killed 0 sleep 100000)
	oom=$(cri_run_container "$KATA_POD" kpod oom $((32 << 20)) dd if=/dev/zero of=/dev/null bs=64M count=1)
	# the same without a limit fits in the VM: the limit is what kills
	nooom=$(cri_run_container "$KATA_POD" kpod nolimit 0 dd if=/dev/zero of=/dev/null bs=64M count=1)
	cri stop "$c137" 0 >/dev/null 2>&1
	for id in "$c0" "$c42" "$c137" "$oom" "$nooom"; do
		wait_for "$id exited" 120 exited "$id"
	done
	check_eq "ContainerStatus: exit code 0" "CONTAINER_EXITED 0" \
		"$(status_field "$c0" state) $(status_field "$c0" exit_code)"
	check_eq "ContainerStatus: exit code 42" "CONTAINER_EXITED 42" \
		"$(status_field "$c42" state) $(status_field "$c42" exit_code)"
	check_eq "ContainerStatus: StopContainer's SIGKILL is 137" "CONTAINER_EXITED 137" \
		"$(status_field "$c137" state) $(status_field "$c137" exit_code)"
	check_eq "the container over its memory limit is OOM-killed (137), reason OOMKilled" \
		"CONTAINER_EXITED 137 OOMKilled" \
		"$(status_field "$oom" state) $(status_field "$oom" exit_code) $(status_field "$oom" reason)"
	check_eq "... StopContainer's SIGKILL is no OOM: reason Error" Error "$(status_field "$c137" reason)"
	check_eq "... the same without a limit exits 0" "CONTAINER_EXITED 0" \
		"$(status_field "$nooom" state) $(status_field "$nooom" exit_code)"
	check_eq "kata pod: still one VM with seven containers" 1 "$(vm_count "$KATA_POD")"
	check_eq "kata pod: the others still run" "CONTAINER_RUNNING CONTAINER_RUNNING" \
		"$(status_field "$web" state) $(status_field "$client" state)"

	ids="$web $client $c0 $c42 $c137 $oom $nooom"
	for id in $ids; do
		cri stop "$id" 10 >/dev/null 2>&1
		if ! out=$(cri rm "$id" 2>&1); then fail "RemoveContainer $id" "$out"; fi
	done
	check_eq "kata pod: its containers gone from kata-runtime's state" "$KATA_POD" "$(ls "$CRI_KROOT/k8s.io")"
	check_eq "kata pod: the VM stays while the pod does" 1 "$(vm_count "$KATA_POD")"
}

case_runc_pod() {
	local c out
	cri_pod_config rpod
	if ! RUNC_POD=$(cri runp "$CRI_WORK/rpod-pod.json" runc 2>"$CRI_WORK/runp.err"); then
		fail "RunPodSandbox with handler runc" "$(cat "$CRI_WORK/runp.err")"
		return 1
	fi
	CRI_PODS+=("$RUNC_POD")
	pass "RunPodSandbox with handler runc beside the kata pod"
	check_eq "the runc pod has no VM" 0 "$(vm_count "$RUNC_POD")"
	c=$(cri_run_container "$RUNC_POD" rpod host 0 sleep 100000) ||
		{ fail "runc pod: container" "$(tail -3 "$CRI_WORK/containerd.log")"; return 1; }
	out=$(exec_field "$c" stdout cat /proc/sys/kernel/random/boot_id)
	check_eq "runc pod: its container runs on the host (the host's boot id)" \
		"$(cat /proc/sys/kernel/random/boot_id)" "$out"
	if [ -n "$KATA_POD" ]; then
		check_eq "the kata pod's VM beside it" 1 "$(vm_count "$KATA_POD")"
	fi
	cri stop "$c" 0 >/dev/null 2>&1
	cri rm "$c" >/dev/null 2>&1
}

remove_pod() {
	local name=$1 pod=$2 out
	[ -n "$pod" ] || return
	if out=$(cri stopp "$pod" 2>&1); then pass "$name: StopPodSandbox"; else fail "$name: StopPodSandbox" "$out"; fi
	if out=$(cri rmp "$pod" 2>&1); then pass "$name: RemovePodSandbox"; else fail "$name: RemovePodSandbox" "$out"; fi
	check_nothing_left "$name" "$pod"
}

case_kata_pod
case_runc_pod
remove_pod "kata pod" "$KATA_POD"
remove_pod "runc pod" "$RUNC_POD"
check_eq "nothing left in kata-runtime's state" "" "$(ls "$CRI_KROOT/k8s.io")"
exit "$FAILED"
