# The one build of the project. `make help` lists the targets.
#
# Layout: every program directory (cli, proxy, shim, agent) keeps main() alone in main.c;
# its other files form an archive that the unit tests link, so each part is testable alone.

VERSION := 0.1.0
COMMIT := $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR := $(PREFIX)/bin
LIBEXECDIR := $(PREFIX)/libexec/kata-containers
DATADIR := $(PREFIX)/share
DEFAULTSDIR := $(DATADIR)/defaults/kata-containers
ASSETSDIR := $(DATADIR)/kata-containers

CC ?= gcc
BUILD ?= build
SANITIZE ?=

# libnl-route-3.0: the agent's netlink (Debian ships it as a static library too, which
# the static agent needs; libmnl-dev has no static archive).
PKGS := json-c libseccomp libcap-ng libnl-route-3.0
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) libvirt libxml-2.0 2>/dev/null)
PKG_LIBS := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# libvirt and libxml2 are loaded at run time by the libvirt backend only (backends/libvirt/
# libvirt_dl.c): no program links them. Only the tests that drive libvirt themselves do.
VIRT_LIBS := $(shell pkg-config --libs libvirt libxml-2.0 2>/dev/null)
CHECK_LIBS := $(shell pkg-config --libs check 2>/dev/null)
# netlink for the container's network (cli/network*.c): the runtime and the tests only.
MNL_LIBS := $(shell pkg-config --libs libmnl 2>/dev/null)
AGENT_STATIC_LIBS := $(shell pkg-config --static --libs $(PKGS) 2>/dev/null)

WARNINGS := -Wall -Wextra -Werror -Wformat=2 -Wformat-security -Wshadow -Wpointer-arith \
	-Wmissing-prototypes -Wstrict-prototypes -Wno-unused-parameter -Wvla -Wimplicit-fallthrough
HARDENING := -fstack-protector-strong -fstack-clash-protection -fcf-protection -fPIE \
	-D_FORTIFY_SOURCE=2
CFLAGS ?= -O2 -g
ALL_CFLAGS := -std=gnu11 -D_GNU_SOURCE $(WARNINGS) $(HARDENING) $(CFLAGS) $(SANITIZE) \
	-Ilib $(PKG_CFLAGS) \
	-DKATA_VERSION='"$(VERSION)"' -DKATA_COMMIT='"$(COMMIT)"' \
	-DKATA_PREFIX='"$(PREFIX)"' -DKATA_LIBEXECDIR='"$(LIBEXECDIR)"' \
	-DKATA_DEFAULTSDIR='"$(DEFAULTSDIR)"' -DKATA_ASSETSDIR='"$(ASSETSDIR)"'
# The include roots each part may use besides lib/ (in ALL_CFLAGS) and its own directory (a
# quoted include finds it first): the layers under it, nothing of another program. So
# including another program's header fails the build: what two programs share belongs in
# lib/ (docs/architecture.md). lib, proxy, shim, agent, bench/ and guest/ get lib/ only.
INCLUDES :=
$(BUILD)/obj/config/%.o: INCLUDES := -Iconfig
$(BUILD)/obj/backends/%.o: INCLUDES := -Iconfig -Ibackends
$(BUILD)/obj/cli/%.o $(BUILD)/obj-faults/cli/%.o: INCLUDES := -Iconfig -Ibackends
$(BUILD)/obj/tests/%.o: INCLUDES := -I. -Iconfig -Ibackends
LINK_HARDENING := -pie -Wl,-z,relro -Wl,-z,now -Wl,-z,noexecstack -Wl,--as-needed
ALL_LDFLAGS := $(LINK_HARDENING) $(SANITIZE) $(LDFLAGS)

# --- sources --------------------------------------------------------------------------
LIB_SRCS := $(wildcard lib/*.c)
CONFIG_SRCS := $(filter-out config/toml-json.c,$(wildcard config/*.c))
BACKEND_SRCS := $(wildcard backends/*.c backends/qemu/*.c backends/libvirt/*.c)
CLI_SRCS := $(filter-out cli/main.c,$(wildcard cli/*.c))
PROXY_SRCS := $(filter-out proxy/main.c,$(wildcard proxy/*.c))
SHIM_SRCS := $(filter-out shim/main.c,$(wildcard shim/*.c))
AGENT_SRCS := $(filter-out agent/main.c,$(wildcard agent/*.c))
FAKE_SRCS := $(wildcard tests/fakes/*.c)
UNIT_TEST_SRCS := $(wildcard tests/unit/test_*.c)
TOOL_SRCS := $(wildcard tests/tools/*.c)
FUZZ_SRCS := $(wildcard tests/fuzz/fuzz_*.c)

objs = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

LIBKATA := $(BUILD)/libkata.a
LIBCONFIG := $(BUILD)/libkataconfig.a
LIBBACKENDS := $(BUILD)/libkatabackends.a
LIBCLI := $(BUILD)/libkatacli.a
LIBPROXY := $(BUILD)/libkataproxy.a
LIBSHIM := $(BUILD)/libkatashim.a
LIBAGENT := $(BUILD)/libkataagent.a
LIBFAKES := $(BUILD)/libkatafakes.a

# A program is built once its main.c exists (parts land one by one). A sanitizer build
# leaves out the agent, which must be fully static.
PROGRAMS := $(if $(wildcard cli/main.c),$(BUILD)/kata-runtime) \
	$(if $(wildcard proxy/main.c),$(BUILD)/kata-proxy) \
	$(if $(wildcard shim/main.c),$(BUILD)/kata-shim) \
	$(if $(and $(wildcard agent/main.c),$(if $(SANITIZE),,yes)),$(BUILD)/kata-agent) \
	$(if $(wildcard config/toml-json.c),$(BUILD)/toml-json)
UNIT_TESTS := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_TEST_SRCS))
# Test tools (clients and fakes run as programs by the end-to-end tests), and the runtime
# with the fault-injection hook (cli/fault_point.h), which is never installed.
TEST_TOOLS := $(patsubst tests/tools/%.c,$(BUILD)/tests/tools/%,$(TOOL_SRCS)) \
	$(if $(wildcard cli/main.c),$(BUILD)/tests/tools/kata-runtime-faults)

.PHONY: conformance tools all help deps check check-unit check-e2e install uninstall asan lint format fuzz \
	bench clean guest rootfs demo
all: $(PROGRAMS) $(BUILD)/configuration.toml

# The configuration for the build tree: the programs and guest assets in $(BUILD)/.
$(BUILD)/configuration.toml: config/configuration.toml
	@mkdir -p $(dir $@)
	sed -e 's|@ASSETSDIR@|$(CURDIR)/$(BUILD)/guest|g' -e 's|@LIBEXECDIR@|$(CURDIR)/$(BUILD)|g' \
		$< > $@

help:
	@echo "make            build the programs into $(BUILD)/"
	@echo "make deps       install every Debian build and run dependency (apt-get)"
	@echo "make guest      build the guest kernel and initrd (kernel cached outside the tree)"
	@echo "make demo       build everything and run a container in a VM"
	@echo "make check      build everything and run every test (unit and end-to-end)"
	@echo "make asan       the same build with AddressSanitizer/UBSan into build-asan/"
	@echo "make lint       clang-format check and cppcheck"
	@echo "make fuzz       libFuzzer targets for every parser of outside input, bounded runs"
	@echo "make bench      benchmarks (bench/)"
	@echo "make conformance  OCI conformance: runc vs kata-runtime (docs/conformance.md)"
	@echo "make install    PREFIX=$(PREFIX) DESTDIR="

deps:
	./tests/install-deps.sh

# --- archives and programs --------------------------------------------------------------
# V=1 shows the whole command lines.
Q := $(if $(V),,@)
$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) $(INCLUDES) -MMD -MP -c $< -o $@

$(LIBKATA): $(call objs,$(LIB_SRCS))
$(LIBCONFIG): $(call objs,$(CONFIG_SRCS))
$(LIBBACKENDS): $(call objs,$(BACKEND_SRCS))
$(LIBCLI): $(call objs,$(CLI_SRCS))
$(LIBPROXY): $(call objs,$(PROXY_SRCS))
$(LIBSHIM): $(call objs,$(SHIM_SRCS))
$(LIBAGENT): $(call objs,$(AGENT_SRCS))
$(LIBFAKES): $(call objs,$(FAKE_SRCS))
$(BUILD)/%.a:
	@mkdir -p $(dir $@)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/kata-runtime: $(call objs,cli/main.c) $(LIBCLI) $(LIBBACKENDS) $(LIBCONFIG) $(LIBKATA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(MNL_LIBS)

# The same runtime whose fault_point() can stop it (tests/e2e/faults.sh): its object comes
# first, so the archive's empty one is never linked.
$(BUILD)/obj-faults/cli/fault_point.o: cli/fault_point.c
	@mkdir -p $(dir $@)
	$(Q)$(CC) $(ALL_CFLAGS) $(INCLUDES) -DKATA_FAULT_POINTS -c $< -o $@
$(BUILD)/tests/tools/kata-runtime-faults: $(call objs,cli/main.c) \
		$(BUILD)/obj-faults/cli/fault_point.o $(LIBCLI) $(LIBBACKENDS) $(LIBCONFIG) $(LIBKATA)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS) $(MNL_LIBS)

$(BUILD)/kata-proxy: $(call objs,proxy/main.c) $(LIBPROXY) $(LIBKATA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/kata-shim: $(call objs,shim/main.c) $(LIBSHIM) $(LIBKATA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/toml-json: $(call objs,config/toml-json.c) $(LIBCONFIG) $(LIBKATA)
	$(CC) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

# The agent is PID 1 of a guest with nothing else in it: fully static. glibc warns that
# NSS lookups need its shared objects at run time; the agent resolves users itself.
$(BUILD)/kata-agent: $(call objs,agent/main.c) $(LIBAGENT) $(LIBKATA)
	$(CC) $(filter-out -pie,$(ALL_LDFLAGS)) -static-pie -o $@ $^ $(AGENT_STATIC_LIBS) \
		2> $@.link-warnings || (cat $@.link-warnings; false)

# --- tests --------------------------------------------------------------------------------
TEST_ARCHIVES := $(LIBFAKES) $(LIBCLI) $(LIBBACKENDS) $(LIBCONFIG) $(LIBPROXY) $(LIBSHIM) \
	$(LIBAGENT) $(LIBKATA)
# Each unit test program is its test_X.o and the one main() (tests/unit/check_main.h).
CHECK_MAIN := $(BUILD)/obj/tests/unit/check_main.o
$(BUILD)/tests/%: $(BUILD)/obj/tests/unit/%.o $(CHECK_MAIN) $(TEST_ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(CHECK_MAIN) $(TEST_ARCHIVES) $(CHECK_LIBS) $(TEST_VIRT_LIBS) $(PKG_LIBS) $(MNL_LIBS) -lpthread
# These tests talk to libvirt or parse XML with libxml2 themselves.
$(BUILD)/tests/test_libvirt_api $(BUILD)/tests/test_libvirt_xml: TEST_VIRT_LIBS := $(VIRT_LIBS)

$(BUILD)/tests/tools/%: $(BUILD)/obj/tests/tools/%.o $(TEST_ARCHIVES)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_LDFLAGS) -o $@ $< $(TEST_ARCHIVES) $(PKG_LIBS) $(MNL_LIBS) -lpthread

tools: $(TEST_TOOLS)

check-unit: all $(UNIT_TESTS) $(TEST_TOOLS)
	./tests/run-tests.sh unit $(BUILD)

check-e2e: all guest rootfs $(TEST_TOOLS)
	./tests/run-tests.sh e2e $(BUILD)

check: all guest rootfs $(UNIT_TESTS) $(TEST_TOOLS)
	./tests/run-tests.sh all $(BUILD)

demo: all guest rootfs
	./tests/demo.sh

# OCI conformance: the same validation cases against runc and kata-runtime.
conformance: all guest rootfs
	./tests/conformance/run.sh --build $(BUILD)

asan:
	$(MAKE) BUILD=build-asan CC=clang SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer" \
		all $(patsubst $(BUILD)/%,build-asan/%,$(UNIT_TESTS))
	./tests/run-tests.sh unit build-asan

# --- hygiene --------------------------------------------------------------------------------
C_FILES = $(shell git ls-files '*.c' '*.h' 2>/dev/null)
lint:
	clang-format --dry-run --Werror $(C_FILES)
	@! grep -rn '^#include "\.\./' lib config backends cli proxy shim agent \
		|| (echo "a program includes a header by a relative path (docs/architecture.md)"; false)
	cppcheck --quiet --error-exitcode=1 --enable=warning,performance,portability \
		--inline-suppr --suppress=missingIncludeSystem -D_GNU_SOURCE -I lib -I config -I backends \
		lib config backends cli proxy shim agent

format:
	clang-format -i $(C_FILES)

FUZZ_SECONDS ?= 20
FUZZ_CFLAGS := -std=gnu11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-I. -Ilib -Iconfig -Ibackends $(PKG_CFLAGS) -DKATA_VERSION='"$(VERSION)"' \
	-DKATA_COMMIT='"$(COMMIT)"'
FUZZ_LIB_SRCS = $(LIB_SRCS) $(CONFIG_SRCS) $(PROXY_SRCS) $(SHIM_SRCS) $(AGENT_SRCS)
fuzz:
	./tests/fuzz/run.sh "$(FUZZ_SECONDS)" "$(FUZZ_CFLAGS)" "$(PKG_LIBS)" "$(FUZZ_LIB_SRCS)" $(FUZZ_SRCS)

# --- install ----------------------------------------------------------------------------------
# The guest is built too (the kernel from its cache): the installed configuration names it.
install: all $(BUILD)/guest/vmlinux $(BUILD)/guest/kata-initrd.img
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DEFAULTSDIR) \
		$(DESTDIR)$(ASSETSDIR)
	install -m 0755 $(BUILD)/kata-runtime $(DESTDIR)$(BINDIR)/kata-runtime
	ln -sf kata-runtime $(DESTDIR)$(BINDIR)/cc-runtime
	ln -sf kata-runtime $(DESTDIR)$(BINDIR)/runv
	install -m 0755 $(BUILD)/kata-proxy $(BUILD)/kata-shim $(DESTDIR)$(LIBEXECDIR)/
	sed -e 's|@ASSETSDIR@|$(ASSETSDIR)|g' -e 's|@LIBEXECDIR@|$(LIBEXECDIR)|g' \
		config/configuration.toml > $(DESTDIR)$(DEFAULTSDIR)/configuration.toml
	chmod 0644 $(DESTDIR)$(DEFAULTSDIR)/configuration.toml
	install -m 0644 $(BUILD)/guest/vmlinux $(BUILD)/guest/kata-initrd.img $(DESTDIR)$(ASSETSDIR)/
	config/check-installed.sh "$(DESTDIR)" $(DESTDIR)$(DEFAULTSDIR)/configuration.toml \
		$(LIBEXECDIR) $(ASSETSDIR)

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/kata-runtime $(DESTDIR)$(BINDIR)/cc-runtime $(DESTDIR)$(BINDIR)/runv
	rm -rf $(DESTDIR)$(LIBEXECDIR) $(DESTDIR)$(DEFAULTSDIR) $(DESTDIR)$(ASSETSDIR)

clean:
	rm -rf $(BUILD) build-asan build-fuzz

# Objects of test programs are not intermediate files to delete after each link.
.SECONDARY:

-include guest/guest.mk
-include bench/bench.mk
-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
