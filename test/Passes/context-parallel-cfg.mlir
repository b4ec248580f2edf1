// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{cfg=2}))' 2>/dev/null | FileCheck %s
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{cfg=2 ulysses=2}))' 2>/dev/null | FileCheck %s --check-prefix=BOTH
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{cfg=4}))' 2>&1 | FileCheck %s --check-prefix=FOUR
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{cfg=0}))' 2>&1 | FileCheck %s --check-prefix=ZERO
// RUN: not vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{cfg=2}))' 2>&1 >/dev/null | FileCheck %s --check-prefix=MIXES

// Classifier-free-guidance parallelism: a batch of 2 (conditional and
// unconditional) split over 2 groups of ranks. Every batched input is
// sharded where it enters (the latents, the timestep, the text states),
// everything the batch flows through holds one entry, including the
// timestep's modulation path and the cross-attention's context, and the
// output is gathered. Weights and RoPE-like tables are untouched.
// CHECK-LABEL: func.func @cfg
// CHECK-SAME: attributes {dit.num_ranks = 2 : i64}
// CHECK-DAG: %[[CTX:.*]] = dit.shard %arg2 axis 0 degree 2 : tensor<2x5x8xf32> -> tensor<1x5x8xf32>
// CHECK-DAG: %[[X:.*]] = dit.shard %arg0 axis 0 degree 2 : tensor<2x8x12xf32> -> tensor<1x8x12xf32>
// CHECK-DAG: %[[T:.*]] = dit.shard %arg1 axis 0 degree 2 : tensor<2x8xf32> -> tensor<1x8xf32>
// CHECK: dit.reshape %[[T]] : tensor<1x8xf32> -> tensor<1x1x8xf32>
// CHECK: dit.attention {{.*}} role self {{.*}} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
// CHECK: dit.linear %[[CTX]], %arg3 : (tensor<1x5x8xf32>, tensor<8x8xf32>) -> tensor<1x5x8xf32>
// CHECK: dit.attention {{.*}} role cross {{.*}} : (tensor<1x2x12x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x12x4xf32>
// CHECK: %[[OUT:.*]] = dit.all_gather %{{.*}} axis 0 degree 2 : tensor<1x12x8xf32> -> tensor<2x12x8xf32>
// CHECK-NEXT: return %[[OUT]]
// With Ulysses 2 inside each group (4 ranks): the batch at stride 2, the
// tokens over consecutive pairs.
// BOTH-LABEL: func.func @cfg
// BOTH-SAME: attributes {dit.num_ranks = 4 : i64}
// BOTH-DAG: dit.shard %arg0 axis 0 degree 2 {stride = 2 : i64} : tensor<2x8x12xf32> -> tensor<1x8x12xf32>
// BOTH-DAG: dit.shard %{{.*}} axis 2 degree 2 : tensor<1x8x12xf32> -> tensor<1x8x6xf32>
// BOTH: dit.all_to_all {{.*}} scatter 1 gather 2 degree 2 : tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>
// BOTH: dit.all_gather %{{.*}} axis 1 degree 2 : tensor<1x6x8xf32> -> tensor<1x12x8xf32>
// BOTH: dit.all_gather %{{.*}} axis 0 degree 2 {stride = 2 : i64} : tensor<1x12x8xf32> -> tensor<2x12x8xf32>
// A batch of 2 over 4 groups.
// FOUR: error: 'dit.attention' op context parallelism: cfg=4 does not divide the batch of 2 (classifier-free guidance runs the conditional and unconditional inputs as one batch of 2)
// ZERO: error: 'func.func' op context parallelism: cfg must be >= 1, got 0
func.func @cfg(%x: tensor<2x8x12xf32>, %t: tensor<2x8xf32>, %ctx: tensor<2x5x8xf32>, %w: tensor<8x8xf32>) -> tensor<2x12x8xf32> {
  %tm = dit.reshape %t : tensor<2x8xf32> -> tensor<2x1x8xf32>
  %1 = dit.transpose %x [0, 2, 1] : tensor<2x8x12xf32> -> tensor<2x12x8xf32>
  %2 = dit.modulate %1, %tm, %tm : (tensor<2x12x8xf32>, tensor<2x1x8xf32>, tensor<2x1x8xf32>) -> tensor<2x12x8xf32>
  %q = dit.linear %2, %w : (tensor<2x12x8xf32>, tensor<8x8xf32>) -> tensor<2x12x8xf32>
  %q4 = dit.reshape %q : tensor<2x12x8xf32> -> tensor<2x12x2x4xf32>
  %qt = dit.transpose %q4 [0, 2, 1, 3] : tensor<2x12x2x4xf32> -> tensor<2x2x12x4xf32>
  %a = dit.attention %qt, %qt, %qt role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<2x2x12x4xf32>, tensor<2x2x12x4xf32>, tensor<2x2x12x4xf32>) -> tensor<2x2x12x4xf32>
  %c = dit.linear %ctx, %w : (tensor<2x5x8xf32>, tensor<8x8xf32>) -> tensor<2x5x8xf32>
  %c4 = dit.reshape %c : tensor<2x5x8xf32> -> tensor<2x5x2x4xf32>
  %ct = dit.transpose %c4 [0, 2, 1, 3] : tensor<2x5x2x4xf32> -> tensor<2x2x5x4xf32>
  %ca = dit.attention %a, %ct, %ct role cross {scale = 0.5 : f64} : (tensor<2x2x12x4xf32>, tensor<2x2x5x4xf32>, tensor<2x2x5x4xf32>) -> tensor<2x2x12x4xf32>
  %o = dit.transpose %ca [0, 2, 1, 3] : tensor<2x2x12x4xf32> -> tensor<2x12x2x4xf32>
  %o3 = dit.reshape %o : tensor<2x12x2x4xf32> -> tensor<2x12x8xf32>
  %h = dit.gated_add %1, %o3, %tm : (tensor<2x12x8xf32>, tensor<2x12x8xf32>, tensor<2x1x8xf32>) -> tensor<2x12x8xf32>
  return %h : tensor<2x12x8xf32>
}

// -----

// An op that mixes the batch entries between two attentions (a reshape
// merging batch and heads, then splitting them again): the batch would have
// to be gathered and split in the middle of the network; rejected.
// MIXES: error: 'dit.attention' op context parallelism: cfg: the batch does not flow through ops that treat batch entries alike from the inputs to the outputs
func.func @mixes(%q: tensor<2x2x12x4xf32>) -> tensor<2x2x12x4xf32> {
  %a = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<2x2x12x4xf32>, tensor<2x2x12x4xf32>, tensor<2x2x12x4xf32>) -> tensor<2x2x12x4xf32>
  %s = dit.reshape %a : tensor<2x2x12x4xf32> -> tensor<4x12x4xf32>
  %b = dit.reshape %s : tensor<4x12x4xf32> -> tensor<2x2x12x4xf32>
  %c = dit.attention %b, %b, %b role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<2x2x12x4xf32>, tensor<2x2x12x4xf32>, tensor<2x2x12x4xf32>) -> tensor<2x2x12x4xf32>
  return %c : tensor<2x2x12x4xf32>
}
