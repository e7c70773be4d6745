#!/bin/sh
# Runs toml-json over a directory of toml-test style vectors:
#   DIR/valid/**/NAME.toml   must parse, and match NAME.json (tagged JSON) structurally
#   DIR/invalid/**/NAME.toml must be refused (exit 1) with a "line L, column C:" message
# Prints one FAIL line per failure, then "N passed, N failed"; exits 1 on any failure.
#
#   tests/toml/run-vectors.sh [DIR] [TOML_JSON]
#   (defaults: tests/toml and build/toml-json; point DIR at a checkout of toml-test's
#   tests/ directory to run the public suite)
#
# When DIR holds a list of the files to run (toml-test's tests/files-toml-1.0.0, or the
# file named by $TOML_TEST_LIST), only the .toml files it lists are run: the public tree
# also holds TOML 1.1 cases that a 1.0 parser must not accept.
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

list=${TOML_TEST_LIST:-$dir/files-toml-1.0.0}
vectors() { # vectors valid|invalid
	if [ -f "$list" ]; then
		grep "^$1/.*\.toml\$" "$list" | sed "s|^|$dir/|"
	else
		find "$dir/$1" -name '*.toml' 2>/dev/null | sort
	fi
}

for toml in $(vectors valid); do
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

for toml in $(vectors invalid); do
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
