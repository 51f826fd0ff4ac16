#!/usr/bin/env bash
# Installs what kiln needs to build and test, skipping what is already there.
# Idempotent and quick when everything is present.
set -euo pipefail

APT_PKGS=(llvm-19-dev liblld-19-dev lld-19 clang-19 libonnx-dev libprotobuf-dev
          protobuf-compiler ninja-build ccache qemu-user g++-aarch64-linux-gnu
          libc6-dev-arm64-cross libgtest-dev cmake
          libclang-rt-19-dev)  # clang-19's ASan/UBSan runtimes (KILN_SANITIZE=1)
PIP_PKGS=(numpy onnxruntime nanobind pytest)
# onnx 1.22 is the newest release whose wheel still carries the backend node tests.
ONNX_PIN=1.22.0

missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

PY=${PYTHON:-python3}
pip_missing=()
for p in "${PIP_PKGS[@]}"; do
  "$PY" -c "import importlib.util,sys; sys.exit(0 if importlib.util.find_spec('$p') else 1)" 2>/dev/null || pip_missing+=("$p")
done
"$PY" -c "import onnx,sys; sys.exit(0 if onnx.__version__ == '$ONNX_PIN' else 1)" 2>/dev/null || pip_missing+=("onnx==$ONNX_PIN")
if [ ${#pip_missing[@]} -gt 0 ]; then
  echo "setup: installing Python packages: ${pip_missing[*]}"
  "$PY" -m pip install -q "${pip_missing[@]}"
fi
