#!/bin/bash
# The OCI runtime conformance suite: runs every validation case (tests/conformance/go,
# built offline from Debian's Go packages) against each runtime, runc first, and compares
# them assertion by assertion.
#
# usage: tests/conformance/run.sh [--runtime PATH]... [--case NAME]... [--build DIR]
#   Default runtimes: /usr/sbin/runc and BUILD/kata-runtime (with BUILD/configuration.toml).
#   The first runtime is the reference; for the last one the final line counts
#   "N passed" (its assertions that pass) and "N failed" (assertions the reference passes
#   and it fails). Exit status: 0 when every such failure is a documented difference
#   (tests/conformance/expected/RUNTIME.txt), 1 otherwise, 2 when the suite cannot run.
#
# Environment: CONFORMANCE_TIMEOUT (seconds per case and runtime, default 300).
set -u

SRCDIR=$(cd "$(dirname "$0")/../.." && pwd)
CONF_DIR=$SRCDIR/tests/conformance
BUILD=$SRCDIR/build
RUNTIMES=()
CASES=()
while [ $# -gt 0 ]; do
	case "$1" in
	--runtime) RUNTIMES+=("$2"); shift 2 ;;
	--case) CASES+=("$2"); shift 2 ;;
	--build) BUILD=$(cd "$2" && pwd); shift 2 ;;
	-h | --help) sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done
[ ${#RUNTIMES[@]} -gt 0 ] || RUNTIMES=(/usr/sbin/runc "$BUILD/kata-runtime")
TIMEOUT=${CONFORMANCE_TIMEOUT:-300}
OUT=$BUILD/conformance
RESULTS=$OUT/results

die() {
	echo "run.sh: $*" >&2
	exit 2
}

[ "$(id -u)" -eq 0 ] || die "run as root (containers, apt-get)"

# --- dependencies (Debian packages only; idempotent) ---------------------------------------
PACKAGES="golang-go golang-github-opencontainers-runtime-tools-dev golang-github-opencontainers-specs-dev
	golang-gocapability-dev golang-golang-x-sys-dev runc busybox-static"
missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "run.sh: installing$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -q >/dev/null
	# shellcheck disable=SC2086
	apt-get install -y -q --no-install-recommends $missing >/dev/null || die "apt-get install$missing failed"
fi

# --- build, offline: GOPATH mode over Debian's /usr/share/gocode, no module downloads -------
mkdir -p "$OUT"
build_go() {
	GO111MODULE=off GOPROXY=off GOFLAGS="" GOPATH="$CONF_DIR/go:/usr/share/gocode" \
		GOCACHE="$OUT/gocache" CGO_ENABLED=0 go build -trimpath -o "$OUT/$1" "kataconformance/$1"
}
build_go validation || die "cannot build the validation program"
build_go runtimetest || die "cannot build runtimetest"

ROOTFS=$BUILD/rootfs
[ -x "$ROOTFS/bin/busybox" ] || die "$ROOTFS is missing: run make rootfs"
for r in "${RUNTIMES[@]}"; do
	[ -x "$r" ] || die "runtime $r is missing (make)"
done

# --- a private root for each runtime, through a one-executable wrapper ----------------------
TMP=$(mktemp -d /tmp/kata-conformance.XXXXXX)
chmod 0755 "$TMP" # a container in a user namespace reaches its bundle as a mapped uid
LABELS=()
WRAPPERS=()

# The build tree changes under a long run when someone rebuilds: the runtime, its proxy,
# shim and initrd are run from a copy taken at the start. The kernel stays where it is
# (the accelerator probe's answer is cached by its path).
snapshot_kata() {
	local runtime=$1 conf=$2 dir=$3 key file copy
	mkdir -p "$dir"
	cp "$runtime" "$dir/" || die "cannot copy $runtime"
	SNAP_RUNTIME=$dir/$(basename "$runtime")
	SNAP_CONF=$dir/configuration.toml
	cp "$conf" "$SNAP_CONF"
	for key in path initrd; do
		sed -n "s/^[[:space:]]*${key}[[:space:]]*=[[:space:]]*\"\\(\/[^\"]*\\)\".*/\\1/p" "$conf" |
			while read -r file; do
				# Only what the build tree holds (not qemu, which finds its modules by path).
				[[ -f "$file" && "$file" == "$(dirname "$runtime")"/* ]] || continue
				copy=$dir/$(basename "$file")
				cp "$file" "$copy" && sed -i "s|\"$file\"|\"$copy\"|" "$SNAP_CONF"
			done
	done
}

CASE_PID=""
# shellcheck disable=SC2317 # called by the EXIT trap
cleanup() {
	local w id left
	[ -n "$CASE_PID" ] && kill -TERM "$CASE_PID" 2>/dev/null && wait "$CASE_PID" 2>/dev/null
	for w in "${WRAPPERS[@]}"; do
		for id in $("$w" list -q 2>/dev/null); do
			timeout 60 "$w" kill "$id" KILL >/dev/null 2>&1
			timeout 120 "$w" delete --force "$id" >/dev/null 2>&1 ||
				echo "run.sh: cleanup: cannot delete $id ($w)" >&2
		done
		left=$("$w" list -q 2>/dev/null)
		[ -z "$left" ] || echo "run.sh: cleanup: containers left: $left" >&2
	done
	# A VM of one of this run's containers (ids conf<pid>-...) that outlived its delete.
	for pid in $(pgrep -f -- "-name sandbox-conf[0-9]+-" 2>/dev/null); do
		case "$(ps -o stat= -p "$pid" 2>/dev/null)" in '' | Z*) continue ;; esac
		echo "run.sh: cleanup: a VM was left: $(ps -o args= -p "$pid" | cut -c1-120)" >&2
		kill -KILL "$pid" 2>/dev/null
	done
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

for r in "${RUNTIMES[@]}"; do
	label=$(basename "$r")
	case "$label" in runc) label=runc ;; kata-runtime | cc-runtime | runv) label=kata ;; esac
	n=0
	while [[ " ${LABELS[*]:-} " == *" $label "* ]]; do
		n=$((n + 1))
		label=$(basename "$r")$n
	done
	root=$TMP/root-$label
	mkdir -p "$root"
	w=$TMP/runtime-$label
	extra=""
	exe=$r
	case "$(basename "$r")" in
	kata-runtime | cc-runtime | runv)
		conf=${KATA_CONF_FILE:-$(dirname "$r")/configuration.toml}
		[ -f "$conf" ] || die "no configuration $conf for $r"
		snapshot_kata "$r" "$conf" "$TMP/snapshot-$label"
		exe=$SNAP_RUNTIME
		extra="--kata-config $SNAP_CONF"
		;;
	esac
	printf '#!/bin/sh\nexec %s %s --root %s "$@"\n' "$exe" "$extra" "$root" >"$w"
	chmod 0755 "$w"
	LABELS+=("$label")
	WRAPPERS+=("$w")
done

# The rootfs, too, is copied once (make rootfs runs every time).
cp -a "$ROOTFS" "$TMP/rootfs" || die "cannot copy $ROOTFS"
ROOTFS=$TMP/rootfs

# --- run --------------------------------------------------------------------------------------
[ ${#CASES[@]} -gt 0 ] || mapfile -t CASES < <("$OUT/validation" -list | cut -f1)
rm -rf "$RESULTS"
for label in "${LABELS[@]}"; do mkdir -p "$RESULTS/$label"; done

# counts FILE: "OK TOTAL" of a TAP file.
counts() {
	local ok total
	ok=$(grep -c '^ok ' "$1")
	total=$(grep -Ec '^(not )?ok ' "$1")
	echo "$ok $total"
}

# assertions FILE STATUS: the descriptions of the assertions with that result.
assertions() {
	case "$2" in
	ok) sed -n 's/^ok [0-9]* - //p' "$1" ;;
	notok) sed -n 's/^not ok [0-9]* - //p' "$1" ;;
	esac | sort -u
}

start_all=$(date +%s)
for c in "${CASES[@]}"; do
	line="$c:"
	for i in "${!LABELS[@]}"; do
		label=${LABELS[$i]}
		tapf=$RESULTS/$label/$c.tap
		t0=$(date +%s)
		mkdir -p "$TMP/work-$label" && chmod 0755 "$TMP/work-$label"
		RUNTIME=${WRAPPERS[$i]} CONFORMANCE_ROOTFS=$ROOTFS CONFORMANCE_RUNTIMETEST=$OUT/runtimetest \
			CONFORMANCE_TMP=$TMP/work-$label TMPDIR=$TMP/work-$label \
			timeout -k 30 "$TIMEOUT" "$OUT/validation" "$c" >"$tapf" 2>"$RESULTS/$label/$c.stderr" &
		CASE_PID=$!
		wait "$CASE_PID"
		rc=$?
		CASE_PID=""
		[ $rc -eq 124 ] && echo "not ok - the case ends within ${TIMEOUT}s" >>"$tapf"
		read -r ok total < <(counts "$tapf")
		line="$line $label $ok/$total ok ($(($(date +%s) - t0))s),"
	done
	echo "${line%,}"
done

# --- compare the last runtime with the reference ---------------------------------------------
ref=${LABELS[0]}
cmp=${LABELS[${#LABELS[@]} - 1]}
expected=$CONF_DIR/expected/$(basename "${RUNTIMES[${#RUNTIMES[@]} - 1]}").txt
passed=0
failed=0
both=0
undocumented=0
report=$OUT/differences.txt
: >"$report"
for c in "${CASES[@]}"; do
	r=$RESULTS/$ref/$c.tap
	k=$RESULTS/$cmp/$c.tap
	passed=$((passed + $(grep -c '^ok ' "$k")))
	both=$((both + $(comm -12 <(assertions "$r" notok) <(assertions "$k" notok) | grep -c .)))
	while IFS= read -r a; do
		[ -n "$a" ] || continue
		failed=$((failed + 1))
		doc=""
		[ -f "$expected" ] && grep -qxF "$c: $a" <(grep -v '^#' "$expected") && doc=" (documented)"
		[ -z "$doc" ] && undocumented=$((undocumented + 1))
		{
			echo "$c: $a$doc"
			# The failure's diagnostic lines, when the assertion ran.
			awk -v d="$a" 'index($0, "not ok ") == 1 { sub(/^not ok [0-9]+ - /, ""); p = ($0 == d); next }
				/^ok / { p = 0 } p && /^#/ { print "    " $0 }' "$k"
		} >>"$report"
	done < <(comm -23 <(assertions "$r" ok) <(assertions "$k" ok))
done
# The reference's own failures are known too (expected/REFERENCE.txt); a new one points
# at this machine rather than at the runtime under test.
ref_expected=$CONF_DIR/expected/$(basename "${RUNTIMES[0]}").txt
for c in "${CASES[@]}"; do
	assertions "$RESULTS/$ref/$c.tap" notok | while IFS= read -r a; do
		grep -qxF "$c: $a" <(grep -v '^#' "$ref_expected" 2>/dev/null) ||
			echo "note: $ref fails \"$c: $a\", which $ref_expected does not list"
	done
done
if [ -s "$report" ]; then
	echo "--- assertions $ref passes and $cmp fails (also in $report):"
	cat "$report"
fi
echo "($both assertions fail on both; results in $RESULTS; $(($(date +%s) - start_all))s)"
echo "$passed passed, $failed failed"
[ "$undocumented" -eq 0 ] || {
	echo "$undocumented of the failures are not documented in $expected"
	exit 1
}
exit 0
