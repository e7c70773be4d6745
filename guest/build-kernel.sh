#!/bin/bash
# Build the guest kernel (an uncompressed vmlinux, booted through its PVH entry) from
# Debian's linux-source-6.1, with guest/kernel-patches/*.patch applied in order and
# guest/kernel.config-fragment on top of tinyconfig.
#
# The result is cached outside the checkout, keyed by a hash of the fragment, the patches,
# the source version and this recipe:  $KATA_BUILD_CACHE/kernel-<hash>/vmlinux
# (default cache: /var/cache/kata-containers-build). A second run with the same inputs only
# links the cached file into build/guest/vmlinux. The extracted source and the object tree
# are kept in the cache too, so a changed fragment rebuilds incrementally.
#
# usage: guest/build-kernel.sh [OUTPUT_DIR]      (default: build/guest)
# env:   KATA_BUILD_CACHE, KATA_KERNEL_SOURCE (tarball), KATA_KERNEL_JOBS (default 2),
#        KATA_KERNEL_FRAGMENT (another fragment, e.g. to measure a variant)
set -euo pipefail

guest_dir=$(cd "$(dirname "$0")" && pwd)
top_dir=$(dirname "$guest_dir")
out_dir=${1:-$top_dir/build/guest}
cache_dir=${KATA_BUILD_CACHE:-/var/cache/kata-containers-build}
tarball=${KATA_KERNEL_SOURCE:-/usr/src/linux-source-6.1.tar.xz}
jobs=${KATA_KERNEL_JOBS:-2}
fragment=${KATA_KERNEL_FRAGMENT:-$guest_dir/kernel.config-fragment}
patches=("$guest_dir"/kernel-patches/*.patch)
[ -e "${patches[0]}" ] || patches=()
# Bump when the way the kernel is built changes (not the fragment: that is hashed).
recipe=1

die() {
	echo "build-kernel: $*" >&2
	exit 1
}

[ -r "$tarball" ] || die "kernel source $tarball not found (apt-get install linux-source-6.1)"
[ -r "$fragment" ] || die "$fragment not found"

# The source version: Debian's package version when the tarball is the packaged one,
# otherwise the tarball's own hash.
if [ "$tarball" = /usr/src/linux-source-6.1.tar.xz ] &&
	src_version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) &&
	[ -n "$src_version" ]; then
	src_version="linux-source-6.1 $src_version"
else
	src_version="tarball $(sha256sum <"$tarball" | cut -d' ' -f1)"
fi
# The patched source: the packaged source's version and the patches' contents.
patched_version=$({
	echo "$src_version"
	[ ${#patches[@]} -eq 0 ] || cat "${patches[@]}"
} | sha256sum | cut -c1-16)
key=$({
	echo "recipe $recipe"
	echo "$patched_version"
	cat "$fragment"
} | sha256sum | cut -c1-16)
result=$cache_dir/kernel-$key

install_result() {
	mkdir -p "$out_dir"
	rm -f "$out_dir/vmlinux" "$out_dir/kernel.config"
	# A hard link when the cache is on the same filesystem, a copy otherwise.
	ln "$result/vmlinux" "$out_dir/vmlinux" 2>/dev/null || cp "$result/vmlinux" "$out_dir/vmlinux"
	cp "$result/config" "$out_dir/kernel.config"
	# Newer than the fragment, so that make does not run this script again for nothing.
	touch "$out_dir/vmlinux"
	echo "build-kernel: $out_dir/vmlinux <- $result/vmlinux"
}

if [ -f "$result/vmlinux" ]; then
	install_result
	exit 0
fi

mkdir -p "$cache_dir"
# One build at a time per cache: the source and object trees are shared.
exec 9>"$cache_dir/.build.lock"
flock 9
if [ -f "$result/vmlinux" ]; then # built by whoever held the lock before us
	install_result
	exit 0
fi

src_tag=$(echo "$patched_version" | sha256sum | cut -c1-12)
src_tree=$cache_dir/src-$src_tag
obj_tree=$cache_dir/obj-$src_tag
if [ ! -f "$src_tree/.extracted" ]; then
	echo "build-kernel: extracting $tarball"
	rm -rf "$src_tree"
	mkdir -p "$src_tree"
	tar -xf "$tarball" -C "$src_tree" --strip-components=1
	for patch in "${patches[@]}"; do
		echo "build-kernel: applying $(basename "$patch")"
		patch -s -p1 -d "$src_tree" <"$patch" || die "$patch does not apply"
	done
	touch "$src_tree/.extracted"
fi
mkdir -p "$obj_tree"

# Fixed identification strings, so that two builds of one configuration look alike.
export KBUILD_BUILD_USER=kata KBUILD_BUILD_HOST=kata-containers
export KBUILD_BUILD_TIMESTAMP="2023-01-01 00:00:00 UTC"
kmake() {
	make -C "$src_tree" O="$obj_tree" -s "$@"
}

echo "build-kernel: configuring (tinyconfig + $(basename "$fragment"))"
kmake tinyconfig >/dev/null
"$src_tree/scripts/kconfig/merge_config.sh" -m -O "$obj_tree" "$obj_tree/.config" "$fragment" \
	>/dev/null
kmake olddefconfig >/dev/null

# Every option the fragment sets must have survived olddefconfig: a typo or an unmet
# dependency would otherwise go unnoticed until the guest misbehaves.
missing=0
while IFS= read -r line; do
	case "$line" in
	CONFIG_*=*)
		grep -qxF -- "$line" "$obj_tree/.config" || {
			echo "build-kernel: fragment asks $line, got: $(grep -E "^(# )?${line%%=*}[= ]" \
				"$obj_tree/.config" || echo unset)" >&2
			missing=1
		}
		;;
	"# CONFIG_"*" is not set")
		opt=${line#\# }
		opt=${opt%% *}
		if grep -qE "^$opt=" "$obj_tree/.config"; then
			echo "build-kernel: fragment disables $opt, olddefconfig enabled it" >&2
			missing=1
		fi
		;;
	esac
done <"$fragment"
[ "$missing" = 0 ] || die "configuration does not match the fragment"

echo "build-kernel: make -j$jobs vmlinux (a clean build takes ~6-7 minutes on 2 cores)"
start=$(date +%s)
kmake -j"$jobs" vmlinux
echo "build-kernel: built in $(($(date +%s) - start)) s"

tmp=$(mktemp -d "$cache_dir/.kernel-$key.XXXXXX")
cp "$obj_tree/vmlinux" "$tmp/vmlinux"
cp "$obj_tree/.config" "$tmp/config"
cp "$fragment" "$tmp/fragment"
echo "$src_version" >"$tmp/source-version"
chmod 0755 "$tmp"
rm -rf "$result"
mv "$tmp" "$result"
install_result
