# The network namespace every network test builds its networks in (docs/network.md, "Tests"):
# made first, the engines' daemons and commands run in it through nsenter (which keeps /sys and
# the cgroup mounts as they are), deleted last. Nothing in it routes anywhere else: it has no
# interface to the outside and no default route, so no packet leaves it.
# shellcheck shell=bash

TEST_NETNS=
IN_NETNS=()

# netns_create NAME: the test's namespace, with lo up (127.0.0.0/8 is the test's own).
netns_create() {
	TEST_NETNS=$1
	ip netns add "$TEST_NETNS" || return 1
	ip -n "$TEST_NETNS" link set lo up || return 1
	IN_NETNS=(nsenter "--net=/run/netns/$TEST_NETNS")
}

netns_delete() {
	[ -n "$TEST_NETNS" ] && ip netns del "$TEST_NETNS" 2>/dev/null
	TEST_NETNS=
}

# Polls an HTTP URL from inside the test's namespace until it answers with a body, for at most
# $2 seconds; prints the body.
http_get() {
	local url=$1 seconds=$2 i body
	for ((i = 0; i < seconds * 2; i++)); do
		body=$("${IN_NETNS[@]}" busybox wget -q -T 2 -O - "$url" 2>/dev/null) && {
			printf '%s' "$body"
			return 0
		}
		sleep 0.5
	done
	return 1
}

# The links of a container's namespace that kata-runtime made (none may outlive it).
kata_taps_in() {
	nsenter "--net=$1" ip -o link show 2>/dev/null | grep -o 'tap[0-9]*_kata' || true
}
