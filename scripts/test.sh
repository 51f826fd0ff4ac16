#!/usr/bin/env bash
# The whole test suite (the README's second command; .ci/run calls this):
# setup, build, the GoogleTest unit tests through ctest, then pytest tests/ (end-to-end
# against ONNX Runtime, AArch64 under qemu, user errors, ONNX node conformance).
# Runs every stage even after a failure and exits non-zero if any failed.
#
#   bash scripts/test.sh
#   KILN_SANITIZE=1 bash scripts/test.sh   # the same suite on an ASan+UBSan build (build-asan/)
#
# Under KILN_SANITIZE=1 everything runs sanitized: ctest and the CLI (kiln, kiln-run are
# ASan executables), and pytest too, with the ASan runtime preloaded into python because
# the kiln Python extension is an ASan-built shared object. Leak checking is on for
# ctest and off for the pytest stage (CPython and ONNX Runtime keep memory until exit).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
PY=${PYTHON:-python3}

bash scripts/setup.sh

if [ "${KILN_SANITIZE:-0}" = 1 ]; then
  BUILD_DIR=${KILN_BUILD_DIR:-build-asan}
else
  BUILD_DIR=${KILN_BUILD_DIR:-build}
fi
bash scripts/build.sh "$BUILD_DIR"
export KILN_BUILD_DIR="$BUILD_DIR"

failed=()
start=$SECONDS

PYTEST_ENV=()
if [ "${KILN_SANITIZE:-0}" = 1 ]; then
  export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:strict_init_order=1
  ASAN_RT=$(clang++-19 -print-file-name=libclang_rt.asan-x86_64.so)
  [ -f "$ASAN_RT" ] || { echo "test.sh: ASan runtime not found ($ASAN_RT)" >&2; exit 1; }
  # conftest.py drops LD_PRELOAD again (KILN_DROP_PRELOAD) so that the programs the tests
  # start (qemu, readelf, kiln) do not inherit it; kiln and kiln-run carry ASan themselves.
  PYTEST_ENV=(env LD_PRELOAD="$ASAN_RT" KILN_DROP_PRELOAD=1
              ASAN_OPTIONS=detect_leaks=0:verify_asan_link_order=0)
fi

echo "test.sh: ctest (unit tests) in $BUILD_DIR"
ctest --test-dir "$BUILD_DIR" --output-on-failure -j 2 || failed+=(ctest)

echo "test.sh: pytest tests/"
"${PYTEST_ENV[@]}" "$PY" -m pytest tests/ -q -p no:cacheprovider --durations=10 || failed+=(pytest)

echo "test.sh: finished in $((SECONDS - start)) s (after setup and build)"
if [ ${#failed[@]} -gt 0 ]; then
  echo "test.sh: FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "test.sh: all passed"
