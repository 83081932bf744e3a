#!/usr/bin/env bash
# Prints the `cloister` a test script runs: $CLOISTER_BIN when set (`make test` passes the one
# `swift test -c release` built), else the release build of this package, built when missing.
set -euo pipefail
if [ -n "${CLOISTER_BIN:-}" ]; then
    echo "$CLOISTER_BIN"
    exit 0
fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
swift build -c release --product cloister >/dev/null
echo "$(swift build -c release --show-bin-path)/cloister"
