#!/usr/bin/env bash
# Installs what vsa needs to build and test, and nothing when all is there.
# Debian packages: LLVM/MLIR 22, ONNX, protobuf, flatbuffers, build tools.
# PyPI (fixtures and reference checks only): onnx, onnxruntime, numpy.
set -euo pipefail

DEBIAN_PACKAGES=(
  cmake ninja-build ccache g++ clang libclang-rt-dev python3-pip
  libmlir-22-dev mlir-22-tools llvm-22-dev llvm-22-tools
  libonnx-dev libprotobuf-dev protobuf-compiler
  libflatbuffers-dev flatbuffers-compiler libgtest-dev
)
PYTHON_MODULES=(onnx onnxruntime numpy)

missing=()
for p in "${DEBIAN_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  sudo_cmd=()
  [ "$(id -u)" -eq 0 ] || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -q
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -q "${missing[@]}"
fi

py_missing=()
for m in "${PYTHON_MODULES[@]}"; do
  python3 -c "import $m" 2>/dev/null || py_missing+=("$m")
done
if ((${#py_missing[@]})); then
  echo "setup: installing Python packages: ${py_missing[*]}"
  python3 -m pip install -q "${py_missing[@]}" || \
    python3 -m pip install -q --break-system-packages "${py_missing[@]}"
fi
