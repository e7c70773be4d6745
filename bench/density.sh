# Sections 3 and 6, host memory and density, with a 128 MiB guest: sandboxes started one
# after another (start latency against the number already running), the proportional set
# size of qemu, proxy and shims for one idle sandbox and for ten, then ten started at once.
# Sourced by bench/run.sh.
# shellcheck shell=bash

DENSITY_N=10
DENSITY_MEMORY=128
IDLE_SETTLE_S=3
LEAN_TB_SIZE=8

# start_one CONFIG ID: run -d of the sleeping bundle, timed; prints bench-run's line.
start_one() {
	track_kata "$2"
	"$TOOLS/bench-run" --no-tree --stderr "$WORK/$2.err" -- "$RUNTIME" --kata-config "$1" \
		--root "$ROOT" run -d --bundle "$WORK/bundles/sleep" "$2"
}

# memory_sample PREFIX ID...: PSS of the sandboxes' host processes, in MiB, split by kind.
memory_sample() {
	local prefix=$1 id pid q=0 p=0 s=0 kib comm
	shift
	for id in "$@"; do
		for pid in $(host_pids "$id"); do
			kib=$(pss_kib "$pid")
			comm=$(cat "/proc/$pid/comm" 2>/dev/null)
			case "$comm" in
			qemu*) q=$((q + kib)) ;;
			kata-proxy) p=$((p + kib)) ;;
			*) s=$((s + kib)) ;;
			esac
		done
	done
	local n=$#
	sample "${prefix}_total" "$(awk -v k=$((q + p + s)) -v n="$n" 'BEGIN { printf "%.2f", k / 1024 / n }')"
	sample "${prefix}_qemu" "$(awk -v k=$q -v n="$n" 'BEGIN { printf "%.2f", k / 1024 / n }')"
	sample "${prefix}_proxy" "$(awk -v k=$p -v n="$n" 'BEGIN { printf "%.2f", k / 1024 / n }')"
	sample "${prefix}_shim" "$(awk -v k=$s -v n="$n" 'BEGIN { printf "%.2f", k / 1024 / n }')"
}

# qemu_cpu_s ID: the CPU time qemu of sandbox ID has used so far, in seconds.
qemu_cpu_s() {
	local pid
	pid=$(qemu_pid "$1")
	[ -n "$pid" ] || return 0
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/^.*\) /, ""); printf "%.3f\n", ($12 + $13) / hz }' \
		"/proc/$pid/stat"
}

delete_all() {
	local config=$1 id pids=()
	shift
	for id in "$@"; do
		kata_delete "$config" "$id" &
		pids+=($!)
	done
	wait "${pids[@]}" 2>/dev/null
}

# sandboxes_from_template CONFIG PREFIX ONE-FIGURE TEN-FIGURE: starts DENSITY_N idle sandboxes
# from CONFIG's template, samples the PSS of the first alone and of all of them, deletes them.
sandboxes_from_template() {
	local config=$1 prefix=$2 i r ids=() line
	for ((i = 1; i <= DENSITY_N; i++)); do
		line=$(start_one "$config" "$prefix$$-$i") ||
			die "run -d of sandbox $i from the template failed: $line"
		ids+=("$prefix$$-$i")
		[ "$i" = 1 ] || continue
		sleep "$IDLE_SETTLE_S"
		for ((r = 1; r <= 3; r++)); do
			memory_sample "$3" "${ids[@]}"
			sleep 1
		done
	done
	sleep "$IDLE_SETTLE_S"
	for ((r = 1; r <= 3; r++)); do
		memory_sample "$4" "${ids[@]}"
		sleep 1
	done
	delete_all "$config" "${ids[@]}"
}

section_density() {
	local config lean r i line ids=() latencies=() start end pids=() failures=0
	config=$(config_with density default_memory=$DENSITY_MEMORY)
	lean=$(config_with density-lean default_memory=$DENSITY_MEMORY tcg_tb_size=$LEAN_TB_SIZE)
	ensure_bundle sleep sleep 100000

	log "density: single starts (warm-up + $RUNS)"
	for ((r = 0; r <= RUNS; r++)); do
		line=$(start_one "$config" "single$$-$r") || die "run -d failed: $line"
		if [ "$r" -gt 0 ]; then
			sample density_single "$(field wall "$line")"
			sample density_single_qemu_cpu "$(qemu_cpu_s "single$$-$r")"
		fi
		kata_delete "$config" "single$$-$r"
	done

	log "density: $DENSITY_N sandboxes one after another"
	for ((i = 1; i <= DENSITY_N; i++)); do
		line=$(start_one "$config" "seq$$-$i") || die "run -d of sandbox $i failed: $line"
		ids+=("seq$$-$i")
		latencies+=("$(field wall "$line")")
		sample density_seq_last "$(field wall "$line")"
		[ "$i" = 1 ] || continue
		sleep "$IDLE_SETTLE_S"
		for ((r = 1; r <= 3; r++)); do
			memory_sample mem_one "${ids[@]}"
			sleep 1
		done
	done
	# Only the tenth start is the "with 9 running" figure.
	tail -n 1 "$WORK/samples/density_seq_last" >"$WORK/samples/density_seq_last.tmp"
	mv "$WORK/samples/density_seq_last.tmp" "$WORK/samples/density_seq_last"
	note "density: start latency (s) with 0..$((DENSITY_N - 1)) sandboxes running:" \
		"${latencies[*]}"
	echo "${latencies[*]}" >"$WORK/latencies"
	sleep "$IDLE_SETTLE_S"
	for ((r = 1; r <= 3; r++)); do
		memory_sample mem_ten "${ids[@]}"
		sleep 1
	done
	start=$EPOCHREALTIME
	delete_all "$config" "${ids[@]}"
	sample density_delete_ten "$(awk -v a="$start" -v b="$EPOCHREALTIME" 'BEGIN { print b - a }')"

	# The same ten with TCG's translation cache at 8 MiB instead of the default (the
	# memory-lean setting docs/performance.md weighs against start time).
	log "density: $DENSITY_N sandboxes with tcg_tb_size = $LEAN_TB_SIZE"
	ids=()
	for ((i = 1; i <= DENSITY_N; i++)); do
		line=$(start_one "$lean" "lean$$-$i") || die "run -d of lean sandbox $i failed: $line"
		ids+=("lean$$-$i")
	done
	sleep "$IDLE_SETTLE_S"
	for ((r = 1; r <= 3; r++)); do
		memory_sample mem_ten_lean "${ids[@]}"
		sleep 1
	done
	delete_all "$lean" "${ids[@]}"

	log "density: $DENSITY_N sandboxes from one VM template"
	sandboxes_from_template "$(config_with_template density-tpl "$config")" tpl mem_one_tpl mem_ten_tpl
	log "density: $DENSITY_N sandboxes from one VM template, tcg_tb_size = $LEAN_TB_SIZE"
	sandboxes_from_template "$(config_with_template density-tpl-lean "$lean")" tpllean \
		mem_one_tpl_lean mem_ten_tpl_lean

	for ((r = 1; r <= (QUICK ? 1 : 2); r++)); do
		log "density: $DENSITY_N sandboxes at once, round $r"
		ids=() pids=()
		start=$EPOCHREALTIME
		for ((i = 1; i <= DENSITY_N; i++)); do
			ids+=("par$$-$r-$i")
			start_one "$config" "par$$-$r-$i" >"$WORK/par-$r-$i.line" &
			pids+=($!)
		done
		BG_PIDS+=("${pids[@]}")
		for i in "${!pids[@]}"; do
			wait "${pids[$i]}" || failures=$((failures + 1))
		done
		end=$EPOCHREALTIME
		BG_PIDS=()
		sample density_parallel "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')"
		for ((i = 1; i <= DENSITY_N; i++)); do
			sample density_parallel_each "$(field wall "$(cat "$WORK/par-$r-$i.line")")"
			sample density_parallel_qemu_cpu "$(qemu_cpu_s "par$$-$r-$i")"
		done
		delete_all "$config" "${ids[@]}"
	done
	echo "$failures" >>"$WORK/samples/density_parallel_failures"

	figure memory mem_one_total MiB "PSS of qemu+proxy+shim, 1 idle sandbox, ${DENSITY_MEMORY} MiB guest" \
		"" "" "<=" 48
	figure memory mem_one_qemu MiB "  of which qemu"
	figure memory mem_one_proxy MiB "  of which kata-proxy"
	figure memory mem_one_shim MiB "  of which kata-shim"
	figure memory mem_ten_total MiB "PSS per sandbox, $DENSITY_N idle sandboxes, ${DENSITY_MEMORY} MiB guest" \
		"" "" "<=" 48
	figure memory mem_ten_lean_total MiB \
		"PSS per sandbox, $DENSITY_N idle, tcg_tb_size = $LEAN_TB_SIZE (slower starts)"
	figure memory mem_one_tpl_total MiB "PSS, 1 idle sandbox from a VM template, ${DENSITY_MEMORY} MiB guest" \
		mem_one_total "the same, booted"
	figure memory mem_ten_tpl_total MiB "PSS per sandbox, $DENSITY_N idle from one VM template" \
		"" "" "<=" 32
	figure memory mem_ten_tpl_qemu MiB "  of which qemu"
	figure memory mem_ten_tpl_lean_total MiB \
		"PSS per sandbox, $DENSITY_N idle from one VM template, tcg_tb_size = $LEAN_TB_SIZE" "" "" "<=" 32
	figure density density_single s "run -d, no other sandbox running"
	figure density density_seq_last s "run -d with $((DENSITY_N - 1)) sandboxes running" \
		density_single "run -d, none running"
	figure density density_parallel s "$DENSITY_N run -d at once: total" \
		density_single "run -d, none running" "<=" 5.5
	figure density density_parallel_each s "$DENSITY_N run -d at once: each"
	figure density density_parallel_qemu_cpu s "qemu CPU by the end of run -d, each of 10 at once" \
		density_single_qemu_cpu "the same, started alone"
	figure density density_parallel_failures count "$DENSITY_N run -d at once: failures" \
		"" "" "<=" 0
	figure density density_delete_ten s "delete --force of $DENSITY_N sandboxes at once"
}
