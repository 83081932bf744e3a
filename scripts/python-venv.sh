#!/usr/bin/env bash
# Makes (or brings up to date) .build/python-client-venv, the venv of the Python client's tests,
# its examples and the browser test: the pinned dependencies of
# clients/python/requirements-test.txt (pip --require-hashes; made again when the pins change),
# and the client installed from clients/python as `pip install ./clients/python` installs it
# (every time: it changes with the repository). Prints the venv's folder.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV=$ROOT/.build/python-client-venv
CLIENT=$ROOT/clients/python
REQUIREMENTS=$CLIENT/requirements-test.txt

die() { echo "python-venv: $*" >&2; exit 1; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

STAMP=$VENV/.requirements-sha256
WANT=$(sha256sum "$REQUIREMENTS" | cut -d' ' -f1)
if [ "$(cat "$STAMP" 2>/dev/null)" != "$WANT" ]; then
    command -v python3 >/dev/null 2>&1 || as_root apt-get install -y python3
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        as_root apt-get install -y python3-venv
    fi
    rm -rf "$VENV"
    python3 -m venv "$VENV" >&2
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes --no-deps -r "$REQUIREMENTS" >&2 \
        || die "pip could not install the pinned dependencies (see $REQUIREMENTS)"
    echo "$WANT" > "$STAMP"
fi
"$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps --no-build-isolation --force-reinstall "$CLIENT" >&2 \
    || die "pip could not install clients/python"
echo "$VENV"
