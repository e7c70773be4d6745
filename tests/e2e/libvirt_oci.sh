#!/bin/bash
# The OCI lifecycle end-to-end suites (runtime_*.sh, podman.sh, containerd.sh) again, with the
# libvirt backend: a libvirtd started here (tests/e2e/lib/libvirtd.sh) and a configuration
# whose [hypervisor.libvirt] table points at it. Case names are prefixed with "libvirt: ".
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/results.sh"
. "$here/lib/libvirtd.sh"

work=$(mktemp -d /tmp/kata-e2e-libvirt-oci-XXXXXX)
cleanup() {
	libvirtd_stop
	rm -rf "$work"
}
trap cleanup EXIT

libvirt_setup "$CONFIG" "$work/libvirt.toml"
case $? in
0) pass "libvirt: libvirtd for the suites answers on $LIBVIRTD_URI" ;;
*)
	fail "libvirt: libvirtd started for the suites" "see the log above"
	exit 1
	;;
esac

status=0
for suite in "$here"/runtime_*.sh "$here/podman.sh" "$here/containerd.sh"; do
	KATA_TEST_CONFIG="$work/libvirt.toml" "$suite" 2>&1 |
		sed -E 's/^(PASS|FAIL|SKIP): /\1: libvirt: /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
exit $status
