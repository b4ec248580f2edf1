// RUN: vsa-opt %s -split-input-file -verify-diagnostics --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=4}))'
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=0}))' 2>&1 | FileCheck %s --check-prefix=ZERO
// ZERO: error: 'func.func' op context parallelism: ulysses must be >= 1, got 0

// What dit-context-parallel rejects, each with the op and the sizes.

// 12 tokens but 2 heads: 4 ranks cannot each take whole heads; 2 can.
func.func @heads(%q: tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32> {
  // expected-error@+1 {{context parallelism: ulysses=4 does not divide 12 tokens, 2 query heads and 2 key/value heads; the largest degree that does is 2 (ulysses=2)}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  return %0 : tensor<1x2x12x4xf32>
}

// -----

// 18 tokens over 4 ranks: 2 divides both.
func.func @tokens(%q: tensor<1x4x18x4xf32>) -> tensor<1x4x18x4xf32> {
  // expected-error@+1 {{ulysses=4 does not divide 18 tokens, 4 query heads and 4 key/value heads; the largest degree that does is 2 (ulysses=2)}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 2, h = 3, w = 3, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<1x4x18x4xf32>, tensor<1x4x18x4xf32>, tensor<1x4x18x4xf32>) -> tensor<1x4x18x4xf32>
  return %0 : tensor<1x4x18x4xf32>
}

// -----

// Joint text + video attention (CogVideoX, HunyuanVideo): not yet.
func.func @prefix(%q: tensor<1x4x16x4xf32>) -> tensor<1x4x16x4xf32> {
  // expected-error@+1 {{context parallelism: joint text+video attention (4 prefix and 0 suffix tokens) is not supported yet}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 4, suffix = 0>, scale = 0.5 : f64} : (tensor<1x4x16x4xf32>, tensor<1x4x16x4xf32>, tensor<1x4x16x4xf32>) -> tensor<1x4x16x4xf32>
  return %0 : tensor<1x4x16x4xf32>
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
