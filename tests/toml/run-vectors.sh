#!/bin/sh
# Runs toml-json over a directory of toml-test style vectors:
#   DIR/valid/**/NAME.toml   must parse, and match NAME.json (tagged JSON) structurally
#   DIR/invalid/**/NAME.toml must be refused (exit 1) with a "line L, column C:" message
# Prints one FAIL line per failure, then "N passed, N failed"; exits 1 on any failure.
#
#   tests/toml/run-vectors.sh [DIR] [TOML_JSON]
#   (defaults: tests/toml and build/toml-json; point DIR at a checkout of toml-test's
#   tests/ directory to run the public suite)
set -u

dir=${1:-$(dirname "$0")}
tool=${2:-build/toml-json}
passed=0
failed=0
out=$(mktemp)
err=$(mktemp)
trap 'rm -f "$out" "$err"' EXIT INT TERM

if [ ! -x "$tool" ]; then
	echo "run-vectors: $tool is not built (make $tool)" >&2
	exit 2
fi

fail() {
	failed=$((failed + 1))
	echo "FAIL: $1: $2"
}

for toml in $(find "$dir/valid" -name '*.toml' 2>/dev/null | sort); do
	name=${toml#"$dir"/}
	json=${toml%.toml}.json
	if [ ! -f "$json" ]; then
		fail "$name" "no expected $json"
		continue
	fi
	if timeout 10 "$tool" --expect "$json" <"$toml" >"$out" 2>"$err"; then
		passed=$((passed + 1))
	else
		fail "$name" "$(head -c 300 "$err" | tr '\n' ' ')"
	fi
done

for toml in $(find "$dir/invalid" -name '*.toml' 2>/dev/null | sort); do
	name=${toml#"$dir"/}
	timeout 10 "$tool" <"$toml" >"$out" 2>"$err"
	rc=$?
	if [ "$rc" -eq 0 ]; then
		fail "$name" "accepted an invalid document"
	elif [ "$rc" -ne 1 ]; then
		fail "$name" "exit status $rc (crash or timeout?)"
	elif ! grep -q 'line [0-9][0-9]*, column [0-9][0-9]*: ' "$err"; then
		fail "$name" "no line/column in: $(head -c 200 "$err")"
	else
		passed=$((passed + 1))
	fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
