#!/bin/bash
# A terminal process without --console-socket, as runc runs it: `runc spec` (terminal: true,
# `sh`) then `kata-runtime run ID` from a user's terminal. The runtime runs in a pty of
# its own here (tests/e2e/lib/pty_session.py plays the terminal): the shell's prompt
# appears, typed lines reach it, ^C reaches its foreground job and not the runtime, the
# terminal's size and a change of it reach the container (`stty size`), the shell's exit
# status is run's, and the terminal's mode is restored. The same for `exec -t`. Without a
# terminal on the caller's side the process still runs, on the caller's stdio. `run
# --detach` and `create` of such a process without a console socket are refused at once,
# leaving nothing behind (runc refuses them too).
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

PTY="/usr/bin/python3 $SRCDIR/tests/e2e/lib/pty_session.py"

if [ ! -x /usr/bin/python3 ] || ! command -v runc >/dev/null; then
	fail "prerequisites" "python3 and runc are needed (make deps)"
	rt_finish
fi

# spec_bundle DIR: `runc spec`'s config.json, untouched but for root.path, which names the
# test rootfs (runc spec writes "rootfs", relative to the bundle).
spec_bundle() {
	mkdir -p "$1"
	(cd "$1" && runc spec) || return 1
	# shellcheck disable=SC2016
	bundle_edit "$1" '.root.path = $r' --arg r "$ROOTFS"
}

# What pty_session printed: the value of one of its result lines.
result() { sed -n "s/^$1 //p" <<<"$2"; }

case_run_on_terminal() {
	local out
	new_id term
	spec_bundle "$TMP/term" || {
		fail "run on a terminal" "runc spec failed"
		return
	}
	check_eq "runc spec: terminal is true" true "$(jq -r .process.terminal "$TMP/term/config.json")"
	check_eq "runc spec: the process is sh" sh "$(jq -r '.process.args | join(" ")' "$TMP/term/config.json")"
	# shellcheck disable=SC2016
	out=$($PTY --size 33x101 --timeout 120 --log "$TMP/term.log" \
		--expect '/ # ' --send 'stty size\r' --expect '\r\n33 101\r\n' \
		--resize 40x120 --sleep 1 --send 'stty size\r' --expect '\r\n40 120\r\n' \
		--send 'read line; echo "got<$line>"\r' --sleep 1 --send 'typed-by-hand\r' \
		--expect 'got<typed-by-hand>' \
		--send 'sleep 300\r' --sleep 2 --send '\x03' --send 'echo alive-$((6*7))\r' \
		--expect 'alive-42' \
		--send 'exit 7\r' -- \
		timeout -k 5 240 "$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" run \
		--bundle "$TMP/term" "$ID" 2>&1 <<<"")
	case "$out" in
	timeout:*) fail "run on a terminal" "$out" ;;
	*)
		pass "run on a terminal: the shell's prompt, stty size 33 101"
		pass "run on a terminal: a window change reaches the container (40 120)"
		pass "run on a terminal: typed input reaches the shell"
		pass "run on a terminal: ^C reaches the container's foreground job"
		;;
	esac
	check_eq "run on a terminal: the shell's exit status" 7 "$(result exit "$out")"
	check_eq "run on a terminal: the terminal's mode restored" yes "$(result restored "$out")"
	if grep -q 'console-socket' "$TMP/term.log"; then
		fail "run on a terminal: no console socket needed" "$(head -c 400 "$TMP/term.log")"
	fi
	check_nothing_left "run on a terminal" "$ID"
}

# The bundle's directory is the default: run from inside it, as a newcomer does.
case_run_in_bundle_dir() {
	local out
	new_id term-cwd
	spec_bundle "$TMP/term-cwd" || return
	bundle_edit "$TMP/term-cwd" '.process.args = ["sh", "-c", "stty size; exit 3"]'
	out=$(cd "$TMP/term-cwd" && $PTY --size 21x77 --timeout 120 --log "$TMP/term-cwd.log" \
		--expect '21 77' -- timeout -k 5 240 "$RUNTIME" --kata-config "$CONFIG" \
		--root "$ROOT" run "$ID" 2>&1 <<<"")
	check_eq "run in the bundle's directory: exit status" 3 "$(result exit "$out")"
	check_nothing_left "run in the bundle's directory" "$ID"
}

case_exec_on_terminal() {
	local out
	new_id exec-term
	make_bundle "$TMP/exec-term" sleep 1000
	if ! kr_detached "$ID" run -d --bundle "$TMP/exec-term" "$ID"; then
		fail "exec -t on a terminal" "run -d: $(detached_error "$ID")"
		return
	fi
	out=$($PTY --size 25x90 --timeout 120 --log "$TMP/exec-term.log" \
		--expect '/ # ' --send 'stty size\r' --expect '\r\n25 90\r\n' \
		--resize 50x132 --sleep 1 --send 'stty size\r' --expect '\r\n50 132\r\n' \
		--send 'exit 5\r' -- \
		timeout -k 5 120 "$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" exec -t "$ID" sh \
		2>&1 <<<"")
	case "$out" in
	timeout:*) fail "exec -t on a terminal" "$out" ;;
	*)
		pass "exec -t on a terminal: stty size 25 90"
		pass "exec -t on a terminal: a window change reaches the process (50 132)"
		;;
	esac
	check_eq "exec -t on a terminal: the shell's exit status" 5 "$(result exit "$out")"
	check_eq "exec -t on a terminal: the terminal's mode restored" yes \
		"$(result restored "$out")"
	check_eq "exec -t on a terminal: the container still runs" running \
		"$(state_field "$ID" status)"
	delete_and_check "exec -t on a terminal" "$ID"
}

# No terminal on the caller's side: the guest's pty is still the process's, its output
# comes out on run's stdout.
case_run_without_caller_terminal() {
	local out status
	new_id term-pipe
	make_bundle --tty "$TMP/term-pipe" sh -c 'test -t 0 && test -t 1 && echo guest-pty; exit 6'
	out=$(kr run --bundle "$TMP/term-pipe" "$ID" 2>"$TMP/term-pipe.err" </dev/null)
	status=$?
	check_eq "run, terminal process, caller without a terminal: exit status" 6 "$status"
	check_contains "run, terminal process, caller without a terminal: output" guest-pty "$out"
	check_nothing_left "run, terminal process, caller without a terminal" "$ID"
}

# Refused before anything is made: no record, no VM (so it is quick).
case_detached_needs_console_socket() {
	local verb out status start
	for verb in "run -d" create; do
		new_id "nosock-${verb// /}"
		make_bundle --tty "$TMP/$ID" sh
		start=$SECONDS
		# shellcheck disable=SC2086
		out=$(kr $verb --bundle "$TMP/$ID" "$ID" 2>&1 </dev/null)
		status=$?
		if [ $status -ne 0 ] && [[ "$out" == *--console-socket* ]]; then
			pass "$verb: a terminal without --console-socket is a clear error"
		else
			fail "$verb: a terminal without --console-socket is a clear error" \
				"exit $status: $out"
		fi
		if [ $((SECONDS - start)) -le 5 ]; then
			pass "$verb: refused before a VM is booted"
		else
			fail "$verb: refused before a VM is booted" "took $((SECONDS - start)) s"
		fi
		check_eq "$verb: no record" "" "$(kr list -q 2>/dev/null | grep -x "$ID")"
		check_nothing_left "$verb without a console socket" "$ID"
	done
}

case_run_on_terminal
case_run_in_bundle_dir
case_exec_on_terminal
case_run_without_caller_terminal
case_detached_needs_console_socket
rt_finish
