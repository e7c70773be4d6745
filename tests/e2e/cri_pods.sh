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
require_built
CRI_DIR=$SRCDIR/tests/e2e/cri
PY=/usr/bin/python3

for tool in containerd ctr runc /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/loopback; do
	if ! command -v "$tool" >/dev/null; then
		fail "prerequisites" "$tool is not installed (make deps)"
		exit 1
	fi
done
if ! "$PY" -c 'import grpc, grpc_tools.protoc' 2>/dev/null; then
	fail "prerequisites" "python3-grpcio and python3-grpc-tools are not installed (make deps)"
	exit 1
fi

WORK=$(mktemp -d /tmp/kata-e2e-cri-XXXXXX)
SOCK=$WORK/containerd.sock
KROOT=$WORK/kata-root
CONTAINERD_PID=
PODS=()
SUB=$(($$ % 250))
PAUSE_IMAGE=docker.io/library/kata-e2e-pause:1
BUSYBOX_IMAGE=docker.io/library/kata-e2e-busybox:1

cri() { "$PY" "$CRI_DIR/cri.py" "$WORK/stubs" "$SOCK" "$@"; }

cleanup() {
	local pod id pid ns
	for pod in "${PODS[@]}"; do
		cri stopp "$pod" >/dev/null 2>&1
		cri rmp "$pod" >/dev/null 2>&1
	done
	if [ -n "$CONTAINERD_PID" ]; then
		kill "$CONTAINERD_PID" 2>/dev/null
		wait "$CONTAINERD_PID" 2>/dev/null
	fi
	# what a failed run may leave: containerd's shims of this test, kata-runtime's
	# containers (the shim's runtime root is Root/NAMESPACE), the pods' namespaces
	for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $SOCK"); do
		kill -KILL "$pid" 2>/dev/null
	done
	for id in "$KROOT"/k8s.io/*; do
		[ -d "$id" ] || continue
		KATA_CONF_FILE=$CONFIG timeout 60 "$RUNTIME" --root "$KROOT/k8s.io" delete --force \
			"${id##*/}" >/dev/null 2>&1
	done
	for ns in /var/run/netns/cni-*; do
		[ -e "$ns" ] || continue
		grep -qxF "$ns" "$WORK/netns-before" 2>/dev/null || ip netns del "${ns##*/}" 2>/dev/null
	done
	grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
	rm -rf "$WORK"
	netns_delete
}
trap cleanup EXIT

if ! netns_create "kata-e2e-cri-$$"; then
	fail "network namespace" "ip netns add failed"
	exit 1
fi

mkdir -p "$WORK/stubs" "$WORK/cni" "$WORK/logs" "$KROOT"
# the pods' namespaces containerd makes (cni-*) that the cleanup may remove are the new ones
ls -d /var/run/netns/cni-* >"$WORK/netns-before" 2>/dev/null
if ! "$PY" -m grpc_tools.protoc -I "$CRI_DIR" --python_out="$WORK/stubs" \
	--grpc_python_out="$WORK/stubs" "$CRI_DIR/api.proto" 2>"$WORK/protoc.err"; then
	fail "CRI client: protoc" "$(cat "$WORK/protoc.err")"
	exit 1
fi
if ! "$CRI_DIR/make-image.sh" "$ROOTFS" "$PAUSE_IMAGE" "$WORK/pause.tar" '["/bin/sleep"]' \
	'["100000"]' || ! "$CRI_DIR/make-image.sh" "$ROOTFS" "$BUSYBOX_IMAGE" "$WORK/busybox.tar" \
	'null' '["sh"]'; then
	fail "images" "make-image.sh failed"
	exit 1
fi

cat >"$WORK/cni/10-kata-e2e.conflist" <<CONF
{
  "cniVersion": "0.4.0",
  "name": "kata-e2e-cri",
  "plugins": [{
    "type": "bridge",
    "bridge": "kcri$SUB",
    "isGateway": true,
    "ipMasq": false,
    "ipam": {
      "type": "host-local",
      "dataDir": "$WORK/ipam",
      "ranges": [[{"subnet": "10.78.$SUB.0/24"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
CONF

cat >"$WORK/config.toml" <<CONF
version = 2
root = "$WORK/root"
state = "$WORK/state"
[grpc]
  address = "$SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  restrict_oom_score_adj = true
  disable_apparmor = true
  [plugins."io.containerd.grpc.v1.cri".containerd]
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        BinaryName = "$(command -v runc)"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata]
      runtime_type = "io.containerd.runc.v2"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.kata.options]
        BinaryName = "$RUNTIME"
        Root = "$KROOT"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$WORK/cni"
CONF

KATA_CONF_FILE=$CONFIG "${IN_NETNS[@]}" containerd --config "$WORK/config.toml" \
	>"$WORK/containerd.log" 2>&1 &
CONTAINERD_PID=$!
if ! wait_for "containerd's CRI" 60 cri version; then
	fail "containerd's CRI plugin starts" "$(tail -5 "$WORK/containerd.log")"
	exit 1
fi
pass "containerd's CRI plugin starts"
for image in pause busybox; do
	if ! ctr --address "$SOCK" -n k8s.io images import "$WORK/$image.tar" >"$WORK/import.log" 2>&1; then
		fail "import of the $image image" "$(cat "$WORK/import.log")"
		exit 1
	fi
done

# pod_config NAME: a PodSandboxConfig (JSON) into $WORK/NAME-pod.json.
pod_config() {
	mkdir -p "$WORK/logs/$1"
	jq -n --arg name "$1" --arg uid "uid-$1-$$" --arg logs "$WORK/logs/$1" '{
		metadata: {name: $name, uid: $uid, namespace: "kata-e2e"},
		hostname: $name, log_directory: $logs, linux: {}}' >"$WORK/$1-pod.json"
}

# container_config POD NAME MEMORY_BYTES ARGS...: a ContainerConfig into $WORK/POD-NAME.json.
container_config() {
	local pod=$1 name=$2 memory=$3 args
	shift 3
	# (jq would take an argument such as -c for its own option: the args go in as JSON)
	args=$("$PY" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")
	# pid CONTAINER: the kubelet's default (the pod's pid namespace is shareProcessNamespace)
	jq -n --arg name "$name" --arg image "$BUSYBOX_IMAGE" --argjson memory "$memory" \
		--argjson args "$args" '{
		metadata: {name: $name}, image: {image: $image}, args: $args,
		log_path: ($name + ".log"),
		linux: {resources: {memory_limit_in_bytes: $memory},
			security_context: {namespace_options: {pid: "CONTAINER"}}}}' \
		>"$WORK/$pod-$name.json"
}

# run_container POD_ID POD NAME MEMORY ARGS...: creates and starts; prints the id.
run_container() {
	local pod_id=$1 pod=$2 name=$3 id
	shift 3
	container_config "$pod" "$name" "$@"
	id=$(cri create "$pod_id" "$WORK/$pod-$name.json" "$WORK/$pod-pod.json") || return 1
	cri start "$id" >&2 || return 1
	echo "$id"
}

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
	pod_config kpod
	if ! KATA_POD=$(cri runp "$WORK/kpod-pod.json" kata 2>"$WORK/runp.err"); then
		fail "RunPodSandbox with handler kata" "$(cat "$WORK/runp.err")"
		return 1
	fi
	PODS+=("$KATA_POD")
	pass "RunPodSandbox with handler kata"
	check_eq "the kata pod is one VM" 1 "$(vm_count "$KATA_POD")"
	check_eq "the kata pod is ready" SANDBOX_READY "$(cri podstatus "$KATA_POD" | jq -r .state)"
	check_contains "the kata pod has its CNI address" "10.78.$SUB." \
		"$(cri podstatus "$KATA_POD" | jq -r .network.ip)"

	web=$(run_container "$KATA_POD" kpod web 0 sh -c \
		'mkdir -p /www && echo pod-hello >/www/index.html && exec busybox httpd -f -p 127.0.0.1:8080 -h /www') ||
		{ fail "kata pod: container web" "$(tail -3 "$WORK/containerd.log")"; return 1; }
	client=$(run_container "$KATA_POD" kpod client 0 sleep 100000) ||
		{ fail "kata pod: container client" "$(tail -3 "$WORK/containerd.log")"; return 1; }
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

	c0=$(run_container "$KATA_POD" kpod exit0 0 sh -c 'exit 0')
	c42=$(run_container "$KATA_POD" kpod exit42 0 sh -c 'exit 42')
	c137=$(run_container "$KATA_POD" kpod killed 0 sleep 100000)
	oom=$(run_container "$KATA_POD" kpod oom $((32 << 20)) dd if=/dev/zero of=/dev/null bs=64M count=1)
	# the same without a limit fits in the VM: the limit is what kills
	nooom=$(run_container "$KATA_POD" kpod nolimit 0 dd if=/dev/zero of=/dev/null bs=64M count=1)
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
	check_eq "kata pod: its containers gone from kata-runtime's state" "$KATA_POD" "$(ls "$KROOT/k8s.io")"
	check_eq "kata pod: the VM stays while the pod does" 1 "$(vm_count "$KATA_POD")"
}

case_runc_pod() {
	local c out
	pod_config rpod
	if ! RUNC_POD=$(cri runp "$WORK/rpod-pod.json" runc 2>"$WORK/runp.err"); then
		fail "RunPodSandbox with handler runc" "$(cat "$WORK/runp.err")"
		return 1
	fi
	PODS+=("$RUNC_POD")
	pass "RunPodSandbox with handler runc beside the kata pod"
	check_eq "the runc pod has no VM" 0 "$(vm_count "$RUNC_POD")"
	c=$(run_container "$RUNC_POD" rpod host 0 sleep 100000) ||
		{ fail "runc pod: container" "$(tail -3 "$WORK/containerd.log")"; return 1; }
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
check_eq "nothing left in kata-runtime's state" "" "$(ls "$KROOT/k8s.io")"
exit "$FAILED"
