# Section 4, streams: 256 MiB written to stdout by a container process and read by the
# caller, through kata-runtime (agent, proxy, shim) and through runc, beside the bare
# virtio-serial channel (bench's vport-writer as the guest's /init, bench-floor reading the
# port's socket); then the round-trip latency of a small stdin-to-stdout echo.
# Sourced by bench/run.sh (after cold-start.sh, whose floor helpers it uses).
# shellcheck shell=bash

STREAM_BYTES=268435456

# mibs LINE: MiB/s between the first and the last byte of a bench-run/bench-floor line.
mibs() {
	awk -v b="$(field bytes "$1")" -v f="$(field first "$1")" -v l="$(field last "$1")" \
		'BEGIN { if (l > f) printf "%.2f", b / 1048576 / (l - f) }'
}

stream_run() {
	local who=$1 id=$2 line
	if [ "$who" = kata ]; then
		track_kata "$id"
		line=$("$TOOLS/bench-run" --count-stdout --stderr "$WORK/$id.err" -- "$RUNTIME" \
			--kata-config "$CONFIG" --root "$ROOT" run --bundle "$WORK/bundles/write" "$id")
	else
		track_runc "$id"
		line=$("$TOOLS/bench-run" --count-stdout --stderr "$WORK/$id.err" -- "$RUNC" \
			--root "$RUNC_ROOT" run --bundle "$WORK/bundles/write" "$id")
	fi
	[ "$(field bytes "$line")" = "$STREAM_BYTES" ] ||
		die "$who stream: $line $(head -c 300 "$WORK/$id.err")"
	echo "$line"
}

# echo_rtts FIGURE COMMAND...: ECHO_COUNT (default 4 a run) 64-byte round trips through
# COMMAND, each a sample in ms.
echo_rtts() {
	local figure=$1 line
	shift
	"$TOOLS/bench-echo" --count "${ECHO_COUNT:-$((RUNS * 4))}" --size 64 -- "$@" >"$WORK/echo.out" 2>&1 ||
		die "echo through $*: $(head -c 300 "$WORK/echo.out")"
	while read -r line; do
		case "$line" in rtt=*) sample "$figure" "$(awk -v s="${line#rtt=}" 'BEGIN { printf "%.3f", s * 1000 }')" ;; esac
	done <"$WORK/echo.out"
}

section_streams() {
	local r line
	ensure_bundle sleep sleep 100000
	[ -s "$WORK/qemu.argv" ] || capture_qemu_argv "$CONFIG" "$WORK/bundles/sleep"
	bundle write "$WORK/bundles/write" probe write "$STREAM_BYTES"
	bundle echo "$WORK/bundles/echo" probe echo
	log "streams: warm-up"
	stream_run kata "stream$$-warm" >/dev/null
	floor_boot "$TOOLS/channel-initrd.img" --channel >/dev/null || die "channel floor failed"
	for ((r = 1; r <= RUNS; r++)); do
		log "streams: round $r/$RUNS"
		sample stream_kata "$(mibs "$(stream_run kata "stream$$-$r")")"
		line=$(floor_boot "$TOOLS/channel-initrd.img" --channel) || die "channel floor failed"
		sample stream_channel "$(mibs "$line")"
		[ -n "$RUNC" ] && sample stream_runc "$(mibs "$(stream_run runc "streamrunc$$-$r")")"
	done
	log "streams: echo latency"
	track_kata "echo$$"
	echo_rtts echo_kata "$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" run \
		--bundle "$WORK/bundles/echo" "echo$$"
	track_runc "echorunc$$"
	[ -n "$RUNC" ] && echo_rtts echo_runc "$RUNC" --root "$RUNC_ROOT" run \
		--bundle "$WORK/bundles/echo" "echorunc$$"

	figure streams stream_kata MiB/s "stdout of a container: kata-runtime run, 256 MiB" \
		stream_channel "bare virtio-serial port, 256 MiB" ">=" 0.8
	figure streams stream_channel MiB/s "bare virtio-serial port (guest writer, host reader)"
	figure streams stream_runc MiB/s "stdout of a container: runc run, 256 MiB"
	figure streams stream_kata MiB/s "kata-runtime vs runc" stream_runc "runc run"
	figure streams echo_kata ms "64-byte stdin->stdout echo round trip, kata-runtime" \
		echo_runc "same through runc"
	figure streams echo_runc ms "64-byte stdin->stdout echo round trip, runc"
}
