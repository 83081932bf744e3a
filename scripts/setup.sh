#!/usr/bin/env bash
# Installs what Cloister needs on a Debian machine that has the Swift toolchain (with --test,
# what `make test` needs too). Idempotent: it installs only what is missing. Uses sudo for
# apt-get when not run as root.
set -euo pipefail

# wasi-libc and the wasm32 builtins build the C guests; python3-pip fetches the Python runtime;
# python3-cryptography runs the Python client's receipt verifier as a script of its own
# (clients/python/cloister/receipts.py, which ReceiptTests runs).
packages=(wasi-libc libclang-rt-14-dev-wasm32 python3-pip python3-cryptography)
# `scripts/setup.sh --test` (make test): also what the tests beyond `swift test` need: a venv for
# the Python client and schemathesis, headless Chromium and its WebDriver for the approval page's
# browser test, and curl and jq for the documentation's examples.
if [[ "${1:-}" == "--test" ]]; then
    packages+=(python3-venv chromium chromium-driver curl jq)
fi

if ! command -v swift >/dev/null 2>&1; then
    echo "setup: the Swift toolchain (swift) is not on PATH; install Swift 6 first" >&2
    exit 1
fi

missing=()
for package in "${packages[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$package")
    fi
done

if ((${#missing[@]})); then
    sudo=""
    if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# CPython for WASI, for the Python executor (checked against its published SHA-256).
"$(dirname "${BASH_SOURCE[0]}")/fetch-python.sh"

# wasmtime's C API library, the LibOS's fast engine (checked against its SHA-256).
"$(dirname "${BASH_SOURCE[0]}")/fetch-wasmtime.sh"

# The scientific Python runtime (numpy, pandas, scipy, scikit-learn), for the cpython-sci
# executor (checked against its SHA-256s).
"$(dirname "${BASH_SOURCE[0]}")/fetch-scientific-python.sh"
