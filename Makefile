# The two commands a newcomer types (README.md), and a few for developers.
# Every target installs what is missing first (scripts/setup-deps).
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build run test test-asan test-tsan test-tsan-integration tsan-configure fuzz fuzz-long bench soak format clean

all: build

deps:
	@scripts/setup-deps

# RelWithDebInfo: optimised like a release, with symbols for perf and gdb.
$(BUILD)/build.ninja: | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS)

build: deps $(BUILD)/build.ninja
	ninja -C $(BUILD)

run: build
	@scripts/quickstart $(BUILD)/cli/dnspc

# CI: the main build's tests, then the two sanitizer jobs (docs/reliability.md,
# "Sanitizers"): ASan+UBSan over the unit and integration tests, TSan over the
# integration tests of many workers, reloads, Lua and the cache.
test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	$(MAKE) test-asan
	$(MAKE) test-tsan-integration

# The sanitizer job, ASan + UBSan in its own build directory (ccache shares
# object files where the flags allow): the unit tests, then the integration
# tests against the sanitized dnspc; any sanitizer report fails it
# (docs/reliability.md, "Sanitizers").
test-asan: deps
	cmake -S . -B $(ASAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Debug -DDNSPC_SANITIZE=ON \
	  -DDNSPC_UNIT_TESTS_ONLY=ON -DDNSPC_SANITIZED_DNSPC=ON $(CMAKE_ARGS)
	ninja -C $(ASAN_BUILD)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit
	rm -rf $(ASAN_BUILD)/sanitizer-reports && mkdir -p $(ASAN_BUILD)/sanitizer-reports
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS) -L integration; \
	  status=$$?; cd $(CURDIR) && scripts/check-sanitizer-reports $(ASAN_BUILD)/sanitizer-reports && exit $$status

# ThreadSanitizer (docs/reliability.md, "Sanitizers", has the measured
# cost): test-tsan-integration, the part `make test` runs, builds only the TSan dnspc
# and runs the integration tests of many workers, reloads, Lua and the cache
# against it (the cheap part, about 2 minutes from a warm ccache);
# test-tsan first adds the unit tests of the threaded parts (runtime, Lua,
# the cache's store) built with TSan.
TSAN_BUILD ?= build-tsan
TSAN_UNIT_TARGETS = dnspc_runtime_tests dnspc_lua_tests dnspc_stdlib_tests dnspc_packet_cache_tsan
TSAN_INTEGRATION = integration_(lb|reload|lua_hooks|cache)$$
tsan-configure: deps
	cmake -S . -B $(TSAN_BUILD) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDNSPC_TSAN=ON \
	  -DDNSPC_UNIT_TESTS_ONLY=ON -DDNSPC_SANITIZED_DNSPC=ON $(CMAKE_ARGS)
test-tsan-integration: tsan-configure
	ninja -C $(TSAN_BUILD) dnspc
	rm -rf $(TSAN_BUILD)/sanitizer-reports && mkdir -p $(TSAN_BUILD)/sanitizer-reports
	cd $(TSAN_BUILD) && ctest --output-on-failure -j $(JOBS) -R '$(TSAN_INTEGRATION)'; \
	  status=$$?; cd $(CURDIR) && scripts/check-sanitizer-reports $(TSAN_BUILD)/sanitizer-reports && exit $$status
test-tsan: tsan-configure
	ninja -C $(TSAN_BUILD) $(TSAN_UNIT_TARGETS)
	cd $(TSAN_BUILD) && TSAN_OPTIONS=halt_on_error=1 \
	  ctest --output-on-failure -j $(JOBS) -L unit -R '^(runtime|lua|stdlib|packet_cache)'
	$(MAKE) test-tsan-integration

# A long fuzzing run (default one hour): `make fuzz FUZZ_SECONDS=600`;
# FUZZ_TARGET names any target of tests/fuzz/run-fuzzer (query_parser by
# default). The front end's targets need the parser ANTLR generates, hence
# the grammar built first.
FUZZ_SECONDS ?= 3600
FUZZ_TARGET ?= query_parser
fuzz: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) dnspc_grammar
	tests/fuzz/run-fuzzer $(CURDIR) $(BUILD) $(FUZZ_SECONDS) $(FUZZ_TARGET)

# Every fuzz target in turn, FUZZ_SECONDS each: `make fuzz-long FUZZ_SECONDS=300`.
FUZZ_TARGETS = query_parser web_request console_session backend_answer tcp_framing regex_dfa packet_cache \
               policy_frontend set_file
fuzz-long: deps $(BUILD)/build.ninja
	ninja -C $(BUILD) dnspc_grammar
	set -e; for t in $(FUZZ_TARGETS); do tests/fuzz/run-fuzzer $(CURDIR) $(BUILD) $(FUZZ_SECONDS) $$t; done

bench: build
	python3 tests/bench/run.py

# The soak (docs/reliability.md): load, malformed queries, a backend killed
# and restarted, reloads, web and console polling; 3 minutes unless
# SOAK_MINUTES says otherwise.
SOAK_MINUTES ?= 3
soak: build
	DNSPC_BIN=$(BUILD)/cli/dnspc python3 tests/soak/soak.py --minutes $(SOAK_MINUTES)

format:
	find stdlib compiler runtime lua cli tests -name '*.cc' -o -name '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(TSAN_BUILD)
