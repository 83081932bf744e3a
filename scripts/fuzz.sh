#!/usr/bin/env bash
# The long run of the syscall fuzzer (Tests/LibOSTests/Fuzz, docs/security.md).
#
#   scripts/fuzz.sh [SECONDS] [SEED]
#
# Runs random executions for SECONDS (default 600) from SEED (default: random, printed) in a release
# build, printing executions, calls per second and findings as it goes. If the run dies (a guest
# value crashed the host), it replays the execution that was running with every call traced and
# prints the last calls: put that seed in Tests/LibOSTests/Fuzz/FuzzRegressions.swift once fixed.
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
SWIFT=${SWIFT:-swift}
DURATION=${1:-${FUZZ_SECONDS:-600}}
SEED=${2:-${FUZZ_SEED:-}}
TRACE=$(mktemp "${TMPDIR:-/tmp}/cloister-fuzz.XXXXXX")
trap 'rm -f "$TRACE" "$TRACE.calls"' EXIT

export CLOISTER_FUZZ_SECONDS=$DURATION CLOISTER_FUZZ_TRACE=$TRACE
[ -n "$SEED" ] && export CLOISTER_FUZZ_SEED=$SEED
status=0
"$SWIFT" test -c release --filter 'SyscallFuzzTests/longRun' || status=$?
if [ "$status" -ne 0 ]; then
    last=$(grep '^execution ' "$TRACE" | tail -n1 || true)
    echo "fuzz: the run failed (status $status) during: ${last:-?}"
    seed=$(echo "$last" | awk '{print $2}')
    if [ -n "$seed" ]; then
        echo "fuzz: replaying seed $seed with every call traced"
        CLOISTER_FUZZ_SEED=$seed CLOISTER_FUZZ_EXECUTIONS=1 CLOISTER_FUZZ_TRACE=$TRACE.calls CLOISTER_FUZZ_TRACE_CALLS=1 \
            "$SWIFT" test -c release --skip-build --filter 'SyscallFuzzTests/longRun' >/dev/null 2>&1 || true
        echo "fuzz: the last calls of seed $seed:"
        tail -n 5 "$TRACE.calls" 2>/dev/null || true
    fi
fi
exit "$status"
