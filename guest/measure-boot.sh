#!/bin/bash
# Boot the guest N times under qemu and print the median wall time from starting qemu to
# the init's first console line, to its READY line, and to qemu's exit.
#
# usage: guest/measure-boot.sh [--machine q35|pc|microvm] [--smp N] [--runs N] [--memory MiB]
#            [--cpu MODEL] [--console serial|hvc] [--kernel F] [--initrd F]
#            [--params "KERNEL PARAMETERS"] [--extra-params "..."] [--tsc-khz auto|KHZ]
#            [--no-share] [--verbose]
# Defaults: q35, 1 vCPU, 5 runs, 256 MiB, build/guest/vmlinux and test-initrd.img, the
# parameters of guest/kernel-params, a 9p share and the two virtio-serial ports (nobody
# connects to them: katatest=quick makes the test init power off right after READY).
# With the agent's initrd (--initrd build/guest/kata-initrd.img) pass --ready-pattern:
# the agent has no console READY line of the test init's.
# env: BOOT_NICE (nice value for qemu, e.g. -15), BOOT_TIMEOUT (s, default 60), QEMU
set -euo pipefail

guest_dir=$(cd "$(dirname "$0")" && pwd)
top_dir=$(dirname "$guest_dir")
# shellcheck source=guest/qemu-args.sh
. "$guest_dir/qemu-args.sh"

runs=5
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
# BOOT_NICE=-15 runs qemu at a higher priority: on a machine busy with other work the
# wall-clock times otherwise measure the load more than the guest.
nice_cmd=()
[ -n "${BOOT_NICE:-}" ] && nice_cmd=(nice -n "$BOOT_NICE")

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
	--ready-pattern) ready_pattern=$2; first_pattern=$2; shift 2 ;;
	--tsc-khz) GUEST_TSC_KHZ=$2; shift 2 ;;
	--no-share) share=0; shift ;;
	--verbose) verbose=1; shift ;;
	*) die "unknown option $1" ;;
	esac
done
[ -r "$GUEST_KERNEL" ] || die "$GUEST_KERNEL not found (make guest)"
[ -r "$GUEST_INITRD" ] || die "$GUEST_INITRD not found (make guest)"

work=$(mktemp -d /tmp/kata-measure-boot.XXXXXX)
qemu_pid=""
cleanup() {
	if [ -n "$qemu_pid" ]; then
		kill "$qemu_pid" 2>/dev/null || true
		wait "$qemu_pid" 2>/dev/null || true
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$work/share"
GUEST_SOCKET_DIR=$work
[ "$share" = 1 ] && GUEST_SHARE_DIR=$work/share
GUEST_PARAMS="$params $extra_params katatest=quick"
GUEST_CONSOLE_CHARDEV=stdio
guest_qemu_args
[ "$verbose" = 1 ] && echo "measure-boot: $qemu ${QEMU_ARGS[*]}" >&2

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

: >"$work/first" && : >"$work/ready" && : >"$work/total"
for ((i = 1; i <= runs; i++)); do
	rm -f "$work"/*.sock
	start=$EPOCHREALTIME
	first="" ready=""
	exec {console_fd}< <(exec "${nice_cmd[@]}" timeout "$timeout_s" "$qemu" "${QEMU_ARGS[@]}" 2>&1)
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
	qemu_pid=""
	[ -n "$ready" ] || die "run $i: no '$ready_pattern' on the console"
	elapsed() { awk -v a="$start" -v b="$1" 'BEGIN { printf "%.3f\n", b - a }'; }
	echo "run=$i first_line=$(elapsed "$first") ready=$(elapsed "$ready") exit=$(elapsed "$end")"
	elapsed "$first" >>"$work/first"
	elapsed "$ready" >>"$work/ready"
	elapsed "$end" >>"$work/total"
done
echo "median_first_line=$(median <"$work/first") median_ready=$(median <"$work/ready")" \
	"median_exit=$(median <"$work/total") runs=$runs machine=${GUEST_MACHINE:-q35}" \
	"smp=${GUEST_SMP:-1}"
