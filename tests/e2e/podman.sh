#!/bin/bash
# podman driving kata-runtime: output and exit codes, tty, exec, stop, pause, logs, wait, rm;
# after each case nothing of the container is left.
set -u
. "$(dirname "$0")/lib/engines.sh"
require_built

if ! command -v podman >/dev/null; then
	fail "podman" "podman is not installed (make deps)"
	exit 1
fi

NAMES=()
cleanup() {
	local n
	for n in "${NAMES[@]}"; do
		podman rm -f -t 0 "$n" >/dev/null 2>&1
	done
}
trap cleanup EXIT

# DESIGN.md: these machines need the ulimits lowered; the rootfs is the test rootfs.
PODMAN=(podman --runtime "$RUNTIME" --runtime-flag "kata-config=$CONFIG")
OPTS=(--net=none --ulimit nofile=1024:1024 --ulimit nproc=4096:4096 --rootfs "$ROOTFS")

new_name() {
	local n="kata-e2e-$1-$$"
	NAMES+=("$n")
	echo "$n"
}

# The id podman gave the container, which names its sandbox.
container_id() { podman inspect --format '{{.Id}}' "$1" 2>/dev/null; }

case_output_and_exit_codes() {
	local n out rc id
	n=$(new_name out)
	out=$("${PODMAN[@]}" run --name "$n" "${OPTS[@]}" /bin/sh -c 'echo hello from a VM; echo to-stderr >&2' 2>/dev/null)
	rc=$?
	check_eq "podman run: stdout" "hello from a VM" "$out"
	check_eq "podman run: exit 0" 0 "$rc"
	id=$(container_id "$n")
	podman rm "$n" >/dev/null
	check_nothing_left "podman run exit 0" "$id"

	n=$(new_name three)
	"${PODMAN[@]}" run --name "$n" "${OPTS[@]}" /bin/sh -c 'exit 3' >/dev/null 2>&1
	check_eq "podman run: exit 3" 3 "$?"
	id=$(container_id "$n")
	podman rm "$n" >/dev/null
	check_nothing_left "podman run exit 3" "$id"
}

case_kill_9() {
	local n id code
	n=$(new_name kill)
	"${PODMAN[@]}" run -d --name "$n" "${OPTS[@]}" /bin/sleep 1000 >/dev/null || {
		fail "podman kill -9" "run -d failed"
		return
	}
	id=$(container_id "$n")
	podman kill -s KILL "$n" >/dev/null
	code=$(podman wait "$n")
	check_eq "podman kill -s KILL: exit 137" 137 "$code"
	podman rm "$n" >/dev/null
	check_nothing_left "podman kill" "$id"
}

case_tty() {
	local n out rc id
	n=$(new_name tty)
	# script(1) gives podman a terminal; what we type reaches the shell in the VM.
	out=$(printf 'echo typed-$((6*7))\nexit 4\n' |
		timeout 60 script -qec "${PODMAN[*]} run -it --name $n ${OPTS[*]} /bin/sh" /dev/null)
	rc=$?
	case "$out" in
	*typed-42*) pass "podman run -it: input reaches the shell" ;;
	*) fail "podman run -it: input reaches the shell" "output was: $out" ;;
	esac
	check_eq "podman run -it: exit status" 4 "$rc"
	out=$(timeout 60 script -qec "${PODMAN[*]} run --rm -it ${OPTS[*]} /bin/probe tty" /dev/null </dev/null)
	case "$out" in
	*stdin_tty=1*) pass "podman run -it: the process has a terminal" ;;
	*) fail "podman run -it: the process has a terminal" "probe said: $out" ;;
	esac
	id=$(container_id "$n")
	podman rm "$n" >/dev/null
	check_nothing_left "podman tty" "$id"
}

case_exec_pause_logs_stop() {
	local n id out rc status start elapsed
	n=$(new_name exec)
	"${PODMAN[@]}" run -d --name "$n" "${OPTS[@]}" /bin/sh -c 'echo line-out; echo line-err >&2; exec sleep 1000' >/dev/null || {
		fail "podman exec" "run -d failed"
		return
	}
	id=$(container_id "$n")
	out=$("${PODMAN[@]}" exec "$n" /bin/sh -c 'echo in-exec; exit 5')
	rc=$?
	check_eq "podman exec: output" "in-exec" "$out"
	check_eq "podman exec: exit status" 5 "$rc"
	out=$(echo piped | "${PODMAN[@]}" exec -i "$n" /bin/sh -c 'read x; echo got-$x')
	check_eq "podman exec -i: stdin" "got-piped" "$out"

	podman pause "$n" >/dev/null
	status=$(podman inspect --format '{{.State.Status}}' "$n")
	check_eq "podman pause" paused "$status"
	podman unpause "$n" >/dev/null
	status=$(podman inspect --format '{{.State.Status}}' "$n")
	check_eq "podman unpause" running "$status"
	out=$("${PODMAN[@]}" exec "$n" /bin/echo alive)
	check_eq "podman exec after unpause" alive "$out"

	out=$(podman logs "$n" 2>&1 | sort | tr '\n' ' ')
	check_eq "podman logs" "line-err line-out " "$out"

	# sleep is PID 1 of its namespace and ignores SIGTERM: stop must fall back to KILL.
	start=$(date +%s)
	podman stop -t 2 "$n" >/dev/null 2>&1
	elapsed=$(($(date +%s) - start))
	check_eq "podman stop: TERM then KILL gives 137" 137 "$(podman inspect --format '{{.State.ExitCode}}' "$n")"
	if [ "$elapsed" -ge 2 ]; then pass "podman stop: waited for TERM"; else fail "podman stop: waited for TERM" "took ${elapsed}s"; fi
	podman rm "$n" >/dev/null
	check_nothing_left "podman exec/pause/logs/stop" "$id"

	n=$(new_name term)
	"${PODMAN[@]}" run -d --name "$n" "${OPTS[@]}" /bin/sh -c 'trap "exit 0" TERM; echo trapped; while :; do sleep 0.2; done' >/dev/null
	id=$(container_id "$n")
	# A TERM sent before the shell set its trap would be ignored (it is PID 1).
	wait_for "the trap" 30 bash -c "podman logs $n | grep -q trapped"
	podman stop -t 20 "$n" >/dev/null 2>&1
	check_eq "podman stop: TERM handled by the process" 0 "$(podman inspect --format '{{.State.ExitCode}}' "$n")"
	podman rm "$n" >/dev/null
	check_nothing_left "podman stop TERM" "$id"
}

case_detached_wait_and_rm() {
	local n id code
	n=$(new_name wait)
	"${PODMAN[@]}" run -d --name "$n" "${OPTS[@]}" /bin/sh -c 'sleep 1; exit 6' >/dev/null
	id=$(container_id "$n")
	code=$(podman wait "$n")
	check_eq "podman run -d + wait" 6 "$code"
	podman rm "$n" >/dev/null
	check_nothing_left "podman wait" "$id"

	n=$(new_name rm)
	"${PODMAN[@]}" run -d --name "$n" "${OPTS[@]}" /bin/sleep 1000 >/dev/null
	id=$(container_id "$n")
	podman rm -f -t 0 "$n" >/dev/null
	check_eq "podman rm -f: gone" "" "$(podman ps -a -q --filter name="$n")"
	check_nothing_left "podman rm -f" "$id"
}

case_output_and_exit_codes
case_kill_9
case_tty
case_exec_pause_logs_stop
case_detached_wait_and_rm
exit $FAILED
