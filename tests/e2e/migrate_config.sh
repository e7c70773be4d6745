#!/bin/bash
# `kata-runtime migrate-config` end to end: Clear Containers 3.0 files (tests/migration/)
# and runV flags migrated with this build tree's configuration as the base, the results
# loaded by kata-env and used to run real containers; the notes on stderr and in the
# output; --to/--force; cc-runtime's own lookup of the source; errors. Prints
# PASS/FAIL/SKIP per case and exits non-zero on any failure; nothing is left behind.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

unset KATA_CONF_FILE
SAMPLES=$SRCDIR/tests/migration

# migrate NAME ARGS...: kata-runtime migrate-config ARGS with the build's configuration as
# the base; stdout to $TMP/NAME.toml, stderr to $TMP/NAME.err.
migrate() {
	local name=$1
	shift
	"$RUNTIME" migrate-config --base "$CONFIG" "$@" >"$TMP/$name.toml" 2>"$TMP/$name.err"
}

env_of() { "$RUNTIME" --kata-config "$1" kata-env --json 2>&1; }

# run_with NAME CONFIG ARGS...: a container of ARGS run with CONFIG; sets OUT and RC.
run_with() {
	local name=$1 config=$2
	shift 2
	new_id "$name"
	make_bundle "$TMP/$name-bundle" "$@"
	OUT=$(timeout -k 5 180 "$RUNTIME" --kata-config "$config" --root "$ROOT" \
		run --bundle "$TMP/$name-bundle" "$ID" 2>&1 </dev/null)
	RC=$?
}

case_stock_file() {
	local env
	if ! migrate stock --from "$SAMPLES/cc-3.0-stock.toml"; then
		fail "stock: migrate-config" "$(cat "$TMP/stock.err")"
		return
	fi
	pass "stock: migrate-config"
	check_contains "stock: stderr names the image as dropped" \
		"hypervisor.qemu.image: dropped: guest disk images are not supported" \
		"$(cat "$TMP/stock.err")"
	check_contains "stock: stderr names cc-proxy's path as changed" "proxy.cc.path: changed" \
		"$(cat "$TMP/stock.err")"
	check_contains "stock: the output says why too" "# dropped: hypervisor.qemu.image = " \
		"$(cat "$TMP/stock.toml")"
	if grep -q '^\[proxy.cc\]\|^\[agent.cc\]\|^image' "$TMP/stock.toml"; then
		fail "stock: no Clear Containers tables or image" "$(grep -n 'cc\]\|^image' "$TMP/stock.toml")"
	else
		pass "stock: no Clear Containers tables or image"
	fi
	env=$(env_of "$TMP/stock.toml")
	check_eq "stock: loads; agent dialect kata" kata "$(jq -r .Agent.Dialect <<<"$env" 2>/dev/null)"
	check_eq "stock: this build's kata-proxy" "$BUILD/kata-proxy" \
		"$(jq -r .Proxy.Path <<<"$env" 2>/dev/null)"
	check_eq "stock: this build's initrd" "$BUILD/guest/kata-initrd.img" \
		"$(jq -r .Initrd.Path <<<"$env" 2>/dev/null)"
	check_eq "stock: machine type pc kept" pc \
		"$(jq -r .Hypervisor.MachineType <<<"$env" 2>/dev/null)"
	check_eq "stock: default_vcpus -1 is all host CPUs" "$(nproc)" \
		"$(jq -r .Hypervisor.DefaultVCPUs <<<"$env" 2>/dev/null)"

	run_with stock "$TMP/stock.toml" sh -c 'echo processors=$(grep -c ^processor /proc/cpuinfo);
		echo migrated; exit 5'
	check_contains "stock: a container runs with the result" "migrated" "$OUT"
	check_eq "stock: its exit code" 5 "$RC"
	check_contains "stock: the VM has the host's CPUs" "processors=$(nproc)" "$OUT"
	check_nothing_left "stock" "$ID"
}

case_full_file_and_flags() {
	local env
	if ! migrate full --from "$SAMPLES/cc-3.0-full.toml" --default_memory 300 --default_cpus 1 \
		--driver qemu; then
		fail "full+runv: migrate-config" "$(cat "$TMP/full.err")"
		return
	fi
	env=$(env_of "$TMP/full.toml")
	check_eq "full+runv: the flags win (memory)" 300 \
		"$(jq -r .Hypervisor.DefaultMemory <<<"$env" 2>/dev/null)"
	check_eq "full+runv: the flags win (vCPUs)" 1 \
		"$(jq -r .Hypervisor.DefaultVCPUs <<<"$env" 2>/dev/null)"
	check_eq "full+runv: the file's kernel parameters" "quiet systemd.show_status=false" \
		"$(jq -r .Kernel.Parameters <<<"$env" 2>/dev/null)"
	check_eq "full+runv: the file's proxy debug" true \
		"$(jq -r .Proxy.Debug <<<"$env" 2>/dev/null)"
	for key in firmware enable_swap image; do
		check_contains "full+runv: $key named as dropped" "hypervisor.qemu.$key: dropped" \
			"$(cat "$TMP/full.err")"
	done
	check_contains "full+runv: pc-lite becomes pc" "machine_type: changed" "$(cat "$TMP/full.err")"
	check_eq "full+runv: qemu-lite's machine options in qemu's words" \
		"smm=off,smbus=off,sata=off,pit=off" \
		"$(jq -r .Hypervisor.MachineAccelerators <<<"$env" 2>/dev/null)"
	run_with full "$TMP/full.toml" sh -c 'echo full ran'
	check_contains "full+runv: a container runs with the result" "full ran" "$OUT"
	check_nothing_left "full+runv" "$ID"
}

case_runv_flags() {
	local env kib
	if ! migrate runv --kernel "$BUILD/guest/vmlinux" --initrd "$BUILD/guest/kata-initrd.img" \
		--default_cpus 2 --default_memory 200 --root /run/runv --log_dir /var/log/hyper \
		--bios /usr/share/qemu/bios.bin; then
		fail "runv: migrate-config" "$(cat "$TMP/runv.err")"
		return
	fi
	for flag in root log_dir bios; do
		check_contains "runv: --$flag named as dropped" "runv --$flag: dropped" \
			"$(cat "$TMP/runv.err")"
	done
	env=$(env_of "$TMP/runv.toml")
	check_eq "runv: --default_memory" 200 "$(jq -r .Hypervisor.DefaultMemory <<<"$env" 2>/dev/null)"
	run_with runv "$TMP/runv.toml" sh -c 'grep MemTotal /proc/meminfo'
	check_eq "runv: a container runs with the result" 0 "$RC"
	kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' <<<"$OUT")
	if [ -n "$kib" ] && [ "$kib" -le $((200 * 1024)) ] && [ "$kib" -ge $((200 * 1024 * 80 / 100)) ]; then
		pass "runv: the VM has --default_memory"
	else
		fail "runv: the VM has --default_memory" "MemTotal ${kib:-?} kB: $(head -c 300 <<<"$OUT")"
	fi
	check_nothing_left "runv" "$ID"
}

case_to_and_force() {
	local out
	if "$RUNTIME" migrate-config --base "$CONFIG" --from "$SAMPLES/cc-3.0-early.toml" \
		--to "$TMP/early.toml" 2>"$TMP/early.err" && [ -s "$TMP/early.toml" ]; then
		pass "--to: writes the file"
	else
		fail "--to: writes the file" "$(cat "$TMP/early.err")"
	fi
	check_contains "--to: pause_root_path named as dropped" \
		"agent.hyperstart.pause_root_path: dropped" "$(cat "$TMP/early.err")"
	out=$("$RUNTIME" migrate-config --base "$CONFIG" --from "$SAMPLES/cc-3.0-early.toml" \
		--to "$TMP/early.toml" 2>&1)
	check_contains "--to: an existing file is kept" "--force replaces it" "$out"
	if "$RUNTIME" migrate-config --base "$CONFIG" --from "$SAMPLES/cc-3.0-stock.toml" \
		--to "$TMP/early.toml" --force 2>/dev/null &&
		grep -q "cc-3.0-stock.toml" "$TMP/early.toml"; then
		pass "--force: replaces it"
	else
		fail "--force: replaces it" "$(head -n 3 "$TMP/early.toml")"
	fi
	if compgen -G "$TMP/early.toml.migrate-*" >/dev/null; then
		fail "--to: no temporary file left" "$(ls "$TMP")"
	else
		pass "--to: no temporary file left"
	fi
}

# Called as cc-runtime, the source is the file cc-runtime would load.
case_cc_runtime_lookup() {
	local out
	ln -s "$RUNTIME" "$TMP/cc-runtime"
	out=$("$TMP/cc-runtime" --cc-config "$SAMPLES/cc-3.0-stock.toml" migrate-config \
		--base "$CONFIG" 2>/dev/null)
	check_contains "cc-runtime migrate-config: its --cc-config is the source" \
		"# From the Clear Containers 3.0 file $SAMPLES/cc-3.0-stock.toml" "$out"
}

case_errors() {
	local out
	printf '[hypervisor.qemu]\ndefault_memory = "lots"\n' >"$TMP/broken.toml"
	out=$("$RUNTIME" migrate-config --base "$CONFIG" --from "$TMP/broken.toml" 2>&1)
	check_eq "broken source: exit 1" 1 "$?"
	check_contains "broken source: file, line and key" \
		"broken.toml:2: key \`hypervisor.qemu.default_memory\`" "$out"
	out=$("$RUNTIME" migrate-config --base "$CONFIG" 2>&1)
	check_contains "nothing to migrate: said" "nothing to migrate" "$out"
	out=$("$RUNTIME" migrate-config --from "$SAMPLES/cc-3.0-stock.toml" \
		--base "$SAMPLES/cc-3.0-stock.toml" 2>&1)
	check_contains "a base that does not load: said" "the base" "$out"
	out=$("$RUNTIME" migrate-config --base "$CONFIG" --kernel "$TMP/nonexistent" 2>&1)
	check_contains "a missing --kernel: said" "$TMP/nonexistent" "$out"
}

case_stock_file
case_full_file_and_flags
case_runv_flags
case_to_and_force
case_cc_runtime_lookup
case_errors
rt_finish
