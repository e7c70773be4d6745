# Section pod (docs/pods.md): a Kubernetes pod's containers in one VM, driven through the real
# CRI: containerd's CRI plugin with the runtime handler `kata` (the built kata-runtime), set
# up as tests/e2e/cri_pods.sh sets it up (tests/e2e/lib/cri.sh) inside a network namespace
# of the bench's own. The time from RunPodSandbox to the last StartContainer's return (then
# every container runs) for a pod of 1 and of 4 containers, and the host memory (PSS of qemu,
# the proxy and every kata-shim) of the 4-container pod, against 4 pods of 1 container each
# (4 VMs) measured in the same run; runc pods' times for reference. Targets (issue 13): the
# 4-container pod needs at most 1.5x the time and 1.3x the memory of a 1-container pod.
# Sourced by bench/run.sh.
# shellcheck shell=bash

# shellcheck source=tests/e2e/lib/netns.sh
. "$BENCH_SRCDIR/tests/e2e/lib/netns.sh"
# shellcheck source=tests/e2e/lib/cri.sh
. "$BENCH_SRCDIR/tests/e2e/lib/cri.sh"

POD_SETTLE_S=3

# containerd stopped, what it left removed, the namespace deleted (run.sh's exit trap too).
pod_cleanup() {
	cri_stop
	netns_delete
}

# pod_run NAME HANDLER N: a pod of N sleeping containers through the CRI (cri.py runpod);
# prints its JSON ({pod, containers, seconds}).
pod_run() {
	local name=$1 handler=$2 n=$3 i configs=() out
	cri_pod_config "$name"
	for ((i = 1; i <= n; i++)); do
		cri_container_config "$name" "c$i" 0 sleep 100000
		configs+=("$CRI_WORK/$name-c$i.json")
	done
	out=$(cri runpod "$CRI_WORK/$name-pod.json" "$handler" "${configs[@]}" \
		2>"$WORK/$name.err") || return 1
	echo "$out"
}

# pod_remove POD_ID: StopPodSandbox and RemovePodSandbox.
pod_remove() {
	cri stopp "$1" >/dev/null 2>"$WORK/stopp.err" || die "StopPodSandbox: $(cat "$WORK/stopp.err")"
	cri rmp "$1" >/dev/null 2>"$WORK/rmp.err" || die "RemovePodSandbox: $(cat "$WORK/rmp.err")"
}

# pod_pss_kib POD_JSON: PSS of the pod's qemu and proxy and of every kata-shim (the pause
# container's and each container's), in KiB; dies if one of them is not found.
pod_pss_kib() {
	local id pids ids
	mapfile -t ids < <(jq -r '.pod, .containers[]' <<<"$1")
	mapfile -t pids < <(for id in "${ids[@]}"; do
		host_pids "$id" "$CRI_KROOT/k8s.io"
	done | sort -u)
	[ "${#pids[@]}" -eq $((2 + ${#ids[@]})) ] ||
		die "pod ${ids[0]}: ${#pids[@]} processes found, not qemu, proxy and ${#ids[@]} shims"
	pss_kib "${pids[@]}"
}

mib() { awk -v k="$1" 'BEGIN { printf "%.2f\n", k / 1024 }'; }

# pod_round R NAME HANDLER N: one pod of N containers; its time and (kata) PSS sampled as
# pod_NAME_time / pod_NAME_pss unless R is the warm-up; removed.
pod_round() {
	local r=$1 name=$2 handler=$3 n=$4 json kib
	json=$(pod_run "$name-$r" "$handler" "$n") ||
		die "pod $name ($handler, $n containers): $(cat "$WORK/$name-$r.err")"
	CRI_PODS+=("$(jq -r .pod <<<"$json")")
	if [ "$r" -gt 0 ]; then
		sample "pod_${name}_time" "$(jq -r .seconds <<<"$json")"
		if [ "$handler" = kata ]; then
			sleep "$POD_SETTLE_S"
			kib=$(pod_pss_kib "$json") || exit 1
			sample "pod_${name}_pss" "$(mib "$kib")"
		fi
	fi
	pod_remove "$(jq -r .pod <<<"$json")"
	CRI_PODS=()
}

section_pod() {
	local r i json jsons seconds kib missing
	missing=$(cri_missing) || die "pod: $missing"
	ROOTFS=$BUILD/rootfs
	netns_create "kata-bench-pod-$$" || die "pod: ip netns add failed"
	cri_start "$WORK/cri" || die "pod: $CRI_ERROR"
	log "pod: through containerd's CRI, pods of 1 and 4 containers, 4 pods of 1 (warm-up + $RUNS)"
	for ((r = 0; r <= RUNS; r++)); do
		pod_round "$r" 1 kata 1
		pod_round "$r" 4 kata 4
		# 4 containers in 4 VMs: 4 pods of 1, one after another, all running when measured
		seconds=0
		kib=0
		jsons=()
		for ((i = 1; i <= 4; i++)); do
			json=$(pod_run "vms4-$r-$i" kata 1) ||
				die "4 VMs, pod $i: $(cat "$WORK/vms4-$r-$i.err")"
			CRI_PODS+=("$(jq -r .pod <<<"$json")")
			jsons+=("$json")
			seconds=$(awk -v a="$seconds" -v b="$(jq -r .seconds <<<"$json")" \
				'BEGIN { printf "%.3f", a + b }')
		done
		if [ "$r" -gt 0 ]; then
			sample pod_vms4_time "$seconds"
			sleep "$POD_SETTLE_S"
			for json in "${jsons[@]}"; do
				i=$(pod_pss_kib "$json") || exit 1
				kib=$((kib + i))
			done
			sample pod_vms4_pss "$(mib "$kib")"
		fi
		for json in "${jsons[@]}"; do pod_remove "$(jq -r .pod <<<"$json")"; done
		CRI_PODS=()
		if [ -n "$RUNC" ]; then
			pod_round "$r" runc1 runc 1
			pod_round "$r" runc4 runc 4
		fi
	done
	pod_cleanup
	figure pod pod_1_time s "time to a running pod of 1 container (CRI)"
	figure pod pod_4_time s "time to a running pod of 4 containers (CRI)" pod_1_time \
		"pod of 1 container" "<=" 1.5
	figure pod pod_vms4_time s "time to 4 pods of 1 container (4 VMs)" pod_4_time \
		"pod of 4 containers"
	figure pod pod_runc1_time s "time to a running runc pod of 1 container" pod_1_time \
		"kata pod of 1 container"
	figure pod pod_runc4_time s "time to a running runc pod of 4 containers" pod_4_time \
		"kata pod of 4 containers"
	figure pod pod_1_pss MiB "host PSS of a pod of 1 container"
	figure pod pod_4_pss MiB "host PSS of a pod of 4 containers" pod_1_pss \
		"pod of 1 container" "<=" 1.3
	figure pod pod_vms4_pss MiB "host PSS of 4 pods of 1 container (4 VMs)" pod_4_pss \
		"pod of 4 containers"
	note "pod: times from RunPodSandbox to the last StartContainer's return, one CRI client" \
		"process per pod; PSS of qemu, kata-proxy and the kata-shims (containerd's own shim" \
		"not counted)"
}
