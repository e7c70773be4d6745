# Shared by bench/run.sh and its sections: paths, the runtimes under test, samples and
# figures, and the cleanup that leaves nothing behind (sandboxes, runc containers, temp
# directory). Sourced, never run.
# shellcheck shell=bash

BENCH_SRCDIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${1:-build}
case "$BUILD" in /*) ;; *) BUILD=$BENCH_SRCDIR/$BUILD ;; esac
RUNTIME=$BUILD/kata-runtime
CONFIG=$BUILD/configuration.toml
TOOLS=$BUILD/bench
RUNC=${RUNC:-$(command -v runc || true)}
SANDBOX_BASE=/run/kata-containers/.vm
QUICK=${BENCH_QUICK:-}
# Repetitions: each figure is the median of RUNS measurements after one warm-up.
if [ -n "$QUICK" ]; then RUNS=3; else RUNS=${BENCH_RUNS:-5}; fi

WORK=$(mktemp -d /tmp/kata-bench.XXXXXX)
ROOT=$WORK/root
RUNC_ROOT=$WORK/runc
mkdir -p "$ROOT" "$RUNC_ROOT" "$WORK/samples" "$WORK/bundles"
# Containers to delete at exit, one id a line: files, because ids are often registered in a
# $(...) subshell, whose variables the cleanup would never see.
: >"$WORK/kata.ids"
: >"$WORK/runc.ids"
BG_PIDS=()

log() { echo "bench: $*" >&2; }
die() {
	echo "bench: $*" >&2
	exit 1
}

bench_cleanup() {
	local id pid
	[ -d "$WORK" ] || return 0
	for pid in "${BG_PIDS[@]}"; do
		kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
	done
	while read -r id; do
		timeout -k 5 60 "$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" delete --force "$id" \
			>/dev/null 2>&1
	done <"$WORK/kata.ids"
	while read -r id; do
		timeout -k 5 30 "$RUNC" --root "$RUNC_ROOT" delete --force "$id" >/dev/null 2>&1
	done <"$WORK/runc.ids"
	rm -rf "$WORK"
}

# kr CONFIG ARGS...: kata-runtime with a configuration and this run's root.
kr() {
	local config=$1
	shift
	timeout -k 5 180 "$RUNTIME" --kata-config "$config" --root "$ROOT" "$@"
}

# kata_run_detached CONFIG ID BUNDLE: run -d, stdio to files (the shim keeps them open).
kata_run_detached() {
	track_kata "$2"
	kr "$1" run -d --bundle "$3" "$2" </dev/null >"$WORK/$2.out" 2>"$WORK/$2.err"
}

kata_delete() {
	kr "$1" delete --force "$2" >/dev/null 2>&1
}

runc_run_detached() {
	track_runc "$1"
	"$RUNC" --root "$RUNC_ROOT" run -d --bundle "$2" "$1" </dev/null >/dev/null 2>"$WORK/$1.err"
}

runc_delete() {
	"$RUNC" --root "$RUNC_ROOT" delete --force "$1" >/dev/null 2>&1
}

# bundle NAME [--copy] ARGS...: an OCI bundle with the test rootfs (guest/make-bundle.sh).
bundle() {
	local name=$1
	shift
	BUILD=$BUILD "$BENCH_SRCDIR/guest/make-bundle.sh" "$@" >/dev/null 2>&1 ||
		die "make-bundle $name failed"
}

# config_with NAME KEY=VALUE...: a copy of the build's configuration with keys replaced
# (keys must exist in the file, as `key = value` lines).
config_with() {
	local name=$1 out=$WORK/$1.toml kv
	shift
	cp "$CONFIG" "$out"
	for kv in "$@"; do
		# a key the shipped file leaves out is there commented (`# machine_type = ...`)
		grep -q "^\(# \)\?${kv%%=*} = " "$out" || die "config_with: no key ${kv%%=*}"
		sed -i "s|^\(# \)\?${kv%%=*} = .*|${kv%%=*} = ${kv#*=}|" "$out"
	done
	echo "$out"
}

# config_with_template NAME BASE: BASE with VM templating on ([factory], docs/templating.md),
# its template in the run's work directory (removed with it), made now, outside any timing.
config_with_template() {
	local out=$WORK/$1.toml
	cp "$2" "$out"
	printf '\n[factory]\nenable_template = true\ntemplate_path = "%s"\n' "$WORK/tpl-$1" >>"$out"
	"$RUNTIME" --kata-config "$out" factory init >/dev/null || die "factory init for $1 failed"
	echo "$out"
}

# field KEY LINE: the value of KEY=VALUE in a line of key=value pairs.
field() { tr ' ' '\n' <<<"$2" | awk -F= -v k="$1" '$1 == k { print $2; exit }'; }

# sample FIGURE VALUE: one measurement of a figure.
sample() { echo "$2" >>"$WORK/samples/$1"; }

# summary: "median min max n" of the numbers on stdin, one a line, sorted (sort -g).
summary() {
	awk '{ v[NR] = $1 } END {
		if (NR == 0) { print "nan nan nan 0"; exit }
		m = NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "%.6g %.6g %.6g %d\n", m, v[1], v[NR], NR }'
}

# stats FIGURE: "median min max n" of its samples.
stats() { sort -g "$WORK/samples/$1" | summary; }

# pair_ratio FIGURE BASELINE [N]: the last N samples of each (default 1) were measured side
# by side, in turns: the median of FIGURE's over the median of BASELINE's is one paired ratio
# of the two. Where a figure has paired ratios, figure reports their median rather than the
# ratio of the medians: each pair shares its moment's load, so the drift of a shared machine
# between pairs falls out.
pair_ratio() {
	local name=$1 base=$2 n=${3:-1} a c
	read -r -a a <<<"$(tail -n "$n" "$WORK/samples/$name" 2>/dev/null | sort -g | summary)"
	read -r -a c <<<"$(tail -n "$n" "$WORK/samples/$base" 2>/dev/null | sort -g | summary)"
	[ "${a[3]}" -gt 0 ] || die "pair_ratio: no samples of $name"
	[ "${c[3]}" -gt 0 ] || die "pair_ratio: no samples of $base"
	sample "$name:$base" "$(awk -v a="${a[0]}" -v c="${c[0]}" 'BEGIN { if (c > 0) printf "%.4f", a / c }')"
}

# figure SECTION FIGURE UNIT "DESCRIPTION" [BASELINE-FIGURE "BASELINE DESCRIPTION"
#        [TARGET-OP TARGET-RATIO]]
# records a result line for the table and the JSON: the figure's statistics, the baseline's
# median and their ratio (the median of their paired ratios if pair_ratio recorded any), and
# whether the ratio meets the target (ratio TARGET-OP value).
figure() {
	local section=$1 name=$2 unit=$3 desc=$4 base=${5:-} base_desc=${6:-} op=${7:-} target=${8:-}
	local s b="" p="" ratio="" met=""
	[ -s "$WORK/samples/$name" ] || {
		log "no samples for $name"
		return 0
	}
	read -r -a s <<<"$(stats "$name")"
	if [ -n "$base" ] && [ -s "$WORK/samples/$base" ]; then
		read -r -a b <<<"$(stats "$base")"
		ratio=$(awk -v a="${s[0]}" -v c="${b[0]}" 'BEGIN { if (c > 0) printf "%.3f", a / c }')
		if [ -s "$WORK/samples/$name:$base" ]; then
			read -r -a p <<<"$(stats "$name:$base")"
			ratio=$(awk -v r="${p[0]}" 'BEGIN { printf "%.3f", r }')
		fi
		if [ -n "$op" ] && [ -n "$ratio" ]; then
			met=$(awk -v r="$ratio" -v t="$target" -v op="$op" 'BEGIN {
				print ((op == "<=" && r <= t) || (op == ">=" && r >= t)) ? "yes" : "no" }')
		fi
	elif [ -n "$op" ]; then
		# No baseline: the target bounds the median itself.
		met=$(awk -v r="${s[0]}" -v t="$target" -v op="$op" 'BEGIN {
			print ((op == "<=" && r <= t) || (op == ">=" && r >= t)) ? "yes" : "no" }')
	fi
	jq -n -c --arg section "$section" --arg name "$name" --arg unit "$unit" --arg desc "$desc" \
		--arg median "${s[0]}" --arg min "${s[1]}" --arg max "${s[2]}" --arg n "${s[3]}" \
		--arg base "$base" --arg base_desc "$base_desc" --arg base_median "${b[0]:-}" \
		--arg ratio "$ratio" --arg op "$op" --arg target "$target" --arg met "$met" \
		--arg pairs "${p[3]:-}" --arg pmin "${p[1]:-}" --arg pmax "${p[2]:-}" \
		'def num: if . == "" then null else tonumber end;
		{section: $section, name: $name, description: $desc, unit: $unit,
		 median: ($median | num), min: ($min | num), max: ($max | num), n: ($n | num),
		 baseline: (if $base == "" then null else {name: $base, description: $base_desc,
		   median: ($base_median | num)} end),
		 ratio: ($ratio | num),
		 paired_ratios: (if $pairs == "" then null else {n: ($pairs | num), min: ($pmin | num),
		   max: ($pmax | num)} end),
		 target: (if $op == "" then null else {(if $base == "" then "value" else "ratio" end): ($op + " " + $target),
		   met: ($met == "yes")} end)}' >>"$WORK/figures.jsonl"
}

# note TEXT: a line printed under the table and kept in the JSON.
note() {
	echo "$*" >>"$WORK/notes"
}

# The sandbox directory of a container: FNV-1a of (root, NUL, id), as cli/sandbox.c names it.
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

# qemu_pid ID: the qemu of a sandbox (qemu is run with -name sandbox-ID).
qemu_pid() { pgrep -f -- "-name sandbox-$1( |,|\$)" | head -1; }

# host_pids ID [ROOT]: qemu, the proxy and the shims of sandbox ID (kata-runtime's --root
# ROOT, this run's by default), live ones only.
host_pids() {
	local id=$1 dir pid
	dir=$(sandbox_dir "${2:-$ROOT}" "$id")
	{
		qemu_pid "$id"
		pgrep -f -- "kata-proxy -listen-socket $dir/"
		pgrep -f -- "kata-shim -c $id "
	} 2>/dev/null | sort -u | while read -r pid; do
		case "$(ps -o stat= -p "$pid" 2>/dev/null)" in Z* | "") continue ;; esac
		echo "$pid"
	done
}

# pss_kib PID...: the sum of their proportional set sizes in KiB.
pss_kib() {
	local pid total=0 kib
	for pid in "$@"; do
		kib=$(awk '/^Pss:/ { print $2; exit }' "/proc/$pid/smaps_rollup" 2>/dev/null)
		total=$((total + ${kib:-0}))
	done
	echo "$total"
}

# ensure_bundle NAME ARGS...: $WORK/bundles/NAME for ARGS, made once.
ensure_bundle() {
	local name=$1
	shift
	[ -e "$WORK/bundles/$name/config.json" ] || bundle "$name" "$WORK/bundles/$name" "$@"
}

# track_kata ID / track_runc ID: a container the cleanup deletes (--force) at exit.
track_kata() { echo "$1" >>"$WORK/kata.ids"; }
track_runc() { echo "$1" >>"$WORK/runc.ids"; }
