# zetl — build, deps, test, demo, bench.
#
# Sources are discovered by directory, so adding a module means adding files,
# not editing this Makefile:
#   config/*.c runtime/**/*.c views/*.c tui/**/*.c -> the zetl library (libzetl.a)
#   tui/main.c                                    -> the zetl binary
#   tests/unit/test_*.c                           -> one unit-test binary each
#   tests/tools/*.c                               -> helper programs for tests
#   tests/fuzz/fuzz_*.c                           -> libFuzzer targets (make fuzz)
# Dependencies go one way: tui -> views -> runtime -> config -> runtime/base
# (base/ is the shared helpers and includes nothing else of zetl's, so config
# may use it; tests/layering.sh checks it, with the layers inside runtime, in
# the unit suite).

CC      ?= cc
PKGS    := libmariadb libpq sqlite3 yaml-0.1 libcurl ncursesw libzstd zlib libcrypto
VERSION := 0.1.0

PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wno-format-nonliteral
CFLAGS  ?= -O2 -g
ALL_CFLAGS := -std=c11 -D_GNU_SOURCE $(WARN) $(CFLAGS) -I. $(PKG_CFLAGS) \
              -DZETL_VERSION='"$(VERSION)"' -MMD -MP
LDLIBS  := $(PKG_LIBS) -lpthread -lm

BUILD   ?= build
# Quiet by default; `make V=1` shows the full command lines.
Q       := $(if $(V),,@)
LIB_SRC := $(filter-out tui/main.c,$(wildcard config/*.c runtime/*.c runtime/*/*.c views/*.c tui/*.c tui/*/*.c))
LIB_OBJ := $(LIB_SRC:%.c=$(BUILD)/%.o)
UNIT_SRC := $(wildcard tests/unit/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
TOOL_SRC := $(wildcard tests/tools/*.c)
TOOL_BIN := $(TOOL_SRC:tests/tools/%.c=$(BUILD)/tools/%)
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)

.PHONY: all deps test unit-bins asan asan-test clean demo bench fuzz fuzz-bins fuzz-link check-deps soak \
        install uninstall deb deb-check
all: zetl

zetl: $(BUILD)/tui/main.o $(BUILD)/libzetl.a
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS) $(LDFLAGS)

$(BUILD)/libzetl.a: $(LIB_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  CC      $<")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test.h $(BUILD)/libzetl.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libzetl.a $(LDLIBS) $(LDFLAGS)

$(BUILD)/tools/%: tests/tools/%.c $(BUILD)/libzetl.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  LINK    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -o $@ $< $(BUILD)/libzetl.a $(LDLIBS) $(LDFLAGS)

unit-bins: $(UNIT_BIN) $(TOOL_BIN)

# make test: unit, integration (real servers), console (tmux), short fuzz runs.
# Ends with one line "N passed, N failed"; exits non-zero on any failure.
# The build goes on every core (CI calls plain `make test`).
NPROC := $(shell nproc 2>/dev/null || echo 2)
test:
	@$(MAKE) --no-print-directory -j$(NPROC) zetl unit-bins
	@ZETL_BIN=$(CURDIR)/zetl ZETL_BUILD=$(CURDIR)/$(BUILD) tests/run.sh $(TESTS)

# Address + undefined-behaviour sanitizers, in a separate build tree.
asan:
	$(MAKE) BUILD=build-asan CFLAGS="-O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	        LDFLAGS="-fsanitize=address,undefined" zetl-asan

zetl-asan: $(BUILD)/tui/main.o $(BUILD)/libzetl.a unit-bins
	$(CC) $(ALL_CFLAGS) -o $@ $(BUILD)/tui/main.o $(BUILD)/libzetl.a $(LDLIBS) $(LDFLAGS)

# make asan-test: the unit and integration suites against the sanitized build.
asan-test: asan
	@ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	 ZETL_BIN=$(CURDIR)/zetl-asan ZETL_BUILD=$(CURDIR)/build-asan tests/run.sh unit integration

# libFuzzer targets, built with clang into build-fuzz/ (the library with
# -fsanitize=fuzzer-no-link so coverage reaches it). FUZZ_SECONDS per target.
FUZZ_SECONDS ?= 60
FUZZ_SAN := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
fuzz-bins:
	$(Q)$(MAKE) --no-print-directory BUILD=build-fuzz CC=clang \
	  CFLAGS="-O1 -g -fsanitize=fuzzer-no-link $(FUZZ_SAN)" fuzz-link

fuzz-link: $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)

$(BUILD)/fuzz/%: tests/fuzz/%.c $(BUILD)/libzetl.a
	@mkdir -p $(dir $@)
	@$(if $(Q),echo "  FUZZ    $@")
	$(Q)$(CC) $(ALL_CFLAGS) -fsanitize=fuzzer -o $@ $< $(BUILD)/libzetl.a $(LDLIBS)

fuzz: fuzz-bins
	@ZETL_FUZZ_SECONDS=$(FUZZ_SECONDS) tests/fuzz/run.sh

deps:
	@tests/lib/deps.sh install

check-deps:
	@tests/lib/deps.sh check

# make demo: install what is missing (as root; otherwise deps.sh prints the
# apt-get line and make stops), build, then the demo: the console when stdin
# and stdout are a terminal, else headless for 60 s (exit 0 = all verified).
demo:
	@tests/lib/deps.sh install
	@$(MAKE) --no-print-directory zetl
	@if [ -t 0 ] && [ -t 1 ]; then ./zetl demo; else ./zetl demo --headless --seconds 60; fi

bench: zetl
	@bench/run.sh $(if $(QUICK),--quick)

# make soak MINUTES=N: a mixed workload on a MariaDB and a PostgreSQL source while
# zetl is killed with SIGKILL at random, the target restarted and its links
# blackholed or reset through fault relays (tests/tools/tcpproxy), then zetl verify
# must match exactly (bench/soak.sh); prints the counts of kills, restarts, rows.
# HA=1: two zetl run processes with ha: (members soakA, soakB), the faults aimed at
# each in turn; also counts failovers and checks one lease holder per integration.
MINUTES ?= 10
soak: zetl $(BUILD)/tools/tcpproxy $(BUILD)/tools/zetl_command
	@ZETL_BUILD=$(CURDIR)/$(BUILD) bench/soak.sh --minutes $(MINUTES)$(if $(filter-out 0,$(HA)), --ha)

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary, the demo's server
# script (PREFIX/share/zetl, found from the binary as ../share/zetl), the man
# pages, an example config, the systemd units and their sysusers.d entry, and
# bash completion. INSTALL_BIN picks the binary to install (tests: zetl-asan).
PREFIX      ?= /usr/local
BINDIR      := $(PREFIX)/bin
SHAREDIR    := $(PREFIX)/share
MANDIR      := $(SHAREDIR)/man
DOCDIR      := $(SHAREDIR)/doc/zetl
UNITDIR     := $(PREFIX)/lib/systemd/system
SYSUSERSDIR := $(PREFIX)/lib/sysusers.d
COMPLDIR    := $(SHAREDIR)/bash-completion/completions
INSTALL_BIN ?= zetl
DIST        := config/dist
INSTALLED   := $(BINDIR)/zetl $(SHAREDIR)/zetl/harness.sh $(MANDIR)/man1/zetl.1 \
               $(MANDIR)/man5/zetl.yaml.5 $(DOCDIR)/examples/zetl.yaml $(UNITDIR)/zetl.service \
               $(UNITDIR)/zetl@.service $(SYSUSERSDIR)/zetl.conf $(COMPLDIR)/zetl

install: $(INSTALL_BIN)
	install -D -m 0755 $(INSTALL_BIN) $(DESTDIR)$(BINDIR)/zetl
	install -D -m 0644 tests/lib/harness.sh $(DESTDIR)$(SHAREDIR)/zetl/harness.sh
	install -D -m 0644 $(DIST)/zetl.1 $(DESTDIR)$(MANDIR)/man1/zetl.1
	install -D -m 0644 $(DIST)/zetl.yaml.5 $(DESTDIR)$(MANDIR)/man5/zetl.yaml.5
	install -D -m 0644 config/example.yaml $(DESTDIR)$(DOCDIR)/examples/zetl.yaml
	install -d $(DESTDIR)$(UNITDIR)
	for u in zetl.service zetl@.service; do \
	    sed 's|@BINDIR@|$(BINDIR)|g' $(DIST)/$$u >$(DESTDIR)$(UNITDIR)/$$u && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$$u || exit 1; done
	install -D -m 0644 $(DIST)/zetl.sysusers $(DESTDIR)$(SYSUSERSDIR)/zetl.conf
	install -D -m 0644 $(DIST)/zetl.bash-completion $(DESTDIR)$(COMPLDIR)/zetl

uninstall:
	rm -f $(addprefix $(DESTDIR),$(INSTALLED))
	-rmdir $(DESTDIR)$(SHAREDIR)/zetl $(DESTDIR)$(DOCDIR)/examples $(DESTDIR)$(DOCDIR) 2>/dev/null

# make deb: zetl_VERSION-1_ARCH.deb in build/deb/, built with dpkg-deb from a
# `make install PREFIX=/usr` tree; its Depends come from dpkg-shlibdeps on the
# libraries the binary links (config/dist/mkdeb.sh). make deb-check installs it
# with apt-get in fresh Debian 12 roots made by debootstrap, runs the demo in one
# and boots the other with systemd-nspawn to run zetl.service (network, minutes).
deb: zetl
	@$(DIST)/mkdeb.sh --version $(VERSION) --out $(BUILD)/deb

deb-check: deb
	@ZETL_TEST_TIMEOUT=1200 tests/run.sh tests/package/test_deb_chroot.sh tests/package/test_systemd_unit.sh

clean:
	rm -rf build build-asan build-fuzz zetl zetl-asan

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
