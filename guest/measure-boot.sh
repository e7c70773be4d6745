#!/bin/bash
# Boot the guest N times under qemu and print the median wall time from starting qemu to
# the init's first console line, to its READY line, and to qemu's exit.
#
# usage: guest/measure-boot.sh [--machine q35|pc|microvm] [--smp N] [--runs N] [--memory MiB]
#            [--cpu MODEL] [--console serial|hvc] [--kernel F] [--initrd F]
#            [--params "KERNEL PARAMETERS"] [--extra-params "..."] [--tsc-khz auto|KHZ]
#            [--wrapper "CMD"] [--no-share] [--verbose]
# Defaults: q35, 1 vCPU, 5 runs, 256 MiB, build/guest/vmlinux and test-initrd.img, the
# parameters of guest/kernel-params, a 9p share and the two virtio-serial ports (nobody
# connects to them: katatest=quick makes the test init power off right after READY).
# --agent boots build/guest/kata-initrd.img instead and times the agent's READY frame on
# the control channel (sh.hyper.channel.0, read through socat); qemu is then killed, so
# only ready= is printed.
# env: BOOT_WRAPPER (a command prefix for qemu, e.g. "chrt -f 10"), BOOT_TIMEOUT (s,
#      default 60), QEMU
set -euo pipefail

guest_dir=$(cd "$(dirname "$0")" && pwd)
top_dir=$(dirname "$guest_dir")
# shellcheck source=guest/qemu-args.sh
. "$guest_dir/qemu-args.sh"

runs=5
agent=0
share=1
verbose=0
first_pattern="kata-test-init: start"
ready_pattern="kata-test-init: READY"
GUEST_KERNEL=$top_dir/build/guest/vmlinux
GUEST_INITRD=$top_dir/build/guest/test-initrd.img
params=$(cat "$guest_dir/kernel-params")
extra_params=""
qemu=${QEMU:-qemu-system-x86_64}
timeout_s=${BOOT_TIMEOUT:-60}
# BOOT_WRAPPER="chrt -f 10" runs qemu under a real-time policy: on a machine busy with
# other work the wall-clock times otherwise measure the load more than the guest. Only with
# one vCPU: two real-time vCPU threads on two cores starve qemu's own main loop (a boot
# that never ends, and a machine nobody else can use). `timeout` itself stays a normal
# process, so that it still gets to kill a qemu that hangs.
read -r -a nice_cmd <<<"${BOOT_WRAPPER:-}"

die() {
	echo "measure-boot: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	--machine) GUEST_MACHINE=$2; shift 2 ;;
	--smp) GUEST_SMP=$2; shift 2 ;;
	--memory) GUEST_MEMORY=$2; shift 2 ;;
	--cpu) GUEST_CPU=$2; shift 2 ;;
	--console) GUEST_CONSOLE=$2; shift 2 ;;
	--kernel) GUEST_KERNEL=$2; shift 2 ;;
	--initrd) GUEST_INITRD=$2; shift 2 ;;
	--params) params=$2; shift 2 ;;
	--extra-params) extra_params=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--agent) agent=1; GUEST_INITRD=$top_dir/build/guest/kata-initrd.img; shift ;;
	--tsc-khz) GUEST_TSC_KHZ=$2; shift 2 ;;
	--wrapper) read -r -a nice_cmd <<<"$2"; shift 2 ;;
	--no-share) share=0; shift ;;
	--verbose) verbose=1; shift ;;
	*) die "unknown option $1" ;;
	esac
done
if [[ " ${nice_cmd[*]} " == *" chrt "* ]] && [ "${GUEST_SMP:-1}" != 1 ]; then
	die "BOOT_WRAPPER with chrt is only safe with --smp 1 (use \"nice -n -19\" instead)"
fi
[ -r "$GUEST_KERNEL" ] || die "$GUEST_KERNEL not found (make guest)"
[ -r "$GUEST_INITRD" ] || die "$GUEST_INITRD not found (make guest)"

work=$(mktemp -d /tmp/kata-measure-boot.XXXXXX)
qemu_pid=""
socat_pid=""
cleanup() {
	local pid
	for pid in $qemu_pid $socat_pid; do
		kill "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
	done
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/share"
GUEST_SOCKET_DIR=$work
[ "$share" = 1 ] && GUEST_SHARE_DIR=$work/share
GUEST_PARAMS="$params $extra_params katatest=quick"
GUEST_CONSOLE_CHARDEV=stdio
[ "$agent" = 1 ] && GUEST_CONSOLE_CHARDEV="file,path=$work/console.log"
guest_qemu_args
[ "$verbose" = 1 ] && echo "measure-boot: $qemu ${QEMU_ARGS[*]}" >&2

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$work/first" && : >"$work/ready" && : >"$work/total" && : >"$work/cpu"

# CPU seconds (user + system) used by the shell's waited-for children so far, into
# $children_cpu: qemu's share of it is a figure that depends much less on other load than
# the wall-clock times. Not in a $(...) subshell: that would count the subshell's children.
read_children_cpu() {
	local self children
	times >"$work/times"
	{ read -r self; read -r children; } <"$work/times"
	children_cpu=$(awk -v t="$children" 'BEGIN { n = split(t, f, " "); s = 0
		for (i = 1; i <= n; i++) { split(f[i], ms, "m"); sub("s", "", ms[2]); s += ms[1] * 60 + ms[2] }
		printf "%.3f\n", s }')
}

elapsed() { awk -v a="$start" -v b="$1" 'BEGIN { printf "%.3f\n", b - a }'; }

# One boot with the agent: the time until the READY frame (code 8, length 8) arrives.
agent_run() {
	local deadline
	rm -f "$work/ctl.out"
	start=$EPOCHREALTIME
	timeout "$timeout_s" "${nice_cmd[@]}" "$qemu" "${QEMU_ARGS[@]}" >"$work/qemu.out" 2>&1 &
	qemu_pid=$!
	deadline=$((SECONDS + timeout_s))
	until [ -S "$work/ctl.sock" ]; do
		[ $SECONDS -lt $deadline ] && kill -0 "$qemu_pid" 2>/dev/null ||
			die "qemu did not start: $(head -c 300 "$work/qemu.out")"
		sleep 0.01
	done
	socat -u UNIX-CONNECT:"$work/ctl.sock" OPEN:"$work/ctl.out",creat 2>/dev/null &
	socat_pid=$!
	ready=""
	while [ $SECONDS -lt $deadline ] && kill -0 "$qemu_pid" 2>/dev/null; do
		if [ "$(od -An -tx1 -N8 "$work/ctl.out" 2>/dev/null | tr -d ' \n')" = 0000000800000008 ]; then
			ready=$EPOCHREALTIME
			break
		fi
		sleep 0.005
	done
	kill "$qemu_pid" "$socat_pid" 2>/dev/null
	wait "$qemu_pid" "$socat_pid" 2>/dev/null || true
	qemu_pid="" socat_pid=""
	[ -n "$ready" ] || die "no READY frame from the agent; console: $(tail -c 300 "$work/console.log")"
	echo "run=$i ready=$(elapsed "$ready")"
	elapsed "$ready" >>"$work/ready"
}

for ((i = 1; i <= runs; i++)); do
	rm -f "$work"/*.sock
	if [ "$agent" = 1 ]; then
		agent_run
		continue
	fi
	start=$EPOCHREALTIME
	read_children_cpu
	cpu_before=$children_cpu
	first="" ready=""
	exec {console_fd}< <(exec timeout "$timeout_s" "${nice_cmd[@]}" "$qemu" "${QEMU_ARGS[@]}" 2>&1)
	qemu_pid=$!
	while IFS= read -r line <&"$console_fd"; do
		now=$EPOCHREALTIME
		[ "$verbose" = 1 ] && printf '%s\n' "$line" >&2
		[ -z "$first" ] && [[ $line == *"$first_pattern"* ]] && first=$now
		[ -z "$ready" ] && [[ $line == *"$ready_pattern"* ]] && ready=$now
	done
	exec {console_fd}<&-
	wait "$qemu_pid" || die "run $i: qemu exited with $? (timeout ${timeout_s}s?)"
	end=$EPOCHREALTIME
	read_children_cpu
	cpu=$(awk -v a="$cpu_before" -v b="$children_cpu" 'BEGIN { printf "%.3f\n", b - a }')
	qemu_pid=""
	[ -n "$ready" ] || die "run $i: no '$ready_pattern' on the console"
	echo "run=$i first_line=$(elapsed "$first") ready=$(elapsed "$ready") exit=$(elapsed "$end") cpu=$cpu"
	echo "$cpu" >>"$work/cpu"
	elapsed "$first" >>"$work/first"
	elapsed "$ready" >>"$work/ready"
	elapsed "$end" >>"$work/total"
done
if [ "$agent" = 1 ]; then
	echo "median_ready=$(median <"$work/ready") runs=$runs machine=${GUEST_MACHINE:-q35}" \
		"smp=${GUEST_SMP:-1} init=agent"
else
	echo "median_first_line=$(median <"$work/first") median_ready=$(median <"$work/ready")" \
		"median_exit=$(median <"$work/total") median_cpu=$(median <"$work/cpu")" \
		"runs=$runs machine=${GUEST_MACHINE:-q35}" \
		"smp=${GUEST_SMP:-1}"
fi
