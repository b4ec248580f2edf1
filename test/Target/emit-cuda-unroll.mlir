// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s

// Elementwise CUDA kernels give each thread 4 elements per step, 256 apart
// (coalesced), and keep the results in registers until every load of the
// step was issued; the grid covers 1024 elements a block. A reduction root
// keeps one element per thread and a grid of 256 elements a block.

// CHECK-LABEL: vrt.kernel "ew"
// CHECK:      for (int32_t b = int32_t(blockIdx.x) * 1024; b < 3000; b += int32_t(gridDim.x) * 1024) {
// CHECK-NEXT:   __nv_bfloat16 vsa_r[4];
// CHECK-NEXT: #pragma unroll
// CHECK-NEXT:   for (int u = 0; u < 4; ++u) {
// CHECK-NEXT:     const int32_t i = b + u * 256 + int32_t(threadIdx.x);
// CHECK-NEXT:     if (i >= 3000)
// CHECK-NEXT:       break;
// CHECK:          vsa_r[u] = __float2bfloat16_rn(v1);
// CHECK-NEXT:   }
// CHECK-NEXT: #pragma unroll
// CHECK-NEXT:   for (int u = 0; u < 4; ++u) {
// CHECK-NEXT:     const int32_t i = b + u * 256 + int32_t(threadIdx.x);
// CHECK-NEXT:     if (i < 3000)
// CHECK-NEXT:       out[i] = vsa_r[u];
// CHECK:      ew_kernel<<<3, 256, 0, s>>>(
// CHECK-LABEL: vrt.kernel "red"
// CHECK:      for (int32_t i = int32_t(blockIdx.x) * blockDim.x + threadIdx.x; i < 3000;
// CHECK-NOT:  vsa_r
// CHECK:      red_kernel<<<12, 256, 0, s>>>(
func.func @main(%x: tensor<3000xf32> {dit.name = "x"}, %m: tensor<3000x4xf32> {dit.name = "m"}) -> (tensor<3000xf32> {dit.name = "y"}, tensor<3000x1xf32> {dit.name = "r"}) attributes {vrt.arena_bytes = 24064 : i64} {
  %a = vrt.kernel "ew"(%x) {offset = 0 : i64} : (tensor<3000xf32>) -> tensor<3000xf32> {
  ^bb0(%b: tensor<3000xf32>):
    %c = dit.mul %b, %b : (tensor<3000xf32>, tensor<3000xf32>) -> tensor<3000xf32>
    vrt.yield %c : tensor<3000xf32>
  }
  %r = vrt.kernel "red"(%m) {offset = 12032 : i64} : (tensor<3000x4xf32>) -> tensor<3000x1xf32> {
  ^bb0(%b: tensor<3000x4xf32>):
    %c = dit.reduce sum %b [1] : (tensor<3000x4xf32>) -> tensor<3000x1xf32>
    vrt.yield %c : tensor<3000x1xf32>
  }
  return %a, %r : tensor<3000xf32>, tensor<3000x1xf32>
}
