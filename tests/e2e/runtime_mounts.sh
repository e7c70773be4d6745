#!/bin/bash
# Bind mounts from the host reach the container (a directory and a file, read and
# written, and a read-only one); a read-only rootfs is read-only; a writable rootfs's
# changes reach the bundle's rootfs on the host. The bind mounts again with virtio-fs
# (virtiofsd) instead of 9p, whose daemon goes with the container. msize_9p reaches the
# guest's 9p mount.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

# case_bind_mounts [LABEL]: LABEL names the shared filesystem in the case names.
case_bind_mounts() {
	local out fs=${1:+ ($1)}
	new_id "binds${1:+-$1}"
	rm -rf "$TMP/host-dir" "$TMP/host-ro"
	mkdir -p "$TMP/host-dir" "$TMP/host-ro"
	echo "from the host" >"$TMP/host-dir/in.txt"
	echo "host file" >"$TMP/host-file.txt"
	echo "read only" >"$TMP/host-ro/ro.txt"
	make_bundle "$TMP/binds" sh -c '
		cat /data/in.txt
		echo "from the container" > /data/out.txt
		cat /etc/host-file.txt
		echo appended >> /etc/host-file.txt
		cat /ro/ro.txt
		if echo x > /ro/new.txt 2>/dev/null; then echo ro-writable; else echo ro-refused; fi'
	bundle_edit "$TMP/binds" '.mounts += [
		{"destination": "/data", "type": "bind", "source": $dir, "options": ["rbind", "rw"]},
		{"destination": "/etc/host-file.txt", "type": "bind", "source": $file,
		 "options": ["bind", "rw"]},
		{"destination": "/ro", "type": "bind", "source": $ro, "options": ["rbind", "ro"]}]' \
		--arg dir "$TMP/host-dir" --arg file "$TMP/host-file.txt" --arg ro "$TMP/host-ro"
	out=$(kr run --bundle "$TMP/binds" "$ID" 2>&1 </dev/null)
	check_eq "bind mounts$fs: run exits 0" 0 "$?"
	check_contains "bind mount of a directory$fs: read" "from the host" "$out"
	check_eq "bind mount of a directory$fs: written" "from the container" \
		"$(cat "$TMP/host-dir/out.txt" 2>/dev/null)"
	check_contains "bind mount of a file$fs: read" "host file" "$out"
	check_eq "bind mount of a file$fs: written" $'host file\nappended' \
		"$(cat "$TMP/host-file.txt")"
	check_contains "read-only bind mount$fs: read" "read only" "$out"
	check_contains "read-only bind mount$fs: writing refused" "ro-refused" "$out"
	if [ -e "$TMP/host-ro/new.txt" ]; then
		fail "read-only bind mount$fs: the host directory unchanged" "new.txt appeared"
	else
		pass "read-only bind mount$fs: the host directory unchanged"
	fi
	check_nothing_left "bind mounts$fs" "$ID"
	if grep -q " $TMP/host-" /proc/mounts; then
		fail "bind mounts$fs: the host paths are not mounted over" "$(grep " $TMP/host-" /proc/mounts)"
	else
		pass "bind mounts$fs: the host paths are not mounted over"
	fi
}

case_readonly_rootfs() {
	local out
	new_id rootro
	make_bundle --readonly "$TMP/rootro" sh -c '
		if touch /rootfs-write-test 2>/dev/null; then echo root-writable; else echo root-refused; fi
		if echo x > /dev/shm/x; then echo shm-writable; fi'
	out=$(kr run --bundle "$TMP/rootro" "$ID" 2>&1 </dev/null)
	check_eq "read-only rootfs: run exits 0" 0 "$?"
	check_contains "read-only rootfs: writing refused" "root-refused" "$out"
	check_contains "read-only rootfs: tmpfs mounts stay writable" "shm-writable" "$out"
	if [ -e "$ROOTFS/rootfs-write-test" ]; then
		rm -f "$ROOTFS/rootfs-write-test"
		fail "read-only rootfs: the rootfs is unchanged" "the file appeared in $ROOTFS"
	else
		pass "read-only rootfs: the rootfs is unchanged"
	fi
	check_nothing_left "read-only rootfs" "$ID"

	new_id rootrw
	make_bundle --copy "$TMP/rootrw" sh -c 'echo written > /written-by-container'
	out=$(kr run --bundle "$TMP/rootrw" "$ID" 2>&1 </dev/null)
	check_eq "writable rootfs: run exits 0" 0 "$?"
	check_eq "writable rootfs: the write reaches the bundle's rootfs" written \
		"$(cat "$TMP/rootrw/rootfs/written-by-container" 2>/dev/null)"
	check_nothing_left "writable rootfs" "$ID"
}

# The same with virtio-fs; while the container runs, its virtiofsd serves the sandbox.
case_virtio_fs() {
	local saved=$CONFIG pid
	# virtio-fs needs q35 or pc (docs/configuration.md).
	sed -e 's/^shared_fs = .*/shared_fs = "virtio-fs"/' \
		-e 's/^machine_type = "microvm"/machine_type = "q35"/' "$saved" >"$TMP/virtio-fs.toml"
	CONFIG=$TMP/virtio-fs.toml
	case_bind_mounts virtio-fs
	new_id virtiofsd
	make_bundle "$TMP/virtiofsd" probe sleep 1000
	if kr_detached "$ID" run -d --bundle "$TMP/virtiofsd" "$ID"; then
		pid=$(pgrep -f -- "virtiofsd.*$(sandbox_dir "$ROOT" "$ID")/" | head -n 1)
		if [ -n "$pid" ]; then pass "virtio-fs: a virtiofsd serves the sandbox"; else
			fail "virtio-fs: a virtiofsd serves the sandbox" "no virtiofsd names $(sandbox_dir "$ROOT" "$ID")"
		fi
	else
		fail "virtio-fs: run -d" "$(detached_error "$ID")"
	fi
	delete_and_check "virtio-fs" "$ID"
	CONFIG=$saved
}

# msize_9p reaches the guest's mount of the share (the container's rootfs is on it): the
# shipped value, and another one.
case_msize_9p() {
	local saved=$CONFIG shipped out
	shipped=$(sed -n 's/^msize_9p = \([0-9]*\)$/\1/p' "$CONFIG")
	new_id msize
	make_bundle "$TMP/msize" sh -c 'grep " / " /proc/mounts'
	out=$(kr run --bundle "$TMP/msize" "$ID" 2>&1 </dev/null)
	check_contains "msize_9p: the shipped $shipped" "msize=$shipped," "$out"
	check_nothing_left "msize_9p: the shipped one" "$ID"
	sed 's/^msize_9p = .*/msize_9p = 65536/' "$saved" >"$TMP/msize.toml"
	CONFIG=$TMP/msize.toml
	new_id msize64k
	out=$(kr run --bundle "$TMP/msize" "$ID" 2>&1 </dev/null)
	check_contains "msize_9p: 65536 configured" "msize=65536," "$out"
	check_nothing_left "msize_9p: 65536" "$ID"
	CONFIG=$saved
}

case_bind_mounts
case_readonly_rootfs
case_virtio_fs
case_msize_9p
rt_finish
