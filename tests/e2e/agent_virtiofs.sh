#!/bin/bash
# kata-agent end to end with the shared directory over virtio-fs instead of 9p: STARTPOD
# with "shareFsType": "virtiofs" mounts it, and a container runs from a rootfs in it.
# Debian's qemu ships the C virtiofsd; the guest memory must be shared with it.
source "$(dirname "$0")/agent_lib.sh"

VIRTIOFSD=/usr/lib/qemu/virtiofsd
VIRTIOFSD_PID=

stop_all() {
	agent_vm_stop_qemu_only
	if [ -n "$VIRTIOFSD_PID" ]; then
		kill "$VIRTIOFSD_PID" 2>/dev/null
		wait "$VIRTIOFSD_PID" 2>/dev/null
		VIRTIOFSD_PID=
	fi
	agent_vm_stop
}
trap stop_all EXIT

if [ ! -x "$VIRTIOFSD" ]; then
	echo "SKIP: virtio-fs: $VIRTIOFSD is not installed (Debian's qemu-system-common ships it)"
	exit 0
fi

# The share must exist before virtiofsd starts: boot with a 9p-less command line.
AGENT_NO_9P=1 AGENT_EXTRA_QEMU_ARGS_FN=virtiofs_args
virtiofs_args() {
	"$VIRTIOFSD" --socket-path="$AGENT_DIR/virtiofs.sock" -o source="$AGENT_DIR/share" \
		-o cache=auto -o sandbox=chroot </dev/null >"$AGENT_DIR/virtiofsd.log" 2>&1 &
	VIRTIOFSD_PID=$!
	for _ in $(seq 100); do
		[ -S "$AGENT_DIR/virtiofs.sock" ] && break
		sleep 0.05
	done
	# shellcheck disable=SC2054 # qemu option syntax, not array elements
	QEMU_ARGS+=(-object memory-backend-memfd,id=mem,size=256M,share=on -numa node,memdev=mem
		-chardev "socket,id=vfs,path=$AGENT_DIR/virtiofs.sock"
		-device vhost-user-fs-pci,chardev=vfs,tag=kataShared)
}
agent_vm_start
agent_rootfs v1

check "READY" ac 'timeout 240' wait-ready 'call PING' || agent_finish
check "STARTPOD mounts the share with virtio-fs" \
	ac 'call STARTPOD {"hostname":"vfs","shareDir":"kataShared","shareFsType":"virtiofs"}'

t_container() {
	ac "call NEWCONTAINER {\"id\":\"v1\",\"rootfs\":\"v1/rootfs\",\"process\":$(agent_process_json init false /bin/sh -c 'grep -q " / .* - virtiofs " /proc/self/mountinfo && echo from-virtiofs; exit 5')}" \
		'call STARTCONTAINER {"container":"v1"}' 'expect-stream 1 from-virtiofs\n' 'expect-stream 2 ' \
		'expect-exit v1 init 5' 'call REMOVECONTAINER {"container":"v1"}'
}
check "a container from a rootfs on virtio-fs" t_container
check "DESTROYPOD" ac 'call DESTROYPOD'
agent_finish
