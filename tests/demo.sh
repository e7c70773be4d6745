#!/bin/bash
# `make demo`: runs a container in a VM with the programs, guest and test root filesystem of the
# build tree, and prints what it said. Cleans up after itself.
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
work=$(mktemp -d /tmp/kata-demo-XXXXXX)
trap 'rm -rf "$work"' EXIT

"$top/guest/make-bundle.sh" --hostname kata-demo "$work/bundle" /bin/sh -c \
	'echo "Hello from a container in its own VM: kernel $(uname -r), hostname $(hostname), $(grep -c ^processor /proc/cpuinfo) vCPU(s), $(awk "/MemTotal/ {print int(\$2/1024)}" /proc/meminfo) MiB"' \
	>/dev/null
echo "kata-runtime run (TCG here: the VM boots in software; see kata-runtime kata-check)"
"$build/kata-runtime" --kata-config "$build/configuration.toml" --root "$work/state" \
	run --bundle "$work/bundle" "kata-demo-$$"
