#!/bin/bash
# OCI hooks run by kata-runtime on the host: prestart, createRuntime, poststart and
# poststop, each with the container's state JSON on stdin (id, status, pid, bundle), in
# that order; a failing prestart hook makes create fail and leave nothing behind.
# prestart and createRuntime run before the VM boots, with the pid of a process of the
# runtime's standing in the container's new network namespace (what Docker's
# libnetwork-setkey hook needs), the one the shim then runs in.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

# The hook: saves its stdin as $TMP/hooks/KIND.json, the network namespace of the state's
# pid as KIND.netns, and appends KIND to the order file.
HOOK=$TMP/hook.sh
mkdir -p "$TMP/hooks"
cat >"$HOOK" <<'EOF'
#!/bin/sh
cat >"$2/$1.json"
readlink "/proc/$(jq -r .pid "$2/$1.json")/ns/net" >"$2/$1.netns"
echo "$1" >>"$2/order"
EOF
chmod +x "$HOOK"

# hooks_json KIND...: the hooks object with one hook of each kind.
hooks_json() {
	local kind first=1
	printf '{'
	for kind in "$@"; do
		[ $first = 1 ] || printf ','
		first=0
		printf '"%s":[{"path":"%s","args":["hook.sh","%s","%s"],"env":["PATH=/usr/bin:/bin"]}]' \
			"$kind" "$HOOK" "$kind" "$TMP/hooks"
	done
	printf '}'
}

# check_hook_state KIND STATUS PID: the state the hook read. PID "netns:NS": the state's
# pid was a process in network namespace NS (readlink's form), not the runtime's one.
check_hook_state() {
	local kind=$1 status=$2 pid=$3 file=$TMP/hooks/$1.json
	if [ ! -s "$file" ]; then
		fail "$kind hook ran" "no $file"
		return
	fi
	pass "$kind hook ran"
	check_eq "$kind hook: state's id" "$CID" "$(jq -r .id "$file")"
	check_eq "$kind hook: state's bundle" "$TMP/hooked" "$(jq -r .bundle "$file")"
	case "$pid" in
	netns:*)
		check_eq "$kind hook: state's pid is in the container's network namespace" \
			"${pid#netns:}" "$(cat "$TMP/hooks/$kind.netns")"
		if [ "${pid#netns:}" = "$(readlink /proc/self/ns/net)" ]; then
			fail "$kind hook: a network namespace of the container's own" "it is the host's"
		else
			pass "$kind hook: a network namespace of the container's own"
		fi
		;;
	*) check_eq "$kind hook: state's pid" "$pid" "$(jq -r .pid "$file")" ;;
	esac
	case "$status" in
	*"$(jq -r .status "$file")"*) pass "$kind hook: state's status" ;;
	*) fail "$kind hook: state's status" "expected $status, got $(jq -r .status "$file")" ;;
	esac
}

case_hooks() {
	local pid out
	new_id hooked
	CID=$ID
	make_bundle "$TMP/hooked" probe sleep 1000
	bundle_edit "$TMP/hooked" '.hooks = $hooks' \
		--argjson hooks "$(hooks_json prestart createRuntime poststart poststop)"
	if ! kr_detached "$CID" create --bundle "$TMP/hooked" "$CID"; then
		fail "hooks: create" "$(detached_error "$CID")"
		return
	fi
	pid=$(state_field "$CID" pid)
	# runc gives prestart the status created and createRuntime creating; either will do.
	# Both run before the VM boots: the shim, whose pid state reports, is in the same
	# network namespace as the process they were given.
	check_hook_state prestart "created creating" "netns:$(readlink "/proc/$pid/ns/net")"
	check_hook_state createRuntime "created creating" "netns:$(readlink "/proc/$pid/ns/net")"
	if [ -e "$TMP/hooks/poststart.json" ]; then
		fail "poststart hook waits for start" "it ran at create"
	else
		pass "poststart hook waits for start"
	fi
	out=$(kr start "$CID" 2>&1)
	check_eq "hooks: start" "" "$out"
	check_hook_state poststart running "$pid"
	kr kill "$CID" KILL >/dev/null 2>&1
	wait_status "$CID" stopped 20
	if [ -e "$TMP/hooks/poststop.json" ]; then
		fail "poststop hook waits for delete" "it ran before"
	else
		pass "poststop hook waits for delete"
	fi
	out=$(kr delete "$CID" 2>&1)
	check_eq "hooks: delete" "" "$out"
	if [ -s "$TMP/hooks/poststop.json" ]; then
		pass "poststop hook ran"
		check_eq "poststop hook: state's id" "$CID" "$(jq -r .id "$TMP/hooks/poststop.json")"
		check_eq "poststop hook: state's status" stopped \
			"$(jq -r .status "$TMP/hooks/poststop.json")"
	else
		fail "poststop hook ran" "no poststop.json"
	fi
	check_eq "hooks: order" "prestart createRuntime poststart poststop" \
		"$(tr '\n' ' ' <"$TMP/hooks/order" | sed 's/ $//')"
	check_nothing_left "hooks" "$CID"
}

case_failing_hook() {
	local out status pid
	new_id badhook
	make_bundle "$TMP/badhook" probe sleep 1000
	bundle_edit "$TMP/badhook" \
		'.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c",
		  "jq -r .pid >\($dir)/badhook.pid; exit 7"], "env": ["PATH=/usr/bin:/bin"]}]}' \
		--arg dir "$TMP"
	kr_detached "$ID" create --bundle "$TMP/badhook" "$ID"
	status=$?
	out=$(detached_error "$ID")
	if [ $status -ne 0 ] && [[ "$out" == *prestart* ]]; then
		pass "a failing prestart hook fails create, naming the hook"
	else
		fail "a failing prestart hook fails create, naming the hook" "exit $status: $out"
	fi
	# the network namespace made for it is in the sandbox directory: checked gone here
	check_nothing_left "failing hook" "$ID"
	pid=$(cat "$TMP/badhook.pid" 2>/dev/null)
	if [ -z "$pid" ]; then
		fail "failing hook: its state's process is gone" "the hook did not record a pid"
	elif [ -n "$(proc_state "$pid")" ]; then
		fail "failing hook: its state's process is gone" "$pid: $(ps -o args= -p "$pid")"
	else
		pass "failing hook: its state's process is gone"
	fi
}

case_hooks
case_failing_hook
rt_finish
