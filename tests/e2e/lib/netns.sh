# The network namespace every network test builds its networks in (docs/network.md, "Tests"):
# made first, the engines' daemons and commands run in it through nsenter (which keeps /sys and
# the cgroup mounts as they are), deleted last. Nothing in it routes anywhere else: it has no
# interface to the outside and no default route, so no packet leaves it.
# shellcheck shell=bash

TEST_NETNS=
IN_NETNS=()
POD_NETNS=()

# netns_create NAME: the test's namespace, with lo up (127.0.0.0/8 is the test's own).
netns_create() {
	TEST_NETNS=$1
	ip netns add "$TEST_NETNS" || return 1
	ip -n "$TEST_NETNS" link set lo up || return 1
	IN_NETNS=(nsenter "--net=/run/netns/$TEST_NETNS")
}

# pod_netns_add NAME: a container's namespace as an engine makes it, empty but for lo (up);
# netns_delete deletes it too.
pod_netns_add() {
	POD_NETNS+=("$1")
	ip netns add "$1" && ip -n "$1" link set lo up
}

netns_delete() {
	local pod
	for pod in "${POD_NETNS[@]}"; do
		ip netns del "$pod" 2>/dev/null
	done
	POD_NETNS=()
	[ -n "$TEST_NETNS" ] && ip netns del "$TEST_NETNS" 2>/dev/null
	TEST_NETNS=
}

# http_get HOST PORT PATH SECONDS: polls an HTTP server from inside the test's namespace until
# it answers, for at most SECONDS; prints the body. (bash's /dev/tcp: Debian's static busybox
# wget crashes in its resolver, and curl is not a dependency.)
http_get() {
	local host=$1 port=$2 path=$3 seconds=$4 i reply
	for ((i = 0; i < seconds * 2; i++)); do
		reply=$(timeout 5 "${IN_NETNS[@]}" bash -c 'exec 3<>"/dev/tcp/$0/$1" &&
			printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$0" >&3 && cat <&3' \
			"$host" "$port" "$path" 2>/dev/null)
		case "$reply" in
		"HTTP/1."*" 200 "*)
			printf '%s' "${reply#*$'\r\n\r\n'}"
			return 0
			;;
		esac
		sleep 0.5
	done
	return 1
}

# bundle_in_pod DIR POD ARGS...: a bundle (make_bundle, lib/runtime.sh) whose container joins
# the network namespace /run/netns/POD.
bundle_in_pod() {
	local dir=$1 pod=$2
	shift 2
	make_bundle "$dir" "$@" &&
		bundle_edit "$dir" '.linux.namespaces = ([.linux.namespaces[] | select(.type != "network")]
			+ [{type: "network", path: $p}])' --arg p "/run/netns/$pod"
}

# The links of a container's namespace that kata-runtime made (none may outlive it).
kata_taps_in() {
	nsenter "--net=$1" ip -o link show 2>/dev/null | grep -o 'tap[0-9]*_kata' || true
}
