#!/bin/bash
# containerd (started here with a private configuration) driving kata-runtime through its runc
# shim (`ctr run --runc-binary`): output and exit codes, tty, exec, TERM then KILL, pause,
# logs, detached run and wait, removal; after each case nothing of the container is left.
set -u
. "$(dirname "$0")/lib/engines.sh"
require_built

for tool in containerd ctr; do
	if ! command -v "$tool" >/dev/null; then
		fail "containerd" "$tool is not installed (make deps)"
		exit 1
	fi
done

WORK=$(mktemp -d /tmp/kata-e2e-containerd-XXXXXX)
SOCK=$WORK/containerd.sock
CONTAINERD_PID=
IDS=()

cleanup() {
	local id
	for id in "${IDS[@]}"; do
		ctr --address "$SOCK" task kill -s SIGKILL "$id" >/dev/null 2>&1
		ctr --address "$SOCK" task rm -f "$id" >/dev/null 2>&1
		ctr --address "$SOCK" container rm "$id" >/dev/null 2>&1
	done
	if [ -n "$CONTAINERD_PID" ]; then
		kill "$CONTAINERD_PID" 2>/dev/null
		wait "$CONTAINERD_PID" 2>/dev/null
	fi
	# containerd's own mounts (tmpfs for its shims' state) go with its directories.
	grep " $WORK" /proc/mounts | awk '{print $2}' | sort -r | xargs -r -n1 umount -l
	rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/config.toml" <<CONF
version = 2
root = "$WORK/root"
state = "$WORK/state"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
CONF
# The runc shim passes no configuration path: the runtime finds it in KATA_CONF_FILE.
KATA_CONF_FILE=$CONFIG containerd --config "$WORK/config.toml" >"$WORK/containerd.log" 2>&1 &
CONTAINERD_PID=$!
if ! wait_for "containerd" 30 ctr --address "$SOCK" version; then
	fail "containerd starts" "$(tail -5 "$WORK/containerd.log")"
	exit 1
fi
pass "containerd starts with a private configuration"

CTR=(ctr --address "$SOCK")
# ctr run [OPTIONS...] -- ID COMMAND...: with --rootfs the first argument is the rootfs.
ctr_run() {
	local opts=()
	while [ "$1" != "--" ]; do
		opts+=("$1")
		shift
	done
	shift
	"${CTR[@]}" run --runc-binary "$RUNTIME" --rootfs "${opts[@]}" "$ROOTFS" "$@"
}

new_id() {
	local id="kata-e2e-$1-$$"
	IDS+=("$id")
	echo "$id"
}

task_status() { "${CTR[@]}" task ls 2>/dev/null | awk -v id="$1" '$1 == id { print $3 }'; }

remove() {
	"${CTR[@]}" task rm -f "$1" >/dev/null 2>&1
	"${CTR[@]}" container rm "$1" >/dev/null 2>&1
}

case_output_and_exit_codes() {
	local id out rc
	id=$(new_id out)
	out=$(ctr_run --rm -- "$id" /bin/sh -c 'echo hello from a VM; echo to-stderr >&2' 2>/dev/null)
	rc=$?
	check_eq "ctr run: stdout" "hello from a VM" "$out"
	check_eq "ctr run: exit 0" 0 "$rc"
	check_nothing_left "ctr run exit 0" "$id"
	id=$(new_id three)
	ctr_run --rm -- "$id" /bin/sh -c 'exit 3' >/dev/null 2>&1
	check_eq "ctr run: exit 3" 3 "$?"
	check_nothing_left "ctr run exit 3" "$id"
}

case_kill_9() {
	local id pid rc
	id=$(new_id kill)
	ctr_run --rm -- "$id" /bin/sleep 1000 >/dev/null 2>&1 &
	pid=$!
	wait_for "$id running" 60 bash -c "[ \"\$(${CTR[*]} task ls | awk '\$1 == \"$id\" {print \$3}')\" = RUNNING ]"
	"${CTR[@]}" task kill -s SIGKILL "$id"
	wait "$pid"
	rc=$?
	check_eq "ctr task kill -s SIGKILL: exit 137" 137 "$rc"
	check_nothing_left "ctr kill" "$id"
}

case_tty() {
	local id out rc
	id=$(new_id tty)
	out=$(printf 'echo typed-$((6*7))\nexit 4\n' |
		timeout 60 script -qec "${CTR[*]} run --runc-binary $RUNTIME --rootfs --rm -t $ROOTFS $id /bin/sh" /dev/null)
	rc=$?
	case "$out" in
	*typed-42*) pass "ctr run -t: input reaches the shell" ;;
	*) fail "ctr run -t: input reaches the shell" "output was: $out" ;;
	esac
	check_eq "ctr run -t: exit status" 4 "$rc"
	check_nothing_left "ctr tty" "$id"
}

case_exec_pause_logs_stop() {
	local id out rc status
	id=$(new_id exec)
	ctr_run -d --log-uri "file://$WORK/$id.log" -- "$id" \
		/bin/sh -c 'echo line-out; echo line-err >&2; exec sleep 1000' >/dev/null 2>&1
	if ! wait_for "$id running" 60 bash -c "[ \"\$(${CTR[*]} task ls | awk '\$1 == \"$id\" {print \$3}')\" = RUNNING ]"; then
		fail "ctr run -d" "the task never ran"
		return
	fi
	out=$("${CTR[@]}" task exec --exec-id e1 "$id" /bin/sh -c 'echo in-exec; exit 5')
	rc=$?
	check_eq "ctr task exec: output" in-exec "$out"
	check_eq "ctr task exec: exit status" 5 "$rc"

	"${CTR[@]}" task pause "$id"
	check_eq "ctr task pause" PAUSED "$(task_status "$id")"
	"${CTR[@]}" task resume "$id"
	check_eq "ctr task resume" RUNNING "$(task_status "$id")"

	wait_for "the log" 10 grep -q line-err "$WORK/$id.log"
	out=$(sort "$WORK/$id.log" | tr '\n' ' ')
	check_eq "ctr --log-uri: the container's output" "line-err line-out " "$out"

	# Stop as engines do: TERM (ignored by sleep as PID 1), then KILL.
	"${CTR[@]}" task kill -s SIGTERM "$id"
	sleep 1
	check_eq "SIGTERM ignored by PID 1 sleep" RUNNING "$(task_status "$id")"
	"${CTR[@]}" task kill -s SIGKILL "$id"
	wait_for "$id stopped" 30 bash -c "[ \"\$(${CTR[*]} task ls | awk '\$1 == \"$id\" {print \$3}')\" = STOPPED ]"
	check_eq "ctr: SIGKILL stops it" STOPPED "$(task_status "$id")"
	remove "$id"
	check_nothing_left "ctr exec/pause/logs/stop" "$id"
}

case_detached_wait() {
	local id
	id=$(new_id wait)
	ctr_run -d -- "$id" /bin/sh -c 'sleep 1; exit 6' >/dev/null 2>&1
	wait_for "$id stopped" 60 bash -c "[ \"\$(${CTR[*]} task ls | awk '\$1 == \"$id\" {print \$3}')\" = STOPPED ]"
	check_eq "ctr run -d: task stops by itself" STOPPED "$(task_status "$id")"
	remove "$id"
	check_nothing_left "ctr run -d and wait" "$id"

	id=$(new_id rm)
	ctr_run -d -- "$id" /bin/sleep 1000 >/dev/null 2>&1
	wait_for "$id running" 60 bash -c "[ \"\$(${CTR[*]} task ls | awk '\$1 == \"$id\" {print \$3}')\" = RUNNING ]"
	"${CTR[@]}" task kill -s SIGKILL "$id"
	wait_for "$id stopped" 30 bash -c "[ \"\$(${CTR[*]} task ls | awk '\$1 == \"$id\" {print \$3}')\" = STOPPED ]"
	remove "$id"
	check_eq "ctr container rm: gone" "" "$("${CTR[@]}" container ls -q | grep -x "$id")"
	check_nothing_left "ctr remove" "$id"
}

case_output_and_exit_codes
case_kill_9
case_tty
case_exec_pause_logs_stop
case_detached_wait
exit $FAILED
