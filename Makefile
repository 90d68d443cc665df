# bindshim: an LD_PRELOAD bind-policy shim.
#
#   make            build/bindshim and build/libbindshim.so
#   make check      install missing dependencies (Debian, apt-get), build, run every
#                   test, again under ASan+UBSan and TSan, then fuzz 60 s per target
#   make test       just the suite (no dependency check, no sanitizers)
#   make asan       the tests again under ASan + UBSan (in build-asan/)
#   make tsan       the shim's threaded paths under ThreadSanitizer
#   make fuzz       libFuzzer targets, FUZZ_TIME seconds each
#   make bench      one table: every path's cost side by side with native, an empty
#                   preload, force_bind and kernel mode (bench/run.sh)
#   make install    PREFIX=/usr/local DESTDIR=
#   make deb        a Debian package in build/deb/ (dpkg-buildpackage), checked by
#                   lintian when it is installed
#
# Local overrides go in config.mak.

PREFIX ?= /usr/local
DESTDIR ?=
BINDIR = $(PREFIX)/bin
LIBDIR = $(PREFIX)/lib/bindshim
MANDIR = $(PREFIX)/share/man
DOCDIR = $(PREFIX)/share/doc/bindshim
COMPDIR = $(PREFIX)/share/bash-completion/completions
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
VERSION = 0.1.0

B ?= build
OPT ?= -O2 -g
SAN ?=
# The preloaded shim runs inside other programs: ASan cannot be preloaded after
# their start, so sanitizer builds give the shim its own (UBSan) flags.
SHIM_SAN ?= $(SAN)
WARN = -std=gnu11 -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes \
       -Wstrict-prototypes -Wformat=2 -fno-common
HARDEN = -fstack-protector-strong -D_FORTIFY_SOURCE=2
DEFS = -D_GNU_SOURCE -DBS_VERSION='"$(VERSION)"' -DBS_LIBDIR='"$(LIBDIR)"'
# Includes name project paths ("policy/policy.h"); -MMD -MP writes each object's
# header dependencies next to it.
BASE_CFLAGS = $(WARN) $(HARDEN) $(OPT) $(DEFS) -I. -MMD -MP -fPIC -fvisibility=hidden $(CPPFLAGS) $(CFLAGS)
ALL_CFLAGS = $(BASE_CFLAGS) $(SAN)
ALL_LDFLAGS = -Wl,-z,relro,-z,now $(SAN) $(LDFLAGS)

-include config.mak

# Quiet by default ("CC policy/load.c"); V=1 prints every command.
ifeq ($(V),1)
Q =
say =
else
Q = @
say = @printf '  %-7s %s\n' $(1) $(2);
endif

POLICY_SRC = $(wildcard policy/*.c)
COMMON_SRC = $(wildcard shim/common/*.c)
LIB_SRC = $(wildcard shim/lib/*.c)
LAUNCHER_SRC = $(wildcard shim/launcher/*.c)
# The kernel backend (kernel/): the policy compiler and the compiled-table decision
# are plain C, always built; the BPF program and its loader need clang, libbpf and
# bpftool (kernel/kernel.mk).
KCORE_SRC = kernel/compile.c kernel/kdecide.c kernel/owners.c

obj = $(patsubst %.c,$(B)/obj/%.o,$(1))
POLICY_OBJ = $(call obj,$(POLICY_SRC)) $(call obj,$(COMMON_SRC))
KCORE_OBJ = $(call obj,$(KCORE_SRC))
# The shim opens libconfig itself (shim/lib/cfg_dlopen.c) instead of linking it, and
# makes the policy library's socket calls without its own hooks (shim/lib/sys_real.c);
# it has no use for the policy warnings of bindshim check (policy/lint.c).
SHIM_OBJ = $(patsubst %.c,$(B)/shimobj/%.o,$(LIB_SRC) $(filter-out policy/cfg_link.c policy/sys_libc.c policy/lint.c,$(POLICY_SRC)) $(COMMON_SRC))
LIBCONFIG_SONAME := $(shell objdump -p "$$($(CC) -print-file-name=libconfig.so)" 2>/dev/null | awk '/SONAME/ {print $$2}')

TEST_BINS = $(B)/tests/unit $(B)/tests/cli $(B)/tests/integration
HELPERS = $(patsubst tests/helpers/%.c,$(B)/tests/helpers/%,$(filter-out tests/helpers/lib%.c,$(wildcard tests/helpers/*.c))) \
          $(patsubst tests/helpers/%.c,$(B)/tests/helpers/%.so,$(wildcard tests/helpers/lib*.c))
BENCHES = $(patsubst bench/%.c,$(B)/bench/%,$(wildcard bench/*.c))

.PHONY: all check test deps asan tsan fuzz bench install uninstall clean demo deb
.DELETE_ON_ERROR:
.SECONDARY:

all: $(B)/bindshim $(B)/libbindshim.so

# A clear word, instead of a compiler error, when libconfig's header is missing.
$(B)/.libconfig-ok:
	@printf '#include <libconfig.h>\n' | $(CC) -E -x c - >/dev/null 2>&1 || { \
		echo "bindshim needs libconfig's header (libconfig.h): run 'make deps'" \
		     "(Debian: apt-get install libconfig-dev)" >&2; exit 1; }
	@mkdir -p $(@D) && touch $@

-include $(shell find $(B) -name '*.d' 2>/dev/null)

$(B)/obj/%.o: %.c | $(B)/.libconfig-ok
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(B)/shimobj/%.o: %.c | $(B)/.libconfig-ok
	@mkdir -p $(@D)
	$(call say,CC,$<)$(CC) $(BASE_CFLAGS) $(SHIM_SAN) -DBS_LIBCONFIG_SONAME='"$(or $(LIBCONFIG_SONAME),libconfig.so.9)"' -c -o $@ $<

include kernel/kernel.mk

$(B)/bindshim: $(call obj,$(LAUNCHER_SRC)) $(POLICY_OBJ) $(KCORE_OBJ) $(KBACKEND_OBJ)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lconfig $(KBACKEND_LIBS)

# The shim binds lazily (relro without now): BIND_NOW would resolve every import in
# every process at start, 40k instructions, for calls most processes never make.
$(B)/libbindshim.so: $(SHIM_OBJ) shim/lib/exports.map
	$(call say,LD,$@)$(CC) -Wl,-z,relro,-z,lazy $(SHIM_SAN) $(LDFLAGS) -shared \
		-Wl,--version-script=shim/lib/exports.map -Wl,-soname,libbindshim.so \
		-o $@ $(filter %.o,$^) -ldl -lpthread

# Tests: Criterion binaries, plus helper programs the integration tests run.
$(B)/tests/unit: $(call obj,$(wildcard tests/unit/*.c)) $(POLICY_OBJ) $(KCORE_OBJ)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcriterion -lconfig

$(B)/tests/cli: $(call obj,$(wildcard tests/cli/*.c) tests/common.c)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcriterion

$(B)/tests/integration: $(call obj,$(wildcard tests/integration/*.c) tests/common.c)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lcriterion -lpthread

# Helpers run under the shim, so they get the shim's (preloadable) sanitizer flags.
HELPER_LDFLAGS = -Wl,-z,relro,-z,now $(SHIM_SAN) $(LDFLAGS)

$(B)/shimobj/tests/helpers/static.o: tests/helpers/static.c
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(BASE_CFLAGS) -c -o $@ $<

$(B)/tests/helpers/%: $(B)/shimobj/tests/helpers/%.o
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(HELPER_LDFLAGS) -o $@ $< -lpthread

$(B)/tests/helpers/%.so: $(B)/shimobj/tests/helpers/%.o
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(HELPER_LDFLAGS) -shared -o $@ $<

# The helper that binds from a library constructor links against that library.
$(B)/tests/helpers/early: $(B)/shimobj/tests/helpers/early.o $(B)/tests/helpers/libearly.so
	$(call say,LD,$@)$(CC) $(HELPER_LDFLAGS) -o $@ $< -L$(B)/tests/helpers -learly -Wl,-rpath,'$$ORIGIN'

# A static executable, for the launcher's warning.
$(B)/tests/helpers/static: $(B)/shimobj/tests/helpers/static.o
	$(call say,LD,$@)$(CC) -static -o $@ $<

# Static builds of helpers, and a pure-Go program: what only --enforce reaches.
STATIC_HELPERS = $(B)/tests/helpers/probe-static $(B)/tests/helpers/stress-static \
	$(B)/tests/helpers/attack-static \
	$(B)/tests/helpers/chain-static $(B)/tests/helpers/goserver $(B)/tests/helpers/goserver-cgo \
	$(B)/tests/helpers/kbinds-static
# Project-path includes (tests/helpers/report.h) and header dependencies (-MMD -MP,
# in $@.d), as for every object.
$(B)/tests/helpers/%-static: tests/helpers/%.c
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(WARN) -O2 -D_GNU_SOURCE -I. -MMD -MP -static -o $@ $< -lpthread

# $(call go_build,CGO_ENABLED,output)
go_build = cd tests/helpers/goserver && CGO_ENABLED=$(1) GOCACHE=$(abspath $(B))/go/cache \
	GOPATH=$(abspath $(B))/go/path GOFLAGS=-mod=mod go build -o $(abspath $(2)) main.go
$(B)/tests/helpers/goserver: tests/helpers/goserver/main.go
	@mkdir -p $(@D)
	$(call say,GO,$@)$(call go_build,0,$@)

# The same, dynamically linked through cgo: Go still makes raw socket syscalls.
$(B)/tests/helpers/goserver-cgo: tests/helpers/goserver/main.go
	@mkdir -p $(@D)
	$(call say,GO,$@)$(call go_build,1,$@)

# Every test binary runs in a private network namespace (tests/netns.sh).
TEST_ENV = BS_BUILD=$(abspath $(B)) BS_SRC=$(CURDIR)

test: all $(TEST_BINS) $(HELPERS) $(STATIC_HELPERS)
	$(TEST_ENV) sh tests/netns.sh $(B)/tests/unit
	$(TEST_ENV) sh tests/netns.sh $(B)/tests/cli
	$(TEST_ENV) sh tests/netns.sh $(B)/tests/integration

deps:
	sh tests/deps.sh

# Everything CI runs: the suite, again under ASan+UBSan and TSan, and a short fuzz.
check: deps
	$(MAKE) test
	$(MAKE) asan
	$(MAKE) tsan
	$(MAKE) fuzz FUZZ_TIME=$(CHECK_FUZZ_TIME)

CHECK_FUZZ_TIME ?= 60

# ASan + UBSan for the launcher, the policy library and the tests; UBSan for the
# preloaded shim. Runs the whole suite.
asan: deps
	ASAN_OPTIONS=detect_leaks=1:verify_asan_link_order=0 UBSAN_OPTIONS=print_stacktrace=1 \
	$(MAKE) B=build-asan OPT='-O1 -g -fno-omit-frame-pointer' \
		SAN='-fsanitize=address,undefined -fno-sanitize-recover=all' \
		SHIM_SAN='-fsanitize=undefined -fno-sanitize-recover=all' test

# ThreadSanitizer cannot be preloaded: the threaded helpers are linked with the
# shim's objects instead (their bind() then interposes libc's, as the preload does)
# (the single-threaded unit tests run under ASan: Criterion and TSan do not mix).
TSAN = -fsanitize=thread
TSAN_BINS = build-tsan/tests/linked/stress \
	build-tsan/tests/linked/sigbind build-tsan/tests/linked/probe

tsan: deps
	$(MAKE) B=build-tsan OPT='-O1 -g' SAN='$(TSAN)' SHIM_SAN='$(TSAN)' $(TSAN_BINS)
	BS_BUILD=$(abspath build-tsan) BS_SRC=$(CURDIR) TSAN_OPTIONS=halt_on_error=1 \
		sh tests/netns.sh sh tests/tsan.sh

$(B)/tests/linked/%: $(B)/shimobj/tests/helpers/%.o $(SHIM_OBJ)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(HELPER_LDFLAGS) -o $@ $^ -ldl -lpthread

# libFuzzer (clang): the policy loader, and the bind/listen hooks linked into the
# fuzzer with a differential oracle (tests/fuzz/). FUZZ_TIME seconds per run.
FUZZ_TIME ?= 60
FUZZ_SAN = -fsanitize=address,undefined -fsanitize=fuzzer-no-link
FUZZ_TARGETS = build-fuzz/fuzz/policy_load build-fuzz/fuzz/bind_path

fuzz: deps
	$(MAKE) B=build-fuzz CC=clang OPT='-O1 -g' SAN='$(FUZZ_SAN)' SHIM_SAN='$(FUZZ_SAN)' $(FUZZ_TARGETS)
	BS_BUILD=build-fuzz BS_SRC=$(CURDIR) FUZZ_TIME=$(FUZZ_TIME) sh tests/netns.sh sh tests/fuzz/run.sh

$(B)/fuzz/policy_load: $(B)/obj/tests/fuzz/policy_load.o $(POLICY_OBJ)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ -lconfig

$(B)/fuzz/bind_path: $(B)/obj/tests/fuzz/bind_path.o $(SHIM_OBJ)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -fsanitize=fuzzer -o $@ $^ -ldl -lpthread

bench: all $(BENCHES) $(B)/bench/cycle-static
	BS_BUILD=$(abspath $(B)) sh bench/run.sh

$(B)/bench/cycle-static: bench/cycle.c
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(WARN) -O2 -static -o $@ $<

$(B)/bench/%: $(B)/obj/bench/%.o $(POLICY_OBJ)
	@mkdir -p $(@D)
	$(call say,LD,$@)$(CC) $(ALL_LDFLAGS) -o $@ $^ -lconfig

# The demo needs what builds and runs bindshim, not the test toolchain.
demo:
	sh tests/deps.sh build runtime
	$(MAKE) --no-print-directory all
	sh examples/demo.sh

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(COMPDIR)
	install -m 755 $(B)/bindshim $(DESTDIR)$(BINDIR)/bindshim
	install -m 644 $(B)/libbindshim.so $(DESTDIR)$(LIBDIR)/libbindshim.so
	install -m 644 man/bindshim.1 $(DESTDIR)$(MANDIR)/man1/bindshim.1
	install -m 644 man/bindshim.cfg.5 $(DESTDIR)$(MANDIR)/man5/bindshim.cfg.5
	install -m 644 examples/*.cfg $(DESTDIR)$(DOCDIR)/examples/
	install -m 644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -m 644 completion/bindshim.bash $(DESTDIR)$(COMPDIR)/bindshim
	install -d $(DESTDIR)$(SYSTEMDDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' dist/bindshim-watch.service > $(DESTDIR)$(SYSTEMDDIR)/bindshim-watch.service
	chmod 644 $(DESTDIR)$(SYSTEMDDIR)/bindshim-watch.service
	install -m 644 docs/kernel.md $(DESTDIR)$(DOCDIR)/kernel.md

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/bindshim $(DESTDIR)$(LIBDIR)/libbindshim.so \
		$(DESTDIR)$(MANDIR)/man1/bindshim.1 $(DESTDIR)$(MANDIR)/man5/bindshim.cfg.5 \
		$(DESTDIR)$(COMPDIR)/bindshim $(DESTDIR)$(SYSTEMDDIR)/bindshim-watch.service
	rm -rf $(DESTDIR)$(DOCDIR)
	-rmdir $(DESTDIR)$(LIBDIR)

# A Debian package, built with dpkg-buildpackage from a copy of the source (it
# writes its results next to the source tree: build/deb/).
DEB_SRC = $(B)/deb/bindshim-$(VERSION)
deb:
	@command -v dpkg-buildpackage >/dev/null && command -v dh >/dev/null || { echo "deb: needs" \
		"dpkg-dev and debhelper: run 'make deps' (Debian: apt-get install dpkg-dev" \
		"debhelper)" >&2; exit 1; }
	@[ "$$(dpkg-parsechangelog -S Version | sed 's/-[^-]*$$//')" = $(VERSION) ] || \
		{ echo "deb: debian/changelog is not at version $(VERSION)" >&2; exit 1; }
	rm -rf $(B)/deb && mkdir -p $(DEB_SRC)
	cp -R Makefile LICENSE README.md completion debian dist docs examples kernel man policy shim \
		$(DEB_SRC)/
	cd $(DEB_SRC) && dpkg-buildpackage -b -us -uc
	@if command -v lintian >/dev/null 2>&1; then \
		echo "lintian $(B)/deb/bindshim_*.changes"; \
		lintian --fail-on error --info $(B)/deb/bindshim_*.changes; \
	else echo "deb: lintian is not installed: not checked"; fi

clean:
	rm -rf build build-asan build-tsan build-fuzz
