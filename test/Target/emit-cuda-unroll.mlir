// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s

// Elementwise CUDA kernels whose innermost dimension holds whole 16-byte
// vectors of the output (8 bf16 here) give each thread one vector: the
// outer indices once, the innermost one per element, then one 16-byte
// store; the grid covers 8 x 256 elements a block.
// CHECK-LABEL: vrt.kernel "vec"
// CHECK:      for (int32_t g = int32_t(blockIdx.x) * blockDim.x + threadIdx.x; g < 750;
// CHECK-NEXT:      g += int32_t(blockDim.x) * gridDim.x) {
// CHECK-NEXT:   const int32_t o0 = g / 5;
// CHECK-NEXT:   const int32_t vsa_base = (g % 5) * 8;
// CHECK-NEXT:   alignas(16) __nv_bfloat16 vsa_r[8];
// CHECK-NEXT:   #pragma unroll
// CHECK-NEXT:   for (int u = 0; u < 8; ++u) {
// CHECK-NEXT:     const int32_t o1 = vsa_base + u;
// CHECK:          vsa_r[u] = __float2bfloat16_rn(v1);
// CHECK-NEXT:   }
// CHECK-NEXT:   *reinterpret_cast<uint4 *>(out + g * 8) = *reinterpret_cast<const uint4 *>(vsa_r);
// CHECK:      vec_kernel<<<3, 256, 0, s>>>(

// Otherwise each thread takes 4 elements per step, 256 apart (coalesced),
// and keeps the results in registers until every load of the step was
// issued; the grid covers 1024 elements a block.
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

// A reduction root keeps one element per thread and a grid of 256 elements
// a block.
// CHECK-LABEL: vrt.kernel "red"
// CHECK:      for (int32_t i = int32_t(blockIdx.x) * blockDim.x + threadIdx.x; i < 3000;
// CHECK-NOT:  vsa_r
// CHECK:      red_kernel<<<12, 256, 0, s>>>(
func.func @main(%v: tensor<150x40xf32> {dit.name = "v"}, %x: tensor<1000x3xf32> {dit.name = "x"}, %m: tensor<3000x4xf32> {dit.name = "m"}) -> (tensor<150x40xf32> {dit.name = "w"}, tensor<1000x3xf32> {dit.name = "y"}, tensor<3000x1xf32> {dit.name = "r"}) attributes {vrt.arena_bytes = 36352 : i64} {
  %w = vrt.kernel "vec"(%v) {offset = 0 : i64} : (tensor<150x40xf32>) -> tensor<150x40xf32> {
  ^bb0(%b: tensor<150x40xf32>):
    %c = dit.mul %b, %b : (tensor<150x40xf32>, tensor<150x40xf32>) -> tensor<150x40xf32>
    vrt.yield %c : tensor<150x40xf32>
  }
  %a = vrt.kernel "ew"(%x) {offset = 12288 : i64} : (tensor<1000x3xf32>) -> tensor<1000x3xf32> {
  ^bb0(%b: tensor<1000x3xf32>):
    %c = dit.mul %b, %b : (tensor<1000x3xf32>, tensor<1000x3xf32>) -> tensor<1000x3xf32>
    vrt.yield %c : tensor<1000x3xf32>
  }
  %r = vrt.kernel "red"(%m) {offset = 24320 : i64} : (tensor<3000x4xf32>) -> tensor<3000x1xf32> {
  ^bb0(%b: tensor<3000x4xf32>):
    %c = dit.reduce sum %b [1] : (tensor<3000x4xf32>) -> tensor<3000x1xf32>
    vrt.yield %c : tensor<3000x1xf32>
  }
  return %w, %a, %r : tensor<150x40xf32>, tensor<1000x3xf32>, tensor<3000x1xf32>
}
