# Benchmarks (issue 8); included by the top-level Makefile.
#
#   make bench               every figure, printed as one table and written as JSON to
#                            $(BUILD)/bench/results.json (docs/performance.md reads it)
#   make bench BENCH_QUICK=1 fewer repetitions (a quick look, not for the docs)
#   make bench BENCH_ONLY="cold exec"   only some sections (cold exec memory streams fs density net pod)

BENCH_OUT := $(BUILD)/bench
BENCH_HOST_TOOLS := $(BENCH_OUT)/bench-run $(BENCH_OUT)/bench-floor $(BENCH_OUT)/bench-echo
# Run inside the guest (as /init) or inside a container: static, never sanitized.
BENCH_GUEST_TOOLS := $(BENCH_OUT)/vport-writer $(BENCH_OUT)/fsbench

.PHONY: bench-tools

bench-tools: $(BENCH_HOST_TOOLS) $(BENCH_GUEST_TOOLS) $(BENCH_OUT)/channel-initrd.img

# The host tools use the lib's clock (lib/fd_util.h); bench-floor also its agent-wire codec.
$(BENCH_OUT)/bench-%: $(BUILD)/obj/bench/tools/bench-%.o $(LIBKATA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(LIBKATA) $(PKG_LIBS)

$(BENCH_OUT)/vport-writer $(BENCH_OUT)/fsbench: $(BENCH_OUT)/%: bench/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(GUEST_CFLAGS) $(GUEST_STATIC_LDFLAGS) -o $@ $<

# The channel floor's guest: vport-writer as /init, packed like the agent's initrd.
$(BENCH_OUT)/channel-initrd.img: $(BENCH_OUT)/vport-writer $(GUEST_OUT)/mkcpio guest/build-initrd.sh
	MKCPIO=$(GUEST_OUT)/mkcpio guest/build-initrd.sh --compression none $< $@

bench: all guest rootfs bench-tools
	BENCH_QUICK="$(BENCH_QUICK)" BENCH_ONLY="$(BENCH_ONLY)" bench/run.sh $(BUILD)
.SECONDARY: $(patsubst bench/tools/%.c,$(BUILD)/obj/bench/tools/%.o,$(wildcard bench/tools/bench-*.c))
