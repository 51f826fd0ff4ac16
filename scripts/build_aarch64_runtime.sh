#!/usr/bin/env bash
# Cross-builds the kiln runtime and kiln-run for AArch64 (runtime-only build).
# Idempotent: configures once, then ninja rebuilds only what changed.
# Usage: scripts/build_aarch64_runtime.sh [BUILD_DIR]   (default: build-aarch64)
# Run the result with: qemu-aarch64 -L /usr/aarch64-linux-gnu BUILD_DIR/bin/kiln-run --help
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="${1:-$ROOT/build-aarch64}"
JOBS="${KILN_JOBS:-2}"

for tool in aarch64-linux-gnu-g++ ninja cmake; do
  command -v "$tool" >/dev/null || { echo "build_aarch64_runtime: $tool not found (run scripts/setup.sh)" >&2; exit 1; }
done

if [ ! -f "$BUILD/build.ninja" ]; then
  cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_TOOLCHAIN_FILE="$ROOT/cmake/toolchain-aarch64.cmake" \
    -DCMAKE_BUILD_TYPE=Release \
    -DKILN_RUNTIME_ONLY=ON
fi
ninja -C "$BUILD" -j "$JOBS" kiln-run kiln_runtime kiln_runtime_static
echo "build_aarch64_runtime: $BUILD/bin/kiln-run and $BUILD/lib/libkiln_runtime.so are up to date"
