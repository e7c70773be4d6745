#!/bin/sh
# Installs every Debian 12 package the project needs to build, test and run (`make deps`).
# Safe to run twice: apt-get install does nothing for what is already there.
set -eu

PACKAGES="
	build-essential pkg-config git make gcc clang lld libclang-rt-14-dev clang-format cppcheck
	libjson-c-dev libseccomp-dev libcap-ng-dev libnl-3-dev libnl-route-3-dev check libsubunit-dev libvirt-dev libvirt0 libxml2-dev libxml2
	libmnl-dev libmnl0
	qemu-system-x86 qemu-utils
	busybox-static cpio gzip lz4 kmod
	linux-source-6.1 patch bc bison flex libelf-dev libssl-dev xz-utils dwarves
	podman containerd runc containernetworking-plugins iperf3 docker.io
	python3-grpcio python3-grpc-tools
	libvirt-daemon-system libvirt-daemon libvirt-clients
	iproute2 socat procps psmisc util-linux jq python3
	golang-go golang-github-opencontainers-runtime-tools-dev golang-github-opencontainers-specs-dev
	golang-gocapability-dev golang-golang-x-sys-dev
"

if [ "$(id -u)" -ne 0 ]; then
	echo "install-deps: run as root (apt-get)" >&2
	exit 1
fi

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
if [ -z "$missing" ]; then
	echo "install-deps: everything is installed"
	exit 0
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
