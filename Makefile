# SPDX-License-Identifier: MIT
# batchpoint: one GNU Makefile.
#
#   make                 static libbatchpoint.a + shared libbatchpoint.so.$(MAJOR) in build/,
#                        and the tools build/examples/bpsim and build/examples/bpfilter
#   make demo            the main job (examples/demo.c over examples/records.ndjson)
#   make test            every test (unit, symbols, install + pkg-config, core-only, clang)
#   make sanitize        the same unit tests under ASan + UBSan
#   make fuzz            libFuzzer runs of every fuzz target (clang; FUZZ_SECONDS each)
#   make bench           benchmarks (figures printed, nothing asserted)
#   make bench-peers     the same beside the peers' figures (../shared/bench/peers), with ratios
#   make install         PREFIX=/usr/local LIBDIR=$(PREFIX)/lib BINDIR=$(PREFIX)/bin DESTDIR=
#   make CORE_ONLY=1     the core without yajl/libb64 (firmware profile), in build/core-only
#   make deps            check (and on Debian install) libyajl-dev libb64-dev libcmocka-dev
#
# Only `make deps` and the targets that start with it (demo, test, sanitize, bench, bench-peers, soak,
# fuzz) may install packages; `make`, `make install` and vendored builds only check the
# library's own dependency (yajl; none for CORE_ONLY=1) and stop naming the package.
# INSTALL_DEPS=0 never runs apt-get: missing packages are only named.
# WERROR=0 drops -Werror (users on newer compilers); the default 1 is what `make test` and CI use.

VERSION_MAJOR := $(shell sed -n 's/^\#define BP_VERSION_MAJOR \([0-9]*\)/\1/p' include/batchpoint/bp_version.h)
VERSION := $(shell sed -n 's/^\#define BP_VERSION_STRING "\(.*\)"/\1/p' include/batchpoint/bp_version.h)

CC ?= cc
CFLAGS ?= -O2 -g
WERROR ?= 1
WARNFLAGS := -std=c11 -Wall -Wextra $(if $(filter 1,$(WERROR)),-Werror) -Wshadow \
	-Wstrict-prototypes -Wmissing-prototypes
CPPFLAGS_LIB := -D_POSIX_C_SOURCE=200809L -Iinclude -Ilib
EXTRA_CFLAGS ?=
EXTRA_LDFLAGS ?=

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
BINDIR ?= $(PREFIX)/bin
DESTDIR ?=

# Each profile builds in its own directory, so its objects are never mixed with the other's.
ifeq ($(CORE_ONLY),1)
BUILD ?= build/core-only
else
BUILD ?= build
endif
INSTALL_DEPS ?= 1

CORE_SRCS := bp_err.c bp_errmsg.c bp_mem.c bp_struct.c bp_buf.c bp_arena.c bp_version.c bp_seqnum.c \
	bp_time.c bp_utf8.c bp_config.c bp_batch.c bp_checkpoint.c bp_bisect.c bp_resolver.c \
	bp_store.c bp_store_file.c bp_engine.c bp_engine_lane.c bp_engine_records.c
CODEC_SRCS := bp_b64.c bp_b64_x86.c bp_b64_neon.c bp_jsonw.c bp_json.c bp_json_scan.c bp_json_dom.c \
	bp_codec.c bp_codec_index.c bp_codec_kinesis.c bp_codec_ddb.c \
	bp_codec_failure.c bp_codec_response.c bp_config_json.c bp_filter.c bp_filter_case.c \
	bp_filter_compile.c bp_filter_match.c bp_filter_syntax.c bp_filter_value.c bp_md5.c bp_kpl.c \
	bp_handler.c bp_handler_json.c bp_handler_event.c bp_handler_ddb.c

ifeq ($(CORE_ONLY),1)
SRCS := $(CORE_SRCS)
PROFILE_CPPFLAGS := -DBP_CORE_ONLY
DEP_LIBS :=
PC_REQUIRES :=
PC_LIBS_PRIVATE :=
else
SRCS := $(CORE_SRCS) $(CODEC_SRCS)
DEP_LIBS := -lyajl
PC_REQUIRES := yajl
PC_LIBS_PRIVATE :=
endif
CPPFLAGS_LIB += $(PROFILE_CPPFLAGS)

STATIC_OBJS := $(SRCS:%.c=$(BUILD)/obj/%.o)
SHARED_OBJS := $(SRCS:%.c=$(BUILD)/pic/%.o)
STATIC_LIB := $(BUILD)/libbatchpoint.a
SHARED_LIB := $(BUILD)/libbatchpoint.so.$(VERSION_MAJOR)
SHARED_LINK := $(BUILD)/libbatchpoint.so

PUBLIC_HEADERS := $(wildcard include/batchpoint/*.h)
# The behaviour reference the headers cite ("SEMANTICS.md §3.4"), installed beside them.
PUBLIC_DOCS := include/batchpoint/SEMANTICS.md include/batchpoint/FILTERS.md
# The installed bp_features.h: generated, it states the profile this library was built with.
GEN_FEATURES := $(BUILD)/include/batchpoint/bp_features.h

# The command-line tools (examples/bpsim, examples/bpfilter): they need the codec.
ifeq ($(CORE_ONLY),1)
TOOLS :=
else
TOOLS := $(BUILD)/examples/bpsim $(BUILD)/examples/bpfilter
endif

ALL_CFLAGS = $(CFLAGS) $(WARNFLAGS) $(EXTRA_CFLAGS)

# Quiet by default; `make V=1` shows every command.
ifeq ($(V),1)
Q :=
say = @true
else
Q := @
say = @echo "  $(1)	$(2)"
endif

.PHONY: all deps demo test unit-tests sanitize fuzz bench bench-peers check-bench-peers install uninstall clean soak check-scenarios \
	check-symbols check-install check-core-only check-clang check-fuzz-corpus check-tools check-data \
	check-layers check-amalgamation check-doc-examples check-spdx check-examples check-abi \
	check-handler check-node-binding check-b64-arm64

all: $(STATIC_LIB) $(SHARED_LIB) $(GEN_FEATURES) $(TOOLS)

# ---- dependencies --------------------------------------------------------------------
# A header probe per package. The library's objects wait only on LIB_DEPS_STAMP, a check
# that never installs. DEPS_STAMP covers every package the tests and the demo need; on
# Debian the missing ones are installed with apt-get (through sudo when not root), elsewhere
# the exact names are printed.
DEPS_STAMP := $(BUILD)/.deps-ok
LIB_DEPS_STAMP := $(BUILD)/.lib-deps-ok
DEPS_ENV = CC="$(CC)" CORE_ONLY="$(CORE_ONLY)" DEPS_CFLAGS="$(EXTRA_CFLAGS)"
deps: $(DEPS_STAMP)
$(DEPS_STAMP): test/support/deps.sh
	@INSTALL_DEPS=$(INSTALL_DEPS) $(DEPS_ENV) sh test/support/deps.sh all
	@mkdir -p $(BUILD) && touch $@
$(LIB_DEPS_STAMP): test/support/deps.sh
	@$(DEPS_ENV) sh test/support/deps.sh lib
	@mkdir -p $(BUILD) && touch $@
# When an installing target was asked for, the library waits for the installation (-j).
INSTALLING_GOALS := deps demo test sanitize bench bench-peers soak fuzz
ifneq ($(filter $(INSTALLING_GOALS),$(MAKECMDGOALS)),)
$(LIB_DEPS_STAMP): | $(DEPS_STAMP)
endif

# ---- library -------------------------------------------------------------------------
$(BUILD)/obj/%.o: lib/%.c $(wildcard lib/*.h) $(PUBLIC_HEADERS) | $(LIB_DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(CPPFLAGS_LIB) -DBP_BUILDING -fvisibility=hidden -c $< -o $@

$(BUILD)/pic/%.o: lib/%.c $(wildcard lib/*.h) $(PUBLIC_HEADERS) | $(LIB_DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(CPPFLAGS_LIB) -DBP_BUILDING -fvisibility=hidden -fPIC -c $< -o $@

$(STATIC_LIB): $(STATIC_OBJS)
	@rm -f $@
	$(call say,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(SHARED_LIB): $(SHARED_OBJS) lib/batchpoint.map
	$(call say,LD,$@)
	$(Q)$(CC) -shared -Wl,-soname,libbatchpoint.so.$(VERSION_MAJOR) \
		-Wl,--version-script=lib/batchpoint.map $(EXTRA_CFLAGS) $(EXTRA_LDFLAGS) \
		-o $@ $(SHARED_OBJS) $(DEP_LIBS)
	$(Q)ln -sf libbatchpoint.so.$(VERSION_MAJOR) $(SHARED_LINK)

$(GEN_FEATURES): include/batchpoint/bp_features.h pkgconfig/gen_features.sh
	@mkdir -p $(dir $@)
	$(call say,GEN,$@)
	$(Q)sh pkgconfig/gen_features.sh $@ $(CC) $(ALL_CFLAGS) $(CPPFLAGS_LIB)

# ---- tests ---------------------------------------------------------------------------
TEST_SRCS := $(wildcard test/test_*.c)
TEST_BINS := $(TEST_SRCS:test/%.c=$(BUILD)/test/%)
SUPPORT_SRCS := $(wildcard test/support/*.c)
# The data the tests and tools read (scenarios, filter vectors, seed samples) ships in
# test/data, as copies listed in test/data/MANIFEST; SHARED is only where their upstream is
# looked for by check-data.
TEST_DATA := test/data
SHARED ?= ../shared
TEST_CPPFLAGS := $(CPPFLAGS_LIB) -Itest/support -DBP_STATIC -DBP_TEST_DATA_DIR='"$(TEST_DATA)"'
TEST_LIBS := $(STATIC_LIB) -lyajl -lb64 -lcmocka

$(BUILD)/test/%: test/%.c $(SUPPORT_SRCS) $(wildcard test/support/*.h) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CPPFLAGS) -o $@ $< $(SUPPORT_SRCS) $(TEST_LIBS) $(EXTRA_LDFLAGS)

FUZZ_SRCS := $(wildcard test/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(FUZZ_SRCS:test/fuzz/%.c=$(BUILD)/fuzz/%)
$(BUILD)/fuzz/%: test/fuzz/%.c test/fuzz/replay_main.c $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CPPFLAGS) -o $@ $< test/fuzz/replay_main.c $(STATIC_LIB) \
		$(DEP_LIBS) $(EXTRA_LDFLAGS)

unit-tests: $(TEST_BINS) $(FUZZ_REPLAY)
	@sh test/support/run_tests.sh $(BUILD) $(TEST_BINS) -- $(FUZZ_REPLAY) | tee $(BUILD)/test-output; \
		tail -1 $(BUILD)/test-output > $(BUILD)/test-summary; \
		grep -q ' 0 failed$$' $(BUILD)/test-summary

# The unit-test summary is repeated last, as the closing line of the whole run.
test: deps check-data unit-tests check-scenarios check-tools check-examples check-symbols \
		check-install check-core-only check-clang check-layers check-amalgamation check-doc-examples \
		check-abi check-spdx check-aws check-handler check-python check-node-binding \
		check-bench-peers check-b64-arm64
	@echo "make test: data, scenarios, tools, examples, symbols, install, core-only, clang, layers, one-file build, docs, old-binary ABI, SPDX and AArch64 base64 checks passed"
	@cat $(BUILD)/test-summary

# test/data's copies equal their upstream in $(SHARED) byte for byte (skipped without it).
check-data:
	@sh test/support/check_data_sync.sh $(SHARED)

# Every #include in lib/ stays within its layer (the layers: base, then components and codec, then engine, then stores).
check-layers:
	@sh test/support/check_layers.sh lib

# A one-file build of the library compiles (internal names unique across lib/): every source
# of the build, and the core sources alone as CORE_ONLY=1 builds them.
check-amalgamation: | $(DEPS_STAMP)
	@mkdir -p $(BUILD)/amalgamation
	@printf '#include "%s"\n' $(SRCS) > $(BUILD)/amalgamation/batchpoint.c
	@printf '#include "%s"\n' $(CORE_SRCS) > $(BUILD)/amalgamation/batchpoint_core.c
	$(Q)$(CC) $(ALL_CFLAGS) $(CPPFLAGS_LIB) -DBP_BUILDING -c $(BUILD)/amalgamation/batchpoint.c \
		-o $(BUILD)/amalgamation/batchpoint.o
	$(Q)$(CC) $(ALL_CFLAGS) $(CPPFLAGS_LIB) -DBP_BUILDING -DBP_CORE_ONLY \
		-c $(BUILD)/amalgamation/batchpoint_core.c -o $(BUILD)/amalgamation/batchpoint_core.o
	@echo "check-amalgamation: one-file builds of lib/ (full and core-only) compile"

# The base64 NEON path, cross-built for AArch64 and run under qemu-user (skipped without them).
check-b64-arm64:
	@sh test/support/check_b64_arm64.sh $(BUILD)

# A host built against the headers of the ABI baseline (test/abi/include, never include/) runs
# against today's shared library: appended members must not break an old binary.
check-abi: $(SHARED_LIB)
	@mkdir -p $(BUILD)/abi
	$(Q)$(CC) $(ALL_CFLAGS) -D_POSIX_C_SOURCE=200809L -Itest/abi/include -o $(BUILD)/abi/old_host \
		test/abi/old_host.c -L$(BUILD) -lbatchpoint $(EXTRA_LDFLAGS)
	@LD_LIBRARY_PATH=$(BUILD) $(BUILD)/abi/old_host

# Only bp_ symbols leave the shared library (toolchain entries aside), and every public
# function is linked by test/test_symbols.c.
check-symbols: $(SHARED_LIB)
	@CC="$(CC)" PROFILE_CPPFLAGS="$(PROFILE_CPPFLAGS)" sh test/support/check_symbols.sh \
		$(SHARED_LIB) include/batchpoint

# Install into a temporary prefix and build an example with pkg-config only; the same for
# the core-only build (built by check-core-only).
check-install: all check-core-only
	@sh test/support/check_install.sh "$(MAKE)" "$(CC)" "$(BUILD)"

# The firmware profile: core without yajl/libb64 (static and shared libraries, its symbol
# check), plus the static-memory example.
check-core-only:
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/core-only CORE_ONLY=1 INSTALL_DEPS=0 \
		all check-symbols
	@$(MAKE) --no-print-directory BUILD=$(BUILD)/core-only CORE_ONLY=1 INSTALL_DEPS=0 \
		$(BUILD)/core-only/examples/static_memory
	$(BUILD)/core-only/examples/static_memory

# The same sources, warnings as errors, under the other compiler (skipped if absent).
check-clang:
	@if command -v clang >/dev/null 2>&1 && [ "$(notdir $(CC))" != clang ]; then \
		$(MAKE) --no-print-directory BUILD=$(BUILD)/clang CC=clang INSTALL_DEPS=0 all \
		&& echo "clang build: ok"; \
	else echo "clang build: skipped (clang not installed or already the compiler)"; fi

# Every @code block of the headers and ```c block of README.md compiles (the script says how
# a block becomes a program).
check-doc-examples:
	@sh test/support/check_doc_examples.sh "$(CC)"

# Every source file names its license (LICENSE) with an SPDX line; `sh
# test/support/check_spdx.sh --fix` adds the missing ones.
check-spdx:
	@sh test/support/check_spdx.sh

# libFuzzer builds of every fuzz target (clang only), run for FUZZ_SECONDS each over a copy
# of its corpus; new crashes are left in $(BUILD)/fuzz-run/<target>/.
FUZZ_SECONDS ?= 60
fuzz: deps
	@command -v clang >/dev/null 2>&1 || { echo "make fuzz needs clang"; exit 1; }
	@for src in $(FUZZ_SRCS); do \
		name=$$(basename $$src .c); dir=$(BUILD)/fuzz-run/$$name; mkdir -p $$dir/corpus; \
		cp test/fuzz/corpus/$${name#fuzz_}/* $$dir/corpus/ 2>/dev/null; \
		clang -g -O1 -fsanitize=fuzzer,address,undefined $(WARNFLAGS) $(CPPFLAGS_LIB) -DBP_STATIC \
			-o $$dir/$$name $$src $(addprefix lib/,$(SRCS)) $(DEP_LIBS) || exit 1; \
		echo "fuzz: $$name for $(FUZZ_SECONDS) s"; \
		(cd $$dir && ./$$name -max_total_time=$(FUZZ_SECONDS) corpus > log 2>&1) \
			|| { tail -20 $$dir/log; exit 1; }; \
		grep -E '^#[0-9]+.*DONE' $$dir/log | tail -1; \
	done

sanitize:
	@$(MAKE) --no-print-directory BUILD=build/sanitize \
		CFLAGS="-O1 -g -fno-omit-frame-pointer" \
		EXTRA_CFLAGS="-fsanitize=address,undefined -fno-sanitize-recover=all" \
		EXTRA_LDFLAGS="-fsanitize=address,undefined" deps unit-tests check-aws check-scenarios check-tools \
		check-examples check-handler

# ---- examples and demo ---------------------------------------------------------------
EXAMPLE_CPPFLAGS := -Iinclude -DBP_STATIC -D_POSIX_C_SOURCE=200809L
$(BUILD)/examples/%: examples/%.c $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(EXAMPLE_CPPFLAGS) $(if $(filter 1,$(CORE_ONLY)),-DBP_CORE_ONLY) \
		-o $@ $< $(STATIC_LIB) $(DEP_LIBS) $(EXAMPLE_LDFLAGS) $(EXTRA_LDFLAGS)

# static_memory counts every allocator call of itself and of the static library.
$(BUILD)/examples/static_memory: EXAMPLE_CPPFLAGS += -DWRAP_MALLOC
$(BUILD)/examples/static_memory: EXAMPLE_LDFLAGS := \
	-Wl,--wrap=malloc,--wrap=calloc,--wrap=realloc,--wrap=free

$(BUILD)/examples/async_host: EXAMPLE_LDFLAGS := -pthread

# The examples a newcomer copies, run as tests: each exits non-zero when its outcome is wrong;
# and the demo's stream file under a full disk.
EXAMPLES := sync_host async_host static_memory
check-examples: $(EXAMPLES:%=$(BUILD)/examples/%) $(BUILD)/examples/demo
	@for x in $(EXAMPLES); do \
		out=$(BUILD)/examples/$$x.out; $(BUILD)/examples/$$x > $$out 2>&1 || { cat $$out; exit 1; }; \
		echo "example $$x: $$(tail -1 $$out)"; done
	@sh test/support/check_demo_append.sh $(BUILD)/examples/demo $(BUILD)/demo-append

demo: deps $(BUILD)/examples/demo
	$(BUILD)/examples/demo --dir $(BUILD)/demo --seed examples/records.ndjson

# bpsim: the scenario runner (examples/bpsim/*.c), a host of the public API only.
BPSIM_SRCS := $(wildcard examples/bpsim/*.c)
$(BUILD)/examples/bpsim: $(BPSIM_SRCS) $(wildcard examples/bpsim/*.h) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(EXAMPLE_CPPFLAGS) -o $@ $(BPSIM_SRCS) $(STATIC_LIB) -lyajl \
		$(EXTRA_LDFLAGS)

# bpfilter: FilterCriteria patterns on event files, and the filter vector runner
# (examples/bpfilter/*.c), a host of the public API only.
BPFILTER_SRCS := $(wildcard examples/bpfilter/*.c)
$(BUILD)/examples/bpfilter: $(BPFILTER_SRCS) $(wildcard examples/bpfilter/*.h) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(EXAMPLE_CPPFLAGS) -o $@ $(BPFILTER_SRCS) $(STATIC_LIB) -lyajl \
		$(EXTRA_LDFLAGS)

# Every scenario of the acceptance file (SEMANTICS.md §11) and of test/scenarios/ through the
# real engine.
check-scenarios: $(BUILD)/examples/bpsim
	@for f in $(TEST_DATA)/esm-scenarios.json test/scenarios/*.json examples/scenarios/*.json; do \
		echo "bpsim $$f"; $(BUILD)/examples/bpsim $$f > $(BUILD)/bpsim.out; rc=$$?; \
		grep -v '^PASS' $(BUILD)/bpsim.out; [ $$rc -eq 0 ] || exit 1; done

# The tools as users run them: bpfilter over the filter vectors and its own inputs,
# bpsim's NDJSON timeline, same-instant invocations compared as a set (and the cases that
# must fail), and bpsim fed truncated and garbage scenario files.
check-tools: $(TOOLS)
	@sh test/support/check_bpfilter.sh $(BUILD)/examples/bpfilter $(TEST_DATA)/filter-vectors.json
	@sh test/support/check_bpsim_json.sh $(BUILD)/examples/bpsim $(TEST_DATA)/esm-scenarios.json
	@sh test/support/check_bpsim_same_instant.sh $(BUILD)/examples/bpsim
	@sh test/support/check_bpsim_malformed.sh $(BUILD)/examples/bpsim \
		$(TEST_DATA)/esm-scenarios.json

# The randomized model test with many more runs than `make test` gives it.
SOAK_RUNS ?= 200000
soak: deps $(BUILD)/test/test_engine_model
	BP_MODEL_RUNS=$(SOAK_RUNS) $(BUILD)/test/test_engine_model

# ---- benchmarks ----------------------------------------------------------------------
BENCH_SRCS := $(wildcard test/bench/bench_*.c)
BENCH_BINS := $(BENCH_SRCS:test/bench/%.c=$(BUILD)/bench/%)
$(BUILD)/bench/%: test/bench/%.c $(wildcard test/bench/*.h) $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(TEST_CPPFLAGS) -O2 -o $@ $< $(STATIC_LIB) $(DEP_LIBS) -lb64

bench: deps $(BENCH_BINS)
	@for b in $(BENCH_BINS); do $$b || exit 1; done

# The peers' harness ($(SHARED)/bench/peers, set up once in $(BUILD)/peers) and these benches
# (and the bindings' bench-node / bench-python where they exist) in one sitting: each peer's
# line with batchpoint's lines of the same work id under it and the ratio. Skipped (exit 0)
# without $(SHARED)/bench/peers; `make bench` never needs it.
bench-peers: deps $(BENCH_BINS)
	@MAKE="$(MAKE)" sh test/bench/bench_peers.sh "$(SHARED)" "$(BUILD)" $(BENCH_BINS)

# bench-peers' pairing and ratios, on a stand-in harness (no node, no network).
check-bench-peers:
	@sh test/support/check_bench_peers.sh $(BUILD)

# ---- install -------------------------------------------------------------------------
# The .pc file is written at install time, so it always names the PREFIX being installed.
install: all
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCLUDEDIR)/batchpoint
	$(if $(TOOLS),install -d $(DESTDIR)$(BINDIR) && install -m 755 $(TOOLS) $(DESTDIR)$(BINDIR)/)
	install -m 644 $(STATIC_LIB) $(DESTDIR)$(LIBDIR)/
	install -m 755 $(SHARED_LIB) $(DESTDIR)$(LIBDIR)/
	ln -sf libbatchpoint.so.$(VERSION_MAJOR) $(DESTDIR)$(LIBDIR)/libbatchpoint.so
	install -m 644 include/batchpoint.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 644 $(filter-out %/bp_features.h,$(PUBLIC_HEADERS)) $(GEN_FEATURES) \
		$(PUBLIC_DOCS) $(DESTDIR)$(INCLUDEDIR)/batchpoint/
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(LIBDIR)|g' \
		-e 's|@INCLUDEDIR@|$(INCLUDEDIR)|g' -e 's|@VERSION@|$(VERSION)|g' \
		-e 's|@REQUIRES_PRIVATE@|$(PC_REQUIRES)|g' -e 's|@LIBS_PRIVATE@|$(PC_LIBS_PRIVATE)|g' \
		-e 's|@PROFILE@|$(if $(filter 1,$(CORE_ONLY)),core-only,full)|g' \
		pkgconfig/batchpoint.pc.in > $(DESTDIR)$(LIBDIR)/pkgconfig/batchpoint.pc

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libbatchpoint.a $(DESTDIR)$(LIBDIR)/libbatchpoint.so \
		$(DESTDIR)$(LIBDIR)/libbatchpoint.so.$(VERSION_MAJOR) \
		$(DESTDIR)$(LIBDIR)/pkgconfig/batchpoint.pc $(DESTDIR)$(INCLUDEDIR)/batchpoint.h
	rm -f $(addprefix $(DESTDIR)$(INCLUDEDIR)/batchpoint/,$(notdir $(PUBLIC_HEADERS) $(PUBLIC_DOCS)))
	rm -f $(addprefix $(DESTDIR)$(BINDIR)/,$(notdir $(TOOLS)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/batchpoint 2>/dev/null

clean:
	rm -rf build

# The Python binding (lib/bindings/python): its unittest suites and its scenario runner over
# every scenario file (the same counts as bpsim), against the build tree's library; "skipped"
# without python3 (a failure when BP_REQUIRE_ALL=1). handler_ref (below) is the C answer the
# function-side tests compare with.
.PHONY: check-python
check-python: $(SHARED_LIB) $(TOOLS) $(BUILD)/test/handler/handler_ref
	@sh test/python/check_python.sh $(BUILD)
	@sh test/python/check_python_install.sh $(BUILD) "$(MAKE)"

# The Python binding's leak and crash soak: SOAK_LIVES engine lives (default 100,000; about
# 1.5 minutes) created and dropped in random order with raising callbacks, RSS and malloc's
# bytes in use flat (check-python runs 5,000 of them). soak-bindings runs it with the other
# bindings' soaks.
SOAK_LIVES ?= 100000
.PHONY: soak-python soak-node soak-bindings
soak-bindings: soak-python soak-node
soak-python: $(SHARED_LIB)
	@PYTHONPATH=lib/bindings/python BATCHPOINT_LIBRARY=$(BUILD)/libbatchpoint.so.0 \
		python3 lib/bindings/python/tests/soak_lives.py $(SOAK_LIVES)

# The Python binding's benchmarks in the peers' line format (peer=batchpoint-python):
# encode-kinesis-event, filter-match-json, engine-noop-bs100-pf1 (figures, nothing asserted).
.PHONY: bench-python
bench-python: $(SHARED_LIB)
	@BATCHPOINT_LIBRARY=$(BUILD)/libbatchpoint.so.0 python3 lib/bindings/python/bench.py

# The package without pip: its modules copied to PYTHONDIR (default: the user's site
# directory). With pip: python3 -m pip install lib/bindings/python (offline, no setuptools).
PYTHONDIR ?= $(shell python3 -c 'import site; print(site.getusersitepackages())' 2>/dev/null)
.PHONY: install-python
install-python:
	@test -n "$(PYTHONDIR)" || { echo "install-python: set PYTHONDIR"; exit 1; }
	install -d $(DESTDIR)$(PYTHONDIR)/batchpoint
	install -m 644 lib/bindings/python/batchpoint/*.py $(DESTDIR)$(PYTHONDIR)/batchpoint/

# The optional AWS add-on, libbatchpoint-aws (lib/aws/aws.mk says what it builds and when).
include lib/aws/aws.mk

# The Node packages of the end-to-end and conformance tests (kinesalite, Powertools, the AWS
# SDK), from test/aws/node/package-lock.json with npm ci, once (check-aws and check-handler
# share this one run, so -j2 never runs two npm ci); without npm the tests that need them
# say skipped (and fail when BP_REQUIRE_ALL=1, as in CI).
.PHONY: node-packages
node-packages:
	@sh test/aws/node/install.sh
	@sh lib/bindings/node/install.sh

# ---- the Node binding (lib/bindings/node/, koffi from npm) ----------------------------------
# layout: sizeof/offsetof of the structs the binding declares, from the headers (the binding's
# layout test compares koffi's with them).
NODE_LAYOUT := $(BUILD)/bindings/node/layout
$(NODE_LAYOUT): lib/bindings/node/test/layout.c $(wildcard include/batchpoint/*.h)
	@mkdir -p $(dir $@)
	$(call say,CC,$@)
	$(Q)$(CC) $(ALL_CFLAGS) -Iinclude -o $@ $<

.PHONY: check-node-binding
check-node-binding: $(SHARED_LIB) $(NODE_LAYOUT) $(BUILD)/examples/bpsim | node-packages
	@sh lib/bindings/node/check.sh $(BUILD)

# ---- the function side against Powertools (test/handler/) ------------------------------
# handler_ref: bp_handler with the "marked failing" record handler of the custom-runtime
# example, one response line per event; a host of the public API only.
HANDLER_REF := $(BUILD)/test/handler/handler_ref
$(HANDLER_REF): test/handler/handler_ref.c examples/lambda_runtime/marked.c \
		examples/lambda_runtime/marked.h $(STATIC_LIB)
	@mkdir -p $(dir $@)
	$(call say,CCLD,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(EXAMPLE_CPPFLAGS) -Iexamples/lambda_runtime -o $@ $< \
		examples/lambda_runtime/marked.c $(STATIC_LIB) -lyajl $(EXTRA_LDFLAGS)

# The Node binding's function-side test compares its responses with handler_ref's.
check-node-binding: $(HANDLER_REF)

# The Node binding's figures in the peers' line format (encode-kinesis-event,
# filter-match-json; lib/bindings/node/bench.js says on which inputs).
.PHONY: bench-node
bench-node: $(SHARED_LIB) | node-packages
	@if command -v node >/dev/null 2>&1 && [ -d lib/bindings/node/node_modules/koffi ]; then \
		BATCHPOINT_LIBRARY=$(BUILD)/libbatchpoint.so.0 node lib/bindings/node/bench.js; \
	else name=bench-node; . test/support/skipped.sh; skipped "node or koffi missing"; fi

# The Node binding's leak and crash soak (minutes, so not in make test): 100,000 engine lives
# dropped in random order with failing host callbacks, RSS bounded (lib/bindings/node/soak.js).
soak-node: $(SHARED_LIB) | node-packages
	@if command -v node >/dev/null 2>&1 && [ -d lib/bindings/node/node_modules/koffi ]; then \
		BATCHPOINT_LIBRARY=$(BUILD)/libbatchpoint.so.0 node --expose-gc lib/bindings/node/soak.js; \
	else name=soak-node; . test/support/skipped.sh; skipped "Node (node or koffi missing)"; fi

# Conformance with AWS Lambda Powertools' batch utility (the copy pinned in
# test/aws/node/package.json) over the seed, scenario, randomized and malformed events, and
# the custom runtime against a local Runtime API; "skipped" without node, npm packages or
# libcurl (a failure when BP_REQUIRE_ALL=1).
check-handler: $(HANDLER_REF) $(LAMBDA_BOOTSTRAP) | node-packages
	@sh test/handler/check_powertools_conformance.sh $(BUILD)
	@sh test/handler/check_runtime.sh $(BUILD)
