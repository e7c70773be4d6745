#!/bin/bash
# Docker's bridge network reaching containers in kata-runtime's VMs (docs/network.md): a dockerd
# of the test's own (private data root, exec root, socket; its own containerd) with
# kata-runtime added as the runtime `kata`; a busybox web server published with
# `docker run -p 127.0.0.1:PORT:80` and reached from the host side and by its address on
# docker0; a second container reaching it; --net=none has lo; exit codes and output; the same
# under runc beside it; `docker rm -f` leaves nothing. dockerd, docker0 and its iptables rules
# live inside a network namespace this test makes first (lib/netns.sh).
set -u
. "$(dirname "$0")/lib/engines.sh"
. "$(dirname "$0")/lib/netns.sh"
require_built

# Debian's docker.io: its client, not another docker earlier in PATH.
DOCKER_BIN=/usr/bin/docker
for tool in /usr/sbin/dockerd "$DOCKER_BIN" runc; do
	if ! command -v "$tool" >/dev/null; then
		fail "Docker" "$tool is not installed (make deps: docker.io)"
		exit 1
	fi
done

WORK=$(mktemp -d /tmp/kata-e2e-docker-XXXXXX)
SOCK=$WORK/docker.sock
CGROUP_PARENT=kata-e2e-docker-$$
DOCKERD_PID=
IMAGE=kata-e2e-busybox:$$
KEY_JSON_WAS_THERE=
[ -e /etc/docker/key.json ] && KEY_JSON_WAS_THERE=1
DOCKER=("$DOCKER_BIN" -H "unix://$SOCK")

cleanup() {
	local ids
	if [ -n "$DOCKERD_PID" ]; then
		ids=$("${DOCKER[@]}" ps -aq 2>/dev/null)
		[ -n "$ids" ] && "${DOCKER[@]}" rm -f $ids >/dev/null 2>&1
		kill "$DOCKERD_PID" 2>/dev/null
		wait "$DOCKERD_PID" 2>/dev/null
	fi
	# dockerd's mounts (its netns files, overlays, shm) under the test's directory
	grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
	rm -rf "$WORK"
	# the cgroups runc's containers were put under
	find /sys/fs/cgroup -maxdepth 2 -name "$CGROUP_PARENT" -type d 2>/dev/null |
		while read -r d; do find "$d" -depth -type d -exec rmdir {} + 2>/dev/null; done
	# dockerd 20.10 makes its trust key there
	[ -z "$KEY_JSON_WAS_THERE" ] && rm -f /etc/docker/key.json
	netns_delete
}
trap cleanup EXIT

if ! netns_create "kata-e2e-docker-$$"; then
	fail "network namespace" "ip netns add failed"
	exit 1
fi

# The test's dockerd: nothing read from /etc/docker/daemon.json, nothing on the system's
# socket; the runtime finds its configuration through KATA_CONF_FILE, which dockerd's
# containerd and its shims inherit.
echo '{}' >"$WORK/daemon.json"
KATA_CONF_FILE=$CONFIG "${IN_NETNS[@]}" /usr/sbin/dockerd \
	--config-file "$WORK/daemon.json" --data-root "$WORK/data" --exec-root "$WORK/exec" \
	--pidfile "$WORK/dockerd.pid" -H "unix://$SOCK" --cgroup-parent "$CGROUP_PARENT" \
	--add-runtime "kata=$RUNTIME" >"$WORK/dockerd.log" 2>&1 &
DOCKERD_PID=$!
if ! wait_for "dockerd" 60 "${DOCKER[@]}" version; then
	fail "dockerd starts" "$(tail -5 "$WORK/dockerd.log")"
	exit 1
fi
pass "dockerd starts with a private data root, in the test's network namespace"

# The image: the project's busybox rootfs, imported (no registry).
if ! out=$(tar -C "$ROOTFS" -c . | "${DOCKER[@]}" import - "$IMAGE" 2>&1); then
	fail "docker import of the busybox rootfs" "$out"
	exit 1
fi

sandbox_list() { ls "$VM_BASE" 2>/dev/null | sort; }
SANDBOXES_BEFORE=$(sandbox_list)
# Only new directories count: another user's sandbox that ends meanwhile is not ours to judge.
new_sandboxes() { comm -13 <(echo "$SANDBOXES_BEFORE") <(sandbox_list); }
no_new_sandbox() { [ -z "$(new_sandboxes)" ]; }

# A port of the test's own namespace: nothing else listens there.
PORT=18081
RUNC_PORT=18082

container_id() { "${DOCKER[@]}" inspect --format '{{.Id}}' "$1" 2>/dev/null; }
address_of() { "${DOCKER[@]}" inspect --format '{{.NetworkSettings.IPAddress}}' "$1" 2>/dev/null; }

not_mounted() { ! grep -q " $1 " /proc/mounts; }

# docker rm -f, then: no process, sandbox directory (with the runtime's network namespace),
# tap or namespace of the container's left.
remove_and_check() {
	local case=$1 n=$2 id key
	id=$(container_id "$n")
	key=$("${DOCKER[@]}" inspect --format '{{.NetworkSettings.SandboxKey}}' "$n" 2>/dev/null)
	"${DOCKER[@]}" rm -f "$n" >/dev/null 2>&1
	# with the sandbox directory goes the runtime's bind mount of the namespace
	check_nothing_left "$case" "$id"
	# libnetwork unmounts its namespace at once and removes the file a minute later
	if [ -n "$key" ] && wait_for "$key unmounted" 10 not_mounted "$key"; then
		pass "$case: docker's namespace released"
	elif [ -n "$key" ]; then
		fail "$case: docker's namespace released" "$key is still mounted"
	fi
}

case_web_server() {
	local runtime=$1 port=$2 n ip mac body inside pid key
	n=web-$runtime-$$
	if ! out=$("${DOCKER[@]}" run --runtime "$runtime" -d --name "$n" --hostname "web-$runtime" \
		-p "127.0.0.1:$port:80" "$IMAGE" /usr/sbin/httpd -f -p 80 -h /etc 2>&1); then
		fail "$runtime: docker run -p: httpd" "docker run failed: $out"
		return 1
	fi
	body=$(http_get 127.0.0.1 "$port" /hostname 120)
	check_eq "$runtime: docker -p 127.0.0.1:$port:80: the web server answers" "web-$runtime" "$body"
	ip=$(address_of "$n")
	body=$(http_get "$ip" 80 /hostname 30)
	check_eq "$runtime: the container's address on docker0 ($ip) answers" "web-$runtime" "$body"
	mac=$("${DOCKER[@]}" inspect --format '{{.NetworkSettings.MacAddress}}' "$n")
	inside=$("${DOCKER[@]}" exec "$n" /sbin/ip -o -4 addr show dev eth0 2>&1)
	check_contains "$runtime: eth0 has docker's address" "inet $ip/16" "$inside"
	inside=$("${DOCKER[@]}" exec "$n" cat /sys/class/net/eth0/address 2>&1)
	check_eq "$runtime: eth0 has docker's MAC" "$mac" "$inside"
	inside=$("${DOCKER[@]}" exec "$n" /sbin/ip route 2>&1)
	check_contains "$runtime: the default route through docker0" "default via " "$inside"
	# The pid docker got is in the namespace libnetwork filled, as runc's process is.
	pid=$("${DOCKER[@]}" inspect --format '{{.State.Pid}}' "$n")
	key=$("${DOCKER[@]}" inspect --format '{{.NetworkSettings.SandboxKey}}' "$n")
	check_eq "$runtime: docker's pid is in the container's network namespace" \
		"$(stat -L -c %i "$key" 2>&1)" "$(stat -L -c %i "/proc/$pid/ns/net" 2>&1)"
	if [ "$runtime" = kata ]; then
		inside=$(nsenter "--net=$key" tc filter show dev eth0 ingress 2>&1)
		check_contains "kata: docker's eth0 is redirected to the tap" \
			"Redirect to device tap0_kata" "$inside"
	fi
}

# client RUNTIME IP: a container of RUNTIME fetches /hostname from IP:80.
client() {
	"${DOCKER[@]}" run --rm --runtime "$1" "$IMAGE" /bin/sh -c \
		'printf "GET /hostname HTTP/1.0\r\n\r\n" | nc -w 30 "$0" 80' "$2" 2>&1 |
		tail -n 1 | tr -d '\r'
}

case_container_to_container() {
	local kata_ip runc_ip
	kata_ip=$(address_of web-kata-$$)
	runc_ip=$(address_of web-runc-$$)
	check_eq "kata → kata on docker0 ($kata_ip)" web-kata "$(client kata "$kata_ip")"
	check_eq "kata → runc on docker0 ($runc_ip)" web-runc "$(client kata "$runc_ip")"
	check_eq "runc → kata on docker0 ($kata_ip)" web-kata "$(client runc "$kata_ip")"
}

case_net_none_has_lo() {
	local out
	out=$("${DOCKER[@]}" run --rm --runtime kata --net=none "$IMAGE" /sbin/ip -o addr 2>&1)
	check_contains "--net=none: lo is up" "inet 127.0.0.1/8" "$out"
	case "$out" in
	*eth0*) fail "--net=none: no eth0" "$out" ;;
	*) pass "--net=none: no eth0" ;;
	esac
}

# Exit codes and output as runc gives them.
case_exit_and_output() {
	local runtime out status
	for runtime in kata runc; do
		out=$("${DOCKER[@]}" run --rm --runtime "$runtime" "$IMAGE" /bin/sh -c \
			'echo out-$0; echo err-$0 >&2; exit 3' "$runtime" 2>&1)
		status=$?
		check_eq "$runtime: docker run's exit code" 3 "$status"
		check_contains "$runtime: stdout" "out-$runtime" "$out"
		check_contains "$runtime: stderr" "err-$runtime" "$out"
	done
}

case_web_server kata "$PORT"
case_web_server runc "$RUNC_PORT"
case_container_to_container
case_net_none_has_lo
case_exit_and_output
remove_and_check "docker rm -f of the web server" "web-kata-$$"
if ! timeout 5 "${IN_NETNS[@]}" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"' "$PORT" 2>/dev/null; then
	pass "the published port is closed after docker rm -f"
else
	fail "the published port is closed after docker rm -f" "it still accepts connections"
fi
"${DOCKER[@]}" rm -f "web-runc-$$" >/dev/null 2>&1
# Nothing of the --rm containers either: the sandbox directories are those of before.
if wait_for "sandbox directories" 10 no_new_sandbox; then
	pass "docker run --rm leaves no sandbox directory"
else
	fail "docker run --rm leaves no sandbox directory" "$(new_sandboxes)"
fi
exit "$FAILED"
