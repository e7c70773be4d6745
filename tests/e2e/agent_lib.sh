# shellcheck shell=bash
# Sourced by tests/e2e/agent_*.sh: boots the real guest (build/guest/vmlinux +
# build/guest/kata-initrd.img, kata-agent as /init) under qemu with TCG and the devices of
# DESIGN.md, and drives the agent with build/tests/tools/agent-client.
#
#   agent_vm_start           boot; AGENT_DIR holds ctl.sock, io.sock, console.log, share/
#   agent_rootfs ID          copy build/rootfs to share/ID/rootfs (rootfs "ID/rootfs")
#   ac COMMAND...            one agent-client session (see tests/tools/agent-client.c)
#   check NAME COMMAND...    runs COMMAND, prints PASS: NAME or FAIL: NAME: its output
#   agent_vm_stop            kills qemu (by pid) and removes AGENT_DIR; also run by the trap
#   AGENT_NO_9P=1            boot without the 9p share
#   AGENT_EXTRA_QEMU_ARGS_FN a function run after the command line is built: it may start
#                            helpers and append to QEMU_ARGS
set -u

AGENT_SRCDIR=${KATA_TEST_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
AGENT_BUILD=${KATA_BUILD_DIR:-$AGENT_SRCDIR/build}
AGENT_CLIENT=$AGENT_BUILD/tests/tools/agent-client
AGENT_DIR=
AGENT_QEMU_PID=
AGENT_FAILED=0

agent_vm_stop_qemu_only() {
	if [ -n "$AGENT_QEMU_PID" ]; then
		kill "$AGENT_QEMU_PID" 2>/dev/null
		for _ in $(seq 50); do
			kill -0 "$AGENT_QEMU_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -9 "$AGENT_QEMU_PID" 2>/dev/null
		AGENT_QEMU_PID=
	fi
}

agent_vm_stop() {
	agent_vm_stop_qemu_only
	if [ -n "$AGENT_DIR" ]; then
		rm -rf "$AGENT_DIR"
		AGENT_DIR=
	fi
}
trap agent_vm_stop EXIT
trap 'exit 1' INT TERM

agent_require() {
	local f
	# build/rootfs is rebuilt in place by `make rootfs`: wait out a rebuild.
	for _ in $(seq 120); do
		[ -x "$AGENT_BUILD/rootfs/bin/probe" ] && [ -x "$AGENT_BUILD/rootfs/bin/busybox" ] && break
		sleep 1
	done
	for f in "$AGENT_BUILD/guest/vmlinux" "$AGENT_BUILD/guest/kata-initrd.img" "$AGENT_CLIENT" \
		"$AGENT_BUILD/rootfs/bin/probe"; do
		if [ ! -e "$f" ]; then
			echo "FAIL: setup: $f is missing (make all guest rootfs tools)"
			exit 1
		fi
	done
}

agent_vm_start() {
	agent_require
	AGENT_DIR=$(mktemp -d /tmp/kata-agent-e2e.XXXXXX)
	mkdir -p "$AGENT_DIR/share"
	# A private copy: every container's rootfs is copied from it. `make rootfs` may be
	# rebuilding the original meanwhile: copy again until the copy is whole.
	local whole=
	for _ in $(seq 30); do
		rm -rf "$AGENT_DIR/rootfs.base"
		cp -a "$AGENT_BUILD/rootfs" "$AGENT_DIR/rootfs.base" 2>/dev/null &&
			[ -x "$AGENT_DIR/rootfs.base/bin/probe" ] && [ -e "$AGENT_DIR/rootfs.base/bin/sh" ] &&
			[ -e "$AGENT_DIR/rootfs.base/usr/bin/sort" ] && whole=1 && break
		sleep 2
	done
	if [ -z "$whole" ]; then
		echo "FAIL: setup: cannot copy a complete $AGENT_BUILD/rootfs"
		exit 1
	fi
	# shellcheck source=guest/qemu-args.sh
	source "$AGENT_SRCDIR/guest/qemu-args.sh"
	local share=$AGENT_DIR/share
	[ -n "${AGENT_NO_9P:-}" ] && share=
	GUEST_KERNEL=$AGENT_BUILD/guest/vmlinux GUEST_INITRD=$AGENT_BUILD/guest/kata-initrd.img \
		GUEST_PARAMS="$(cat "$AGENT_SRCDIR/guest/kernel-params") ${AGENT_KERNEL_EXTRA:-}" \
		GUEST_CONSOLE_CHARDEV="file,path=$AGENT_DIR/console.log" \
		GUEST_SOCKET_DIR=$AGENT_DIR GUEST_SHARE_DIR=$share \
		GUEST_SMP=${AGENT_SMP:-1} GUEST_MEMORY=${AGENT_MEMORY:-256} guest_qemu_args
	# A test may add devices of its own (a function that appends to QEMU_ARGS).
	[ -n "${AGENT_EXTRA_QEMU_ARGS_FN:-}" ] && "$AGENT_EXTRA_QEMU_ARGS_FN"
	qemu-system-x86_64 "${QEMU_ARGS[@]}" </dev/null >"$AGENT_DIR/qemu.out" 2>&1 &
	AGENT_QEMU_PID=$!
	for _ in $(seq 100); do
		[ -S "$AGENT_DIR/ctl.sock" ] && [ -S "$AGENT_DIR/io.sock" ] &&
			kill -0 "$AGENT_QEMU_PID" 2>/dev/null && return 0
		kill -0 "$AGENT_QEMU_PID" 2>/dev/null || break
		sleep 0.05
	done
	echo "FAIL: boot: qemu did not create its sockets: $(cat "$AGENT_DIR/qemu.out")"
	exit 1
}

agent_rootfs() {
	mkdir -p "$AGENT_DIR/share/$1"
	cp -a "$AGENT_DIR/rootfs.base" "$AGENT_DIR/share/$1/rootfs"
}

ac() {
	timeout 300 "$AGENT_CLIENT" "$AGENT_DIR/ctl.sock" "$AGENT_DIR/io.sock" "$@"
}

check() {
	local name=$1 out rc
	shift
	out=$("$@" 2>&1)
	rc=$?
	if [ $rc -eq 0 ]; then
		echo "PASS: $name"
	else
		AGENT_FAILED=1
		echo "FAIL: $name: $(printf '%s' "$out" | tail -n 12 | tr '\n' ' ')"
		if [ -n "$AGENT_DIR" ] && [ -f "$AGENT_DIR/console.log" ]; then
			echo "---- console (last lines) ----"
			tail -n 15 "$AGENT_DIR/console.log"
			echo "----"
		fi
	fi
	return $rc
}

# The JSON of a process running ARGS... with stdio on seq 1 and stderr on seq 2 (or
# $STDIO/$STDERR), as hyperstart's "process" object.
agent_process_json() {
	local id=$1 terminal=$2 args="" a
	shift 2
	for a in "$@"; do
		a=${a//\\/\\\\}
		a=${a//\"/\\\"}
		args="$args${args:+,}\"$a\""
	done
	printf '{"id":"%s","terminal":%s,"stdio":%s,"stderr":%s,"args":[%s],"envs":["PATH=/bin:/sbin"],"workdir":"/"}' \
		"$id" "$terminal" "${STDIO:-1}" "${STDERR:-2}" "$args"
}

agent_finish() {
	exit "$AGENT_FAILED"
}
