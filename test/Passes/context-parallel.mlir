// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=2}))' | FileCheck %s --enable-var-scope
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=1}))' | FileCheck %s --check-prefix=ONE
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=2}))' | FileCheck %s --check-prefix=COUNT
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ring=2}))' | FileCheck %s --check-prefix=RING
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=5}))' | FileCheck %s --check-prefix=PAD
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ring=5}))' | FileCheck %s --check-prefix=PADRING
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=2 ring=2}))' | FileCheck %s --check-prefix=HYBRID

// A Wan-like block over 12 video tokens (grid 3 x 2 x 2), 2 heads of 4,
// split over 2 ranks: the patch tokens are sharded after the patch reshape
// and the RoPE tables where they enter (each rank's slice of the table);
// q/k RMSNorm (over every head) and RoPE run on the sequence shard; an
// all-to-all before the self-attention turns q, k, v into head shards
// (1x2x6x4 -> 1x1x12x4) and one after it turns the result back; the
// cross-attention's local queries (1x2x6x4) attend to the whole, unsplit
// context (1x2x5x4) with no collective; the modulation (from the timestep)
// stays replicated; the tokens are gathered before the un-patchify.
// CHECK-LABEL: func.func @block
// CHECK-DAG: %[[COS:.*]] = dit.shard %arg1 axis 1 degree 2 : tensor<1x12x1x2xf32> -> tensor<1x6x1x2xf32>
// CHECK-DAG: %[[SIN:.*]] = dit.shard %arg2 axis 1 degree 2 : tensor<1x12x1x2xf32> -> tensor<1x6x1x2xf32>
// CHECK: %[[FLAT:.*]] = dit.reshape %arg0 : tensor<1x8x3x2x2xf32> -> tensor<1x8x12xf32>
// CHECK-NEXT: %[[MINE:.*]] = dit.shard %[[FLAT]] axis 2 degree 2 : tensor<1x8x12xf32> -> tensor<1x8x6xf32>
// CHECK-NEXT: %[[X:.*]] = dit.transpose %[[MINE]] [0, 2, 1] : tensor<1x8x6xf32> -> tensor<1x6x8xf32>
// CHECK: dit.modulate %[[X]], %arg4, %arg4 : (tensor<1x6x8xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x6x8xf32>
// CHECK: %[[QN:.*]] = dit.rms_norm {{.*}} -> tensor<1x6x8xf32>
// CHECK: dit.rope {{.*}}, %[[COS]], %[[SIN]] {interleaved} : (tensor<1x6x2x4xf32>, tensor<1x6x1x2xf32>, tensor<1x6x1x2xf32>) -> tensor<1x6x2x4xf32>
// CHECK: %[[Q:.*]] = dit.all_to_all %{{.*}} scatter 1 gather 2 degree 2 : tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>
// CHECK-NEXT: %[[K:.*]] = dit.all_to_all %{{.*}} scatter 1 gather 2 degree 2 : tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>
// CHECK-NEXT: %[[V:.*]] = dit.all_to_all %{{.*}} scatter 1 gather 2 degree 2 : tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>
// CHECK-NEXT: %[[A:.*]] = dit.attention %[[Q]], %[[K]], %[[V]] role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 5.000000e-01 : f64} : (tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>) -> tensor<1x1x12x4xf32>
// CHECK-NEXT: %[[BACK:.*]] = dit.all_to_all %[[A]] scatter 2 gather 1 degree 2 : tensor<1x1x12x4xf32> -> tensor<1x2x6x4xf32>
// CHECK-NEXT: dit.transpose %[[BACK]] [0, 2, 1, 3] : tensor<1x2x6x4xf32> -> tensor<1x6x2x4xf32>
// Cross-attention: no collective from here to the gather; the queries come
// straight from a transpose of the sequence shard, the keys and values
// from the unsplit context.
// CHECK-NOT: dit.all_to_all
// CHECK: %[[CQ:.*]] = dit.transpose {{.*}} : tensor<1x6x2x4xf32> -> tensor<1x2x6x4xf32>
// CHECK-NOT: dit.all_to_all
// CHECK: dit.linear %arg3, %arg5 : (tensor<1x5x8xf32>, tensor<8x8xf32>) -> tensor<1x5x8xf32>
// CHECK-NOT: dit.all_to_all
// CHECK: %[[CA:.*]] = dit.attention %[[CQ]], %[[CK:[^,]*]], %[[CK]] role cross {scale = 5.000000e-01 : f64} : (tensor<1x2x6x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x6x4xf32>
// CHECK-NOT: dit.all_to_all
// CHECK: %[[LAST:.*]] = dit.add {{.*}} -> tensor<1x6x8xf32>
// CHECK-NEXT: %[[ALL:.*]] = dit.all_gather %[[LAST]] axis 1 degree 2 : tensor<1x6x8xf32> -> tensor<1x12x8xf32>
// CHECK-NEXT: dit.reshape %[[ALL]] : tensor<1x12x8xf32> -> tensor<1x3x2x2x8xf32>
// CHECK-NOT: dit.all_to_all
// CHECK: return
// ONE-LABEL: func.func @block
// ONE-NOT: dit.shard
// ONE-NOT: dit.all_to_all
// ONE-NOT: dit.all_gather
// ONE: dit.attention {{.*}} role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 5.000000e-01 : f64} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
// ONE: dit.attention {{.*}} role cross {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 5.000000e-01 : f64}
// ONE: return
// Four all-to-alls in all, all around the self-attention.
// COUNT-LABEL: func.func @block
// COUNT-COUNT-3: dit.all_to_all {{.*}} scatter 1 gather 2
// COUNT-NEXT: role self
// COUNT-NEXT: dit.all_to_all {{.*}} scatter 2 gather 1
// COUNT-NOT: dit.all_to_all
// COUNT: return
// Ring alone (2 ranks): the tokens are sharded the same way, but the
// self-attention becomes a ring attention over this rank's sequence chunk
// (all heads, no all-to-all); the cross-attention is as with Ulysses.
// RING-LABEL: func.func @block
// RING-SAME: attributes {dit.num_ranks = 2 : i64}
// RING: dit.shard %{{.*}} axis 2 degree 2 : tensor<1x8x12xf32> -> tensor<1x8x6xf32>
// RING-NOT: dit.all_to_all
// RING: dit.ring_attention %{{.*}}, %{{.*}}, %{{.*}} degree 2 {scale = 5.000000e-01 : f64} : (tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32>
// RING-NOT: dit.attention {{.*}} role self
// RING: dit.attention {{.*}} role cross {scale = 5.000000e-01 : f64} : (tensor<1x2x6x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x6x4xf32>
// RING-NOT: dit.all_to_all
// RING: dit.all_gather %{{.*}} axis 1 degree 2 : tensor<1x6x8xf32> -> tensor<1x12x8xf32>
// Hybrid 2 x 2 (4 ranks): a quarter of the tokens per rank; the all-to-all
// within pairs of consecutive ranks gives one head of half the sequence,
// and the ring runs over the ranks holding that head (stride 2).
// HYBRID-LABEL: func.func @block
// HYBRID-SAME: attributes {dit.num_ranks = 4 : i64}
// HYBRID: dit.shard %{{.*}} axis 2 degree 4 : tensor<1x8x12xf32> -> tensor<1x8x3xf32>
// HYBRID-COUNT-3: dit.all_to_all %{{.*}} scatter 1 gather 2 degree 2 : tensor<1x2x3x4xf32> -> tensor<1x1x6x4xf32>
// HYBRID-NEXT: %[[R:.*]] = dit.ring_attention %{{.*}}, %{{.*}}, %{{.*}} degree 2 {scale = 5.000000e-01 : f64, stride = 2 : i64} : (tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>) -> tensor<1x1x6x4xf32>
// HYBRID-NEXT: dit.all_to_all %[[R]] scatter 2 gather 1 degree 2 : tensor<1x1x6x4xf32> -> tensor<1x2x3x4xf32>
// HYBRID-NOT: dit.all_to_all
// HYBRID: dit.attention {{.*}} role cross
// HYBRID-NOT: dit.all_to_all
// HYBRID: dit.all_gather %{{.*}} axis 1 degree 4 : tensor<1x3x8xf32> -> tensor<1x12x8xf32>
// Ulysses 5 divides neither the 12 tokens nor the 2 heads: the token
// stream is zero-padded to 15 where it enters (the RoPE tables too) and
// sliced back to 12 after the gather; q, k, v get 3 zero heads before the
// all-to-all (each rank one head of all 15 tokens), the 3 padded keys are
// masked, and the 3 zero heads are sliced off after the way back.
// PAD-LABEL: func.func @block
// PAD-SAME: attributes {dit.num_ranks = 5 : i64}
// PAD-DAG: %[[C:.*]] = dit.pad %arg1 [0, 0, 0, 0, 0, 3, 0, 0] : tensor<1x12x1x2xf32> -> tensor<1x15x1x2xf32>
// PAD-DAG: dit.shard %[[C]] axis 1 degree 5 : tensor<1x15x1x2xf32> -> tensor<1x3x1x2xf32>
// PAD: %[[P:.*]] = dit.pad %{{.*}} [0, 0, 0, 0, 0, 3] : tensor<1x8x12xf32> -> tensor<1x8x15xf32>
// PAD-NEXT: dit.shard %[[P]] axis 2 degree 5 : tensor<1x8x15xf32> -> tensor<1x8x3xf32>
// PAD-COUNT-3: dit.pad %{{.*}} [0, 0, 0, 0, 0, 3, 0, 0] : tensor<1x2x3x4xf32> -> tensor<1x5x3x4xf32>
// PAD: %[[M:.*]] = dit.constant dense<{{\[\[\[\[}}0.000000e+00, {{.*}}, 0.000000e+00, 0xFF800000, 0xFF800000, 0xFF800000{{\]\]\]\]}}> : tensor<1x1x1x15xf32>
// PAD-NEXT: %[[A:.*]] = dit.attention %{{.*}}, %{{.*}}, %{{.*}} mask %[[M]] role self {scale = 5.000000e-01 : f64} : (tensor<1x1x15x4xf32>, tensor<1x1x15x4xf32>, tensor<1x1x15x4xf32>, tensor<1x1x1x15xf32>) -> tensor<1x1x15x4xf32>
// PAD-NEXT: %[[B:.*]] = dit.all_to_all %[[A]] scatter 2 gather 1 degree 5 : tensor<1x1x15x4xf32> -> tensor<1x5x3x4xf32>
// PAD-NEXT: dit.slice %[[B]] offsets [0, 0, 0, 0] strides [1, 1, 1, 1] : tensor<1x5x3x4xf32> -> tensor<1x2x3x4xf32>
// PAD: dit.attention {{.*}} role cross {scale = 5.000000e-01 : f64} : (tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32>
// PAD: %[[G:.*]] = dit.all_gather %{{.*}} axis 1 degree 5 : tensor<1x3x8xf32> -> tensor<1x15x8xf32>
// PAD-NEXT: dit.slice %[[G]] offsets [0, 0, 0] strides [1, 1, 1] : tensor<1x15x8xf32> -> tensor<1x12x8xf32>
// Ring 5 on 12 tokens: padded to 15 like Ulysses; the ring attention
// ignores the keys past the 12 real ones (valid_keys) instead of a mask.
// PADRING-LABEL: func.func @block
// PADRING: dit.pad %{{.*}} [0, 0, 0, 0, 0, 3] : tensor<1x8x12xf32> -> tensor<1x8x15xf32>
// PADRING: dit.ring_attention {{.*}} degree 5 {scale = 5.000000e-01 : f64, valid_keys = 12 : i64} : (tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>, tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32>
// PADRING: dit.all_gather %{{.*}} axis 1 degree 5 : tensor<1x3x8xf32> -> tensor<1x15x8xf32>
// PADRING-NEXT: dit.slice %{{.*}} : tensor<1x15x8xf32> -> tensor<1x12x8xf32>
func.func @block(%x: tensor<1x8x3x2x2xf32>, %cos: tensor<1x12x1x2xf32>, %sin: tensor<1x12x1x2xf32>, %ctx: tensor<1x5x8xf32>, %mod: tensor<1x1x8xf32>, %w: tensor<8x8xf32>, %g: tensor<8xf32>) -> tensor<1x3x2x2x8xf32> {
  %0 = dit.reshape %x : tensor<1x8x3x2x2xf32> -> tensor<1x8x12xf32>
  %1 = dit.transpose %0 [0, 2, 1] : tensor<1x8x12xf32> -> tensor<1x12x8xf32>
  %2 = dit.modulate %1, %mod, %mod : (tensor<1x12x8xf32>, tensor<1x1x8xf32>, tensor<1x1x8xf32>) -> tensor<1x12x8xf32>
  // Self-attention: q/k RMSNorm over all heads, RoPE, heads.
  %q = dit.linear %2, %w : (tensor<1x12x8xf32>, tensor<8x8xf32>) -> tensor<1x12x8xf32>
  %qn = dit.rms_norm %q scale %g {axis = 2 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x12x8xf32>, tensor<8xf32>) -> tensor<1x12x8xf32>
  %q4 = dit.reshape %qn : tensor<1x12x8xf32> -> tensor<1x12x2x4xf32>
  %qr = dit.rope %q4, %cos, %sin {interleaved} : (tensor<1x12x2x4xf32>, tensor<1x12x1x2xf32>, tensor<1x12x1x2xf32>) -> tensor<1x12x2x4xf32>
  %qt = dit.transpose %qr [0, 2, 1, 3] : tensor<1x12x2x4xf32> -> tensor<1x2x12x4xf32>
  %k = dit.linear %2, %w : (tensor<1x12x8xf32>, tensor<8x8xf32>) -> tensor<1x12x8xf32>
  %kn = dit.rms_norm %k scale %g {axis = 2 : i64, epsilon = 1.0e-06 : f64} : (tensor<1x12x8xf32>, tensor<8xf32>) -> tensor<1x12x8xf32>
  %k4 = dit.reshape %kn : tensor<1x12x8xf32> -> tensor<1x12x2x4xf32>
  %kr = dit.rope %k4, %cos, %sin {interleaved} : (tensor<1x12x2x4xf32>, tensor<1x12x1x2xf32>, tensor<1x12x1x2xf32>) -> tensor<1x12x2x4xf32>
  %kt = dit.transpose %kr [0, 2, 1, 3] : tensor<1x12x2x4xf32> -> tensor<1x2x12x4xf32>
  %v = dit.linear %2, %w : (tensor<1x12x8xf32>, tensor<8x8xf32>) -> tensor<1x12x8xf32>
  %v4 = dit.reshape %v : tensor<1x12x8xf32> -> tensor<1x12x2x4xf32>
  %vt = dit.transpose %v4 [0, 2, 1, 3] : tensor<1x12x2x4xf32> -> tensor<1x2x12x4xf32>
  %a = dit.attention %qt, %kt, %vt role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>, tensor<1x2x12x4xf32>) -> tensor<1x2x12x4xf32>
  %at = dit.transpose %a [0, 2, 1, 3] : tensor<1x2x12x4xf32> -> tensor<1x12x2x4xf32>
  %a3 = dit.reshape %at : tensor<1x12x2x4xf32> -> tensor<1x12x8xf32>
  %h = dit.gated_add %1, %a3, %mod : (tensor<1x12x8xf32>, tensor<1x12x8xf32>, tensor<1x1x8xf32>) -> tensor<1x12x8xf32>
  // Cross-attention to the context.
  %cq = dit.linear %h, %w : (tensor<1x12x8xf32>, tensor<8x8xf32>) -> tensor<1x12x8xf32>
  %cq4 = dit.reshape %cq : tensor<1x12x8xf32> -> tensor<1x12x2x4xf32>
  %cqt = dit.transpose %cq4 [0, 2, 1, 3] : tensor<1x12x2x4xf32> -> tensor<1x2x12x4xf32>
  %ck = dit.linear %ctx, %w : (tensor<1x5x8xf32>, tensor<8x8xf32>) -> tensor<1x5x8xf32>
  %ck4 = dit.reshape %ck : tensor<1x5x8xf32> -> tensor<1x5x2x4xf32>
  %ckt = dit.transpose %ck4 [0, 2, 1, 3] : tensor<1x5x2x4xf32> -> tensor<1x2x5x4xf32>
  %c = dit.attention %cqt, %ckt, %ckt role cross {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 0.5 : f64} : (tensor<1x2x12x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32>) -> tensor<1x2x12x4xf32>
  %ct = dit.transpose %c [0, 2, 1, 3] : tensor<1x2x12x4xf32> -> tensor<1x12x2x4xf32>
  %c3 = dit.reshape %ct : tensor<1x12x2x4xf32> -> tensor<1x12x8xf32>
  %o = dit.add %h, %c3 : (tensor<1x12x8xf32>, tensor<1x12x8xf32>) -> tensor<1x12x8xf32>
  %y = dit.reshape %o : tensor<1x12x8xf32> -> tensor<1x3x2x2x8xf32>
  return %y : tensor<1x3x2x2x8xf32>
}

