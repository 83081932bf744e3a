#!/usr/bin/env bash
# Build the C test and benchmark guests.
#
#   scripts/build-guests.sh OUTDIR
#
# Compiles every Tests/Guests/*.c, Benchmarks/guests/*.c and examples/guest-sdk/*.c to OUTDIR/<name>.wasm
# (wasm32-wasi), every function payload (examples/functions/*.c, Tests/Guests/functions/*.c) to
# OUTDIR/functions/<name>.wasm, and every Benchmarks/guests/*.c natively to OUTDIR/native/<name>.
# Outputs newer than their source (and this script) are skipped.
#
# Overridable through the environment:
#   WASM_CC        clang able to target wasm32-wasi (default: clang on PATH, then /opt/swift/usr/bin/clang)
#   WASI_SYSROOT   sysroot holding wasi-libc (default: /usr, the Debian/Ubuntu wasi-libc package)
#   WASI_BUILTINS  libclang_rt.builtins-wasm32.a (default: searched under /usr/lib/llvm-*)
#   NATIVE_CC      native compiler for the benchmark guests (default: gcc, then cc)
set -euo pipefail

die() { echo "build-guests: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: $0 OUTDIR"
OUT=$1

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SELF="$ROOT/scripts/build-guests.sh"

# --- toolchain discovery ----------------------------------------------------
if [ -z "${WASM_CC:-}" ]; then
    if command -v clang >/dev/null 2>&1; then WASM_CC=$(command -v clang)
    elif [ -x /opt/swift/usr/bin/clang ]; then WASM_CC=/opt/swift/usr/bin/clang
    else die "no clang found (set WASM_CC)"; fi
fi
[ -x "$WASM_CC" ] || command -v "$WASM_CC" >/dev/null 2>&1 || die "WASM_CC=$WASM_CC is not executable"

WASI_SYSROOT=${WASI_SYSROOT:-/usr}
if [ ! -f "$WASI_SYSROOT/include/wasm32-wasi/wasi/api.h" ] && [ ! -f "$WASI_SYSROOT/include/wasi/api.h" ]; then
    die "wasi-libc headers not found under WASI_SYSROOT=$WASI_SYSROOT (apt-get install wasi-libc)"
fi
if [ ! -f "$WASI_SYSROOT/lib/wasm32-wasi/libc.a" ] && [ ! -f "$WASI_SYSROOT/lib/libc.a" ]; then
    die "wasi-libc libc.a not found under WASI_SYSROOT=$WASI_SYSROOT (apt-get install wasi-libc)"
fi

if [ -z "${WASI_BUILTINS:-}" ]; then
    WASI_BUILTINS=$(ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a 2>/dev/null | sort -V | tail -n1 || true)
fi
[ -n "${WASI_BUILTINS:-}" ] && [ -f "$WASI_BUILTINS" ] \
    || die "libclang_rt.builtins-wasm32.a not found (apt-get install libclang-rt-14-dev-wasm32, or set WASI_BUILTINS)"

if [ -z "${NATIVE_CC:-}" ]; then
    if command -v gcc >/dev/null 2>&1; then NATIVE_CC=gcc
    elif command -v cc >/dev/null 2>&1; then NATIVE_CC=cc
    else die "no native C compiler (gcc/cc) found (set NATIVE_CC)"; fi
fi

# Compile into $OUT/.tmp and move into place, so an interrupted build leaves no half-written
# output and the module keeps its real name (the wasm name section uses the output file name).
TMP="$OUT/.tmp"
mkdir -p "$OUT/native" "$OUT/functions" "$TMP" || die "cannot create $OUT/native"
# One build at a time per output folder (test targets may build in parallel).
exec 9>"$OUT/.lock"
flock 9

# up_to_date OUTPUT SOURCE: output exists and is newer than the source and this script
up_to_date() {
    [ -f "$1" ] && [ "$1" -nt "$2" ] && [ "$1" -nt "$SELF" ] && [ "$1" -nt "$ROOT/Sources/CCloisterABI/include/cloister.h" ]
}

built=0; skipped=0

wasm_build() { # SRC
    local src=$1 name out
    name=$(basename "$src" .c)
    out="$OUT/$name.wasm"
    if up_to_date "$out" "$src"; then skipped=$((skipped+1)); return; fi
    "$WASM_CC" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -O2 -Wall -Wno-unused-result -I"$ROOT/Sources/CCloisterABI/include" \
        "$src" -nodefaultlibs -lc "$WASI_BUILTINS" -o "$TMP/$name.wasm" \
        || die "wasm compile failed: $src"
    mv -f "$TMP/$name.wasm" "$out"
    built=$((built+1))
}

# Function payloads (OUTDIR/functions/<name>.wasm): a source that defines
# `int entrypoint(int argc, char *argv[])` is built as a reactor exporting it (the entry-point
# convention); any other is a WASI command.
function_build() { # SRC
    local src=$1 name out model
    name=$(basename "$src" .c)
    out="$OUT/functions/$name.wasm"
    if up_to_date "$out" "$src"; then skipped=$((skipped+1)); return; fi
    model=()
    if grep -q '^int entrypoint(' "$src"; then model=(-mexec-model=reactor -Wl,--export=entrypoint); fi
    "$WASM_CC" --target=wasm32-wasi --sysroot="$WASI_SYSROOT" -O2 -Wall -Wno-unused-result -I"$ROOT/Sources/CCloisterABI/include" \
        "${model[@]}" "$src" -nodefaultlibs -lc "$WASI_BUILTINS" -o "$TMP/$name.wasm" \
        || die "wasm compile failed: $src"
    mv -f "$TMP/$name.wasm" "$out"
    built=$((built+1))
}

native_build() { # SRC
    local src=$1 name out
    name=$(basename "$src" .c)
    out="$OUT/native/$name"
    if up_to_date "$out" "$src"; then skipped=$((skipped+1)); return; fi
    "$NATIVE_CC" -O2 -Wall "$src" -o "$TMP/$name" || die "native compile failed: $src"
    mv -f "$TMP/$name" "$out"
    built=$((built+1))
}

shopt -s nullglob
tests=("$ROOT"/Tests/Guests/*.c)
benches=("$ROOT"/Benchmarks/guests/*.c)
examples=("$ROOT"/examples/guest-sdk/*.c)
functions=("$ROOT"/examples/functions/*.c "$ROOT"/Tests/Guests/functions/*.c)
[ ${#tests[@]} -gt 0 ] || die "no sources in $ROOT/Tests/Guests"

for src in "${tests[@]}" "${benches[@]}" "${examples[@]}"; do wasm_build "$src"; done
for src in "${functions[@]}"; do function_build "$src"; done
for src in "${benches[@]}"; do native_build "$src"; done

rmdir "$TMP" 2>/dev/null || true
echo "build-guests: $built built, $skipped up to date -> $OUT"
