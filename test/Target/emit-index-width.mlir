// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s
// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP

// CUDA kernels index with 32-bit integers where every tensor of the kernel
// has at most 2^30 elements and no index comes from data; otherwise, and
// always on the CPU, with 64-bit ones.

// CHECK-LABEL: vrt.kernel "k0"
// CHECK: for (int32_t b = int32_t(blockIdx.x) * 1024; b < 24; b += int32_t(gridDim.x) * 1024) {
// CHECK: const int32_t i = b + u * 256 + int32_t(threadIdx.x);
// CHECK: const int32_t o0 = i / 4;
// CHECK-LABEL: vrt.kernel "k1"
// CHECK: for (int64_t b = int64_t(blockIdx.x) * 1024; b < 8; b += int64_t(gridDim.x) * 1024) {
// CHECK-LABEL: vrt.kernel "k2"
// CHECK: for (int64_t g = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; g < 268435456;
// CPP-NOT: int32_t i
func.func @main(%x: tensor<6x4xf32> {dit.name = "x"}, %t: tensor<2x4xf32> {dit.name = "t"}, %j: tensor<2x1xi64> {dit.name = "j"}, %big: tensor<2147483648xf32> {dit.name = "big"}) -> (tensor<6x4xf32> {dit.name = "y"}, tensor<2x1x4xf32> {dit.name = "g"}, tensor<2147483648xf32> {dit.name = "z"}) attributes {vrt.arena_bytes = 17179869184 : i64} {
  // Transpose-free elementwise: 32-bit.
  %a = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<6x4xf32>) -> tensor<6x4xf32> {
  ^bb0(%b: tensor<6x4xf32>):
    %c = dit.add %b, %b : (tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
    vrt.yield %c : tensor<6x4xf32>
  }
  // Indices read from data: 64-bit.
  %g = vrt.kernel "k1"(%t, %j) {offset = 256 : i64} : (tensor<2x4xf32>, tensor<2x1xi64>) -> tensor<2x1x4xf32> {
  ^bb0(%b: tensor<2x4xf32>, %i: tensor<2x1xi64>):
    %c = dit.gather %b[%i] {axis = 0 : i64} : (tensor<2x4xf32>, tensor<2x1xi64>) -> tensor<2x1x4xf32>
    vrt.yield %c : tensor<2x1x4xf32>
  }
  // 2^31 elements: 64-bit.
  %z = vrt.kernel "k2"(%big) {offset = 512 : i64} : (tensor<2147483648xf32>) -> tensor<2147483648xf32> {
  ^bb0(%b: tensor<2147483648xf32>):
    %c = dit.add %b, %b : (tensor<2147483648xf32>, tensor<2147483648xf32>) -> tensor<2147483648xf32>
    vrt.yield %c : tensor<2147483648xf32>
  }
  return %a, %g, %z : tensor<6x4xf32>, tensor<2x1x4xf32>, tensor<2147483648xf32>
}
