#!/usr/bin/env bash
# The main job on the bundled tiny Wan 2.1 T2V model: import it into dit IR
# (written to build/wan_t2v.dit.mlir) and print a summary of it.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh vsac vsa-opt
model=test/fixtures/wan_t2v.onnx
build/bin/vsac "$model" --emit=dit -o build/wan_t2v.dit.mlir
build/bin/vsa-opt build/wan_t2v.dit.mlir -o /dev/null   # the IR parses back
echo "dit IR written to build/wan_t2v.dit.mlir"
build/bin/vsac "$model" --emit=summary
