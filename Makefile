# The front door. Everything real lives in CMake; these targets only make sure
# the dependencies are installed (scripts/bootstrap) and call it.
#
#   make run     build, then start the service on 127.0.0.1:8080 with data in ./data
#   make test    build; unit tests and API tests, plain and under ASan+UBSan; browser tests
#   make bench   build optimised, then print the benchmark figures
#   make quality what whaco learns, measured: closeProbability's calibration beside
#                scikit-learn's, and what learned skills add (docs/quality.md)
#   make crashloop   kill -9 and simulated power loss under load, ITER times per set (not in test)
#   make soak        SOAK_MINUTES of steady mixed load: RSS, fds, p99 (not in test)
#   make fuzz    build the libFuzzer targets (clang), run each for FUZZ_SECONDS

BUILD      ?= build
ASAN_BUILD ?= build-asan
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 300
FUZZ_TEST_SECONDS ?= 20
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)
ITER         ?= 50
ASAN_ITER    ?= 10
SOAK_MINUTES ?= 30

# One configuration of the ASan+UBSan build, shared by test-asan and
# crashloop-asan so that neither reconfigures it differently.
ASAN_CONFIGURE = cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWHACO_SANITIZE=ON \
	-DWHACO_BUILD_BENCH=OFF >/dev/null

.PHONY: all bootstrap build run test test-unit test-asan test-api test-api-asan test-browser bench quality format clean \
	crashloop crashloop-asan soak fuzz-build fuzz test-fuzz

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@scripts/build-web $(BUILD)

run: build
	$(BUILD)/whaco serve --listen 127.0.0.1:8080 --data data

test: test-unit test-asan test-api test-api-asan test-browser test-fuzz

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: bootstrap
	@$(ASAN_CONFIGURE)
	@cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ctest --output-on-failure -j $(JOBS)

# The API as a real client sees it: Node's test runner against real servers.
test-api: build
	@cd tests/api && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; }
	cd tests/api && WHACO_BIN=$(abspath $(BUILD))/whaco node --test --test-concurrency=2 *.test.mjs

# The same API tests against the ASan+UBSan build: a request that made the
# server touch bad memory, hit undefined behaviour or leak would end it with
# a non-zero exit, which the tests check on every stop.
test-api-asan: test-asan
	@cd tests/api && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; }
	cd tests/api && WHACO_BIN=$(abspath $(ASAN_BUILD))/whaco node --test --test-concurrency=2 *.test.mjs

# The dashboard in headless Chromium against a real server.
test-browser: build
	@cd tests/browser && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; }
	cd tests/browser && WHACO_BIN=$(abspath $(BUILD))/whaco WHACO_WEB_DIR=$(abspath $(BUILD))/web \
		WHACO_ARTIFACTS=$(abspath $(BUILD))/browser-artifacts node --test *.test.mjs

# The libFuzzer targets (fuzz/): clang with ASan+UBSan, in a build of their own.
fuzz-build: bootstrap
	@CC=clang cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWHACO_FUZZ=ON \
		-DWHACO_BUILD_TESTS=OFF -DWHACO_BUILD_BENCH=OFF >/dev/null
	@cmake --build $(FUZZ_BUILD) -j $(JOBS)

# Every committed input once, then each target for FUZZ_SECONDS on a working
# copy of its corpus in $(FUZZ_BUILD) (the repository is not written).
fuzz: fuzz-build
	fuzz/run $(FUZZ_BUILD) $(FUZZ_SECONDS)

# The same, briefly, so that CI keeps the targets and the regression inputs alive.
test-fuzz: fuzz-build
	fuzz/run $(FUZZ_BUILD) $(FUZZ_TEST_SECONDS)

bench: build
	@bench/run $(BUILD)

# Minutes, not part of test: the figures docs/quality.md quotes.
quality: build
	@scripts/bootstrap quality
	bench/close-model $(BUILD)
	bench/skill-study $(BUILD)

# Reliability runs (docs/reliability.md); minutes long, so not part of test.
# Four sets of ITER iterations: kill -9 with sync full; simulated power loss
# with sync full (nothing acknowledged may be lost); kill -9 with sync normal
# (nothing either); simulated power loss with sync normal at a dealership's
# pace (losses only within the sync interval).
crashloop: build
	node tests/crash/crashloop.mjs --bin $(BUILD)/whaco --iterations $(ITER) --sync full
	node tests/crash/crashloop.mjs --bin $(BUILD)/whaco --iterations $(ITER) --sync full --powerloss
	node tests/crash/crashloop.mjs --bin $(BUILD)/whaco --iterations $(ITER) --sync normal
	node tests/crash/crashloop.mjs --bin $(BUILD)/whaco --iterations $(ITER) --sync normal --powerloss --rate 50

# kill -9 under load on the ASan+UBSan build (the shim cannot be preloaded
# into it): start-up recovery and replay under the sanitizers.
crashloop-asan: bootstrap
	@$(ASAN_CONFIGURE)
	@cmake --build $(ASAN_BUILD) -j $(JOBS) --target whaco
	node tests/crash/crashloop.mjs --bin $(ASAN_BUILD)/whaco --iterations $(ASAN_ITER) --sync full

soak: build
	node tests/soak/soak.mjs --bin $(BUILD)/whaco --minutes $(SOAK_MINUTES)

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
