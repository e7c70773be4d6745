#!/bin/bash
# make bench: every benchmark of issue 8, one table on stdout and the same figures as JSON
# in BUILD/bench/results.json (docs/performance.md explains each figure and its bound).
#
# usage: bench/run.sh [BUILD]       (BUILD defaults to build)
# env:   BENCH_QUICK=1   3 runs instead of 5, fewer repetitions elsewhere
#        BENCH_ONLY="cold exec memory streams fs density net pod"   a subset of the sections
#        BENCH_RUNS=N    runs per figure (default 5)
#        RUNC=PATH       the runc to compare with (default: runc on PATH; none: no runc rows)
# Every figure is the median of its runs after a warm-up, with min and max; where it has a
# baseline measured in the same run, their ratio. Needs root, qemu, jq; run by `make bench`.
set -uo pipefail

bench_dir=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=bench/lib.sh
. "$bench_dir/lib.sh"
# shellcheck source=bench/cold-start.sh
. "$bench_dir/cold-start.sh"
# shellcheck source=bench/exec.sh
. "$bench_dir/exec.sh"
# shellcheck source=bench/streams.sh
. "$bench_dir/streams.sh"
# shellcheck source=bench/fs.sh
. "$bench_dir/fs.sh"
# shellcheck source=bench/density.sh
. "$bench_dir/density.sh"
# shellcheck source=bench/net.sh
. "$bench_dir/net.sh"
# shellcheck source=bench/pod.sh
. "$bench_dir/pod.sh"
# shellcheck source=bench/report.sh
. "$bench_dir/report.sh"

trap 'pod_cleanup; bench_cleanup; net_cleanup' EXIT
trap 'exit 130' INT TERM

[ "$(id -u)" = 0 ] || die "needs root (containers, mounts)"
command -v jq >/dev/null || die "needs jq (make deps)"
for f in "$RUNTIME" "$CONFIG" "$BUILD/guest/vmlinux" "$BUILD/guest/kata-initrd.img" \
	"$BUILD/rootfs/bin/probe" "$TOOLS/bench-run" "$TOOLS/channel-initrd.img"; do
	[ -e "$f" ] || die "$f is missing: make all guest rootfs bench-tools"
done
[ -n "$RUNC" ] || note "runc not installed: no runc baselines"

sections=${BENCH_ONLY:-cold exec memory streams fs density net pod}
began=$EPOCHREALTIME
for s in $sections; do
	case "$s" in
	cold) section_cold ;;
	exec) section_exec ;;
	streams) section_streams ;;
	fs) section_fs ;;
	net) section_net ;;
	pod) section_pod ;;
	memory | density) [[ " $sections " == *" density "* && $s == memory ]] || section_density ;;
	*) die "unknown section $s (cold exec memory streams fs density net pod)" ;;
	esac
done
elapsed=$(awk -v a="$began" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.0f", b - a }')
report "$BUILD/bench/results.json" "$elapsed" "$sections"
