#!/bin/bash
# OCI hooks run by kata-runtime on the host: prestart, createRuntime, poststart and
# poststop, each with the container's state JSON on stdin (id, status, pid, bundle), in
# that order; a failing prestart hook makes create fail and leave nothing behind.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

# The hook: saves its stdin as $TMP/hooks/KIND.json and appends KIND to the order file.
HOOK=$TMP/hook.sh
mkdir -p "$TMP/hooks"
cat >"$HOOK" <<'EOF'
#!/bin/sh
cat >"$2/$1.json"
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

# check_hook_state KIND STATUS PID: the state the hook read.
check_hook_state() {
	local kind=$1 status=$2 pid=$3 file=$TMP/hooks/$1.json
	if [ ! -s "$file" ]; then
		fail "$kind hook ran" "no $file"
		return
	fi
	pass "$kind hook ran"
	check_eq "$kind hook: state's id" "$CID" "$(jq -r .id "$file")"
	check_eq "$kind hook: state's bundle" "$TMP/hooked" "$(jq -r .bundle "$file")"
	check_eq "$kind hook: state's pid" "$pid" "$(jq -r .pid "$file")"
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
	check_hook_state prestart "created creating" "$pid"
	check_hook_state createRuntime "created creating" "$pid"
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
	local out status
	new_id badhook
	make_bundle "$TMP/badhook" probe sleep 1000
	bundle_edit "$TMP/badhook" \
		'.hooks = {"prestart": [{"path": "/bin/sh", "args": ["sh", "-c", "exit 7"]}]}'
	kr_detached "$ID" create --bundle "$TMP/badhook" "$ID"
	status=$?
	out=$(detached_error "$ID")
	if [ $status -ne 0 ] && [[ "$out" == *prestart* ]]; then
		pass "a failing prestart hook fails create, naming the hook"
	else
		fail "a failing prestart hook fails create, naming the hook" "exit $status: $out"
	fi
	check_nothing_left "failing hook" "$ID"
}

case_hooks
case_failing_hook
rt_finish
