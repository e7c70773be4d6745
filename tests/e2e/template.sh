#!/bin/bash
# VM templating (docs/templating.md): factory init, status and destroy; containers from
# the template with the right output and exit code, fresh entropy and the host's clock; a
# stale template (a new initrd) rebuilt with a log line; a damaged or half-made template
# refused with a clear error and a normal boot; ten sandboxes from one template at once; on
# q35, a sandbox with a NIC from the template, its NIC hot-plugged once the state is loaded,
# with internetworking_model "tcfilter" and "macvtap" (the network lives in namespaces made
# here); [agent.kata] enable_debug reaching a clone's agent.
set -u
. "$(dirname "$0")/lib/runtime.sh"
. "$(dirname "$0")/lib/netns.sh"
rt_init
tpl_cleanup() {
	rt_cleanup
	netns_delete
}
trap tpl_cleanup EXIT

TPL=$TMP/t
cp "$BUILD/guest/kata-initrd.img" "$TMP/initrd.img"
sed -E "s|^initrd = .*|initrd = \"$TMP/initrd.img\"|" "$CONFIG" >"$TMP/template.toml"
printf '\n[factory]\nenable_template = true\ntemplate_path = "%s"\n' "$TPL" >>"$TMP/template.toml"
CONFIG=$TMP/template.toml
export CONFIG

status_of() { kr factory status 2>&1 | sed -n 's/^template status: //p'; }

# run_one NAME ARGS...: `run` of a container whose process is ARGS, with the runtime's
# debug log in $TMP/NAME.log; its output in $TMP/NAME.out, exit code in RC.
run_one() {
	local name=$1
	shift
	new_id "$name"
	make_bundle "$TMP/$name" "$@"
	kr --debug --log "$TMP/$name.log" run --bundle "$TMP/$name" "$ID" >"$TMP/$name.out" \
		2>"$TMP/$name.err" </dev/null
	RC=$?
	kr delete --force "$ID" >/dev/null 2>&1
}

from_template() { grep -q "started from the template" "$TMP/$1.log"; }

case_factory_init() {
	local out
	check_eq "status before init" absent "$(status_of)"
	if out=$(kr factory init 2>&1); then pass "factory init"; else
		fail "factory init" "$out"
		return 1
	fi
	check_eq "status after init" ready "$(status_of)"
	if [ -s "$TPL/memory" ] && [ -s "$TPL/state" ] && [ -s "$TPL/template.json" ]; then
		pass "factory init: memory, device state and template.json saved"
	else
		fail "factory init: memory, device state and template.json saved" "$(ls -l "$TPL")"
	fi
	if pgrep -f -- "-name sandbox-template " >/dev/null; then
		fail "factory init: the template's qemu is gone" "it still runs"
	else
		pass "factory init: the template's qemu is gone"
	fi
}

case_clone_runs() {
	run_one clone1 sh -c 'echo hello from a clone; exit 7'
	check_eq "clone: exit code" 7 "$RC"
	check_eq "clone: output" "hello from a clone" "$(cat "$TMP/clone1.out")"
	if from_template clone1; then pass "clone: started from the template"; else
		fail "clone: started from the template" "$(grep -i template "$TMP/clone1.log" | head -3)"
	fi
	check_nothing_left "clone" "$ID"
}

# The template was made seconds ago: a clone's clock is the host's, not the template's;
# two clones draw different random numbers (the guest RNG re-seeded from the host).
case_clone_entropy_and_clock() {
	local u1 u2 t host
	sleep 3
	run_one rng1 sh -c 'cat /proc/sys/kernel/random/uuid; date +%s'
	run_one rng2 sh -c 'cat /proc/sys/kernel/random/uuid; date +%s'
	host=$(date +%s)
	u1=$(head -n 1 "$TMP/rng1.out")
	u2=$(head -n 1 "$TMP/rng2.out")
	t=$(sed -n 2p "$TMP/rng2.out")
	if from_template rng1 && from_template rng2 && [ -n "$u1" ] && [ "$u1" != "$u2" ]; then
		pass "clones: different random numbers"
	else
		fail "clones: different random numbers" "'$u1' and '$u2'"
	fi
	if [ -n "$t" ] && [ $((host - t)) -le 2 ] && [ $((t - host)) -le 2 ]; then
		pass "clone: the host's clock"
	else
		fail "clone: the host's clock" "guest $t, host $host"
	fi
}

case_stale_template_rebuilt() {
	local before after
	before=$(jq -r .created "$TPL/template.json")
	sleep 1
	touch "$TMP/initrd.img" # a new initrd: another agent, as far as the key knows
	check_eq "stale: status" stale "$(status_of)"
	run_one stale sh -c 'echo after a new initrd'
	check_eq "stale: output" "after a new initrd" "$(cat "$TMP/stale.out")"
	check_contains "stale: rebuilt with a log line" "making a new one" "$(cat "$TMP/stale.log")"
	after=$(jq -r .created "$TPL/template.json")
	if from_template stale && [ "$after" != "$before" ]; then
		pass "stale: a new template, used"
	else
		fail "stale: a new template, used" "created $before -> $after"
	fi
	check_eq "stale: status after" ready "$(status_of)"
}

case_damaged_template() {
	local size
	# Truncated device state: found by its size, never given to qemu.
	truncate -s 100 "$TPL/state"
	check_eq "damaged: status" damaged "$(status_of)"
	run_one damaged1 sh -c 'echo booted anyway'
	check_eq "damaged: normal boot, output" "booted anyway" "$(cat "$TMP/damaged1.out")"
	if from_template damaged1; then fail "damaged: not used" "a clone started"; else
		pass "damaged: not used"
	fi
	check_contains "damaged: a clear error" "damaged" "$(cat "$TMP/damaged1.log")"
	# Garbage of the right size: qemu cannot load it, the sandbox boots normally.
	kr factory init >/dev/null 2>&1
	size=$(stat -c %s "$TPL/state")
	head -c "$size" /dev/urandom >"$TPL/state"
	run_one damaged2 sh -c 'echo booted anyway'
	check_eq "damaged state: normal boot, output" "booted anyway" "$(cat "$TMP/damaged2.out")"
	check_contains "damaged state: a clear error" "booting normally" "$(cat "$TMP/damaged2.log")"
	check_nothing_left "damaged state" "$ID"
	# Half made: no template.json (its maker died).
	kr factory init >/dev/null 2>&1
	rm -f "$TPL/template.json"
	check_eq "half made: status" damaged "$(status_of)"
	run_one half sh -c 'echo booted anyway'
	check_eq "half made: normal boot, output" "booted anyway" "$(cat "$TMP/half.out")"
	check_contains "half made: a clear error" "half made" "$(cat "$TMP/half.log")"
	kr factory init >/dev/null 2>&1
}

case_ten_at_once() {
	local i pids=() ok=0 clones=0
	for i in $(seq 1 10); do
		new_id "ten$i"
		make_bundle "$TMP/ten$i" sh -c "echo clone $i"
		kr --debug --log "$TMP/ten$i.log" run --bundle "$TMP/ten$i" "$ID" \
			>"$TMP/ten$i.out" 2>"$TMP/ten$i.err" </dev/null &
		pids+=($!)
	done
	for i in $(seq 1 10); do
		wait "${pids[$((i - 1))]}" && [ "$(cat "$TMP/ten$i.out")" = "clone $i" ] && ok=$((ok + 1))
		from_template "ten$i" && clones=$((clones + 1))
	done
	check_eq "ten at once: right output and exit code" 10 "$ok"
	check_eq "ten at once: all from the template" 10 "$clones"
	for i in $(seq 1 10); do
		kr delete --force "rt$$-ten$i" >/dev/null 2>&1
	done
	for i in 1 10; do
		check_nothing_left "ten at once: $i" "rt$$-ten$i"
	done
}

# [agent.kata] enable_debug: the agent's debug records (a container made), which a clone's
# agent writes only when its template's kernel command line has agent.log=debug; without
# it (clone1) they are not written at all.
case_agent_debug() {
	local cfg=$TMP/agent-debug.toml
	awk -v tpl="$TMP/t-debug" '
		/^\[/ { section = $0 }
		section == "[agent.kata]" && /^enable_debug = / { $0 = "enable_debug = true" }
		/^template_path = / { $0 = "template_path = \"" tpl "\"" }
		{ print }' "$CONFIG" >"$cfg"
	CONFIG=$cfg run_one agentdebug sh -c 'exit 3'
	check_eq "agent debug: exit code" 3 "$RC"
	if from_template agentdebug && grep -q "debug: container $ID created" "$TMP/agentdebug.log"; then
		pass "agent debug: a clone's agent writes its debug records"
	else
		fail "agent debug: a clone's agent writes its debug records" \
			"$(grep -E 'template|vm console' "$TMP/agentdebug.log" | head -5)"
	fi
	if grep -q "created, init pid" "$TMP/clone1.log"; then
		fail "agent debug: none without enable_debug" "$(grep "created, init pid" "$TMP/clone1.log")"
	else
		pass "agent debug: none without enable_debug"
	fi
	CONFIG=$cfg kr factory destroy >/dev/null 2>&1
}

case_factory_destroy() {
	local out
	if out=$(kr factory destroy 2>&1); then pass "factory destroy"; else
		fail "factory destroy" "$out"
	fi
	check_eq "status after destroy" absent "$(status_of)"
	if [ -e "$TPL/memory" ] || [ -e "$TPL/state" ]; then
		fail "factory destroy: files removed" "$(ls "$TPL")"
	else
		pass "factory destroy: files removed"
	fi
}

# The links, addresses and routes of a container's namespace, as delete must leave them.
pod_state() {
	nsenter "--net=/run/netns/$1" sh -c 'ip -d link; ip -o addr | awk "{print \$2, \$3, \$4}";
		ip route; tc qdisc show' 2>&1
}

macvtaps_in() { ip -n "$1" -d -o link show type macvtap 2>&1; }

# clone_with_nic MODEL NAME CFG OCTET: a container of the namespace NET_POD, its veth
# (10.68.OCTET.2) carried by internetworking_model MODEL, from the template of CFG; the web
# server in it answers at the veth's address from the veth's peer, the guest's NIC has the
# veth's address, MTU and MAC; delete leaves the namespace as it was.
clone_with_nic() {
	local model=$1 name=$2 cfg=$3 octet=$4 body out before node=
	sed -i "s/^internetworking_model = .*/internetworking_model = \"$model\"/" "$cfg"
	check_contains "$name: the configuration asks for $model" "internetworking_model = \"$model\"" "$(cat "$cfg")"
	before=$(pod_state "$NET_POD")
	new_id "tpl$model$octet"
	bundle_in_pod "$TMP/tpl$model$octet" "$NET_POD" /usr/sbin/httpd -f -p 80 -h /etc
	if ! CONFIG=$cfg kr_detached "$ID" --debug --log "$TMP/tpl$model$octet.log" run -d --bundle "$TMP/tpl$model$octet" "$ID"; then
		fail "$name: run -d" "$(detached_error "$ID")"
		return
	fi
	if from_template "tpl$model$octet"; then pass "$name: started from the template"; else
		fail "$name: started from the template" "$(grep -i template "$TMP/tpl$model$octet.log" | head -3)"
	fi
	if [ "$model" = macvtap ]; then
		out=$(macvtaps_in "$NET_POD")
		check_contains "$name: a macvtap in passthru mode on the veth" "tap0_kata@eth0" "$out"
		check_contains "$name: ... in passthru mode" "macvtap mode passthru" "$out"
		node=/dev/tap$(sed -n 's/^\([0-9]*\): tap0_kata@.*/\1/p' <<<"$out")
		if [ -c "$node" ]; then pass "$name: its character device exists"; else
			fail "$name: its character device exists" "no $node"
		fi
	fi
	body=$(http_get "10.68.$octet.2" 80 /hostname 120)
	check_eq "$name: the web server answers at the veth's address" kata "$(tr -d '\n' <<<"$body")"
	out=$(CONFIG=$cfg kr exec "$ID" /bin/sh -c 'ip -o -4 addr show dev eth0; cat /sys/class/net/eth0/mtu /sys/class/net/eth0/address' 2>&1)
	check_contains "$name: the guest's eth0 has the veth's address" "inet 10.68.$octet.2/24" "$out"
	check_contains "$name: ... and MTU" $'\n1400' "$out"
	check_contains "$name: ... and MAC" \
		"$(ip -n "$NET_POD" -o link show eth0 | sed -n 's|.*link/ether \([^ ]*\).*|\1|p')" "$out"
	CONFIG=$cfg delete_and_check "$name" "$ID"
	check_eq "$name: no tap left" "" "$(kata_taps_in "/run/netns/$NET_POD")"
	check_eq "$name: the namespace is as it was" "$before" "$(pod_state "$NET_POD")"
	if [ -n "$node" ]; then
		if [ -e "$node" ]; then fail "$name: its character device is gone" "$node remains"; else
			pass "$name: its character device is gone"
		fi
	fi
}

# case_clone_with_nic MACHINE OCTET MODEL...: a template of its own on MACHINE; a container
# whose network namespace has a veth is a clone all the same, once per MODEL. On q35 its NIC
# is hot-plugged after the state is loaded (the template has hot-plug ports): a tap joined to
# the veth by tc redirects, then a macvtap on the veth. On microvm, which cannot hot-plug, its
# tap backs the template's own NIC, made with the standby MAC, which the agent gives the
# veth's.
case_clone_with_nic() {
	local machine=$1 octet=$2 cfg="$TMP/$1.toml" out model label host_side="tp$2-$$"
	shift 2
	sed -e '/^machine_type = /d' -e "s|^template_path = .*|template_path = \"$TMP/t$machine\"|" \
		-e "s/^\[hypervisor\.qemu\]$/&\nmachine_type = \"$machine\"/" "$CONFIG" >"$cfg"
	NET_POD=kata-e2e-tplpod-$machine-$$
	if { [ -z "$TEST_NETNS" ] && ! netns_create "kata-e2e-tplhost-$$"; } || ! pod_netns_add "$NET_POD" ||
		! ip -n "$TEST_NETNS" link add "$host_side" mtu 1400 type veth peer name eth0 mtu 1400 netns "$NET_POD" ||
		! ip -n "$TEST_NETNS" addr add "10.68.$octet.1/24" dev "$host_side" ||
		! ip -n "$TEST_NETNS" link set "$host_side" up ||
		! ip -n "$NET_POD" addr add "10.68.$octet.2/24" dev eth0 || ! ip -n "$NET_POD" link set eth0 up; then
		fail "$machine clone with a NIC: namespaces" "ip failed"
		return
	fi
	if out=$(CONFIG=$cfg kr factory init 2>&1); then pass "$machine: factory init"; else
		fail "$machine: factory init" "$out"
		return
	fi
	for model in "$@"; do
		label=NIC
		[ "$model" = tcfilter ] || label="$model NIC"
		clone_with_nic "$model" "$machine clone with a $label" "$cfg" "$octet"
	done
	if out=$(CONFIG=$cfg kr factory destroy 2>&1); then pass "$machine: factory destroy"; else
		fail "$machine: factory destroy" "$out"
	fi
}

case_factory_init && {
	case_clone_runs
	case_clone_entropy_and_clock
	case_stale_template_rebuilt
	case_damaged_template
	case_ten_at_once
	case_agent_debug
}
case_factory_destroy
case_clone_with_nic q35 1 tcfilter macvtap
case_clone_with_nic microvm 2 tcfilter
rt_finish
