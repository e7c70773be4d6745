#!/bin/bash
# End-to-end tests of the libvirt backend: real TCG boots of the guest kernel as transient
# domains of a test libvirtd (tests/e2e/lib/libvirtd.sh), each backend operation in its own
# process (as the short-lived runtime does) through build/tests/tools/hv-driver. Cases:
# start, pause, resume (virsh sees it), stop, cleanup, 9p and virtio-fs shares, q35 and pc,
# the project's own agent, virsh destroy and kill -9 of qemu seen as crashed, libvirt's
# own message when it cannot start the domain, a lost daemon (clear error, and cleanup still
# kills qemu and removes the directory). Prints PASS:/FAIL: lines.
#
# The guest's /init is the busybox script of qemu_backend.sh: it mounts the share, writes a
# file into it, and repeats READY on the control channel.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
build=${KATA_BUILD_DIR:-$top/build}
driver=$build/tests/tools/hv-driver
kernel=$build/guest/vmlinux
failures=0
tmp=

# shellcheck source=lib/libvirtd.sh
. "$top/tests/e2e/lib/libvirtd.sh"

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1: $2"
	failures=$((failures + 1))
}

cleanup_all() {
	local state
	if [ -n "$tmp" ] && [ -d "$tmp" ]; then
		for state in "$tmp"/*.json; do
			[ -e "$state" ] || continue
			"$driver" cleanup "$state" --force >/dev/null 2>&1
		done
	fi
	libvirtd_stop
	[ -n "$tmp" ] && rm -rf "$tmp"
}
trap cleanup_all EXIT
trap 'exit 130' INT TERM

for f in "$driver" "$kernel" /bin/busybox "$build/configuration.toml"; do
	if [ ! -e "$f" ]; then
		echo "FAIL: setup: $f missing (make all tools guest)"
		exit 1
	fi
done
tmp=$(mktemp -d /tmp/kata-e2e-libvirt-XXXXXX)

# What the host had before, to check that the test daemon leaves nothing behind.
snapshot_host() {
	# shellcheck disable=SC2086
	find $LIBVIRTD_STATE_DIRS /run/libvirt 2>/dev/null | grep -v '^/var/cache/libvirt/qemu/capabilities' | sort
}
snapshot_host >"$tmp/host-before.list"
t0=$(date +%s%N)
libvirtd_start
rc=$?
if [ $rc -ne 0 ]; then
	echo "FAIL: setup: the test libvirtd did not start"
	exit 1
fi
pass "setup: test libvirtd answers on $LIBVIRTD_URI ($((($(date +%s%N) - t0) / 1000000)) ms)"
if grep -q ' /etc/libvirt/qemu.conf ' /proc/self/mountinfo; then
	fail "setup" "the test qemu.conf is still mounted over /etc/libvirt/qemu.conf"
else
	pass "setup: /etc/libvirt/qemu.conf is the system's again once the daemon runs"
fi
virsh_() { virsh -c "$LIBVIRTD_URI" "$@"; }

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

# A configuration per case: build/configuration.toml for the libvirt backend, under TCG.
make_config() { # dest fs machine
	libvirt_write_config "$build/configuration.toml" "$1.in" || return 1
	sed -e "s|^shared_fs = .*|shared_fs = \"$2\"|" \
		-e "s|^\(# \)\?machine_type = .*|machine_type = \"$3\"|" \
		-e 's|^accelerator = .*|accelerator = "tcg"|' "$1.in" >"$1"
	rm -f "$1.in"
}

hv() { "$driver" "$@"; }

alive() { # pid: running and not a zombie
	[ -n "$1" ] && [ "$1" -gt 0 ] 2>/dev/null && [ -r "/proc/$1/stat" ] || return 1
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

domain_of() { # state file: the domain's name
	jq -r .state.name "$1"
}

ms_since() { echo $((($(date +%s%N) - $1) / 1000000)); }

# --- one full life cycle ---------------------------------------------------------------------
lifecycle() { # name machine fs vcpus
	local name=$1 machine=$2 fs=$3 vcpus=$4 state=$tmp/$1.json dir=$tmp/$1 share=$tmp/$1-share
	local conf=$tmp/$1.toml pid log out dom vfsd t
	mkdir -p "$share"
	make_config "$conf" "$fs" "$machine" || {
		fail "$name: config" "cannot write $conf"
		return
	}
	if ! out=$(hv create "$state" --config "$conf" --kernel "$kernel" --initrd "$initrd" \
		--dir "$dir" --shared "$share" --vcpus "$vcpus" --debug 2>&1); then
		fail "$name: create" "$out"
		return
	fi
	expect_state "$name: create" "$state" created && pass "$name: create"
	dom=$(domain_of "$state")

	t=$(date +%s%N)
	if ! out=$(hv start "$state" 2>&1); then
		fail "$name: start" "$out"
		return
	fi
	local start_ms
	start_ms=$(ms_since "$t")
	pid=$(hv pid "$state")
	if alive "$pid" && expect_state "$name: start" "$state" running &&
		[ "$(virsh_ domstate "$dom" 2>&1)" = running ]; then
		pass "$name: start ($start_ms ms; domain $dom, qemu pid $pid)"
	else
		fail "$name: start" "qemu '$pid' not alive or domain not running"
	fi
	vfsd=$(pgrep -f "virtiofsd.*source=$share" | head -n1)
	if [ "$fs" = virtio-fs ]; then
		[ -n "$vfsd" ] && pass "$name: libvirt started virtiofsd (pid $vfsd)" ||
			fail "$name: virtiofsd" "not running"
	fi
	log=$(hv path "$state" console-log)
	if wait_console "$log" "e2e-init: READY.*cpus=$vcpus" 30000; then
		pass "$name: guest boots to /init with $vcpus vCPU(s) (console logged)"
	else
		fail "$name: guest boots to /init" "no READY on the console: $(tail -n 3 "$log" 2>/dev/null | tr '\n' '|')"
	fi
	if out=$(hv wait-ctl "$state" READY 30000 2>&1); then
		pass "$name: control channel sh.hyper.channel.0 reaches the host ($(ms_since "$t") ms after start began)"
	else
		fail "$name: control channel" "$out"
	fi
	local want=${fs/virtio-fs/virtiofs}
	want=${want/virtio-9p/9p}
	if grep -q "fs=$want" "$share/from-guest" 2>/dev/null; then
		pass "$name: guest wrote into the shared directory over $want"
	else
		fail "$name: shared directory" "no from-guest file with fs=$want ($(cat "$share/from-guest" 2>&1))"
	fi
	if out=$(hv pause "$state" 2>&1) && expect_state "$name: pause" "$state" paused &&
		[ "$(virsh_ domstate "$dom" 2>&1)" = paused ]; then
		pass "$name: pause (virsh: paused)"
	else
		fail "$name: pause" "$out"
	fi
	if out=$(hv resume "$state" 2>&1) && expect_state "$name: resume" "$state" running &&
		[ "$(virsh_ domstate "$dom" 2>&1)" = running ]; then
		pass "$name: resume (virsh: running)"
	else
		fail "$name: resume" "$out"
	fi
	t=$(date +%s%N)
	if out=$(hv stop "$state" 2>&1); then
		local stop_ms
		stop_ms=$(ms_since "$t")
		if alive "$pid"; then
			fail "$name: stop" "qemu $pid still alive"
		elif alive "$vfsd"; then
			fail "$name: stop" "virtiofsd $vfsd still alive"
		elif virsh_ dominfo "$dom" >/dev/null 2>&1; then
			fail "$name: stop" "domain $dom still known to libvirt"
		else
			expect_state "$name: stop" "$state" stopped &&
				pass "$name: stop ($stop_ms ms; qemu gone, domain gone)"
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

# --- the domain ended behind the backend's back -------------------------------------------
crash() { # name fs how(kill|destroy)
	local name=$1 fs=$2 how=$3 state=$tmp/$1.json dir=$tmp/$1 share=$tmp/$1-share
	local conf=$tmp/$1.toml pid vfsd out st dom
	mkdir -p "$share"
	make_config "$conf" "$fs" q35
	if ! out=$(hv create "$state" --config "$conf" --kernel "$kernel" --initrd "$initrd" \
		--dir "$dir" --shared "$share" 2>&1) || ! out=$(hv start "$state" 2>&1); then
		fail "$name: start" "$out"
		return
	fi
	pid=$(hv pid "$state")
	dom=$(domain_of "$state")
	vfsd=$(pgrep -f "virtiofsd.*source=$share" | head -n1)
	if [ "$how" = kill ]; then
		kill -9 "$pid"
	else
		virsh_ destroy "$dom" >/dev/null 2>&1
	fi
	# libvirt ends the domain once qemu is gone; a qemu killed behind its back stays a
	# zombie until PID 1 reaps it (about 2 s here), and libvirt waits for that.
	local t i
	t=$(date +%s%N)
	for ((i = 0; i < 150; i++)); do
		st=$(hv state "$state" 2>&1)
		[ "$st" = running ] || break
		sleep 0.1
	done
	if [ "$st" = crashed ]; then
		pass "$name: $how of the domain is seen as crashed (after $(ms_since "$t") ms)"
	else
		fail "$name: $how detection" "state '$st'"
	fi
	if out=$(hv pause "$state" 2>&1); then
		fail "$name: pause of a dead domain" "succeeded"
	else
		pass "$name: pause of a dead domain fails: $out"
	fi
	if out=$(hv cleanup "$state" 2>&1) && [ ! -e "$dir" ] && ! alive "$vfsd"; then
		pass "$name: cleanup after the crash (directory${vfsd:+, virtiofsd gone})"
	else
		fail "$name: cleanup after the crash" "$out; left: $(ls "$dir" 2>&1 | tr '\n' ' ') virtiofsd=$vfsd"
	fi
	rm -f "$state"
}

# --- libvirt cannot start the domain: its message reaches the caller ------------------------
start_failure() {
	local name=start-failure state=$tmp/start-failure.json dir=$tmp/start-failure out
	local conf=$tmp/start-failure.toml
	make_config "$conf" virtio-9p q35
	hv create "$state" --config "$conf" --kernel "$tmp/no-such-kernel" --dir "$dir" >/dev/null 2>&1
	if out=$(hv start "$state" 2>&1); then
		fail "$name" "start succeeded without a kernel"
	elif [[ "$out" == *"libvirt: start: create the domain: "*"no-such-kernel"* ]]; then
		pass "$name: the error carries libvirt's own message: ${out:0:220}"
	else
		fail "$name" "unexpected error: $out"
	fi
	[ "$(hv state "$state" 2>&1)" = created ] && pass "$name: state stays created" ||
		fail "$name: state" "$(hv state "$state" 2>&1)"
	hv cleanup "$state" >/dev/null 2>&1
	[ -e "$dir" ] && fail "$name: cleanup" "$dir left" || pass "$name: cleanup"
	rm -f "$state"
}

# --- the project's own guest: kata-agent as /init --------------------------------------------
agent_ready() {
	local name=agent-ready state=$tmp/agent.json dir=$tmp/agent share=$tmp/agent-share out t
	local agent_initrd=$build/guest/kata-initrd.img conf=$tmp/agent.toml
	if [ ! -e "$agent_initrd" ]; then
		echo "SKIP: $name: $agent_initrd not built (make guest)"
		return
	fi
	mkdir -p "$share"
	make_config "$conf" virtio-9p q35
	t=$(date +%s%N)
	if out=$(hv create "$state" --config "$conf" --kernel "$kernel" --initrd "$agent_initrd" \
		--dir "$dir" --shared "$share" 2>&1) && out=$(hv start "$state" 2>&1) &&
		out=$(hv wait-ctl "$state" hex:0000000800000008 30000 2>&1); then
		pass "$name: kata-agent sends READY through the domain's control channel ($(ms_since "$t") ms from create)"
	else
		fail "$name" "$out"
	fi
	hv cleanup "$state" >/dev/null 2>&1
	[ -e "$dir" ] && fail "$name: cleanup" "$dir left"
	rm -f "$state"
}

# --- build/configuration.toml as libvirt_write_config makes it: accelerator auto -----------------
shipped_config() {
	local name=shipped-config state=$tmp/shipped.json dir=$tmp/shipped share=$tmp/shipped-share
	local conf=$tmp/shipped.toml out want
	local agent_initrd=$build/guest/kata-initrd.img
	if [ ! -e "$agent_initrd" ]; then
		echo "SKIP: $name: $agent_initrd not built (make guest)"
		return
	fi
	mkdir -p "$share"
	libvirt_write_config "$build/configuration.toml" "$conf"
	if out=$(KATA_ACCEL_CACHE=$tmp/accel-cache.json hv create "$state" --config "$conf" \
		--dir "$dir" --shared "$share" 2>&1) && out=$(hv start "$state" 2>&1) &&
		out=$(hv wait-ctl "$state" hex:0000000800000008 30000 2>&1); then
		pass "$name: the build's configuration (accelerator auto) boots to the agent's READY"
	else
		fail "$name" "$out"
	fi
	# auto: the qemu backend's probe decides the domain type (tcg here: type "qemu").
	want=$(KATA_ACCEL_CACHE=$tmp/accel-cache.json hv probe --kernel "$kernel" 2>/dev/null | cut -d: -f1)
	want=${want/tcg/qemu}
	if jq -r .state.xml "$state" | grep -q "<domain type=\"$want\">"; then
		pass "$name: accelerator auto gives a domain of type $want, as the probe says"
	else
		fail "$name: accelerator auto" "no domain of type '$want': $(jq -r .state.xml "$state" | head -n 1)"
	fi
	hv cleanup "$state" >/dev/null 2>&1
	[ -e "$dir" ] && fail "$name: cleanup" "$dir left"
	rm -f "$state"
}

# --- the daemon goes away under a running sandbox (last: it ends the daemon) ----------------
lost_daemon() {
	local name=lost-daemon state=$tmp/lost.json dir=$tmp/lost conf=$tmp/lost.toml out pid
	if [ -n "$LIBVIRTD_HOST" ]; then
		echo "SKIP: $name: the host's libvirtd is not the test's to stop"
		return
	fi
	make_config "$conf" virtio-9p q35
	if ! out=$(hv create "$state" --config "$conf" --kernel "$kernel" --initrd "$initrd" \
		--dir "$dir" 2>&1) || ! out=$(hv start "$state" 2>&1); then
		fail "$name: start" "$out"
		return
	fi
	pid=$(hv pid "$state")
	kill -TERM "$LIBVIRTD_PID"
	for _ in $(seq 100); do kill -0 "$LIBVIRTD_PID" 2>/dev/null || break; sleep 0.1; done
	if out=$(hv state "$state" 2>&1); then
		fail "$name: state" "answered '$out' without libvirt"
	elif [[ "$out" == *"libvirt: state: connect to $LIBVIRTD_URI: "* ]]; then
		pass "$name: state without libvirt fails clearly: $out"
	else
		fail "$name: state" "unexpected error: $out"
	fi
	if ! alive "$pid"; then
		fail "$name" "qemu $pid did not outlive the daemon (nothing to clean up)"
	elif out=$(hv cleanup "$state" 2>&1) && ! alive "$pid" && [ ! -e "$dir" ]; then
		pass "$name: cleanup without libvirt still kills qemu $pid and removes the directory"
	else
		fail "$name: cleanup" "$out; qemu alive: $(alive "$pid" && echo yes || echo no)"
		kill -9 "$pid" 2>/dev/null
	fi
	rm -f "$state"
}

lifecycle q35-9p q35 virtio-9p 2
lifecycle q35-virtiofs q35 virtio-fs 1
lifecycle pc-9p pc virtio-9p 1
agent_ready
shipped_config
crash kill-9p virtio-9p kill
crash destroy-virtiofs virtio-fs destroy
start_failure
lost_daemon

# --- the test daemon leaves nothing behind -----------------------------------------------------
daemon_pid=$LIBVIRTD_PID daemon_dir=$LIBVIRTD_DIR host_daemon=$LIBVIRTD_HOST
libvirtd_stop
left=$(snapshot_host | comm -13 "$tmp/host-before.list" -)
if [ -n "$host_daemon" ]; then
	# The host's daemon keeps its domains' logs; no domain of this test may remain.
	if pgrep -f 'guest=sandbox-e2e' >/dev/null ||
		virsh -c qemu:///system list --name | grep -q '^sandbox-e2e'; then
		fail "host libvirtd" "a domain of this test remains"
	else
		pass "host libvirtd: no domain of this test left"
	fi
elif [ -n "$daemon_pid" ] && kill -0 "$daemon_pid" 2>/dev/null; then
	fail "libvirtd_stop" "libvirtd $daemon_pid still runs"
elif [ -e "$daemon_dir" ]; then
	fail "libvirtd_stop" "$daemon_dir left"
elif [ -n "$left" ]; then
	fail "libvirtd_stop" "left behind: $(head -n 5 <<<"$left" | tr '\n' ' ')"
elif pgrep -f 'guest=sandbox-' >/dev/null; then
	fail "libvirtd_stop" "a qemu of a domain still runs"
else
	pass "libvirtd_stop: no daemon, domain, socket, state file or directory left"
fi

[ "$failures" -eq 0 ]
