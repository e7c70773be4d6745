#!/bin/bash
# kata-agent end to end, over its wire protocol: boots the real guest under qemu (TCG) and
# drives the agent with agent-client. One VM for all the cases below; every case prints
# PASS or FAIL. The VM and its directory go away on exit, also on failure.
source "$(dirname "$0")/agent_lib.sh"

agent_vm_start
agent_rootfs c1
agent_rootfs c2
agent_rootfs c3
agent_rootfs c4

# A failed case must not leave its container to the next one.
forget() {
	ac "send REMOVECONTAINER {\"container\":\"$1\"}" 'sleep 200' >/dev/null 2>&1
}

container() { # ID PROCESS_JSON [EXTRA_JSON]
	printf 'NEWCONTAINER {"id":"%s","rootfs":"%s/rootfs","process":%s%s}' "$1" "$1" "$2" "${3:-}"
}

t_ready() {
	local out
	out=$(ac 'timeout 240' wait-ready 'call GETVERSION' 'call PING') || return 1
	grep -qx 'ACK 4244' <<<"$out"
}
check "ready, GETVERSION is 4244, PING" t_ready || { agent_finish; }

check "unknown code gets ERROR" ac 'fail 99' 'fail 2' 'call PING'
check "STARTPOD mounts the share" ac 'call STARTPOD {"hostname":"kpod","shareDir":"kataShared","shareFsType":"9p","dns":["10.0.2.3"]}'
check "STARTPOD twice is refused" ac 'fail STARTPOD {"hostname":"x"}'

# --- exit statuses, stdout and stderr ----------------------------------------------------------
t_exit3() {
	ac "call $(container c1 "$(agent_process_json init false /bin/sh -c 'echo hello; echo oops >&2; exit 3')")" \
		'call STARTCONTAINER {"container":"c1"}' \
		'expect-stream 1 hello\n' 'expect-stream 2 oops\n' 'expect-exit c1 init 3' \
		'call REMOVECONTAINER {"container":"c1"}'
}
check "container output and exit status 3" t_exit3
forget c1

t_exit0() {
	ac "call $(container c1 "$(STDIO=3 STDERR=4 agent_process_json init false /bin/true)")" \
		'call STARTCONTAINER {"container":"c1"}' 'expect-stream 3 ' 'expect-stream 4 ' \
		'expect-exit c1 init 0' 'call REMOVECONTAINER {"container":"c1"}'
}
check "exit status 0, empty streams end with EOF" t_exit0
forget c1

t_created_waits() {
	# After NEWCONTAINER the process exists but has not run its program yet.
	ac "call $(container c1 "$(agent_process_json init false /bin/echo started)")" \
		'expect-silence 1 1500' 'call STARTCONTAINER {"container":"c1"}' \
		'expect-stream 1 started\n' 'expect-exit c1 init 0' \
		'fail STARTCONTAINER {"container":"c1"}' 'call REMOVECONTAINER {"container":"c1"}'
}
check "NEWCONTAINER waits for STARTCONTAINER" t_created_waits
forget c1

t_exec_fail() {
	local out
	out=$(ac "call $(container c1 "$(agent_process_json init false /no/such/program)")" \
		'fail STARTCONTAINER {"container":"c1"}' 'expect-exit c1 init 127' \
		'call REMOVECONTAINER {"container":"c1"}') || return 1
	grep -q 'such.*program' <<<"$out"
}
check "a program that cannot exec: ERROR on STARTCONTAINER, status 127" t_exec_fail
forget c1

t_sigkill() {
	ac "call $(container c1 "$(agent_process_json init false /bin/sleep 1000)")" \
		'call STARTCONTAINER {"container":"c1"}' 'sleep 300' \
		'call KILLCONTAINER {"container":"c1","signal":9}' 'expect-exit c1 init 137' \
		'fail KILLCONTAINER {"container":"c1","signal":"SIGKILL"}' \
		'call REMOVECONTAINER {"container":"c1"}'
}
check "KILLCONTAINER SIGKILL gives 137" t_sigkill
forget c1

t_signals() {
	local out
	out=$(ac "call $(container c1 "$(agent_process_json init false /bin/probe signals)")" \
		'call STARTCONTAINER {"container":"c1"}' 'read-some 1 14' \
		'call SIGNALPROCESS {"container":"c1","process":"init","signal":"USR1"}' 'sleep 500' \
		'call SIGNALPROCESS {"container":"c1","process":"init","signal":12}' 'sleep 500' \
		'call KILLCONTAINER {"container":"c1","signal":"TERM"}' \
		'read-stream 1' 'read-stream 2' 'expect-exit c1 init 0' \
		'call REMOVECONTAINER {"container":"c1"}') || return 1
	grep -q '^signal=10$' <<<"$out" && grep -q '^signal=12$' <<<"$out"
}
check "signals reach the container's init" t_signals
forget c1


# --- terminal -----------------------------------------------------------------------------------
t_tty() {
	local out
	out=$(ac "call $(container c1 "$(STDERR=0 agent_process_json init true /bin/sh -c 'read x; /bin/probe tty')")" \
		'call STARTCONTAINER {"container":"c1"}' \
		'call WINSIZE {"container":"c1","process":"init","row":40,"column":120}' \
		'stdin 1 go\n' 'read-stream 1' 'expect-exit c1 init 0' \
		'call REMOVECONTAINER {"container":"c1"}') || return 1
	grep -q 'stdin_tty=1' <<<"$out" && grep -q 'stdout_tty=1' <<<"$out" &&
		grep -q 'rows=40' <<<"$out" && grep -q 'cols=120' <<<"$out"
}
check "terminal: a pty, resized by WINSIZE" t_tty
forget c1

# --- exec, ps, stats ------------------------------------------------------------------------------
t_exec() {
	local out
	out=$(ac "call $(container c2 "$(agent_process_json init false /bin/sleep 1000)")" \
		'call STARTCONTAINER {"container":"c2"}' \
		"call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=5 STDERR=6 agent_process_json e1 false /bin/sh -c 'echo exec-ok; ls /proc | grep -c "^[0-9]"; exit 4')}" \
		'read-stream 5' 'expect-stream 6 ' 'expect-exit c2 e1 4') || return 1
	grep -q '^exec-ok$' <<<"$out" || return 1
	# Its own pid namespace: sleep, sh and ls (perhaps grep) only.
	[ "$(sed -n 's/^\([0-9]\+\)$/\1/p' <<<"$out")" -le 4 ]
}
check "EXECCMD runs in the container, exit status 4" t_exec

t_exec_tty() {
	local out
	out=$(ac "call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=7 STDERR=0 agent_process_json e2 true /bin/probe tty)}" \
		'read-stream 7' 'expect-exit c2 e2 0') || return 1
	grep -q 'stdout_tty=1' <<<"$out"
}
check "EXECCMD with a terminal" t_exec_tty

t_exec_oci() {
	local out
	out=$(ac "call EXECCMD {\"container\":\"c2\",\"process\":{\"id\":\"e3\",\"stdio\":9,\"stderr\":10},\"oci_process\":{\"args\":[\"/bin/probe\",\"ids\"],\"env\":[\"A=b\"],\"cwd\":\"/tmp\",\"user\":{\"uid\":65534,\"gid\":65534,\"additionalGids\":[5,6]}}}" \
		'read-stream 9' 'expect-stream 10 ' 'expect-exit c2 e3 0') || return 1
	grep -q '^uid=65534$' <<<"$out" && grep -q '^gid=65534$' <<<"$out" && grep -q '^groups=5,6$' <<<"$out"
}
check "EXECCMD with an OCI process: user and groups" t_exec_oci

t_kill_self() {
	ac "call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=55 STDERR=56 agent_process_json ks false /bin/probe kill-self 15)}" \
		'read-stream 55' 'read-stream 56' 'expect-exit c2 ks 143'
}
check "death by signal 15 is status 143" t_kill_self

t_ps() {
	local out
	out=$(ac 'call PSCONTAINER {"container":"c2"}') || return 1
	grep -q '"cmd":"\\/bin\\/sleep 1000"' <<<"$out" && grep -q '"nspid":1' <<<"$out"
}
check "PSCONTAINER lists the container's processes" t_ps

t_stats() {
	local out
	out=$(ac 'call STATSCONTAINER {"container":"c2"}') || return 1
	grep -q '"memory":{"usage":[1-9]' <<<"$out" && grep -q '"pids":{"current":1' <<<"$out"
}
check "STATSCONTAINER reports memory and pids" t_stats

check "exec in an unknown container is an ERROR" ac "fail EXECCMD {\"container\":\"nope\",\"process\":$(agent_process_json x false /bin/true)}"
t_seq_in_use() {
	ac "call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=50 STDERR=51 agent_process_json s1 false /bin/sleep 30)}" \
		"fail EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=50 STDERR=52 agent_process_json s2 false /bin/true)}" \
		"fail EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=53 STDERR=54 agent_process_json s1 false /bin/true)}" \
		'call SIGNALPROCESS {"container":"c2","process":"s1","signal":9}' 'read-stream 50' \
		'read-stream 51' 'expect-exit c2 s1 137'
}
check "a stream sequence number or process id in use is refused" t_seq_in_use

# --- streams ---------------------------------------------------------------------------------------
t_big_output() {
	local n=$((6 * 1024 * 1024 + 17))
	"$AGENT_BUILD/rootfs/bin/probe" write $n >"$AGENT_DIR/expected" || return 1
	ac "call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=31 STDERR=32 agent_process_json big false /bin/probe write $n)}" \
		"read-stream 31 $AGENT_DIR/got" 'expect-stream 32 ' 'expect-exit c2 big 0' || return 1
	cmp "$AGENT_DIR/expected" "$AGENT_DIR/got"
}
check "6 MiB of output arrive whole and in order" t_big_output

t_stdin_echo() {
	head -c 3000000 /dev/urandom >"$AGENT_DIR/input"
	local out
	out=$(ac "call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=33 STDERR=34 agent_process_json echo false /bin/probe echo)}" \
		"stdin-file 33 $AGENT_DIR/input" 'stdin-eof 33' \
		"read-stream 33 $AGENT_DIR/echoed" 'read-stream 34' 'expect-exit c2 echo 0') || return 1
	cmp "$AGENT_DIR/input" "$AGENT_DIR/echoed" && grep -q 3000000 <<<"$out"
}
check "stdin is echoed back whole; zero-length stdin is EOF" t_stdin_echo

t_stdin_backlog() {
	# More stdin than the agent queues (8 MiB) for a process that reads it late: the agent
	# stops reading the I/O channel meanwhile, and nothing deadlocks or gets lost.
	head -c 12000000 /dev/urandom >"$AGENT_DIR/input2"
	ac "call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=57 STDERR=58 agent_process_json late false /bin/sh -c 'sleep 3; exec /bin/probe echo')}" \
		"stdin-file 57 $AGENT_DIR/input2" 'stdin-eof 57' \
		"read-stream 57 $AGENT_DIR/echoed2" 'read-stream 58' 'expect-exit c2 late 0' >/dev/null || return 1
	cmp "$AGENT_DIR/input2" "$AGENT_DIR/echoed2" || return 1
	grep -q 'I/O channel paused' "$AGENT_DIR/console.log" || { echo "the backlog never held the channel"; return 1; }
	grep -q 'I/O channel resumed' "$AGENT_DIR/console.log"
}
check "12 MB of stdin for a process that reads late: all echoed back" t_stdin_backlog

t_stdin_eof_with_waiting_init() {
	# A container created meanwhile (its first process waiting for STARTCONTAINER) must not
	# keep another process's stdin open.
	ac 'timeout 30' \
		"call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=59 STDERR=0 agent_process_json cat false /bin/cat)}" \
		"call $(container c4 "$(STDIO=70 STDERR=71 agent_process_json init false /bin/true)")" \
		'stdin 59 abc' 'stdin-eof 59' 'expect-stream 59 abc' 'expect-exit c2 cat 0' \
		'call REMOVECONTAINER {"container":"c4"}'
}
check "stdin EOF reaches a process while another container waits to start" t_stdin_eof_with_waiting_init

t_flow_control() {
	# Without credits the agent stops at its window (1 MiB) and goes on when granted.
	ac 'credits off' \
		"call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=35 STDERR=36 agent_process_json fc false /bin/probe write 4194304)}" \
		"read-some 35 1048576 /dev/null" 'expect-silence 35 1500' 'credits on' \
		'read-stream 35 /dev/null' 'expect-stream 36 ' 'expect-exit c2 fc 0' >/dev/null
}
check "flow control: at most the window without credits" t_flow_control

t_two_streams() {
	# One process whose output is not read does not stop another's.
	ac 'credits off' \
		"call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=37 STDERR=38 agent_process_json slow false /bin/probe write 2000000)}" \
		'credits on' \
		"call EXECCMD {\"container\":\"c2\",\"process\":$(STDIO=39 STDERR=40 agent_process_json fast false /bin/sh -c 'echo fast')}" \
		'expect-stream 39 fast\n' 'expect-exit c2 fast 0' \
		'read-stream 37 /dev/null' 'expect-exit c2 slow 0' >/dev/null
}
check "a stalled stream does not block another" t_two_streams

# --- an OCI spec ----------------------------------------------------------------------------------
oci_spec() { # ARGS_JSON
	sed "s|@ARGS@|$1|" <<'JSON' | tr -d '\n'
{"ociVersion":"1.0.2","hostname":"ocihost","root":{"path":"rootfs","readonly":true},
 "process":{"terminal":false,"user":{"uid":1000,"gid":1000,"umask":18},"args":@ARGS@,
  "env":["PATH=/bin:/sbin","HELLO=world"],"cwd":"/tmp",
  "capabilities":{"bounding":["CAP_KILL","CAP_NET_BIND_SERVICE"],"effective":["CAP_KILL"],"permitted":["CAP_KILL"],"inheritable":["CAP_KILL"],"ambient":["CAP_KILL"]},
  "rlimits":[{"type":"RLIMIT_NOFILE","hard":512,"soft":256}],"noNewPrivileges":true},
 "mounts":[{"destination":"/proc","type":"proc","source":"proc"},
  {"destination":"/dev","type":"tmpfs","source":"tmpfs","options":["nosuid","strictatime","mode=755","size=65536k"]},
  {"destination":"/dev/pts","type":"devpts","source":"devpts","options":["nosuid","noexec","newinstance","ptmxmode=0666","mode=0620"]},
  {"destination":"/dev/shm","type":"tmpfs","source":"shm","options":["nosuid","noexec","nodev","mode=1777","size=65536k"]},
  {"destination":"/dev/mqueue","type":"mqueue","source":"mqueue","options":["nosuid","noexec","nodev"]},
  {"destination":"/sys","type":"sysfs","source":"sysfs","options":["nosuid","noexec","nodev","ro"]},
  {"destination":"/sys/fs/cgroup","type":"cgroup","source":"cgroup","options":["nosuid","noexec","nodev","relatime","ro"]},
  {"destination":"/tmp","type":"tmpfs","source":"tmpfs","options":["mode=1777"]},
  {"destination":"/data","type":"bind","source":"c3/data","options":["rbind","ro"]}],
 "linux":{"namespaces":[{"type":"pid"},{"type":"ipc"},{"type":"uts"},{"type":"mount"},{"type":"network"}],
  "resources":{"memory":{"limit":67108864},"pids":{"limit":32},"cpu":{"shares":512,"quota":50000,"period":100000}},
  "sysctl":{"kernel.domainname":"ocidomain"},
  "maskedPaths":["/proc/kcore","/proc/version"],"readonlyPaths":["/proc/sys"],
  "seccomp":{"defaultAction":"SCMP_ACT_ALLOW","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["mkdirat","mkdir"],"action":"SCMP_ACT_ERRNO","errnoRet":1}]}}}
JSON
}

t_oci() {
	local out
	mkdir -p "$AGENT_DIR/share/c3/data"
	echo shared-data >"$AGENT_DIR/share/c3/data/file"
	out=$(ac "call NEWCONTAINER {\"id\":\"c3\",\"rootfs\":\"c3/rootfs\",\"oci\":$(oci_spec '["/bin/sh","-c","probe ids; probe caps; probe rlimits; probe hostname; probe cgroup; probe env; probe cwd; touch /x 2>/dev/null \&\& echo rootfs=rw \|\| echo rootfs=ro; wc -c </proc/version; exit 0"]'),\"process\":{\"id\":\"init\",\"stdio\":41,\"stderr\":42}}" \
		'call STARTCONTAINER {"container":"c3"}' 'read-stream 41' 'read-stream 42' \
		'expect-exit c3 init 0') || return 1
	echo "$out" >"$AGENT_DIR/oci.out"
	local want
	for want in 0 uid=1000 gid=1000 hostname=ocihost domainname=ocidomain HELLO=world cwd=/tmp rootfs=ro \
		effective=0000000000000020 bounding=0000000000000420 no_new_privs=1 seccomp=2 \
		RLIMIT_NOFILE=256:512 memory_limit=67108864 pids_limit=32 cpu_quota=50000 cpu_shares=512; do
		grep -q "^$want\$" <<<"$out" || { echo "missing $want in: $out"; return 1; }
	done
}
check "OCI spec: user, caps, rlimits, hostname, sysctl, env, cwd, readonly root, cgroups, seccomp" t_oci

t_oci_bind() {
	ac "call EXECCMD {\"container\":\"c3\",\"process\":$(STDIO=43 STDERR=44 agent_process_json cat false /bin/cat /data/file)}" 2>&1 |
		grep -q 'not running' || return 1
	ac 'call REMOVECONTAINER {"container":"c3"}' >/dev/null || return 1
	ac "call NEWCONTAINER {\"id\":\"c3\",\"rootfs\":\"c3/rootfs\",\"oci\":$(oci_spec '["/bin/sh","-c","cat /data/file; mkdir /tmp/d \|\| echo mkdir-denied"]'),\"process\":{\"id\":\"init\",\"stdio\":41,\"stderr\":42}}" \
		'call STARTCONTAINER {"container":"c3"}' 'expect-stream 41 shared-data\nmkdir-denied\n' 'read-stream 42' \
		'expect-exit c3 init 0' 'call REMOVECONTAINER {"container":"c3"}'
}
check "OCI spec: bind mount from the share, seccomp errno rule" t_oci_bind

# --- hostile input --------------------------------------------------------------------------------
check "malformed JSON is an ERROR" ac 'fail NEWCONTAINER {"id": "c4", "rootfs": ' 'call PING'
check "a wrong type is an ERROR" ac 'fail NEWCONTAINER {"id":5,"rootfs":"c4/rootfs","process":{}}' 'call PING'
check "a bad container id is an ERROR" ac "fail $(container ../x "$(agent_process_json init false /bin/true)")" 'call PING'
check "a rootfs outside the share is an ERROR" ac "fail NEWCONTAINER {\"id\":\"c4\",\"rootfs\":\"../../etc\",\"process\":$(agent_process_json init false /bin/true)}" \
	"fail NEWCONTAINER {\"id\":\"c4\",\"rootfs\":\"nowhere/rootfs\",\"process\":$(agent_process_json init false /bin/true)}" 'call PING'
check "unknown container is an ERROR" ac 'fail KILLCONTAINER {"container":"zz","signal":9}' \
	'fail REMOVECONTAINER {"container":"zz"}' 'fail WINSIZE {"container":"zz","row":1,"column":1}' 'call PING'
check "a frame shorter than its header is an ERROR" ac 'send-raw 0000000c00000004' 'expect-error' 'call PING'
check "an oversized frame is skipped with an ERROR" ac 'send-header 12 3145736' 'send-zeros 3145728' 'expect-error' 'call PING'
check "garbage on the I/O channel is dropped" ac 'io-raw 0000000000000063000000100102030400000000ffffffff00000005' 'call PING'
check "a missing payload is an ERROR" ac 'fail NEWCONTAINER' 'fail EXECCMD' 'call PING'

t_still_works() {
	ac "call $(container c4 "$(STDIO=60 STDERR=61 agent_process_json init false /bin/echo alive)")" \
		'call STARTCONTAINER {"container":"c4"}' 'expect-stream 60 alive\n' 'expect-exit c4 init 0' \
		'call REMOVECONTAINER {"container":"c4"}'
}
check "the agent still runs containers after all that" t_still_works

t_destroy() {
	ac 'call DESTROYPOD' || return 1
	for _ in $(seq 100); do
		kill -0 "$AGENT_QEMU_PID" 2>/dev/null || return 0
		sleep 0.1
	done
	echo "qemu still runs 10 s after DESTROYPOD"
	return 1
}
check "DESTROYPOD kills everything and powers the VM off" t_destroy

agent_finish
