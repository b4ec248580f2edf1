#!/usr/bin/env bash
# Makes gpu/ (ignored by git, carried to the GPU machine by the device tool):
# the runtime libraries and headers, the CUDA sources vsac generates for
# every fixture (with inputs and PyTorch outputs) and for Wan models exported
# by export_wan.py, and the CUDA kernel tests. Then run bench/wan/gpu_run.sh
# there. Usage: make_gpu_package.sh [WAN_ONNX_DIR:NAME:LAYERS ...]
set -euo pipefail
cd "$(dirname "$0")/../.."
pkg=gpu
rm -rf $pkg && mkdir -p $pkg/src $pkg/lib $pkg/fixtures
cp -r runtime/include $pkg/include
cp build/runtime/libvsart.a build/runtime/libvsart_cuda.a $pkg/lib/
[ -x build/bin/vsart-cuda-tests ] && cp build/bin/vsart-cuda-tests $pkg/
for fx in wan_t2v wan_i2v wan_t2v_opset23 wan_t2v_ts17 cogvideox hunyuanvideo; do
  build/bin/vsac test/fixtures/$fx.onnx --emit=cu -o $pkg/src/$fx.cu
  build/bin/vsac test/fixtures/$fx.onnx --target=cuda --emit=vrt -o /dev/null
  # The .vsab holds the embedded weights; the executable maps EXE.vsab.
  build/bin/vsac test/fixtures/$fx.onnx --target=cpu -o /tmp/vsa-pkg-$fx
  mv /tmp/vsa-pkg-$fx.vsab $pkg/$fx.vsab && rm -f /tmp/vsa-pkg-$fx
  python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/$fx.inputs.npz $pkg/fixtures/$fx/in
  python3 test/e2e/Inputs/npz_to_npy.py test/fixtures/$fx.outputs.npz $pkg/fixtures/$fx/out
done
for spec in "$@"; do
  IFS=: read -r dir name layers <<<"$spec"
  build/bin/vsac "$dir/wan.onnx" --external-weights --emit=cu -o $pkg/src/$name.cu
  build/bin/vsac "$dir/wan.onnx" --external-weights --target=cpu --emit=vrt -o /dev/null
  # Constants the exporter computed still travel in the .vsab.
  build/bin/vsac "$dir/wan.onnx" --external-weights --target=cpu -o /tmp/vsa-pkg-$name
  mv /tmp/vsa-pkg-$name.vsab $pkg/$name.vsab && rm -f /tmp/vsa-pkg-$name
  echo "$layers" > $pkg/$name.layers
  # A CPU build of the same program, for op-by-op comparisons (VSART_DUMP_DIR).
  [ "$name" = wan_small ] && build/bin/vsac "$dir/wan.onnx" --external-weights --target=cpu -o $pkg/${name}_cpu
done
du -sh $pkg
