# containerd's CRI plugin as the kubelet reaches it, for tests/e2e/cri_pods.sh and bench/pod.sh:
# a private containerd (Debian's, its CRI plugin built in) whose configuration registers the
# runtime handler `kata` (containerd's runc shim running the built kata-runtime) beside
# `runc`, the pods' networks from Debian's CNI bridge plugin (a configuration written here),
# the pause and busybox images made from the test rootfs (cri/make-image.sh) and imported
# into the k8s.io namespace (no registry is reached), and the CRI gRPC client cri/cri.py with
# stubs generated from cri/api.proto. containerd runs inside the caller's network namespace
# (lib/netns.sh's netns_create first: IN_NETNS). Sourced, never run.
# Needs: RUNTIME, CONFIG, ROOTFS; sets CRI_WORK, CRI_SOCK, CRI_KROOT, CRI_SUB.
# shellcheck shell=bash

CRI_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../cri" && pwd)
CRI_PY=/usr/bin/python3
CRI_PAUSE_IMAGE=docker.io/library/kata-e2e-pause:1
CRI_BUSYBOX_IMAGE=docker.io/library/kata-e2e-busybox:1
CRI_WORK=
CRI_SOCK=
CRI_KROOT=
CRI_SUB=$(($$ % 250))
CRI_CONTAINERD_PID=
CRI_PODS=()
CRI_ERROR=

cri() { "$CRI_PY" "$CRI_DIR/cri.py" "$CRI_WORK/stubs" "$CRI_SOCK" "$@"; }

# cri_missing: what this needs and is not installed, on stdout; 1 if something is.
cri_missing() {
	local tool
	for tool in containerd ctr runc jq /usr/lib/cni/bridge /usr/lib/cni/host-local \
		/usr/lib/cni/loopback; do
		command -v "$tool" >/dev/null || { echo "$tool is not installed (make deps)"; return 1; }
	done
	if ! "$CRI_PY" -c 'import grpc, grpc_tools.protoc' 2>/dev/null; then
		echo "python3-grpcio and python3-grpc-tools are not installed (make deps)"
		return 1
	fi
}

cri_fail() {
	CRI_ERROR="$1: $2"
	return 1
}

# cri_start DIR: everything above in the new directory DIR, containerd started and answering
# the CRI, the images imported. On failure CRI_ERROR says which step and why; cri_stop
# removes what was made either way.
cri_start() {
	CRI_WORK=$1
	CRI_SOCK=$CRI_WORK/containerd.sock
	CRI_KROOT=$CRI_WORK/kata-root
	local image i
	mkdir -p "$CRI_WORK/stubs" "$CRI_WORK/cni" "$CRI_WORK/logs" "$CRI_KROOT" || return 1
	# the pods' namespaces containerd makes (cni-*) that cri_stop may remove are the new ones
	ls -d /var/run/netns/cni-* >"$CRI_WORK/netns-before" 2>/dev/null
	"$CRI_PY" -m grpc_tools.protoc -I "$CRI_DIR" --python_out="$CRI_WORK/stubs" \
		--grpc_python_out="$CRI_WORK/stubs" "$CRI_DIR/api.proto" 2>"$CRI_WORK/protoc.err" ||
		cri_fail "CRI client: protoc" "$(cat "$CRI_WORK/protoc.err")" || return 1
	"$CRI_DIR/make-image.sh" "$ROOTFS" "$CRI_PAUSE_IMAGE" "$CRI_WORK/pause.tar" \
		'["/bin/sleep"]' '["100000"]' >"$CRI_WORK/image.log" 2>&1 &&
		"$CRI_DIR/make-image.sh" "$ROOTFS" "$CRI_BUSYBOX_IMAGE" "$CRI_WORK/busybox.tar" \
			'null' '["sh"]' >>"$CRI_WORK/image.log" 2>&1 ||
		cri_fail "images" "make-image.sh: $(tail -3 "$CRI_WORK/image.log")" || return 1
	cri_write_config
	KATA_CONF_FILE=$CONFIG "${IN_NETNS[@]}" containerd --config "$CRI_WORK/config.toml" \
		>"$CRI_WORK/containerd.log" 2>&1 &
	CRI_CONTAINERD_PID=$!
	for ((i = 0; i < 600; i++)); do
		cri version >/dev/null 2>&1 && break
		sleep 0.1
	done
	[ "$i" -lt 600 ] ||
		cri_fail "containerd's CRI plugin starts" "$(tail -5 "$CRI_WORK/containerd.log")" ||
		return 1
	for image in pause busybox; do
		ctr --address "$CRI_SOCK" -n k8s.io images import "$CRI_WORK/$image.tar" \
			>"$CRI_WORK/import.log" 2>&1 ||
			cri_fail "import of the $image image" "$(cat "$CRI_WORK/import.log")" || return 1
	done
}

# The CNI bridge's configuration and containerd's.
cri_write_config() {
	cat >"$CRI_WORK/cni/10-kata-e2e.conflist" <<CONF
{
  "cniVersion": "0.4.0",
  "name": "kata-e2e-cri",
  "plugins": [{
    "type": "bridge",
    "bridge": "kcri$CRI_SUB",
    "isGateway": true,
    "ipMasq": false,
    "ipam": {
      "type": "host-local",
      "dataDir": "$CRI_WORK/ipam",
      "ranges": [[{"subnet": "10.78.$CRI_SUB.0/24"}]],
      "routes": [{"dst": "0.0.0.0/0"}]
    }
  }]
}
CONF
	cat >"$CRI_WORK/config.toml" <<CONF
version = 2
root = "$CRI_WORK/root"
state = "$CRI_WORK/state"
[grpc]
  address = "$CRI_SOCK"
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$CRI_PAUSE_IMAGE"
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
        Root = "$CRI_KROOT"
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$CRI_WORK/cni"
CONF
}

# cri_stop: the pods in CRI_PODS stopped and removed, containerd stopped, and what a failed
# run may leave removed (containerd's shims of this socket, kata-runtime's containers under
# Root/NAMESPACE, the pods' cni-* namespaces, mounts), then CRI_WORK. The caller's own
# network namespace is its to delete.
cri_stop() {
	local pod id pid ns
	[ -n "$CRI_WORK" ] && [ -d "$CRI_WORK" ] || return 0
	if [ -n "$CRI_CONTAINERD_PID" ]; then
		for pod in "${CRI_PODS[@]}"; do
			cri stopp "$pod" >/dev/null 2>&1
			cri rmp "$pod" >/dev/null 2>&1
		done
		kill "$CRI_CONTAINERD_PID" 2>/dev/null
		wait "$CRI_CONTAINERD_PID" 2>/dev/null
	fi
	CRI_PODS=()
	CRI_CONTAINERD_PID=
	for pid in $(pgrep -f -- "containerd-shim-runc-v2 .*-address $CRI_SOCK"); do
		kill -KILL "$pid" 2>/dev/null
	done
	for id in "$CRI_KROOT"/k8s.io/*; do
		[ -d "$id" ] || continue
		KATA_CONF_FILE=$CONFIG timeout 60 "$RUNTIME" --root "$CRI_KROOT/k8s.io" delete --force \
			"${id##*/}" >/dev/null 2>&1
	done
	for ns in /var/run/netns/cni-*; do
		[ -e "$ns" ] || continue
		grep -qxF "$ns" "$CRI_WORK/netns-before" 2>/dev/null || ip netns del "${ns##*/}" 2>/dev/null
	done
	grep " $CRI_WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
	rm -rf "$CRI_WORK"
	CRI_WORK=
}

# cri_pod_config NAME: a PodSandboxConfig (JSON) into $CRI_WORK/NAME-pod.json.
cri_pod_config() {
	mkdir -p "$CRI_WORK/logs/$1"
	jq -n --arg name "$1" --arg uid "uid-$1-$$" --arg logs "$CRI_WORK/logs/$1" '{
		metadata: {name: $name, uid: $uid, namespace: "kata-e2e"},
		hostname: $name, log_directory: $logs, linux: {}}' >"$CRI_WORK/$1-pod.json"
}

# cri_container_config POD NAME MEMORY_BYTES ARGS...: a ContainerConfig of the busybox image
# into $CRI_WORK/POD-NAME.json.
cri_container_config() {
	local pod=$1 name=$2 memory=$3 args
	shift 3
	# (jq would take an argument such as -c for its own option: the args go in as JSON)
	args=$("$CRI_PY" -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@")
	# pid CONTAINER: the kubelet's default (the pod's pid namespace is shareProcessNamespace)
	jq -n --arg name "$name" --arg image "$CRI_BUSYBOX_IMAGE" --argjson memory "$memory" \
		--argjson args "$args" '{
		metadata: {name: $name}, image: {image: $image}, args: $args,
		log_path: ($name + ".log"),
		linux: {resources: {memory_limit_in_bytes: $memory},
			security_context: {namespace_options: {pid: "CONTAINER"}}}}' \
		>"$CRI_WORK/$pod-$name.json"
}

# cri_run_container POD_ID POD NAME MEMORY ARGS...: CreateContainer then StartContainer in
# pod POD_ID (its config cri_pod_config POD); prints the container's id.
cri_run_container() {
	local pod_id=$1 pod=$2 name=$3 id
	shift 3
	cri_container_config "$pod" "$name" "$@"
	id=$(cri create "$pod_id" "$CRI_WORK/$pod-$name.json" "$CRI_WORK/$pod-pod.json") || return 1
	cri start "$id" >&2 || return 1
	echo "$id"
}
