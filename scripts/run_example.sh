#!/usr/bin/env bash
# The main job on the bundled tiny Wan 2.1 T2V model: compile it to an
# executable (CUDA when a GPU and the CUDA runtime are present, else the
# CPU), run it on the stored inputs, and print its error against the stored
# PyTorch output and its median time per forward.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/build.sh vsac vsa-opt
model=test/fixtures/wan_t2v.onnx
out=build/example
mkdir -p "$out"
target=cpu
if command -v nvidia-smi >/dev/null 2>&1 && nvidia-smi -L >/dev/null 2>&1 &&
   [ -n "$(find build/runtime -name 'libvsart_cuda.a' 2>/dev/null)" ]; then
  target=cuda
fi
build/bin/vsac "$model" --emit=summary
build/bin/vsac "$model" --emit=vrt -o "$out/wan_t2v.vrt.mlir"
echo "vrt IR (arena plan) written to $out/wan_t2v.vrt.mlir: $(grep -o 'vrt.arena_bytes = [0-9]*' "$out/wan_t2v.vrt.mlir")"
build/bin/vsac "$model" --target=$target -o "$out/wan_t2v"
echo "compiled $out/wan_t2v (+ .vsab) for the $target"
python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/wan_t2v.inputs.npz "$out/in"
python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/wan_t2v.outputs.npz "$out/ref"
"$out/wan_t2v" --input hidden_states="$out/in/hidden_states.npy" \
  --input timestep="$out/in/timestep.npy" \
  --input encoder_hidden_states="$out/in/encoder_hidden_states.npy" \
  --output "$out/sample.npy" --repeat 20
python3 test/e2e/Inputs/compare_npy.py "$out/sample.npy" "$out/ref/sample.npy" \
  --name "wan_t2v ($target) vs PyTorch" --rtol $([ $target = cuda ] && echo 3e-2 || echo 1e-4)
