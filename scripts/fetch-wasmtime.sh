#!/usr/bin/env bash
# Fetches wasmtime's C API library (the LibOS's fast engine) into .build/runtimes/wasmtime.
#
#   scripts/fetch-wasmtime.sh
#
# The library is the official one, from the `wasmtime` wheel on PyPI (wasmtime-py, published by
# the Bytecode Alliance, which copies the release's C API library unchanged as
# wasmtime/linux-x86_64/_libwasmtime.so). The wheel is downloaded with `pip download`, and both
# the wheel and the library are checked against their SHA-256 before the library is installed
# as libwasmtime.so beside its LICENSE (Apache-2.0 WITH LLVM-exception). Idempotent: a library
# already in place with the right hash is kept. Never committed (.build/ is ignored).
#
# Cloister loads it at run time (dlopen) and refuses any other release: the version here must
# match Sources/CWasmtime/include/cloister_wasmtime.h. Without it, guests run on WasmKit.
#
# Overridable through the environment:
#   CLOISTER_WASMTIME_DIR  where to put it (default .build/runtimes/wasmtime); point
#                          CLOISTER_WASMTIME_LIB at the library file when it is elsewhere.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLOISTER_WASMTIME_DIR:-$ROOT/.build/runtimes/wasmtime}
VERSION=51.0.0
WHEEL=wasmtime-$VERSION-py3-none-manylinux1_x86_64.whl
WHEEL_SHA256=cb4a48bae3de3c0ca99a67e05debbe4bfe48bea7f25ac71ee42fb3fd681ef93c
LIBRARY=libwasmtime.so
LIBRARY_SHA256=e3b6f82a76730979875b0c336e573583e1bd9deb052ac44be771e19b1dc51e00

die() { echo "fetch-wasmtime: $*" >&2; exit 1; }

if [ -f "$DIR/$LIBRARY" ] && echo "$LIBRARY_SHA256  $DIR/$LIBRARY" | sha256sum -c --status; then
    exit 0
fi

case "$(uname -s)-$(uname -m)" in
    Linux-x86_64) ;;
    *) echo "fetch-wasmtime: no pinned wasmtime library for $(uname -s)-$(uname -m); guests run on WasmKit" >&2; exit 0 ;;
esac

command -v python3 >/dev/null 2>&1 || die "python3 is needed (apt-get install python3-pip)"
python3 -m pip --version >/dev/null 2>&1 || die "pip is needed (apt-get install python3-pip)"

mkdir -p "$DIR"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "fetch-wasmtime: downloading wasmtime $VERSION from PyPI (about 10 MB)" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: --platform manylinux1_x86_64 --dest "$TMP" "wasmtime==$VERSION" \
    || die "pip download wasmtime==$VERSION failed"
[ -f "$TMP/$WHEEL" ] || die "pip did not download $WHEEL"
echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --status || die "$WHEEL does not have the expected SHA-256"
python3 - "$TMP/$WHEEL" "$TMP" <<'PY'
import shutil, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as wheel:
    with wheel.open("wasmtime/linux-x86_64/_libwasmtime.so") as source, open(sys.argv[2] + "/libwasmtime.so", "wb") as target:
        shutil.copyfileobj(source, target)
    license = next(name for name in wheel.namelist() if name.endswith(".dist-info/licenses/LICENSE"))
    with wheel.open(license) as source, open(sys.argv[2] + "/LICENSE", "wb") as target:
        shutil.copyfileobj(source, target)
PY
echo "$LIBRARY_SHA256  $TMP/$LIBRARY" | sha256sum -c --status || die "$LIBRARY does not have the expected SHA-256"
mv -f "$TMP/LICENSE" "$DIR/LICENSE"
mv -f "$TMP/$LIBRARY" "$DIR/$LIBRARY"
echo "fetch-wasmtime: $DIR/$LIBRARY (wasmtime $VERSION, SHA-256 verified)" >&2
