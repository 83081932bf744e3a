#!/usr/bin/env bash
# Run the Cloister benchmarks (`make bench` calls this).
#
#   scripts/bench.sh [cloister-bench options…]      e.g. scripts/bench.sh --runs 10 --only engines
#
# 1. records the machine (CPUs, CPU model, memory, load, Swift version, commit);
# 2. builds the guests into .build/guests (scripts/build-guests.sh);
# 3. builds cloister-bench in release mode in its own scratch folder (.build-bench), so that it
#    never competes with a debug build in .build for the same build folder;
# 4. runs it and prints its Markdown tables.
#
# Standard output is the Markdown report (machine, then tables); build logs and progress go to
# standard error. A copy of the report is kept in .build-bench/last-bench.md.
#
# Overridable through the environment:
#   GUESTS_DIR     where the guests are built (default .build/guests)
#   BENCH_SCRATCH  scratch path of the release build (default .build-bench)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
GUESTS_DIR=${GUESTS_DIR:-.build/guests}
BENCH_SCRATCH=${BENCH_SCRATCH:-.build-bench}

echo "bench: building guests into $GUESTS_DIR" >&2
scripts/build-guests.sh "$GUESTS_DIR" >&2

echo "bench: building cloister-bench and cloister (release, --scratch-path $BENCH_SCRATCH)" >&2
swift build -c release --scratch-path "$BENCH_SCRATCH" --product cloister-bench >&2
swift build -c release --scratch-path "$BENCH_SCRATCH" --product cloister >&2
BIN_DIR=$(swift build -c release --scratch-path "$BENCH_SCRATCH" --show-bin-path)
BIN=$BIN_DIR/cloister-bench

# The peers of the engines section: wasmtime's CLI (fetched for the benchmark only) and CPython
# for WASI (fetched by `make`), compared with the host's python3.
PEERS=(--cloister "$BIN_DIR/cloister")
if CLI=$(scripts/fetch-wasmtime-cli.sh); then PEERS+=(--wasmtime-cli "$CLI"); fi
if [ -f .build/runtimes/python/python-3.11.3.wasm ]; then PEERS+=(--python-dir "$ROOT/.build/runtimes/python"); fi
if command -v python3 >/dev/null 2>&1; then PEERS+=(--host-python "$(command -v python3)"); fi
# The scientific section compares with native CPython running the same packages, installed into a
# venv of the benchmark's own (pinned by hash; never used by Cloister).
if [ -f .build/runtimes/scientific-python/bin/python.wasm ]; then
    VENV=.build/bench-venv
    if [ ! -x "$VENV/bin/python" ] || ! "$VENV/bin/python" -c "import pandas, sklearn" 2>/dev/null; then
        echo "bench: installing numpy, pandas and scikit-learn into $VENV (the native peer)" >&2
        python3 -m venv "$VENV" >&2
        "$VENV/bin/python" -m pip install --quiet --require-hashes --only-binary=:all: -r scripts/bench-python-requirements.txt >&2
    fi
    PEERS+=(--scientific-dir "$ROOT/.build/runtimes/scientific-python" --native-scientific-python "$ROOT/$VENV/bin/python")
fi

machine() {
    local cpu mem swift_version commit
    cpu=$(grep -m1 '^model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//' || true)
    mem=$(awk '/^MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo 2>/dev/null || true)
    swift_version=$(swift --version 2>&1 | head -n1)
    commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
    if [ -n "$(git status --porcelain 2>/dev/null | head -n1)" ]; then commit="$commit (with uncommitted changes)"; fi
    echo "## Machine"
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| date | $(date -u '+%Y-%m-%d %H:%M UTC') |"
    echo "| CPUs (nproc) | $(nproc) |"
    echo "| CPU model | ${cpu:-unknown} |"
    echo "| memory | ${mem:-unknown} |"
    echo "| load average at start | $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown) |"
    echo "| kernel | $(uname -sr) |"
    echo "| Swift | $swift_version |"
    echo "| commit | $commit |"
    echo
}

mkdir -p "$BENCH_SCRATCH"
REPORT="$BENCH_SCRATCH/last-bench.md"
{
    echo "# Cloister benchmarks"
    echo
    machine
    "$BIN" --guests "$GUESTS_DIR" "${PEERS[@]}" "$@"
} | tee "$REPORT"
echo "bench: report saved to $REPORT" >&2
