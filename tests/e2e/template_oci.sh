#!/bin/bash
# The OCI lifecycle end-to-end suites (runtime_*.sh, podman.sh, containerd.sh) and the
# network suites of podman and containerd (network_podman.sh, network_containerd.sh) again, with
# VM templating on ([factory] enable_template, docs/templating.md): every sandbox that can
# be is a clone of one template, made by the first of them. Case names are prefixed with
# "template: ".
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/results.sh"

work=$(mktemp -d /tmp/kata-e2e-tpl-oci-XXXXXX)
cleanup() {
	"$RUNTIME" --kata-config "$work/template.toml" factory destroy >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT

{
	cat "$CONFIG"
	printf '\n[factory]\nenable_template = true\ntemplate_path = "%s/t"\n' "$work"
} >"$work/template.toml"
if out=$("$RUNTIME" --kata-config "$work/template.toml" factory init 2>&1) &&
	"$RUNTIME" --kata-config "$work/template.toml" factory status | grep -q 'status: ready'; then
	pass "template: factory init for the suites"
else
	fail "template: factory init for the suites" "$out"
	exit 1
fi

status=0
for suite in "$here"/runtime_*.sh "$here/podman.sh" "$here/containerd.sh" \
	"$here/network_podman.sh" "$here/network_containerd.sh"; do
	KATA_TEST_CONFIG="$work/template.toml" "$suite" 2>&1 |
		sed -E 's/^(PASS|FAIL|SKIP): /\1: template: /'
	[ "${PIPESTATUS[0]}" -eq 0 ] || status=1
done
exit $status
