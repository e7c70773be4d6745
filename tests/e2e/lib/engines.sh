# Shared by the engine end-to-end tests (podman.sh, containerd.sh): results, waiting,
# and the check that a container left nothing behind.
# shellcheck shell=bash

. "$(dirname "${BASH_SOURCE[0]}")/results.sh"

VM_BASE=/run/kata-containers/.vm

# Sandbox directories that belong to container ID (each holds an `id` file).
sandbox_dirs_of() {
	local id=$1 d
	for d in "$VM_BASE"/*/; do
		[ -f "$d/id" ] && [ "$(cat "$d/id" 2>/dev/null)" = "$id" ] && echo "${d%/}"
	done
}

# Live (not zombie) processes of container ID: its qemu (-name sandbox-ID, or
# guest=sandbox-ID,... when libvirt started it), its shims
# (kata-shim -c ID), and any qemu, proxy or virtiofsd using a sandbox directory that is ID's
# or that no longer exists (leaked by whoever removed it).
live_sandbox_processes() {
	local id=$1
	ps -eo pid=,stat=,comm=,args= | awk -v id="$id" -v base="$VM_BASE/" '
		$2 ~ /^Z/ { next }
		$3 !~ /^(qemu-system-x86|kata-shim|kata-proxy|virtiofsd)$/ { next }
		index($0, "-name sandbox-" id " ") || index($0, "-name guest=sandbox-" id ",") ||
		index($0, "kata-shim -c " id " ") { print; next }
		{
			i = index($0, base)
			if (i == 0) next
			dir = substr($0, i, length(base) + 16)
			idfile = dir "/id"
			owner = ""
			if ((getline owner < idfile) <= 0) owner = "(gone)"
			close(idfile)
			if (owner == id || owner == "(gone)") print
		}'
}

# Nothing of container ID may remain: no process, no sandbox directory, no mount.
check_nothing_left() {
	local name=$1 id=$2 left="" dirs i
	for ((i = 0; i < 100; i++)); do
		left=$(live_sandbox_processes "$id")
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -n "$left" ]; then
		fail "$name: nothing left" "processes remain: $left"
		return
	fi
	dirs=$(sandbox_dirs_of "$id")
	if [ -n "$dirs" ]; then
		fail "$name: nothing left" "sandbox directories remain: $dirs ($(grep -c "$dirs" /proc/mounts) mounts)"
		return
	fi
	pass "$name: nothing left"
}

require_built() {
	local f
	for f in "$RUNTIME" "$CONFIG" "$BUILD/kata-proxy" "$BUILD/kata-shim" \
		"$BUILD/guest/vmlinux" "$BUILD/guest/kata-initrd.img" "$ROOTFS/bin/probe"; do
		if [ ! -e "$f" ]; then
			fail "prerequisites" "$f is missing: run make, make guest and make rootfs"
			exit 1
		fi
	done
}
