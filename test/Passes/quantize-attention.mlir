// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-attention{min-keys=64}))' | FileCheck %s
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-attention))' | FileCheck %s --check-prefix=DEFAULT
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-attention{min-keys=0}))' 2>&1 | FileCheck %s --check-prefix=BADOPT

// BADOPT: vrt-quantize-attention: min-keys must be >= 1, got 0

// Long dense self-attention (bshd, grouped heads) runs in FP8; a short
// cross-attention (16 keys) stays; at the default min-keys (4096) nothing
// in this small function does.
// CHECK-LABEL: func.func @self_and_cross
// CHECK:      vrt.attention %arg0, %arg1, %arg1 {fp8, kv_layout = #vrt<layout bshd>, q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64}
// CHECK-NEXT: vrt.attention %arg0, %arg2, %arg2 {kv_layout = #vrt<layout bshd>, q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64}
// DEFAULT-LABEL: func.func @self_and_cross
// DEFAULT-NOT: fp8
func.func @self_and_cross(%x: tensor<1x64x4x16xf32>, %kv: tensor<1x64x2x16xf32>, %text: tensor<1x16x2x16xf32>) -> (tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>) {
  %0 = vrt.attention %x, %kv, %kv {scale = 0.25 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>} : (tensor<1x64x4x16xf32>, tensor<1x64x2x16xf32>, tensor<1x64x2x16xf32>) -> tensor<1x4x64x16xf32>
  %1 = vrt.attention %x, %text, %text {scale = 0.25 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>} : (tensor<1x64x4x16xf32>, tensor<1x16x2x16xf32>, tensor<1x16x2x16xf32>) -> tensor<1x4x64x16xf32>
  return %0, %1 : tensor<1x4x64x16xf32>, tensor<1x4x64x16xf32>
}

// -----

// What FP8 attention cannot take stays: a mask, a head dim that is not a
// multiple of 16 (24) or above 256 (272). Block-sparse attention is marked
// for its dense path.
// CHECK-LABEL: func.func @stays
// CHECK:      vrt.attention {{.*}} mask {{.*}} {scale
// CHECK-NEXT: vrt.attention {{.*}} blocks({{.*}}) {fp8, scale
// CHECK-NEXT: vrt.attention {{.*}} {scale
// CHECK-NEXT: vrt.attention {{.*}} {scale
func.func @stays(%q: tensor<1x2x64x16xf32>, %m: tensor<1x1x64x64xf32>, %o: tensor<3xi64>, %lo: tensor<5xi64>, %l: tensor<8xi32>, %q24: tensor<1x2x64x24xf32>, %q272: tensor<1x1x64x272xf32>) -> (tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x24xf32>, tensor<1x1x64x272xf32>) {
  %0 = vrt.attention %q, %q, %q mask %m {scale = 0.25 : f64} : (tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x1x64x64xf32>) -> tensor<1x2x64x16xf32>
  %1 = vrt.attention %q, %q, %q blocks(%o, %lo, %l) {scale = 0.25 : f64} : (tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<3xi64>, tensor<5xi64>, tensor<8xi32>) -> tensor<1x2x64x16xf32>
  %2 = vrt.attention %q24, %q24, %q24 {scale = 0.25 : f64} : (tensor<1x2x64x24xf32>, tensor<1x2x64x24xf32>, tensor<1x2x64x24xf32>) -> tensor<1x2x64x24xf32>
  %3 = vrt.attention %q272, %q272, %q272 {scale = 0.25 : f64} : (tensor<1x1x64x272xf32>, tensor<1x1x64x272xf32>, tensor<1x1x64x272xf32>) -> tensor<1x1x64x272xf32>
  return %0, %1, %2, %3 : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x24xf32>, tensor<1x1x64x272xf32>
}

// -----

// Exactly min-keys keys qualify; one fewer does not.
// CHECK-LABEL: func.func @edge
// CHECK:      vrt.attention {{.*}} {fp8, scale
// CHECK-NEXT: vrt.attention {{.*}} {scale
func.func @edge(%q: tensor<1x1x8x16xf32>, %k64: tensor<1x1x64x16xf32>, %k63: tensor<1x1x63x16xf32>) -> (tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>) {
  %0 = vrt.attention %q, %k64, %k64 {scale = 0.25 : f64} : (tensor<1x1x8x16xf32>, tensor<1x1x64x16xf32>, tensor<1x1x64x16xf32>) -> tensor<1x1x8x16xf32>
  %1 = vrt.attention %q, %k63, %k63 {scale = 0.25 : f64} : (tensor<1x1x8x16xf32>, tensor<1x1x63x16xf32>, tensor<1x1x63x16xf32>) -> tensor<1x1x8x16xf32>
  return %0, %1 : tensor<1x1x8x16xf32>, tensor<1x1x8x16xf32>
}
