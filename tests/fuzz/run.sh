#!/bin/bash
# Builds every libFuzzer target (tests/fuzz/fuzz_*.c) against the project's parsers and
# runs each for a bounded time (`make fuzz`, FUZZ_SECONDS).
#
#   run.sh SECONDS CFLAGS LIBS "LIBRARY_SOURCES" FUZZ_SOURCES...
#
# Seeds come from tests/fuzz/seeds/NAME/ when present; the corpus grows in build-fuzz/.
set -eu

seconds=$1
cflags=$2
libs=$3
lib_srcs=$4
shift 4
out=build-fuzz
mkdir -p "$out/obj"

objs=()
for src in $lib_srcs; do
	obj="$out/obj/${src%.c}.o"
	mkdir -p "$(dirname "$obj")"
	if [ ! -e "$obj" ] || [ "$src" -nt "$obj" ]; then
		echo "  FUZZCC  $src"
		# shellcheck disable=SC2086
		clang $cflags -fsanitize=fuzzer-no-link,address,undefined -c "$src" -o "$obj"
	fi
	objs+=("$obj")
done
rm -f "$out/libfuzzlib.a"
ar rcs "$out/libfuzzlib.a" "${objs[@]}"

status=0
for src in "$@"; do
	name=$(basename "$src" .c)
	echo "  FUZZ    $name (${seconds}s)"
	# shellcheck disable=SC2086
	clang $cflags "$src" "$out/libfuzzlib.a" $libs -o "$out/$name"
	corpus="$out/corpus/$name"
	mkdir -p "$corpus"
	seeds=()
	[ -d "tests/fuzz/seeds/$name" ] && seeds=("tests/fuzz/seeds/$name")
	if ! "$out/$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-artifact_prefix="$out/$name-" "$corpus" "${seeds[@]}" >"$out/$name.log" 2>&1; then
		echo "FAIL: $name: see $out/$name.log"
		tail -n 30 "$out/$name.log"
		status=1
	else
		echo "PASS: $name: $(grep -E '^(#[0-9]+|Done)' "$out/$name.log" | tail -n 1)"
	fi
done
exit $status
