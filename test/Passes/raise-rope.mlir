// RUN: vsa-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dit-raise-rope),canonicalize)' | FileCheck %s

// Wan's interleaved RoPE as the dynamo exporter writes it (q (B, S, H·D)
// split into lanes of (B, S, H, D/2, 2), rows written back by ScatterND into
// (D, S, H, B), transposed to (B, H, S, D) for attention).
// CHECK-LABEL: func.func @wan_form
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x4x16xf32>, %[[COS:[a-z0-9]+]]: tensor<1x4x1x4xf32>, %[[SIN:[a-z0-9]+]]: tensor<1x4x1x4xf32>
// CHECK: %[[X:.*]] = dit.reshape %[[Q]] : tensor<1x4x16xf32> -> tensor<1x4x2x8xf32>
// CHECK: %[[R:.*]] = dit.rope %[[X]], %[[COS]], %[[SIN]] {interleaved} : (tensor<1x4x2x8xf32>, tensor<1x4x1x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x8xf32>
// CHECK: %[[T:.*]] = dit.transpose %[[R]] [0, 2, 1, 3] : tensor<1x4x2x8xf32> -> tensor<1x2x4x8xf32>
// CHECK-NOT: dit.scatter_nd
// CHECK: return %[[T]]
func.func @wan_form(%q: tensor<1x4x16xf32>, %cos: tensor<1x4x1x4xf32>, %sin: tensor<1x4x1x4xf32>, %base: tensor<8x4x2x1xf32>) -> tensor<1x2x4x8xf32> {
  %even = dit.constant dense<[[0], [2], [4], [6]]> : tensor<4x1xi64>
  %odd = dit.constant dense<[[1], [3], [5], [7]]> : tensor<4x1xi64>
  %x = dit.reshape %q : tensor<1x4x16xf32> -> tensor<1x4x2x4x2xf32>
  %s0 = dit.slice %x offsets [0, 0, 0, 0, 0] strides [1, 1, 1, 1, 1] : tensor<1x4x2x4x2xf32> -> tensor<1x4x2x4x1xf32>
  %s1 = dit.slice %x offsets [0, 0, 0, 0, 1] strides [1, 1, 1, 1, 1] : tensor<1x4x2x4x2xf32> -> tensor<1x4x2x4x1xf32>
  %x1 = dit.reshape %s0 : tensor<1x4x2x4x1xf32> -> tensor<1x4x2x4xf32>
  %x2 = dit.reshape %s1 : tensor<1x4x2x4x1xf32> -> tensor<1x4x2x4xf32>
  %a = dit.mul %x1, %cos : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %b = dit.mul %x1, %sin : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %c = dit.mul %x2, %sin : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %d = dit.mul %x2, %cos : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %e = dit.sub %a, %c : (tensor<1x4x2x4xf32>, tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>
  %o = dit.add %b, %d : (tensor<1x4x2x4xf32>, tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>
  %et = dit.transpose %e [3, 1, 2, 0] : tensor<1x4x2x4xf32> -> tensor<4x4x2x1xf32>
  %ot = dit.transpose %o [3, 1, 2, 0] : tensor<1x4x2x4xf32> -> tensor<4x4x2x1xf32>
  %w0 = dit.scatter_nd %base[%even], %et : (tensor<8x4x2x1xf32>, tensor<4x1xi64>, tensor<4x4x2x1xf32>) -> tensor<8x4x2x1xf32>
  %w1 = dit.scatter_nd %w0[%odd], %ot : (tensor<8x4x2x1xf32>, tensor<4x1xi64>, tensor<4x4x2x1xf32>) -> tensor<8x4x2x1xf32>
  %r = dit.transpose %w1 [3, 2, 1, 0] : tensor<8x4x2x1xf32> -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// -----

// TorchScript: stride-2 slices, full-coordinate index tables, no transpose;
// the scatters in either order, products and sum in any operand order.
// CHECK-LABEL: func.func @torchscript_form
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x2x2x4xf32>, %[[COS:[a-z0-9]+]]: tensor<1x2x1x2xf32>, %[[SIN:[a-z0-9]+]]: tensor<1x2x1x2xf32>
// CHECK: %[[R:.*]] = dit.rope %[[X]], %[[COS]], %[[SIN]] {interleaved}
// CHECK-NOT: dit.scatter_nd
// CHECK: return %[[R]]
func.func @torchscript_form(%x: tensor<1x2x2x4xf32>, %cos: tensor<1x2x1x2xf32>, %sin: tensor<1x2x1x2xf32>, %base: tensor<1x2x2x4xf32>) -> tensor<1x2x2x4xf32> {
  %even = dit.constant dense<[[[[[0, 0, 0, 0], [0, 0, 0, 2]], [[0, 0, 1, 0], [0, 0, 1, 2]]], [[[0, 1, 0, 0], [0, 1, 0, 2]], [[0, 1, 1, 0], [0, 1, 1, 2]]]]]> : tensor<1x2x2x2x4xi64>
  %odd = dit.constant dense<[[[[[0, 0, 0, 1], [0, 0, 0, 3]], [[0, 0, 1, 1], [0, 0, 1, 3]]], [[[0, 1, 0, 1], [0, 1, 0, 3]], [[0, 1, 1, 1], [0, 1, 1, 3]]]]]> : tensor<1x2x2x2x4xi64>
  %x1 = dit.slice %x offsets [0, 0, 0, 0] strides [1, 1, 1, 2] : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %x2 = dit.slice %x offsets [0, 0, 0, 1] strides [1, 1, 1, 2] : tensor<1x2x2x4xf32> -> tensor<1x2x2x2xf32>
  %a = dit.mul %cos, %x1 : (tensor<1x2x1x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %b = dit.mul %x1, %sin : (tensor<1x2x2x2xf32>, tensor<1x2x1x2xf32>) -> tensor<1x2x2x2xf32>
  %c = dit.mul %x2, %sin : (tensor<1x2x2x2xf32>, tensor<1x2x1x2xf32>) -> tensor<1x2x2x2xf32>
  %d = dit.mul %x2, %cos : (tensor<1x2x2x2xf32>, tensor<1x2x1x2xf32>) -> tensor<1x2x2x2xf32>
  %e = dit.sub %a, %c : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %o = dit.add %d, %b : (tensor<1x2x2x2xf32>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x2xf32>
  %w0 = dit.scatter_nd %base[%odd], %o : (tensor<1x2x2x4xf32>, tensor<1x2x2x2x4xi64>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  %w1 = dit.scatter_nd %w0[%even], %e : (tensor<1x2x2x4xf32>, tensor<1x2x2x2x4xi64>, tensor<1x2x2x2xf32>) -> tensor<1x2x2x4xf32>
  return %w1 : tensor<1x2x2x4xf32>
}

// -----

// Rotate-half positions (0..3, 4..7) are not the interleave: untouched.
// CHECK-LABEL: func.func @wrong_index_table
// CHECK-NOT: dit.rope
// CHECK-COUNT-2: dit.scatter_nd
func.func @wrong_index_table(%q: tensor<1x4x16xf32>, %cos: tensor<1x4x1x4xf32>, %sin: tensor<1x4x1x4xf32>, %base: tensor<8x4x2x1xf32>) -> tensor<1x2x4x8xf32> {
  %even = dit.constant dense<[[0], [1], [2], [3]]> : tensor<4x1xi64>
  %odd = dit.constant dense<[[4], [5], [6], [7]]> : tensor<4x1xi64>
  %x = dit.reshape %q : tensor<1x4x16xf32> -> tensor<1x4x2x4x2xf32>
  %s0 = dit.slice %x offsets [0, 0, 0, 0, 0] strides [1, 1, 1, 1, 1] : tensor<1x4x2x4x2xf32> -> tensor<1x4x2x4x1xf32>
  %s1 = dit.slice %x offsets [0, 0, 0, 0, 1] strides [1, 1, 1, 1, 1] : tensor<1x4x2x4x2xf32> -> tensor<1x4x2x4x1xf32>
  %x1 = dit.reshape %s0 : tensor<1x4x2x4x1xf32> -> tensor<1x4x2x4xf32>
  %x2 = dit.reshape %s1 : tensor<1x4x2x4x1xf32> -> tensor<1x4x2x4xf32>
  %a = dit.mul %x1, %cos : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %b = dit.mul %x1, %sin : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %c = dit.mul %x2, %sin : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %d = dit.mul %x2, %cos : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %e = dit.sub %a, %c : (tensor<1x4x2x4xf32>, tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>
  %o = dit.add %b, %d : (tensor<1x4x2x4xf32>, tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>
  %et = dit.transpose %e [3, 1, 2, 0] : tensor<1x4x2x4xf32> -> tensor<4x4x2x1xf32>
  %ot = dit.transpose %o [3, 1, 2, 0] : tensor<1x4x2x4xf32> -> tensor<4x4x2x1xf32>
  %w0 = dit.scatter_nd %base[%even], %et : (tensor<8x4x2x1xf32>, tensor<4x1xi64>, tensor<4x4x2x1xf32>) -> tensor<8x4x2x1xf32>
  %w1 = dit.scatter_nd %w0[%odd], %ot : (tensor<8x4x2x1xf32>, tensor<4x1xi64>, tensor<4x4x2x1xf32>) -> tensor<8x4x2x1xf32>
  %r = dit.transpose %w1 [3, 2, 1, 0] : tensor<8x4x2x1xf32> -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// -----

// x1·cos + x2·sin and x1·sin − x2·cos rotate the other way: untouched.
// CHECK-LABEL: func.func @swapped_signs
// CHECK-NOT: dit.rope
// CHECK-COUNT-2: dit.scatter_nd
func.func @swapped_signs(%q: tensor<1x4x16xf32>, %cos: tensor<1x4x1x4xf32>, %sin: tensor<1x4x1x4xf32>, %base: tensor<8x4x2x1xf32>) -> tensor<1x2x4x8xf32> {
  %even = dit.constant dense<[[0], [2], [4], [6]]> : tensor<4x1xi64>
  %odd = dit.constant dense<[[1], [3], [5], [7]]> : tensor<4x1xi64>
  %x = dit.reshape %q : tensor<1x4x16xf32> -> tensor<1x4x2x4x2xf32>
  %s0 = dit.slice %x offsets [0, 0, 0, 0, 0] strides [1, 1, 1, 1, 1] : tensor<1x4x2x4x2xf32> -> tensor<1x4x2x4x1xf32>
  %s1 = dit.slice %x offsets [0, 0, 0, 0, 1] strides [1, 1, 1, 1, 1] : tensor<1x4x2x4x2xf32> -> tensor<1x4x2x4x1xf32>
  %x1 = dit.reshape %s0 : tensor<1x4x2x4x1xf32> -> tensor<1x4x2x4xf32>
  %x2 = dit.reshape %s1 : tensor<1x4x2x4x1xf32> -> tensor<1x4x2x4xf32>
  %a = dit.mul %x1, %cos : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %b = dit.mul %x1, %sin : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %c = dit.mul %x2, %sin : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %d = dit.mul %x2, %cos : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %e = dit.add %a, %c : (tensor<1x4x2x4xf32>, tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>
  %o = dit.sub %b, %d : (tensor<1x4x2x4xf32>, tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>
  %et = dit.transpose %e [3, 1, 2, 0] : tensor<1x4x2x4xf32> -> tensor<4x4x2x1xf32>
  %ot = dit.transpose %o [3, 1, 2, 0] : tensor<1x4x2x4xf32> -> tensor<4x4x2x1xf32>
  %w0 = dit.scatter_nd %base[%even], %et : (tensor<8x4x2x1xf32>, tensor<4x1xi64>, tensor<4x4x2x1xf32>) -> tensor<8x4x2x1xf32>
  %w1 = dit.scatter_nd %w0[%odd], %ot : (tensor<8x4x2x1xf32>, tensor<4x1xi64>, tensor<4x4x2x1xf32>) -> tensor<8x4x2x1xf32>
  %r = dit.transpose %w1 [3, 2, 1, 0] : tensor<8x4x2x1xf32> -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}

// -----

// Only even lanes (both tables address 0, 2, 4, 6): untouched.
// CHECK-LABEL: func.func @even_twice
// CHECK-NOT: dit.rope
// CHECK-COUNT-2: dit.scatter_nd
func.func @even_twice(%q: tensor<1x4x16xf32>, %cos: tensor<1x4x1x4xf32>, %sin: tensor<1x4x1x4xf32>, %base: tensor<8x4x2x1xf32>) -> tensor<1x2x4x8xf32> {
  %even = dit.constant dense<[[0], [2], [4], [6]]> : tensor<4x1xi64>
  %odd = dit.constant dense<[[0], [2], [4], [6]]> : tensor<4x1xi64>
  %x = dit.reshape %q : tensor<1x4x16xf32> -> tensor<1x4x2x4x2xf32>
  %s0 = dit.slice %x offsets [0, 0, 0, 0, 0] strides [1, 1, 1, 1, 1] : tensor<1x4x2x4x2xf32> -> tensor<1x4x2x4x1xf32>
  %s1 = dit.slice %x offsets [0, 0, 0, 0, 1] strides [1, 1, 1, 1, 1] : tensor<1x4x2x4x2xf32> -> tensor<1x4x2x4x1xf32>
  %x1 = dit.reshape %s0 : tensor<1x4x2x4x1xf32> -> tensor<1x4x2x4xf32>
  %x2 = dit.reshape %s1 : tensor<1x4x2x4x1xf32> -> tensor<1x4x2x4xf32>
  %a = dit.mul %x1, %cos : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %b = dit.mul %x1, %sin : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %c = dit.mul %x2, %sin : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %d = dit.mul %x2, %cos : (tensor<1x4x2x4xf32>, tensor<1x4x1x4xf32>) -> tensor<1x4x2x4xf32>
  %e = dit.sub %a, %c : (tensor<1x4x2x4xf32>, tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>
  %o = dit.add %b, %d : (tensor<1x4x2x4xf32>, tensor<1x4x2x4xf32>) -> tensor<1x4x2x4xf32>
  %et = dit.transpose %e [3, 1, 2, 0] : tensor<1x4x2x4xf32> -> tensor<4x4x2x1xf32>
  %ot = dit.transpose %o [3, 1, 2, 0] : tensor<1x4x2x4xf32> -> tensor<4x4x2x1xf32>
  %w0 = dit.scatter_nd %base[%even], %et : (tensor<8x4x2x1xf32>, tensor<4x1xi64>, tensor<4x4x2x1xf32>) -> tensor<8x4x2x1xf32>
  %w1 = dit.scatter_nd %w0[%odd], %ot : (tensor<8x4x2x1xf32>, tensor<4x1xi64>, tensor<4x4x2x1xf32>) -> tensor<8x4x2x1xf32>
  %r = dit.transpose %w1 [3, 2, 1, 0] : tensor<8x4x2x1xf32> -> tensor<1x2x4x8xf32>
  return %r : tensor<1x2x4x8xf32>
}
