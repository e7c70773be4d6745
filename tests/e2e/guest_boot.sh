#!/bin/bash
# End-to-end test of the guest image: boots build/guest/vmlinux with the test initrd
# (guest/test-init.c as /init) under qemu (TCG) with the devices of DESIGN.md - q35,
# -nodefaults, -no-user-config, virtio-serial with the ports sh.hyper.channel.0/1 as unix
# sockets, the console to a file, the shared directory over 9p (tag kataShared) - and checks
# that the init runs, sees what the agent needs (CPUs, filesystems, cgroup controllers,
# namespaces, seccomp, ptys, the named ports in both directions, the share, entropy) and
# powers the VM off. Also: microvm, virtio-fs, and the agent's initrd reaching READY on the
# control channel. And the test rootfs with its probe program, run on the host (chroot,
# unshare, runc with a bundle from guest/make-bundle.sh). Prints PASS:/FAIL: lines; leaves
# no process or file behind.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${KATA_BUILD_DIR:-$top/build}
kernel=$build/guest/vmlinux
test_initrd=$build/guest/test-initrd.img
agent_initrd=$build/guest/kata-initrd.img
boot_timeout=${BOOT_TIMEOUT:-60}
failures=0
tmp=""
pids=()

# shellcheck source=guest/qemu-args.sh
. "$top/guest/qemu-args.sh"

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1: $2"
	failures=$((failures + 1))
}

cleanup() {
	local pid
	for pid in "${pids[@]}"; do
		kill -9 "$pid" 2>/dev/null
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null
	done
	pids=()
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for f in "$kernel" "$test_initrd"; do
	if [ ! -r "$f" ]; then
		echo "FAIL: setup: $f missing (make guest)"
		exit 1
	fi
done
command -v socat >/dev/null || {
	echo "FAIL: setup: socat missing (make deps)"
	exit 1
}
tmp=$(mktemp -d /tmp/kata-e2e-guest-XXXXXX)

wait_for_socket() { # PATH: up to 10 s
	local i
	for ((i = 0; i < 200; i++)); do
		[ -S "$1" ] && return 0
		sleep 0.05
	done
	return 1
}

# wait_pid PID SECONDS: wait for a child to exit within the deadline; its status in $rc.
wait_pid() {
	local i
	for ((i = 0; i < $2 * 20; i++)); do
		if ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null; then
			wait "$1"
			rc=$?
			return 0
		fi
		sleep 0.05
	done
	return 1
}

# clean_console LOG: the test init's lines of a console log, firmware noise removed (SeaBIOS
# leaves escape sequences on the line where the kernel starts): into LOG.clean.
clean_console() {
	tr -d '\r' <"$1" | sed -n 's/.*\(kata-test-init: \)/\1/p' >"$1.clean"
}

# console_value FILE KEY: the value of the test init's "kata-test-init: KEY=VALUE" line.
console_value() {
	sed -n "s/^kata-test-init: $2=//p" "$1" | head -n 1
}

# has_all LIST WANTED...: every WANTED is in the comma-separated LIST.
has_all() {
	local list=",$1," w missing=""
	shift
	for w in "$@"; do
		[[ $list == *",$w,"* ]] || missing="$missing $w"
	done
	[ -z "$missing" ] || {
		echo "missing:$missing"
		return 1
	}
}

# ---- q35, 2 vCPUs, every device, full report ----------------------------------------------
boot_q35_full() {
	local dir=$tmp/q35 console raw_console qemu_pid ctl_pid io_pid why
	mkdir -p "$dir/share"
	console=$dir/console.log
	head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$dir/share/kata-test-file"

	GUEST_MACHINE=q35 GUEST_SMP=2 GUEST_MEMORY=256 GUEST_KERNEL=$kernel \
		GUEST_INITRD=$test_initrd GUEST_PARAMS="$(cat "$top/guest/kernel-params")" \
		GUEST_CONSOLE=serial GUEST_CONSOLE_CHARDEV="file,path=$console" \
		GUEST_SOCKET_DIR=$dir GUEST_SHARE_DIR=$dir/share guest_qemu_args
	timeout "$boot_timeout" qemu-system-x86_64 "${QEMU_ARGS[@]}" >"$dir/qemu.out" 2>&1 &
	qemu_pid=$!
	pids+=("$qemu_pid")

	if ! wait_for_socket "$dir/ctl.sock" || ! wait_for_socket "$dir/io.sock"; then
		fail q35_sockets "qemu did not create the port sockets: $(head -c 300 "$dir/qemu.out")"
		return
	fi
	# The host ends of the ports: the guest says hello on both and echoes a line on ctl.
	socat UNIX-CONNECT:"$dir/ctl.sock" SYSTEM:"echo ping; exec cat >'$dir/ctl.out'" \
		2>"$dir/socat-ctl.err" &
	ctl_pid=$!
	socat -u UNIX-CONNECT:"$dir/io.sock" OPEN:"$dir/io.out",creat 2>"$dir/socat-io.err" &
	io_pid=$!
	pids+=("$ctl_pid" "$io_pid")

	if ! wait_pid "$qemu_pid" "$boot_timeout"; then
		fail q35_poweroff "qemu still running after ${boot_timeout}s; console: $(tail -c 300 "$console")"
		return
	fi
	wait_pid "$ctl_pid" 5
	wait_pid "$io_pid" 5
	clean_console "$console"
	raw_console=$console
	console=$console.clean

	if grep -q '^kata-test-init: start' "$console"; then
		pass q35_reaches_init
	else
		fail q35_reaches_init "no init line on the console: $(tail -c 400 "$raw_console")"
		return
	fi
	grep -q "^kata-test-init: READY" "$console" && pass q35_ready ||
		fail q35_ready "$(grep mount-error "$console")"
	if [ "$rc" = 0 ] && grep -q '^kata-test-init: POWEROFF' "$console"; then
		pass q35_poweroff
	else
		fail q35_poweroff "qemu exit status $rc"
	fi
	[ "$(console_value "$console" cpus)" = 2 ] && pass q35_smp2_cpus ||
		fail q35_smp2_cpus "cpus=$(console_value "$console" cpus), want 2 (ACPI?)"
	why=$(has_all "$(console_value "$console" filesystems)" 9p virtiofs fuse overlay \
		tmpfs devpts devtmpfs cgroup cgroup2 proc sysfs mqueue) && pass filesystems ||
		fail filesystems "$why"
	why=$(has_all "$(console_value "$console" cgroup-controllers)" cpuset cpu cpuacct memory \
		devices freezer pids) && pass cgroup_controllers || fail cgroup_controllers "$why"
	why=$(has_all "$(console_value "$console" namespaces)" mnt uts ipc pid net user) &&
		pass namespaces || fail namespaces "$why"
	[ "$(console_value "$console" seccomp)" = filter ] && pass seccomp_filter ||
		fail seccomp_filter "seccomp=$(console_value "$console" seccomp)"
	[ "$(console_value "$console" pty)" = yes ] && pass unix98_ptys || fail unix98_ptys "no /dev/ptmx"
	[[ "$(console_value "$console" hwrng)" == virtio_rng* ]] && pass virtio_rng ||
		fail virtio_rng "hwrng=$(console_value "$console" hwrng)"
	[ "$(console_value "$console" shared)" = "9p:/run/kataShared" ] &&
		[ "$(console_value "$console" shared-file)" = "$(cat "$dir/share/kata-test-file")" ] &&
		pass share_9p || fail share_9p "shared=$(console_value "$console" shared)" \
		"file=$(console_value "$console" shared-file)"
	if grep -q '^kata-test-init: port=sh.hyper.channel.0:/dev/vport' "$console" &&
		grep -q '^kata-test-init: port=sh.hyper.channel.1:/dev/vport' "$console"; then
		pass ports_named
	else
		fail ports_named "$(grep 'port' "$console" | tr '\n' ' ')"
	fi
	grep -qx 'hello from sh.hyper.channel.0' "$dir/ctl.out" 2>/dev/null &&
		grep -qx 'hello from sh.hyper.channel.1' "$dir/io.out" 2>/dev/null &&
		pass ports_guest_to_host ||
		fail ports_guest_to_host "ctl: $(head -c 100 "$dir/ctl.out" 2>&1) io: $(head -c 100 "$dir/io.out" 2>&1)"
	[ "$(console_value "$console" port-received)" = "sh.hyper.channel.0:ping" ] &&
		pass ports_host_to_guest ||
		fail ports_host_to_guest "$(console_value "$console" port-received)"
}

# ---- microvm (virtio-mmio, no ACPI): reaches READY and exits -------------------------------
boot_microvm() {
	local dir=$tmp/microvm console qemu_pid
	mkdir -p "$dir/share"
	console=$dir/console.log
	GUEST_MACHINE=microvm GUEST_SMP=1 GUEST_KERNEL=$kernel GUEST_INITRD=$test_initrd \
		GUEST_PARAMS="$(cat "$top/guest/kernel-params") katatest=quick" \
		GUEST_CONSOLE_CHARDEV="file,path=$console" GUEST_SOCKET_DIR=$dir \
		GUEST_SHARE_DIR=$dir/share guest_qemu_args
	timeout "$boot_timeout" qemu-system-x86_64 "${QEMU_ARGS[@]}" >"$dir/qemu.out" 2>&1 &
	qemu_pid=$!
	pids+=("$qemu_pid")
	if ! wait_pid "$qemu_pid" "$boot_timeout"; then
		fail microvm_boot "qemu still running after ${boot_timeout}s: $(tail -c 300 "$console")"
	elif [ "$rc" = 0 ] && clean_console "$console" && grep -q "^kata-test-init: READY" "$console.clean" &&
		grep -q "^kata-test-init: shared=9p" "$console.clean"; then
		pass microvm_boot
	else
		fail microvm_boot "exit $rc: $(tail -c 300 "$console") $(head -c 300 "$dir/qemu.out")"
	fi
}

# ---- q35 with the share over virtio-fs (virtiofsd from Debian's qemu) ----------------------
boot_virtiofs() {
	local dir=$tmp/virtiofs console qemu_pid fsd_pid virtiofsd=/usr/lib/qemu/virtiofsd
	if [ ! -x "$virtiofsd" ]; then
		fail virtiofs_share "$virtiofsd missing (qemu-system-x86 7.2 ships it)"
		return
	fi
	mkdir -p "$dir/share"
	console=$dir/console.log
	echo virtiofs-ok >"$dir/share/kata-test-file"
	"$virtiofsd" --socket-path="$dir/vfs.sock" -o source="$dir/share" -o cache=auto \
		>"$dir/virtiofsd.log" 2>&1 &
	fsd_pid=$!
	pids+=("$fsd_pid")
	if ! wait_for_socket "$dir/vfs.sock"; then
		fail virtiofs_share "virtiofsd did not start: $(head -c 300 "$dir/virtiofsd.log")"
		return
	fi
	GUEST_MACHINE=q35 GUEST_SMP=1 GUEST_KERNEL=$kernel GUEST_INITRD=$test_initrd \
		GUEST_PARAMS="$(cat "$top/guest/kernel-params") katatest=quick" \
		GUEST_CONSOLE_CHARDEV="file,path=$console" guest_qemu_args
	QEMU_ARGS+=(-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem
		-chardev "socket,id=vfs,path=$dir/vfs.sock"
		-device vhost-user-fs-pci,chardev=vfs,tag=kataShared)
	timeout "$boot_timeout" qemu-system-x86_64 "${QEMU_ARGS[@]}" >"$dir/qemu.out" 2>&1 &
	qemu_pid=$!
	pids+=("$qemu_pid")
	if ! wait_pid "$qemu_pid" "$boot_timeout"; then
		fail virtiofs_share "qemu still running after ${boot_timeout}s"
	elif grep -q '^kata-test-init: shared=virtiofs:/run/kataShared' "$console"; then
		pass virtiofs_share
	else
		fail virtiofs_share "exit $rc: $(grep -a kata-test-init "$console" | tr '\n' ' ' | head -c 300) $(head -c 200 "$dir/qemu.out")"
	fi
	kill "$fsd_pid" 2>/dev/null
	wait_pid "$fsd_pid" 5
}

# ---- the agent's initrd: READY arrives on the control channel -------------------------------
boot_agent() {
	local dir=$tmp/agent console qemu_pid ctl_pid i ready=""
	if [ ! -r "$agent_initrd" ]; then
		if [ -e "$top/agent/main.c" ]; then
			fail agent_ready "$agent_initrd missing (make guest)"
		else
			echo "SKIP: agent_ready: no agent in this tree yet"
		fi
		return
	fi
	mkdir -p "$dir/share"
	console=$dir/console.log
	GUEST_MACHINE=q35 GUEST_SMP=1 GUEST_KERNEL=$kernel GUEST_INITRD=$agent_initrd \
		GUEST_PARAMS="$(cat "$top/guest/kernel-params")" \
		GUEST_CONSOLE_CHARDEV="file,path=$console" GUEST_SOCKET_DIR=$dir \
		GUEST_SHARE_DIR=$dir/share guest_qemu_args
	timeout "$boot_timeout" qemu-system-x86_64 "${QEMU_ARGS[@]}" >"$dir/qemu.out" 2>&1 &
	qemu_pid=$!
	pids+=("$qemu_pid")
	if ! wait_for_socket "$dir/ctl.sock"; then
		fail agent_ready "no control socket: $(head -c 300 "$dir/qemu.out")"
		return
	fi
	socat -u UNIX-CONNECT:"$dir/ctl.sock" OPEN:"$dir/ctl.out",creat 2>/dev/null &
	ctl_pid=$!
	pids+=("$ctl_pid")
	# READY: code 8, length 8 (header only), both u32 big-endian.
	for ((i = 0; i < boot_timeout * 10; i++)); do
		if [ -s "$dir/ctl.out" ] &&
			od -An -tx1 -N8 "$dir/ctl.out" | tr -d ' \n' | grep -q '^0000000800000008$'; then
			ready=yes
			break
		fi
		kill -0 "$qemu_pid" 2>/dev/null || break
		sleep 0.1
	done
	[ -n "$ready" ] && pass agent_ready ||
		fail agent_ready "no READY frame; got: $(od -An -tx1 -N16 "$dir/ctl.out" 2>&1) console: $(tail -c 300 "$console")"
	kill "$qemu_pid" "$ctl_pid" 2>/dev/null
	wait_pid "$qemu_pid" 10
	wait_pid "$ctl_pid" 5
}

# ---- the test rootfs and its probe, on the host ---------------------------------------------
check_rootfs_probe() {
	local rootfs=$build/rootfs dir=$tmp/probe pattern expected out rc2 sig_pid i bundle
	if [ ! -x "$rootfs/bin/probe" ]; then
		make -s -C "$top" BUILD="$build" rootfs >"$tmp/make-rootfs.log" 2>&1 ||
			{ fail rootfs_build "$(tail -c 300 "$tmp/make-rootfs.log")"; return; }
	fi
	mkdir -p "$dir"
	in_rootfs() { chroot "$rootfs" /bin/probe "$@"; }

	pattern=0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ+
	expected=$(for ((i = 0; i < 3000; i++)); do echo "$pattern"; done | head -c 150000 | sha256sum)
	[ "$(in_rootfs write 150000 | sha256sum)" = "$expected" ] &&
		[ "$(in_rootfs write 150000 stderr 2>&1 >/dev/null | sha256sum)" = "$expected" ] &&
		pass probe_write_pattern || fail probe_write_pattern "pattern or length differs"

	out=$(printf 'abc\ndef' | in_rootfs echo 2>"$dir/echo.err")
	[ "$out" = "$(printf 'abc\ndef')" ] && [ "$(cat "$dir/echo.err")" = "bytes=7" ] &&
		pass probe_echo || fail probe_echo "out=$out err=$(cat "$dir/echo.err")"

	in_rootfs exit 42
	rc2=$?
	[ "$rc2" = 42 ] && pass probe_exit || fail probe_exit "exit status $rc2"

	# As a plain process, and as the init of a pid namespace (only real faults kill it).
	chroot "$rootfs" /bin/sh -c '/bin/probe kill-self 15; echo $?' >"$dir/kill.out" 2>/dev/null
	rc2=$(sh -c 'unshare --fork --pid chroot "$1" /bin/probe kill-self 11; echo $?' sh \
		"$rootfs" 2>/dev/null)
	[ "$(cat "$dir/kill.out")" = 143 ] && [ "$rc2" = 139 ] && pass probe_kill_self ||
		fail probe_kill_self "sh saw $(cat "$dir/kill.out") (want 143), pid-ns init SEGV: $rc2 (want 139)"

	unshare --fork --pid chroot "$rootfs" /bin/probe signals >"$dir/signals.out" 2>&1 &
	sig_pid=$!
	pids+=("$sig_pid")
	for ((i = 0; i < 100; i++)); do
		grep -q '^signals=ready' "$dir/signals.out" 2>/dev/null && break
		sleep 0.05
	done
	# The probe is the child of unshare: signal it, not unshare.
	local probe_pid
	probe_pid=$(pgrep -P "$sig_pid" | head -n 1)
	for sig in USR1 HUP TERM; do
		[ -n "$probe_pid" ] && kill -s "$sig" "$probe_pid"
		sleep 0.1
	done
	wait_pid "$sig_pid" 5 || rc=timeout
	[ "$(grep '^signal=' "$dir/signals.out" | tr '\n' ' ')" = "signal=10 signal=1 signal=15 " ] &&
		[ "$rc" = 0 ] && pass probe_signals_as_pid1 ||
		fail probe_signals_as_pid1 "exit $rc: $(tr '\n' ' ' <"$dir/signals.out")"

	out=$(chroot --userspec=65534:65534 --groups=65534 "$rootfs" /bin/probe ids 2>&1)
	[[ $out == *"uid=65534"*"gid=65534"*"euid=65534"*"groups=65534"* ]] && pass probe_ids_nobody ||
		fail probe_ids_nobody "$(echo "$out" | tr '\n' ' ')"

	bundle=$dir/bundle
	if ! "$top/guest/make-bundle.sh" --cwd /tmp --env PROBE_TEST=yes --user 65534 "$bundle" \
		/bin/probe ids cwd env >"$dir/bundle.log" 2>&1; then
		fail rootfs_bundle_runc "make-bundle: $(tail -c 300 "$dir/bundle.log")"
		return
	fi
	out=$(cd "$bundle" && timeout 60 runc --root "$dir/runc-state" run "kata-guest-e2e-$$" 2>&1)
	[[ $out == *"uid=65534"* ]] && [[ $out == *"cwd=/tmp"* ]] && [[ $out == *"PROBE_TEST=yes"* ]] &&
		pass rootfs_bundle_runc || fail rootfs_bundle_runc "$(echo "$out" | tr '\n' ' ' | head -c 300)"
	timeout 10 runc --root "$dir/runc-state" delete -f "kata-guest-e2e-$$" >/dev/null 2>&1
}

boot_q35_full
boot_microvm
boot_virtiofs
boot_agent
check_rootfs_probe

cleanup
# Nothing of ours may outlive the test.
if pgrep -f "$tmp" >/dev/null 2>&1; then
	fail no_leftovers "processes still running: $(pgrep -af "$tmp")"
else
	pass no_leftovers
fi
[ "$failures" -eq 0 ]
