# Thin front for CMake. `make run` drafts the example letter; `make test` runs every test.
BUILD ?= build
JOBS ?= $(shell nproc 2>/dev/null || echo 2)

.PHONY: all setup build test asan run draft fuzz bench clean

all: build

setup:
	bash scripts/setup.sh

build:
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

test: setup build
	cd $(BUILD) && bash $(CURDIR)/scripts/with-postgres.sh ctest --output-on-failure -j $(JOBS)

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: setup
	cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=Debug -DIMR_SANITIZE=ON >/dev/null
	cmake --build build-asan -j $(JOBS)
	cd build-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 bash $(CURDIR)/scripts/with-postgres.sh ctest --output-on-failure -j $(JOBS)

# The main job: the IMR service on an embedded SQLite database (imr.db) with demonstration
# data; it prints the address and the demo logins. Stop it with Ctrl-C.
run: setup build
	./$(BUILD)/imr serve --demo --db imr.db

# Draft the example case's determination letter (the engine alone, no service).
draft: setup build
	./$(BUILD)/imr review examples/cases/CM15-0000001.json

fuzz: setup
	CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DIMR_FUZZ=ON \
	  -DCMAKE_C_FLAGS="-fsanitize=fuzzer-no-link,address,undefined" >/dev/null
	cmake --build build-fuzz -j $(JOBS)

bench: setup build
	bash bench/run.sh

clean:
	rm -rf $(BUILD) build-asan build-fuzz
