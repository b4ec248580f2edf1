#!/usr/bin/env bash
# On a machine with 2 or more GPUs, over a package made by
# bench/wan/make_gpu_package.sh (folder gpu/) with the Wan builds named in
# STEPS' commands below: context parallelism against one GPU and against
# diffusers' Ulysses, in one call per step so each stays under the device
# tool's time limit. Results go to $OUT.
#   STEP=1: build, NCCL tests, CP fixtures on 2 GPUs, Wan 1.3B 480p (one GPU,
#           Ulysses 2 fused, ring 2) vs diffusers eager, and diffusers'
#           Ulysses 2.
#   STEP=2: Wan 14B 720p, 40 layers (one GPU, Ulysses 2 fused and unfused)
#           vs diffusers eager (weights and inputs kept in /tmp/w14).
#   STEP=3: diffusers' Ulysses 2 on the 14B model, Ulysses 2 with one head
#           chunk (no overlap) on STEP 2's weights, per-op profiles of the
#           fused and unfused builds (collective time).
set -uo pipefail
cd "$(dirname "$0")/../.."
OUT=${OUT:-/tmp/out}
mkdir -p "$OUT"
pkg=gpu
cudnn=$(python3 -c "import nvidia.cudnn, os; print(os.path.join(os.path.dirname(nvidia.cudnn.__file__), 'lib'))" 2>/dev/null || true)
[ -n "$cudnn" ] && export LD_LIBRARY_PATH="$cudnn:$(dirname "$cudnn")/../cu13/lib:${LD_LIBRARY_PATH:-}"
python3 -c "import diffusers" 2>/dev/null ||
  python3 -m pip install -q --no-index --no-deps bench/wheels/diffusers-*.whl
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
build() { # NAME
  [ -x "$pkg/$1" ] && [ "$pkg/$1" -nt "$pkg/src/$1.cu" ] && return 0
  nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -I$pkg/include "$pkg/src/$1.cu" \
    -o "$pkg/$1" $pkg/lib/libvsart_cuda.a $pkg/lib/libvsart.a -lcublasLt -lpthread
}
bench() { # EXE LAYERS CONFIG EXTRA...
  local exe=$1 layers=$2 config=$3
  shift 3
  python3 bench/wan/run_gpu.py --exe "$pkg/$exe" --config "$config" --layers "$layers" "$@" \
    --out "$OUT/$exe.json" 2>&1 | tail -45
}
if [ "${STEP:-1}" = 1 ]; then
  for n in wan13b wan13b_u2 wan13b_r2 wan14b wan14b_u2 wan14b_u2a \
           $(ls $pkg/cp/*.ranks | xargs -n1 basename | sed 's/.ranks$//'); do
    [ -f "$pkg/src/$n.cu" ] && build $n &
  done
  wait
  [ -x $pkg/vsart-comm-nccl-tests ] && $pkg/vsart-comm-nccl-tests 2>&1 | tail -4 | tee "$OUT/nccl-tests.txt"
  : > "$OUT/cp.txt"
  source bench/cp/cp_fixture.sh
  for meta in $pkg/cp/*.ranks; do
    name=$(basename "$meta" .ranks)
    build "$name"
    cp_fixture "$name"
  done
  cat "$OUT/cp.txt"
  bench wan13b 30 1.3b --repeat 5 --also $pkg/wan13b_u2:2 --also $pkg/wan13b_r2:2
  torchrun --nproc_per_node=2 bench/cp/diffusers_cp.py --config 1.3b 2>&1 | grep median
elif [ "$STEP" = 2 ]; then
  for n in wan14b wan14b_u2 wan14b_u2a; do build $n & done
  wait
  bench wan14b 40 14b --height 90 --width 160 --repeat 2 --keep /tmp/w14 \
    --also $pkg/wan14b_u2:2 --also $pkg/wan14b_u2a:2
else
  torchrun --nproc_per_node=2 bench/cp/diffusers_cp.py --config 14b 2>&1 | grep median
  build wan14b_u2
  build wan14b_u2a
  args=(--weights /tmp/w14/weights.safetensors)
  for n in hidden_states timestep encoder_hidden_states; do args+=(--input $n=/tmp/w14/$n.npy); done
  [ -f /tmp/w14/weights.safetensors ] || args=(--random-weights --random-inputs)
  echo "VSART_ULYSSES_CHUNKS=1: $(VSART_ULYSSES_CHUNKS=1 $pkg/wan14b_u2 --ranks 2 "${args[@]}" \
    --repeat 2 --quiet | grep median)" | tee -a "$OUT/chunks.txt"
  # Where the time goes per forward, ops timed one by one (the unfused build
  # shows the all-to-alls apart from the attention).
  for n in wan14b_u2 wan14b_u2a; do
    echo "== $n" >> "$OUT/profile.txt"
    VSART_PROFILE=1 $pkg/$n --ranks 2 "${args[@]}" --repeat 1 --quiet 2>&1 | grep -v "^sample" >> "$OUT/profile.txt"
  done
  cat "$OUT/profile.txt"
fi
