#!/bin/bash
# kata-runtime with runV's own guest agent: an initrd whose /init is hyperstart (the test
# peer in ../shared/peers/hyperstart/, beside the checkout) and dialect = "hyperstart".
# run and exec with output on both streams and exit statuses (0, N, 128+N),
# create/start/state/kill/delete, exec with and without a terminal (window size), stdin
# with its EOF, the 9p-shared rootfs, bind mounts, environment, working directory, user;
# a signal from the shim reaching the program once; orphans reaped (no zombie of the
# container's programs); networking (IPv4) through hyperstart's STARTPOD interfaces and
# routes; and the operations hyperstart has no message for fail naming the dialect. SKIP without
# the peer. The statuses come through kata-hyperstart-wait's files in the share, since
# hyperstart v1.1.0 reports no process's end in this guest (docs/dialects.md).
set -u
. "$(dirname "$0")/lib/runtime.sh"
. "$(dirname "$0")/lib/netns.sh"

PEER_DIR=$(dirname "$SRCDIR")/shared/peers/hyperstart
if [ ! -x "$PEER_DIR/hyperstart" ]; then
	skip "hyperstart peer" "$PEER_DIR/hyperstart is not present (runV's agent beside the checkout, as ../shared/peers/hyperstart/SOURCE.md says)"
	exit 0
fi
rt_init

# The guest: this build's kernel, hyperstart as /init (what `make hyperstart-initrd` packs).
if ! MKCPIO="$BUILD/guest/mkcpio" "$SRCDIR/guest/build-initrd.sh" "$PEER_DIR/hyperstart" \
	"$TMP/hyperstart-initrd.img" >"$TMP/initrd.log" 2>&1; then
	fail "hyperstart initrd" "$(cat "$TMP/initrd.log")"
	rt_finish
fi
sed -e "s|^initrd = .*|initrd = \"$TMP/hyperstart-initrd.img\"|" \
	-e 's|^dialect = .*|dialect = "hyperstart"|' "$CONFIG" >"$TMP/hyperstart.toml"
if ! grep -q '^dialect = "hyperstart"' "$TMP/hyperstart.toml"; then
	fail "hyperstart configuration" "$CONFIG has no dialect key to set"
	rt_finish
fi
CONFIG=$TMP/hyperstart.toml

# The namespaces of the network case: a "host" side (the test's) and the container's.
POD_NETNS=
hs_cleanup() {
	rt_cleanup
	[ -n "$POD_NETNS" ] && ip netns del "$POD_NETNS" 2>/dev/null
	netns_delete
}
trap hs_cleanup EXIT

# file_has FILE TEXT: FILE contains TEXT.
file_has() { grep -qF -- "$2" "$1" 2>/dev/null; }

# run_detached NAME ARGS...: `run -d` of a container whose process is ARGS (bundle in
# $TMP/$ID, already made when $TMP/$ID exists); its stdio in $TMP/$ID.out and .err.
run_detached() {
	new_id "$1"
	shift
	[ -d "$TMP/$ID" ] || make_bundle "$TMP/$ID" "$@"
	kr_detached "$ID" run -d --bundle "$TMP/$ID" "$ID"
}

# finish NAME ID: delete --force, nothing left.
finish() {
	local out
	out=$(kr delete --force "$2" 2>&1)
	check_eq "$1: delete --force" "" "$out"
	check_nothing_left "$1" "$2"
}

case_run_output() {
	if ! run_detached run sh -c 'echo hello from hyperstart; echo to-stderr >&2; sleep 1000'; then
		fail "run -d" "$(detached_error "$ID")"
		return
	fi
	if wait_for "the container's output" 60 file_has "$TMP/$ID.out" "hello from hyperstart"; then
		pass "run: stdout"
	else
		fail "run: stdout" "$(head -c 300 "$TMP/$ID.out")"
	fi
	wait_for "stderr" 10 file_has "$TMP/$ID.err" "to-stderr"
	check_contains "run: stderr" "to-stderr" "$(cat "$TMP/$ID.err")"
	check_eq "run: state running" running "$(state_field "$ID" status)"
	finish "run" "$ID"
}

# run_status NAME EXPECTED_STATUS ARGS...: `run` in the foreground returns the status.
run_status() {
	local name=$1 want=$2 status
	shift 2
	new_id "status-$name"
	make_bundle "$TMP/$ID" "$@"
	kr run --bundle "$TMP/$ID" "$ID" >"$TMP/$ID.out" 2>"$TMP/$ID.err" </dev/null
	status=$?
	check_eq "run ($name): exit status $want" "$want" "$status"
	# run in the foreground deletes the container when its process has ended
	check_nothing_left "run ($name)" "$ID"
}

case_run_statuses() {
	run_status zero 0 sh -c 'echo out'
	run_status status 7 sh -c 'echo out; exit 7'
	run_status signal 137 probe kill-self 9
}

case_run_process() {
	local id
	new_id process
	id=$ID
	make_bundle --copy --env FROM_SPEC=yes --cwd /tmp --user 1000:1001 "$TMP/$id" sh -c \
		'echo env=$FROM_SPEC cwd=$(pwd) ids=$(id -u):$(id -g); echo written-in-guest > /tmp/from-guest; sleep 1000'
	if ! kr_detached "$id" run -d --bundle "$TMP/$id" "$id"; then
		fail "run -d (process)" "$(detached_error "$id")"
		return
	fi
	wait_for "the container's output" 60 file_has "$TMP/$id.out" "ids="
	check_contains "run: environment" "env=yes" "$(cat "$TMP/$id.out")"
	check_contains "run: working directory" "cwd=/tmp" "$(cat "$TMP/$id.out")"
	check_contains "run: user and group" "ids=1000:1001" "$(cat "$TMP/$id.out")"
	wait_for "the file in the rootfs" 10 test -s "$TMP/$id/rootfs/tmp/from-guest"
	check_eq "run: the 9p-shared rootfs, written in the guest" "written-in-guest" \
		"$(cat "$TMP/$id/rootfs/tmp/from-guest" 2>&1)"
	finish "run (process)" "$id"
}

case_bind_mounts() {
	local id
	new_id binds
	id=$ID
	mkdir -p "$TMP/host-dir" "$TMP/host-ro"
	echo "from the host" >"$TMP/host-dir/in.txt"
	echo "read only" >"$TMP/host-ro/ro.txt"
	make_bundle "$TMP/$id" sh -c 'cat /data/in.txt; echo from-container > /data/out.txt
		cat /ro/ro.txt; (echo x > /ro/new.txt) 2>/dev/null || echo ro-refused; sleep 1000'
	bundle_edit "$TMP/$id" '.mounts += [
		{"destination": "/data", "type": "bind", "source": $dir, "options": ["rbind", "rw"]},
		{"destination": "/ro", "type": "bind", "source": $ro, "options": ["rbind", "ro"]}]' \
		--arg dir "$TMP/host-dir" --arg ro "$TMP/host-ro"
	if ! kr_detached "$id" run -d --bundle "$TMP/$id" "$id"; then
		fail "run -d (bind mounts)" "$(detached_error "$id")"
		return
	fi
	wait_for "the container's output" 60 file_has "$TMP/$id.out" "ro-refused"
	check_contains "bind mount: read" "from the host" "$(cat "$TMP/$id.out")"
	check_eq "bind mount: written" "from-container" "$(cat "$TMP/host-dir/out.txt" 2>&1)"
	check_contains "read-only bind mount: read" "read only" "$(cat "$TMP/$id.out")"
	check_contains "read-only bind mount: writing refused" "ro-refused" "$(cat "$TMP/$id.out")"
	finish "bind mounts" "$id"
}

case_lifecycle() {
	local out status id op
	new_id life
	id=$ID
	make_bundle "$TMP/$id" sh -c 'echo started; sleep 1000'
	if ! kr_detached "$id" create --bundle "$TMP/$id" "$id"; then
		fail "create" "$(detached_error "$id")"
		return
	fi
	check_eq "create: state created" created "$(state_field "$id" status)"
	out=$(kr start "$id" 2>&1)
	check_eq "start" "" "$out"
	check_eq "start: state running" running "$(state_field "$id" status)"
	if wait_for "the program's output" 60 file_has "$TMP/$id.out" "started"; then
		pass "start: the program runs"
	else
		fail "start: the program runs" "$(head -c 300 "$TMP/$id.out")"
	fi
	out=$(kr ps "$id" 2>&1)
	status=$?
	if [ $status -ne 0 ] && [[ "$out" == *ps* && "$out" == *hyperstart* ]]; then
		pass "ps: refused, naming the dialect"
	else
		fail "ps: refused, naming the dialect" "exit $status: $out"
	fi
	for op in "update --memory 268435456:update" "events --stats:events --stats"; do
		# shellcheck disable=SC2086 # the operation's words
		out=$(kr ${op%%:*} "$id" 2>&1)
		status=$?
		if [ $status -ne 0 ] && [[ "$out" == *"${op#*:}: not possible with the hyperstart dialect"* ]]; then
			pass "${op#*:}: refused, naming the dialect"
		else
			fail "${op#*:}: refused, naming the dialect" "exit $status: $out"
		fi
	done
	out=$(kr kill "$id" TERM 2>&1)
	check_eq "kill TERM: accepted" "" "$out"
	if wait_status "$id" stopped 30 2>/dev/null; then
		pass "kill: the container stops"
	else
		fail "kill: the container stops" "state $(state_field "$id" status)"
	fi
	out=$(kr delete "$id" 2>&1)
	check_eq "delete" "" "$out"
	check_nothing_left "lifecycle" "$id"
}

# exec_has_process ID WORD: a live process of the container has WORD in its command line
# (a zombie's is empty).
exec_has_process() {
	kr exec "$1" sh -c 'for f in /proc/[0-9]*/cmdline; do
		[ "$(tr "\0" " " <"$f" 2>/dev/null)" = "sleep $0 " ] && exit 0; done; exit 1' \
		"$2" </dev/null >/dev/null 2>&1
}

# not COMMAND...: COMMAND fails.
not() { ! "$@"; }

case_exec() {
	local cid out rpid
	new_id exec
	cid=$ID
	make_bundle --env CONTAINER_VAR=from-spec "$TMP/$cid" probe sleep 1000
	if ! kr_detached "$cid" run -d --bundle "$TMP/$cid" "$cid"; then
		fail "exec: run -d" "$(detached_error "$cid")"
		return
	fi
	kr exec --detach "$cid" sh -c 'echo to-stdout; echo to-stderr >&2' \
		>"$TMP/e1.out" 2>"$TMP/e1.err" </dev/null
	check_eq "exec --detach: returns 0" 0 "$?"
	wait_for "the exec's output" 60 file_has "$TMP/e1.out" "to-stdout"
	check_eq "exec: stdout" "to-stdout" "$(cat "$TMP/e1.out")"
	wait_for "the exec's stderr" 10 file_has "$TMP/e1.err" "to-stderr"
	check_contains "exec: stderr" "to-stderr" "$(cat "$TMP/e1.err")"
	printf 'line one\nline two\n' | kr exec --detach "$cid" probe echo >"$TMP/e2.out" 2>"$TMP/e2.err"
	wait_for "the echo" 60 file_has "$TMP/e2.err" "bytes="
	check_eq "exec: stdin reaches the process, its EOF ends the input" $'line one\nline two' \
		"$(cat "$TMP/e2.out")"
	kr exec --detach --env EXTRA=added --cwd /etc --user 1000:1001 "$cid" sh -c \
		'echo EXTRA=$EXTRA CONTAINER_VAR=$CONTAINER_VAR cwd=$(pwd) ids=$(id -u):$(id -g)' \
		>"$TMP/e3.out" 2>/dev/null </dev/null
	wait_for "the exec's output" 60 file_has "$TMP/e3.out" "ids="
	out=$(cat "$TMP/e3.out")
	check_contains "exec --env" "EXTRA=added" "$out"
	check_contains "exec: the container's environment" "CONTAINER_VAR=from-spec" "$out"
	check_contains "exec --cwd" "cwd=/etc" "$out"
	check_contains "exec --user" "ids=1000:1001" "$out"
	kr exec "$cid" sh -c 'echo out; exit 5' >/dev/null 2>&1 </dev/null
	check_eq "exec: exit status 5" 5 "$?"
	kr exec "$cid" probe kill-self 15 >/dev/null 2>&1 </dev/null
	check_eq "exec: death by SIGTERM is 143" 143 "$?"
	kr exec "$cid" true >/dev/null 2>&1 </dev/null
	check_eq "exec: exit status 0" 0 "$?"

	"$TOOLS/console-receiver" --timeout 60 --rows 40 --cols 120 "$TMP/tty.sock" \
		>"$TMP/tty.out" 2>"$TMP/tty.receiver" &
	rpid=$!
	track_bg "$rpid"
	wait_for "the console socket" 10 test -S "$TMP/tty.sock"
	# the shim sends the window size once the process exists: ask a second later
	kr exec --detach --tty --console-socket "$TMP/tty.sock" "$cid" sh -c 'sleep 1; probe tty' \
		>/dev/null 2>&1 </dev/null
	wait_for "the terminal's output" 60 file_has "$TMP/tty.out" "cols="
	out=$(tr -d '\r' <"$TMP/tty.out")
	check_contains "exec --tty: stdout is a terminal" "stdout_tty=1" "$out"
	check_contains "exec --tty: window size from the shim" "rows=40" "$out"
	check_contains "exec --tty: window size (columns)" "cols=120" "$out"
	kill "$rpid" 2>/dev/null

	# killing an exec's shim kills its process (the proxy's SIGNALPROCESS 9)
	kr exec --detach --pid-file "$TMP/e4.pid" "$cid" sh -c 'exec sleep 4242' \
		>/dev/null 2>&1 </dev/null
	wait_for "the process" 60 exec_has_process "$cid" 4242
	if exec_has_process "$cid" 4242; then
		pass "exec: the process runs"
	else
		fail "exec: the process runs" "no sleep 4242 in the container"
	fi
	kill -KILL "$(cat "$TMP/e4.pid")"
	if wait_for "the process's end" 30 not exec_has_process "$cid" 4242; then
		pass "killing an exec's shim kills its process"
	else
		fail "killing an exec's shim kills its process" "sleep 4242 still runs"
	fi
	finish "exec" "$cid"
}

# A signal from the shim (SIGNALPROCESS, which hyperstart sends to a process group) reaches
# the program once. A real-time signal, since two of those are both queued where two SIGUSR1s
# could merge into one and hide a double delivery.
case_signal_once() {
	local id shim
	new_id signals
	id=$ID
	make_bundle "$TMP/$id" probe signals
	if ! kr_detached "$id" run -d --bundle "$TMP/$id" "$id"; then
		fail "run -d (signals)" "$(detached_error "$id")"
		return
	fi
	wait_for "the program's handlers" 60 file_has "$TMP/$id.out" "signals=ready"
	shim=$(state_field "$id" pid)
	kill -s RTMIN+1 "$shim"
	wait_for "the first signal" 30 file_has "$TMP/$id.out" "signal="
	sleep 3
	check_eq "a signal from the shim reaches the program once" 1 "$(grep -c '^signal=' "$TMP/$id.out")"
	kill -s RTMIN+1 "$shim"
	sleep 3
	check_eq "... and the next one once too" 2 "$(grep -c '^signal=' "$TMP/$id.out")"
	finish "signals" "$id"
}

# A daemon's orphan is reaped: the container's shell starts a loop in the background from a
# shell that exits at once, so the loop is an orphan in the pod's pid namespace, whose init
# (hyperstart's) reaps it when it ends. What stays a zombie is only what hyperstart itself
# started (kata-hyperstart-wait, one per ended process) and a helper of its own
# (docs/dialects.md), never a program of the container.
case_orphan_reaped() {
	local id pid out
	new_id orphan
	id=$ID
	make_bundle --copy "$TMP/$id" sh -c \
		'sh -c "(while [ ! -e /tmp/orphan-go ]; do sleep 1; done) & echo orphan=\$!"; exec sleep 1000'
	if ! kr_detached "$id" run -d --bundle "$TMP/$id" "$id"; then
		fail "run -d (orphan)" "$(detached_error "$id")"
		return
	fi
	wait_for "the orphan's pid" 60 file_has "$TMP/$id.out" "orphan="
	pid=$(sed -n 's/^orphan=\([0-9]*\).*/\1/p' "$TMP/$id.out")
	# let it end, then look for it for up to 30 s
	out=$(kr exec "$id" sh -c 'p=$1
		[ -e /proc/$p ] && echo "running: $(cut -d" " -f2-3 /proc/$p/stat)"
		touch /tmp/orphan-go
		i=0
		while [ -e /proc/$p ] && [ $i -lt 30 ]; do sleep 1; i=$((i + 1)); done
		if [ -e /proc/$p ]; then echo "left: $(cat /proc/$p/stat)"; else echo gone; fi' \
		sh "$pid" 2>&1 </dev/null)
	check_contains "an orphan of the container's program runs" "running: (sh) S" "$out"
	check_contains "... and is reaped when it ends: no zombie" "gone" "$out"
	kr exec "$id" sh -c 'exit 3' </dev/null >/dev/null 2>&1
	out=$(kr exec "$id" sh -c 'cat /proc/[0-9]*/stat | awk "\$3 == \"Z\" { print \$2 }"; echo listed' \
		2>/dev/null </dev/null)
	check_contains "the processes listed" listed "$out"
	check_eq "the zombies are hyperstart's and kata-hyperstart-wait's only" "" \
		"$(grep -v -x -e '(kata-hyperstart)' -e '(init)' -e listed <<<"$out")"
	finish "orphan" "$id"
}

# The container's network through hyperstart's STARTPOD interfaces and routes: a namespace
# made here with a veth (MTU 1400) whose peer is the test's side; the guest NIC gets the
# veth's name, address, MTU and MAC and the default route; TCP and ICMP both ways.
case_network() {
	local id out mac before
	netns_create "kata-e2e-hsnet-$$" || {
		fail "network namespace" "ip netns add failed"
		return
	}
	POD_NETNS="kata-e2e-hspod-$$"
	if ! { ip netns add "$POD_NETNS" &&
		ip -n "$TEST_NETNS" link add "hs-$$" mtu 1400 type veth peer name eth0 mtu 1400 netns "$POD_NETNS" &&
		ip -n "$TEST_NETNS" addr add 10.67.1.1/24 dev "hs-$$" &&
		ip -n "$TEST_NETNS" link set "hs-$$" up &&
		ip -n "$POD_NETNS" link set lo up &&
		ip -n "$POD_NETNS" addr add 10.67.1.2/24 dev eth0 &&
		ip -n "$POD_NETNS" link set eth0 up &&
		ip -n "$POD_NETNS" route add default via 10.67.1.1; }; then
		fail "the container's network namespace" "ip failed"
		return
	fi
	before=$(ip -n "$POD_NETNS" -o link show eth0 | sed 's/state [A-Z]* //')
	mac=$(ip -n "$POD_NETNS" -o link show eth0 | sed -n 's|.*link/ether \([^ ]*\).*|\1|p')
	new_id net
	id=$ID
	make_bundle "$TMP/$id" /usr/sbin/httpd -f -p 80 -h /etc &&
		bundle_edit "$TMP/$id" '.linux.namespaces = ([.linux.namespaces[] | select(.type != "network")]
			+ [{type: "network", path: $p}])' --arg p "/run/netns/$POD_NETNS"
	if ! kr_detached "$id" run -d --bundle "$TMP/$id" "$id"; then
		fail "run -d in a network namespace" "$(detached_error "$id")"
		return
	fi
	out=$(http_get 10.67.1.2 80 /hostname 120)
	check_eq "TCP from the veth's peer to the container (httpd)" kata "$(tr -d '\n' <<<"$out")"
	out=$(kr exec "$id" sh -c 'ip -o addr show dev eth0; cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address; ip route' 2>&1 </dev/null)
	check_contains "the guest's eth0 has the veth's address" "inet 10.67.1.2/24" "$out"
	check_contains "the guest's eth0 has the veth's MTU" $'\n1400\n' "$out"
	check_contains "the guest's eth0 has the veth's MAC" "$mac" "$out"
	check_contains "the guest has the default route" "default via 10.67.1.1 dev eth0" "$out"
	out=$("${IN_NETNS[@]}" busybox ping -c 1 -W 10 10.67.1.2 2>&1)
	check_contains "ICMP: the guest answers a ping from the veth's peer" "1 packets received" "$out"
	out=$(kr exec "$id" ping -c 1 -W 10 10.67.1.1 2>&1 </dev/null)
	check_contains "ICMP: the guest pings the veth's peer" "1 packets received" "$out"
	"${IN_NETNS[@]}" timeout 60 busybox nc -l -p 7070 >"$TMP/nc.out" 2>&1 &
	track_bg "$!"
	sleep 1
	kr exec "$id" sh -c 'echo from-the-guest | nc -w 5 10.67.1.1 7070' >/dev/null 2>&1 </dev/null
	wait_for "the guest's TCP connection" 20 file_has "$TMP/nc.out" "from-the-guest"
	check_eq "TCP from the guest to the veth's peer" "from-the-guest" "$(cat "$TMP/nc.out")"
	finish "network" "$id"
	check_eq "after delete the veth is as it was" "$before" \
		"$(ip -n "$POD_NETNS" -o link show eth0 | sed 's/state [A-Z]* //')"
	check_eq "after delete no tap is left" "" "$(kata_taps_in "/run/netns/$POD_NETNS")"
	check_eq "after delete no filter is left" "" "$(ip netns exec "$POD_NETNS" tc qdisc show dev eth0 ingress 2>&1)"
	ip -n "$POD_NETNS" -6 addr add fd00:6b67::2/64 dev eth0 nodad
	new_id net6
	make_bundle "$TMP/$ID" /bin/true &&
		bundle_edit "$TMP/$ID" '.linux.namespaces = ([.linux.namespaces[] | select(.type != "network")]
			+ [{type: "network", path: $p}])' --arg p "/run/netns/$POD_NETNS"
	out=$(kr create --bundle "$TMP/$ID" "$ID" 2>&1)
	check_eq "an IPv6 address: create fails" 1 "$?"
	check_contains "... naming the address and the dialect" \
		"interface \`eth0\`: address fd00:6b67::2/64: not possible with the hyperstart dialect" "$out"
	check_nothing_left "create with an IPv6 address" "$ID"
	check_eq "... and no tap is left" "" "$(kata_taps_in "/run/netns/$POD_NETNS")"
	ip netns del "$POD_NETNS"
	POD_NETNS=
	netns_delete
}

case_run_output
case_run_statuses
case_run_process
case_bind_mounts
case_lifecycle
case_exec
case_signal_once
case_orphan_reaped
case_network
rt_finish
