#!/bin/bash
# The container's output, input and exit status through kata-runtime run: exit codes 0, 3,
# 137 after `kill KILL`, 143 after `kill TERM`; stdout and stderr kept apart; MiBs of
# output complete; stdin reaches the process and its EOF ends it; a terminal through
# --console-socket with its window size; an interactive shell on it; the shim's debug
# records kept out of the process's streams.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

# run_case NAME EXPECTED_STATUS ARGS...: `run` with ARGS as the process; nothing left after.
run_case() {
	local name=$1 want=$2 b
	shift 2
	new_id "$name"
	b=$TMP/$name
	make_bundle "$b" "$@"
	kr run --bundle "$b" "$ID" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null
	check_eq "exit status $want ($*)" "$want" "$?"
	check_nothing_left "run $name" "$ID"
}

case_exit_codes() {
	run_case exit0 0 probe exit 0
	run_case exit3 3 probe exit 3
}

# Output of several MiB on both streams, complete and in order: the probe's pattern is
# the same when it runs on the host.
case_streams() {
	local b out err
	new_id streams
	b=$TMP/streams
	make_bundle "$b" sh -c 'echo to-stdout; echo to-stderr >&2; probe write 6291456 stdout write 3145728 stderr'
	kr run --bundle "$b" "$ID" >"$TMP/streams.out" 2>"$TMP/streams.err" </dev/null
	check_eq "streams: exit 0" 0 "$?"
	out=$(head -n 1 "$TMP/streams.out")
	err=$(head -n 1 "$TMP/streams.err")
	check_eq "streams: stdout's first line" "to-stdout" "$out"
	check_eq "streams: stderr's first line" "to-stderr" "$err"
	if grep -q to-stderr "$TMP/streams.out" || grep -q to-stdout "$TMP/streams.err"; then
		fail "streams: kept apart" "a stream's line is in the other stream"
	else
		pass "streams: kept apart"
	fi
	check_eq "streams: 6 MiB of stdout complete" \
		"$(cd "$TMP" && { echo to-stdout; "$ROOTFS/bin/probe" write 6291456 stdout; } | md5sum)" \
		"$(md5sum <"$TMP/streams.out")"
	check_eq "streams: 3 MiB of stderr complete" \
		"$(cd "$TMP" && { echo to-stderr; "$ROOTFS/bin/probe" write 3145728 stdout; } | md5sum)" \
		"$(md5sum <"$TMP/streams.err")"
	check_nothing_left "streams" "$ID"
}

case_stdin() {
	local b
	new_id stdin
	b=$TMP/stdin
	make_bundle "$b" probe echo
	head -c 1048576 /dev/urandom >"$TMP/stdin.data"
	timeout 120 "$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" run --bundle "$b" "$ID" \
		<"$TMP/stdin.data" >"$TMP/stdin.out" 2>"$TMP/stdin.err"
	check_eq "stdin: EOF ends the process (exit 0)" 0 "$?"
	check_eq "stdin: 1 MiB reaches the process and comes back" \
		"$(md5sum <"$TMP/stdin.data")" "$(md5sum <"$TMP/stdin.out")"
	check_contains "stdin: the process read it all" "bytes=1048576" "$(cat "$TMP/stdin.err")"
	check_nothing_left "stdin" "$ID"

	new_id stdin-empty
	make_bundle "$TMP/stdin-empty" probe echo
	printf 'hello\n' | kr run --bundle "$TMP/stdin-empty" "$ID" >"$TMP/stdin-empty.out" \
		2>"$TMP/stdin-empty.err"
	check_eq "stdin: a line through a pipe" "hello" "$(cat "$TMP/stdin-empty.out")"
	check_nothing_left "stdin line" "$ID"
}

# run_and_signal NAME SIGNAL EXPECTED BUNDLE: `run` in the background, then `kill SIGNAL`.
run_and_signal() {
	local name=$1 sig=$2 want=$3 b=$4 run_pid status out
	kr run --bundle "$b" "$ID" >"$TMP/$name.out" 2>"$TMP/$name.err" </dev/null &
	run_pid=$!
	track_bg "$run_pid"
	if ! wait_status "$ID" running 60; then
		fail "$name: running" "$(cat "$TMP/$name.err")"
		return
	fi
	# The init of the container gets the signal once it has its handlers (probe signals
	# says so), or at once for a plain sleep.
	wait_for "the process to be ready" 10 grep -q ready "$TMP/$name.out"
	if ! out=$(kr kill "$ID" "$sig" 2>&1); then
		fail "$name: kill $sig" "$out"
	fi
	wait "$run_pid"
	status=$?
	check_eq "$name: run exits $want" "$want" "$status"
	check_nothing_left "$name" "$ID"
}

case_kill_statuses() {
	new_id kill9
	make_bundle "$TMP/kill9" sh -c 'echo ready; exec probe sleep 1000'
	run_and_signal "kill KILL" KILL 137 "$TMP/kill9"

	# A process that does not trap SIGTERM dies of it: 143. The init of a container is
	# the init of its pid namespace, which never gets a signal it has no handler for
	# (in runc as here), so the process that dies is an exec'd one, reached by --all;
	# the init counts the TERM and goes on until SIGUSR1.
	case_term_all
	# One that traps it and exits 0.
	new_id trap
	make_bundle "$TMP/trap" probe signals
	run_and_signal "kill TERM, trapped" TERM 0 "$TMP/trap"
	check_contains "kill TERM, trapped: the process saw signal 15" "signal=15" \
		"$(cat "$TMP/kill TERM, trapped.out" 2>/dev/null)"
}

case_term_all() {
	local run_pid exec_pid status out
	new_id term
	make_bundle "$TMP/term" probe signals --until 10
	kr run --bundle "$TMP/term" "$ID" >"$TMP/term.out" 2>"$TMP/term.err" </dev/null &
	run_pid=$!
	track_bg "$run_pid"
	if ! wait_for "the init's handlers" 60 grep -q ready "$TMP/term.out"; then
		fail "kill --all TERM: running" "$(cat "$TMP/term.err")"
		return
	fi
	kr exec "$ID" sh -c 'echo ready; exec probe sleep 1000' >"$TMP/term-exec.out" \
		2>"$TMP/term-exec.err" </dev/null &
	exec_pid=$!
	track_bg "$exec_pid"
	wait_for "the exec'd process" 30 grep -q ready "$TMP/term-exec.out"
	if out=$(kr kill --all "$ID" TERM 2>&1); then pass "kill --all TERM"; else
		fail "kill --all TERM" "$out"
	fi
	wait "$exec_pid"
	check_eq "kill --all TERM: the exec'd process exits 143" 143 "$?"
	wait_for "the init to see TERM" 10 grep -q signal=15 "$TMP/term.out"
	check_contains "kill --all TERM: the init saw it too" "signal=15" "$(cat "$TMP/term.out")"
	kr kill "$ID" USR1 >/dev/null 2>&1
	wait "$run_pid"
	status=$?
	check_eq "kill USR1: the init ends, run exits 0" 0 "$status"
	check_nothing_left "kill --all TERM" "$ID"
}

# Signals by name (with and without SIG, any case) and by number reach the init, which
# has handlers for them (probe signals).
case_signal_names() {
	local run_pid out sig
	new_id signames
	make_bundle "$TMP/signames" probe signals --until 10
	kr run --bundle "$TMP/signames" "$ID" >"$TMP/signames.out" 2>"$TMP/signames.err" \
		</dev/null &
	run_pid=$!
	track_bg "$run_pid"
	if ! wait_for "the init's handlers" 60 grep -q ready "$TMP/signames.out"; then
		fail "kill by name and number: running" "$(cat "$TMP/signames.err")"
		return
	fi
	for sig in HUP SIGUSR2 int 3; do
		out=$(kr kill "$ID" "$sig" 2>&1)
		check_eq "kill $sig: accepted" "" "$out"
	done
	for sig in 1 12 2 3; do
		wait_for "signal $sig" 10 grep -q "^signal=$sig\$" "$TMP/signames.out"
		check_contains "kill by name and number: signal $sig arrives" "signal=$sig" \
			"$(grep "^signal=$sig\$" "$TMP/signames.out")"
	done
	kr kill "$ID" SIGUSR1 >/dev/null 2>&1
	wait "$run_pid"
	check_eq "kill SIGUSR1: the init ends, run exits 0" 0 "$?"
	check_nothing_left "kill by name and number" "$ID"
}

# start_receiver NAME [console-receiver options]: a receiver on $TMP/NAME.sock, its output
# in $TMP/NAME.tty; sets RECEIVER to its pid.
start_receiver() {
	local name=$1
	shift
	"$TOOLS/console-receiver" --timeout 90 "$@" "$TMP/$name.sock" >"$TMP/$name.tty" \
		2>"$TMP/$name.receiver" &
	RECEIVER=$!
	track_bg "$RECEIVER"
	wait_for "the console socket" 10 test -S "$TMP/$name.sock"
}

case_console() {
	local status out
	new_id tty
	make_bundle --tty "$TMP/tty" probe tty
	start_receiver tty --rows 33 --cols 101
	kr run --console-socket "$TMP/tty.sock" --bundle "$TMP/tty" "$ID" >"$TMP/tty.out" \
		2>"$TMP/tty.err" </dev/null
	check_eq "console: run exits 0" 0 "$?"
	wait "$RECEIVER"
	check_eq "console: the receiver saw the terminal hang up" 0 "$?"
	out=$(tr -d '\r' <"$TMP/tty.tty")
	check_contains "console: the pty master came over the socket" "received /dev/pts/" \
		"$(cat "$TMP/tty.receiver")"
	check_contains "console: stdin is a terminal" "stdin_tty=1" "$out"
	check_contains "console: stdout is a terminal" "stdout_tty=1" "$out"
	check_contains "console: stderr is a terminal" "stderr_tty=1" "$out"
	check_contains "console: window rows" "rows=33" "$out"
	check_contains "console: window columns" "cols=101" "$out"
	check_eq "console: nothing on run's own stdout" "" "$(cat "$TMP/tty.out")"
	check_nothing_left "console" "$ID"

	new_id tty-sh
	make_bundle --tty "$TMP/tty-sh" sh
	start_receiver tty-sh --input-delay-ms 500 --input $'echo typed-$((6*7))\nexit 4\n'
	kr run --console-socket "$TMP/tty-sh.sock" --bundle "$TMP/tty-sh" "$ID" \
		>"$TMP/tty-sh.out" 2>"$TMP/tty-sh.err" </dev/null
	status=$?
	wait "$RECEIVER"
	check_contains "console: typed input reaches the shell" "typed-42" \
		"$(cat "$TMP/tty-sh.tty")"
	check_eq "console: the shell's exit status" 4 "$status"
	check_nothing_left "console shell" "$ID"

	new_id tty-nosock
	make_bundle --tty "$TMP/tty-nosock" probe tty
	out=$(kr run -d --bundle "$TMP/tty-nosock" "$ID" 2>&1 </dev/null)
	status=$?
	if [ $status -ne 0 ] && [[ "$out" == *console-socket* ]]; then
		pass "console: run -d of a terminal without --console-socket is a clear error"
	else
		fail "console: run -d of a terminal without --console-socket is a clear error" \
			"exit $status: $out"
	fi
	check_nothing_left "console without socket" "$ID"
}

# The shim's log records never reach the process's stderr. With the runtime's --debug and
# --log (an engine's --log, JSON as containerd's runc shim asks) they go to that log; with the
# configuration's [shim.kata] enable_debug and no --log, to the sandbox's shim.log.
case_debug_streams() {
	local b sdir
	new_id dbgstreams
	b=$TMP/dbgstreams
	make_bundle "$b" sh -c 'echo to-stdout; echo to-stderr >&2; exit 6'
	kr --debug --log "$TMP/dbgstreams.log" --log-format json run --bundle "$b" "$ID" \
		>"$TMP/dbgstreams.out" 2>"$TMP/dbgstreams.err" </dev/null
	check_eq "debug streams: exit 6" 6 "$?"
	check_eq "debug streams: stdout is the process's alone" "to-stdout" "$(cat "$TMP/dbgstreams.out")"
	check_eq "debug streams: stderr is the process's alone" "to-stderr" "$(cat "$TMP/dbgstreams.err")"
	# -s: every line of the log must be JSON, and one of them the shim's debug record
	if jq -e -s 'any(.[]; .source == "kata-shim" and .level == "debug")' \
		"$TMP/dbgstreams.log" >/dev/null 2>&1; then
		pass "debug streams: the shim's debug records are JSON in the runtime's log"
	else
		fail "debug streams: the shim's debug records are JSON in the runtime's log" \
			"$(grep -c . "$TMP/dbgstreams.log") lines, $(grep -c kata-shim "$TMP/dbgstreams.log") of the shim"
	fi
	check_nothing_left "debug streams" "$ID"

	sed -E '/^\[shim\.kata\]/,/^\[/ s/^enable_debug = false/enable_debug = true/' "$CONFIG" \
		>"$TMP/shim-debug.toml"
	new_id dbgshim
	b=$TMP/dbgshim
	make_bundle "$b" sleep 600
	if ! CONFIG=$TMP/shim-debug.toml kr_detached "$ID" run -d --bundle "$b" "$ID"; then
		fail "shim debug: run -d" "$(detached_error "$ID")"
		return 1
	fi
	CONFIG=$TMP/shim-debug.toml kr exec "$ID" sh -c 'echo exec-stdout; echo exec-stderr >&2' \
		>"$TMP/dbgshim-exec.out" 2>"$TMP/dbgshim-exec.err" </dev/null
	check_eq "shim debug: exec's stdout is the process's alone" "exec-stdout" "$(cat "$TMP/dbgshim-exec.out")"
	check_eq "shim debug: exec's stderr is the process's alone" "exec-stderr" "$(cat "$TMP/dbgshim-exec.err")"
	sdir=$(sandbox_dir "$ROOT" "$ID")
	check_contains "shim debug: its records in the sandbox's shim.log" "kata-shim" \
		"$(grep -m 2 ' debug: ' "$sdir/shim.log" 2>&1)"
	check_eq "shim debug: the detached shim wrote nothing to run's stderr" "" "$(cat "$TMP/$ID.err")"
	CONFIG=$TMP/shim-debug.toml delete_and_check "shim debug" "$ID"
}

case_exit_codes
case_streams
case_debug_streams
case_stdin
case_kill_statuses
case_signal_names
case_console
rt_finish
