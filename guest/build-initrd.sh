#!/bin/bash
# Pack a guest initrd: a newc cpio archive with INIT as /init (statically linked: the
# agent, or guest/test-init) and the directory skeleton PID 1 needs before it mounts
# anything. Built by guest/tools/mkcpio from a list, so it needs no root and two runs give
# the same bytes.
#
# usage: guest/build-initrd.sh [--compression gzip|none] INIT OUTPUT
# env:   MKCPIO (default build/guest/mkcpio)
set -euo pipefail

guest_dir=$(cd "$(dirname "$0")" && pwd)
top_dir=$(dirname "$guest_dir")
mkcpio=${MKCPIO:-$top_dir/build/guest/mkcpio}
compression=none

die() {
	echo "build-initrd: $*" >&2
	exit 1
}

while [ $# -gt 0 ]; do
	case "$1" in
	--compression)
		[ $# -ge 2 ] || die "--compression needs gzip or none"
		compression=$2
		shift 2
		;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -eq 2 ] || die "usage: build-initrd.sh [--compression gzip|none] INIT OUTPUT"
init=$1
output=$2
case "$compression" in gzip | none) ;; *) die "compression must be gzip or none" ;; esac
[ -x "$mkcpio" ] || die "$mkcpio not built (make $top_dir/build/guest/mkcpio)"
[ -f "$init" ] || die "$init not found"
# A dynamically linked /init would die at once with "No such file or directory".
if readelf -l "$init" 2>/dev/null | grep -q 'Requesting program interpreter'; then
	die "$init is dynamically linked: the guest has no libraries"
fi

mkdir -p "$(dirname "$output")"
list=$(mktemp)
tmp=$(mktemp "$output.XXXXXX")
stripped=$(mktemp)
trap 'rm -f "$list" "$tmp" "$stripped"' EXIT

# /init without its symbols and debug information: every byte of the initrd is held
# twice in each VM's memory (qemu's copy, the guest's unpacked rootfs) and once on the host.
strip -o "$stripped" "$init" || die "strip $init failed"

# The kernel opens /dev/console for PID 1's stdio before any devtmpfs is mounted.
cat >"$list" <<LIST
dir dev 0755 0 0
nod dev/console 0600 0 0 c 5 1
nod dev/null 0666 0 0 c 1 3
dir proc 0555 0 0
dir sys 0555 0 0
dir run 0755 0 0
dir tmp 1777 0 0
dir etc 0755 0 0
dir mnt 0755 0 0
dir var 0755 0 0
file init $stripped 0755 0 0
LIST

if [ "$compression" = gzip ]; then
	"$mkcpio" "$list" | gzip -n -9 >"$tmp"
else
	"$mkcpio" "$list" >"$tmp"
fi
chmod 0644 "$tmp"
mv -f "$tmp" "$output"
echo "build-initrd: $output ($compression, $(stat -c %s "$output") bytes, /init = $init)"
