#!/usr/bin/env bash
# Makes gpu/ (ignored by git, carried to the GPU machine by the device tool):
# the runtime libraries and headers, the CUDA sources vsac generates for
# every fixture (with inputs and PyTorch outputs) and for Wan models exported
# by export_wan.py, and the CUDA kernel tests. Then run bench/wan/gpu_run.sh
# there. Usage: make_gpu_package.sh [WAN_ONNX_DIR:NAME:LAYERS[:SPARSE] ...]
# (SPARSE: a vsac --sparse value, e.g. vsa:sparsity=0.875, or cp=ulysses=2
# for --cp=ulysses:2; cp=ulysses=2,chunks=-1 adds --ulysses-chunks=-1; fp8,
# or a suffix +fp8, adds --fp8-gemms; fp8=N also --fp8-min-n=N; a last
# suffix +fp8attn (or fp8attn alone) adds --fp8-attention).
# Context-parallel tiny fixtures (CUDA, NCCL over local GPUs) are added as
# gpu/cp/NAME with the rank count in NAME.ranks.
set -euo pipefail
cd "$(dirname "$0")/../.."
pkg=gpu
rm -rf $pkg && mkdir -p $pkg/src $pkg/lib $pkg/fixtures
cp -r runtime/include $pkg/include
cp build/runtime/libvsart.a build/runtime/libvsart_cuda.a $pkg/lib/
[ -x build/bin/vsart-cuda-tests ] && cp build/bin/vsart-cuda-tests $pkg/
[ -x build/bin/vsart-comm-nccl-tests ] && cp build/bin/vsart-comm-nccl-tests $pkg/
for fx in wan_t2v wan_i2v wan_t2v_opset23 wan_t2v_ts17 wan_t2v_cfg cogvideox hunyuanvideo; do
  build/bin/vsac test/fixtures/$fx.onnx --emit=cu -o $pkg/src/$fx.cu
  build/bin/vsac test/fixtures/$fx.onnx --target=cuda --emit=vrt -o /dev/null
  # The .vsab holds the embedded weights; the executable maps EXE.vsab.
  build/bin/vsac test/fixtures/$fx.onnx --target=cpu -o /tmp/vsa-pkg-$fx
  mv /tmp/vsa-pkg-$fx.vsab $pkg/$fx.vsab && rm -f /tmp/vsa-pkg-$fx
  python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/$fx.inputs.npz $pkg/fixtures/$fx/in
  python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/$fx.outputs.npz $pkg/fixtures/$fx/out
done
# Sparse fixtures: CUDA sources plus the CPU executable's output on the
# same inputs (the reference for the CUDA block-sparse path).
for spec in "wan_t2v_vsa:wan_t2v:vsa:tile=1x2x2,sparsity=0.5" \
            "wan_t2v_fw:wan_t2v:frame-window:window=0,keyframe-interval=2" \
            "wan_t2v_sta:wan_t2v:sliding-tile:tile=2x2x3,window=1x1x3" \
            "wan_t2v_vsag:wan_t2v:vsa:tile=1x2x2,sparsity=0.5,gate=1" \
            "cogvideox_vsa:cogvideox:vsa:tile=1x2x2,sparsity=0.5" \
            "wan_t2v_sem:wan_t2v:semantic:q-clusters=8,kv-clusters=8,top-p=0.5" \
            "cogvideox_sem:cogvideox:semantic:q-clusters=8,kv-clusters=8,top-p=0.5"; do
  IFS=: read -r name fx pattern params <<<"$spec"
  dir=$pkg/sparse/$name
  mkdir -p $dir
  build/bin/vsac test/fixtures/$fx.onnx --sparse="$pattern:$params" --emit=cu -o $pkg/src/$name.cu
  build/bin/vsac test/fixtures/$fx.onnx --sparse="$pattern:$params" --target=cpu -o /tmp/vsa-pkg-$name
  mv /tmp/vsa-pkg-$name.vsab $pkg/$name.vsab
  python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/$fx.inputs.npz $dir/in
  python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/$fx.outputs.npz $dir/dense
  args=()
  for f in $dir/in/*.npy; do args+=(--input "$(basename "$f" .npy)=$f"); done
  if [[ "$params" == *gate=1* ]]; then # VSA's gate: external, bound from a file
    build/bin/vsac test/fixtures/$fx.onnx --sparse="$pattern:$params" --emit=transformed -o /tmp/vsa-pkg-$name.mlir
    python3 test/e2e/Inputs/vsa_gate.py weights /tmp/vsa-pkg-$name.mlir $dir/weights.safetensors --seed 3
    args+=(--weights $dir/weights.safetensors)
  fi
  /tmp/vsa-pkg-$name --quiet --vsab $pkg/$name.vsab "${args[@]}" --output $dir/cpu.npy
  rm -f /tmp/vsa-pkg-$name
done
# FP8 fixtures (--fp8-gemms, every linear of at least 16 in each dim, every
# activation quantized whatever its width; _fp8attn: --fp8-attention on
# every dense attention too): CUDA sources plus the CPU executable's output,
# the CUDA path's reference.
gemms="--fp8-gemms --fp8-min-dim=16 --fp8-min-n=16"
attn="--fp8-attention --fp8-attention-min-keys=16"
for spec in "wan_t2v_fp8:wan_t2v:$gemms" "hunyuanvideo_fp8:hunyuanvideo:$gemms" \
            "wan_t2v_fp8attn:wan_t2v:$gemms $attn"; do
  IFS=: read -r name fx flags <<<"$spec"
  dir=$pkg/fp8/$name
  mkdir -p $dir
  # shellcheck disable=SC2086 # flags are words
  build/bin/vsac test/fixtures/$fx.onnx $flags --emit=cu -o $pkg/src/$name.cu
  # shellcheck disable=SC2086
  build/bin/vsac test/fixtures/$fx.onnx $flags --target=cpu -o /tmp/vsa-pkg-$name
  mv /tmp/vsa-pkg-$name.vsab $pkg/$name.vsab
  python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/$fx.inputs.npz $dir/in
  python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/$fx.outputs.npz $dir/ref
  args=()
  for f in $dir/in/*.npy; do args+=(--input "$(basename "$f" .npy)=$f"); done
  /tmp/vsa-pkg-$name --quiet --vsab $pkg/$name.vsab "${args[@]}" --output $dir/cpu.npy
  rm -f /tmp/vsa-pkg-$name
done
mkdir -p $pkg/cp
for spec in "wan_t2v_u2:wan_t2v:ulysses=2" "wan_t2v_r2:wan_t2v:ring=2" \
            "wan_t2v_cfg_c2:wan_t2v_cfg:cfg=2" "wan_i2v_u2:wan_i2v:ulysses=2" \
            "cogvideox_r2:cogvideox:ring=2" "hunyuanvideo_u2:hunyuanvideo:ulysses=2" \
            "hunyuanvideo_r2:hunyuanvideo:ring=2"; do
  IFS=: read -r name fx cp <<<"$spec"
  build/bin/vsac test/fixtures/$fx.onnx --cp="${cp//=/:}" --emit=cu -o $pkg/src/$name.cu
  build/bin/vsac test/fixtures/$fx.onnx --cp="${cp//=/:}" --target=cpu -o /tmp/vsa-pkg-$name
  mv /tmp/vsa-pkg-$name.vsab $pkg/$name.vsab && rm -f /tmp/vsa-pkg-$name
  echo "$fx" > $pkg/cp/$name.fixture
  echo 2 > $pkg/cp/$name.ranks
done
for spec in "$@"; do
  IFS=: read -r dir name layers sparse_spec <<<"$spec"
  sparse=()
  if [[ "$sparse_spec" =~ (^|\+)fp8attn$ ]]; then # FP8 dense attention
    sparse+=(--fp8-attention)
    sparse_spec="${sparse_spec%"${BASH_REMATCH[0]}"}"
  fi
  if [[ "$sparse_spec" =~ (^|\+)fp8(=([0-9]+))?$ ]]; then # FP8 linears
    sparse+=(--fp8-gemms)
    [ -n "${BASH_REMATCH[3]}" ] && sparse+=(--fp8-min-n="${BASH_REMATCH[3]}")
    sparse_spec="${sparse_spec%"${BASH_REMATCH[0]}"}"
  fi
  if [[ "$sparse_spec" == cp=* ]]; then # cp=ulysses=2,ring=2: --cp=ulysses:2,ring:2
    cp="${sparse_spec#cp=}"
    if [[ "$cp" =~ (^|,)chunks=(-?[0-9]+) ]]; then # cp=ulysses=2,chunks=-1
      sparse+=(--ulysses-chunks="${BASH_REMATCH[2]}")
      cp=$(echo "$cp" | sed -E 's/(^|,)chunks=-?[0-9]+//; s/^,//')
    fi
    sparse+=(--cp="${cp//=/:}")
  elif [ -n "$sparse_spec" ]; then
    sparse+=(--sparse="$sparse_spec")
  fi
  build/bin/vsac "$dir/wan.onnx" --external-weights "${sparse[@]}" --emit=cu -o $pkg/src/$name.cu
  # Constants (the exporter's, and sparse block tables) travel in the .vsab.
  build/bin/vsac "$dir/wan.onnx" --external-weights "${sparse[@]}" --target=cpu -o /tmp/vsa-pkg-$name
  mv /tmp/vsa-pkg-$name.vsab $pkg/$name.vsab && rm -f /tmp/vsa-pkg-$name
  echo "$layers" > $pkg/$name.layers
  # A CPU build of the same program, for op-by-op comparisons (VSART_DUMP_DIR).
  [ "$name" = wan_small ] && build/bin/vsac "$dir/wan.onnx" --external-weights --target=cpu -o $pkg/${name}_cpu
done
du -sh $pkg
