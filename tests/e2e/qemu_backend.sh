#!/bin/bash
# End-to-end tests of the QEMU-lite backend: real qemu (TCG) boots of the guest kernel,
# each backend operation run in its own process (as the short-lived runtime does) through
# build/tests/tools/hv-driver. Cases: start, pause, resume (query-status shows it), stop,
# kill -9 of qemu then detection (crashed) and clean-up, 9p and virtio-fs shares, microvm,
# a qemu that fails to start, the accelerator probe. Prints PASS:/FAIL: lines.
#
# The guest's /init is a busybox script built here: it mounts the share (whatever the VM
# offers), writes a file into it, and repeats READY on the control channel.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${KATA_BUILD_DIR:-$top/build}
driver=$build/tests/tools/hv-driver
kernel=$build/guest/vmlinux
failures=0
tmp=

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1: $2"
	failures=$((failures + 1))
}

# Every sandbox a case created is torn down here, whatever happened.
cleanup_all() {
	local state pid
	[ -n "$tmp" ] && [ -d "$tmp" ] || return 0
	for state in "$tmp"/*.json; do
		[ -e "$state" ] || continue
		pid=$("$driver" pid "$state" 2>/dev/null)
		"$driver" cleanup "$state" --force >/dev/null 2>&1
		if [ -n "$pid" ] && [ "$pid" -gt 0 ] && [ -d "/proc/$pid" ] &&
			! grep -q '^State:.*Z' "/proc/$pid/status" 2>/dev/null &&
			grep -q qemu "/proc/$pid/comm" 2>/dev/null; then
			kill -9 "$pid" 2>/dev/null
		fi
	done
	rm -rf "$tmp"
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

for f in "$driver" "$kernel" /bin/busybox; do
	if [ ! -e "$f" ]; then
		echo "FAIL: setup: $f missing (make tools guest)"
		exit 1
	fi
done
tmp=$(mktemp -d /tmp/kata-e2e-qemu-XXXXXX)

# --- the test guest's initrd ------------------------------------------------------------
make_initrd() {
	local root=$tmp/initrd-root
	mkdir -p "$root"/{bin,proc,sys,dev,run}
	cp /bin/busybox "$root/bin/busybox"
	cat >"$root/init" <<'INIT'
#!/bin/busybox sh
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec >/dev/console 2>&1
msize=$(sed -n 's/.*agent\.msize_9p=\([0-9]*\).*/\1/p' /proc/cmdline)
mkdir -p /run/share
if mount -t virtiofs kataShared /run/share 2>/dev/null; then
	fs=virtiofs
elif mount -t 9p -o trans=virtio,version=9p2000.L,msize=${msize:-8192} kataShared /run/share 2>/dev/null; then
	fs=9p
else
	fs=none
fi
[ "$fs" != none ] && echo "from-guest fs=$fs msize=$msize" >/run/share/from-guest
ctl=
for p in /sys/class/virtio-ports/*; do
	[ "$(cat "$p/name")" = sh.hyper.channel.0 ] && ctl=/dev/${p##*/}
done
echo "e2e-init: READY fs=$fs ctl=$ctl cpus=$(grep -c ^processor /proc/cpuinfo)"
if grep -q e2e.poweroff /proc/cmdline; then
	sync
	poweroff -f
fi
while true; do
	[ -n "$ctl" ] && echo READY >"$ctl" 2>/dev/null
	sleep 0.3
done
INIT
	chmod 755 "$root/init"
	(cd "$root" && find . | cpio -o -H newc --quiet) >"$tmp/initrd.img"
}
make_initrd
initrd=$tmp/initrd.img

# --- helpers ------------------------------------------------------------------------------
hv() { "$driver" "$@"; }

alive() { # pid: running and not a zombie
	[ -r "/proc/$1/stat" ] || return 1
	local state
	state=$(sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f1)
	[ "$state" != Z ] && [ "$state" != X ]
}

wait_console() { # log text ms
	local i
	for ((i = 0; i < $3 / 100; i++)); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

expect_state() { # case state expected
	local got
	got=$(hv state "$2" 2>&1)
	[ "$got" = "$3" ] || {
		fail "$1" "state is '$got', expected '$3'"
		return 1
	}
}

# --- one full life cycle ---------------------------------------------------------------------
lifecycle() { # name machine fs vcpus [create options...]
	local name=$1 machine=$2 fs=$3 vcpus=$4 state=$tmp/$1.json dir=$tmp/$1 share=$tmp/$1-share
	local pid log vfsd out
	shift 4
	mkdir -p "$share"
	if ! out=$(hv create "$state" --kernel "$kernel" --initrd "$initrd" --dir "$dir" \
		--shared "$share" --fs "$fs" --machine "$machine" --vcpus "$vcpus" --debug "$@" 2>&1); then
		fail "$name: create" "$out"
		return
	fi
	expect_state "$name: create" "$state" created && pass "$name: create"

	if ! out=$(hv start "$state" 2>&1); then
		fail "$name: start" "$out"
		return
	fi
	pid=$(hv pid "$state")
	if alive "$pid" && expect_state "$name: start" "$state" running; then
		pass "$name: start (qemu pid $pid)"
	else
		fail "$name: start" "qemu $pid not alive"
	fi
	vfsd=$(pgrep -f "virtiofsd --socket-path=$dir/" | head -n1)
	if [ "$fs" = virtio-fs ]; then
		[ -n "$vfsd" ] && pass "$name: virtiofsd supervised (pid $vfsd)" ||
			fail "$name: virtiofsd" "not running"
	fi

	log=$(hv path "$state" console-log)
	if wait_console "$log" "e2e-init: READY.*cpus=$vcpus" 30000; then
		pass "$name: guest boots to /init with $vcpus vCPU(s)"
	else
		fail "$name: guest boots to /init" "no READY on the console: $(tail -n 3 "$log" 2>/dev/null | tr '\n' '|')"
	fi
	if out=$(hv wait-ctl "$state" READY 10000 2>&1); then
		pass "$name: control channel sh.hyper.channel.0 reaches the host"
	else
		fail "$name: control channel" "$out"
	fi
	local want=${fs/virtio-fs/virtiofs}
	if grep -q "fs=$want" "$share/from-guest" 2>/dev/null; then
		pass "$name: guest wrote into the shared directory over $fs"
	else
		fail "$name: shared directory" "no from-guest file with fs=$want ($(cat "$share/from-guest" 2>&1))"
	fi

	if out=$(hv pause "$state" 2>&1) && expect_state "$name: pause" "$state" paused; then
		pass "$name: pause (query-status: paused)"
	else
		fail "$name: pause" "$out"
	fi
	if out=$(hv resume "$state" 2>&1) && expect_state "$name: resume" "$state" running; then
		pass "$name: resume (query-status: running)"
	else
		fail "$name: resume" "$out"
	fi

	if out=$(hv stop "$state" 2>&1); then
		if alive "$pid"; then
			fail "$name: stop" "qemu $pid still alive"
		elif [ -n "$vfsd" ] && alive "$vfsd"; then
			fail "$name: stop" "virtiofsd $vfsd still alive"
		else
			expect_state "$name: stop" "$state" stopped && pass "$name: stop (qemu gone)"
		fi
	else
		fail "$name: stop" "$out"
	fi
	if out=$(hv cleanup "$state" 2>&1) && [ ! -e "$dir" ]; then
		pass "$name: cleanup removes the sandbox directory"
	else
		fail "$name: cleanup" "$out; left: $(ls "$dir" 2>&1 | tr '\n' ' ')"
	fi
	if out=$(hv cleanup "$state" 2>&1); then
		pass "$name: cleanup twice is harmless"
	else
		fail "$name: cleanup twice" "$out"
	fi
	rm -f "$state"
}

# --- kill -9 of qemu -------------------------------------------------------------------------
crash() { # name fs
	local name=$1 fs=$2 state=$tmp/$1.json dir=$tmp/$1 share=$tmp/$1-share pid vfsd out st
	mkdir -p "$share"
	if ! out=$(hv create "$state" --kernel "$kernel" --initrd "$initrd" --dir "$dir" \
		--shared "$share" --fs "$fs" 2>&1) || ! out=$(hv start "$state" 2>&1); then
		fail "$name: start" "$out"
		return
	fi
	pid=$(hv pid "$state")
	vfsd=$(pgrep -f "virtiofsd --socket-path=$dir/" | head -n1)
	kill -9 "$pid"
	for _ in $(seq 50); do alive "$pid" || break; sleep 0.1; done
	st=$(hv state "$state" 2>&1)
	if [ "$st" = crashed ]; then
		pass "$name: kill -9 of qemu is detected (state crashed)"
	else
		fail "$name: kill -9 detection" "state '$st'"
	fi
	if out=$(hv pause "$state" 2>&1); then
		fail "$name: pause of a dead VM" "succeeded"
	else
		pass "$name: pause of a dead VM fails: $out"
	fi
	if out=$(hv cleanup "$state" 2>&1) && [ ! -e "$dir" ] &&
		{ [ -z "$vfsd" ] || ! alive "$vfsd"; }; then
		pass "$name: cleanup after the crash (sockets, directory${vfsd:+, virtiofsd})"
	else
		fail "$name: cleanup after the crash" "$out; left: $(ls "$dir" 2>&1 | tr '\n' ' ') virtiofsd=$vfsd"
	fi
	rm -f "$state"
}

# --- the guest powers off by itself: stopped, not crashed ------------------------------------
guest_poweroff() {
	local name=guest-poweroff state=$tmp/poweroff.json dir=$tmp/poweroff pid out st
	if ! out=$(hv create "$state" --kernel "$kernel" --initrd "$initrd" --dir "$dir" \
		--params e2e.poweroff 2>&1) || ! out=$(hv start "$state" 2>&1); then
		fail "$name: start" "$out"
		return
	fi
	pid=$(hv pid "$state")
	for _ in $(seq 300); do alive "$pid" || break; sleep 0.1; done
	st=$(hv state "$state" 2>&1)
	if alive "$pid"; then
		fail "$name" "qemu still running after 30 s"
	elif [ "$st" = stopped ]; then
		pass "$name: a guest that powers off is stopped, not crashed"
	else
		fail "$name" "state '$st'"
	fi
	hv cleanup "$state" >/dev/null 2>&1
	[ -e "$dir" ] && fail "$name: cleanup" "$dir left"
	rm -f "$state"
}

# --- qemu refuses to start -------------------------------------------------------------------
start_failure() {
	local name=start-failure state=$tmp/start-failure.json dir=$tmp/start-failure out
	hv create "$state" --kernel "$tmp/no-such-kernel" --dir "$dir" >/dev/null 2>&1
	if out=$(hv start "$state" 2>&1); then
		fail "$name" "start succeeded without a kernel"
	elif [[ "$out" == *"could not open kernel file"* ]]; then
		pass "$name: the error carries qemu's own message"
	else
		fail "$name" "unexpected error: $out"
	fi
	hv cleanup "$state" >/dev/null 2>&1
	[ -e "$dir" ] && fail "$name: cleanup" "$dir left" || pass "$name: cleanup"
	rm -f "$state"
}

# --- the project's own guest: kata-agent as /init --------------------------------------------
agent_ready() {
	local name=agent-ready state=$tmp/agent.json dir=$tmp/agent share=$tmp/agent-share out
	local agent_initrd=$build/guest/kata-initrd.img
	if [ ! -e "$agent_initrd" ]; then
		echo "SKIP: $name: $agent_initrd not built (make guest)"
		return
	fi
	mkdir -p "$share"
	if out=$(hv create "$state" --kernel "$kernel" --initrd "$agent_initrd" --dir "$dir" \
		--shared "$share" 2>&1) && out=$(hv start "$state" 2>&1) &&
		out=$(hv wait-ctl "$state" hex:0000000800000008 30000 2>&1); then
		pass "$name: kata-agent sends READY through the backend's control channel"
	else
		fail "$name" "$out"
	fi
	hv cleanup "$state" >/dev/null 2>&1
	[ -e "$dir" ] && fail "$name: cleanup" "$dir left"
	rm -f "$state"
}

# --- the shipped configuration.toml, loaded by the config loader --------------------------------
shipped_config() {
	local name=shipped-config state=$tmp/shipped.json dir=$tmp/shipped share=$tmp/shipped-share
	local conf=$tmp/configuration.toml out
	local agent_initrd=$build/guest/kata-initrd.img
	if [ ! -e "$agent_initrd" ]; then
		echo "SKIP: $name: $agent_initrd not built (make guest)"
		return
	fi
	sed -e "s|@ASSETSDIR@/vmlinux|$kernel|; s|@ASSETSDIR@/kata-initrd.img|$agent_initrd|" \
		-e "s|@LIBEXECDIR@|/usr/libexec/kata-containers|g" "$top/config/configuration.toml" >"$conf"
	mkdir -p "$share"
	if out=$(KATA_ACCEL_CACHE=$tmp/shipped-accel-cache.json hv create "$state" --config "$conf" \
		--dir "$dir" --shared "$share" 2>&1) && out=$(hv start "$state" 2>&1) &&
		out=$(hv wait-ctl "$state" hex:0000000800000008 30000 2>&1); then
		pass "$name: the default configuration.toml boots to the agent's READY"
	else
		fail "$name" "$out"
	fi
	hv cleanup "$state" >/dev/null 2>&1
	[ -e "$dir" ] && fail "$name: cleanup" "$dir left"
	rm -f "$state"
}

# --- accelerator = kvm where KVM cannot run this guest ------------------------------------
kvm_start() {
	local name=kvm-start state=$tmp/kvm-start.json dir=$tmp/kvm-start out
	[ -e /dev/kvm ] || {
		echo "SKIP: $name: no /dev/kvm on this host"
		return
	}
	hv create "$state" --kernel "$kernel" --initrd "$initrd" --dir "$dir" --accel kvm >/dev/null 2>&1
	if out=$(hv start "$state" 2>&1); then
		# Real KVM hardware: the VM runs; that is fine too.
		pass "$name: qemu runs under KVM here"
	else
		out=${out//$'\n'/ }
		pass "$name: a failing KVM start reports qemu's error: ${out:0:200}"
	fi
	hv cleanup "$state" >/dev/null 2>&1
	[ -e "$dir" ] && fail "$name: cleanup" "$dir left" || pass "$name: cleanup"
	rm -f "$state"
}

# --- accelerator probe -----------------------------------------------------------------------
probe() {
	local out cache=$tmp/accel-cache.json
	out=$(KATA_ACCEL_CACHE=$cache hv probe --kernel "$kernel" --initrd "$initrd" 2>&1)
	if [ ! -e /dev/kvm ]; then
		[[ "$out" == tcg:* ]] && pass "accelerator probe without /dev/kvm: $out" ||
			fail "accelerator probe" "$out"
		return
	fi
	case "$out" in
	tcg:* | kvm:*) pass "accelerator probe: $out" ;;
	*) fail "accelerator probe" "$out" ;;
	esac
	out2=$(KATA_ACCEL_CACHE=$cache hv probe --kernel "$kernel" --initrd "$initrd" 2>&1)
	if [[ "$out2" == "${out%%:*}: cached in $cache"* ]]; then
		pass "accelerator probe answer is cached"
	else
		fail "accelerator probe cache" "$out2"
	fi
	pgrep -f "kata-accel-probe" >/dev/null && fail "accelerator probe" "qemu left running"

	# accelerator = auto: create asks the (cached) probe and boots with its answer.
	local state=$tmp/auto.json dir=$tmp/auto want=${out%%:*}
	if out=$(KATA_ACCEL_CACHE=$cache hv create "$state" --kernel "$kernel" --initrd "$initrd" \
		--dir "$dir" --accel auto 2>&1) &&
		tr -d ' \n\t' <"$state" | grep -Eq "\"-accel\",\"$want[,\"]"; then
		pass "accelerator auto: create uses the probe's answer ($want)"
	else
		fail "accelerator auto" "$out"
	fi
	hv cleanup "$state" >/dev/null 2>&1
	rm -f "$state"
}

lifecycle q35-9p q35 9p 2 --maxvcpus 4
lifecycle q35-virtiofs q35 virtio-fs 1 --slots 4 --memory 512
lifecycle pc-9p pc 9p 1
lifecycle microvm-9p microvm 9p 1
kvm_start
agent_ready
shipped_config
guest_poweroff
crash crash-9p 9p
crash crash-virtiofs virtio-fs
start_failure
[ -n "${KATA_E2E_SKIP_PROBE:-}" ] || probe

[ "$failures" -eq 0 ]
