// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-gemms{min-dim=32 min-n=1}))' | FileCheck %s
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-gemms{min-dim=32 min-n=1}),func.func(vrt-plan-memory{target=cuda}))' | FileCheck %s --check-prefix=PLAN
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-gemms{min-dim=0}))' 2>&1 | FileCheck %s --check-prefix=BADOPT

// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-gemms{min-dim=32 min-n=64}))' | FileCheck %s --check-prefix=MINN

// BADOPT: vrt-quantize-gemms: min-dim and min-n must be >= 1, got 0 and 2048

// q, k and v of one activation share one quantization; bias, alpha and the
// GELU epilogue carry over; the weights' other users are GEMMs too.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[V:.*]], %[[S:.*]] = vrt.quantize_rows %arg0 : tensor<1x64x32xf32> -> tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>
// CHECK-NEXT: vrt.scaled_gemm %[[V]], %[[S]], %{{.*}}, %{{.*}} : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x64x32xf32>
// CHECK-NEXT: vrt.scaled_gemm %[[V]], %[[S]], %{{.*}} {alpha = 5.000000e-01 : f64} : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<32x32xf32>) -> tensor<1x64x32xf32>
// CHECK-NEXT: vrt.scaled_gemm %[[V]], %[[S]], %{{.*}}, %{{.*}} {epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x64x64xf32>
// CHECK-NEXT: %[[V2:.*]], %[[S2:.*]] = vrt.quantize_rows
// CHECK-NEXT: vrt.scaled_gemm %[[V2]], %[[S2]]
// CHECK-NOT: vrt.gemm
// PLAN-LABEL: func.func @qkv
// The FP8 values take a byte each and the scales four, also on CUDA.
// PLAN: vrt.quantize_rows %arg0 {offsets = array<i64: 0, 2048>}
func.func @qkv(%x: tensor<1x64x32xf32>) -> (tensor<1x64x32xf32>, tensor<1x64x32xf32>, tensor<1x64x32xf32>) {
  %wq = vrt.weight "to_q.weight" : tensor<32x32xf32>
  %bq = vrt.weight "to_q.bias" : tensor<32xf32>
  %wk = vrt.weight "to_k.weight" : tensor<32x32xf32>
  %wu = vrt.weight "up.weight" : tensor<64x32xf32>
  %bu = vrt.weight "up.bias" : tensor<64xf32>
  %q = vrt.gemm %x, %wq, %bq {trans_b = true} : (tensor<1x64x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x64x32xf32>
  %k = vrt.gemm %x, %wk {trans_b = true, alpha = 0.5 : f64} : (tensor<1x64x32xf32>, tensor<32x32xf32>) -> tensor<1x64x32xf32>
  %u = vrt.gemm %x, %wu, %bu {trans_b = true, epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x64x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x64x64xf32>
  %v = vrt.gemm %q, %wq, %bq {trans_b = true} : (tensor<1x64x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x64x32xf32>
  return %v, %k, %q : tensor<1x64x32xf32>, tensor<1x64x32xf32>, tensor<1x64x32xf32>
}

// -----

// What stays: too few rows (the time embedding), a (K, N) weight, an
// activation rhs, K not a multiple of 16, and a weight that another GEMM
// reads as its lhs (the session stores a weight once).
// CHECK-LABEL: func.func @kept
// CHECK-NOT: vrt.quantize_rows
// CHECK-NOT: vrt.scaled_gemm
// CHECK: return
func.func @kept(%t: tensor<1x32xf32>, %x: tensor<64x32xf32>, %y: tensor<64x40xf32>) -> (tensor<1x32xf32>, tensor<64x32xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<32x32xf32>) {
  %w = vrt.weight "w" : tensor<32x32xf32>
  %wkn = vrt.weight "w_kn" : tensor<32x32xf32>
  %w40 = vrt.weight "w40" : tensor<32x40xf32>
  %shared = vrt.weight "shared" : tensor<32x32xf32>
  %0 = vrt.gemm %t, %w {trans_b = true} : (tensor<1x32xf32>, tensor<32x32xf32>) -> tensor<1x32xf32>
  %1 = vrt.gemm %x, %wkn : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %2 = vrt.gemm %x, %x {trans_b = true} : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x64xf32>
  %3 = vrt.gemm %y, %w40 {trans_b = true} : (tensor<64x40xf32>, tensor<32x40xf32>) -> tensor<64x32xf32>
  %4 = vrt.gemm %x, %shared {trans_b = true} : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %5 = vrt.gemm %shared, %shared {trans_b = true} : (tensor<32x32xf32>, tensor<32x32xf32>) -> tensor<32x32xf32>
  return %0, %1, %2, %3, %5 : tensor<1x32xf32>, tensor<64x32xf32>, tensor<64x64xf32>, tensor<64x32xf32>, tensor<32x32xf32>
}

// -----

// Batch dims count as rows: 2 x 16 rows reach min-dim 32.
// CHECK-LABEL: func.func @batched_rows
// CHECK: vrt.quantize_rows %arg0 : tensor<2x16x32xf32> -> tensor<2x16x32xf8E4M3FN>, tensor<2x16xf32>
// CHECK: vrt.scaled_gemm {{.*}} -> tensor<2x16x32xf32>
func.func @batched_rows(%x: tensor<2x16x32xf32>) -> tensor<2x16x32xf32> {
  %w = vrt.weight "w" : tensor<32x32xf32>
  %0 = vrt.gemm %x, %w {trans_b = true} : (tensor<2x16x32xf32>, tensor<32x32xf32>) -> tensor<2x16x32xf32>
  return %0 : tensor<2x16x32xf32>
}

// -----

// min-n: an activation is quantized only for GEMMs with enough output
// columns in all. q, k and v (96 columns) qualify at min-n 64; the lone
// 32-column projection does not, and neither does a GEMM sharing its weight
// with it (the weight would have to be stored twice).
// MINN-LABEL: func.func @columns
// MINN: %[[V:.*]], %[[S:.*]] = vrt.quantize_rows %arg0
// MINN-COUNT-3: vrt.scaled_gemm %[[V]], %[[S]]
// MINN-NOT: vrt.quantize_rows
// MINN-NOT: vrt.scaled_gemm
// MINN: return
func.func @columns(%x: tensor<64x32xf32>, %y: tensor<64x32xf32>, %z: tensor<64x32xf32>) -> (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x48xf32>, tensor<64x32xf32>) {
  %wq = vrt.weight "q" : tensor<32x32xf32>
  %wk = vrt.weight "k" : tensor<32x32xf32>
  %wv = vrt.weight "v" : tensor<32x32xf32>
  %wo = vrt.weight "o" : tensor<32x32xf32>
  %wu = vrt.weight "u" : tensor<48x32xf32>
  %q = vrt.gemm %x, %wq {trans_b = true} : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %k = vrt.gemm %x, %wk {trans_b = true} : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %v = vrt.gemm %x, %wv {trans_b = true} : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %o = vrt.gemm %y, %wo {trans_b = true} : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  // %z feeds 48 + 32 columns, but "o" is also read by the unprofitable %y;
  // without it, 48 columns are too few.
  %u = vrt.gemm %z, %wu {trans_b = true} : (tensor<64x32xf32>, tensor<48x32xf32>) -> tensor<64x48xf32>
  %o2 = vrt.gemm %z, %wo {trans_b = true} : (tensor<64x32xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  return %q, %k, %v, %o, %u, %o2 : tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x48xf32>, tensor<64x32xf32>
}
