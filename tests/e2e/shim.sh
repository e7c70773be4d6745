#!/bin/bash
# kata-shim end to end: the real guest (kata-agent as PID 1, under qemu with TCG), the real
# kata-proxy on its channels, and one real kata-shim per process, set up as the runtime does
# it (tests/tools/proxy-cli plays the runtime: RegisterVM, tokens, NEWCONTAINER with the
# token, the shim, STARTCONTAINER). Each case prints PASS or FAIL; the VM, the proxy, the
# shims and the directory go away on exit, also on failure.
source "$(dirname "$0")/agent_lib.sh"

SHIM=$AGENT_BUILD/kata-shim
PROXY=$AGENT_BUILD/kata-proxy
PROXY_CLI=$AGENT_BUILD/tests/tools/proxy-cli
PROXY_PID=
SHIM_PID=

shim_e2e_stop() {
	[ -n "$SHIM_PID" ] && kill -9 "$SHIM_PID" 2>/dev/null
	SHIM_PID=
	if [ -n "$PROXY_PID" ]; then
		kill "$PROXY_PID" 2>/dev/null
		wait "$PROXY_PID" 2>/dev/null
		PROXY_PID=
	fi
	agent_vm_stop
}
trap shim_e2e_stop EXIT

for f in "$SHIM" "$PROXY" "$PROXY_CLI"; do
	if [ ! -x "$f" ]; then
		echo "FAIL: setup: $f is missing (make all tools)"
		exit 1
	fi
done

agent_vm_start
agent_rootfs c1
"$PROXY" -listen-socket "$AGENT_DIR/proxy.sock" -ctl-socket "$AGENT_DIR/ctl.sock" \
	-io-socket "$AGENT_DIR/io.sock" -dialect kata -log "$AGENT_DIR/proxy.log" -debug &
PROXY_PID=$!

pc() { timeout 120 "$PROXY_CLI" "$AGENT_DIR/proxy.sock" "$@"; }
URI=unix://$AGENT_DIR/proxy.sock

if ! pc register sandbox 0 >/dev/null; then
	echo "FAIL: setup: RegisterVM: $(tail -n 5 "$AGENT_DIR/proxy.log" | tr '\n' ' ')"
	exit 1
fi
if ! pc hyper startpod '{"hostname":"kpod","shareDir":"kataShared","shareFsType":"9p"}' >/dev/null; then
	echo "FAIL: setup: STARTPOD: $(tail -n 5 "$AGENT_DIR/proxy.log" | tr '\n' ' ')"
	exit 1
fi

new_token() {
	pc attach sandbox 1 | sed -n 's/^token //p'
}

# create_c1 TOKEN TERMINAL ARGS...: NEWCONTAINER c1 whose init's I/O is TOKEN's
create_c1() {
	local token=$1 terminal=$2
	shift 2
	pc hyper newcontainer \
		"{\"id\":\"c1\",\"rootfs\":\"c1/rootfs\",\"process\":$(agent_process_json init "$terminal" "$@")}" \
		"$token" >/dev/null
}

start_c1() {
	pc hyper startcontainer '{"container":"c1"}' >/dev/null
}

remove_c1() {
	pc hyper removecontainer '{"container":"c1"}' >/dev/null 2>&1
}

# Waits for the shim; its exit status in SHIM_STATUS (or "timeout").
wait_shim() {
	local i
	SHIM_STATUS=timeout
	for i in $(seq 600); do
		if ! kill -0 "$SHIM_PID" 2>/dev/null; then
			wait "$SHIM_PID"
			SHIM_STATUS=$?
			SHIM_PID=
			return 0
		fi
		sleep 0.1
	done
	echo "the shim still runs after 60 s; kata-proxy's log ends with:"
	tail -n 8 "$AGENT_DIR/proxy.log"
	kill -9 "$SHIM_PID" 2>/dev/null
	wait "$SHIM_PID" 2>/dev/null
	SHIM_PID=
	return 1
}

t_output_and_status() {
	local token
	token=$(new_token) && [ -n "$token" ] || return 1
	create_c1 "$token" false /bin/sh -c 'echo hello; echo oops >&2; exit 3' || return 1
	"$SHIM" -c c1 -t "$token" -u "$URI" </dev/null >"$AGENT_DIR/out" 2>"$AGENT_DIR/err" &
	SHIM_PID=$!
	start_c1 || return 1
	wait_shim || return 1
	echo "status=$SHIM_STATUS out=$(cat "$AGENT_DIR/out") err=$(cat "$AGENT_DIR/err")"
	[ "$SHIM_STATUS" = 3 ] && [ "$(cat "$AGENT_DIR/out")" = hello ] &&
		[ "$(cat "$AGENT_DIR/err")" = oops ]
}
check "stdout, stderr and exit status 3 through kata-proxy and kata-shim" t_output_and_status
remove_c1

t_stdin_echo() {
	local token
	head -c 3000000 /dev/urandom >"$AGENT_DIR/input"
	token=$(new_token) && [ -n "$token" ] || return 1
	create_c1 "$token" false /bin/probe echo || return 1
	"$SHIM" -c c1 -t "$token" -u "$URI" <"$AGENT_DIR/input" >"$AGENT_DIR/echoed" \
		2>"$AGENT_DIR/err" &
	SHIM_PID=$!
	start_c1 || return 1
	wait_shim || return 1
	echo "status=$SHIM_STATUS err=$(cat "$AGENT_DIR/err")"
	[ "$SHIM_STATUS" = 0 ] && cmp "$AGENT_DIR/input" "$AGENT_DIR/echoed"
}
check "3 MB of stdin through the shim, echoed back whole, then EOF" t_stdin_echo
remove_c1

t_signals() {
	local token i
	token=$(new_token) && [ -n "$token" ] || return 1
	create_c1 "$token" false /bin/probe signals || return 1
	"$SHIM" -c c1 -t "$token" -u "$URI" </dev/null >"$AGENT_DIR/out" 2>"$AGENT_DIR/err" &
	SHIM_PID=$!
	start_c1 || return 1
	for i in $(seq 100); do
		grep -q 'signals=ready' "$AGENT_DIR/out" && break
		sleep 0.1
	done
	kill -USR1 "$SHIM_PID" && sleep 0.5 && kill -HUP "$SHIM_PID" && sleep 0.5 &&
		kill -TERM "$SHIM_PID" || return 1
	wait_shim || return 1
	echo "status=$SHIM_STATUS out=$(tr '\n' ' ' <"$AGENT_DIR/out")"
	[ "$SHIM_STATUS" = 0 ] && grep -qx 'signal=10' "$AGENT_DIR/out" &&
		grep -qx 'signal=1' "$AGENT_DIR/out" && grep -qx 'signal=15' "$AGENT_DIR/out"
}
check "signals sent to the shim reach the process (USR1, HUP, TERM)" t_signals
remove_c1

t_sigkill_shim() {
	local token i
	token=$(new_token) && [ -n "$token" ] || return 1
	create_c1 "$token" false /bin/sleep 1000 || return 1
	"$SHIM" -c c1 -t "$token" -u "$URI" </dev/null >"$AGENT_DIR/out" 2>"$AGENT_DIR/err" &
	SHIM_PID=$!
	start_c1 || return 1
	sleep 0.5
	kill -9 "$SHIM_PID"
	wait "$SHIM_PID" 2>/dev/null
	SHIM_PID=
	# Once the process is gone, signalling the container is an error.
	for i in $(seq 100); do
		pc hyper killcontainer '{"container":"c1","signal":15}' >/dev/null 2>&1 || return 0
		sleep 0.1
	done
	echo "the process still runs 10 s after its shim was killed"
	return 1
}
check "SIGKILL of the shim kills the process in the guest" t_sigkill_shim
remove_c1

t_terminal() {
	local token
	token=$(new_token) && [ -n "$token" ] || return 1
	create_c1 "$token" true /bin/sh -c 'read x; /bin/probe tty' || return 1
	# script(1) gives the shim a terminal of 40x120; "go" comes once the size is sent.
	(sleep 2; printf 'go\n') | script -qec "stty rows 40 cols 120; $SHIM -c c1 -t $token -u $URI" \
		/dev/null >"$AGENT_DIR/out" 2>&1 &
	SHIM_PID=$!
	sleep 0.5
	start_c1 || return 1
	wait_shim || return 1
	echo "status=$SHIM_STATUS out=$(tr '\r\n' '  ' <"$AGENT_DIR/out")"
	[ "$SHIM_STATUS" = 0 ] && grep -q 'stdin_tty=1' "$AGENT_DIR/out" &&
		grep -q 'rows=40' "$AGENT_DIR/out" && grep -q 'cols=120' "$AGENT_DIR/out"
}
check "a terminal: raw host tty, the guest's pty gets the host's size" t_terminal
remove_c1

agent_finish
