#!/bin/bash
# Write an OCI bundle for the demo and the tests: DIR/config.json (like `runc spec`'s, with
# ARGS as the process) whose root.path is the absolute path of the test rootfs build/rootfs,
# shared by every such bundle (runc refuses a rootfs that is a symbolic link); with --copy,
# DIR/rootfs is a copy of it instead, for a container that may change its files.
#
# usage: guest/make-bundle.sh [--copy] [--tty] [--cwd DIR] [--env KEY=VALUE]...
#                             [--hostname NAME] [--user UID[:GID]] [--readonly] DIR ARGS...
# ARGS default to `sh`. The rootfs and build/guest/oci-spec are built when missing.
set -euo pipefail

guest_dir=$(cd "$(dirname "$0")" && pwd)
top_dir=$(dirname "$guest_dir")
build=${BUILD:-$top_dir/build}
case "$build" in /*) ;; *) build=$top_dir/$build ;; esac
oci_spec=$build/guest/oci-spec
rootfs=$build/rootfs

die() {
	echo "make-bundle: $*" >&2
	exit 1
}

copy=0
spec_args=()
while [ $# -gt 0 ]; do
	case "$1" in
	--copy) copy=1; shift ;;
	--tty | --readonly) spec_args+=("$1"); shift ;;
	--cwd | --env | --hostname | --user)
		[ $# -ge 2 ] || die "$1 needs a value"
		spec_args+=("$1" "$2")
		shift 2
		;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
[ $# -ge 1 ] || die "usage: make-bundle.sh [options] DIR ARGS..."
bundle=$1
shift
[ $# -ge 1 ] || set -- sh

if [ ! -x "$oci_spec" ] || [ ! -x "$rootfs/bin/probe" ]; then
	make -s -C "$top_dir" BUILD="$build" rootfs >&2
fi

mkdir -p "$bundle"
if [ "$copy" = 1 ]; then
	rm -rf "$bundle/rootfs"
	cp -a "$rootfs" "$bundle/rootfs"
	root_path=rootfs
else
	root_path=$(realpath "$rootfs")
fi
"$oci_spec" --rootfs "$root_path" "${spec_args[@]}" -- "$@" >"$bundle/config.json.tmp"
mv -f "$bundle/config.json.tmp" "$bundle/config.json"
echo "make-bundle: $bundle (rootfs: $root_path)" >&2
