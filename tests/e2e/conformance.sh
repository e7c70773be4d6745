#!/bin/bash
# The OCI conformance comparison (tests/conformance/run.sh: the same validation cases against
# runc and kata-runtime) as part of `make check`: one case per validation case, failing when
# kata-runtime fails an assertion that runc passes and that is not a documented difference.
set -u
here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib/results.sh"

log=$(mktemp /tmp/kata-e2e-conformance-XXXXXX)
trap 'rm -f "$log"' EXIT
"$SRCDIR/tests/conformance/run.sh" --build "$BUILD" >"$log" 2>&1
rc=$?
differences=$BUILD/conformance/differences.txt
while read -r line; do
	name=${line%%:*}
	# An undocumented difference of this case fails it (run.sh marks documented ones).
	if [ -f "$differences" ] && grep "^$name: " "$differences" | grep -qv "(documented)"; then
		fail "conformance: $name" "$line (see $differences)"
	else
		pass "conformance: $line"
	fi
done < <(grep -E '^[a-z_]+: runc [0-9]+/[0-9]+ ok' "$log")
case $rc in
0 | 1) echo "conformance: $(tail -n 1 "$log")" ;;
*)
	fail "conformance suite" "run.sh exited $rc: $(tail -n 5 "$log")"
	;;
esac
[ $rc -eq 0 ] || FAILED=1
exit $FAILED
