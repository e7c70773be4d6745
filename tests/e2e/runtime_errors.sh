#!/bin/bash
# Bad input to kata-runtime: a missing bundle, a malformed config.json (the error names
# the field), an unknown id for every verb, a duplicate id, an invalid signal, start of a
# running container, pause of a stopped one, an id that is a path. Each is a clear error
# with a non-zero exit, leaves nothing behind and changes nothing of another container
# that runs meanwhile.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

# expect_error NAME NEEDLE COMMAND...: the command fails and its message has NEEDLE.
expect_error() {
	local name=$1 needle=$2 out status
	shift 2
	out=$("$@" 2>&1 </dev/null)
	status=$?
	if [ $status -ne 0 ] && [ $status -ne 124 ] && [[ "$out" == *"$needle"* ]]; then
		pass "$name"
	else
		fail "$name" "exit $status, expected a message with '$needle': $(head -c 400 <<<"$out")"
	fi
}

# The bystander: runs through the whole script, and must not notice anything.
new_id bystander
BYSTANDER=$ID
make_bundle "$TMP/bystander" probe sleep 1000
if ! kr_detached "$BYSTANDER" run -d --bundle "$TMP/bystander" "$BYSTANDER"; then
	fail "bystander: run -d" "$(detached_error "$BYSTANDER")"
	rt_finish
fi
BYSTANDER_PID=$(state_field "$BYSTANDER" pid)

# create_error NAME NEEDLE BUNDLE: create fails with NEEDLE and leaves nothing.
create_error() {
	local name=$1 needle=$2 bundle=$3
	new_id "$name"
	kr_detached "$ID" create --bundle "$bundle" "$ID"
	local status=$?
	local out
	out=$(detached_error "$ID")
	if [ $status -ne 0 ] && [[ "$out" == *"$needle"* ]]; then
		pass "create with $name: clear error"
	else
		fail "create with $name: clear error" "exit $status, expected '$needle': $out"
	fi
	check_nothing_left "create with $name" "$ID"
}

case_bad_bundles() {
	create_error "missing-bundle" "$TMP/no-such-bundle" "$TMP/no-such-bundle"
	mkdir -p "$TMP/empty-bundle"
	create_error "no-config" "config.json" "$TMP/empty-bundle"
	make_bundle "$TMP/truncated" probe exit 0
	head -c 200 "$TMP/truncated/config.json" >"$TMP/truncated/c" &&
		mv "$TMP/truncated/c" "$TMP/truncated/config.json"
	create_error "truncated-config" "config.json" "$TMP/truncated"
	make_bundle "$TMP/args-type" probe exit 0
	bundle_edit "$TMP/args-type" '.process.args = "probe exit 0"'
	create_error "args-not-an-array" "process.args" "$TMP/args-type"
	make_bundle "$TMP/no-root" probe exit 0
	bundle_edit "$TMP/no-root" 'del(.root)'
	create_error "no-root" "root" "$TMP/no-root"
	make_bundle "$TMP/mount-type" probe exit 0
	bundle_edit "$TMP/mount-type" '.mounts[0].destination = 42'
	create_error "mount-destination-not-a-string" "destination" "$TMP/mount-type"
	make_bundle "$TMP/rootfs-missing" probe exit 0
	bundle_edit "$TMP/rootfs-missing" '.root.path = "no-such-rootfs"'
	create_error "missing-rootfs" "no-such-rootfs" "$TMP/rootfs-missing"
}

case_unknown_id() {
	local ghost=rt$$-no-such-container
	expect_error "start of an unknown id" "does not exist" kr start "$ghost"
	expect_error "state of an unknown id" "does not exist" kr state "$ghost"
	expect_error "kill of an unknown id" "does not exist" kr kill "$ghost" KILL
	expect_error "delete of an unknown id" "does not exist" kr delete "$ghost"
	expect_error "exec in an unknown id" "does not exist" kr exec "$ghost" true
	expect_error "ps of an unknown id" "does not exist" kr ps "$ghost"
	expect_error "pause of an unknown id" "does not exist" kr pause "$ghost"
	expect_error "resume of an unknown id" "does not exist" kr resume "$ghost"
	expect_error "events of an unknown id" "does not exist" kr events --stats "$ghost"
	expect_error "update of an unknown id" "does not exist" kr update --memory 1m "$ghost"
	kr delete --force "$ghost" >/dev/null 2>&1
	check_eq "delete --force of an unknown id succeeds (as runc)" 0 "$?"
	expect_error "an id that is a path" "invalid container id" kr create --bundle "$TMP/bystander" "../../escape"
	[ -e "$TMP/escape" ] || [ -e "$ROOT/../../escape" ] &&
		fail "an id that is a path: nothing made outside the root" "escape exists"
	expect_error "an unknown verb" "unknown command" kr frobnicate
	expect_error "an unknown option" "unknown option" kr kill --frob "$BYSTANDER"
}

case_bystander_errors() {
	local out
	expect_error "create of a duplicate id" "already exists" \
		kr create --bundle "$TMP/bystander" "$BYSTANDER"
	expect_error "kill with an invalid signal name" "invalid signal" kr kill "$BYSTANDER" SIGFOO
	expect_error "kill with an invalid signal number" "invalid signal" kr kill "$BYSTANDER" 999
	expect_error "kill with signal 0" "invalid signal" kr kill "$BYSTANDER" 0
	expect_error "start of a running container" "running" kr start "$BYSTANDER"
	expect_error "resume of a running container" "running" kr resume "$BYSTANDER"
	expect_error "update beyond the VM" "exceeds" kr update --memory 64g "$BYSTANDER"
	expect_error "exec without a command" "command" kr exec "$BYSTANDER"
	expect_error "exec --preserve-fds" "preserve-fds" kr exec --preserve-fds 2 "$BYSTANDER" true

	new_id stopped
	make_bundle "$TMP/stopped" probe exit 0
	if kr_detached "$ID" run -d --bundle "$TMP/stopped" "$ID" && wait_status "$ID" stopped 20; then
		expect_error "pause of a stopped container" "stopped" kr pause "$ID"
		expect_error "start of a stopped container" "stopped" kr start "$ID"
		expect_error "kill of a stopped container" "stopped" kr kill "$ID" KILL
		check_eq "errors leave the stopped container stopped" stopped "$(state_field "$ID" status)"
	else
		fail "a stopped container" "$(detached_error "$ID")"
	fi
	delete_and_check "stopped" "$ID"
}

case_bystander_unchanged() {
	local out
	check_eq "bystander: still running" running "$(state_field "$BYSTANDER" status)"
	check_eq "bystander: same pid" "$BYSTANDER_PID" "$(state_field "$BYSTANDER" pid)"
	out=$(kr exec "$BYSTANDER" probe exit 7 2>&1 </dev/null)
	check_eq "bystander: still answers" 7 "$?"
	out=$(kr list --quiet 2>&1)
	check_eq "bystander: list has it alone" "$BYSTANDER" "$out"
	delete_and_check "bystander" "$BYSTANDER"
}

case_bad_bundles
case_unknown_id
case_bystander_errors
case_bystander_unchanged
rt_finish
