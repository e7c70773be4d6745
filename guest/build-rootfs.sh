#!/bin/bash
# Build the test root filesystem: Debian's static busybox with a link for each applet,
# root and nobody (65534) in /etc/passwd and /etc/group, the usual directories, and the
# project's probe program as /bin/probe. Usable as an OCI bundle's rootfs, by
# `podman run --rootfs DIR` and by `ctr run --rootfs DIR`. Idempotent: a second run only
# refreshes what changed.
#
# usage: guest/build-rootfs.sh ROOTFS_DIR PROBE_BINARY
# env:   BUSYBOX (default /bin/busybox, from busybox-static)
set -euo pipefail

busybox=${BUSYBOX:-/bin/busybox}

die() {
	echo "build-rootfs: $*" >&2
	exit 1
}

[ $# -eq 2 ] || die "usage: build-rootfs.sh ROOTFS_DIR PROBE_BINARY"
root=$1
probe=$2
[ -x "$busybox" ] || die "$busybox not found (apt-get install busybox-static)"
[ -x "$probe" ] || die "$probe not found (make build/guest/probe)"
for bin in "$busybox" "$probe"; do
	if readelf -l "$bin" 2>/dev/null | grep -q 'Requesting program interpreter'; then
		die "$bin is dynamically linked; the rootfs has no libraries"
	fi
done

install -d -m 0755 "$root"
for dir in bin sbin usr/bin usr/sbin etc dev proc sys run mnt home var var/log; do
	install -d -m 0755 "$root/$dir"
done
install -d -m 0700 "$root/root"
install -d -m 1777 "$root/tmp" "$root/var/tmp"

# Copy only when changed, so that a running container's binary is never rewritten.
install_file() { # MODE SOURCE DEST
	cmp -s "$2" "$3" 2>/dev/null || install -m "$1" "$2" "$3"
}
install_file 0755 "$busybox" "$root/bin/busybox"
install_file 0755 "$probe" "$root/bin/probe"

# One absolute link per applet, where busybox's own list puts it (bin/sh, usr/bin/awk ...).
"$busybox" --list-full | while IFS= read -r applet; do
	case "$applet" in
	"" | bin/busybox | */probe) continue ;;
	esac
	[ "$(readlink "$root/$applet" 2>/dev/null)" = /bin/busybox ] ||
		ln -sfn /bin/busybox "$root/$applet"
done

write_file() { # MODE DEST CONTENT
	if [ "$(cat "$2" 2>/dev/null)" != "$3" ]; then
		printf '%s\n' "$3" >"$2.tmp"
		chmod "$1" "$2.tmp"
		mv -f "$2.tmp" "$2"
	fi
}
write_file 0644 "$root/etc/passwd" "root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false"
write_file 0644 "$root/etc/group" "root:x:0:
tty:x:5:
users:x:100:
nogroup:x:65534:"
write_file 0644 "$root/etc/hosts" "127.0.0.1	localhost"
write_file 0644 "$root/etc/resolv.conf" "# written by the container engine"
write_file 0644 "$root/etc/hostname" "kata"

echo "build-rootfs: $root ($(find "$root" -type l | wc -l) busybox links, /bin/probe)"
