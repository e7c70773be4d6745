#!/bin/bash
# Runs the unit tests (Check programs in BUILD/tests/) and/or the end-to-end tests
# (tests/e2e/*.sh) and ends with one summary line: "N passed, N failed[, N skipped]".
#
#   tests/run-tests.sh unit|e2e|all BUILD_DIR [NAME_FILTER]
#
# Each program's output goes to BUILD/test-logs/NAME.log; a failing one's log is shown.
set -u

mode=${1:?usage: run-tests.sh unit|e2e|all BUILD_DIR [FILTER]}
build=${2:?usage: run-tests.sh unit|e2e|all BUILD_DIR [FILTER]}
filter=${3:-}
srcdir=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "$build" && pwd)
logs="$build/test-logs"
mkdir -p "$logs"

export KATA_TEST_SRCDIR="$srcdir"
export KATA_BUILD_DIR="$build"
export CK_DEFAULT_TIMEOUT=${CK_DEFAULT_TIMEOUT:-60}

passed=0
failed=0
skipped=0
failures=()

show_log() {
	echo "---- $1 ----"
	tail -n 60 "$2"
	echo "----"
}

# A Check program prints "NN%: Checks: N, Failures: N, Errors: N" per run.
run_unit() {
	local prog=$1 name log rc summary checks fails errors
	name=$(basename "$prog")
	log="$logs/$name.log"
	timeout --kill-after=10 900 "$prog" >"$log" 2>&1
	rc=$?
	summary=$(grep -E '^[0-9]+%: Checks: [0-9]+, Failures: [0-9]+, Errors: [0-9]+' "$log" | tail -n 1)
	if [ -z "$summary" ]; then
		echo "FAIL: $name: no Check summary (exit $rc)"
		failed=$((failed + 1))
		failures+=("$name")
		show_log "$name" "$log"
		return
	fi
	checks=$(sed -E 's/.*Checks: ([0-9]+).*/\1/' <<<"$summary")
	fails=$(sed -E 's/.*Failures: ([0-9]+).*/\1/' <<<"$summary")
	errors=$(sed -E 's/.*Errors: ([0-9]+).*/\1/' <<<"$summary")
	passed=$((passed + checks - fails - errors))
	failed=$((failed + fails + errors))
	if [ "$rc" -ne 0 ] || [ $((fails + errors)) -ne 0 ]; then
		echo "FAIL: $name: $summary"
		failures+=("$name")
		show_log "$name" "$log"
	else
		echo "ok:   $name: $summary"
	fi
}

# An end-to-end script prints "PASS: case", "FAIL: case: why" or "SKIP: case: why".
run_e2e() {
	local script=$1 name log rc p f s
	name=$(basename "$script" .sh)
	log="$logs/e2e-$name.log"
	timeout --kill-after=30 1800 "$script" >"$log" 2>&1
	rc=$?
	p=$(grep -c '^PASS: ' "$log")
	f=$(grep -c '^FAIL: ' "$log")
	s=$(grep -c '^SKIP: ' "$log")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
		f=1
		echo "FAIL: $name: exited $rc without naming a failed case" >>"$log"
	fi
	passed=$((passed + p))
	failed=$((failed + f))
	skipped=$((skipped + s))
	grep -E '^(FAIL|SKIP): ' "$log"
	if [ "$f" -ne 0 ]; then
		failures+=("e2e/$name")
		show_log "e2e/$name" "$log"
	else
		if [ "$s" -ne 0 ]; then
			echo "ok:   e2e/$name: $p passed, $s skipped"
		else
			echo "ok:   e2e/$name: $p passed"
		fi
	fi
}

if [ "$mode" = unit ] || [ "$mode" = all ]; then
	for prog in "$build"/tests/test_*; do
		[ -x "$prog" ] || continue
		[ -n "$filter" ] && [[ "$(basename "$prog")" != *$filter* ]] && continue
		run_unit "$prog"
	done
fi
if [ "$mode" = e2e ] || [ "$mode" = all ]; then
	for script in "$srcdir"/tests/e2e/*.sh; do
		[ -x "$script" ] || continue
		[ -n "$filter" ] && [[ "$(basename "$script")" != *$filter* ]] && continue
		run_e2e "$script"
	done
fi

if [ ${#failures[@]} -ne 0 ]; then
	echo "failed: ${failures[*]}"
fi
if [ "$skipped" -ne 0 ]; then
	echo "$passed passed, $failed failed, $skipped skipped"
else
	echo "$passed passed, $failed failed"
fi
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
