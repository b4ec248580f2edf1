// RUN: vsa-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(dit-context-parallel{ring=4}))'
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=2 ring=2}))' 2>&1 | FileCheck %s --check-prefix=HYBRID

// What dit-context-parallel rejects with ring attention.

// Block lists index the whole sequence: a ring rank holds only a chunk.
// HYBRID: ring attention over a sparse pattern ('sliding-tile') is not supported; use ulysses alone with --sparse
func.func @sparse(%q: tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32> {
  // expected-error@+1 {{context parallelism: ring attention over a sparse pattern ('sliding-tile') is not supported; use ulysses alone with --sparse}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 2, h = 2, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64, sparsity = #dit.sparsity<"sliding-tile", {tile_h = 2 : i64, tile_t = 1 : i64, tile_w = 2 : i64, window_h = 1 : i64, window_t = 1 : i64, window_w = 1 : i64}>} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  return %0 : tensor<1x2x12x4xf32>
}

// -----

// Joint text + video attention is not padded: 4 ring ranks need the 6
// video tokens to divide.
func.func @joint(%q: tensor<1x2x10x4xf32>) -> tensor<1x2x10x4xf32> {
  // expected-error@+1 {{context parallelism: joint text+video attention: ulysses=1 x ring=4 does not divide 6 video tokens (no padding with text); the largest ring degree that does is 3}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 1, prefix = 4, suffix = 0>, scale = 0.5 : f64} : (tensor<1x2x10x4xf32>, tensor<1x2x10x4xf32>, tensor<1x2x10x4xf32>) -> tensor<1x2x10x4xf32>
  return %0 : tensor<1x2x10x4xf32>
}
