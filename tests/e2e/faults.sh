#!/bin/bash
# Fault injection: kata-runtime killed (SIGKILL) at many points of create, start, exec and
# delete, by delay and at named steps; qemu, kata-proxy, kata-shim and virtiofsd killed
# under a running container; damaged records and bad input. After each: `state` and
# `list` tell the truth, `delete --force` removes everything (process, mount, directory,
# record), the id can be used again, and a bystander container running through the whole
# suite notices nothing.
#
# The named steps are fault_point() calls (cli/fault_point.h): only the test build
# build/tests/tools/kata-runtime-faults stops there (SIGSTOP, when KATA_FAULT_STOP_AT names
# the step); the suite checks that the shipped kata-runtime has no such hook.
set -u
. "$(dirname "$0")/lib/runtime.sh"
FAULTS=$TOOLS/kata-runtime-faults
if [ ! -x "$FAULTS" ]; then
	fail "prerequisites" "$FAULTS is missing: run make tools"
	exit 1
fi
rt_init
POINTS=0

# kf ARGS...: the test build of the runtime, with this script's configuration and root.
kf() { "$FAULTS" --kata-config "$CONFIG" --root "$ROOT" "$@"; }

new_id bystander
BYSTANDER=$ID
make_bundle "$TMP/sleeper" probe sleep 1000
make_bundle "$TMP/quick" probe exit 0
if ! kr_detached "$BYSTANDER" run -d --bundle "$TMP/sleeper" "$BYSTANDER"; then
	fail "bystander: run -d" "$(detached_error "$BYSTANDER")"
	rt_finish
fi
BYSTANDER_PID=$(state_field "$BYSTANDER" pid)
BYSTANDER_QEMU=$(qemu_pid_of "$BYSTANDER")

# stop_at STEP ID ARGS...: runs the test build with ARGS until it stops at STEP, then
# kills it with SIGKILL. Fails when it ended without reaching the step.
stop_at() {
	local step=$1 id=$2 pid i st
	shift 2
	KATA_FAULT_STOP_AT=$step "$FAULTS" --kata-config "$CONFIG" --root "$ROOT" "$@" \
		>"$TMP/$id.out" 2>"$TMP/$id.err" </dev/null &
	pid=$!
	for ((i = 0; i < 600; i++)); do
		st=$(proc_state "$pid")
		[ "$st" = T ] && break
		if [ -z "$st" ] || [ "$st" = Z ]; then
			wait "$pid" 2>/dev/null
			echo "ended before $step: $(head -c 300 "$TMP/$id.err")"
			return 1
		fi
		sleep 0.05
	done
	kill -KILL "$pid"
	wait "$pid" 2>/dev/null
	[ "$st" = T ] || {
		echo "did not reach $step in 30 s"
		return 1
	}
	return 0
}

# kill_after MS ID ARGS...: runs the test build (no step named) and kills it after MS ms.
kill_after() {
	local ms=$1 id=$2 pid
	shift 2
	"$FAULTS" --kata-config "$CONFIG" --root "$ROOT" "$@" >"$TMP/$id.out" 2>"$TMP/$id.err" \
		</dev/null &
	pid=$!
	sleep "$(printf '0.%03d' "$ms")"
	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# status_in ID ALLOWED...: `state` answers with one of ALLOWED ("gone": does not exist),
# and `list` shows the same.
status_in() {
	local name=$1 id=$2 out status listed
	shift 2
	if out=$(kr state "$id" 2>&1); then
		status=$(jq -r .status <<<"$out")
	elif [[ "$out" == *"does not exist"* ]]; then
		status=gone
	else
		fail "$name: state" "$out"
		return 1
	fi
	listed=$(kr list --format json 2>/dev/null | jq -r --arg id "$id" \
		'[.[] | select(.id == $id) | .status] | first // "gone"')
	if [ "$listed" != "$status" ]; then
		fail "$name: list agrees with state" "state: $status, list: $listed"
		return 1
	fi
	for s in "$@"; do
		if [ "$s" = "$status" ]; then
			pass "$name: state and list say $status"
			return 0
		fi
	done
	fail "$name: state" "status $status, expected one of: $*"
	return 1
}

# recover NAME ID: delete --force leaves nothing, and the id runs a container again.
recover() {
	local name=$1 id=$2 out
	delete_and_check "$name" "$id"
	if out=$(kr run --bundle "$TMP/quick" "$id" 2>&1 </dev/null); then
		pass "$name: the id is usable again"
	else
		fail "$name: the id is usable again" "$(head -c 400 <<<"$out")"
	fi
	check_nothing_left "$name: after reuse" "$id"
}

# ---- the hook is the test build's only ----------------------------------------------------
if grep -q KATA_FAULT_STOP_AT "$FAULTS" && ! grep -q KATA_FAULT_STOP_AT "$RUNTIME"; then
	pass "the shipped kata-runtime has no fault hook"
else
	fail "the shipped kata-runtime has no fault hook" "KATA_FAULT_STOP_AT in $RUNTIME"
fi

# ---- create, killed at each named step ---------------------------------------------------
# What state says after each: no record yet or "creating" (create never finished), or
# created once its record says so.
CREATE_STEPS="state-dir sandbox-dir sandbox-prepared rootfs-shared vm-created vm-recorded
vm-started proxy-started proxy-ready registered shim-started pod-started container-created
create-saved"
for step in $CREATE_STEPS; do
	new_id "c-$step"
	POINTS=$((POINTS + 1))
	if ! why=$(stop_at "$step" "$ID" create --bundle "$TMP/sleeper" "$ID"); then
		fail "create killed at $step" "$why"
		continue
	fi
	case $step in
	create-saved) status_in "create killed at $step" "$ID" created ;;
	*) status_in "create killed at $step" "$ID" creating ;;
	esac
	if [ "$step" = state-dir ]; then
		# Nothing but the directory: a second create of the id is refused, not lost.
		kr_detached "$ID-again" create --bundle "$TMP/sleeper" "$ID"
		check_contains "create killed at $step: a new create says it exists" \
			"already exists" "$(detached_error "$ID-again")"
	fi
	recover "create killed at $step" "$ID"
done

# ---- create, killed after a delay ----------------------------------------------------------
for ms in 1 3 10 30 100 300 600; do
	new_id "cd-$ms"
	POINTS=$((POINTS + 1))
	kill_after "$ms" "$ID" create --bundle "$TMP/sleeper" "$ID"
	status_in "create killed after $ms ms" "$ID" gone creating created
	recover "create killed after $ms ms" "$ID"
done

# ---- start ------------------------------------------------------------------------------------
for step in start-locked start-sent; do
	new_id "s-$step"
	POINTS=$((POINTS + 1))
	if ! kr_detached "$ID" create --bundle "$TMP/sleeper" "$ID"; then
		fail "start killed at $step: create" "$(detached_error "$ID")"
		continue
	fi
	if ! why=$(stop_at "$step" "$ID" start "$ID"); then
		fail "start killed at $step" "$why"
		continue
	fi
	# The record says created until start saved running; the process may run already.
	status_in "start killed at $step" "$ID" created running
	recover "start killed at $step" "$ID"
done

# ---- exec: the container goes on running --------------------------------------------------
for step in exec-started exec-shim-started; do
	new_id "e-$step"
	POINTS=$((POINTS + 1))
	if ! kr_detached "$ID" run -d --bundle "$TMP/sleeper" "$ID"; then
		fail "exec killed at $step: run -d" "$(detached_error "$ID")"
		continue
	fi
	if ! why=$(stop_at "$step" "$ID" exec -d "$ID" probe sleep 1000); then
		fail "exec killed at $step" "$why"
		continue
	fi
	status_in "exec killed at $step" "$ID" running
	out=$(kr exec "$ID" probe echo still-here 2>&1 </dev/null)
	check_contains "exec killed at $step: another exec works" still-here "$out"
	recover "exec killed at $step" "$ID"
done

# ---- delete, killed at each named step and after delays -----------------------------------
for step in delete-locked vm-stopped unmounted delete-torn-down; do
	new_id "d-$step"
	POINTS=$((POINTS + 1))
	if ! kr_detached "$ID" run -d --bundle "$TMP/sleeper" "$ID"; then
		fail "delete killed at $step: run -d" "$(detached_error "$ID")"
		continue
	fi
	if ! why=$(stop_at "$step" "$ID" delete --force "$ID"); then
		fail "delete killed at $step" "$why"
		continue
	fi
	case $step in
	delete-locked) status_in "delete killed at $step" "$ID" running ;;
	# The shim outlives the VM by its reconnection time (3 s): running until it gives up.
	vm-stopped) status_in "delete killed at $step" "$ID" running stopped ;;
	*) status_in "delete killed at $step" "$ID" stopped ;;
	esac
	recover "delete killed at $step" "$ID"
done
for ms in 20 200; do
	new_id "dd-$ms"
	POINTS=$((POINTS + 1))
	if ! kr_detached "$ID" run -d --bundle "$TMP/sleeper" "$ID"; then
		fail "delete killed after $ms ms: run -d" "$(detached_error "$ID")"
		continue
	fi
	kill_after "$ms" "$ID" delete --force "$ID"
	status_in "delete killed after $ms ms" "$ID" running stopped gone
	recover "delete killed after $ms ms" "$ID"
done

# ---- a host process of a running container killed ---------------------------------------
# kill_component NAME ID PID: SIGKILL, then the container is stopped, delete (not forced)
# removes everything.
kill_component() {
	local name=$1 id=$2 pid=$3 out
	POINTS=$((POINTS + 1))
	if [ -z "$pid" ]; then
		fail "$name killed" "no such process of $id"
		return
	fi
	kill -KILL "$pid"
	if wait_status "$id" stopped 20; then
		pass "$name killed: the container is stopped"
	else
		fail "$name killed: the container is stopped" "status $(state_field "$id" status)"
	fi
	if out=$(kr delete "$id" 2>&1); then
		pass "$name killed: delete"
	else
		fail "$name killed: delete" "$out"
	fi
	check_nothing_left "$name killed" "$id"
}

# The shipped runtime ignores the hook's variable: it runs through every step.
new_id k-qemu
if KATA_FAULT_STOP_AT=state-dir kr_detached "$ID" run -d --bundle "$TMP/sleeper" "$ID"; then
	pass "the shipped kata-runtime ignores KATA_FAULT_STOP_AT"
	kill_component qemu "$ID" "$(qemu_pid_of "$ID")"
else
	fail "the shipped kata-runtime ignores KATA_FAULT_STOP_AT" "$(detached_error "$ID")"
fi

new_id k-proxy
if kr_detached "$ID" run -d --bundle "$TMP/sleeper" "$ID"; then
	kill_component kata-proxy "$ID" \
		"$(pgrep -f -- "kata-proxy -listen-socket $(sandbox_dir "$ROOT" "$ID")/" | head -n 1)"
fi

new_id k-shim
if kr_detached "$ID" run -d --bundle "$TMP/sleeper" "$ID"; then
	kill_component kata-shim "$ID" "$(state_field "$ID" pid)"
fi

VIRTIOFSD=/usr/lib/qemu/virtiofsd
if [ -x "$VIRTIOFSD" ]; then
	VFS_CONFIG=$TMP/virtiofs.toml
	sed -e 's|^machine_type = .*|machine_type = "q35"|' \
		-e 's|^shared_fs = .*|shared_fs = "virtio-fs"|' "$CONFIG" >"$VFS_CONFIG"
	new_id k-virtiofsd
	SAVED_CONFIG=$CONFIG
	CONFIG=$VFS_CONFIG
	if kr_detached "$ID" run -d --bundle "$TMP/sleeper" "$ID"; then
		kill_component virtiofsd "$ID" \
			"$(pgrep -f -- "virtiofsd.*$(sandbox_dir "$ROOT" "$ID")/" | head -n 1)"
	else
		fail "virtiofsd: run -d" "$(detached_error "$ID")"
	fi
	CONFIG=$SAVED_CONFIG
else
	skip "virtiofsd killed" "$VIRTIOFSD is not installed"
fi

# ---- a foreground run whose VM dies says so --------------------------------------------
new_id fg-vm-dies
POINTS=$((POINTS + 1))
kr run --bundle "$TMP/sleeper" "$ID" >"$TMP/fg.out" 2>"$TMP/fg.err" </dev/null &
FG=$!
track_bg "$FG"
if wait_for "the VM of $ID" 60 qemu_pid_of "$ID" && wait_status "$ID" running 30; then
	kill -KILL "$(qemu_pid_of "$ID")"
	wait "$FG"
	rc=$?
	check_eq "foreground run, VM killed: exit status" 255 "$rc"
	check_contains "foreground run, VM killed: says why" "its VM ended" "$(cat "$TMP/fg.err")"
else
	fail "foreground run, VM killed" "the container did not run: $(head -c 300 "$TMP/fg.err")"
fi
check_nothing_left "foreground run, VM killed" "$ID"

# ---- a damaged record ------------------------------------------------------------------------
new_id damaged
POINTS=$((POINTS + 1))
if kr_detached "$ID" run -d --bundle "$TMP/sleeper" "$ID"; then
	truncate -s 100 "$ROOT/$ID/state.json"
	out=$(kr list 2>&1)
	check_contains "damaged record: list shows it" "$ID" "$out"
	check_contains "damaged record: list says unknown" "unknown" "$(grep -- "$ID" <<<"$out")"
	out=$(kr state "$ID" 2>&1)
	check_contains "damaged record: state says how to remove it" "delete --force $ID" "$out"
	out=$(kr delete "$ID" 2>&1)
	check_contains "damaged record: delete without --force refuses" "delete --force" "$out"
	recover "damaged record" "$ID"
else
	fail "damaged record: run -d" "$(detached_error "$ID")"
fi

# ---- bad input refused before anything is made ------------------------------------------
# One id limit (128, the agent's): refused at once, no VM booted; 128 works end to end.
LONG=$(printf 'i%.0s' $(seq 1 129))
IDS+=("$LONG")
start_ms=$(date +%s%3N)
kr_detached long create --bundle "$TMP/quick" "$LONG"
elapsed=$(($(date +%s%3N) - start_ms))
check_contains "an id of 129 characters is refused" "at most 128 characters" \
	"$(detached_error long)"
if [ -e "$ROOT/$LONG" ] || [ "$elapsed" -gt 1000 ]; then
	fail "an id of 129 characters: nothing made" "took $elapsed ms, $ROOT/$LONG: $(ls "$ROOT")"
else
	pass "an id of 129 characters: nothing made"
fi
ID=${LONG:0:128}
IDS+=("$ID")
if out=$(kr run --bundle "$TMP/quick" "$ID" 2>&1 </dev/null); then
	pass "an id of 128 characters runs"
else
	fail "an id of 128 characters runs" "$(head -c 400 <<<"$out")"
fi
check_nothing_left "an id of 128 characters" "$ID"

# A /proc that links to /etc: runc refuses it, so does create (nothing booted).
make_bundle --copy "$TMP/proc-link" probe exit 0
rm -rf "$TMP/proc-link/rootfs/proc" && ln -s /etc "$TMP/proc-link/rootfs/proc"
new_id proc-link
kr_detached "$ID" create --bundle "$TMP/proc-link" "$ID"
check_contains "a /proc symlink is refused" "must be mounted on ordinary directory" \
	"$(detached_error "$ID")"
check_nothing_left "a /proc symlink" "$ID"

# A create refused by its backend (libvirt takes no microvm) leaves no record.
LV_CONFIG=$TMP/libvirt-microvm.toml
# (the shipped file leaves machine_type out: microvm for qemu, q35 for libvirt)
sed -e '/^machine_type = /d' \
	-e 's|^\[hypervisor.qemu\]|[hypervisor.libvirt]\nmachine_type = "microvm"|' \
	"$CONFIG" >"$LV_CONFIG"
new_id libvirt-refused
CONFIG=$LV_CONFIG kr_detached "$ID" create --bundle "$TMP/sleeper" "$ID"
check_contains "a create the libvirt backend refuses: error" "microvm" "$(detached_error "$ID")"
status_in "a create the libvirt backend refuses: no record" "$ID" gone
check_nothing_left "a create the libvirt backend refuses" "$ID"

# ---- the bystander noticed nothing ----------------------------------------------------------
check_eq "bystander: still running" running "$(state_field "$BYSTANDER" status)"
check_eq "bystander: same shim" "$BYSTANDER_PID" "$(state_field "$BYSTANDER" pid)"
check_eq "bystander: same VM" "$BYSTANDER_QEMU" "$(qemu_pid_of "$BYSTANDER")"
out=$(kr exec "$BYSTANDER" probe echo alive 2>&1 </dev/null)
check_contains "bystander: answers" alive "$out"
delete_and_check "bystander" "$BYSTANDER"
echo "injection points: $POINTS, in $SECONDS s"
rt_finish
