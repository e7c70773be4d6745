# A private-enough libvirtd for the end-to-end tests of the libvirt backend, from Debian's
# packages (docs/libvirt.md, "Tests"). Source it, then:
#
#   libvirtd_start            starts the daemon, or uses the host's (below); sets and exports
#                             LIBVIRTD_URI (the URI to connect to) and LIBVIRT_DEFAULT_URI
#                             (the same: what the runtime connects to when its configuration
#                             names no `uri`, as the installed one does not)
#   libvirtd_stop             stops it and removes everything it made (idempotent; put it in
#                             the caller's EXIT trap); leaves the host's daemon alone
#   libvirt_setup SRC DEST    both: starts the daemon and writes DEST from SRC (below); what
#                             the OCI tests need to run against the libvirt backend
#   libvirt_write_config SRC DEST [URI]
#                             writes DEST, a configuration.toml for the libvirt backend: SRC
#                             (e.g. build/configuration.toml) with [hypervisor.qemu] renamed to
#                             [hypervisor.libvirt] and `uri` added (default: $LIBVIRTD_URI)
#
# What is private and what is not. libvirtd's configuration file is its own (--config, in a
# temporary directory) and so is its socket (unix_sock_dir there, reached with
# qemu:///system?socket=DIR/libvirt-sock): nothing connects to it by accident. The qemu
# driver reads /etc/libvirt/qemu.conf only, once, while the daemon starts; the test's
# qemu.conf is bind-mounted over it for those seconds and unmounted as soon as the daemon
# answers, so the system's file is never written. The driver's state directories are the
# system's (/run/libvirt, /var/lib/libvirt, /var/log/libvirt): there can be only one such
# daemon per host. When a libvirtd already runs on the host, libvirtd_start uses that one
# (qemu:///system, LIBVIRTD_HOST=1) instead, as a user would: it must answer there within
# 90 s; nothing of it is changed or stopped. libvirtd_stop
# destroys the domains left, stops the daemon, and removes every file and directory the
# daemon created there, and the libvirt-qemu user if libvirtd_start added it. One thing is
# kept: libvirt's cache of qemu's capabilities (/var/cache/libvirt/qemu/capabilities), which
# the system's own daemon would keep too; it saves ~8 s per start; LIBVIRTD_DROP_CACHE=1
# removes it as well.
# shellcheck shell=bash

LIBVIRTD_DIR=
LIBVIRTD_URI=
LIBVIRTD_PID=
LIBVIRTD_MOUNTED=
LIBVIRTD_MADE_RUN_DIR=
LIBVIRTD_MADE_USER=
LIBVIRTD_HOST=
# /run/libvirt too: when it was there before (not made here), what the daemon adds to it goes.
LIBVIRTD_STATE_DIRS="/run/libvirt /var/lib/libvirt /var/log/libvirt /var/cache/libvirt"

libvirtd_log() { echo "libvirtd.sh: $*" >&2; }

# The test's qemu.conf: qemu as root (the 9p share keeps host ownership; domains also ask
# for it with a DAC seclabel), no virtlogd (stdio_handler file), no owner remembering in
# xattrs, no per-domain mount namespace (here / is a private mount, so bind mounts made
# later for containers would never reach a qemu in its own namespace), no cgroups (no
# systemd here).
libvirtd_write_qemu_conf() {
	cat >"$1" <<'CONF'
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
stdio_handler = "file"
namespaces = [ ]
cgroup_controllers = [ ]
CONF
}

libvirtd_write_conf() {
	cat >"$1/libvirtd.conf" <<CONF
unix_sock_dir = "$1"
unix_sock_group = "root"
unix_sock_ro_perms = "0700"
unix_sock_rw_perms = "0700"
unix_sock_admin_perms = "0700"
auth_unix_ro = "none"
auth_unix_rw = "none"
log_outputs = "3:file:$1/libvirtd.log"
CONF
}

libvirtd_other_running() {
	local pid comm
	for pid in $(pgrep -x libvirtd 2>/dev/null); do
		[ "$pid" = "$LIBVIRTD_PID" ] && continue
		comm=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | cut -d' ' -f1)
		[ "$comm" = Z ] || return 0
	done
	return 1
}

# Closes every descriptor of the calling (sub)shell above stderr.
libvirtd_close_inherited_fds() {
	local path fd
	for path in /proc/"$BASHPID"/fd/*; do
		fd=${path##*/}
		[ "$fd" -gt 2 ] 2>/dev/null || continue
		exec {fd}>&-
	done
	return 0
}

# The host's own libvirtd, as the runtime's default uri reaches it.
libvirtd_use_host() {
	local i
	for ((i = 0; i < 900; i++)); do
		virsh -c qemu:///system version >/dev/null 2>&1 && break
		sleep 0.1
	done
	if ! virsh -c qemu:///system version >/dev/null 2>&1; then
		libvirtd_log "the host's libvirtd does not answer on qemu:///system"
		return 1
	fi
	libvirtd_log "using the host's libvirtd (qemu:///system)"
	LIBVIRTD_HOST=1
	LIBVIRTD_URI=qemu:///system
	LIBVIRT_DEFAULT_URI=$LIBVIRTD_URI
	export LIBVIRTD_URI LIBVIRT_DEFAULT_URI
	return 0
}

libvirtd_start() {
	local i
	if [ -n "$LIBVIRTD_PID" ] || [ -n "$LIBVIRTD_HOST" ]; then
		return 0
	fi
	for tool in libvirtd virsh; do
		command -v $tool >/dev/null || {
			libvirtd_log "$tool missing (apt-get install libvirt-daemon-system libvirt-clients)"
			return 1
		}
	done
	if libvirtd_other_running; then
		libvirtd_use_host
		return
	fi
	if ! id libvirt-qemu >/dev/null 2>&1; then
		# The qemu driver refuses to load without its default user, even when qemu.conf
		# names root.
		useradd --system --no-create-home --shell /usr/sbin/nologin libvirt-qemu || return 1
		LIBVIRTD_MADE_USER=1
	fi
	LIBVIRTD_DIR=$(mktemp -d /tmp/kata-libvirtd-XXXXXX) || return 1
	LIBVIRTD_URI="qemu:///system?socket=$LIBVIRTD_DIR/libvirt-sock"
	libvirtd_write_conf "$LIBVIRTD_DIR"
	libvirtd_write_qemu_conf "$LIBVIRTD_DIR/qemu.conf"
	# What was there before, so that stop removes only what the daemon made.
	[ -d /run/libvirt ] || LIBVIRTD_MADE_RUN_DIR=1
	# shellcheck disable=SC2086
	find $LIBVIRTD_STATE_DIRS 2>/dev/null | sort >"$LIBVIRTD_DIR/before.list"

	mount --bind "$LIBVIRTD_DIR/qemu.conf" /etc/libvirt/qemu.conf || {
		libvirtd_log "cannot bind-mount the test qemu.conf"
		libvirtd_stop
		return 1
	}
	LIBVIRTD_MOUNTED=1
	# With stdio only: a descriptor it inherited (flock(1)'s lock on the VM lock file, a pipe
	# of the test runner) would stay open, and the lock held, as long as the daemon lives.
	(
		libvirtd_close_inherited_fds
		exec libvirtd --config "$LIBVIRTD_DIR/libvirtd.conf" \
			--pid-file "$LIBVIRTD_DIR/libvirtd.pid"
	) >"$LIBVIRTD_DIR/stdout.log" 2>&1 </dev/null &
	LIBVIRTD_PID=$!
	# Out of the caller's job table: a bare `wait` in its cleanup (rt_cleanup) would otherwise
	# wait for the daemon for ever, before libvirtd_stop is reached. bash still reaps it.
	disown "$LIBVIRTD_PID"
	# It serves clients once its drivers are initialised (the qemu driver has read
	# qemu.conf by then). The first start probes qemu's capabilities (about 8 s here).
	for ((i = 0; i < 900; i++)); do
		virsh -c "$LIBVIRTD_URI" version >/dev/null 2>&1 && break
		if ! kill -0 "$LIBVIRTD_PID" 2>/dev/null; then
			libvirtd_log "libvirtd exited: $(tail -n 5 "$LIBVIRTD_DIR/stdout.log" "$LIBVIRTD_DIR/libvirtd.log" 2>/dev/null)"
			LIBVIRTD_PID=
			libvirtd_stop
			return 1
		fi
		sleep 0.1
	done
	umount /etc/libvirt/qemu.conf && LIBVIRTD_MOUNTED=
	if ! virsh -c "$LIBVIRTD_URI" version >/dev/null 2>&1; then
		libvirtd_log "libvirtd does not answer on $LIBVIRTD_URI after 90 s"
		libvirtd_stop
		return 1
	fi
	LIBVIRT_DEFAULT_URI=$LIBVIRTD_URI
	export LIBVIRTD_URI LIBVIRT_DEFAULT_URI
	return 0
}

libvirtd_stop() {
	local dom i
	if [ -n "$LIBVIRTD_HOST" ]; then
		LIBVIRTD_HOST= LIBVIRTD_URI=
		unset LIBVIRT_DEFAULT_URI
		return 0
	fi
	if [ -n "$LIBVIRTD_MOUNTED" ]; then
		umount /etc/libvirt/qemu.conf 2>/dev/null && LIBVIRTD_MOUNTED=
	fi
	if [ -n "$LIBVIRTD_PID" ]; then
		# Domains left by a failed test: destroyed, so no qemu or virtiofsd remains.
		for dom in $(virsh -c "$LIBVIRTD_URI" list --name 2>/dev/null); do
			virsh -c "$LIBVIRTD_URI" destroy "$dom" >/dev/null 2>&1
		done
		kill -TERM "$LIBVIRTD_PID" 2>/dev/null
		for ((i = 0; i < 100; i++)); do
			kill -0 "$LIBVIRTD_PID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$LIBVIRTD_PID" 2>/dev/null
		wait "$LIBVIRTD_PID" 2>/dev/null
		LIBVIRTD_PID=
	fi
	if [ -n "$LIBVIRTD_DIR" ] && [ -d "$LIBVIRTD_DIR" ]; then
		# Everything new under the state directories, deepest first.
		# shellcheck disable=SC2086
		find $LIBVIRTD_STATE_DIRS 2>/dev/null | sort >"$LIBVIRTD_DIR/after.list"
		comm -13 "$LIBVIRTD_DIR/before.list" "$LIBVIRTD_DIR/after.list" | sort -r |
			while read -r path; do
				if [ -z "${LIBVIRTD_DROP_CACHE:-}" ] &&
					[[ "$path" == /var/cache/libvirt/qemu/capabilities* ]]; then
					continue
				fi
				if [ -d "$path" ] && [ ! -L "$path" ]; then
					rmdir "$path" 2>/dev/null
				else
					rm -f "$path"
				fi
			done
		rm -rf "$LIBVIRTD_DIR"
	fi
	LIBVIRTD_DIR=
	unset LIBVIRT_DEFAULT_URI
	if [ -n "$LIBVIRTD_MADE_RUN_DIR" ] && [ -d /run/libvirt ]; then
		rm -rf /run/libvirt
		LIBVIRTD_MADE_RUN_DIR=
	fi
	if [ -n "$LIBVIRTD_MADE_USER" ]; then
		userdel libvirt-qemu 2>/dev/null
		LIBVIRTD_MADE_USER=
	fi
	return 0
}

libvirt_write_config() {
	local src=$1 dest=$2 uri=${3:-$LIBVIRTD_URI}
	[ -n "$uri" ] || {
		libvirtd_log "libvirt_write_config: no URI (libvirtd_start first)"
		return 1
	}
	grep -q '^\[hypervisor\.qemu\]' "$src" || {
		libvirtd_log "libvirt_write_config: no [hypervisor.qemu] table in $src"
		return 1
	}
	# TOML basic string: backslashes and quotes escaped.
	uri=${uri//\\/\\\\}
	uri=${uri//\"/\\\"}
	# and for sed's replacement: its delimiter, & and backslashes.
	uri=${uri//\\/\\\\}
	uri=${uri//|/\\|}
	uri=${uri//&/\\&}
	# libvirt 9.0 has no microvm machine: its domains are q35.
	sed -e "s|^\[hypervisor\.qemu\]|[hypervisor.libvirt]\nuri = \"$uri\"|" \
		-e 's|^machine_type = "microvm"|machine_type = "q35"|' "$src" >"$dest"
}

libvirt_setup() {
	libvirtd_start || return
	libvirt_write_config "$1" "$2"
}
