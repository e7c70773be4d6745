#!/bin/bash
# kata-runtime called by other names (docs/migration.md): as cc-runtime, Clear Containers
# 3.0's commands, option, paths and version text, and a container run from a Clear
# Containers file; as runv, runV's global flags overriding the configuration, with a real
# container whose VM has the flags' kernel, initrd, vCPUs and memory. Symlinks in a
# temporary directory point at build/kata-runtime. Prints PASS/FAIL/SKIP per case and
# exits non-zero on any failure; nothing is left behind.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

unset KATA_CONF_FILE
BIN=$TMP/bin
mkdir -p "$BIN"
ln -s "$RUNTIME" "$BIN/cc-runtime"
ln -s "$RUNTIME" "$BIN/runv"
REPORT='grep MemTotal /proc/meminfo; echo processors=$(grep -c ^processor /proc/cpuinfo); echo done'

# A Clear Containers 3.0 file for this build tree.
sed -e "s|@ASSETSDIR@|$BUILD/guest|g" -e "s|@LIBEXECDIR@|$BUILD|g" \
	"$SRCDIR/tests/config/cc-3.0.toml" >"$TMP/cc.toml"

# --- cc-runtime ----------------------------------------------------------------------------
case_cc_names() {
	local out first
	out=$("$BIN/cc-runtime" --version 2>&1)
	first=$(head -n 1 <<<"$out")
	check_contains "cc-runtime --version: its name first" "cc-runtime  : " "$first"
	check_contains "cc-runtime --version: OCI specs line" "   OCI specs: " "$out"

	out=$("$BIN/cc-runtime" --cc-show-default-config-paths 2>&1)
	check_eq "cc-runtime --cc-show-default-config-paths: /etc first" \
		/etc/clear-containers/configuration.toml "$(sed -n 1p <<<"$out")"
	check_eq "cc-runtime --cc-show-default-config-paths: then /usr/share/defaults" \
		/usr/share/defaults/clear-containers/configuration.toml "$(sed -n 2p <<<"$out")"

	out=$("$BIN/cc-runtime" --help 2>&1)
	check_contains "cc-runtime --help: cc-env" "  cc-env " "$out"
	check_contains "cc-runtime --help: cc-check" "  cc-check " "$out"
	check_contains "cc-runtime --help: --cc-config" "--cc-config PATH" "$out"
	check_contains "cc-runtime --help: its root" "(default /run/clear-containers)" "$out"

	# Without --cc-config, the first of those paths that exists is taken (Clear Containers'
	# first, then kata's, where `make install` puts one); with none, the error names them.
	local path first=""
	while read -r path; do
		[ -e "$path" ] && first=$path && break
	done < <("$BIN/cc-runtime" --cc-show-default-config-paths 2>/dev/null)
	out=$(cd "$TMP" && "$BIN/cc-runtime" cc-env 2>&1)
	if [ -n "$first" ]; then
		check_contains "cc-runtime: takes the first of its paths that exists ($first)" \
			"Path = \"$first\"" "$out"
	else
		check_contains "cc-runtime: looks up its own paths" \
			"/etc/clear-containers/configuration.toml" "$out"
	fi
}

case_cc_env_check() {
	local out
	if out=$("$BIN/cc-runtime" --cc-config "$TMP/cc.toml" cc-env --json 2>&1); then
		check_eq "cc-env: the --cc-config file" "$TMP/cc.toml" \
			"$(jq -r .Runtime.Config.Path <<<"$out")"
		check_eq "cc-env: [proxy.cc], [shim.cc], [agent.cc]" "cc cc cc" \
			"$(jq -r '.Proxy.Type + " " + .Shim.Type + " " + .Agent.Type' <<<"$out")"
		check_eq "cc-env: [agent.cc] speaks Clear Containers' dialect" cc \
			"$(jq -r .Agent.Dialect <<<"$out")"
	else
		fail "cc-env" "$out"
	fi
	out=$("$BIN/cc-runtime" --cc-config "$TMP/cc.toml" cc-env 2>&1)
	check_contains "cc-env: TOML output" "[Hypervisor]" "$out"

	if out=$("$BIN/cc-runtime" --cc-config "$TMP/cc.toml" cc-check 2>&1); then
		check_contains "cc-check: passes, in cc-runtime's words" \
			"This host can run cc-runtime VMs." "$out"
	else
		fail "cc-check" "$(tail -n 5 <<<"$out")"
	fi
	# kata-runtime's own names stay unknown to nobody: cc-runtime takes kata-env too
	out=$("$BIN/cc-runtime" --cc-config "$TMP/cc.toml" kata-env --json 2>&1)
	check_eq "cc-runtime: kata-env works too" "$TMP/cc.toml" \
		"$(jq -r .Runtime.Config.Path <<<"$out" 2>/dev/null)"
	out=$("$RUNTIME" --kata-config "$TMP/cc.toml" cc-env 2>&1)
	check_contains "kata-runtime: no cc-env" "unknown command \`cc-env\`" "$out"
}

# A container from a Clear Containers file through cc-runtime. This build's guest runs
# this project's agent, so the file says dialect = "kata" in its [agent.cc] table.
case_cc_run() {
	local out rc
	new_id cc
	sed -e 's/^\[agent.cc\]$/[agent.cc]\ndialect = "kata"/' "$TMP/cc.toml" >"$TMP/cc-kata.toml"
	make_bundle "$TMP/cc-bundle" sh -c 'echo hello from cc-runtime; exit 3'
	out=$(timeout -k 5 120 "$BIN/cc-runtime" --cc-config "$TMP/cc-kata.toml" --root "$ROOT" \
		run --bundle "$TMP/cc-bundle" "$ID" 2>&1 </dev/null)
	rc=$?
	check_contains "cc-runtime run: the container's output" "hello from cc-runtime" "$out"
	check_eq "cc-runtime run: its exit code" 3 "$rc"
	check_nothing_left "cc-runtime run" "$ID"
}

# --- runv ----------------------------------------------------------------------------------
case_runv_names() {
	local out
	out=$("$BIN/runv" --version 2>&1)
	if [[ "$out" =~ ^runv\ version\ [^,]+,\ commit:\ [0-9a-z]+$ ]]; then
		pass "runv --version: runV's line"
	else
		fail "runv --version: runV's line" "$out"
	fi
	out=$("$BIN/runv" --help 2>&1)
	check_contains "runv --help: its root" "(default /run/runv)" "$out"
	for flag in --driver --kernel --initrd --default_cpus --default_memory --log_dir; do
		check_contains "runv --help: $flag" "  $flag " "$out"
	done
	out=$("$RUNTIME" --kata-config "$CONFIG" --default_cpus 2 kata-env 2>&1)
	check_contains "kata-runtime: no runV flags" "unknown global option" "$out"
}

# The flags win over the file: kata-env shows them, wrong ones are refused.
case_runv_overrides() {
	local out
	out=$(KATA_CONF_FILE=$CONFIG "$BIN/runv" --driver libvirt --default_cpus 2 \
		--default_memory 320 kata-env --json 2>&1)
	check_eq "runv --driver libvirt: the libvirt backend" libvirt \
		"$(jq -r .Hypervisor.Backend <<<"$out" 2>/dev/null)"
	check_eq "runv --default_cpus: overrides the file" 2 \
		"$(jq -r .Hypervisor.DefaultVCPUs <<<"$out" 2>/dev/null)"
	check_eq "runv --default_memory: overrides the file" 320 \
		"$(jq -r .Hypervisor.DefaultMemory <<<"$out" 2>/dev/null)"
	out=$(KATA_CONF_FILE=$CONFIG "$BIN/runv" --driver kvm kata-env --json 2>&1)
	check_eq "runv --driver kvm: accelerator kvm" kvm \
		"$(jq -r .Hypervisor.Accelerator <<<"$out" 2>/dev/null)"

	out=$(KATA_CONF_FILE=$CONFIG "$BIN/runv" --driver xen kata-env 2>&1)
	check_eq "runv --driver xen: refused" 1 "$?"
	check_contains "runv --driver xen: says why" "no xen driver" "$out"
	out=$(KATA_CONF_FILE=$CONFIG "$BIN/runv" --default_memory 16 kata-env 2>&1)
	check_contains "runv --default_memory 16: refused" "at least" "$out"
	out=$(KATA_CONF_FILE=$CONFIG "$BIN/runv" --kernel "$TMP/none" kata-env 2>&1)
	check_contains "runv --kernel missing: refused" "$TMP/none" "$out"

	mkdir -p "$TMP/logs"
	KATA_CONF_FILE=$CONFIG "$BIN/runv" --log_dir "$TMP/logs/hyper" --root "$ROOT" \
		state no-such-container >/dev/null 2>&1
	if grep -q "no-such-container" "$TMP/logs/hyper/runv.log" 2>/dev/null; then
		pass "runv --log_dir: errors in DIR/runv.log"
	else
		fail "runv --log_dir: errors in DIR/runv.log" "$(ls -l "$TMP/logs/hyper" 2>&1)"
	fi
}

# The file names a kernel and an initrd that cannot boot; the flags name the real ones. The
# guest reports the vCPUs and memory the flags asked for.
case_runv_run() {
	local out rc kib want=256
	new_id runv
	mkdir -p "$TMP/decoy"
	echo "not a kernel" >"$TMP/decoy/vmlinux"
	echo "not an initrd" >"$TMP/decoy/kata-initrd.img"
	sed -e "s|^kernel = .*|kernel = \"$TMP/decoy/vmlinux\"|" \
		-e "s|^initrd = .*|initrd = \"$TMP/decoy/kata-initrd.img\"|" \
		-e "s|^default_memory = .*|default_memory = 512|" \
		-e "s|^default_vcpus = .*|default_vcpus = 1|" "$CONFIG" >"$TMP/decoy.toml"
	make_bundle "$TMP/runv-bundle" sh -c "$REPORT"
	out=$(KATA_CONF_FILE=$TMP/decoy.toml timeout -k 5 180 "$BIN/runv" \
		--kernel "$BUILD/guest/vmlinux" --initrd "$BUILD/guest/kata-initrd.img" \
		--default_cpus 2 --default_memory $want --root "$ROOT" \
		run --bundle "$TMP/runv-bundle" "$ID" 2>&1 </dev/null)
	rc=$?
	check_eq "runv run: exit code" 0 "$rc"
	check_contains "runv run: the container ran" "done" "$out"
	if [ "$(nproc)" -ge 2 ]; then
		check_contains "runv run: --default_cpus 2" "processors=2" "$out"
	else
		check_contains "runv run: --default_cpus 2 (capped to the host)" "processors=1" "$out"
	fi
	kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' <<<"$out")
	if [ -n "$kib" ] && [ "$kib" -le $((want * 1024)) ] &&
		[ "$kib" -ge $((want * 1024 * 80 / 100)) ]; then
		pass "runv run: --default_memory $want"
	else
		fail "runv run: --default_memory $want" "MemTotal ${kib:-?} kB: $(head -c 300 <<<"$out")"
	fi
	check_nothing_left "runv run" "$ID"

	# runV's lifecycle verbs, with its --root
	new_id runv-d
	make_bundle "$TMP/runv-d" sleep 1000
	if KATA_CONF_FILE=$TMP/decoy.toml timeout -k 5 180 "$BIN/runv" \
		--kernel "$BUILD/guest/vmlinux" --initrd "$BUILD/guest/kata-initrd.img" \
		--root "$ROOT" create --bundle "$TMP/runv-d" "$ID" >"$TMP/runv-d.out" \
		2>"$TMP/runv-d.err" </dev/null; then
		pass "runv create"
		check_contains "runv list" "$ID" "$(KATA_CONF_FILE=$TMP/decoy.toml "$BIN/runv" \
			--root "$ROOT" list 2>&1)"
		KATA_CONF_FILE=$TMP/decoy.toml "$BIN/runv" --root "$ROOT" start "$ID" >/dev/null 2>&1
		check_eq "runv start, state" running "$(KATA_CONF_FILE=$TMP/decoy.toml "$BIN/runv" \
			--root "$ROOT" state "$ID" 2>/dev/null | jq -r .status)"
		out=$(KATA_CONF_FILE=$TMP/decoy.toml timeout -k 5 60 "$BIN/runv" --root "$ROOT" \
			exec "$ID" echo from-exec 2>&1 </dev/null)
		check_contains "runv exec" "from-exec" "$out"
		check_contains "runv ps" "sleep 1000" "$(KATA_CONF_FILE=$TMP/decoy.toml "$BIN/runv" \
			--root "$ROOT" ps "$ID" 2>&1)"
		KATA_CONF_FILE=$TMP/decoy.toml "$BIN/runv" --root "$ROOT" pause "$ID" >/dev/null 2>&1
		check_eq "runv pause" paused "$(state_field "$ID" status)"
		KATA_CONF_FILE=$TMP/decoy.toml "$BIN/runv" --root "$ROOT" resume "$ID" >/dev/null 2>&1
		check_eq "runv resume" running "$(state_field "$ID" status)"
		KATA_CONF_FILE=$TMP/decoy.toml "$BIN/runv" --root "$ROOT" kill "$ID" KILL >/dev/null 2>&1
		wait_status "$ID" stopped 20 || true
		out=$(KATA_CONF_FILE=$TMP/decoy.toml "$BIN/runv" --root "$ROOT" delete "$ID" 2>&1)
		check_eq "runv kill, delete" "" "$out"
		check_nothing_left "runv create/start/kill/delete" "$ID"
	else
		fail "runv create" "$(head -c 600 "$TMP/runv-d.err")"
	fi
}

# runv --driver libvirt: a container in a transient domain of a private libvirtd
# (tests/e2e/lib/libvirtd.sh). The configuration names that daemon in [hypervisor.libvirt];
# the flag picks the backend, the other flags size the VM as with qemu.
case_runv_libvirt() {
	local out rc
	# shellcheck source=lib/libvirtd.sh
	. "$SRCDIR/tests/e2e/lib/libvirtd.sh"
	libvirtd_start
	rc=$?
	if [ $rc -ne 0 ]; then
		fail "runv --driver libvirt run" "the test libvirtd did not start"
		return
	fi
	trap 'rt_cleanup; libvirtd_stop' EXIT
	libvirt_write_config "$CONFIG" "$TMP/libvirt.toml"
	new_id runv-lv
	make_bundle "$TMP/runv-lv" sh -c 'echo processors=$(grep -c ^processor /proc/cpuinfo); exit 4'
	out=$(KATA_CONF_FILE=$TMP/libvirt.toml timeout -k 5 180 "$BIN/runv" --driver libvirt \
		--default_cpus 2 --root "$ROOT" run --bundle "$TMP/runv-lv" "$ID" 2>&1 </dev/null)
	rc=$?
	check_eq "runv --driver libvirt run: exit code" 4 "$rc"
	check_contains "runv --driver libvirt run: --default_cpus" "processors=$([ "$(nproc)" -ge 2 ] &&
		echo 2 || echo 1)" "$out"
	check_nothing_left "runv --driver libvirt run" "$ID"
	libvirtd_stop
}

case_cc_names
case_cc_env_check
case_cc_run
case_runv_names
case_runv_overrides
case_runv_run
case_runv_libvirt
rt_finish
