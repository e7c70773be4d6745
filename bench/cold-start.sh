# Section 1, cold start: `kata-runtime run` of /bin/true, start to exit, beside the bare
# boot of the same qemu command line (captured from the runtime) to the agent's READY and
# power-off, and beside runc; then the split of one run's time from its debug logs.
# Sourced by bench/run.sh.
# shellcheck shell=bash

# capture_qemu_argv CONFIG BUNDLE: $WORK/qemu.argv, qemu's argv as the runtime launches it
# for a sandbox (one argument a line), with the sandbox's paths replaced by @DIR@.
capture_qemu_argv() {
	local config=$1 bundle=$2 id=capture$$ pid dir
	kata_run_detached "$config" "$id" "$bundle" || die "run -d for the qemu command line failed"
	pid=$(qemu_pid "$id")
	dir=$(sandbox_dir "$ROOT" "$id")
	[ -n "$pid" ] || die "no qemu for sandbox $id"
	tr '\0' '\n' <"/proc/$pid/cmdline" | sed "s|$dir|@DIR@|g" >"$WORK/qemu.argv"
	kata_delete "$config" "$id"
}

# floor_args DIR [INITRD]: FLOOR_ARGS, the captured argv for a foreground qemu whose
# sandbox directory is DIR (and with another initrd, for the channel floor).
floor_args() {
	local dir=$1 initrd=${2:-} a prev="" skip=0
	local -a all
	mapfile -t all < <(sed "s|@DIR@|$dir|g" "$WORK/qemu.argv")
	FLOOR_ARGS=()
	for a in "${all[@]}"; do
		if [ $skip = 1 ]; then
			skip=0
			continue
		fi
		case "$a" in
		-daemonize) continue ;;
		-pidfile) skip=1; continue ;;
		esac
		[ -n "$initrd" ] && [ "$prev" = -initrd ] && a=$initrd
		FLOOR_ARGS+=("$a")
		prev=$a
	done
	rm -rf "$dir"
	mkdir -p "$dir/vm" "$dir/shared"
}

# floor_boot [INITRD] [--channel]: one bare boot; prints bench-floor's line.
floor_boot() {
	local dir=$WORK/floor
	floor_args "$dir" "${1:-}"
	"$TOOLS/bench-floor" ${2:+"$2"} --ctl "$dir/vm/ctl.sock" --io "$dir/vm/io.sock" \
		-- "${FLOOR_ARGS[@]}"
}

# cold_kata_run NAME [CONFIG]: one timed run of /bin/true; prints bench-run's line.
cold_kata_run() {
	local id=cold$$-$1 config=${2:-$CONFIG} line
	track_kata "$id"
	line=$("$TOOLS/bench-run" --stderr "$WORK/$id.err" -- "$RUNTIME" --kata-config "$config" \
		--root "$ROOT" run --bundle "$WORK/bundles/true" "$id") ||
		die "kata-runtime run failed: $line $(head -c 300 "$WORK/$id.err")"
	echo "$line"
}

cold_runc_run() {
	local id=coldrunc$$-$1
	track_runc "$id"
	"$TOOLS/bench-run" --stderr "$WORK/$id.err" -- "$RUNC" --root "$RUNC_ROOT" run \
		--bundle "$WORK/bundles/true" "$id" || die "runc run failed: $(head -c 300 "$WORK/$id.err")"
}

# iso_to_epoch: jq function for the logs' "2026-11-28T05:41:13.480450Z".
JQ_EPOCH='def epoch: capture("^(?<s>[^.]+)(\\.(?<f>[0-9]+))?Z") |
	(.s + "Z" | fromdateiso8601) + ("0." + (.f // "0") | tonumber);'

# cold_split N: one run with debug logs, its time cut at qemu start, the agent's first
# line, READY, the container's exit and the runtime's exit.
cold_split() {
	local id=split$$-$1 line start wall config log=$WORK/split-$1.log
	config=$(config_with split kernel_params='"quiet"')
	track_kata "$id"
	line=$("$TOOLS/bench-run" --stderr "$WORK/$id.err" -- "$RUNTIME" --kata-config "$config" \
		--root "$ROOT" --debug --log "$log" --log-format json run \
		--bundle "$WORK/bundles/true" "$id") || die "debug run failed: $line"
	start=$(field start "$line")
	wall=$(field wall "$line")
	sample split_total "$wall"
	jq -n -R -r --argjson t0 "$start" --argjson wall "$wall" "$JQ_EPOCH"'
		[inputs | fromjson? | select(.time != null)] as $l |
		def at(f): [$l[] | select(f) | .time | epoch][0];
		def guest(f): [$l[] | select(f) | .msg | capture("console: (?<t>[^ ]+Z) ") |
			.t | epoch][0];
		at(.msg | test("^qemu of sandbox .* running")) as $qemu |
		at(.msg == "agent: READY") as $ready |
		at(.msg | test("^process .* exited")) as $exited |
		(guest(.msg | test("kata-agent.* starting")) ) as $g0 |
		(guest(.msg | test("kata-agent.* ready [0-9]+ ms")) ) as $g1 |
		($g1 - $g0) as $agent |
		"qemu_start=\($qemu - $t0) kernel_boot=\($ready - $qemu - $agent) agent_ready=\($agent)" +
		" container=\($exited - $ready) teardown=\($t0 + $wall - $exited)"' "$log" >"$WORK/split-$1.txt" || die "cannot parse $log"
}

section_cold() {
	local r line lean tpl tpl_lean
	# The memory-lean translation cache (docs/performance.md, "Memory"), timed beside the
	# default: its cost is in the container's start, after READY.
	lean=$(config_with cold-lean tcg_tb_size=8)
	log "cold start: bundles, the qemu command line, warm-up"
	ensure_bundle true /bin/true
	ensure_bundle sleep sleep 100000
	capture_qemu_argv "$CONFIG" "$WORK/bundles/sleep"
	cold_kata_run warm >/dev/null
	# From a VM template (docs/templating.md): made here, before the rounds.
	tpl=$(config_with_template cold-tpl "$CONFIG")
	cold_kata_run tplwarm "$tpl" >/dev/null
	# A clone runs little guest code before its container: a small translation cache may cost
	# it less than it costs a boot (docs/templating.md, "Figures").
	tpl_lean=$(config_with_template cold-tpl-lean "$lean")
	cold_kata_run tplleanwarm "$tpl_lean" >/dev/null
	floor_boot >/dev/null || die "floor boot failed"
	[ -n "$RUNC" ] && cold_runc_run warm >/dev/null
	# Rounds take turns, so that the load of a shared machine spreads over all three.
	for ((r = 1; r <= RUNS; r++)); do
		log "cold start: round $r/$RUNS"
		line=$(cold_kata_run "$r")
		sample cold_kata "$(field wall "$line")"
		sample cold_kata_cpu "$(field cpu "$line")"
		line=$(cold_kata_run "lean$r" "$lean")
		sample cold_kata_lean "$(field wall "$line")"
		line=$(cold_kata_run "tpl$r" "$tpl")
		sample cold_kata_template "$(field wall "$line")"
		line=$(cold_kata_run "tpllean$r" "$tpl_lean")
		sample cold_kata_template_lean "$(field wall "$line")"
		line=$(floor_boot) || die "floor boot failed"
		sample cold_floor "$(field exit "$line")"
		sample cold_floor_ready "$(field ready "$line")"
		sample cold_floor_cpu "$(field cpu "$line")"
		if [ -n "$RUNC" ]; then
			line=$(cold_runc_run "$r")
			sample cold_runc "$(field wall "$line")"
		fi
	done
	for ((r = 1; r <= (QUICK ? 1 : 3); r++)); do
		log "cold start: split, debug run $r"
		cold_split "$r"
		for part in qemu_start kernel_boot agent_ready container teardown; do
			sample "split_$part" "$(field "$part" "$(cat "$WORK/split-$r.txt")")"
		done
	done

	figure cold cold_kata s "kata-runtime run /bin/true, start to exit" \
		cold_floor "bare boot: same qemu argv, agent READY + power-off" "<=" 1.05
	figure cold cold_kata_cpu s "kata-runtime run: CPU of runtime, qemu, proxy, shim" \
		cold_floor_cpu "bare boot: qemu CPU" "<=" 1.05
	figure cold cold_kata_lean s "kata-runtime run /bin/true, tcg_tb_size = 8" \
		cold_kata "the same, default tcg_tb_size"
	figure cold cold_kata_template s "kata-runtime run /bin/true from a VM template" \
		cold_floor "bare boot: same qemu argv, agent READY + power-off" "<=" 0.5
	figure cold cold_kata_template s "kata-runtime run /bin/true: template vs boot" \
		cold_kata "kata-runtime run /bin/true, booted"
	# What the small cache costs a clone's start (it is the density rows' PSS target).
	figure cold cold_kata_template_lean s "kata-runtime run /bin/true from a VM template, tcg_tb_size = 8" \
		cold_kata_template "the same template with the default cache"
	figure cold cold_floor_ready s "bare boot: qemu start to agent READY" "" "" "<=" 0.8
	figure cold cold_runc s "runc run /bin/true"
	figure cold cold_kata s "kata-runtime run /bin/true vs runc" cold_runc "runc run /bin/true"
	for part in qemu_start kernel_boot agent_ready container teardown; do
		figure cold_split "split_$part" s "debug run: $part"
	done
	figure cold_split split_total s "debug run: total (quiet kernel, debug logs)"
}
