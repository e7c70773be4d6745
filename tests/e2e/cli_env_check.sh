#!/bin/bash
# End-to-end: `kata-runtime kata-env` (TOML and --json) and `kata-runtime kata-check` on this
# host, and the error a broken configuration gives. Prints PASS/FAIL/SKIP per case and exits
# non-zero on any failure.
#
# Uses build/kata-runtime and the guest assets build/guest/{vmlinux,kata-initrd.img} when
# they exist (a stand-in kernel and initrd otherwise: kata-env and most of kata-check do not
# boot them). Needs jq (JSON validation).
set -u

srcdir=${KATA_TEST_SRCDIR:-.}
srcdir=$(cd "$srcdir" && pwd)
build=${KATA_BUILD_DIR:-$srcdir/build}
runtime=$build/kata-runtime
failures=0

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1: $2"
	failures=$((failures + 1))
}
skip() { echo "SKIP: $1: $2"; }

if [ ! -x "$runtime" ]; then
	fail setup "$runtime is not built"
	exit 1
fi

tmp=$(mktemp -d /tmp/kata-e2e-env.XXXXXX)
cleanup() { rm -rf "$tmp"; }
trap cleanup EXIT
# The accelerator probe remembers its answer; keep this run's answer in the test directory.
export KATA_ACCEL_CACHE=$tmp/accelerator.json
unset KATA_CONF_FILE

# Guest assets: the real ones when built, stand-ins otherwise.
assets=$tmp/assets
mkdir -p "$assets"
real_assets=no
if [ -f "$build/guest/vmlinux" ] && [ -f "$build/guest/kata-initrd.img" ]; then
	ln -s "$build/guest/vmlinux" "$assets/vmlinux"
	ln -s "$build/guest/kata-initrd.img" "$assets/kata-initrd.img"
	real_assets=yes
else
	echo "stand-in kernel" >"$assets/vmlinux"
	echo "stand-in initrd" >"$assets/kata-initrd.img"
fi

# make_config NAME [SED-EXPRESSION...]: the shipped file for this tree, edited.
make_config() {
	local name=$1
	shift
	sed -e "s|@ASSETSDIR@|$assets|g" -e "s|@LIBEXECDIR@|$build|g" "$@" \
		"$srcdir/config/configuration.toml" >"$tmp/$name"
	echo "$tmp/$name"
}

config=$(make_config configuration.toml)

# --- kata-env as TOML ---------------------------------------------------------------------
if "$runtime" --kata-config "$config" kata-env >"$tmp/env.toml" 2>"$tmp/env.err"; then
	missing=""
	for section in Meta Runtime Hypervisor Kernel Initrd Proxy Shim Agent Host; do
		grep -qx "\[$section\]" "$tmp/env.toml" || missing="$missing $section"
	done
	if [ -n "$missing" ]; then
		fail kata-env-toml "sections missing:$missing"
	elif [ -x "$build/toml-json" ] && ! "$build/toml-json" <"$tmp/env.toml" >/dev/null 2>"$tmp/toml.err"; then
		fail kata-env-toml "not valid TOML: $(cat "$tmp/toml.err")"
	else
		pass kata-env-toml
	fi
else
	fail kata-env-toml "exit $?: $(cat "$tmp/env.err")"
fi

# --- kata-env --json: valid JSON whose facts are this host's --------------------------------
if "$runtime" --kata-config "$config" kata-env --json >"$tmp/env.json" 2>"$tmp/env.err" &&
	jq -e . "$tmp/env.json" >/dev/null 2>&1; then
	pass kata-env-json-valid
	# expected facts, found independently of the runtime
	expect_cgroups=unknown
	case $(stat -f -c %T /sys/fs/cgroup 2>/dev/null) in
	cgroup2fs) expect_cgroups=v2 ;;
	tmpfs)
		if [ "$(stat -f -c %T /sys/fs/cgroup/unified 2>/dev/null)" = cgroup2fs ]; then
			expect_cgroups=hybrid
		else
			expect_cgroups=v1
		fi
		;;
	esac
	expect_kvm=false
	[ -e /dev/kvm ] && expect_kvm=true
	expect_vsock=false
	[ -e /dev/vhost-vsock ] && expect_vsock=true
	check_fact() { # NAME JQ-PATH EXPECTED
		local got
		got=$(jq -r "$2" "$tmp/env.json")
		if [ "$got" = "$3" ]; then
			pass "kata-env-json-$1"
		else
			fail "kata-env-json-$1" "$2 is \"$got\", expected \"$3\""
		fi
	}
	check_fact config-path .Runtime.Config.Path "$config"
	check_fact host-kernel .Host.Kernel "$(uname -r)"
	check_fact host-cpus .Host.CPUs "$(getconf _NPROCESSORS_ONLN)"
	check_fact host-kvm .Host.KVM "$expect_kvm"
	check_fact host-vsock .Host.VhostVsock "$expect_vsock"
	check_fact host-cgroups .Host.Cgroups "$expect_cgroups"
	check_fact hypervisor-path .Hypervisor.Path /usr/bin/qemu-system-x86_64
	check_fact hypervisor-version '.Hypervisor.Version | test("^QEMU emulator version")' true
	check_fact memory .Hypervisor.DefaultMemory 256
	check_fact accelerator .Hypervisor.Accelerator auto
	check_fact initrd .Initrd.Path "$assets/kata-initrd.img"
	check_fact proxy-path .Proxy.Path "$build/kata-proxy"
	check_fact shim-path .Shim.Path "$build/kata-shim"
	check_fact dialect .Agent.Dialect kata
	check_fact semver .Runtime.Version.Semver "$("$runtime" --version | sed -n 's/.*: *//p' | head -n 1)"
	if [ "$real_assets" = yes ]; then
		check_fact kernel-version '.Kernel.Version | test("^[0-9]+\\.[0-9]+")' true
	fi
else
	fail kata-env-json-valid "$(cat "$tmp/env.err")"
fi

# --- $KATA_CONF_FILE is looked up when --kata-config is absent -----------------------------
if KATA_CONF_FILE=$config "$runtime" env --json >"$tmp/env2.json" 2>"$tmp/env.err" &&
	[ "$(jq -r .Runtime.Config.Path "$tmp/env2.json")" = "$config" ]; then
	pass kata-env-kata-conf-file
else
	fail kata-env-kata-conf-file "$(cat "$tmp/env.err")"
fi

# --- Clear Containers names: cc-runtime cc-env --cc-config, [proxy.cc] etc. -----------------
ln -s "$runtime" "$tmp/cc-runtime"
sed -e "s|@ASSETSDIR@|$assets|g" -e "s|@LIBEXECDIR@|$build|g" \
	"$srcdir/tests/config/cc-3.0.toml" >"$tmp/cc.toml"
if "$tmp/cc-runtime" --cc-config "$tmp/cc.toml" cc-env --json >"$tmp/cc.json" 2>"$tmp/env.err" &&
	[ "$(jq -r '.Proxy.Type + " " + .Agent.Dialect' "$tmp/cc.json")" = "cc cc" ]; then
	pass cc-env
else
	fail cc-env "$(cat "$tmp/env.err") $(jq -c '.Proxy' "$tmp/cc.json" 2>/dev/null)"
fi

# --- a broken configuration: the message names file, line and key ---------------------------
sed -e "s|@ASSETSDIR@|$assets|g" "$srcdir/tests/config/broken-vcpus-type.toml" >"$tmp/broken.toml"
expect="$tmp/broken.toml:5: key \`hypervisor.qemu.default_vcpus\`: expected an integer, got a string"
"$runtime" --kata-config "$tmp/broken.toml" kata-env >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] && grep -qF "$expect" "$tmp/err"; then
	pass broken-config-message
else
	fail broken-config-message "exit $rc, stderr: $(cat "$tmp/err")"
fi
printf '[hypervisor.qemu]\nkernel = "%s/vmlinux"\ndefault_memory = = 1\n' "$assets" >"$tmp/syntax.toml"
"$runtime" --kata-config "$tmp/syntax.toml" kata-check >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ "$rc" -ne 0 ] && grep -qE "$tmp/syntax.toml:3:[0-9]+: " "$tmp/err"; then
	pass syntax-error-message
else
	fail syntax-error-message "exit $rc, stderr: $(cat "$tmp/err")"
fi

# --- kata-check on this host ------------------------------------------------------------------
"$runtime" --kata-config "$config" kata-check >"$tmp/check.out" 2>"$tmp/check.err"
rc=$?
missing=""
for f in /usr/bin/qemu-system-x86_64 "$build/kata-proxy" "$build/kata-shim"; do
	[ -x "$f" ] || missing="$missing $f"
done
if [ -z "$missing" ] && [ "$rc" -eq 0 ] && grep -q "can run" "$tmp/check.out"; then
	pass kata-check-exit-status
elif [ -n "$missing" ] && [ "$rc" -ne 0 ] && grep -q '^\[FAIL\]' "$tmp/check.out"; then
	pass kata-check-exit-status # fails, as it must, naming what is missing:$missing
else
	fail kata-check-exit-status "exit $rc with missing:[$missing]: $(cat "$tmp/check.out" "$tmp/check.err")"
fi
probe=$(grep 'guest boot under KVM' "$tmp/check.out")
accel=$(grep -E '^\[ok  \] accelerator +auto -> ' "$tmp/check.out")
if [ -z "$probe" ] || [ -z "$accel" ]; then
	fail kata-check-accelerator "no probe or accelerator line: $(cat "$tmp/check.out")"
elif grep -q 'guest boot under KVM   no' <<<"$probe" && ! grep -q 'auto -> TCG' <<<"$accel"; then
	fail kata-check-accelerator "the guest does not boot under KVM but auto is: $accel"
elif grep -q 'guest boot under KVM   yes' <<<"$probe" && ! grep -q 'auto -> KVM' <<<"$accel"; then
	fail kata-check-accelerator "the guest boots under KVM but auto is: $accel"
else
	pass "kata-check-accelerator (${accel##*-> })"
fi
# On these machines KVM cannot boot a standard guest (DESIGN.md): kata-check must say TCG.
if [ -e /dev/kvm ] && [ ! -e /dev/vhost-vsock ] && [ "$real_assets" = yes ]; then
	if grep -q 'auto -> TCG' <<<"$accel"; then
		pass kata-check-names-tcg-here
	else
		fail kata-check-names-tcg-here "$accel"
	fi
fi
# The answer is remembered: a second run reads it from the cache.
if [ "$real_assets" = yes ] && [ -e /dev/kvm ]; then
	"$runtime" --kata-config "$config" kata-check >"$tmp/check2.out" 2>&1
	if grep -q 'guest boot under KVM.*cached' "$tmp/check2.out"; then
		pass kata-check-probe-cached
	else
		fail kata-check-probe-cached "$(grep 'guest boot' "$tmp/check2.out")"
	fi
fi

# accelerator = "kvm" on a host where the guest does not boot under KVM: no VM can run.
if grep -q 'guest boot under KVM   no' <<<"$probe"; then
	kvm_config=$(make_config kvm.toml -e 's|^accelerator = .*|accelerator = "kvm"|')
	"$runtime" --kata-config "$kvm_config" kata-check >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" -ne 0 ] && grep -q 'accelerator = "kvm" but' "$tmp/out"; then
		pass kata-check-kvm-refused
	else
		fail kata-check-kvm-refused "exit $rc: $(cat "$tmp/out")"
	fi
fi

# accelerator = "tcg": nothing is probed.
tcg_config=$(make_config tcg.toml -e 's|^accelerator = .*|accelerator = "tcg"|')
"$runtime" --kata-config "$tcg_config" kata-check >"$tmp/out" 2>&1
if grep -q 'not probed: accelerator = "tcg"' "$tmp/out" && grep -q 'TCG (software emulation) (configured)' "$tmp/out"; then
	pass kata-check-tcg-configured
else
	fail kata-check-tcg-configured "$(cat "$tmp/out")"
fi

# virtio-fs needs its daemon.
vfs_config=$(make_config vfs.toml -e 's|^shared_fs = .*|shared_fs = "virtio-fs"|' \
	-e 's|^machine_type = .*|machine_type = "q35"|' \
	-e 's|^virtio_fs_daemon = .*|virtio_fs_daemon = "/nonexistent/virtiofsd"|' \
	-e 's|^accelerator = .*|accelerator = "tcg"|')
"$runtime" --kata-config "$vfs_config" kata-check >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q '^\[FAIL\] virtiofsd .*/nonexistent/virtiofsd' "$tmp/out"; then
	pass kata-check-virtiofsd-missing
else
	fail kata-check-virtiofsd-missing "exit $rc: $(cat "$tmp/out")"
fi

# libvirt: reachable (its built-in test driver needs no daemon) and unreachable.
lv_config=$(make_config libvirt.toml -e 's|^\[hypervisor.qemu\]|[hypervisor.libvirt]\nuri = "test:///default"|' \
	-e 's|^accelerator = .*|accelerator = "tcg"|')
"$runtime" --kata-config "$lv_config" kata-check >"$tmp/out" 2>&1
if grep -q '^\[ok  \] libvirt .*test:///default reachable' "$tmp/out"; then
	pass kata-check-libvirt-reachable
else
	fail kata-check-libvirt-reachable "$(cat "$tmp/out")"
fi
sed -i 's|^uri = .*|uri = "qemu+unix:///system?socket=/nonexistent/libvirt-sock"|' "$lv_config"
"$runtime" --kata-config "$lv_config" kata-check >"$tmp/out" 2>&1
rc=$?
if [ "$rc" -ne 0 ] && grep -q '^\[FAIL\] libvirt .*cannot connect' "$tmp/out"; then
	pass kata-check-libvirt-unreachable
else
	fail kata-check-libvirt-unreachable "exit $rc: $(cat "$tmp/out")"
fi

[ "$failures" -eq 0 ]
