# Entry points. Everything builds with CMake; this file only names the common tasks.
BUILD ?= build
BUILD_TYPE ?= RelWithDebInfo
JOBS ?= $(shell nproc)
PREFIX ?= /usr/local
# More CMake options for $(BUILD), e.g. CMAKE_FLAGS=-DORCH_TESTS=OFF for the program and its package only.
CMAKE_FLAGS ?=

.PHONY: all deps configure build test sanitize bench clean demo fuzz package install format

all: build

# scripts/install-deps.sh runs when its stamp is missing or older than the script, so a second `make`
# does not run it; `make deps` runs it always. NO_DEPS=1 leaves it out altogether, for a machine whose
# packages are installed some other way.
DEPS_STAMP = $(BUILD)/.deps-installed
# The official Hub client that one test runs against the fake Hub is installed here (npm, tests only).
NODE_PREFIX = $(abspath $(BUILD))/node
ifeq ($(NO_DEPS),)
DEPS = $(DEPS_STAMP)
endif

deps:
	@scripts/install-deps.sh $(NODE_PREFIX)
	@mkdir -p $(BUILD) && touch $(DEPS_STAMP)

$(DEPS_STAMP): scripts/install-deps.sh tests/js/package-lock.json
	@scripts/install-deps.sh $(NODE_PREFIX)
	@mkdir -p $(@D) && touch $@

configure: $(DEPS)
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) -DORCH_NODE_PREFIX=$(NODE_PREFIX) $(CMAKE_FLAGS) >/dev/null

build: configure
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

sanitize: $(DEPS)
	@cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DORCH_SANITIZE=ON -DORCH_NODE_PREFIX=$(NODE_PREFIX) >/dev/null
	@cmake --build build-sanitize -j $(JOBS)
	@cd build-sanitize && ctest --output-on-failure -j $(JOBS)

bench: build
	@bench/run.sh

# libFuzzer targets (fuzz/), built with clang in build-fuzz; each runs FUZZ_SECONDS on a fresh copy
# of its seed corpus. Crashing inputs are kept in build-fuzz/findings/. Not part of `make test`.
FUZZ_SECONDS ?= 60
# One target per fuzz/fuzz_*.cc (fuzz/CMakeLists.txt checks its list against the same files).
FUZZ_TARGETS = $(sort $(basename $(notdir $(wildcard fuzz/fuzz_*.cc))))

fuzz: $(DEPS)
	@cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_COMPILER=clang++ \
	  -DORCH_FUZZ=ON -DORCH_TESTS=OFF >/dev/null
	@cmake --build build-fuzz -j $(JOBS) --target $(FUZZ_TARGETS)
	@mkdir -p build-fuzz/findings; failed=""; \
	for t in $(FUZZ_TARGETS); do \
	  rm -rf build-fuzz/corpus/$$t && mkdir -p build-fuzz/corpus/$$t && cp fuzz/corpus/$$t/* build-fuzz/corpus/$$t/; \
	  echo "fuzz: $$t for $(FUZZ_SECONDS) s"; \
	  UBSAN_OPTIONS=print_stacktrace=1 build-fuzz/fuzz/$$t -max_total_time=$(FUZZ_SECONDS) -timeout=25 \
	    -print_final_stats=1 -artifact_prefix=build-fuzz/findings/$$t- build-fuzz/corpus/$$t \
	    >build-fuzz/$$t.log 2>&1 || failed="$$failed $$t"; \
	  grep -E '^#[0-9]+.*DONE|^stat::number_of_executed_units|^stat::average_exec_per_sec|SUMMARY|invariant broken' \
	    build-fuzz/$$t.log; \
	done; \
	if [ -n "$$failed" ]; then echo "fuzz: FAILED:$$failed (logs build-fuzz/<target>.log, inputs build-fuzz/findings/)"; exit 1; fi; \
	echo "fuzz: every target ran $(FUZZ_SECONDS) s without a finding"

# The whole loop on this machine, from a fresh start each time: see README, "Quick start".
# Builds the program only: neither the tests nor the man page.
demo: configure
	@cmake --build $(BUILD) -j $(JOBS) --target orchestrator
	@$(BUILD)/orchestrator demo --fresh --dir orchestrator-demo

# The Debian package, $(BUILD)/orchestrator_<version>_<arch>.deb: install it with
# `sudo apt-get install ./$(BUILD)/orchestrator_*.deb`, which brings the libraries it needs.
package: build
	@cd $(BUILD) && cpack -G DEB

# The program, its man page, completions and documentation under $(PREFIX) (DESTDIR is honoured).
install: build
	@cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) build-sanitize

# Formats every C++ file as .clang-format says; `make test` checks that nothing is left to format.
format:
	@find src tests bench fuzz -name '*.cc' -o -name '*.h' | xargs clang-format -i
