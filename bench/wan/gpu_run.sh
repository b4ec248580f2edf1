#!/usr/bin/env bash
# Runs on the GPU machine over a package made by bench/wan/make_gpu_package.sh
# (folder gpu/): builds the generated CUDA sources against the carried
# runtime, runs the CUDA kernel tests, checks every fixture against PyTorch's
# output (with 2 or more GPUs also the NCCL tests and the context-parallel
# fixtures on 2 GPUs), and compares the Wan executables with diffusers
# (run_gpu.py; VSA_BENCH_ALSO="--also gpu/NAME:RANKS" adds context-parallel
# builds of the same model). Results go to $OUT.
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
pkg=gpu
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
# cuDNN (fused attention) comes with PyTorch's pip packages there; the
# runtime dlopens it and falls back to its own kernel without it.
cudnn=$(python3 -c "import nvidia.cudnn, os; print(os.path.join(os.path.dirname(nvidia.cudnn.__file__), 'lib'))" 2>/dev/null || true)
[ -n "$cudnn" ] && export LD_LIBRARY_PATH="$cudnn:$(dirname "$cudnn")/../cu13/lib:${LD_LIBRARY_PATH:-}"
python3 -c "import diffusers" 2>/dev/null ||
  python3 -m pip install -q --no-index --no-deps bench/wheels/diffusers-*.whl
build() { # SRC OUT
  nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -I$pkg/include "$1" \
    -o "$2" $pkg/lib/libvsart_cuda.a $pkg/lib/libvsart.a -lcublasLt -lpthread
}
# VSA_BUILD_ONLY="a b": build only these generated sources (and the fixtures).
for src in $pkg/src/*.cu; do
  name=$(basename "$src" .cu)
  if [ -n "${VSA_BUILD_ONLY:-}" ] && [[ "$name" == wan1* ]] &&
     [[ " $VSA_BUILD_ONLY " != *" $name "* ]]; then
    continue
  fi
  build "$src" "$pkg/$name" &
done
wait
if [ -x $pkg/vsart-cuda-tests ]; then
  $pkg/vsart-cuda-tests 2>&1 | tail -60 > "$OUT/cuda-tests.txt"
  tail -5 "$OUT/cuda-tests.txt"
fi
: > "$OUT/fixtures.txt"
for dir in $pkg/fixtures/*/; do
  name=$(basename "$dir")
  args=()
  for f in "$dir"in/*.npy; do args+=(--input "$(basename "$f" .npy)=$f"); done
  "$pkg/$name" --quiet "${args[@]}" --output "$dir/sample.npy" >> "$OUT/fixtures.txt" 2>&1
  python3 test/e2e/Inputs/compare_npy.py "$dir/sample.npy" "$dir"out/sample.npy \
    --name "$name (cuda)" --l2 2e-2 >> "$OUT/fixtures.txt" 2>&1
  "$pkg/$name" --quiet --random-inputs --repeat 20 | grep median | sed "s/^/$name: /" >> "$OUT/fixtures.txt"
done
cat "$OUT/fixtures.txt"
# Context parallelism on the local GPUs (NCCL), when there are enough.
gpus=$(nvidia-smi -L | wc -l)
: > "$OUT/cp.txt"
if [ "$gpus" -ge 2 ]; then
  [ -x $pkg/vsart-comm-nccl-tests ] && $pkg/vsart-comm-nccl-tests 2>&1 | tail -3 >> "$OUT/cp.txt"
  source bench/cp/cp_fixture.sh
  for meta in $pkg/cp/*.ranks; do
    cp_fixture "$(basename "$meta" .ranks)"
  done
  cat "$OUT/cp.txt"
fi
# Sparse fixtures: CUDA vs the CPU executable (same pattern, same inputs),
# and full density (--attn dense=1; vsa also sparsity=0) vs dense PyTorch.
: > "$OUT/sparse.txt"
for dir in $pkg/sparse/*/; do
  name=$(basename "$dir")
  args=()
  for f in "$dir"in/*.npy; do args+=(--input "$(basename "$f" .npy)=$f"); done
  # VSA's gate (external parameters): bound from the package's file.
  [ -f "$dir"weights.safetensors ] && args+=(--weights "$dir"weights.safetensors)
  "$pkg/$name" --quiet "${args[@]}" --output "$dir/cuda.npy" >> "$OUT/sparse.txt" 2>&1
  # Semantic: bf16 rounding moves near-tie tokens to other clusters, so
  # CUDA and CPU keep slightly different key sets (hence 5e-2 there).
  bound=2e-2
  [[ "$name" == *sem* ]] && bound=5e-2
  python3 test/e2e/Inputs/compare_npy.py "$dir/cuda.npy" "$dir/cpu.npy" \
    --name "$name (cuda vs cpu, sparse)" --l2 $bound >> "$OUT/sparse.txt" 2>&1
  for attn in dense=1 sparsity=0 top_p=1.0; do
    [[ "$name" == *vsag ]] && continue # gated: dense keeps the coarse term
    [ "$attn" = sparsity=0 ] && [[ "$name" != *vsa* ]] && continue
    [ "$attn" = top_p=1.0 ] && [[ "$name" != *sem* ]] && continue
    "$pkg/$name" --quiet --attn $attn "${args[@]}" --output "$dir/full.npy" >> "$OUT/sparse.txt" 2>&1
    python3 test/e2e/Inputs/compare_npy.py "$dir/full.npy" "$dir"dense/sample.npy \
      --name "$name (cuda, --attn $attn vs dense PyTorch)" --l2 2e-2 >> "$OUT/sparse.txt" 2>&1
  done
done
cat "$OUT/sparse.txt"
# FP8 fixtures: CUDA vs the CPU twin of the same FP8 program, and vs
# PyTorch's fp32 output. Both twins quantize per token, CUDA from bf16
# activations: E4M3 roundings that differ are as large as FP8's own error,
# so the twins are 2e-2 apart while each is 3e-2 from PyTorch.
: > "$OUT/fp8.txt"
for dir in $pkg/fp8/*/; do
  [ -d "$dir" ] || continue
  name=$(basename "$dir")
  args=()
  for f in "$dir"in/*.npy; do args+=(--input "$(basename "$f" .npy)=$f"); done
  "$pkg/$name" --quiet "${args[@]}" --output "$dir/cuda.npy" >> "$OUT/fp8.txt" 2>&1
  python3 test/e2e/Inputs/compare_npy.py "$dir/cuda.npy" "$dir/cpu.npy" \
    --name "$name (cuda vs cpu, fp8)" --l2 4e-2 >> "$OUT/fp8.txt" 2>&1
  python3 test/e2e/Inputs/compare_npy.py "$dir/cuda.npy" "$dir"ref/sample.npy \
    --name "$name (cuda fp8 vs PyTorch fp32)" --l2 6e-2 >> "$OUT/fp8.txt" 2>&1
done
cat "$OUT/fp8.txt"
if [ -x $pkg/wan_small_cpu ] && [ -x $pkg/wan_small ]; then
  # Op-by-op CPU (fp32) vs CUDA on the same bf16 weights and inputs.
  python3 bench/wan/run_gpu.py --exe "$pkg/wan_small" --layers 2 --frames 5 --height 30 \
    --width 52 --fp32-ref --repeat 1 --keep /tmp/small --out "$OUT/wan_small.json" | tail -8
  args=(--weights /tmp/small/weights.safetensors)
  for n in hidden_states timestep encoder_hidden_states; do args+=(--input $n=/tmp/small/$n.npy); done
  mkdir -p /tmp/dcpu /tmp/dgpu
  VSART_DUMP_DIR=/tmp/dcpu $pkg/wan_small_cpu --quiet "${args[@]}" --output /tmp/small/cpu.npy
  VSART_DUMP_DIR=/tmp/dgpu $pkg/wan_small --quiet "${args[@]}" --output /tmp/small/gpu.npy
  python3 scripts/compare_dumps.py /tmp/dcpu /tmp/dgpu > "$OUT/dumps.txt" 2>&1
  head -60 "$OUT/dumps.txt"; tail -1 "$OUT/dumps.txt"
fi
for exe in ${VSA_BENCH_EXES:-wan13b}; do
  [ -x "$pkg/$exe" ] || continue
  layers=$(cat "$pkg/$exe.layers" 2>/dev/null || echo 30)
  python3 bench/wan/run_gpu.py --exe "$pkg/$exe" --layers "$layers" ${VSA_BENCH_ARGS:-} \
    ${VSA_BENCH_ALSO:-} \
    --out "$OUT/$exe.json" 2>&1 | tail -40
done
