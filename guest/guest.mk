# Guest image and test root filesystem; included by the top-level Makefile.
#
#   make guest    kernel (cached outside the tree, see guest/build-kernel.sh), the agent's
#                 initrd build/guest/kata-initrd.img (once agent/main.c exists) and the
#                 test initrd build/guest/test-initrd.img (guest/test-init.c as /init)
#   make rootfs   build/rootfs: busybox + /bin/probe, an OCI bundle rootfs

GUEST_OUT := $(BUILD)/guest
# Programs that run inside the guest or a container are fully static and never sanitized.
GUEST_CFLAGS := $(filter-out $(SANITIZE),$(ALL_CFLAGS))
GUEST_STATIC_LDFLAGS := $(filter-out -pie $(SANITIZE),$(ALL_LDFLAGS)) -static-pie
PROBE_SRCS := $(wildcard guest/probe/*.c)
# gzip or none: what build/guest/*.img are packed with (docs/guest.md has the timings)
INITRD_COMPRESSION ?= none

.PHONY: guest-kernel guest-tools

guest: $(GUEST_OUT)/vmlinux $(GUEST_OUT)/test-initrd.img \
	$(if $(wildcard agent/main.c),$(GUEST_OUT)/kata-initrd.img)

guest-kernel: $(GUEST_OUT)/vmlinux

# The script is cheap when the kernel is cached: it only links the cached file.
$(GUEST_OUT)/vmlinux: guest/kernel.config-fragment guest/build-kernel.sh \
		$(wildcard guest/kernel-patches/*.patch)
	guest/build-kernel.sh $(GUEST_OUT)

$(GUEST_OUT)/mkcpio: guest/tools/mkcpio.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<

$(GUEST_OUT)/oci-spec: guest/tools/oci-spec.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(PKG_LIBS)

$(GUEST_OUT)/test-init: guest/test-init.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) $(GUEST_STATIC_LDFLAGS) -o $@ $<

$(GUEST_OUT)/test-initrd.img: $(GUEST_OUT)/test-init $(GUEST_OUT)/mkcpio guest/build-initrd.sh
	MKCPIO=$(GUEST_OUT)/mkcpio guest/build-initrd.sh --compression $(INITRD_COMPRESSION) \
		$(GUEST_OUT)/test-init $@

$(GUEST_OUT)/kata-initrd.img: $(BUILD)/kata-agent $(GUEST_OUT)/mkcpio guest/build-initrd.sh
	MKCPIO=$(GUEST_OUT)/mkcpio guest/build-initrd.sh --compression $(INITRD_COMPRESSION) \
		$(BUILD)/kata-agent $@

$(GUEST_OUT)/probe: $(PROBE_SRCS) $(wildcard guest/probe/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) $(GUEST_STATIC_LDFLAGS) -o $@ $(PROBE_SRCS)

guest-tools: $(GUEST_OUT)/mkcpio $(GUEST_OUT)/oci-spec $(GUEST_OUT)/probe $(GUEST_OUT)/test-init

# The rootfs script is idempotent and quick; it always runs, so that a changed busybox or
# a deleted file is noticed.
rootfs: $(GUEST_OUT)/probe $(GUEST_OUT)/oci-spec
	guest/build-rootfs.sh $(BUILD)/rootfs $(GUEST_OUT)/probe

$(BUILD)/rootfs/bin/probe: $(GUEST_OUT)/probe
	guest/build-rootfs.sh $(BUILD)/rootfs $<

# An initrd whose /init is runV's hyperstart, for a guest driven with dialect = "hyperstart"
# (docs/migration.md): make hyperstart-initrd HYPERSTART=PATH [HYPERSTART_INITRD=OUTPUT]
HYPERSTART_INITRD ?= $(GUEST_OUT)/hyperstart-initrd.img
.PHONY: hyperstart-initrd
hyperstart-initrd: $(GUEST_OUT)/mkcpio guest/build-initrd.sh
	@if [ -z "$(HYPERSTART)" ]; then \
		echo "usage: make hyperstart-initrd HYPERSTART=PATH (a static hyperstart binary)" >&2; \
		exit 1; \
	fi
	MKCPIO=$(GUEST_OUT)/mkcpio guest/build-initrd.sh --compression $(INITRD_COMPRESSION) \
		$(HYPERSTART) $(HYPERSTART_INITRD)

# kata-hyperstart-wait: the runtime starts processes through it with the hyperstart
# dialect, which reports a death by signal as 0 (guest/hyperstart-wait.c). It runs in a
# container's root filesystem: fully static. Found beside the shim, installed with it.
guest: $(BUILD)/kata-hyperstart-wait
hyperstart-initrd: $(BUILD)/kata-hyperstart-wait

$(BUILD)/kata-hyperstart-wait: guest/hyperstart-wait.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) $(GUEST_STATIC_LDFLAGS) -o $@ $<
	strip $@

.PHONY: install-hyperstart-wait
install: install-hyperstart-wait
install-hyperstart-wait: $(BUILD)/kata-hyperstart-wait
	install -d $(DESTDIR)$(LIBEXECDIR)
	install -m 0755 $< $(DESTDIR)$(LIBEXECDIR)/
