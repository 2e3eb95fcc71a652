# The front door. Everything real lives in CMake; these targets only make sure
# the dependencies are installed (scripts/bootstrap) and call it.
#
#   make run     build, then start the service on 127.0.0.1:8080 with data in ./data
#   make test    build; unit tests and API tests, plain and under ASan+UBSan; browser tests
#   make bench   build optimised, then print the benchmark figures

BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all bootstrap build run test test-unit test-asan test-api test-api-asan test-browser bench format clean

all: build

bootstrap:
	@scripts/bootstrap

build: bootstrap
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)
	@scripts/build-web $(BUILD)

run: build
	$(BUILD)/whaco serve --listen 127.0.0.1:8080 --data data

test: test-unit test-asan test-api test-api-asan test-browser

test-unit: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

test-asan: bootstrap
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DWHACO_SANITIZE=ON \
		-DWHACO_BUILD_BENCH=OFF >/dev/null
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

bench: build
	@bench/run $(BUILD)

format:
	@git ls-files '*.c' '*.h' | xargs clang-format -i

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
