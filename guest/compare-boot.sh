#!/bin/bash
# Compare guest boot times of several configurations fairly on a shared, busy machine:
# the configurations take turns (one boot each per round) so that load from other work
# spreads over all of them, then each one's medians are printed.
#
# usage: guest/compare-boot.sh ROUNDS "NAME: MEASURE-BOOT OPTIONS" ...
# e.g.   guest/compare-boot.sh 7 "q35:" "q35-smp2: --smp 2" "microvm: --machine microvm"
set -euo pipefail

guest_dir=$(cd "$(dirname "$0")" && pwd)
[ $# -ge 2 ] || {
	echo "usage: compare-boot.sh ROUNDS \"NAME: OPTIONS\"..." >&2
	exit 2
}
rounds=$1
shift
results=$(mktemp)
trap 'rm -f "$results" "$results.err"' EXIT

for ((r = 1; r <= rounds; r++)); do
	for config in "$@"; do
		name=${config%%:*}
		eval "opts=(${config#*:})" # trusted input: quoting as in a shell
		# A failed boot is counted and reported, not fatal to the comparison.
		if line=$("$guest_dir/measure-boot.sh" --runs 1 "${opts[@]}" 2>"$results.err" |
			grep '^run='); then
			echo "$name $line" >>"$results"
		else
			echo "compare-boot: $name: $(cat "$results.err")" >&2
			echo "$name failed" >>"$results"
		fi
	done
done

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2];
	else printf "%.3f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
printf '%-24s %12s %12s %12s %12s %7s\n' config first_line ready exit qemu_cpu failed
for config in "$@"; do
	name=${config%%:*}
	field() { awk -v n="$name" -v k="$1" '$1 == n { for (i = 2; i <= NF; i++) {
		split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$results" | median; }
	printf '%-24s %12s %12s %12s %12s %7s\n' "$name" "$(field first_line)" "$(field ready)" \
		"$(field exit)" "$(field cpu)" "$(awk -v n="$name" '$1 == n && $2 == "failed"' "$results" | wc -l)"
done
echo "rounds=$rounds load=$(cut -d' ' -f1-3 /proc/loadavg)"
