# Section pod (docs/pods.md): a Kubernetes pod's containers in one VM. The time to a running
# pod of 1 and of 4 containers (the sandbox's run -d to the last container's run -d, as the
# CRI plugin's RunPodSandbox to its last StartContainer drive the runtime) and the host
# memory (PSS of qemu, proxy and every shim) of the 4-container pod, against 4 containers in
# 4 VMs of their own measured in the same run. Targets (issue 13): the 4-container pod needs
# at most 1.5x the time and 1.3x the memory of a 1-container pod.
# Sourced by bench/run.sh.
# shellcheck shell=bash

POD_SETTLE_S=3

# pod_bundle NAME KIND SANDBOX: a bundle of the sleeping process with CRI's annotations.
pod_bundle() {
	local dir=$WORK/bundles/pod-$1
	mkdir -p "$dir"
	jq --arg kind "$2" --arg sb "$3" '.annotations = {"io.kubernetes.cri.container-type": $kind,
		"io.kubernetes.cri.sandbox-id": $sb}' "$WORK/bundles/sleep/config.json" >"$dir/config.json"
	echo "$dir"
}

# pod_start ID N: the sandbox and N containers of pod ID, one after another; prints seconds.
pod_start() {
	local sb=$1 n=$2 i began
	began=$EPOCHREALTIME
	kata_run_detached "$CONFIG" "$sb" "$(pod_bundle "$sb" sandbox "$sb")" || return 1
	for ((i = 1; i <= n; i++)); do
		kata_run_detached "$CONFIG" "$sb-c$i" "$(pod_bundle "$sb-c$i" container "$sb")" || return 1
	done
	awk -v a="$began" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}

# vms_start PREFIX N: N containers in VMs of their own, one after another; prints seconds.
vms_start() {
	local i began
	began=$EPOCHREALTIME
	for ((i = 1; i <= $2; i++)); do
		kata_run_detached "$CONFIG" "$1-$i" "$WORK/bundles/sleep" || return 1
	done
	awk -v a="$began" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f\n", b - a }'
}

# pod_pss_mib SANDBOX CONTAINER...: PSS of the VM's qemu and proxy and of every shim, in MiB.
pod_pss_mib() {
	local sb=$1 pids id
	mapfile -t pids < <({
		host_pids "$sb"
		for id in "${@:2}"; do pgrep -f -- "kata-shim -c $id "; done
	} | sort -u)
	awk -v k="$(pss_kib "${pids[@]}")" 'BEGIN { printf "%.2f\n", k / 1024 }'
}

section_pod() {
	local r t sb ids=() i
	ensure_bundle sleep sleep 100000
	log "pod: pods of 1 and 4 containers, 4 VMs of their own (warm-up + $RUNS)"
	for ((r = 0; r <= RUNS; r++)); do
		sb=pod1-$$-$r
		t=$(pod_start "$sb" 1) || die "pod of 1: $(cat "$WORK/$sb"*.err)"
		sleep "$POD_SETTLE_S"
		if [ "$r" -gt 0 ]; then
			sample pod_1_time "$t"
			sample pod_1_pss "$(pod_pss_mib "$sb" "$sb-c1")"
		fi
		kata_delete "$CONFIG" "$sb"

		sb=pod4-$$-$r
		t=$(pod_start "$sb" 4) || die "pod of 4: $(cat "$WORK/$sb"*.err)"
		sleep "$POD_SETTLE_S"
		if [ "$r" -gt 0 ]; then
			sample pod_4_time "$t"
			sample pod_4_pss "$(pod_pss_mib "$sb" "$sb-c1" "$sb-c2" "$sb-c3" "$sb-c4")"
		fi
		kata_delete "$CONFIG" "$sb"

		t=$(vms_start "vm4-$$-$r" 4) || die "4 VMs: $(cat "$WORK/vm4-$$-$r"*.err)"
		sleep "$POD_SETTLE_S"
		ids=()
		for ((i = 1; i <= 4; i++)); do ids+=("vm4-$$-$r-$i"); done
		if [ "$r" -gt 0 ]; then
			sample pod_vms4_time "$t"
			local kib=0 pids
			for i in "${ids[@]}"; do
				mapfile -t pids < <(host_pids "$i")
				kib=$((kib + $(pss_kib "${pids[@]}")))
			done
			sample pod_vms4_pss "$(awk -v k=$kib 'BEGIN { printf "%.2f\n", k / 1024 }')"
		fi
		for i in "${ids[@]}"; do kata_delete "$CONFIG" "$i" & done
		wait
	done
	figure pod pod_1_time s "time to a running pod of 1 container"
	figure pod pod_4_time s "time to a running pod of 4 containers" pod_1_time \
		"pod of 1 container" "<=" 1.5
	figure pod pod_vms4_time s "time to 4 containers in 4 VMs" pod_4_time "pod of 4 containers"
	figure pod pod_1_pss MiB "host PSS of a pod of 1 container"
	figure pod pod_4_pss MiB "host PSS of a pod of 4 containers" pod_1_pss \
		"pod of 1 container" "<=" 1.3
	figure pod pod_vms4_pss MiB "host PSS of 4 containers in 4 VMs" pod_4_pss "pod of 4 containers"
}
