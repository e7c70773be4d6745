# Shared by the runtime end-to-end tests (tests/e2e/runtime_*.sh), which drive kata-runtime
# directly, as an engine would: a private --root and temp directory per script, bundles,
# results, waiting, and the check that a container left nothing behind. Every script calls
# rt_init first; its EXIT trap deletes (--force) every container the script made, kills
# what is left of them by pid, and removes the temp directory.
# shellcheck shell=bash

. "$(dirname "${BASH_SOURCE[0]}")/results.sh"
SANDBOX_BASE=/run/kata-containers/.vm
IDS=()
BG_PIDS=()

require_built() {
	local f
	for f in "$RUNTIME" "$CONFIG" "$BUILD/kata-proxy" "$BUILD/kata-shim" \
		"$BUILD/guest/vmlinux" "$BUILD/guest/kata-initrd.img" "$ROOTFS/bin/probe" \
		"$TOOLS/console-receiver"; do
		if [ ! -e "$f" ]; then
			fail "prerequisites" "$f is missing: run make, make tools, make guest and make rootfs"
			exit 1
		fi
	done
	if ! command -v jq >/dev/null; then
		fail "prerequisites" "jq is missing (make deps)"
		exit 1
	fi
}

# kr ARGS...: kata-runtime with this script's configuration and root; a runtime that
# hangs is stopped after two minutes (exit status 124).
kr() { timeout -k 5 120 "$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" "$@"; }

# kr_detached ID ARGS...: for create and run -d, whose container (through its shim) keeps
# the runtime's stdio: they go to files, $TMP/ID.out and $TMP/ID.err, never to a pipe
# that a command substitution would wait on until the container ends.
kr_detached() {
	local id=$1
	shift
	kr "$@" >"$TMP/$id.out" 2>"$TMP/$id.err" </dev/null
}

# Why kr_detached failed.
detached_error() { head -c 600 "$TMP/$1.err"; }

# new_id NAME: sets ID to a unique container id (the pid keeps parallel runs and other
# suites apart) that the cleanup deletes.
new_id() {
	ID="rt$$-$1"
	IDS+=("$ID")
}

# Records a background pid for the cleanup to kill.
track_bg() { BG_PIDS+=("$1"); }

# The runtime names a sandbox's directory with FNV-1a of (root, NUL, id): cli/sandbox.c.
sandbox_dir() {
	local root=$1 id=$2 h=$((0xcbf29ce484222325)) i c
	for ((i = 0; i < ${#root}; i++)); do
		printf -v c '%d' "'${root:i:1}"
		h=$(((h ^ c) * 0x100000001b3))
	done
	h=$((h * 0x100000001b3))
	for ((i = 0; i < ${#id}; i++)); do
		printf -v c '%d' "'${id:i:1}"
		h=$(((h ^ c) * 0x100000001b3))
	done
	printf '%s/%016x\n' "$SANDBOX_BASE" "$h"
}

# The host processes of container ID: qemu (-name sandbox-ID; guest=sandbox-ID when
# libvirt runs it), its shims (kata-shim -c ID) and whatever names the sandbox directory
# (proxy, virtiofsd). Zombies are left out: PID 1 reaps slowly here (DESIGN.md).
container_processes() {
	local id=$1 dir pid
	dir=$(sandbox_dir "$ROOT" "$id")
	{
		pgrep -f -- "-name (guest=)?sandbox-$id( |,|\$)"
		pgrep -f -- "kata-shim -c $id "
		pgrep -f -- "$dir/"
	} 2>/dev/null | sort -u | while read -r pid; do
		[ "$pid" = "$$" ] && continue
		case "$(ps -o stat= -p "$pid" 2>/dev/null)" in
		'' | Z*) ;;
		*) echo "$pid" ;;
		esac
	done
}

# The pid of container ID's qemu; fails when there is none.
qemu_pid_of() {
	local pid
	pid=$(pgrep -f -- "-name (guest=)?sandbox-$1( |,|\$)" | head -n 1)
	[ -n "$pid" ] && echo "$pid"
}

no_processes_left() { [ -z "$(container_processes "$1")" ]; }

# Nothing of container ID may remain: no process, no mount or directory of its sandbox,
# no state under the root. Processes may take a moment to become zombies.
check_nothing_left() {
	local name=$1 id=$2 dir left
	dir=$(sandbox_dir "$ROOT" "$id")
	if ! wait_for "exit of $id's processes" 10 no_processes_left "$id"; then
		left=$(container_processes "$id" | xargs -r ps -o pid=,args= -p | cut -c1-200)
		fail "$name: nothing left" "processes remain: $left"
		return 1
	fi
	if grep -q " ${dir}[/ ]" /proc/mounts; then
		fail "$name: nothing left" "mounts remain: $(grep -c " ${dir}[/ ]" /proc/mounts) under $dir"
		return 1
	fi
	if grep -q " /run/kata-containers/[^ ]*${id}[/ ]" /proc/mounts; then
		fail "$name: nothing left" "a mount under /run/kata-containers names $id"
		return 1
	fi
	if [ -e "$dir" ]; then
		fail "$name: nothing left" "the sandbox directory $dir remains"
		return 1
	fi
	if [ -e "$ROOT/$id" ]; then
		fail "$name: nothing left" "the state directory $ROOT/$id remains"
		return 1
	fi
	pass "$name: nothing left"
}

# Deletes ID with --force and checks that nothing is left.
delete_and_check() {
	local name=$1 id=$2 out
	if ! out=$(kr delete --force "$id" 2>&1); then
		fail "$name: delete --force" "$out"
	fi
	check_nothing_left "$name" "$id"
}

# make_bundle DIR [make-bundle.sh options] ARGS...: an OCI bundle like `runc spec`'s
# (with its ambient capabilities and cgroup mount) whose process is ARGS, on the test
# rootfs (--copy: a copy of its own).
make_bundle() {
	BUILD="$BUILD" "$SRCDIR/guest/make-bundle.sh" "$@" 2>/dev/null
}

# bundle_edit DIR JQ_FILTER [jq options]: rewrites DIR/config.json through jq.
bundle_edit() {
	local dir=$1 filter=$2
	shift 2
	jq "$@" "$filter" "$dir/config.json" >"$dir/config.json.new" &&
		mv -f "$dir/config.json.new" "$dir/config.json"
}

state_field() { kr state "$1" 2>/dev/null | jq -r ".$2"; }

# Waits until container ID's status is $2, for at most $3 seconds (default 15).
wait_status() {
	local id=$1 want=$2 i
	for ((i = 0; i < ${3:-15} * 10; i++)); do
		[ "$(state_field "$id" status)" = "$want" ] && return 0
		sleep 0.1
	done
	echo "timed out waiting for $id to be $want" >&2
	return 1
}

# The pid's process state letter, or nothing when it is gone.
proc_state() { ps -o stat= -p "$1" 2>/dev/null | cut -c1; }

# The cleanup: delete every id, kill what remains of it by pid, unmount and remove what
# the runtime left, stop background helpers, remove the temp directory.
rt_cleanup() {
	local id pid dir m
	for pid in "${BG_PIDS[@]}"; do
		kill -KILL "$pid" 2>/dev/null
	done
	for id in "${IDS[@]}"; do
		timeout 60 "$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" delete --force "$id" \
			>/dev/null 2>&1
		for pid in $(container_processes "$id"); do
			kill -KILL "$pid" 2>/dev/null
		done
		dir=$(sandbox_dir "$ROOT" "$id")
		grep " ${dir}[/ ]" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
			umount -l "$m" 2>/dev/null
		done
		[ -d "$dir" ] && rm -rf --one-file-system "$dir"
	done
	wait 2>/dev/null
	if [ -n "${TMP:-}" ] && [ -d "$TMP" ]; then
		grep " $TMP/" /proc/mounts | awk '{print $2}' | sort -r | while read -r m; do
			umount -l "$m" 2>/dev/null
		done
		rm -rf --one-file-system "$TMP"
	fi
}

rt_init() {
	require_built
	TMP=$(mktemp -d /tmp/kata-rt-e2e.XXXXXX)
	ROOT=$TMP/root
	mkdir -p "$ROOT"
	export ROOT RUNTIME CONFIG
	trap 'rt_cleanup' EXIT
	trap 'exit 130' INT TERM
}

# rt_finish: the script's exit status.
rt_finish() { exit "$FAILED"; }
