#!/usr/bin/env bash
# The Python client's checks (clients/python), part of `make test`:
#   1. the venv of scripts/python-venv.sh (pinned dependencies, the client installed from its folder);
#   2. mypy --strict over the package;
#   3. its tests (pytest) and the Teaclave examples (clients/python/examples), against real
#      `cloister serve` processes on free loopback ports (tests/harness.py), each stopped (and its
#      data folder removed) when its tests end.
# CLOISTER_BIN: the `cloister` to test (`make test` passes the one `swift test -c release` built);
# by default the release build. The WebAssembly example needs `make guests` (psi.wasm).
# Arguments go to pytest (`-k NAME` runs only the tests whose name has NAME). Exit status: 0 when
# all passed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CLIENT=$ROOT/clients/python
VENV=$("$ROOT/scripts/python-venv.sh")

CLOISTER_BIN=$("$ROOT/scripts/cloister-bin.sh")
export CLOISTER_BIN

# Nothing is left in the repository: no bytecode, no mypy or pytest cache.
export PYTHONDONTWRITEBYTECODE=1
(cd "$CLIENT" && "$VENV/bin/mypy" --strict --no-incremental --cache-dir=/dev/null cloister) || { echo "python-client: mypy --strict found type errors" >&2; exit 1; }

# `cloister encrypt` keeps its journal of aes-gcm pairs in a config folder of this run only.
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
export XDG_CONFIG_HOME=$WORK/config
cd "$CLIENT"
"$VENV/bin/python" -m pytest -v -p no:cacheprovider tests "$@"
