#!/usr/bin/env bash
# The approval page's browser test (Tests/Browser/approval_page.py), part of `make test`: two
# parties approve a task in headless Chromium, watch it finish and download an output, against a
# real `cloister serve` on a free loopback port. Chromium and chromedriver are Debian's
# (`scripts/setup.sh --test` installs them; so does this script when they are missing).
# Screenshots of every step are kept in .build/browser-test/ (not committed).
# CLOISTER_BIN: the `cloister` to test (default: the release build).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if ! command -v chromium >/dev/null 2>&1 || ! command -v chromedriver >/dev/null 2>&1; then
    echo "browser-test: installing chromium and chromium-driver" >&2
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq chromium chromium-driver >/dev/null
fi
export CHROMIUM=${CHROMIUM:-$(command -v chromium)}
export CHROMEDRIVER=${CHROMEDRIVER:-$(command -v chromedriver)}
VENV=$("$ROOT/scripts/python-venv.sh")

CLOISTER_BIN=$("$ROOT/scripts/cloister-bin.sh")
export CLOISTER_BIN
PYTHONDONTWRITEBYTECODE=1 "$VENV/bin/python" "$ROOT/Tests/Browser/approval_page.py"
