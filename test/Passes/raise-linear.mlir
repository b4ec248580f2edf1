// RUN: vsa-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dit-raise-linear),canonicalize)' | FileCheck %s

// nn.Linear on a 3-D input (dynamo): MatMul with the W^T param, then Add of
// the bias.
// CHECK-LABEL: func.func @matmul_add
// CHECK-SAME: (%[[X:.*]]: tensor<1x6x8xf32>)
// CHECK-DAG: %[[W:.*]] = dit.param "to_q.weight"
// CHECK-DAG: %[[B:.*]] = dit.param "to_q.bias"
// CHECK: %[[Y:.*]] = dit.linear %[[X]], %[[W]], %[[B]] : (tensor<1x6x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<1x6x4xf32>
// CHECK-NOT: dit.matmul
// CHECK-NOT: dit.add
// CHECK: return %[[Y]]
func.func @matmul_add(%x: tensor<1x6x8xf32>) -> tensor<1x6x4xf32> {
  %w = dit.param "to_q.weight" {perm = array<i64: 1, 0>, source = "val_12"} : tensor<8x4xf32>
  %b = dit.param "to_q.bias" : tensor<4xf32>
  %0 = dit.matmul %x, %w : (tensor<1x6x8xf32>, tensor<8x4xf32>) -> tensor<1x6x4xf32>
  %1 = dit.add %0, %b : (tensor<1x6x4xf32>, tensor<4xf32>) -> tensor<1x6x4xf32>
  return %1 : tensor<1x6x4xf32>
}

// -----

// TorchScript writes the bias first; a (1, N) bias becomes an (N) vector.
// CHECK-LABEL: func.func @bias_first
// CHECK-SAME: (%[[X:.*]]: tensor<6x8xf32>)
// CHECK: %[[B:.*]] = dit.reshape %{{.*}} : tensor<1x4xf32> -> tensor<4xf32>
// CHECK: dit.linear %[[X]], %{{.*}}, %[[B]] : (tensor<6x8xf32>, tensor<8x4xf32>, tensor<4xf32>) -> tensor<6x4xf32>
// CHECK-NOT: dit.add
func.func @bias_first(%x: tensor<6x8xf32>) -> tensor<6x4xf32> {
  %w = dit.param "proj.weight" : tensor<8x4xf32>
  %b = dit.param "proj.bias" : tensor<1x4xf32>
  %0 = dit.matmul %x, %w : (tensor<6x8xf32>, tensor<8x4xf32>) -> tensor<6x4xf32>
  %1 = dit.add %b, %0 : (tensor<1x4xf32>, tensor<6x4xf32>) -> tensor<6x4xf32>
  return %1 : tensor<6x4xf32>
}

// -----

// No bias; the weight reached through a reshape of a param.
// CHECK-LABEL: func.func @matmul_only
// CHECK: %[[W:.*]] = dit.reshape
// CHECK: dit.linear %{{.*}}, %[[W]] : (tensor<2x3x8xf32>, tensor<8x4xf32>) -> tensor<2x3x4xf32>
func.func @matmul_only(%x: tensor<2x3x8xf32>) -> tensor<2x3x4xf32> {
  %p = dit.param "w" : tensor<32xf32>
  %w = dit.reshape %p : tensor<32xf32> -> tensor<8x4xf32>
  %0 = dit.matmul %x, %w : (tensor<2x3x8xf32>, tensor<8x4xf32>) -> tensor<2x3x4xf32>
  return %0 : tensor<2x3x4xf32>
}

// -----

// Gemm with trans_b (the dynamo form on 2-D inputs): the (N, K) param gets
// an explicit transpose.
// CHECK-LABEL: func.func @gemm_trans_b
// CHECK-SAME: (%[[X:.*]]: tensor<1x8xf32>)
// CHECK-DAG: %[[W:.*]] = dit.param "linear_1.weight" : tensor<16x8xf32>
// CHECK-DAG: %[[B:.*]] = dit.param "linear_1.bias"
// CHECK: %[[T:.*]] = dit.transpose %[[W]] [1, 0] : tensor<16x8xf32> -> tensor<8x16xf32>
// CHECK: dit.linear %[[X]], %[[T]], %[[B]] : (tensor<1x8xf32>, tensor<8x16xf32>, tensor<16xf32>) -> tensor<1x16xf32>
// CHECK-NOT: dit.gemm
func.func @gemm_trans_b(%x: tensor<1x8xf32>) -> tensor<1x16xf32> {
  %w = dit.param "linear_1.weight" : tensor<16x8xf32>
  %b = dit.param "linear_1.bias" : tensor<16xf32>
  %0 = dit.gemm %x, %w, %b {trans_b = true} : (tensor<1x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<1x16xf32>
  return %0 : tensor<1x16xf32>
}

// -----

// Gemm without C and without transposes.
// CHECK-LABEL: func.func @gemm_plain
// CHECK: dit.linear %{{.*}}, %{{.*}} : (tensor<3x8xf32>, tensor<8x16xf32>) -> tensor<3x16xf32>
func.func @gemm_plain(%x: tensor<3x8xf32>) -> tensor<3x16xf32> {
  %w = dit.param "w" : tensor<8x16xf32>
  %0 = dit.gemm %x, %w : (tensor<3x8xf32>, tensor<8x16xf32>) -> tensor<3x16xf32>
  return %0 : tensor<3x16xf32>
}

// -----

// Activation x activation (attention's q·kᵀ) stays a matmul.
// CHECK-LABEL: func.func @activations
// CHECK: dit.matmul
// CHECK-NOT: dit.linear
func.func @activations(%q: tensor<1x2x6x8xf32>, %kt: tensor<8x6xf32>) -> tensor<1x2x6x6xf32> {
  %0 = dit.matmul %q, %kt : (tensor<1x2x6x8xf32>, tensor<8x6xf32>) -> tensor<1x2x6x6xf32>
  return %0 : tensor<1x2x6x6xf32>
}

// -----

// A param on the left (W @ x) is not a linear, nor a 3-D (batched) weight.
// CHECK-LABEL: func.func @weight_left_or_batched
// CHECK-COUNT-2: dit.matmul
// CHECK-NOT: dit.linear
func.func @weight_left_or_batched(%x: tensor<8x6xf32>, %y: tensor<2x6x8xf32>) -> (tensor<4x6xf32>, tensor<2x6x4xf32>) {
  %w = dit.param "w" : tensor<4x8xf32>
  %w3 = dit.param "w3" : tensor<2x8x4xf32>
  %0 = dit.matmul %w, %x : (tensor<4x8xf32>, tensor<8x6xf32>) -> tensor<4x6xf32>
  %1 = dit.matmul %y, %w3 : (tensor<2x6x8xf32>, tensor<2x8x4xf32>) -> tensor<2x6x4xf32>
  return %0, %1 : tensor<4x6xf32>, tensor<2x6x4xf32>
}

// -----

// Biases of the wrong shape (per token, full), or an activation, stay adds
// after a bias-free linear.
// CHECK-LABEL: func.func @bias_wrong_shape
// CHECK: %[[L0:.*]] = dit.linear %{{[^,]*}}, %{{[^,]*}} : (tensor<1x6x8xf32>, tensor<8x4xf32>) -> tensor<1x6x4xf32>
// CHECK-NEXT: dit.add %[[L0]]
// CHECK-NEXT: %[[L1:.*]] = dit.linear %{{[^,]*}}, %{{[^,]*}} : (tensor<1x6x8xf32>, tensor<8x4xf32>) -> tensor<1x6x4xf32>
// CHECK-NEXT: dit.add %{{.*}}, %[[L1]]
// CHECK-NEXT: %[[L2:.*]] = dit.linear %{{[^,]*}}, %{{[^,]*}} : (tensor<1x6x8xf32>, tensor<8x4xf32>) -> tensor<1x6x4xf32>
// CHECK-NEXT: dit.add %[[L2]]
func.func @bias_wrong_shape(%x: tensor<1x6x8xf32>, %r: tensor<4xf32>) -> (tensor<1x6x4xf32>, tensor<1x6x4xf32>, tensor<1x6x4xf32>) {
  %w = dit.param "w" : tensor<8x4xf32>
  %col = dit.param "b_col" : tensor<1x6x1xf32>
  %full = dit.param "b_full" : tensor<1x6x4xf32>
  %0 = dit.matmul %x, %w : (tensor<1x6x8xf32>, tensor<8x4xf32>) -> tensor<1x6x4xf32>
  %1 = dit.add %0, %col : (tensor<1x6x4xf32>, tensor<1x6x1xf32>) -> tensor<1x6x4xf32>
  %2 = dit.matmul %x, %w : (tensor<1x6x8xf32>, tensor<8x4xf32>) -> tensor<1x6x4xf32>
  %3 = dit.add %full, %2 : (tensor<1x6x4xf32>, tensor<1x6x4xf32>) -> tensor<1x6x4xf32>
  %4 = dit.matmul %x, %w : (tensor<1x6x8xf32>, tensor<8x4xf32>) -> tensor<1x6x4xf32>
  %5 = dit.add %4, %r : (tensor<1x6x4xf32>, tensor<4xf32>) -> tensor<1x6x4xf32>
  return %1, %3, %5 : tensor<1x6x4xf32>, tensor<1x6x4xf32>, tensor<1x6x4xf32>
}

// -----

// The product is also used without the bias: the bias stays an add.
// CHECK-LABEL: func.func @product_used_twice
// CHECK: %[[L:.*]] = dit.linear %{{[^,]*}}, %{{[^,]*}} : (tensor<6x8xf32>, tensor<8x4xf32>) -> tensor<6x4xf32>
// CHECK: dit.add %[[L]]
func.func @product_used_twice(%x: tensor<6x8xf32>) -> (tensor<6x4xf32>, tensor<6x4xf32>) {
  %w = dit.param "w" : tensor<8x4xf32>
  %b = dit.param "b" : tensor<4xf32>
  %0 = dit.matmul %x, %w : (tensor<6x8xf32>, tensor<8x4xf32>) -> tensor<6x4xf32>
  %1 = dit.add %0, %b : (tensor<6x4xf32>, tensor<4xf32>) -> tensor<6x4xf32>
  return %0, %1 : tensor<6x4xf32>, tensor<6x4xf32>
}

// -----

// Gemms that are not linears: alpha != 1, beta != 1, trans_a, an activation
// as B, a (M, N) C.
// CHECK-LABEL: func.func @gemm_not_linear
// CHECK-COUNT-5: dit.gemm
// CHECK-NOT: dit.linear
func.func @gemm_not_linear(%x: tensor<4x8xf32>, %xt: tensor<8x4xf32>, %act: tensor<16x8xf32>) -> (tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>) {
  %w = dit.param "w" : tensor<16x8xf32>
  %b = dit.param "b" : tensor<16xf32>
  %c = dit.param "c" : tensor<4x16xf32>
  %0 = dit.gemm %x, %w, %b {alpha = 2.0 : f64, trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = dit.gemm %x, %w, %b {beta = 0.5 : f64, trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %2 = dit.gemm %xt, %w, %b {trans_a = true, trans_b = true} : (tensor<8x4xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %3 = dit.gemm %x, %act, %b {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %4 = dit.gemm %x, %w, %c {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<4x16xf32>) -> tensor<4x16xf32>
  return %0, %1, %2, %3, %4 : tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>, tensor<4x16xf32>
}
