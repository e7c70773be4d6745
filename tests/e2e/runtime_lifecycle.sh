#!/bin/bash
# kata-runtime's OCI lifecycle driven directly: create, start, state in every status, ps,
# events, pause, resume, kill, delete; a process that exits by itself; a VM killed under
# the container; delete --force from every status, also of a create killed half-way;
# runc's default spec unchanged. After each container, nothing of it is left.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

# One container through every status, with the checks of each on the way.
case_full_lifecycle() {
	local id b pid out rc shim_cmd
	new_id life
	id=$ID
	b=$TMP/life
	mkdir -p "$TMP/life-mark"
	make_bundle "$b" sh -c 'touch /mark/started; exec probe sleep 1000'
	bundle_edit "$b" '.mounts += [{"destination": "/mark", "type": "bind", "source": $src,
		"options": ["rbind", "rw"]}]' --arg src "$TMP/life-mark"

	if ! kr_detached "$id" create --bundle "$b" --pid-file "$TMP/life.pid" "$id"; then
		fail "create" "$(detached_error "$id")"
		return
	fi
	pass "create"
	check_eq "create: status created" created "$(state_field "$id" status)"
	pid=$(state_field "$id" pid)
	check_eq "create: --pid-file is state's pid" "$pid" "$(cat "$TMP/life.pid" 2>/dev/null)"
	shim_cmd=$(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)
	check_contains "create: the pid is a kata-shim" "kata-shim -c $id " "$shim_cmd"
	check_eq "create: state's bundle" "$b" "$(state_field "$id" bundle)"
	check_eq "create: state's id" "$id" "$(state_field "$id" id)"
	if [ -n "$(qemu_pid_of "$id")" ]; then pass "create: the VM runs"; else
		fail "create: the VM runs" "no qemu named sandbox-$id"
	fi
	sleep 1
	if [ -e "$TMP/life-mark/started" ]; then
		fail "create: the program has not run yet" "it ran before start"
	else
		pass "create: the program has not run yet"
	fi
	check_contains "list: shows the created container" "$id" "$(kr list 2>&1)"

	if ! out=$(kr start "$id" 2>&1); then
		fail "start" "$out"
		return
	fi
	pass "start"
	if wait_for "the program to run" 15 test -e "$TMP/life-mark/started"; then
		pass "start: the program runs"
	else
		fail "start: the program runs" "no /mark/started after 15 s"
	fi
	check_eq "start: status running" running "$(state_field "$id" status)"
	check_eq "start: pid unchanged" "$pid" "$(state_field "$id" pid)"

	out=$(kr ps "$id" 2>&1)
	check_contains "ps: lists the program" "probe sleep 1000" "$out"
	out=$(kr ps --format json "$id" 2>&1)
	if jq -e 'type == "array" and length >= 1' <<<"$out" >/dev/null 2>&1; then
		pass "ps --format json: an array of pids"
	else
		fail "ps --format json: an array of pids" "$out"
	fi
	out=$(kr events --stats "$id" 2>&1)
	if jq -e --arg id "$id" '.type == "stats" and .id == $id and (.data.memory.usage.usage > 0)' \
		<<<"$out" >/dev/null 2>&1; then
		pass "events --stats: a stats event with memory usage"
	else
		fail "events --stats: a stats event with memory usage" "$out"
	fi

	out=$(timeout 3 "$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" events --interval 500ms "$id" \
		2>/dev/null | jq -c 'select(.type == "stats")' 2>/dev/null | wc -l)
	if [ "$out" -ge 3 ]; then pass "events --interval 500ms: an event every interval"; else
		fail "events --interval 500ms: an event every interval" "$out events in 3 s"
	fi

	if out=$(kr pause "$id" 2>&1); then pass "pause"; else fail "pause" "$out"; fi
	check_eq "pause: status paused" paused "$(state_field "$id" status)"
	check_eq "pause: pid kept" "$pid" "$(state_field "$id" pid)"
	if out=$(kr resume "$id" 2>&1); then pass "resume"; else fail "resume" "$out"; fi
	check_eq "resume: status running" running "$(state_field "$id" status)"
	out=$(kr exec "$id" probe exit 0 2>&1)
	check_eq "resume: the container answers again" "0" "$?"

	out=$(kr delete "$id" 2>&1)
	rc=$?
	if [ $rc -ne 0 ] && [[ "$out" == *running* ]]; then
		pass "delete of a running container without --force fails"
	else
		fail "delete of a running container without --force fails" "exit $rc: $out"
	fi
	check_eq "delete without --force: the container still runs" running \
		"$(state_field "$id" status)"

	if out=$(kr kill "$id" KILL 2>&1); then pass "kill KILL"; else fail "kill KILL" "$out"; fi
	if wait_status "$id" stopped 15; then pass "kill: status stopped"; else
		fail "kill: status stopped" "status is $(state_field "$id" status)"
	fi
	check_eq "stopped: pid 0" 0 "$(state_field "$id" pid)"
	if out=$(kr delete "$id" 2>&1); then pass "delete of a stopped container"; else
		fail "delete of a stopped container" "$out"
	fi
	check_nothing_left "delete" "$id"
	out=$(kr state "$id" 2>&1)
	check_eq "state after delete fails" 1 "$?"
}

case_exits_by_itself() {
	local id b out
	new_id self
	id=$ID
	b=$TMP/self
	make_bundle "$b" probe sleep 1
	if ! kr_detached "$id" run -d --bundle "$b" "$id"; then
		fail "exit by itself: run -d" "$(detached_error "$id")"
		return
	fi
	if wait_status "$id" stopped 20; then pass "exit by itself: status stopped"; else
		fail "exit by itself: status stopped" "status is $(state_field "$id" status)"
	fi
	if out=$(kr delete "$id" 2>&1); then pass "exit by itself: delete"; else
		fail "exit by itself: delete" "$out"
	fi
	check_nothing_left "exit by itself" "$id"
}

case_vm_killed() {
	local id b out qemu
	new_id vmkill
	id=$ID
	b=$TMP/vmkill
	make_bundle "$b" probe sleep 1000
	if ! kr_detached "$id" run -d --bundle "$b" "$id"; then
		fail "qemu killed: run -d" "$(detached_error "$id")"
		return
	fi
	qemu=$(qemu_pid_of "$id")
	if [ -z "$qemu" ]; then
		fail "qemu killed: find qemu" "no qemu named sandbox-$id"
		return
	fi
	kill -KILL "$qemu"
	if wait_status "$id" stopped 20; then pass "qemu killed: status stopped"; else
		fail "qemu killed: status stopped" "status is $(state_field "$id" status)"
	fi
	out=$(kr exec "$id" true 2>&1)
	check_eq "qemu killed: exec fails" 1 "$?"
	if out=$(kr delete "$id" 2>&1); then pass "qemu killed: delete"; else
		fail "qemu killed: delete" "$out"
	fi
	check_nothing_left "qemu killed" "$id"
}

# A created container can be killed (as with runc), then deleted without --force.
case_kill_created() {
	local id out
	new_id killcreated
	id=$ID
	make_bundle "$TMP/killcreated" probe sleep 1000
	if ! kr_detached "$id" create --bundle "$TMP/killcreated" "$id"; then
		fail "kill of a created container: create" "$(detached_error "$id")"
		return
	fi
	if out=$(kr kill "$id" KILL 2>&1); then pass "kill of a created container"; else
		fail "kill of a created container" "$out"
	fi
	if wait_status "$id" stopped 15; then pass "kill of a created container: stopped"; else
		fail "kill of a created container: stopped" "status is $(state_field "$id" status)"
	fi
	if out=$(kr delete "$id" 2>&1); then pass "kill of a created container: delete"; else
		fail "kill of a created container: delete" "$out"
	fi
	check_nothing_left "kill of a created container" "$id"
}

# delete --force from created, running and paused.
case_force_delete() {
	local status id b out
	for status in created running paused; do
		new_id "force-$status"
		id=$ID
		b=$TMP/force-$status
		make_bundle "$b" probe sleep 1000
		if ! kr_detached "$id" create --bundle "$b" "$id"; then
			fail "delete --force when $status: create" "$(detached_error "$id")"
			continue
		fi
		[ "$status" = created ] || kr start "$id" >/dev/null 2>&1
		[ "$status" = paused ] && kr pause "$id" >/dev/null 2>&1
		check_eq "delete --force when $status: status" "$status" "$(state_field "$id" status)"
		if out=$(kr delete --force "$id" 2>&1); then
			pass "delete --force when $status"
		else
			fail "delete --force when $status" "$out"
		fi
		check_nothing_left "delete --force when $status" "$id"
	done
}

# A create killed while the VM boots leaves a half-made container: delete --force
# removes it. Killed at two points: as soon as qemu exists (the backend is starting it)
# and once the proxy waits for the agent (where a create spends most of its time).
proxy_pid_of() {
	local pid
	pid=$(pgrep -f -- "kata-proxy -listen-socket $(sandbox_dir "$ROOT" "$1")/" | head -n 1)
	[ -n "$pid" ] && echo "$pid"
}

half_created() {
	local name=$1 wait_for_pid=$2 create_pid out
	new_id "half-$name"
	make_bundle "$TMP/half-$name" probe sleep 1000
	"$RUNTIME" --kata-config "$CONFIG" --root "$ROOT" create --bundle "$TMP/half-$name" "$ID" \
		>/dev/null 2>"$TMP/half-$name.err" </dev/null &
	create_pid=$!
	track_bg "$create_pid"
	if ! wait_for "$name of $ID" 60 "$wait_for_pid" "$ID"; then
		fail "half-created ($name): boots" "no $name for $ID: $(head -c 400 "$TMP/half-$name.err")"
		return
	fi
	kill -KILL "$create_pid"
	wait "$create_pid" 2>/dev/null
	out=$(kr state "$ID" 2>&1)
	if jq -e '.status == "creating"' <<<"$out" >/dev/null 2>&1; then
		pass "half-created ($name): state says creating"
	else
		fail "half-created ($name): state says creating" "$out"
	fi
	if out=$(kr delete --force "$ID" 2>&1); then pass "half-created ($name): delete --force"; else
		fail "half-created ($name): delete --force" "$out"
	fi
	check_nothing_left "half-created ($name)" "$ID"
}

case_half_created() {
	half_created qemu qemu_pid_of
	half_created proxy proxy_pid_of
}

# runc's default spec as it is: ambient capabilities and a cgroup mount at /sys/fs/cgroup.
case_default_spec() {
	local id b out rc
	new_id spec
	id=$ID
	b=$TMP/spec
	make_bundle "$b" probe caps mounts
	out=$(kr run --bundle "$b" "$id" 2>&1 </dev/null)
	rc=$?
	check_eq "runc's default spec: runs (exit 0)" 0 "$rc"
	check_contains "runc's default spec: cgroups mounted at /sys/fs/cgroup" \
		"mount=/sys/fs/cgroup" "$out"
	check_nothing_left "runc's default spec" "$id"
}

case_full_lifecycle
case_exits_by_itself
case_vm_killed
case_kill_created
case_force_delete
case_half_created
case_default_spec
rt_finish
