#!/usr/bin/env bash
# Configures build/ (once) and builds the given targets (default: the tools).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -f build/build.ninja ]; then
  cmake -G Ninja -B build -S . -DCMAKE_BUILD_TYPE=Release >/dev/null
fi
if [ $# -eq 0 ]; then set -- vsac vsa-opt; fi
ninja -C build "$@"
