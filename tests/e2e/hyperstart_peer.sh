#!/bin/bash
# kata-runtime with runV's own guest agent: an initrd whose /init is hyperstart (the test
# peer in ../shared/peers/hyperstart/, beside the checkout) and dialect = "hyperstart".
# run with output and exit statuses (0, N, 128+N), create/start/state/kill/delete, exec
# with and without a terminal (window size), a signal through the shim, stdin with its
# EOF, the 9p-shared rootfs, bind mounts, environment, working directory, user; and the
# operations hyperstart has no message for fail naming the dialect. SKIP without the peer.
set -u
. "$(dirname "$0")/lib/runtime.sh"

PEER_DIR=$(cd "$SRCDIR/.." && pwd)/shared/peers/hyperstart
if [ ! -x "$PEER_DIR/hyperstart" ]; then
	skip "hyperstart peer" "$PEER_DIR/hyperstart is not present (runV's agent, built as SOURCE.md there says)"
	exit 0
fi
rt_init

# The guest: this build's kernel, hyperstart as /init (what `make hyperstart-initrd` packs).
if ! MKCPIO="$BUILD/guest/mkcpio" "$SRCDIR/guest/build-initrd.sh" "$PEER_DIR/hyperstart" \
	"$TMP/hyperstart-initrd.img" >"$TMP/initrd.log" 2>&1; then
	fail "hyperstart initrd" "$(cat "$TMP/initrd.log")"
	rt_finish
fi
sed -e "s|^initrd = .*|initrd = \"$TMP/hyperstart-initrd.img\"|" \
	-e 's|^dialect = .*|dialect = "hyperstart"|' "$CONFIG" >"$TMP/hyperstart.toml"
if ! grep -q '^dialect = "hyperstart"' "$TMP/hyperstart.toml"; then
	fail "hyperstart configuration" "$CONFIG has no dialect key to set"
	rt_finish
fi
CONFIG=$TMP/hyperstart.toml

# run_case NAME EXPECTED_STATUS EXPECTED_STDOUT ARGS...: `run` of a container whose process
# is ARGS; its status and stdout as expected, nothing left after delete.
run_case() {
	local name=$1 want_status=$2 want_out=$3 out status
	shift 3
	new_id "run-$name"
	make_bundle "$TMP/$ID" "$@"
	out=$(kr run --bundle "$TMP/$ID" "$ID" 2>"$TMP/$ID.err" </dev/null)
	status=$?
	check_eq "run ($name): exit status $want_status" "$want_status" "$status"
	[ -n "$want_out" ] && check_eq "run ($name): output" "$want_out" "$out"
	out=$(kr delete "$ID" 2>&1)
	check_eq "run ($name): delete" "" "$out"
	check_nothing_left "run ($name)" "$ID"
}

case_run() {
	run_case zero 0 "hello from hyperstart" sh -c 'echo hello from hyperstart'
	run_case status 7 "" sh -c 'echo out; exit 7'
	run_case signal 137 "" probe kill-self 9
}

case_run_streams_and_process() {
	local out
	new_id run-process
	make_bundle --copy --env FROM_SPEC=yes --cwd /tmp --user 1000:1001 "$TMP/$ID" sh -c \
		'echo to-stderr >&2; echo env=$FROM_SPEC; echo cwd=$(pwd); echo ids=$(id -u):$(id -g)
		 echo written-in-guest > /tmp/from-guest'
	out=$(kr run --bundle "$TMP/$ID" "$ID" 2>"$TMP/$ID.err" </dev/null)
	check_eq "run: exit status" 0 "$?"
	check_contains "run: environment" "env=yes" "$out"
	check_contains "run: working directory" "cwd=/tmp" "$out"
	check_contains "run: user and group" "ids=1000:1001" "$out"
	check_contains "run: stderr" "to-stderr" "$(cat "$TMP/$ID.err")"
	check_eq "run: the 9p-shared rootfs, written in the guest" "written-in-guest" \
		"$(cat "$TMP/$ID/rootfs/tmp/from-guest" 2>&1)"
	kr delete "$ID" >/dev/null 2>&1
	check_nothing_left "run (process)" "$ID"
}

case_bind_mounts() {
	local out
	new_id binds
	mkdir -p "$TMP/host-dir" "$TMP/host-ro"
	echo "from the host" >"$TMP/host-dir/in.txt"
	echo "read only" >"$TMP/host-ro/ro.txt"
	make_bundle "$TMP/$ID" sh -c 'cat /data/in.txt; echo from-container > /data/out.txt
		cat /ro/ro.txt; (echo x > /ro/new.txt) 2>/dev/null || echo ro-refused'
	bundle_edit "$TMP/$ID" '.mounts += [
		{"destination": "/data", "type": "bind", "source": $dir, "options": ["rbind", "rw"]},
		{"destination": "/ro", "type": "bind", "source": $ro, "options": ["rbind", "ro"]}]' \
		--arg dir "$TMP/host-dir" --arg ro "$TMP/host-ro"
	out=$(kr run --bundle "$TMP/$ID" "$ID" 2>&1 </dev/null)
	check_eq "bind mounts: run exits 0" 0 "$?"
	check_contains "bind mount: read" "from the host" "$out"
	check_eq "bind mount: written" "from-container" "$(cat "$TMP/host-dir/out.txt" 2>&1)"
	check_contains "read-only bind mount: read" "read only" "$out"
	check_contains "read-only bind mount: writing refused" "ro-refused" "$out"
	kr delete "$ID" >/dev/null 2>&1
	check_nothing_left "bind mounts" "$ID"
}

case_lifecycle() {
	local out status shim
	new_id life
	make_bundle "$TMP/$ID" probe sleep 1000
	if ! kr_detached "$ID" create --bundle "$TMP/$ID" "$ID"; then
		fail "create" "$(detached_error "$ID")"
		return
	fi
	check_eq "create: state created" created "$(state_field "$ID" status)"
	out=$(kr start "$ID" 2>&1)
	check_eq "start" "" "$out"
	check_eq "start: state running" running "$(state_field "$ID" status)"
	shim=$(state_field "$ID" pid)
	out=$(kr ps "$ID" 2>&1)
	status=$?
	if [ $status -ne 0 ] && [[ "$out" == *ps* && "$out" == *hyperstart* ]]; then
		pass "ps: refused, naming the dialect"
	else
		fail "ps: refused, naming the dialect" "exit $status: $out"
	fi
	out=$(kr kill "$ID" TERM 2>&1)
	check_eq "kill TERM" "" "$out"
	if wait_status "$ID" stopped 30 2>/dev/null; then
		pass "kill: the container stops"
	else
		fail "kill: the container stops" "state $(state_field "$ID" status)"
	fi
	if [ -n "$shim" ] && wait_for "the shim's exit" 10 bash -c "[ -z \"\$(ps -o stat= -p $shim | grep -v Z)\" ]"; then
		pass "kill: the shim exits"
	else
		fail "kill: the shim exits" "shim $shim still runs"
	fi
	out=$(kr delete "$ID" 2>&1)
	check_eq "delete" "" "$out"
	check_nothing_left "lifecycle" "$ID"
}

case_exec() {
	local cid out rpid shim
	new_id exec
	cid=$ID
	make_bundle --env CONTAINER_VAR=from-spec "$TMP/$cid" probe sleep 1000
	if ! kr_detached "$cid" run -d --bundle "$TMP/$cid" "$cid"; then
		fail "exec: run -d" "$(detached_error "$cid")"
		return
	fi
	kr exec "$cid" sh -c 'echo to-stdout; echo to-stderr >&2; exit 5' >"$TMP/e1.out" \
		2>"$TMP/e1.err" </dev/null
	check_eq "exec: exit status 5" 5 "$?"
	check_eq "exec: stdout" "to-stdout" "$(cat "$TMP/e1.out")"
	check_eq "exec: stderr" "to-stderr" "$(cat "$TMP/e1.err")"
	kr exec "$cid" probe kill-self 15 >/dev/null 2>&1 </dev/null
	check_eq "exec: death by SIGTERM is 143" 143 "$?"
	out=$(printf 'line one\nline two\n' | kr exec "$cid" probe echo 2>/dev/null)
	check_eq "exec: stdin reaches the process, EOF ends it" $'line one\nline two' "$out"
	out=$(kr exec --env EXTRA=added --cwd /etc --user 1000:1001 "$cid" sh -c \
		'echo EXTRA=$EXTRA CONTAINER_VAR=$CONTAINER_VAR cwd=$(pwd) ids=$(id -u):$(id -g)' \
		2>&1 </dev/null)
	check_contains "exec --env" "EXTRA=added" "$out"
	check_contains "exec: the container's environment" "CONTAINER_VAR=from-spec" "$out"
	check_contains "exec --cwd" "cwd=/etc" "$out"
	check_contains "exec --user" "ids=1000:1001" "$out"

	"$TOOLS/console-receiver" --timeout 60 --rows 40 --cols 120 "$TMP/tty.sock" \
		>"$TMP/tty.out" 2>"$TMP/tty.receiver" &
	rpid=$!
	track_bg "$rpid"
	wait_for "the console socket" 10 test -S "$TMP/tty.sock"
	# the shim sends the window size once the process exists: ask a second later
	kr exec --tty --console-socket "$TMP/tty.sock" "$cid" sh -c 'sleep 1; probe tty' \
		>/dev/null 2>&1 </dev/null
	check_eq "exec --tty: exit 0" 0 "$?"
	wait "$rpid"
	out=$(tr -d '\r' <"$TMP/tty.out")
	check_contains "exec --tty: stdout is a terminal" "stdout_tty=1" "$out"
	check_contains "exec --tty: window size from the shim" "rows=40" "$out"
	check_contains "exec --tty: window size (columns)" "cols=120" "$out"

	# a signal to a process's shim reaches the process (SIGNALPROCESS)
	kr exec --detach --pid-file "$TMP/sig.pid" "$cid" probe signals --until 10 \
		>/dev/null 2>&1 </dev/null
	shim=$(cat "$TMP/sig.pid" 2>/dev/null)
	sleep 2
	if [ -n "$shim" ] && kill -USR1 "$shim" 2>/dev/null &&
		wait_for "the exit of the signalled process's shim" 20 bash -c \
			"[ -z \"\$(ps -o stat= -p $shim | grep -v Z)\" ]"; then
		pass "a signal to the shim reaches its process"
	else
		fail "a signal to the shim reaches its process" "shim ${shim:-none} did not end"
	fi

	out=$(kr kill "$cid" KILL 2>&1)
	check_eq "exec: kill KILL" "" "$out"
	wait_status "$cid" stopped 30 2>/dev/null
	out=$(kr delete "$cid" 2>&1)
	check_eq "exec: delete" "" "$out"
	check_nothing_left "exec" "$cid"
}

case_run
case_run_streams_and_process
case_bind_mounts
case_lifecycle
case_exec
rt_finish
