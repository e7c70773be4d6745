#!/bin/bash
# The informational verbs of kata-runtime: spec (runc's default config.json, --rootless,
# --bundle, refuses to overwrite), list (table, --format json, --quiet), state's fields,
# version and --version, help.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

case_spec() {
	local out
	mkdir -p "$TMP/spec" "$TMP/spec-rootless"
	if out=$(cd "$TMP/spec" && kr spec 2>&1); then pass "spec"; else fail "spec" "$out"; fi
	if jq -e '.ociVersion and (.process.args | type == "array") and .root.path == "rootfs"
		and (.linux.namespaces | map(.type) | index("pid") != null)' \
		"$TMP/spec/config.json" >/dev/null 2>&1; then
		pass "spec: runc's default config.json"
	else
		fail "spec: runc's default config.json" "$(head -c 400 "$TMP/spec/config.json" 2>&1)"
	fi
	out=$(cd "$TMP/spec" && kr spec 2>&1)
	if [ $? -ne 0 ] && [[ "$out" == *exists* ]]; then
		pass "spec: refuses to overwrite config.json"
	else
		fail "spec: refuses to overwrite config.json" "$out"
	fi
	if out=$(kr spec --rootless --bundle "$TMP/spec-rootless" 2>&1) &&
		jq -e '.linux.namespaces | map(.type) | index("user") != null' \
			"$TMP/spec-rootless/config.json" >/dev/null 2>&1; then
		pass "spec --rootless --bundle: a user namespace"
	else
		fail "spec --rootless --bundle: a user namespace" "$out"
	fi
	out=$(kr spec extra-argument 2>&1)
	check_eq "spec: an argument is an error" 1 "$?"
}

case_list_and_state() {
	local out id2 verb
	check_eq "list --quiet with no container" "" "$(kr list --quiet 2>&1)"
	check_eq "list --format json with no container" "[]" "$(kr list --format json 2>&1)"
	new_id listed
	make_bundle "$TMP/listed" probe sleep 1000
	if ! kr_detached "$ID" create --bundle "$TMP/listed" "$ID"; then
		fail "list: create" "$(detached_error "$ID")"
		return
	fi
	id2=$ID
	out=$(kr state "$id2")
	if jq -e --arg id "$id2" --arg b "$TMP/listed" '.ociVersion and .id == $id
		and .status == "created" and (.pid > 0) and .bundle == $b and .created
		and .owner' <<<"$out" >/dev/null 2>&1; then
		pass "state: ociVersion, id, status, pid, bundle, created, owner"
	else
		fail "state: ociVersion, id, status, pid, bundle, created, owner" "$out"
	fi
	check_eq "list --quiet: the id" "$id2" "$(kr list --quiet 2>&1)"
	out=$(kr list --format json 2>&1)
	if jq -e --arg id "$id2" 'length == 1 and .[0].id == $id and .[0].status == "created"
		and (.[0].pid > 0)' <<<"$out" >/dev/null 2>&1; then
		pass "list --format json: id, status, pid"
	else
		fail "list --format json: id, status, pid" "$out"
	fi
	out=$(kr list 2>&1)
	check_contains "list: a table with a header" "STATUS" "$out"
	check_contains "list: the container's row" "$id2" "$out"
	out=$(kr list --format yaml 2>&1)
	check_eq "list --format yaml is an error" 1 "$?"
	delete_and_check "list" "$id2"
}

case_version() {
	local out verb
	out=$(kr version 2>&1)
	check_contains "version: the runtime's version" "kata-runtime" "$out"
	check_contains "version: the OCI spec version" "OCI specs" "$out"
	check_contains "version: the commit" "commit" "$out"
	check_eq "--version says the same" "$out" "$("$RUNTIME" --version 2>&1)"
	out=$("$RUNTIME" --help 2>&1)
	check_eq "--help exits 0" 0 "$?"
	for verb in create start state kill delete run exec ps pause resume events update list spec version; do
		[[ "$out" == *"  $verb "* ]] || fail "--help lists $verb" "$out"
	done
	pass "--help lists every OCI verb"
}

# --log with --log-format json: the error is a JSON record in the log, and a line on stderr.
case_log() {
	local out
	out=$("$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" --log "$TMP/runtime.log" \
		--log-format json state rt$$-nothing 2>&1)
	check_eq "--log: the error exits 1" 1 "$?"
	check_contains "--log: the error on stderr too" "does not exist" "$out"
	if jq -e '.level == "error" and .command == "state" and (.msg | contains("does not exist"))' \
		"$TMP/runtime.log" >/dev/null 2>&1; then
		pass "--log-format json: a JSON error record"
	else
		fail "--log-format json: a JSON error record" "$(head -c 300 "$TMP/runtime.log")"
	fi
	out=$(kr --log-format yaml list 2>&1)
	check_eq "--log-format yaml is an error" 1 "$?"
}

case_spec
case_log
case_list_and_state
case_version
rt_finish
