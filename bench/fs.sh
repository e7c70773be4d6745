# Section 5, shared filesystem: sequential write and read and small-file creation by a
# container on its own rootfs (bench's fsbench copied into a private copy of the test
# rootfs), over 9p and over virtio-fs, beside runc on the same directory.
# Sourced by bench/run.sh.
# shellcheck shell=bash

FS_MIB=64
FS_FILES=500

fs_run() {
	local who=$1 config=$2 id=$3 line
	if [ "$who" = runc ]; then
		track_runc "$id"
		line=$("$TOOLS/bench-run" --stdout "$WORK/$id.out" --stderr "$WORK/$id.err" -- \
			"$RUNC" --root "$RUNC_ROOT" run --bundle "$WORK/bundles/fs" "$id")
	else
		track_kata "$id"
		line=$("$TOOLS/bench-run" --stdout "$WORK/$id.out" --stderr "$WORK/$id.err" -- \
			"$RUNTIME" --kata-config "$config" --root "$ROOT" run --bundle "$WORK/bundles/fs" "$id")
	fi
	grep -q '^write_mibs=' "$WORK/$id.out" || die "fsbench in $who: $line $(head -c 300 "$WORK/$id.err")"
	cat "$WORK/$id.out"
}

fs_sample() {
	local prefix=$1 line=$2
	sample "${prefix}_write" "$(field write_mibs "$line")"
	sample "${prefix}_read" "$(field read_mibs "$line")"
	sample "${prefix}_create" "$(field create_per_s "$line")"
}

section_fs() {
	local r virtiofs kind
	# virtio-fs needs q35 or pc (docs/configuration.md); 9p runs on the default machine.
	virtiofs=$(config_with virtiofs shared_fs='"virtio-fs"' machine_type='"q35"')
	bundle fs --copy "$WORK/bundles/fs" /bin/fsbench /tmp-bench "$FS_MIB" "$FS_FILES"
	cp "$TOOLS/fsbench" "$WORK/bundles/fs/rootfs/bin/fsbench"
	mkdir -p "$WORK/bundles/fs/rootfs/tmp-bench"
	log "fs: warm-up"
	fs_run 9p "$CONFIG" "fs$$-warm" >/dev/null
	for ((r = 1; r <= RUNS; r++)); do
		log "fs: round $r/$RUNS"
		fs_sample fs_9p "$(fs_run 9p "$CONFIG" "fs9p$$-$r")"
		fs_sample fs_virtiofs "$(fs_run virtiofs "$virtiofs" "fsvfs$$-$r")"
		[ -n "$RUNC" ] && fs_sample fs_runc "$(fs_run runc "" "fsrunc$$-$r")"
	done
	for kind in 9p virtiofs; do
		figure fs "fs_${kind}_write" MiB/s "$kind: sequential write ${FS_MIB} MiB + fsync" \
			fs_runc_write "runc"
		figure fs "fs_${kind}_read" MiB/s "$kind: sequential read ${FS_MIB} MiB" \
			fs_runc_read "runc"
		figure fs "fs_${kind}_create" files/s "$kind: create ${FS_FILES} files of 4 KiB" \
			fs_runc_create "runc"
	done
	figure fs fs_runc_write MiB/s "runc: sequential write"
	figure fs fs_runc_read MiB/s "runc: sequential read"
	figure fs fs_runc_create files/s "runc: create 4 KiB files"
}
