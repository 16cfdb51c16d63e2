# Entry points. Everything builds with CMake; this file only names the common tasks.
BUILD ?= build
JOBS ?= $(shell nproc)

.PHONY: all deps build test sanitize bench clean example

all: build

deps:
	@scripts/install-deps.sh

build: deps
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS)

test: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

sanitize: deps
	@cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DORCH_SANITIZE=ON >/dev/null
	@cmake --build build-sanitize -j $(JOBS)
	@cd build-sanitize && ctest --output-on-failure -j $(JOBS)

bench: build
	@bench/run.sh

example: build
	@scripts/example.sh

clean:
	rm -rf $(BUILD) build-sanitize
