// RUN: vsa-opt %s -split-input-file -verify-diagnostics | FileCheck %s

// CHECK: sparsity = #dit.sparsity<"frame-window", {keyframe_interval = 0 : i64, sink = 1 : i64, window = 2 : i64}>
func.func @ok(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"frame-window", {window = 2 : i64, sink = 1 : i64, keyframe_interval = 0 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @unknown(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{unknown sparsity pattern 'checkerboard'}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"checkerboard", {}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @missing(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{frame-window sparsity needs an integer 'sink'}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"frame-window", {window = 2 : i64, keyframe_interval = 0 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @negative(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{frame-window 'window' must be >= 0, got -1}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"frame-window", {window = -1 : i64, sink = 1 : i64, keyframe_interval = 0 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @cross(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{sparsity applies to self-attention with a video geometry and no mask}}
  %0 = dit.attention %q, %q, %q role cross {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"frame-window", {window = 1 : i64, sink = 1 : i64, keyframe_interval = 0 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @no_geometry(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{sparsity applies to self-attention with a video geometry and no mask}}
  %0 = dit.attention %q, %q, %q role self {scale = 0.35 : f64, sparsity = #dit.sparsity<"frame-window", {window = 1 : i64, sink = 1 : i64, keyframe_interval = 0 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

// CHECK: sparsity = #dit.sparsity<"sliding-tile", {tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64, window_h = 3 : i64, window_t = 1 : i64, window_w = 3 : i64}>
func.func @sliding_tile(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"sliding-tile", {tile_t = 1 : i64, tile_h = 2 : i64, tile_w = 2 : i64, window_t = 1 : i64, window_h = 3 : i64, window_w = 3 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @even_window(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{sliding-tile 'window_h' must be odd (centred on the query tile), got 2}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"sliding-tile", {tile_t = 1 : i64, tile_h = 2 : i64, tile_w = 2 : i64, window_t = 1 : i64, window_h = 2 : i64, window_w = 3 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @zero_tile(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{sliding-tile 'tile_t' must be >= 1, got 0}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"sliding-tile", {tile_t = 0 : i64, tile_h = 2 : i64, tile_w = 2 : i64, window_t = 1 : i64, window_h = 3 : i64, window_w = 3 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

// CHECK: sparsity = #dit.sparsity<"vsa", {sparsity = 8.750000e-01 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>
func.func @vsa(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"vsa", {tile_t = 1 : i64, tile_h = 2 : i64, tile_w = 2 : i64, sparsity = 0.875 : f64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @vsa_full(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{vsa 'sparsity' must be in [0, 1), got 1}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"vsa", {tile_t = 1 : i64, tile_h = 2 : i64, tile_w = 2 : i64, sparsity = 1.0 : f64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @vsa_no_sparsity(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{vsa sparsity needs a float 'sparsity'}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"vsa", {tile_t = 1 : i64, tile_h = 2 : i64, tile_w = 2 : i64, sparsity = 1 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @rotate_two(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{frame-window 'rotate' must be 0 or 1}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"frame-window", {window = 1 : i64, sink = 1 : i64, keyframe_interval = 2 : i64, rotate = 2 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @tile_ordered_frame_window(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{tile_ordered needs a tile sparsity (sliding-tile or vsa)}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, tile_ordered, sparsity = #dit.sparsity<"frame-window", {window = 1 : i64, sink = 1 : i64, keyframe_interval = 0 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

// CHECK-LABEL: func.func @tile_ordered_vsa
// CHECK: tile_ordered
func.func @tile_ordered_vsa(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, tile_ordered, sparsity = #dit.sparsity<"vsa", {tile_t = 1 : i64, tile_h = 2 : i64, tile_w = 2 : i64, sparsity = 0.5 : f64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

// CHECK-LABEL: func.func @semantic
// CHECK: #dit.sparsity<"semantic", {iterations = 50 : i64, kv_clusters = 12 : i64, min_kept = 1.000000e-01 : f64, q_clusters = 4 : i64, top_p = 9.000000e-01 : f64, warm_iterations = 2 : i64}>
func.func @semantic(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"semantic", {q_clusters = 4 : i64, kv_clusters = 12 : i64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @semantic_too_many_clusters(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{semantic 'kv_clusters' (13) exceeds the 12 tokens}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"semantic", {q_clusters = 4 : i64, kv_clusters = 13 : i64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @semantic_top_p(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{semantic 'top_p' must be in (0, 1], got 0}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"semantic", {q_clusters = 4 : i64, kv_clusters = 4 : i64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.0 : f64, min_kept = 0.1 : f64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @semantic_iterations(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{semantic 'iterations' must be >= 1, got 0}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"semantic", {q_clusters = 4 : i64, kv_clusters = 4 : i64, iterations = 0 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

// VSA's gate: shaped like the result.
// CHECK-LABEL: func.func @gate
// CHECK: dit.attention %{{.*}}, %{{.*}}, %{{.*}} gate %{{.*}} role self
func.func @gate(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  %0 = dit.attention %q, %q, %q gate %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 0.5 : f64, tile_t = 1 : i64, tile_h = 2 : i64, tile_w = 2 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @gate_without_vsa(%q: tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{gate needs the vsa sparsity}}
  %0 = dit.attention %q, %q, %q gate %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}

// -----

func.func @gate_shape(%q: tensor<1x2x12x8xf32>, %g: tensor<1x12x2x8xf32>) -> tensor<1x2x12x8xf32> {
  // expected-error @below {{gate must have the result's type 'tensor<1x2x12x8xf32>', got 'tensor<1x12x2x8xf32>'}}
  %0 = dit.attention %q, %q, %q gate %g role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.35 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 0.5 : f64, tile_t = 1 : i64, tile_h = 2 : i64, tile_w = 2 : i64}>} : (tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x8xf32>, tensor<1x12x2x8xf32>) -> tensor<1x2x12x8xf32>
  return %0 : tensor<1x2x12x8xf32>
}
