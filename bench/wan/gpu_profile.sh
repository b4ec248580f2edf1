#!/usr/bin/env bash
# On the GPU machine: build one packaged model (default wan13b) and print
# where its forward's time goes (VSART_PROFILE: each op timed alone, by
# kind), on random weights and inputs.
set -euo pipefail
cd "$(dirname "$0")/../.."
name=${1:-wan13b}
nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Igpu/include gpu/src/$name.cu \
  -o gpu/$name gpu/lib/libvsart_cuda.a gpu/lib/libvsart.a -lcublasLt -lpthread
cudnn=$(python3 -c "import nvidia.cudnn, os; print(os.path.join(os.path.dirname(nvidia.cudnn.__file__), 'lib'))" 2>/dev/null || true)
[ -n "$cudnn" ] && export LD_LIBRARY_PATH="$cudnn:${LD_LIBRARY_PATH:-}"
nvidia-smi --query-gpu=name --format=csv,noheader
gpu/$name --random-inputs --random-weights --repeat 5
VSART_PROFILE=1 gpu/$name --random-inputs --random-weights --repeat 3 --quiet | grep -v "^sample"
echo "own attention kernel (VSART_ATTENTION=own):"
VSART_ATTENTION=own gpu/$name --random-inputs --random-weights --repeat 3 --quiet | grep median
