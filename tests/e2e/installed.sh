#!/bin/bash
# What `make install` installs, used as a user uses it (docs/install.md):
#  - `make install DESTDIR=D PREFIX=/usr` from a clean build directory (as `make && make
#    install` on a fresh clone; the guest kernel comes from its cache): every file the
#    installed configuration.toml names is under D, the guest kernel and initrd included,
#    and the check that ends the install fails naming a file that is not there;
#  - `make install PREFIX=P` into a temporary prefix, then a container run with the installed
#    configuration, untouched, by each name and backend: kata-runtime --kata-config on
#    [hypervisor.qemu] as shipped and on the same file with its table renamed
#    [hypervisor.libvirt] (the one edit that picks the backend), cc-runtime --cc-config,
#    runv --driver qemu and runv --driver libvirt (KATA_CONF_FILE).
# libvirt: a test libvirtd, or the host's own when one runs (tests/e2e/lib/libvirtd.sh); the
# installed file names no `uri`, so the runtime connects where LIBVIRT_DEFAULT_URI says (the
# host's daemon: qemu:///system). Nothing is left behind: the prefixes are removed.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init
# shellcheck source=lib/libvirtd.sh
. "$SRCDIR/tests/e2e/lib/libvirtd.sh"
unset KATA_CONF_FILE

# make in the source tree with this build directory (relative: the Makefile joins it with
# its own directory for the build tree's configuration).
BUILD_REL=$(realpath --relative-to="$SRCDIR" "$BUILD")
mk() { make -s -C "$SRCDIR" BUILD="$BUILD_REL" "$@"; }
# A clean build directory of its own, inside this one.
FRESH=$BUILD_REL/e2e-install-$$
trap 'rt_cleanup; libvirtd_stop; rm -rf "${SRCDIR:?}/$FRESH"' EXIT

# The absolute paths an installed configuration names: "key path" per line.
named_paths() {
	sed -n 's/^[[:space:]]*\([a-z_0-9]*\)[[:space:]]*=[[:space:]]*"\(\/[^"]*\)".*/\1 \2/p' "$1"
}

case_install_destdir() {
	local dest=$TMP/dest conf key path n=0 missing=""
	if ! make -s -j2 -C "$SRCDIR" BUILD="$FRESH" install DESTDIR="$dest" PREFIX=/usr \
		>"$TMP/install.log" 2>&1; then
		fail "make install DESTDIR PREFIX=/usr, clean build" "$(tail -n 5 "$TMP/install.log")"
		rm -rf "${SRCDIR:?}/$FRESH"
		return
	fi
	pass "make install DESTDIR PREFIX=/usr, clean build"
	conf=$dest/usr/share/defaults/kata-containers/configuration.toml
	if [ ! -f "$conf" ]; then
		fail "make install: the configuration" "$conf missing"
		return
	fi
	while read -r key path; do
		case "$path" in
		/usr/libexec/kata-containers/* | /usr/share/kata-containers/*)
			n=$((n + 1))
			[ -s "$dest$path" ] || missing="$missing $key=$path"
			;;
		esac
	done < <(named_paths "$conf")
	if [ -z "$missing" ] && [ $n -ge 4 ]; then
		pass "make install: the $n files of the runtime its configuration names are installed"
	else
		fail "make install: every file its configuration names" \
			"checked $n; missing:${missing:- none}"
	fi
	for key in kernel initrd; do
		path=$(named_paths "$conf" | awk -v k=$key '$1 == k { print $2 }')
		check_eq "make install: $key installed as built" \
			"$(md5sum <"$SRCDIR/$FRESH/guest/$(basename "$path")")" "$(md5sum <"$dest$path" 2>&1)"
	done
	for path in /usr/bin/kata-runtime /usr/bin/cc-runtime /usr/bin/runv; do
		if [ -x "$dest$path" ]; then pass "make install: $path"; else
			fail "make install: $path" "not there"
		fi
	done

	# The check that ends `make install` names what is missing.
	rm -f "$dest/usr/share/kata-containers/vmlinux"
	if out=$("$SRCDIR/config/check-installed.sh" "$dest" "$conf" \
		/usr/libexec/kata-containers /usr/share/kata-containers 2>&1); then
		fail "make install: a missing kernel fails the install" "the check passed: $out"
	else
		check_contains "make install: a missing kernel fails the install, named" \
			"$dest/usr/share/kata-containers/vmlinux is missing" "$out"
	fi
	rm -rf "$dest" "${SRCDIR:?}/$FRESH"
}

# run_installed NAME WANT_STATUS COMMAND...: a container whose process prints a greeting and
# exits WANT_STATUS, run by COMMAND (which ends with `run --bundle`); nothing left after.
run_installed() {
	local name=$1 want=$2 out status
	shift 2
	new_id "$name"
	make_bundle "$TMP/$name" sh -c "echo hello from $name; exit $want"
	out=$(timeout -k 5 240 "$@" "$TMP/$name" "$ID" 2>&1 </dev/null)
	status=$?
	check_eq "$name: exit status" "$want" "$status"
	check_contains "$name: the container's output" "hello from $name" "$out"
	check_nothing_left "$name" "$ID"
}

case_installed_runs() {
	local prefix=$TMP/prefix conf bin
	if ! mk install PREFIX="$prefix" >"$TMP/install-prefix.log" 2>&1; then
		fail "make install PREFIX" "$(tail -n 5 "$TMP/install-prefix.log")"
		return
	fi
	pass "make install PREFIX=$prefix"
	conf=$prefix/share/defaults/kata-containers/configuration.toml
	bin=$prefix/bin
	sed 's/^\[hypervisor\.qemu\]$/[hypervisor.libvirt]/' "$conf" >"$TMP/installed-libvirt.toml"

	run_installed kata-qemu 3 "$bin/kata-runtime" --kata-config "$conf" --root "$ROOT" \
		run --bundle
	run_installed cc-runtime 4 "$bin/cc-runtime" --cc-config "$conf" --root "$ROOT" \
		run --bundle
	run_installed runv-qemu 5 env KATA_CONF_FILE="$conf" "$bin/runv" --driver qemu \
		--root "$ROOT" run --bundle

	if ! libvirtd_start; then
		fail "libvirt: a libvirtd for the installed runtime" "see the log above"
		return
	fi
	pass "libvirt: a libvirtd answers on $LIBVIRTD_URI$([ -n "$LIBVIRTD_HOST" ] && echo " (the host's)")"
	check_eq "libvirt: the installed [hypervisor.libvirt] takes q35" q35 \
		"$("$bin/kata-runtime" --kata-config "$TMP/installed-libvirt.toml" kata-env --json |
			jq -r .Hypervisor.MachineType)"
	run_installed kata-libvirt 6 "$bin/kata-runtime" --kata-config "$TMP/installed-libvirt.toml" \
		--root "$ROOT" run --bundle
	run_installed runv-libvirt 7 env KATA_CONF_FILE="$conf" "$bin/runv" --driver libvirt \
		--root "$ROOT" run --bundle
	libvirtd_stop
	rm -rf "$prefix"
}

case_install_destdir
case_installed_runs
rt_finish
