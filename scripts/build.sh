#!/usr/bin/env bash
# Configures and builds kiln (Release, clang-19, Ninja; ccache when present), then the
# AArch64 runtime (scripts/build_aarch64_runtime.sh) when that script exists.
#
#   bash scripts/build.sh [BUILD_DIR]      # default: build/ ($KILN_BUILD_DIR overrides)
#   KILN_SANITIZE=1 bash scripts/build.sh  # ASan + UBSan build, default dir build-asan/
#   KILN_JOBS=N                            # parallel jobs (default 2: the CI box has 2 cores)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

if [ "${KILN_SANITIZE:-0}" = 1 ]; then
  SANITIZE=ON; DEFAULT_DIR=build-asan
else
  SANITIZE=OFF; DEFAULT_DIR=build
fi
BUILD_DIR=${1:-${KILN_BUILD_DIR:-$DEFAULT_DIR}}
JOBS=${KILN_JOBS:-2}

CMAKE_ARGS=(-S . -B "$BUILD_DIR" -G Ninja
  -DCMAKE_BUILD_TYPE=Release
  -DCMAKE_C_COMPILER=clang-19 -DCMAKE_CXX_COMPILER=clang++-19
  -DKILN_SANITIZE="$SANITIZE")
if command -v ccache >/dev/null 2>&1; then
  CMAKE_ARGS+=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
fi
# A folder configured by another generator cannot be reused: say so instead of failing late.
if [ -f "$BUILD_DIR/CMakeCache.txt" ] && ! grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja$' "$BUILD_DIR/CMakeCache.txt"; then
  echo "build.sh: $BUILD_DIR was configured with another generator; remove it or pick another folder" >&2
  exit 2
fi

echo "build.sh: configuring $BUILD_DIR (sanitize=$SANITIZE)"
cmake "${CMAKE_ARGS[@]}"
echo "build.sh: building $BUILD_DIR with $JOBS jobs"
cmake --build "$BUILD_DIR" -j "$JOBS"

if [ -f scripts/build_aarch64_runtime.sh ]; then
  echo "build.sh: building the AArch64 runtime"
  # That build has its own folder; the host build's KILN_BUILD_DIR is not for it.
  env -u KILN_BUILD_DIR bash scripts/build_aarch64_runtime.sh
fi
