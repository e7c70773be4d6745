#!/bin/bash
# The bare-boot floor of the runtime's own qemu command line, beside variants of it that
# docs/performance.md proposes: the variants take turns, round by round, and the medians of
# qemu start to the agent's READY and of qemu's CPU time are printed.
#
# usage: bench/floor-variants.sh [BUILD] [ROUNDS]      (defaults: build, 4)
# Variants: base (as the runtime runs it), nohotplug (-m without slots/maxmem), smp1 (-smp
# without maxcpus), lapic (+nolapic_timer), tsc (+tsc_early_khz=<host>), all (the four).
set -uo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
# shellcheck source=bench/cold-start.sh
. "$bench_dir/cold-start.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

ROUNDS=${2:-4}
VARIANTS="base nohotplug smp1 lapic tsc all"
KHZ=$(awk -F': *' '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)

# variant_args NAME: FLOOR_ARGS (from floor_args) changed as the variant says.
variant_args() {
	local v=$1 i a
	for i in "${!FLOOR_ARGS[@]}"; do
		a=${FLOOR_ARGS[$i]}
		case "$a" in
		*,slots=*maxmem=*) [[ $v == nohotplug || $v == all ]] && a=${a%%,*} ;;
		*,maxcpus=*) [[ $v == smp1 || $v == all ]] && a=${a%%,*} ;;
		*console=*)
			[[ $v == lapic || $v == all ]] && a="$a nolapic_timer"
			[[ $v == tsc || $v == all ]] && a="$a tsc_early_khz=$KHZ"
			;;
		esac
		FLOOR_ARGS[i]=$a
	done
}

ensure_bundle sleep sleep 100000
capture_qemu_argv "$CONFIG" "$WORK/bundles/sleep"
for ((r = 1; r <= ROUNDS; r++)); do
	for v in $VARIANTS; do
		floor_args "$WORK/floor"
		variant_args "$v"
		line=$("$TOOLS/bench-floor" --ctl "$WORK/floor/vm/ctl.sock" --io "$WORK/floor/vm/io.sock" \
			-- "${FLOOR_ARGS[@]}") || die "variant $v failed to boot"
		sample "floor_${v}_ready" "$(field ready "$line")"
		sample "floor_${v}_cpu" "$(field cpu "$line")"
	done
done
printf '%-10s %10s %10s   (medians of %d rounds; min-max)\n' variant ready_s qemu_cpu_s "$ROUNDS"
for v in $VARIANTS; do
	read -r -a s <<<"$(stats "floor_${v}_ready")"
	read -r -a c <<<"$(stats "floor_${v}_cpu")"
	printf '%-10s %10s %10s   %s-%s\n' "$v" "${s[0]}" "${c[0]}" "${s[1]}" "${s[2]}"
done
