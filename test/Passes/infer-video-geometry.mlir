// RUN: vsa-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dit-infer-video-geometry))' | FileCheck %s

// A 3-D patch embedding (Wan, HunyuanVideo): 2 x 2 x 2 latent grid, the
// queries hold exactly those 8 tokens.
// CHECK-LABEL: func.func @conv3d
// CHECK: dit.attention {{.*}}geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 0>
func.func @conv3d(%x: tensor<1x4x2x4x4xf32>, %w: tensor<8x4x1x2x2xf32>) -> tensor<1x2x8x4xf32> {
  %p = dit.conv %x, %w {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 2, 2>} : (tensor<1x4x2x4x4xf32>, tensor<8x4x1x2x2xf32>) -> tensor<1x8x2x2x2xf32>
  %t = dit.reshape %p : tensor<1x8x2x2x2xf32> -> tensor<1x8x8xf32>
  %s = dit.transpose %t [0, 2, 1] : tensor<1x8x8xf32> -> tensor<1x8x8xf32>
  %h = dit.reshape %s : tensor<1x8x8xf32> -> tensor<1x8x2x4xf32>
  %q = dit.transpose %h [0, 2, 1, 3] : tensor<1x8x2x4xf32> -> tensor<1x2x8x4xf32>
  %a = dit.attention %q, %q, %q role self {scale = 0.5} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %a : tensor<1x2x8x4xf32>
}

// -----

// A 2-D patch embedding with frames folded into the batch (CogVideoX), and
// 3 text tokens concatenated before the 8 video tokens.
// CHECK-LABEL: func.func @conv2d_text_prefix
// CHECK: dit.attention {{.*}}geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 3, suffix = 0>
func.func @conv2d_text_prefix(%x: tensor<1x2x4x4x4xf32>, %w: tensor<8x4x2x2xf32>, %text: tensor<1x3x8xf32>) -> tensor<1x2x11x4xf32> {
  %f = dit.reshape %x : tensor<1x2x4x4x4xf32> -> tensor<2x4x4x4xf32>
  %p = dit.conv %f, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<2x4x4x4xf32>, tensor<8x4x2x2xf32>) -> tensor<2x8x2x2xf32>
  %t = dit.reshape %p : tensor<2x8x2x2xf32> -> tensor<1x2x8x4xf32>
  %u = dit.transpose %t [0, 1, 3, 2] : tensor<1x2x8x4xf32> -> tensor<1x2x4x8xf32>
  %v = dit.reshape %u : tensor<1x2x4x8xf32> -> tensor<1x8x8xf32>
  %j = dit.concat %text, %v {axis = 1 : i64} : (tensor<1x3x8xf32>, tensor<1x8x8xf32>) -> tensor<1x11x8xf32>
  %wq = dit.param "to_q.weight" : tensor<8x8xf32>
  %qp = dit.matmul %j, %wq : (tensor<1x11x8xf32>, tensor<8x8xf32>) -> tensor<1x11x8xf32>
  %h = dit.reshape %qp : tensor<1x11x8xf32> -> tensor<1x11x2x4xf32>
  %q = dit.transpose %h [0, 2, 1, 3] : tensor<1x11x2x4xf32> -> tensor<1x2x11x4xf32>
  %a = dit.attention %q, %q, %q role self {scale = 0.5} : (tensor<1x2x11x4xf32>, tensor<1x2x11x4xf32>, tensor<1x2x11x4xf32>) -> tensor<1x2x11x4xf32>
  return %a : tensor<1x2x11x4xf32>
}

// -----

// Video tokens first, 3 text tokens after (HunyuanVideo); an attention over
// the text alone (the token refiner) gets no geometry.
// CHECK-LABEL: func.func @suffix_and_text_only
// CHECK: dit.attention {{.*}}geometry = #dit.video<t = 2, h = 2, w = 2, prefix = 0, suffix = 3>
// CHECK: dit.attention
// CHECK-NOT: geometry
// CHECK: return
func.func @suffix_and_text_only(%x: tensor<1x4x2x4x4xf32>, %w: tensor<8x4x1x2x2xf32>, %text: tensor<1x2x3x4xf32>) -> (tensor<1x2x11x4xf32>, tensor<1x2x3x4xf32>) {
  %p = dit.conv %x, %w {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 2, 2>} : (tensor<1x4x2x4x4xf32>, tensor<8x4x1x2x2xf32>) -> tensor<1x8x2x2x2xf32>
  %t = dit.reshape %p : tensor<1x8x2x2x2xf32> -> tensor<1x2x8x4xf32>
  %j = dit.concat %t, %text {axis = 2 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x11x4xf32>
  %a = dit.attention %j, %j, %j role self {scale = 0.5} : (tensor<1x2x11x4xf32>, tensor<1x2x11x4xf32>, tensor<1x2x11x4xf32>) -> tensor<1x2x11x4xf32>
  %b = dit.attention %text, %text, %text role self {scale = 0.5} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
  return %a, %b : tensor<1x2x11x4xf32>, tensor<1x2x3x4xf32>
}

// -----

// A strided convolution with overlapping windows is no patch embedding: no
// geometry is inferred.
// CHECK-LABEL: func.func @not_a_patch_embedding
// CHECK-NOT: geometry
func.func @not_a_patch_embedding(%x: tensor<1x4x2x5x5xf32>, %w: tensor<8x4x1x3x3xf32>) -> tensor<1x2x8x4xf32> {
  %p = dit.conv %x, %w {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 2, 2>} : (tensor<1x4x2x5x5xf32>, tensor<8x4x1x3x3xf32>) -> tensor<1x8x2x2x2xf32>
  %t = dit.reshape %p : tensor<1x8x2x2x2xf32> -> tensor<1x2x8x4xf32>
  %a = dit.attention %t, %t, %t role self {scale = 0.5} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %a : tensor<1x2x8x4xf32>
}
