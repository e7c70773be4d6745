# The table on stdout and BUILD/bench/results.json, from the figures the sections recorded
# ($WORK/figures.jsonl) and the notes. Sourced by bench/run.sh.
# shellcheck shell=bash

machine_json() {
	local cpu accel
	cpu=$(awk -F': *' '/^model name/ { print $2; exit }' /proc/cpuinfo)
	accel=$(sed -n 's/^accelerator = "\(.*\)"/\1/p' "$CONFIG")
	if [ "$accel" = auto ]; then
		accel="auto: $(jq -r '.. | .accelerator? // empty' \
			/var/cache/kata-containers/accelerator.json 2>/dev/null | head -1)"
	fi
	jq -n --arg cpu "$cpu" --arg cpus "$(nproc)" --arg kernel "$(uname -r)" \
		--arg mem "$(awk '/^MemTotal/ { printf "%d", $2 / 1024 }' /proc/meminfo)" \
		--arg qemu "$(qemu-system-x86_64 --version | head -1)" --arg accel "$accel" \
		--arg runc "$([ -n "$RUNC" ] && "$RUNC" --version | head -1)" \
		--arg load "$(cut -d' ' -f1-3 /proc/loadavg)" \
		'{cpu: $cpu, cpus: ($cpus | tonumber), host_kernel: $kernel, memory_mib: ($mem | tonumber),
		  qemu: $qemu, accelerator: $accel, runc: $runc, load_at_end: $load}'
}

# report FILE SECONDS SECTIONS
report() {
	local out=$1 seconds=$2 sections=$3 machine
	machine=$(machine_json)
	mkdir -p "$(dirname "$out")"
	touch "$WORK/figures.jsonl" "$WORK/notes"
	jq -s --argjson machine "$machine" --arg date "$(date -u +%Y-%m-%dT%H:%M:%SZ)" \
		--arg command "make bench${QUICK:+ BENCH_QUICK=1}${BENCH_ONLY:+ BENCH_ONLY=\"$BENCH_ONLY\"}" \
		--arg runs "$RUNS" --arg seconds "$seconds" --arg sections "$sections" \
		--rawfile notes "$WORK/notes" \
		'{date: $date, command: $command, runs: ($runs | tonumber),
		  duration_s: ($seconds | tonumber), sections: ($sections | split(" ")),
		  machine: $machine, figures: ., notes: ($notes | split("\n") | map(select(. != "")))}' \
		"$WORK/figures.jsonl" >"$out.tmp" && mv "$out.tmp" "$out"
	print_table "$out"
}

print_table() {
	jq -r '"kata-runtime benchmarks, \(.date), \(.command), \(.runs) runs per figure, \(.duration_s) s",
		"machine: \(.machine.cpu), \(.machine.cpus) CPUs, \(.machine.memory_mib) MiB, qemu: \(.machine.qemu), accelerator: \(.machine.accelerator), load: \(.machine.load_at_end)",
		""' "$1"
	printf '%-9s %-58s %9s %9s %9s %-8s %9s %7s %s\n' section figure median min max unit \
		baseline ratio target
	jq -r '.figures[] | [.section, .description, .median, .min, .max, .unit,
		(.baseline.median // "-"), (.ratio // "-"),
		(if .target == null then "" else ((.target.ratio // .target.value) + " " +
		  (if .target.met then "met" else "MISSED" end)) end)] | @tsv' "$1" |
		while IFS=$'\t' read -r sec desc med min max unit base ratio target; do
			printf '%-9s %-58.58s %9.4g %9.4g %9.4g %-8s %9s %7s %s\n' "$sec" "$desc" \
				"$med" "$min" "$max" "$unit" "$base" "$ratio" "$target"
		done
	jq -r '.figures[] | select(.baseline != null) | "  \(.name) baseline: \(.baseline.description)" +
		(if .paired_ratios == null then "" else "; ratio: median of \(.paired_ratios.n) paired ratios (\(.paired_ratios.min) to \(.paired_ratios.max))" end)' "$1" |
		sort -u
	jq -r '.notes[] | "note: \(.)"' "$1"
	echo "JSON: $1"
}
