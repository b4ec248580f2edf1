// RUN: vsa-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=4}))'
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=0}))' 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: error: 'func.func' op context parallelism: ulysses must be >= 1, got 0
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ring=-1}))' 2>&1 | FileCheck %s --check-prefix=NEGRING
// NEGRING: error: 'func.func' op context parallelism: ring must be >= 1, got -1

// What dit-context-parallel rejects, each with the op and the sizes.

// 12 tokens but 2 heads: 4 ranks would need padded heads, which a sparse
// pattern's per-head block lists cannot take; 2 divides both.
func.func @heads(%q: tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32> {
  // expected-error@+1 {{context parallelism: ulysses=4 does not divide 12 tokens, 2 query heads and 2 key/value heads, and a sparse pattern cannot be padded; the largest degree that does is 2 (ulysses=2)}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"sliding-tile", {tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64, window_h = 1 : i64, window_t = 1 : i64, window_w = 1 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  return %0 : tensor<1x2x12x4xf32>
}

// -----

// 18 tokens and 6 query heads over 3 key/value heads (grouped queries):
// padding 6 heads to 8 would break the query -> key/value head grouping.
func.func @tokens(%q: tensor<1x6x18x4xf32>, %k: tensor<1x3x18x4xf32>) -> tensor<1x6x18x4xf32> {
  // expected-error@+1 {{ulysses=4 does not divide 18 tokens, 6 query heads and 3 key/value heads, and grouped-query heads cannot be padded; the largest degree that does is 3 (ulysses=3)}}
  %0 = dit.attention %q, %k, %k role self {geometry = #dit.video<t = 2, h = 3, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<1x6x18x4xf32>, tensor<1x3x18x4xf32>, tensor<1x3x18x4xf32>) -> tensor<1x6x18x4xf32>
  return %0 : tensor<1x6x18x4xf32>
}

// -----

// Joint text + video attention (CogVideoX, HunyuanVideo) is not padded:
// 4 ranks need 12 video tokens and the 2 heads to divide.
func.func @prefix(%q: tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32> {
  // expected-error@+1 {{context parallelism: joint text+video attention: ulysses=4 does not divide 12 video tokens, 2 query heads and 2 key/value heads (no padding with text); the largest degree that does is 2 (ulysses=2)}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 4, suffix = 0>, scale = 0.5 : f64} : (tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  return %0 : tensor<1x2x16x4xf32>
}

// -----

// A mask that varies over the queries (here a full (1, 1, S, S) one).
func.func @query_mask(%q: tensor<1x4x12x4xf32>, %m: tensor<1x1x12x12xf32>) -> tensor<1x4x12x4xf32> {
  // expected-error@+1 {{context parallelism: a masked self-attention needs a key mask (B, 1, 1, S) and no padding}}
  %0 = dit.attention %q, %q, %q mask %m role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<1x4x12x4xf32>, tensor<1x4x12x4xf32>, tensor<1x4x12x4xf32>, tensor<1x1x12x12xf32>) -> tensor<1x4x12x4xf32>
  return %0 : tensor<1x4x12x4xf32>
}

// -----

// Another attention over the video tokens as keys would see only this
// rank's keys: rejected.
func.func @keys_in_stream(%q: tensor<1x4x12x4xf32>) -> tensor<1x4x12x4xf32> {
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<1x4x12x4xf32>, tensor<1x4x12x4xf32>, tensor<1x4x12x4xf32>) -> tensor<1x4x12x4xf32>
  // expected-error@+1 {{context parallelism: this attention's keys carry the video tokens but it is not a video self-attention}}
  %1 = dit.attention %0, %0, %0 {scale = 0.5 : f64} : (tensor<1x4x12x4xf32>, tensor<1x4x12x4xf32>, tensor<1x4x12x4xf32>) -> tensor<1x4x12x4xf32>
  return %1 : tensor<1x4x12x4xf32>
}

// -----

// Nothing to split.
// expected-error@+1 {{context parallelism: no self-attention with a video geometry, nothing to split}}
func.func @no_video(%x: tensor<1x12x8xf32>) -> tensor<1x12x8xf32> {
  return %x : tensor<1x12x8xf32>
}

// -----

// VSA's gate with joint text+video attention (text whole on every rank).
func.func @vsa_gate_joint(%q: tensor<1x4x18x4xf32>) -> tensor<1x4x18x4xf32> {
  // expected-error@+1 {{context parallelism: VSA's gated coarse output (gate=1) with joint text+video attention is not supported}}
  %0 = dit.attention %q, %q, %q gate %q role self {geometry = #dit.video<t = 4, h = 2, w = 2, prefix = 2, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"vsa", {sparsity = 0.5 : f64, tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64}>} : (tensor<1x4x18x4xf32>, tensor<1x4x18x4xf32>, tensor<1x4x18x4xf32>, tensor<1x4x18x4xf32>) -> tensor<1x4x18x4xf32>
  return %0 : tensor<1x4x18x4xf32>
}
