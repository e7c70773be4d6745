# What every end-to-end script shares: where the build is, and how results are reported
# (one line per case: PASS/FAIL/SKIP, read by tests/run-tests.sh).
# shellcheck shell=bash

SRCDIR=${KATA_TEST_SRCDIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../../.." && pwd)}
BUILD=${KATA_BUILD_DIR:-$SRCDIR/build}
RUNTIME=$BUILD/kata-runtime
CONFIG=${KATA_TEST_CONFIG:-$BUILD/configuration.toml}
ROOTFS=$BUILD/rootfs
TOOLS=$BUILD/tests/tools
FAILED=0

pass() { echo "PASS: $1"; }
fail() {
	echo "FAIL: $1: $2"
	FAILED=1
}
skip() { echo "SKIP: $1: $2"; }

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then pass "$1"; else fail "$1" "expected '$2', got '$3'"; fi
}

# check_contains NAME NEEDLE HAYSTACK
check_contains() {
	case "$3" in
	*"$2"*) pass "$1" ;;
	*) fail "$1" "'$2' not in: $(head -c 600 <<<"$3")" ;;
	esac
}

# Polls a command until it succeeds, for at most $2 seconds.
wait_for() {
	local what=$1 seconds=$2 i
	shift 2
	for ((i = 0; i < seconds * 10; i++)); do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1
	done
	echo "timed out waiting for $what" >&2
	return 1
}
