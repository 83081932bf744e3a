# Cloister — `make run` and `make test` do all the set-up on a fresh Debian machine with Swift.
SWIFT ?= swift
INSTANCE ?= instance
GUESTS := .build/guests

DATA ?= cloister-data
HOST ?= 127.0.0.1
PORT ?= 8470

.PHONY: setup build guests run demo hello test schemathesis fuzz bench bench-platform clean pal

setup:
	@scripts/setup.sh

# Release mode: functions run in WasmKit's interpreter, which a debug build slows down about
# fifty times (CPython's start-up alone would pass a function's deadline). `swift test` builds
# with testable imports, so `make test` after `make run` (or the reverse) builds once more.
build: setup
	$(SWIFT) build -c release --product cloister

guests: setup
	@scripts/build-guests.sh $(GUESTS)

# Starts the platform (`cloister serve`): SQLite in $(DATA), the API at http://$(HOST):$(PORT)/v1.
# The first start prints the admin's password once (or set CLOISTER_ADMIN_PASSWORD).
run: build guests
	.build/release/cloister serve --data $(DATA) --host $(HOST) --port $(PORT)

# The Teaclave example scenarios end to end through the HTTP API, on a server of their own.
demo: build guests
	.build/release/cloister demo

# Runs the sample guest in a LibOS instance folder (created once).
hello: build guests
	@test -f $(INSTANCE)/Cloister.json || .build/release/cloister new $(INSTANCE)
	@cp $(GUESTS)/hello.wasm $(INSTANCE)/image/bin/hello.wasm
	.build/release/cloister run --instance $(INSTANCE) /bin/hello.wasm

# Release mode: the WasmKit runs (the reference interpreter) are slowed down about fifty times by a
# debug build. Every suite runs on the default engine, wasmtime; the LibOS, executor and PAL
# suites then run once more, on the same build, on WasmKit (CLOISTER_ENGINE=wasmkit). Then
# schemathesis against the OpenAPI document the `cloister` that `swift test` just built serves,
# as each role (bounded; scripts/schemathesis.sh). Between them, the platform suite runs once more
# on PostgreSQL (the first run is on SQLite): scripts/postgres.sh installs PostgreSQL from Debian's
# packages when missing, starts a throwaway cluster on loopback, sets CLOISTER_TEST_POSTGRES (each
# test server then takes a new database there; the scale-out test runs only then) and stops it.
# Then the Python client's tests and examples (scripts/python-client.sh) and the approval page in
# headless Chromium (scripts/browser-test.sh), each against real `cloister serve` processes of the
# same build; `setup.sh --test` installs what they need (python3-venv, chromium, chromium-driver,
# curl, jq) when missing.
test: guests
	@scripts/setup.sh --test
	$(SWIFT) test -c release
	CLOISTER_ENGINE=wasmkit $(SWIFT) test -c release --skip-build --filter "LibOSTests|ExecutorsTests|PALTests"
	scripts/postgres.sh run -- $(SWIFT) test -c release --skip-build --filter PlatformTests
	@CLOISTER_BIN="$$($(SWIFT) build -c release --show-bin-path)/cloister" scripts/schemathesis.sh
	@CLOISTER_BIN="$$($(SWIFT) build -c release --show-bin-path)/cloister" scripts/python-client.sh
	@CLOISTER_BIN="$$($(SWIFT) build -c release --show-bin-path)/cloister" scripts/browser-test.sh

# schemathesis with many more cases per operation than `make test` runs (docs/security.md).
schemathesis: build
	@CLOISTER_BIN="$$($(SWIFT) build -c release --show-bin-path)/cloister" scripts/schemathesis.sh long

# The long run of the syscall fuzzer (a bounded run is part of `make test`): random WASI and
# cloister calls against a real kernel for FUZZ_SECONDS (default 600) from FUZZ_SEED (default
# random); prints executions, calls per second and findings.
FUZZ_SECONDS ?= 600
FUZZ_SEED ?=
fuzz: setup guests
	@scripts/fuzz.sh $(FUZZ_SECONDS) $(FUZZ_SEED)

# libcloister_pal and its headers in one folder, for embedders: $(PAL_DIR)/libcloister_pal.so,
# cloister_pal_api.h and cloister.h. PAL_CONFIG=debug builds a debug library (much slower guests).
PAL_DIR ?= .build/pal
PAL_CONFIG ?= release
PAL_LIB := libcloister_pal$(if $(filter Darwin,$(shell uname -s)),.dylib,.so)

pal: setup
	$(SWIFT) build -c $(PAL_CONFIG) --product cloister_pal
	@mkdir -p $(PAL_DIR)
	@cp -f "$$($(SWIFT) build -c $(PAL_CONFIG) --show-bin-path)/$(PAL_LIB)" $(PAL_DIR)/
	@cp -f Sources/CCloisterABI/include/cloister_pal_api.h Sources/CCloisterABI/include/cloister.h $(PAL_DIR)/
	@echo "pal: $(PAL_DIR)/$(PAL_LIB), $(PAL_DIR)/cloister_pal_api.h, $(PAL_DIR)/cloister.h"

bench: setup
	@scripts/bench.sh

# End-to-end latency and throughput of builtin-echo tasks through the HTTP API.
bench-platform: build
	.build/release/cloister bench-platform

clean:
	rm -rf .build .build-bench $(INSTANCE)
