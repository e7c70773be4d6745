#!/bin/bash
# kata-runtime exec into one running container: output on both streams, exit statuses
# (also a death by signal), stdin, --env, --cwd, --user, --tty with --console-socket,
# --detach with --pid-file; exec into a paused or stopped container fails cleanly.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

new_id exec
CID=$ID
make_bundle --env CONTAINER_VAR=from-spec "$TMP/exec" probe sleep 1000
if ! kr_detached "$CID" run -d --bundle "$TMP/exec" "$CID"; then
	fail "exec: run -d" "$(detached_error "$CID")"
	rt_finish
fi

case_output_and_status() {
	local out
	kr exec "$CID" sh -c 'echo to-stdout; echo to-stderr >&2; exit 5' >"$TMP/e1.out" \
		2>"$TMP/e1.err" </dev/null
	check_eq "exec: exit status 5" 5 "$?"
	check_eq "exec: stdout" "to-stdout" "$(cat "$TMP/e1.out")"
	check_eq "exec: stderr" "to-stderr" "$(cat "$TMP/e1.err")"
	kr exec "$CID" probe exit 0 >/dev/null 2>&1 </dev/null
	check_eq "exec: exit status 0" 0 "$?"
	kr exec "$CID" probe kill-self 9 >/dev/null 2>&1 </dev/null
	check_eq "exec: death by SIGKILL is 137" 137 "$?"
	kr exec "$CID" probe kill-self 15 >/dev/null 2>&1 </dev/null
	check_eq "exec: death by SIGTERM is 143" 143 "$?"
	out=$(printf 'line one\nline two\n' | kr exec "$CID" probe echo 2>/dev/null)
	check_eq "exec: stdin reaches the process, EOF ends it" $'line one\nline two' "$out"
	out=$(kr exec "$CID" probe write 2097152 stdout 2>/dev/null | wc -c)
	check_eq "exec: 2 MiB of output complete" 2097152 "$out"
}

case_process_options() {
	local out
	out=$(kr exec --env EXTRA=added "$CID" probe env 2>&1 </dev/null)
	check_contains "exec --env: the variable is set" "EXTRA=added" "$out"
	check_contains "exec --env: the container's environment is kept" "CONTAINER_VAR=from-spec" \
		"$out"
	out=$(kr exec --cwd /etc "$CID" probe cwd 2>&1 </dev/null)
	check_contains "exec --cwd" "cwd=/etc" "$out"
	out=$(kr exec --user 1000:1001 "$CID" probe ids 2>&1 </dev/null)
	check_contains "exec --user: uid" "uid=1000" "$out"
	check_contains "exec --user: gid" "gid=1001" "$out"
	out=$(kr exec --user 65534 "$CID" probe ids 2>&1 </dev/null)
	check_contains "exec --user UID alone" "uid=65534" "$out"
	cat >"$TMP/process.json" <<'EOF'
{"terminal": false, "user": {"uid": 5, "gid": 6}, "cwd": "/etc",
 "args": ["sh", "-c", "echo FOO=$FOO; echo cwd=$(pwd); echo uid=$(id -u) gid=$(id -g)"],
 "env": ["FOO=from-process-file", "PATH=/bin:/usr/bin"]}
EOF
	out=$(kr exec --process "$TMP/process.json" "$CID" 2>&1 </dev/null)
	check_eq "exec --process FILE" $'FOO=from-process-file\ncwd=/etc\nuid=5 gid=6' "$out"
	out=$(kr exec --user nobody:x "$CID" true 2>&1 </dev/null)
	check_eq "exec --user: a malformed value is an error" 1 "$?"
}

case_tty() {
	local rpid out
	"$TOOLS/console-receiver" --timeout 60 --rows 40 --cols 120 "$TMP/exec-tty.sock" \
		>"$TMP/exec-tty.tty" 2>"$TMP/exec-tty.receiver" &
	rpid=$!
	track_bg "$rpid"
	wait_for "the console socket" 10 test -S "$TMP/exec-tty.sock"
	# The exec'd process starts in the guest before its shim can send the window size:
	# it asks a second later (the window size at its first instant is a known race).
	kr exec --tty --console-socket "$TMP/exec-tty.sock" "$CID" sh -c 'sleep 1; probe tty' \
		>"$TMP/exec-tty.out" 2>"$TMP/exec-tty.err" </dev/null
	check_eq "exec --tty: exit 0" 0 "$?"
	wait "$rpid"
	out=$(tr -d '\r' <"$TMP/exec-tty.tty")
	check_contains "exec --tty: stdout is a terminal" "stdout_tty=1" "$out"
	check_contains "exec --tty: window size" "rows=40" "$out"
	check_contains "exec --tty: window size (columns)" "cols=120" "$out"
}

case_detach() {
	local pid out cmd
	if ! kr exec --detach --pid-file "$TMP/exec-d.pid" "$CID" \
		sh -c 'echo detached > /dev/shm/detached; exec probe sleep 1000' \
		>"$TMP/exec-d.out" 2>"$TMP/exec-d.err" </dev/null; then
		fail "exec --detach" "$(cat "$TMP/exec-d.err")"
		return
	fi
	pass "exec --detach returns"
	pid=$(cat "$TMP/exec-d.pid" 2>/dev/null)
	cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	check_contains "exec --detach --pid-file: the pid is a live kata-shim" "kata-shim -c $CID " \
		"$cmd"
	wait_for "the detached process" 20 bash -c \
		"'$RUNTIME' --kata-config '$CONFIG' --root '$ROOT' exec '$CID' cat /dev/shm/detached </dev/null"
	out=$(kr exec "$CID" cat /dev/shm/detached 2>&1 </dev/null)
	check_eq "exec --detach: the process ran" "detached" "$out"
	out=$(kr ps "$CID" 2>&1)
	check_contains "ps: shows the detached process" "probe sleep 1000" "$out"
	if [ "$(grep -c 'probe sleep 1000' <<<"$out")" -ge 2 ]; then
		pass "ps: the init and the exec'd process"
	else
		fail "ps: the init and the exec'd process" "$out"
	fi
}

case_not_running() {
	local out status
	kr pause "$CID" >/dev/null 2>&1
	out=$(kr exec "$CID" true 2>&1 </dev/null)
	status=$?
	if [ $status -ne 0 ] && [[ "$out" == *paused* ]]; then
		pass "exec into a paused container fails cleanly"
	else
		fail "exec into a paused container fails cleanly" "exit $status: $out"
	fi
	kr resume "$CID" >/dev/null 2>&1
	kr kill "$CID" KILL >/dev/null 2>&1
	wait_status "$CID" stopped 20
	out=$(kr exec "$CID" true 2>&1 </dev/null)
	status=$?
	if [ $status -ne 0 ] && [[ "$out" == *stopped* ]]; then
		pass "exec into a stopped container fails cleanly"
	else
		fail "exec into a stopped container fails cleanly" "exit $status: $out"
	fi
	check_eq "exec into a stopped container: still stopped" stopped \
		"$(state_field "$CID" status)"
	out=$(kr delete "$CID" 2>&1)
	check_eq "delete after the execs" "" "$out"
	check_nothing_left "exec" "$CID"
}

case_output_and_status
case_process_options
case_tty
case_detach
case_not_running
rt_finish
