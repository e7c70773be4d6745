#!/bin/bash
# The bare-boot floor of the runtime's own qemu command line, beside variants of it: the
# variants take turns, round by round, and the medians of qemu start to the agent's READY
# and of qemu's CPU time are printed. docs/performance.md quotes what they measured.
#
# usage: bench/floor-variants.sh [BUILD] [ROUNDS] [VARIANT...]   (defaults: build, 4, all)
# Variants: base (as the runtime runs it); tb0, tb8, tb32 (-accel tcg with qemu's default
# translation cache, 8 MiB, 32 MiB, instead of tcg_tb_size's); noballoon (without the
# free page reporting balloon and its kernel parameter).
set -uo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
# shellcheck source=bench/cold-start.sh
. "$bench_dir/cold-start.sh"
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

ROUNDS=${2:-4}
shift 2 2>/dev/null
VARIANTS=${*:-base tb0 tb8 tb32 noballoon}

# variant_args NAME: FLOOR_ARGS (from floor_args) changed as the variant says.
variant_args() {
	local v=$1 i a out=() skip=0
	for i in "${!FLOOR_ARGS[@]}"; do
		a=${FLOOR_ARGS[$i]}
		if [ "$skip" = 1 ]; then
			skip=0
			continue
		fi
		case "$v:$a" in
		tb0:tcg,tb-size=*) a=tcg ;;
		tb8:tcg,tb-size=*) a=tcg,tb-size=8 ;;
		tb32:tcg,tb-size=*) a=tcg,tb-size=32 ;;
		noballoon:*page_reporting_order=*) a=${a/ page_reporting.page_reporting_order=[0-9]*/} ;;
		noballoon:-device)
			if [[ ${FLOOR_ARGS[$((i + 1))]} == virtio-balloon* ]]; then
				skip=1
				continue
			fi
			;;
		esac
		out+=("$a")
	done
	FLOOR_ARGS=("${out[@]}")
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
