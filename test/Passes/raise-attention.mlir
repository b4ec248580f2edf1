// RUN: vsa-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dit-raise-attention),canonicalize)' | FileCheck %s

// The dynamo exporter's form: q and kᵀ each scaled, kᵀ written as
// reshape -> transpose -> reshape (no transpose is left). q and k are
// different activations: cross attention.
// CHECK-LABEL: func.func @dynamo_form
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x6x4xf32>, %[[K:.*]]: tensor<1x2x6x4xf32>, %[[V:.*]]: tensor<1x2x6x4xf32>)
// CHECK: %[[A:.*]] = dit.attention %[[Q]], %[[K]], %[[V]] role cross {scale = 1.250000e-01 : f64}
// CHECK-NOT: dit.softmax
// CHECK: return %[[A]]
func.func @dynamo_form(%q: tensor<1x2x6x4xf32>, %k: tensor<1x2x6x4xf32>, %v: tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32> {
  %s = dit.constant dense<0.5> : tensor<1xf32>
  %s2 = dit.constant dense<0.25> : tensor<1xf32>
  %qs = dit.mul %q, %s2 : (tensor<1x2x6x4xf32>, tensor<1xf32>) -> tensor<1x2x6x4xf32>
  %k3 = dit.reshape %k : tensor<1x2x6x4xf32> -> tensor<2x6x4xf32>
  %kt3 = dit.transpose %k3 [0, 2, 1] : tensor<2x6x4xf32> -> tensor<2x4x6xf32>
  %kt = dit.reshape %kt3 : tensor<2x4x6xf32> -> tensor<1x2x4x6xf32>
  %ks = dit.mul %kt, %s : (tensor<1x2x4x6xf32>, tensor<1xf32>) -> tensor<1x2x4x6xf32>
  %sc = dit.matmul %qs, %ks : (tensor<1x2x6x4xf32>, tensor<1x2x4x6xf32>) -> tensor<1x2x6x6xf32>
  %p = dit.softmax %sc {axis = 3 : i64} : tensor<1x2x6x6xf32>
  %o = dit.matmul %p, %v : (tensor<1x2x6x6xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
  return %o : tensor<1x2x6x4xf32>
}

// -----

// kᵀ as a transpose of (B, S, H, D) keys; scale applied to the scores; an
// additive mask; NaN rows zeroed after softmax (HunyuanVideo).
// CHECK-LABEL: func.func @masked
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x6x4xf32>, %[[K:.*]]: tensor<1x6x2x4xf32>, %[[V:.*]]: tensor<1x2x6x4xf32>, %[[M:.*]]: tensor<1x1x1x6xf32>)
// CHECK: %[[KT:.*]] = dit.transpose %[[K]] [0, 2, 1, 3] : tensor<1x6x2x4xf32> -> tensor<1x2x6x4xf32>
// CHECK: dit.attention %[[Q]], %[[KT]], %[[V]] mask %[[M]] role cross {scale = 1.250000e-01 : f64}
// CHECK-NOT: dit.isnan
func.func @masked(%q: tensor<1x2x6x4xf32>, %k: tensor<1x6x2x4xf32>, %v: tensor<1x2x6x4xf32>, %m: tensor<1x1x1x6xf32>) -> tensor<1x2x6x4xf32> {
  %s = dit.constant dense<0.125> : tensor<f32>
  %zero = dit.constant dense<0.0> : tensor<f32>
  %kt = dit.transpose %k [0, 2, 3, 1] : tensor<1x6x2x4xf32> -> tensor<1x2x4x6xf32>
  %sc = dit.matmul %q, %kt : (tensor<1x2x6x4xf32>, tensor<1x2x4x6xf32>) -> tensor<1x2x6x6xf32>
  %ss = dit.mul %sc, %s : (tensor<1x2x6x6xf32>, tensor<f32>) -> tensor<1x2x6x6xf32>
  %sm = dit.add %ss, %m : (tensor<1x2x6x6xf32>, tensor<1x1x1x6xf32>) -> tensor<1x2x6x6xf32>
  %p = dit.softmax %sm {axis = 3 : i64} : tensor<1x2x6x6xf32>
  %nan = dit.isnan %p : (tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xi1>
  %pz = dit.where %nan, %zero, %p : (tensor<1x2x6x6xi1>, tensor<f32>, tensor<1x2x6x6xf32>) -> tensor<1x2x6x6xf32>
  %o = dit.matmul %pz, %v : (tensor<1x2x6x6xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
  return %o : tensor<1x2x6x4xf32>
}

// -----

// Roles: queries and keys projected from the same activations are self
// attention, keys projected from other activations are cross attention.
// CHECK-LABEL: func.func @roles
// CHECK: dit.attention {{.*}} role self
// CHECK: dit.attention {{.*}} role cross
func.func @roles(%x: tensor<1x6x8xf32>, %ctx: tensor<1x3x8xf32>) -> (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>) {
  %wq = dit.param "to_q.weight" : tensor<8x8xf32>
  %wk = dit.param "to_k.weight" : tensor<8x8xf32>
  %q2 = dit.matmul %x, %wq : (tensor<1x6x8xf32>, tensor<8x8xf32>) -> tensor<1x6x8xf32>
  %k2 = dit.matmul %x, %wk : (tensor<1x6x8xf32>, tensor<8x8xf32>) -> tensor<1x6x8xf32>
  %c2 = dit.matmul %ctx, %wk : (tensor<1x3x8xf32>, tensor<8x8xf32>) -> tensor<1x3x8xf32>
  %q4 = dit.reshape %q2 : tensor<1x6x8xf32> -> tensor<1x6x2x4xf32>
  %k4 = dit.reshape %k2 : tensor<1x6x8xf32> -> tensor<1x6x2x4xf32>
  %c4 = dit.reshape %c2 : tensor<1x3x8xf32> -> tensor<1x3x2x4xf32>
  %q = dit.transpose %q4 [0, 2, 1, 3] : tensor<1x6x2x4xf32> -> tensor<1x2x6x4xf32>
  %k = dit.transpose %k4 [0, 2, 1, 3] : tensor<1x6x2x4xf32> -> tensor<1x2x6x4xf32>
  %c = dit.transpose %c4 [0, 2, 1, 3] : tensor<1x3x2x4xf32> -> tensor<1x2x3x4xf32>
  %a = dit.attention %q, %k, %k {scale = 0.5} : (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
  %b = dit.attention %q, %c, %c {scale = 0.5} : (tensor<1x2x6x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x6x4xf32>
  return %a, %b : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>
}

// -----

// An attention that already has a role keeps it.
// CHECK-LABEL: func.func @keeps_role
// CHECK: dit.attention {{.*}} role cross
func.func @keeps_role(%q: tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32> {
  %a = dit.attention %q, %q, %q role cross {scale = 0.5} : (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
  return %a : tensor<1x2x6x4xf32>
}

// -----

// Not attention: softmax over another axis is left alone.
// CHECK-LABEL: func.func @softmax_other_axis
// CHECK-NOT: dit.attention
// CHECK: dit.softmax
func.func @softmax_other_axis(%q: tensor<1x2x6x4xf32>, %kt: tensor<1x2x4x6xf32>, %v: tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32> {
  %sc = dit.matmul %q, %kt : (tensor<1x2x6x4xf32>, tensor<1x2x4x6xf32>) -> tensor<1x2x6x6xf32>
  %p = dit.softmax %sc {axis = 2 : i64} : tensor<1x2x6x6xf32>
  %o = dit.matmul %p, %v : (tensor<1x2x6x6xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
  return %o : tensor<1x2x6x4xf32>
}

// -----

// Keys that are no permutation of a (B, H, S, D) ancestor: attention over an
// explicit transpose of kᵀ.
// CHECK-LABEL: func.func @keys_not_a_view
// CHECK-SAME: (%[[Q:.*]]: tensor<1x2x6x4xf32>, %[[K:.*]]: tensor<1x4x12xf32>, %[[V:.*]]: tensor<1x2x6x4xf32>)
// CHECK: %[[KT:.*]] = dit.reshape %[[K]]
// CHECK: %[[KK:.*]] = dit.transpose %[[KT]] [0, 1, 3, 2]
// CHECK: dit.attention %[[Q]], %[[KK]], %[[V]] role cross {scale = 1.000000e+00 : f64}
// CHECK-NOT: dit.softmax
func.func @keys_not_a_view(%q: tensor<1x2x6x4xf32>, %k: tensor<1x4x12xf32>, %v: tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32> {
  %kt = dit.reshape %k : tensor<1x4x12xf32> -> tensor<1x2x4x6xf32>
  %sc = dit.matmul %q, %kt : (tensor<1x2x6x4xf32>, tensor<1x2x4x6xf32>) -> tensor<1x2x6x6xf32>
  %p = dit.softmax %sc {axis = 3 : i64} : tensor<1x2x6x6xf32>
  %o = dit.matmul %p, %v : (tensor<1x2x6x6xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
  return %o : tensor<1x2x6x4xf32>
}

// -----

// Not attention: the probabilities have another use, so the chain must stay.
// CHECK-LABEL: func.func @probs_escape
// CHECK: dit.softmax
// CHECK: dit.matmul
func.func @probs_escape(%q: tensor<1x2x6x4xf32>, %kt: tensor<1x2x4x6xf32>, %v: tensor<1x2x6x4xf32>) -> (tensor<1x2x6x4xf32>, tensor<1x2x6x6xf32>) {
  %sc = dit.matmul %q, %kt : (tensor<1x2x6x4xf32>, tensor<1x2x4x6xf32>) -> tensor<1x2x6x6xf32>
  %p = dit.softmax %sc {axis = 3 : i64} : tensor<1x2x6x6xf32>
  %o = dit.matmul %p, %v : (tensor<1x2x6x6xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
  return %o, %p : tensor<1x2x6x4xf32>, tensor<1x2x6x6xf32>
}
