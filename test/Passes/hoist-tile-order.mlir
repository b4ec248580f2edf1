// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-hoist-tile-order))' | FileCheck %s --enable-var-scope

// A two-block stream: patch tokens (B, C, T, H, W) -> (B, S, C), a linear,
// RoPE with token-indexed tables, two sliding-tile self-attentions and a
// residual, then the un-patchify. One permutation after the patch reshape
// (and one per RoPE table), one inverse before the un-patchify; the
// attentions are marked tile_ordered. Grid 2 x 2 x 3, tiles 1 x 2 x 2.
// CHECK-LABEL: func.func @stream
// CHECK-DAG: %[[ORD:.*]] = dit.constant {vsa.weight_name = "vsa.sparse.0.order"} dense<[0, 1, 3, 4, 2, 5, 6, 7, 9, 10, 8, 11]> : tensor<12xi64>
// CHECK-DAG: %[[INV:.*]] = dit.constant {vsa.weight_name = "vsa.sparse.0.inverse_order"} dense<[0, 1, 4, 2, 3, 5, 6, 7, 10, 8, 9, 11]> : tensor<12xi64>
// CHECK-DAG: %[[COS:.*]] = dit.gather %arg1[%[[ORD]]] {axis = 1 : i64}
// CHECK-DAG: %[[SIN:.*]] = dit.gather %arg2[%[[ORD]]] {axis = 1 : i64}
// CHECK: %[[FLAT:.*]] = dit.reshape %arg0 : tensor<1x8x2x2x3xf32> -> tensor<1x8x12xf32>
// CHECK-NEXT: %[[IN:.*]] = dit.gather %[[FLAT]][%[[ORD]]] {axis = 2 : i64}
// CHECK-NEXT: dit.transpose %[[IN]]
// CHECK: dit.rope {{.*}}, %[[COS]], %[[SIN]]
// CHECK-NOT: dit.gather
// CHECK: dit.attention {{.*}} tile_ordered
// CHECK-NOT: dit.gather
// CHECK: dit.attention {{.*}} tile_ordered
// CHECK-NOT: dit.gather
// CHECK: %[[LAST:.*]] = dit.add
// CHECK-NEXT: %[[OUT:.*]] = dit.gather %[[LAST]][%[[INV]]] {axis = 1 : i64}
// CHECK-NEXT: dit.reshape %[[OUT]] : tensor<1x12x8xf32> -> tensor<1x2x2x3x8xf32>
// CHECK-NOT: dit.gather
// CHECK: return
func.func @stream(%x: tensor<1x8x2x2x3xf32>, %cos: tensor<1x12x1x2xf32>, %sin: tensor<1x12x1x2xf32>, %w: tensor<8x8xf32>) -> tensor<1x2x2x3x8xf32> {
  %0 = dit.reshape %x : tensor<1x8x2x2x3xf32> -> tensor<1x8x12xf32>
  %1 = dit.transpose %0 [0, 2, 1] : tensor<1x8x12xf32> -> tensor<1x12x8xf32>
  %2 = dit.linear %1, %w : (tensor<1x12x8xf32>, tensor<8x8xf32>) -> tensor<1x12x8xf32>
  %3 = dit.reshape %2 : tensor<1x12x8xf32> -> tensor<1x12x2x4xf32>
  %4 = dit.rope %3, %cos, %sin {interleaved} : (tensor<1x12x2x4xf32>, tensor<1x12x1x2xf32>, tensor<1x12x1x2xf32>) -> tensor<1x12x2x4xf32>
  %5 = dit.transpose %4 [0, 2, 1, 3] : tensor<1x12x2x4xf32> -> tensor<1x2x12x4xf32>
  %6 = dit.attention %5, %5, %5 role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"sliding-tile", {tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64, window_h = 1 : i64, window_t = 1 : i64, window_w = 1 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  %7 = dit.attention %6, %6, %6 role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"sliding-tile", {tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64, window_h = 1 : i64, window_t = 1 : i64, window_w = 1 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  %8 = dit.transpose %7 [0, 2, 1, 3] : tensor<1x2x12x4xf32> -> tensor<1x12x2x4xf32>
  %9 = dit.reshape %8 : tensor<1x12x2x4xf32> -> tensor<1x12x8xf32>
  %10 = dit.add %9, %1 : (tensor<1x12x8xf32>, tensor<1x12x8xf32>) -> tensor<1x12x8xf32>
  %11 = dit.reshape %10 : tensor<1x12x8xf32> -> tensor<1x2x2x3x8xf32>
  return %11 : tensor<1x2x2x3x8xf32>
}

// -----

// Two orders (tiles 1x2x2 and 2x2x2 over one grid): unchanged.
// CHECK-LABEL: func.func @mixed_orders
// CHECK-NOT: dit.gather
// CHECK-NOT: tile_ordered
// CHECK: return
func.func @mixed_orders(%q: tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 5.000000e-01 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  %1 = dit.attention %0, %0, %0 role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 5.000000e-01 : f64, tile_h = 2 : i64, tile_t = 2 : i64, tile_w = 2 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  return %1 : tensor<1x2x12x4xf32>
}

// -----

// A softmax over the tokens between the layers is not token-wise: hoisting
// would need a permutation per layer around it, so nothing changes.
// CHECK-LABEL: func.func @mixes_tokens
// CHECK-NOT: dit.gather
// CHECK-NOT: tile_ordered
// CHECK: return
func.func @mixes_tokens(%q: tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 5.000000e-01 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  %1 = dit.softmax %0 {axis = 2 : i64} : tensor<1x2x12x4xf32>
  %2 = dit.attention %1, %1, %1 role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 5.000000e-01 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  return %2 : tensor<1x2x12x4xf32>
}

// -----

// Frame-window blocks are contiguous frames: no permutation to hoist.
// CHECK-LABEL: func.func @frame_window
// CHECK-NOT: dit.gather
// CHECK-NOT: tile_ordered
// CHECK: return
func.func @frame_window(%q: tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"frame-window", {keyframe_interval = 0 : i64, sink = 0 : i64, window = 0 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  return %0 : tensor<1x2x12x4xf32>
}

// -----

// Only in the stream while the pattern's order holds: a frame-window
// attention between two tile attentions leaves everything unchanged.
// CHECK-LABEL: func.func @frame_window_between
// CHECK-NOT: dit.gather
// CHECK-NOT: tile_ordered
// CHECK: return
func.func @frame_window_between(%q: tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 5.000000e-01 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  %1 = dit.attention %0, %0, %0 role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"frame-window", {keyframe_interval = 0 : i64, sink = 0 : i64, window = 0 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  %2 = dit.attention %1, %1, %1 role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 5.000000e-01 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  return %2 : tensor<1x2x12x4xf32>
}

// -----

// Text joined before the video along the tokens (CogVideoX): the order keeps
// the 2 text tokens in place, so the video alone is permuted by its own
// order (the full order's video part) and the text slice needs nothing.
// CHECK-LABEL: func.func @joint_text
// CHECK-DAG: %[[VORD:.*]] = dit.constant {vsa.weight_name = "vsa.sparse.0.video_order"} dense<[0, 1, 3, 4, 2, 5, 6, 7, 9, 10, 8, 11]> : tensor<12xi64>
// CHECK-DAG: %[[VINV:.*]] = dit.constant {vsa.weight_name = "vsa.sparse.0.video_inverse_order"}
// CHECK-NOT: vsa.sparse.0.order
// CHECK: %[[IN:.*]] = dit.gather %arg0[%[[VORD]]] {axis = 1 : i64}
// CHECK: dit.concat %arg1, %[[IN]] {axis = 1 : i64}
// CHECK: dit.attention {{.*}} tile_ordered
// CHECK: %[[V:.*]] = dit.slice {{.*}} offsets [0, 2, 0]
// CHECK-NEXT: %[[OUT:.*]] = dit.gather %[[V]][%[[VINV]]] {axis = 1 : i64}
// CHECK: %[[T:.*]] = dit.slice {{.*}} offsets [0, 0, 0]
// CHECK-NOT: dit.gather
// CHECK: return %[[OUT]], %[[T]]
func.func @joint_text(%x: tensor<1x12x8xf32>, %txt: tensor<1x2x8xf32>) -> (tensor<1x12x8xf32>, tensor<1x2x8xf32>) {
  %0 = dit.concat %txt, %x {axis = 1 : i64} : (tensor<1x2x8xf32>, tensor<1x12x8xf32>) -> tensor<1x14x8xf32>
  %1 = dit.reshape %0 : tensor<1x14x8xf32> -> tensor<1x14x2x4xf32>
  %2 = dit.transpose %1 [0, 2, 1, 3] : tensor<1x14x2x4xf32> -> tensor<1x2x14x4xf32>
  %3 = dit.attention %2, %2, %2 role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 2, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 5.000000e-01 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>} : (tensor<1x2x14x4xf32>, tensor<1x2x14x4xf32>, tensor<1x2x14x4xf32>) -> tensor<1x2x14x4xf32>
  %4 = dit.transpose %3 [0, 2, 1, 3] : tensor<1x2x14x4xf32> -> tensor<1x14x2x4xf32>
  %5 = dit.reshape %4 : tensor<1x14x2x4xf32> -> tensor<1x14x8xf32>
  %6 = dit.slice %5 offsets [0, 2, 0] strides [1, 1, 1] : tensor<1x14x8xf32> -> tensor<1x12x8xf32>
  %7 = dit.slice %5 offsets [0, 0, 0] strides [1, 1, 1] : tensor<1x14x8xf32> -> tensor<1x2x8xf32>
  return %6, %7 : tensor<1x12x8xf32>, tensor<1x2x8xf32>
}
