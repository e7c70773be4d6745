#!/bin/bash
# Bind mounts from the host reach the container (a directory and a file, read and
# written, and a read-only one); a read-only rootfs is read-only; a writable rootfs's
# changes reach the bundle's rootfs on the host.
set -u
. "$(dirname "$0")/lib/runtime.sh"
rt_init

case_bind_mounts() {
	local out
	new_id binds
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
	check_eq "bind mounts: run exits 0" 0 "$?"
	check_contains "bind mount of a directory: read" "from the host" "$out"
	check_eq "bind mount of a directory: written" "from the container" \
		"$(cat "$TMP/host-dir/out.txt" 2>/dev/null)"
	check_contains "bind mount of a file: read" "host file" "$out"
	check_eq "bind mount of a file: written" $'host file\nappended' \
		"$(cat "$TMP/host-file.txt")"
	check_contains "read-only bind mount: read" "read only" "$out"
	check_contains "read-only bind mount: writing refused" "ro-refused" "$out"
	if [ -e "$TMP/host-ro/new.txt" ]; then
		fail "read-only bind mount: the host directory unchanged" "new.txt appeared"
	else
		pass "read-only bind mount: the host directory unchanged"
	fi
	check_nothing_left "bind mounts" "$ID"
	if grep -q " $TMP/host-" /proc/mounts; then
		fail "bind mounts: the host paths are not mounted over" "$(grep " $TMP/host-" /proc/mounts)"
	else
		pass "bind mounts: the host paths are not mounted over"
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

case_bind_mounts
case_readonly_rootfs
rt_finish
