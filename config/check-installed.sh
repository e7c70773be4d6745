#!/bin/sh
# The last step of `make install`: every file the installed configuration.toml names must
# be there, or the installed runtime could not run a container.
#
# usage: config/check-installed.sh DESTDIR CONFIG OWN_DIR...
#
# CONFIG is the installed file (under DESTDIR). Each uncommented `key = "/absolute/path"`
# in it is checked. A path under one of the OWN_DIRs (where `make install` puts the
# runtime's own files: the proxy, the shim, the guest kernel and initrd) must exist under
# DESTDIR, or the check fails naming it. Any other path (qemu, virtiofsd, /dev/urandom)
# belongs to another package: if this host lacks it, a warning names it.
set -eu

destdir=$1
config=$2
shift 2

missing=0
line_no=0
while IFS= read -r line; do
	line_no=$((line_no + 1))
	key=$(printf '%s\n' "$line" | sed -n 's/^[[:space:]]*\([A-Za-z0-9_]*\)[[:space:]]*=[[:space:]]*"\(\/[^"]*\)".*/\1/p')
	[ -n "$key" ] || continue
	path=$(printf '%s\n' "$line" | sed -n 's/^[^=]*=[[:space:]]*"\([^"]*\)".*/\1/p')
	own=0
	for dir in "$@"; do
		case "$path" in "$dir"/*) own=1 ;; esac
	done
	if [ $own = 1 ]; then
		if [ ! -e "$destdir$path" ]; then
			echo "make install: $destdir$path is missing: $config:$line_no names it ($key)" >&2
			missing=$((missing + 1))
		fi
	elif [ ! -e "$path" ]; then
		echo "make install: warning: $path ($key, $config:$line_no) is not on this host" >&2
	fi
done <"$config"
if [ $missing -ne 0 ]; then
	echo "make install: $missing file(s) named by the configuration were not installed" >&2
	exit 1
fi
