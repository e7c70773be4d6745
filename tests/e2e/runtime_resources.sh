#!/bin/bash
# Memory and CPU limits: the VM is sized as Kata sizes it (the configured default plus
# the container's limit, vCPUs capped at the host's) and the container's cgroup in the
# guest has the limits; without limits the VM has the defaults; update changes the
# limits within the VM and refuses more than the VM has.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

DEFAULT_MEMORY_MIB=$(sed -n 's/^default_memory *= *\([0-9]*\).*/\1/p' "$CONFIG" | head -n 1)
DEFAULT_VCPUS=$(sed -n 's/^default_vcpus *= *\([0-9]*\).*/\1/p' "$CONFIG" | head -n 1)
HOST_CPUS=$(nproc)
REPORT='grep MemTotal /proc/meminfo; echo processors=$(grep -c ^processor /proc/cpuinfo); probe cgroup'

kv() { sed -n "s/^$1=//p" <<<"$2" | head -n 1; }

# check_memtotal NAME MIB OUTPUT: the guest's MemTotal is at most MIB and not far below
# (the kernel keeps some for itself).
check_memtotal() {
	local name=$1 mib=$2 kib
	kib=$(sed -n 's/^MemTotal: *\([0-9]*\) kB/\1/p' <<<"$3")
	if [ -z "$kib" ]; then
		fail "$name" "no MemTotal in: $3"
	elif [ "$kib" -le $((mib * 1024)) ] && [ "$kib" -ge $((mib * 1024 * 85 / 100)) ]; then
		pass "$name"
	else
		fail "$name" "MemTotal $kib kB for a VM of $mib MiB"
	fi
}

case_limits() {
	local out want_cpus
	new_id limits
	make_bundle "$TMP/limits" sh -c "$REPORT"
	bundle_edit "$TMP/limits" '.linux.resources.memory.limit = 134217728
		| .linux.resources.cpu.quota = 100000 | .linux.resources.cpu.period = 100000'
	out=$(kr run --bundle "$TMP/limits" "$ID" 2>&1 </dev/null)
	check_eq "limits: run exits 0" 0 "$?"
	check_memtotal "limits: the VM has default + limit memory" $((DEFAULT_MEMORY_MIB + 128)) "$out"
	want_cpus=$((DEFAULT_VCPUS + 1))
	[ "$want_cpus" -gt "$HOST_CPUS" ] && want_cpus=$HOST_CPUS
	check_eq "limits: the VM has default + quota/period vCPUs" "$want_cpus" "$(kv processors "$out")"
	check_eq "limits: the cgroup's memory limit" 134217728 "$(kv memory_limit "$out")"
	check_eq "limits: the cgroup's cpu quota" 100000 "$(kv cpu_quota "$out")"
	check_eq "limits: the cgroup's cpu period" 100000 "$(kv cpu_period "$out")"
	check_nothing_left "limits" "$ID"

	new_id nolimits
	make_bundle "$TMP/nolimits" sh -c "$REPORT"
	out=$(kr run --bundle "$TMP/nolimits" "$ID" 2>&1 </dev/null)
	check_eq "no limits: run exits 0" 0 "$?"
	check_memtotal "no limits: the VM has the default memory" "$DEFAULT_MEMORY_MIB" "$out"
	check_eq "no limits: the default vCPUs" "$DEFAULT_VCPUS" "$(kv processors "$out")"
	check_eq "no limits: no memory limit in the cgroup" max "$(kv memory_limit "$out")"
	check_nothing_left "no limits" "$ID"
}

case_update() {
	local out status
	new_id update
	make_bundle "$TMP/update" probe sleep 1000
	bundle_edit "$TMP/update" '.linux.resources.memory.limit = 134217728'
	if ! kr_detached "$ID" run -d --bundle "$TMP/update" "$ID"; then
		fail "update: run -d" "$(detached_error "$ID")"
		return
	fi
	if out=$(kr update --memory 64m --pids-limit 50 "$ID" 2>&1); then pass "update"; else
		fail "update" "$out"
	fi
	out=$(kr exec "$ID" probe cgroup 2>&1 </dev/null)
	check_eq "update: the new memory limit" 67108864 "$(kv memory_limit "$out")"
	check_eq "update: the new pids limit" 50 "$(kv pids_limit "$out")"
	out=$(kr update --memory 4g "$ID" 2>&1)
	status=$?
	if [ $status -ne 0 ] && [[ "$out" == *exceeds* ]]; then
		pass "update: more memory than the VM has is refused"
	else
		fail "update: more memory than the VM has is refused" "exit $status: $out"
	fi
	out=$(kr exec "$ID" probe cgroup 2>&1 </dev/null)
	check_eq "update: a refused update changes nothing" 67108864 "$(kv memory_limit "$out")"
	if out=$(kr update --cpu-quota 50000 --cpu-period 100000 "$ID" 2>&1); then
		pass "update --cpu-quota --cpu-period"
	else
		fail "update --cpu-quota --cpu-period" "$out"
	fi
	out=$(kr exec "$ID" probe cgroup 2>&1 </dev/null)
	check_eq "update: the new cpu quota" 50000 "$(kv cpu_quota "$out")"
	out=$(kr update --cpu-quota 900000 --cpu-period 100000 "$ID" 2>&1)
	status=$?
	if [ $status -ne 0 ] && [[ "$out" == *exceeds* ]]; then
		pass "update: more CPU than the VM has is refused"
	else
		fail "update: more CPU than the VM has is refused" "exit $status: $out"
	fi
	delete_and_check "update" "$ID"
}

case_limits
case_update
rt_finish
