# Sourced by guest/measure-boot.sh and tests/e2e/guest_boot.sh: the qemu command line
# that boots the guest with the devices of docs/DESIGN (both backends give the same):
# kernel + initrd direct boot, virtio-serial with the two hyperstart-named ports as unix
# sockets, a console, the shared directory over 9p (tag kataShared), virtio-rng.
#
# guest_qemu_args fills the array QEMU_ARGS from these variables:
#   GUEST_MACHINE  q35 (default) | pc | microvm
#   GUEST_SMP      vCPUs (default 1)          GUEST_MEMORY  MiB (default 256)
#   GUEST_CPU      qemu -cpu model (default: qemu's for the machine)
#   GUEST_KERNEL   vmlinux                    GUEST_INITRD  initrd image
#   GUEST_PARAMS   kernel parameters (the console= and machine quirks are added here)
#   GUEST_CONSOLE  serial (default) | hvc
#   GUEST_CONSOLE_CHARDEV  qemu chardev backend for the console, e.g. "stdio" or
#                  "file,path=/x/console.log" (default stdio)
#   GUEST_SOCKET_DIR  directory for ctl.sock and io.sock (none: no virtio-serial ports)
#   GUEST_SHARE_DIR   directory exported as kataShared over 9p (none: no share)
#   GUEST_ACCEL    tcg (default) | kvm
#   GUEST_TSC_KHZ  "auto": pass the host's TSC frequency (tsc_early_khz=) to a q35/pc guest
#                  too, which spares it the PIT calibration of the TSC under TCG; a number:
#                  that frequency; unset: only microvm gets it (there it is needed)

# The host's TSC frequency in kHz: microvm guests need it under TCG (GUEST-BOOT.md: without
# tsc_early_khz the TSC calibration hangs about one boot in three).
guest_host_tsc_khz() {
	local mhz
	mhz=$(awk -F': *' '/^cpu MHz/ { print $2; exit }' /proc/cpuinfo)
	[ -n "$mhz" ] && awk -v m="$mhz" 'BEGIN { printf "%d\n", m * 1000 }'
}

guest_qemu_args() {
	local machine=${GUEST_MACHINE:-q35} params=${GUEST_PARAMS:-} virtio_bus=pci
	local console=${GUEST_CONSOLE:-serial} chardev=${GUEST_CONSOLE_CHARDEV:-stdio}
	local khz

	QEMU_ARGS=(-no-user-config -nodefaults -nographic -no-reboot
		-m "${GUEST_MEMORY:-256}" -smp "${GUEST_SMP:-1}"
		-kernel "$GUEST_KERNEL" -initrd "$GUEST_INITRD")
	case "$machine" in
	q35 | pc)
		QEMU_ARGS+=(-machine "$machine,accel=${GUEST_ACCEL:-tcg}")
		case "${GUEST_TSC_KHZ:-}" in
		"") ;;
		auto) khz=$(guest_host_tsc_khz) && params="$params tsc_early_khz=$khz" ;;
		*) params="$params tsc_early_khz=$GUEST_TSC_KHZ" ;;
		esac
		;;
	microvm)
		# acpi=off: qemu then lists the virtio-mmio devices on the kernel command line;
		# reboot=t: a guest reboot must reach qemu (which exits: -no-reboot).
		QEMU_ARGS+=(-machine "microvm,acpi=off,accel=${GUEST_ACCEL:-tcg}")
		virtio_bus=device
		params="$params reboot=t"
		khz=$(guest_host_tsc_khz) && params="$params tsc_early_khz=$khz"
		;;
	*)
		echo "guest_qemu_args: unknown machine $machine" >&2
		return 1
		;;
	esac
	[ -n "${GUEST_CPU:-}" ] && QEMU_ARGS+=(-cpu "$GUEST_CPU")

	QEMU_ARGS+=(-chardev "$chardev,id=console0")
	QEMU_ARGS+=(-device "virtio-serial-$virtio_bus,id=serial0")
	if [ "$console" = hvc ]; then
		QEMU_ARGS+=(-device virtconsole,bus=serial0.0,chardev=console0)
		params="console=hvc0 $params"
	else
		QEMU_ARGS+=(-serial chardev:console0)
		params="console=ttyS0 $params"
	fi
	if [ -n "${GUEST_SOCKET_DIR:-}" ]; then
		QEMU_ARGS+=(-chardev "socket,id=channel0,path=$GUEST_SOCKET_DIR/ctl.sock,server=on,wait=off"
			-device virtserialport,bus=serial0.0,chardev=channel0,name=sh.hyper.channel.0
			-chardev "socket,id=channel1,path=$GUEST_SOCKET_DIR/io.sock,server=on,wait=off"
			-device virtserialport,bus=serial0.0,chardev=channel1,name=sh.hyper.channel.1)
	fi
	if [ -n "${GUEST_SHARE_DIR:-}" ]; then
		QEMU_ARGS+=(-fsdev "local,id=share0,path=$GUEST_SHARE_DIR,security_model=none"
			-device "virtio-9p-$virtio_bus,fsdev=share0,mount_tag=kataShared")
	fi
	QEMU_ARGS+=(-object rng-random,id=rng0,filename=/dev/urandom
		-device "virtio-rng-$virtio_bus,rng=rng0")
	QEMU_ARGS+=(-append "$params")
}
