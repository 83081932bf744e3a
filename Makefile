# Cloister — `make run` and `make test` do all the set-up on a fresh Debian machine with Swift.
SWIFT ?= swift
INSTANCE ?= instance
GUESTS := .build/guests

.PHONY: setup build guests run test bench clean

setup:
	@scripts/setup.sh

build: setup
	$(SWIFT) build

guests: setup
	@scripts/build-guests.sh $(GUESTS)

# Creates the sample instance folder once, puts the sample guest in it and runs it.
run: build guests
	@test -f $(INSTANCE)/Cloister.json || .build/debug/cloister new $(INSTANCE)
	@cp $(GUESTS)/hello.wasm $(INSTANCE)/image/bin/hello.wasm
	.build/debug/cloister run --instance $(INSTANCE) /bin/hello.wasm

test: setup guests
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

bench: setup
	@scripts/bench.sh

clean:
	rm -rf .build .build-bench $(INSTANCE)
