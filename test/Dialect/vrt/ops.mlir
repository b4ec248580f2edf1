// RUN: vsa-opt %s -split-input-file | vsa-opt -split-input-file | FileCheck %s
// RUN: vsa-opt %s -split-input-file -mlir-print-op-generic | vsa-opt -split-input-file | FileCheck %s

// Round trip of every vrt op through its custom assembly format, and through
// the generic form back to the custom one. Default-valued attributes
// (trans_a/trans_b = false, alpha = 1.0, epilogue none, bhsd layouts) are not
// printed.

// CHECK-LABEL: func.func @weight
func.func @weight() -> (tensor<32x16xf32>, tensor<2x3xf32>, tensor<4xbf16>, tensor<3xi64>) {
  // CHECK: vrt.weight "blocks.0.attn1.to_q.weight" : tensor<32x16xf32>{{$}}
  %0 = vrt.weight "blocks.0.attn1.to_q.weight" : tensor<32x16xf32>
  // CHECK: vrt.weight "const.0" : tensor<2x3xf32> = dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
  %1 = vrt.weight "const.0" : tensor<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  // CHECK: vrt.weight "norm.weight" : tensor<4xbf16> = dense<5.000000e-01> : tensor<4xbf16>
  %2 = vrt.weight "norm.weight" : tensor<4xbf16> = dense<0.5> : tensor<4xbf16>
  // CHECK: vrt.weight "const.1" {note = "table"} : tensor<3xi64> = dense<[1, 48, 32]> : tensor<3xi64>
  %3 = vrt.weight "const.1" {note = "table"} : tensor<3xi64> = dense<[1, 48, 32]> : tensor<3xi64>
  return %0, %1, %2, %3 : tensor<32x16xf32>, tensor<2x3xf32>, tensor<4xbf16>, tensor<3xi64>
}

// -----

// CHECK-LABEL: func.func @gemm
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[W:[a-z0-9]+]]: tensor<64x32xf32>, %[[B:[a-z0-9]+]]: tensor<64xf32>, %[[A:[a-z0-9]+]]: tensor<8x4xf16>, %[[C:[a-z0-9]+]]: tensor<8x6xf16>, %[[D:[a-z0-9]+]]: tensor<5x8xf16>, %[[BX:[a-z0-9]+]]: tensor<2x3x4x5xf32>, %[[BY:[a-z0-9]+]]: tensor<2x3x5x6xf32>)
func.func @gemm(%x: tensor<1x48x32xf32>, %w: tensor<64x32xf32>, %b: tensor<64xf32>,
                %a: tensor<8x4xf16>, %c: tensor<8x6xf16>, %d: tensor<5x8xf16>,
                %bx: tensor<2x3x4x5xf32>, %by: tensor<2x3x5x6xf32>) {
  // Shared (K, N) weight read as (N, K), bias, tanh-GELU epilogue.
  // CHECK: vrt.gemm %[[X]], %[[W]], %[[B]] {epilogue = #vrt<epilogue gelu_tanh>, trans_b = true} : (tensor<1x48x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
  %0 = vrt.gemm %x, %w, %b {trans_b = true, epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x48x32xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
  // Without bias, exact GELU, an arena offset.
  // CHECK: vrt.gemm %[[X]], %[[W]] {epilogue = #vrt<epilogue gelu_erf>, offset = 512 : i64, trans_b = true} : (tensor<1x48x32xf32>, tensor<64x32xf32>) -> tensor<1x48x64xf32>
  %1 = vrt.gemm %x, %w {trans_b = true, epilogue = #vrt<epilogue gelu_erf>, offset = 512 : i64} : (tensor<1x48x32xf32>, tensor<64x32xf32>) -> tensor<1x48x64xf32>
  // (K, M) lhs with trans_a, alpha; explicit defaults are dropped.
  // CHECK: vrt.gemm %[[A]], %[[C]] {alpha = 5.000000e-01 : f64, trans_a = true} : (tensor<8x4xf16>, tensor<8x6xf16>) -> tensor<4x6xf16>
  %2 = vrt.gemm %a, %c {trans_a = true, trans_b = false, alpha = 0.5 : f64, epilogue = #vrt<epilogue none>} : (tensor<8x4xf16>, tensor<8x6xf16>) -> tensor<4x6xf16>
  // Both transposed.
  // CHECK: vrt.gemm %[[C]], %[[D]] {trans_a = true, trans_b = true} : (tensor<8x6xf16>, tensor<5x8xf16>) -> tensor<6x5xf16>
  %3 = vrt.gemm %c, %d {trans_a = true, trans_b = true} : (tensor<8x6xf16>, tensor<5x8xf16>) -> tensor<6x5xf16>
  // Batched: rhs with the lhs batch dims.
  // CHECK: vrt.gemm %[[BX]], %[[BY]] : (tensor<2x3x4x5xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32>
  %4 = vrt.gemm %bx, %by : (tensor<2x3x4x5xf32>, tensor<2x3x5x6xf32>) -> tensor<2x3x4x6xf32>
  return
}

// -----

// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x2x48x16xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x16x16xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x16x8xf32>, %[[QS:[a-z0-9]+]]: tensor<1x48x2x16xf32>, %[[KS:[a-z0-9]+]]: tensor<1x16x2x16xf32>, %[[VS:[a-z0-9]+]]: tensor<1x16x2x8xf32>, %[[M:[a-z0-9]+]]: tensor<1x1x48x16xf32>, %[[K1:[a-z0-9]+]]: tensor<1x1x16x16xf32>, %[[V1:[a-z0-9]+]]: tensor<1x1x16x8xf32>)
func.func @attention(%q: tensor<1x2x48x16xf32>, %k: tensor<1x2x16x16xf32>, %v: tensor<1x2x16x8xf32>,
                     %qs: tensor<1x48x2x16xf32>, %ks: tensor<1x16x2x16xf32>, %vs: tensor<1x16x2x8xf32>,
                     %m: tensor<1x1x48x16xf32>, %k1: tensor<1x1x16x16xf32>, %v1: tensor<1x1x16x8xf32>) {
  // All bhsd (the defaults), value head dim 8.
  // CHECK: vrt.attention %[[Q]], %[[K]], %[[V]] {scale = 2.500000e-01 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x48x8xf32>
  %0 = vrt.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x48x8xf32>
  // Query bshd.
  // CHECK: vrt.attention %[[QS]], %[[K]], %[[V]] {q_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64} : (tensor<1x48x2x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x48x8xf32>
  %1 = vrt.attention %qs, %k, %v {q_layout = #vrt<layout bshd>, scale = 0.25 : f64} : (tensor<1x48x2x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x48x8xf32>
  // Key and value bshd.
  // CHECK: vrt.attention %[[Q]], %[[KS]], %[[VS]] {kv_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64} : (tensor<1x2x48x16xf32>, tensor<1x16x2x16xf32>, tensor<1x16x2x8xf32>) -> tensor<1x2x48x8xf32>
  %2 = vrt.attention %q, %ks, %vs {kv_layout = #vrt<layout bshd>, scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x16x2x16xf32>, tensor<1x16x2x8xf32>) -> tensor<1x2x48x8xf32>
  // Result bshd.
  // CHECK: vrt.attention %[[Q]], %[[K]], %[[V]] {out_layout = #vrt<layout bshd>, scale = 2.500000e-01 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x48x2x8xf32>
  %3 = vrt.attention %q, %k, %v {out_layout = #vrt<layout bshd>, scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x8xf32>) -> tensor<1x48x2x8xf32>
  // Everything bshd, an additive mask broadcasting over heads, an offset.
  // CHECK: vrt.attention %[[QS]], %[[KS]], %[[VS]] mask %[[M]] {kv_layout = #vrt<layout bshd>, offset = 1024 : i64, out_layout = #vrt<layout bshd>, q_layout = #vrt<layout bshd>, scale = 1.250000e-01 : f64} : (tensor<1x48x2x16xf32>, tensor<1x16x2x16xf32>, tensor<1x16x2x8xf32>, tensor<1x1x48x16xf32>) -> tensor<1x48x2x8xf32>
  %4 = vrt.attention %qs, %ks, %vs mask %m {q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>, scale = 0.125 : f64, offset = 1024 : i64} : (tensor<1x48x2x16xf32>, tensor<1x16x2x16xf32>, tensor<1x16x2x8xf32>, tensor<1x1x48x16xf32>) -> tensor<1x48x2x8xf32>
  // Grouped queries: 2 query heads over 1 key/value head; explicit bhsd is
  // the default.
  // CHECK: vrt.attention %[[Q]], %[[K1]], %[[V1]] {scale = 2.500000e-01 : f64} : (tensor<1x2x48x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x8xf32>) -> tensor<1x2x48x8xf32>
  %5 = vrt.attention %q, %k1, %v1 {q_layout = #vrt<layout bhsd>, scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x1x16x16xf32>, tensor<1x1x16x8xf32>) -> tensor<1x2x48x8xf32>
  return
}

// -----

// CHECK-LABEL: func.func @norm_softmax
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<48x32xf32>, %[[S:[a-z0-9]+]]: tensor<32xf32>, %[[B:[a-z0-9]+]]: tensor<32xf32>, %[[H:[a-z0-9]+]]: tensor<4x8xbf16>)
func.func @norm_softmax(%x: tensor<48x32xf32>, %s: tensor<32xf32>, %b: tensor<32xf32>, %h: tensor<4x8xbf16>) {
  // CHECK: vrt.norm layer %[[X]] scale %[[S]] bias %[[B]] {epsilon = 9.9999999999999995E-7 : f64} : (tensor<48x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<48x32xf32>
  %0 = vrt.norm layer %x scale %s bias %b {epsilon = 1.0e-6 : f64} : (tensor<48x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<48x32xf32>
  // CHECK: vrt.norm layer %[[X]] {epsilon = 1.000000e-05 : f64, offset = 256 : i64} : (tensor<48x32xf32>) -> tensor<48x32xf32>
  %1 = vrt.norm layer %x {epsilon = 1.0e-5 : f64, offset = 256 : i64} : (tensor<48x32xf32>) -> tensor<48x32xf32>
  // CHECK: vrt.norm layer %[[X]] bias %[[B]] {epsilon = 0.000000e+00 : f64} : (tensor<48x32xf32>, tensor<32xf32>) -> tensor<48x32xf32>
  %2 = vrt.norm layer %x bias %b {epsilon = 0.0 : f64} : (tensor<48x32xf32>, tensor<32xf32>) -> tensor<48x32xf32>
  // CHECK: vrt.norm rms %[[X]] scale %[[S]] {epsilon = 9.9999999999999995E-7 : f64} : (tensor<48x32xf32>, tensor<32xf32>) -> tensor<48x32xf32>
  %3 = vrt.norm rms %x scale %s {epsilon = 1.0e-6 : f64} : (tensor<48x32xf32>, tensor<32xf32>) -> tensor<48x32xf32>
  // CHECK: vrt.norm rms %[[H]] {epsilon = 9.9999999999999995E-7 : f64} : (tensor<4x8xbf16>) -> tensor<4x8xbf16>
  %4 = vrt.norm rms %h {epsilon = 1.0e-6 : f64} : (tensor<4x8xbf16>) -> tensor<4x8xbf16>
  // CHECK: vrt.softmax %[[X]] : tensor<48x32xf32> -> tensor<48x32xf32>
  %5 = vrt.softmax %x : tensor<48x32xf32> -> tensor<48x32xf32>
  // CHECK: vrt.softmax %[[H]] {offset = 768 : i64} : tensor<4x8xbf16> -> tensor<4x8xbf16>
  %6 = vrt.softmax %h {offset = 768 : i64} : tensor<4x8xbf16> -> tensor<4x8xbf16>
  return
}

// -----

// CHECK-LABEL: func.func @kernel
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[SH:[a-z0-9]+]]: tensor<1x1x32xf32>, %[[SC:[a-z0-9]+]]: tensor<1x1x32xf32>, %[[I:[a-z0-9]+]]: tensor<2xi64>)
func.func @kernel(%x: tensor<1x48x32xf32>, %shift: tensor<1x1x32xf32>, %scale: tensor<1x1x32xf32>, %i: tensor<2xi64>) -> tensor<1x48x32xf32> {
  // Several inputs, an op body, a yield.
  // CHECK: %[[K0:.*]] = vrt.kernel "k0"(%[[X]], %[[SH]], %[[SC]]) {offset = 0 : i64} : (tensor<1x48x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32> {
  // CHECK-NEXT: ^bb0(%[[A:.*]]: tensor<1x48x32xf32>, %[[B:.*]]: tensor<1x1x32xf32>, %[[C:.*]]: tensor<1x1x32xf32>):
  // CHECK-NEXT:   %[[M:.*]] = dit.modulate %[[A]], %[[B]], %[[C]] : (tensor<1x48x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  // CHECK-NEXT:   %[[G:.*]] = dit.gelu tanh %[[M]] : tensor<1x48x32xf32>
  // CHECK-NEXT:   vrt.yield %[[G]] : tensor<1x48x32xf32>
  // CHECK-NEXT: }
  %0 = vrt.kernel "k0"(%x, %shift, %scale) {offset = 0 : i64} : (tensor<1x48x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32> {
  ^bb0(%a: tensor<1x48x32xf32>, %b: tensor<1x1x32xf32>, %c: tensor<1x1x32xf32>):
    %m = dit.modulate %a, %b, %c : (tensor<1x48x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
    %g = dit.gelu tanh %m : tensor<1x48x32xf32>
    vrt.yield %g : tensor<1x48x32xf32>
  }
  // No inputs: a splat constant.
  // CHECK: vrt.kernel "k1"() : () -> tensor<32xf32> {
  // CHECK-NEXT:   %[[ONE:.*]] = dit.constant dense<1.000000e+00> : tensor<32xf32>
  // CHECK-NEXT:   vrt.yield %[[ONE]] : tensor<32xf32>
  %1 = vrt.kernel "k1"() : () -> tensor<32xf32> {
    %one = dit.constant dense<1.0> : tensor<32xf32>
    vrt.yield %one : tensor<32xf32>
  }
  // Rooted in a reduction (element-wise ops before it).
  // CHECK: vrt.kernel "k2"(%[[K0]]) : (tensor<1x48x32xf32>) -> tensor<1x48x1xf32> {
  // CHECK:   dit.mul
  // CHECK:   %[[R:.*]] = dit.reduce mean %{{.*}} [2] : (tensor<1x48x32xf32>) -> tensor<1x48x1xf32>
  // CHECK-NEXT:   vrt.yield %[[R]] : tensor<1x48x1xf32>
  %2 = vrt.kernel "k2"(%0) : (tensor<1x48x32xf32>) -> tensor<1x48x1xf32> {
  ^bb0(%a: tensor<1x48x32xf32>):
    %sq = dit.mul %a, %a : (tensor<1x48x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
    %r = dit.reduce mean %sq [2] : (tensor<1x48x32xf32>) -> tensor<1x48x1xf32>
    vrt.yield %r : tensor<1x48x1xf32>
  }
  // Index arithmetic and data movement on integers; the yield may return an
  // argument unchanged (a copy).
  // CHECK: vrt.kernel "k3"(%[[I]]) : (tensor<2xi64>) -> tensor<2xi64> {
  // CHECK-NEXT: ^bb0(%[[J:.*]]: tensor<2xi64>):
  // CHECK-NEXT:   vrt.yield %[[J]] : tensor<2xi64>
  %3 = vrt.kernel "k3"(%i) : (tensor<2xi64>) -> tensor<2xi64> {
  ^bb0(%j: tensor<2xi64>):
    vrt.yield %j : tensor<2xi64>
  }
  return %0 : tensor<1x48x32xf32>
}

// -----

// CHECK-LABEL: func.func @view_collectives
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[M:[a-z0-9]+]]: tensor<4x6xi1>)
func.func @view_collectives(%x: tensor<1x48x32xf32>, %m: tensor<4x6xi1>) {
  // CHECK: vrt.view %[[X]] : tensor<1x48x32xf32> -> tensor<1x48x2x16xf32>
  %0 = vrt.view %x : tensor<1x48x32xf32> -> tensor<1x48x2x16xf32>
  // CHECK: vrt.view %[[M]] : tensor<4x6xi1> -> tensor<24xi1>
  %1 = vrt.view %m : tensor<4x6xi1> -> tensor<24xi1>
  // Ulysses: scatter heads, gather the sequence over 2 ranks.
  // CHECK: vrt.all_to_all %{{.*}} {gather_axis = 1 : i64, group_size = 2 : i64, scatter_axis = 2 : i64} : tensor<1x48x2x16xf32> -> tensor<1x96x1x16xf32>
  %2 = vrt.all_to_all %0 {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x2x16xf32> -> tensor<1x96x1x16xf32>
  // The same axis scattered and gathered, an offset.
  // CHECK: vrt.all_to_all %[[X]] {gather_axis = 1 : i64, group_size = 4 : i64, offset = 256 : i64, scatter_axis = 1 : i64} : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  %3 = vrt.all_to_all %x {scatter_axis = 1 : i64, gather_axis = 1 : i64, group_size = 4 : i64, offset = 256 : i64} : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  // CHECK: vrt.all_gather %[[X]] {axis = 1 : i64, group_size = 4 : i64} : tensor<1x48x32xf32> -> tensor<1x192x32xf32>
  %4 = vrt.all_gather %x {axis = 1 : i64, group_size = 4 : i64} : tensor<1x48x32xf32> -> tensor<1x192x32xf32>
  // CHECK: vrt.all_gather %[[M]] {axis = 0 : i64, group_size = 1 : i64, offset = 0 : i64} : tensor<4x6xi1> -> tensor<4x6xi1>
  %5 = vrt.all_gather %m {axis = 0 : i64, group_size = 1 : i64, offset = 0 : i64} : tensor<4x6xi1> -> tensor<4x6xi1>
  // This rank's half of the tokens.
  // CHECK: vrt.shard %[[X]] {axis = 1 : i64, group_size = 2 : i64, offset = 512 : i64} : tensor<1x48x32xf32> -> tensor<1x24x32xf32>
  %6 = vrt.shard %x {axis = 1 : i64, group_size = 2 : i64, offset = 512 : i64} : tensor<1x48x32xf32> -> tensor<1x24x32xf32>
  return
}

// -----

// A planned function: the arena size on the function, offsets on the ops.
// CHECK-LABEL: func.func @planned
// CHECK-SAME: attributes {vrt.arena_bytes = 512 : i64}
func.func @planned(%x: tensor<8x8xf32>) -> tensor<8x8xf32> attributes {vrt.arena_bytes = 512 : i64} {
  // CHECK: vrt.weight "w" : tensor<8x8xf32>
  %w = vrt.weight "w" : tensor<8x8xf32>
  // CHECK: vrt.gemm %{{.*}}, %{{.*}} {offset = 256 : i64} :
  %0 = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<8x8xf32>) -> tensor<8x8xf32> {
  ^bb0(%a: tensor<8x8xf32>):
    vrt.yield %a : tensor<8x8xf32>
  }
  %1 = vrt.gemm %0, %w {offset = 256 : i64} : (tensor<8x8xf32>, tensor<8x8xf32>) -> tensor<8x8xf32>
  return %1 : tensor<8x8xf32>
}

// -----

// Block-sparse attention: two blocks, each listing itself.
// CHECK-LABEL: func.func @block_sparse
// CHECK: vrt.attention %{{.*}}, %{{.*}}, %{{.*}} blocks(%{{.*}}, %{{.*}}, %{{.*}}) {{{.*}}q_layout = #vrt<layout bshd>, scale = 5.000000e-01 : f64}
func.func @block_sparse(%q: tensor<1x8x2x4xf32>) -> tensor<1x8x2x4xf32> {
  %o = vrt.weight "vsa.sparse.0.offsets" : tensor<3xi64> = dense<[0, 4, 8]> : tensor<3xi64>
  %lo = vrt.weight "vsa.sparse.0.list_offsets" : tensor<3xi64> = dense<[0, 1, 2]> : tensor<3xi64>
  %l = vrt.weight "vsa.sparse.0.lists" : tensor<2xi32> = dense<[0, 1]> : tensor<2xi32>
  %0 = vrt.attention %q, %q, %q blocks(%o, %lo, %l) {scale = 0.5 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>} : (tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<1x8x2x4xf32>, tensor<3xi64>, tensor<3xi64>, tensor<2xi32>) -> tensor<1x8x2x4xf32>
  return %0 : tensor<1x8x2x4xf32>
}

// -----

// VSA: run-time lists per (batch, head) feed block-sparse attention.
// CHECK-LABEL: func.func @vsa
// CHECK: %[[LO:.*]], %[[L:.*]] = vrt.vsa_select %{{.*}}, %{{.*}} tiles(%[[T:.*]]) {offsets = array<i64: 0, 256>, scale = 5.000000e-01 : f64, sparsity = 8.750000e-01 : f64} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<3xi64>) -> (tensor<9xi64>, tensor<16xi32>)
// CHECK: vrt.attention %{{.*}}, %{{.*}}, %{{.*}} blocks(%[[T]], %[[LO]], %[[L]])
func.func @vsa(%q: tensor<2x2x8x4xf32>) -> tensor<2x2x8x4xf32> {
  %t = vrt.weight "vsa.sparse.0.offsets" : tensor<3xi64> = dense<[0, 5, 8]> : tensor<3xi64>
  %lo, %l = vrt.vsa_select %q, %q tiles(%t) {scale = 0.5 : f64, sparsity = 0.875 : f64, offsets = array<i64: 0, 256>} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<3xi64>) -> (tensor<9xi64>, tensor<16xi32>)
  %0 = vrt.attention %q, %q, %q blocks(%t, %lo, %l) {scale = 0.5 : f64} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<3xi64>, tensor<9xi64>, tensor<16xi32>) -> tensor<2x2x8x4xf32>
  return %0 : tensor<2x2x8x4xf32>
}

// -----

// Rotating keyframes: two offset tables into one list array.
// CHECK-LABEL: func.func @rotations
// CHECK: vrt.attention {{.*}} blocks({{.*}}) {rotations = 2 : i64, scale = 5.000000e-01 : f64}
func.func @rotations(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  %o = vrt.weight "vsa.sparse.0.offsets" : tensor<3xi64> = dense<[0, 4, 8]> : tensor<3xi64>
  %lo = vrt.weight "vsa.sparse.0.list_offsets" : tensor<6xi64> = dense<[0, 1, 2, 2, 4, 5]> : tensor<6xi64>
  %l = vrt.weight "vsa.sparse.0.lists" : tensor<5xi32> = dense<[0, 1, 0, 1, 1]> : tensor<5xi32>
  %0 = vrt.attention %q, %q, %q blocks(%o, %lo, %l) {scale = 0.5 : f64, rotations = 2 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>, tensor<6xi64>, tensor<5xi32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

// Semantic attention: the output and the kernel's scratch (at least what the
// CPU or the CUDA kernel needs), its centroids at state_offset in the
// persistent state; grouped queries (2 heads, 1 key/value head).
// CHECK-LABEL: func.func @semantic
// CHECK: %{{.*}}, %{{.*}} = vrt.semantic_attention %{{.*}}, %[[K:.*]], %[[K]] clusters(4, 3) {iterations = 50 : i64, kv_layout = #vrt<layout bshd>, min_kept = 1.000000e-01 : f64, offsets = array<i64: 0, 512>, scale = 5.000000e-01 : f64, state_offset = 256 : i64, top_p = 9.000000e-01 : f64, warm_iterations = 2 : i64} : (tensor<2x2x8x4xf32>, tensor<2x8x1x4xf32>, tensor<2x8x1x4xf32>) -> (tensor<2x2x8x4xf32>, tensor<5376xi8>)
func.func @semantic(%q: tensor<2x2x8x4xf32>, %k: tensor<2x8x1x4xf32>) -> tensor<2x2x8x4xf32> {
  %0, %s = vrt.semantic_attention %q, %k, %k clusters(4, 3) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64, kv_layout = #vrt<layout bshd>, offsets = array<i64: 0, 512>, state_offset = 256 : i64} : (tensor<2x2x8x4xf32>, tensor<2x8x1x4xf32>, tensor<2x8x1x4xf32>) -> (tensor<2x2x8x4xf32>, tensor<5376xi8>)
  return %0 : tensor<2x2x8x4xf32>
}

// -----

// Ring attention with its scratch, and a collective of a strided group.
// CHECK-LABEL: func.func @ring
func.func @ring(%q: tensor<1x1x6x4xf32>) -> tensor<1x1x6x4xf32> {
  // CHECK: vrt.ring_attention %{{.*}}, %{{.*}}, %{{.*}} group 2 {group_stride = 2 : i64, offsets = array<i64: 512, 1024>, scale = 5.000000e-01 : f64} : (tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>) -> (tensor<1x1x6x4xf32>, tensor<2048xi8>)
  %o, %s = vrt.ring_attention %q, %q, %q group 2 {group_stride = 2 : i64, offsets = array<i64: 512, 1024>, scale = 5.000000e-01 : f64} : (tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>) -> (tensor<1x1x6x4xf32>, tensor<2048xi8>)
  // CHECK: vrt.all_gather %{{.*}} {axis = 2 : i64, group_size = 2 : i64, group_stride = 2 : i64}
  %g = vrt.all_gather %o {axis = 2 : i64, group_size = 2 : i64, group_stride = 2 : i64} : tensor<1x1x6x4xf32> -> tensor<1x1x12x4xf32>
  return %o : tensor<1x1x6x4xf32>
}

// -----

// A packed all-to-all: q, k and v in one collective.
// CHECK-LABEL: func.func @packed
func.func @packed(%q: tensor<1x2x24x16xf32>) -> tensor<1x1x48x16xf32> {
  // CHECK: %{{.*}}:3 = vrt.all_to_all %{{.*}}, %{{.*}}, %{{.*}} {gather_axis = 2 : i64, group_size = 2 : i64, offsets = array<i64: 0, 256, 512>, scatter_axis = 1 : i64} : tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>
  %0:3 = vrt.all_to_all %q, %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, offsets = array<i64: 0, 256, 512>} : tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>
  return %0#2 : tensor<1x1x48x16xf32>
}

// -----

// CHECK-LABEL: func.func @ulysses
func.func @ulysses(%q: tensor<1x4x6x4xf32>) -> tensor<1x4x6x4xf32> {
  // CHECK: vrt.ulysses_attention %{{.*}}, %{{.*}}, %{{.*}} group 2 chunks 2 {group_stride = 2 : i64, offsets = array<i64: 512, 1024>, scale = 5.000000e-01 : f64} : (tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>) -> (tensor<1x4x6x4xf32>, tensor<2048xi8>)
  %o, %s = vrt.ulysses_attention %q, %q, %q group 2 chunks 2 {group_stride = 2 : i64, offsets = array<i64: 512, 1024>, scale = 5.000000e-01 : f64} : (tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>) -> (tensor<1x4x6x4xf32>, tensor<2048xi8>)
  return %o : tensor<1x4x6x4xf32>
}


// VSA with the gate: the selection also returns the coarse output (bhsd).
// CHECK-LABEL: func.func @vsa_coarse
// CHECK: %{{.*}}, %{{.*}}, %{{.*}} = vrt.vsa_select %{{.*}}, %{{.*}} value %{{.*}} tiles(%{{.*}}) {scale = 5.000000e-01 : f64, sparsity = 8.750000e-01 : f64} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<3xi64>) -> (tensor<9xi64>, tensor<16xi32>, tensor<2x2x8x4xf32>)
func.func @vsa_coarse(%q: tensor<2x2x8x4xf32>, %t: tensor<3xi64>) -> tensor<2x2x8x4xf32> {
  %lo, %l, %c = vrt.vsa_select %q, %q value %q tiles(%t) {scale = 0.5 : f64, sparsity = 0.875 : f64} : (tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<2x2x8x4xf32>, tensor<3xi64>) -> (tensor<9xi64>, tensor<16xi32>, tensor<2x2x8x4xf32>)
  return %c : tensor<2x2x8x4xf32>
}

// A norm with the AdaLN modulation fused (one row per batch entry).
// CHECK-LABEL: func.func @norm_modulate
// CHECK: vrt.norm rms %{{.*}} scale %{{.*}} modulate %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<12x8xf32>, tensor<8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<12x8xf32>
func.func @norm_modulate(%x: tensor<12x8xf32>, %s: tensor<8xf32>, %m: tensor<2x8xf32>) -> tensor<12x8xf32> {
  %0 = vrt.norm rms %x scale %s modulate %m, %m {epsilon = 1.0e-6 : f64} : (tensor<12x8xf32>, tensor<8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<12x8xf32>
  return %0 : tensor<12x8xf32>
}

// Norm then interleaved RoPE, written heads-major.
// CHECK-LABEL: func.func @norm_rope
// CHECK: vrt.norm_rope rms %{{.*}} scale %{{.*}} rope %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64, heads_major} : (tensor<1x6x16xf32>, tensor<16xf32>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<1x2x6x8xf32>
func.func @norm_rope(%x: tensor<1x6x16xf32>, %s: tensor<16xf32>, %t: tensor<6x4xf32>) -> tensor<1x2x6x8xf32> {
  %0 = vrt.norm_rope rms %x scale %s rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x6x16xf32>, tensor<16xf32>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<1x2x6x8xf32>
  return %0 : tensor<1x2x6x8xf32>
}

// -----

// CHECK-LABEL: func.func @fp8_gemm
// CHECK: %[[V:.*]], %[[S:.*]] = vrt.quantize_rows %arg0 {offsets = array<i64: 0, 1536>} : tensor<1x48x32xf32> -> tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>
// CHECK: vrt.scaled_gemm %[[V]], %[[S]], %{{.*}}, %{{.*}} {alpha = 5.000000e-01 : f64, epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
// CHECK: vrt.scaled_gemm %[[V]], %[[S]], %{{.*}} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>) -> tensor<1x48x64xf32>
func.func @fp8_gemm(%x: tensor<1x48x32xf32>) -> (tensor<1x48x64xf32>, tensor<1x48x64xf32>) {
  %w = vrt.weight "up.weight" : tensor<64x32xf32>
  %b = vrt.weight "up.bias" : tensor<64xf32>
  %q, %s = vrt.quantize_rows %x {offsets = array<i64: 0, 1536>} : tensor<1x48x32xf32> -> tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>
  %0 = vrt.scaled_gemm %q, %s, %w, %b {alpha = 0.5 : f64, epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
  %1 = vrt.scaled_gemm %q, %s, %w : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>) -> tensor<1x48x64xf32>
  return %0, %1 : tensor<1x48x64xf32>, tensor<1x48x64xf32>
}

// -----

// CHECK-LABEL: func.func @fp8_fused
// CHECK: %[[V:.*]], %[[S:.*]] = vrt.norm_quantize layer %arg0 modulate %arg1, %arg2 {epsilon = 9.9999999999999995E-7 : f64, offsets = array<i64: 0, 1536>} : (tensor<48x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>)
// CHECK: vrt.scaled_gemm %[[V]], %[[S]], %{{.*}}, %{{.*}} residual %arg3 gate %arg4[64] : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<1x48x32xf32>, tensor<1x6x32xf32>) -> tensor<1x48x32xf32>
// CHECK: vrt.scaled_gemm %[[V]], %[[S]], %{{.*}} residual %arg3 : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<32x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
func.func @fp8_fused(%x: tensor<48x32xf32>, %shift: tensor<1x32xf32>, %scale: tensor<1x32xf32>, %r: tensor<1x48x32xf32>, %mod: tensor<1x6x32xf32>) -> (tensor<1x48x32xf32>, tensor<1x48x32xf32>) {
  %w = vrt.weight "o.weight" : tensor<32x32xf32>
  %b = vrt.weight "o.bias" : tensor<32xf32>
  %q, %s = vrt.norm_quantize layer %x modulate %shift, %scale {epsilon = 1.0e-6 : f64, offsets = array<i64: 0, 1536>} : (tensor<48x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>)
  %0 = vrt.scaled_gemm %q, %s, %w, %b residual %r gate %mod[64] : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<1x48x32xf32>, tensor<1x6x32xf32>) -> tensor<1x48x32xf32>
  %1 = vrt.scaled_gemm %q, %s, %w residual %r : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<32x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  return %0, %1 : tensor<1x48x32xf32>, tensor<1x48x32xf32>
}

// -----

// vrt-quantize-gemm-outputs' ops: a per-tensor norm and an FP8 GEMM that
// writes E4M3 with its scales.
// CHECK-LABEL: func.func @fp8_outputs
// CHECK: %[[V:.*]], %[[S:.*]] = vrt.norm_quantize layer %arg0 modulate %arg1, %arg2 per_tensor {epsilon = 9.9999999999999995E-7 : f64} : (tensor<48x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>)
// CHECK: vrt.scaled_gemm_quantize %[[V]], %[[S]], %{{.*}}, %{{.*}} {alpha = 2.000000e+00 : f64, epilogue = #vrt<epilogue gelu_tanh>, offsets = array<i64: 0, 4096>} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>) -> (tensor<1x48x64xf8E4M3FN>, tensor<1x48xf32>)
// CHECK: vrt.scaled_gemm_quantize %[[V]], %[[S]], %{{.*}} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>) -> (tensor<1x48x64xf8E4M3FN>, tensor<1x48xf32>)
func.func @fp8_outputs(%x: tensor<48x32xf32>, %shift: tensor<1x32xf32>, %scale: tensor<1x32xf32>) -> (tensor<1x48x64xf8E4M3FN>, tensor<1x48x64xf8E4M3FN>) {
  %w = vrt.weight "up.weight" : tensor<64x32xf32>
  %b = vrt.weight "up.bias" : tensor<64xf32>
  %q, %s = vrt.norm_quantize layer %x modulate %shift, %scale per_tensor {epsilon = 1.0e-6 : f64} : (tensor<48x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>)
  %h, %hs = vrt.scaled_gemm_quantize %q, %s, %w, %b {alpha = 2.0 : f64, epilogue = #vrt<epilogue gelu_tanh>, offsets = array<i64: 0, 4096>} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>) -> (tensor<1x48x64xf8E4M3FN>, tensor<1x48xf32>)
  %g, %gs = vrt.scaled_gemm_quantize %q, %s, %w : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>) -> (tensor<1x48x64xf8E4M3FN>, tensor<1x48xf32>)
  return %h, %g : tensor<1x48x64xf8E4M3FN>, tensor<1x48x64xf8E4M3FN>
}

// -----

// CHECK-LABEL: func.func @vsa_pooled
// CHECK: %[[Q:.*]], %[[P:.*]] = vrt.norm_rope rms %arg0 rope %arg1, %arg1 pool %arg2 {epsilon = 9.9999999999999995E-7 : f64, offsets = array<i64: 0, 1536>} : (tensor<1x48x16xf32>, tensor<48x4xf32>, tensor<48x4xf32>, tensor<13xi64>) -> (tensor<1x48x2x8xf32>, tensor<1x2x12x8xf32>)
// CHECK: vrt.vsa_select %[[Q]], %[[Q]] pooled(%[[P]], %[[P]]) tiles(%arg2) {kv_layout = #vrt<layout bshd>, q_layout = #vrt<layout bshd>, scale = 3.500000e-01 : f64, sparsity = 8.750000e-01 : f64} : (tensor<1x48x2x8xf32>, tensor<1x48x2x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<13xi64>) -> (tensor<25xi64>, tensor<288xi32>)
func.func @vsa_pooled(%x: tensor<1x48x16xf32>, %c: tensor<48x4xf32>, %t: tensor<13xi64>) -> (tensor<25xi64>, tensor<288xi32>) {
  %q, %p = vrt.norm_rope rms %x rope %c, %c pool %t {epsilon = 1.0e-6 : f64, offsets = array<i64: 0, 1536>} : (tensor<1x48x16xf32>, tensor<48x4xf32>, tensor<48x4xf32>, tensor<13xi64>) -> (tensor<1x48x2x8xf32>, tensor<1x2x12x8xf32>)
  %lo, %l = vrt.vsa_select %q, %q pooled(%p, %p) tiles(%t) {scale = 0.35 : f64, sparsity = 0.875 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>} : (tensor<1x48x2x8xf32>, tensor<1x48x2x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<13xi64>) -> (tensor<25xi64>, tensor<288xi32>)
  return %lo, %l : tensor<25xi64>, tensor<288xi32>
}
