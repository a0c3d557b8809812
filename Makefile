# uwsgi-scheduler: build, install, test, demo.
# On a fresh Debian 12 `make test` and `make demo` install what they need
# first (tools/deps.sh: only what is missing, apt-get update at most once).

PYTHON      ?= /usr/bin/python3
UWSGI       ?= uwsgi
CC          ?= gcc
PLUGIN      := scheduler_plugin.so
PLUGIN_DIR  ?= $(shell $(UWSGI) --cflags 2>/dev/null | tr ' ' '\n' | sed -n 's/^-DUWSGI_PLUGIN_DIR="\\"\(.*\)\\""$$/\1/p')

CORE_SRC    := $(wildcard plugin/core/*.c)
CORE_HDR    := $(wildcard plugin/core/*.h)
ADAPTER_SRC := $(wildcard plugin/*.c)
ADAPTER_HDR := $(wildcard plugin/*.h)

# Unit tests: each tests/unit/test_*.c is one Check program linked with the
# pure core; `make test-unit` builds them with ASan+UBSan.
UNIT_SRC    := $(wildcard tests/unit/test_*.c)
UNIT_CFLAGS := -std=gnu11 -g -O1 -Wall -Wextra -Werror -Iplugin/core -Itests/unit
# recursive (=): evaluated after `make deps` has installed check
UNIT_LIBS    = $(shell pkg-config --libs check 2>/dev/null || echo -lcheck) -ljansson -lm -lpthread
SAN_FLAGS   := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all
BUILD       := build

# The operator's command (cli/): a standalone program, jansson only.
CLI         := uwsgi-scheduler
CLI_SRC     := $(wildcard cli/*.c)
CLI_HDR     := $(wildcard cli/*.h)
CLI_CFLAGS  := -std=gnu11 -O2 -Wall -Wextra -Werror
BINDIR      ?= /usr/local/bin

.PHONY: all deps install test test-unit test-valgrind test-integration fuzz fuzz-smoke demo bench clean check-layout readme-keys format check-format

all: $(PLUGIN) $(CLI)

deps:
	sh tools/deps.sh

$(PLUGIN): uwsgiplugin.py $(CORE_SRC) $(CORE_HDR) $(ADAPTER_SRC) $(ADAPTER_HDR) | deps
	@$(PYTHON) tools/check_layout.py
	PYTHON=$(PYTHON) $(UWSGI) --build-plugin . >build-plugin.log 2>&1 || (cat build-plugin.log; exit 1)
	@rm -f build-plugin.log

$(CLI): $(CLI_SRC) $(CLI_HDR) | deps
	$(CC) $(CLI_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $(CLI_SRC) -ljansson -lm

# The same plugin built with ASan+UBSan, in its own directory (the builder
# writes <name>_plugin.so where it runs): test_sanitized.py loads it into
# uwsgi with the sanitizer runtimes preloaded.
SAN_PLUGIN := $(BUILD)/sanitized/$(PLUGIN)

$(SAN_PLUGIN): uwsgiplugin.py $(CORE_SRC) $(CORE_HDR) $(ADAPTER_SRC) $(ADAPTER_HDR) | deps
	@rm -rf $(BUILD)/sanitized && mkdir -p $(BUILD)/sanitized
	@cp -r plugin uwsgiplugin.py $(BUILD)/sanitized/
	cd $(BUILD)/sanitized && SCHEDULER_SANITIZE=1 PYTHON=$(PYTHON) $(UWSGI) --build-plugin . >build-plugin.log 2>&1 || (cat build-plugin.log; exit 1)

install: $(PLUGIN) $(CLI)
	install -D -m 0644 $(PLUGIN) $(DESTDIR)$(PLUGIN_DIR)/$(PLUGIN)
	install -D -m 0755 $(CLI) $(DESTDIR)$(BINDIR)/$(CLI)

check-layout:
	$(PYTHON) tools/check_layout.py

# One C style (.clang-format); check-format changes nothing and fails on a difference.
FORMAT_SRC = plugin/*.[ch] plugin/core/*.[ch] tests/unit/*.[ch] bench/*.c tools/*.c tests/integration/shims/*.c cli/*.[ch] tests/fuzz/*.[ch]
format:
	clang-format -i $(FORMAT_SRC)

check-format:
	clang-format --dry-run -Werror $(FORMAT_SRC)

# The README's key table comes from the key table (a unit test checks it).
$(BUILD)/keys_md: tools/keys_md.c $(CORE_SRC) $(CORE_HDR) | deps
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(CORE_SRC) $(UNIT_LIBS)

readme-keys: $(BUILD)/keys_md
	$(PYTHON) tools/readme_keys.py $(BUILD)/keys_md

$(BUILD)/asan/%: tests/unit/%.c tests/unit/unit.h $(CORE_SRC) $(CORE_HDR) | deps
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) $(SAN_FLAGS) -o $@ $< $(CORE_SRC) $(UNIT_LIBS)

$(BUILD)/plain/%: tests/unit/%.c tests/unit/unit.h $(CORE_SRC) $(CORE_HDR) | deps
	@mkdir -p $(dir $@)
	$(CC) $(UNIT_CFLAGS) -o $@ $< $(CORE_SRC) $(UNIT_LIBS)

# Oracles: each tests/unit/oracle/NAME.py (Debian's python3: zoneinfo,
# croniter) writes expected values to $(BUILD)/oracle/NAME.tsv; the C tests
# read them from $$USCH_ORACLE_DIR and compare.
ORACLE_SRC := $(wildcard tests/unit/oracle/*.py)
ORACLES    := $(patsubst tests/unit/oracle/%.py,$(BUILD)/oracle/%.tsv,$(ORACLE_SRC))

$(BUILD)/oracle/%.tsv: tests/unit/oracle/%.py | deps
	@mkdir -p $(dir $@)
	$(PYTHON) $< > $@.tmp && mv $@.tmp $@

UNIT_ASAN  := $(patsubst tests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRC))
UNIT_PLAIN := $(patsubst tests/unit/%.c,$(BUILD)/plain/%,$(UNIT_SRC))

# CK_FORK=no keeps each suite in one process so ASan/valgrind see all of it.
test-unit: $(UNIT_ASAN) $(ORACLES)
	@set -e; for t in $(UNIT_ASAN); do \
		echo "== $$t"; USCH_ORACLE_DIR=$(BUILD)/oracle CK_FORK=no ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 $$t; done

test-valgrind: $(UNIT_PLAIN) $(ORACLES)
	@set -e; for t in $(UNIT_PLAIN); do \
		echo "== valgrind $$t"; USCH_ORACLE_DIR=$(BUILD)/oracle CK_FORK=no valgrind -q --error-exitcode=99 --leak-check=full \
			--errors-for-leak-kinds=definite,indirect $$t; done

test-integration: $(PLUGIN) $(CLI) $(SAN_PLUGIN)
	cd tests/integration && $(PYTHON) -m pytest -q -p no:cacheprovider .

test: deps
	$(MAKE) test-unit
	$(MAKE) test-integration
	$(MAKE) fuzz-smoke

# libFuzzer harnesses of the core's parsers (tests/fuzz/fuzz_*.c), with
# ASan+UBSan and cross-checks; seeds in tests/fuzz/seeds/NAME, what they
# find kept in $(BUILD)/fuzz/corpus/NAME. `make fuzz` runs each for
# FUZZ_SECONDS; make test runs a smoke (fuzz-smoke).
FUZZ_SRC     := $(wildcard tests/fuzz/fuzz_*.c)
FUZZERS      := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRC))
FUZZ_SECONDS ?= 600

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz.h $(CORE_SRC) $(CORE_HDR) | deps
	@mkdir -p $(dir $@)
	clang -std=gnu11 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Iplugin/core -o $@ $< $(CORE_SRC) -ljansson -lm

# Each fuzzer with the options $(1), growing its corpus in $(BUILD)/fuzz/$(2)/NAME
# from the seeds; a crash or a failed cross-check shows the log's tail.
define run_fuzzers
	@set -e; for f in $(FUZZERS); do n=$$(basename $$f); mkdir -p $(BUILD)/fuzz/$(2)/$$n; \
		echo "== $$n: $(1)"; \
		$$f $(1) -max_len=4096 -print_final_stats=1 -artifact_prefix=$(BUILD)/fuzz/$$n- $(BUILD)/fuzz/$(2)/$$n \
			tests/fuzz/seeds/$$n >$(BUILD)/fuzz/$$n.log 2>&1 || { tail -60 $(BUILD)/fuzz/$$n.log; exit 1; }; \
		grep -E "stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)" $(BUILD)/fuzz/$$n.log; done
endef

fuzz: $(FUZZERS)
	$(call run_fuzzers,-max_total_time=$(FUZZ_SECONDS),corpus)

# The smoke is the same on every machine: a fixed seed and number of runs
# from the seeds alone (what `make fuzz` found elsewhere is not read).
FUZZ_SMOKE_RUNS ?= 500000

fuzz-smoke: $(FUZZERS)
	@rm -rf $(BUILD)/fuzz/smoke
	$(call run_fuzzers,-seed=1 -runs=$(FUZZ_SMOKE_RUNS),smoke)

demo: install
	sh examples/wsgi/demo.sh

bench:
	sh tools/deps.sh bench
	sh bench/run.sh

clean:
	rm -rf $(BUILD) $(PLUGIN) $(CLI) .uwsgi_plugins_builder
