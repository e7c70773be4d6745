#!/bin/bash
# kata-runtime called concurrently, as engines do: three containers created in parallel
# all work; two creates of one id race and exactly one wins; kills and states racing on
# one container are serialised (every kill arrives, every state is whole JSON, the
# record stays intact).
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

case_parallel_creates() {
	local ids=() pids=() i id ok=0 out
	for i in 1 2 3; do
		new_id "par$i"
		ids+=("$ID")
		make_bundle "$TMP/par$i" sh -c "echo I am $i; exec probe sleep 1000"
	done
	for i in 0 1 2; do
		kr_detached "${ids[$i]}" create --bundle "$TMP/par$((i + 1))" "${ids[$i]}" &
		pids+=($!)
		track_bg "$!"
	done
	for i in 0 1 2; do
		wait "${pids[$i]}" && ok=$((ok + 1))
	done
	check_eq "3 parallel creates succeed" 3 "$ok"
	for i in 0 1 2; do
		id=${ids[$i]}
		check_eq "parallel create $((i + 1)): created" created "$(state_field "$id" status)"
		kr start "$id" >/dev/null 2>&1
	done
	for i in 0 1 2; do
		id=${ids[$i]}
		check_eq "parallel create $((i + 1)): running" running "$(state_field "$id" status)"
		out=$(kr exec "$id" probe hostname 2>&1 </dev/null)
		check_contains "parallel create $((i + 1)): its own VM answers" "hostname=" "$out"
		wait_for "output of $id" 10 grep -q "I am" "$TMP/$id.out"
		check_eq "parallel create $((i + 1)): its own output" "I am $((i + 1))" \
			"$(cat "$TMP/$id.out")"
	done
	check_eq "list shows the 3" 3 "$(kr list --quiet | grep -c "^rt$$-par")"
	for i in 0 1 2; do
		kr delete --force "${ids[$i]}" >/dev/null 2>&1 &
		pids[$i]=$!
	done
	for i in 0 1 2; do
		wait "${pids[$i]}"
		check_eq "parallel delete $((i + 1))" 0 "$?"
	done
	for i in 0 1 2; do
		check_nothing_left "parallel $((i + 1))" "${ids[$i]}"
	done
}

case_duplicate_race() {
	local a b sa sb
	new_id dup
	make_bundle "$TMP/dup" probe sleep 1000
	kr create --bundle "$TMP/dup" "$ID" >"$TMP/dup-a.out" 2>"$TMP/dup-a.err" </dev/null &
	a=$!
	kr create --bundle "$TMP/dup" "$ID" >"$TMP/dup-b.out" 2>"$TMP/dup-b.err" </dev/null &
	b=$!
	track_bg "$a"
	track_bg "$b"
	wait "$a"
	sa=$?
	wait "$b"
	sb=$?
	if { [ $sa -eq 0 ] && [ $sb -ne 0 ]; } || { [ $sa -ne 0 ] && [ $sb -eq 0 ]; }; then
		pass "two creates of one id: exactly one wins"
	else
		fail "two creates of one id: exactly one wins" "exits $sa and $sb: $(cat "$TMP/dup-a.err" "$TMP/dup-b.err")"
	fi
	check_contains "two creates of one id: the loser says why" "already exists" \
		"$(cat "$TMP/dup-a.err" "$TMP/dup-b.err")"
	check_eq "two creates of one id: the winner's container is created" created \
		"$(state_field "$ID" status)"
	delete_and_check "duplicate race" "$ID"
}

# Realtime signals queue, so every kill that got through shows up in the guest.
case_kill_state_race() {
	local pids=() i n_kills=12 ok=0 bad_state=0 got
	new_id race
	make_bundle "$TMP/race" probe signals --until 10
	if ! kr_detached "$ID" run -d --bundle "$TMP/race" "$ID" ||
		! wait_for "the handlers" 60 grep -q ready "$TMP/$ID.out"; then
		fail "kill/state race: run -d" "$(detached_error "$ID")"
		return
	fi
	for ((i = 0; i < n_kills; i++)); do
		kr kill "$ID" 35 >/dev/null 2>"$TMP/race-kill-$i.err" &
		pids+=($!)
		kr state "$ID" >"$TMP/race-state-$i.json" 2>&1 &
		pids+=($!)
	done
	for ((i = 0; i < ${#pids[@]}; i += 2)); do
		wait "${pids[$i]}" && ok=$((ok + 1))
		wait "${pids[$((i + 1))]}"
	done
	check_eq "kill/state race: every kill succeeds" "$n_kills" "$ok"
	for ((i = 0; i < n_kills; i++)); do
		jq -e '.status == "running"' "$TMP/race-state-$i.json" >/dev/null 2>&1 ||
			bad_state=$((bad_state + 1))
	done
	check_eq "kill/state race: every state is whole and running" 0 "$bad_state"
	wait_for "the signals" 20 bash -c "[ \$(grep -c '^signal=35' '$TMP/$ID.out') -ge $n_kills ]"
	got=$(grep -c '^signal=35' "$TMP/$ID.out")
	check_eq "kill/state race: every signal arrives once" "$n_kills" "$got"
	if jq -e . "$ROOT/$ID/state.json" >/dev/null 2>&1; then
		pass "kill/state race: the record is intact"
	else
		fail "kill/state race: the record is intact" "$(head -c 300 "$ROOT/$ID/state.json")"
	fi
	check_eq "kill/state race: still running" running "$(state_field "$ID" status)"
	kr kill "$ID" 10 >/dev/null 2>&1
	wait_status "$ID" stopped 20
	check_eq "kill/state race: SIGUSR1 ends it" stopped "$(state_field "$ID" status)"
	delete_and_check "kill/state race" "$ID"
}

case_parallel_creates
case_duplicate_race
case_kill_state_race
rt_finish
