// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=2}))' | FileCheck %s --enable-var-scope
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=1}))' | FileCheck %s --check-prefix=ONE
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=2}))' | FileCheck %s --check-prefix=COUNT

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
