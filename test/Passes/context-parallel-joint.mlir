// RUN: vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=2}))' | FileCheck %s --enable-var-scope
// RUN: vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-context-parallel{ring=2}))' | FileCheck %s --check-prefix=RING
// RUN: not vsa-opt %s --pass-pipeline='builtin.module(func.func(dit-context-parallel{ulysses=4}))' 2>&1 | FileCheck %s --check-prefix=FOUR

// On a ring (2 ranks): the queries hold the text and this rank's video;
// the video keys and values go around the ring, the text ones stay local.
// RING: %[[Q:.*]] = dit.transpose {{.*}} -> tensor<1x2x10x4xf32>
// RING-NEXT: %[[KT:.*]] = dit.slice %[[Q]] offsets [0, 0, 0, 0] strides [1, 1, 1, 1] : tensor<1x2x10x4xf32> -> tensor<1x2x4x4xf32>
// RING-NEXT: %[[KV:.*]] = dit.slice %[[Q]] offsets [0, 0, 4, 0] strides [1, 1, 1, 1] : tensor<1x2x10x4xf32> -> tensor<1x2x6x4xf32>
// RING: dit.ring_attention %[[Q]], %[[KV]], %{{.*}} local(%[[KT]], %{{.*}}) degree 2 {scale = 5.000000e-01 : f64} : (tensor<1x2x10x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x4x4xf32>, tensor<1x2x4x4xf32>) -> tensor<1x2x10x4xf32>
// RING-NOT: dit.all_to_all
// FOUR: error: 'dit.attention' op context parallelism: joint text+video attention: ulysses=4 does not divide 12 video tokens, 2 query heads and 2 key/value heads (no padding with text); the largest degree that does is 2 (ulysses=2)


// Joint text + video attention (CogVideoX style: 4 text tokens before 12
// video tokens, no mask) on 2 Ulysses ranks: only the video is sharded,
// the text stays whole; before the attention each of q, k, v is cut into
// its text part (this rank's head, dit.shard along the heads) and video
// part (the all-to-all), concatenated again; after it the text part of the
// result is gathered over the heads and the video part goes back through
// the all-to-all.
// CHECK-LABEL: func.func @joint
// CHECK: %[[XS:.*]] = dit.shard %{{.*}} axis 2 degree 2 : tensor<1x8x12xf32> -> tensor<1x8x6xf32>
// CHECK-NEXT: %[[XV:.*]] = dit.transpose %[[XS]] [0, 2, 1] : tensor<1x8x6xf32> -> tensor<1x6x8xf32>
// CHECK-NEXT: %[[J:.*]] = dit.concat %arg1, %[[XV]] {axis = 1 : i64} : (tensor<1x4x8xf32>, tensor<1x6x8xf32>) -> tensor<1x10x8xf32>
// CHECK: %[[QT:.*]] = dit.slice %[[Q:.*]] offsets [0, 0, 0, 0] strides [1, 1, 1, 1] : tensor<1x2x10x4xf32> -> tensor<1x2x4x4xf32>
// CHECK-NEXT: %[[QV:.*]] = dit.slice %[[Q]] offsets [0, 0, 4, 0] strides [1, 1, 1, 1] : tensor<1x2x10x4xf32> -> tensor<1x2x6x4xf32>
// CHECK-NEXT: %[[QTS:.*]] = dit.shard %[[QT]] axis 1 degree 2 : tensor<1x2x4x4xf32> -> tensor<1x1x4x4xf32>
// CHECK-NEXT: %[[QVA:.*]] = dit.all_to_all %[[QV]] scatter 1 gather 2 degree 2 : tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>
// CHECK-NEXT: %[[QJ:.*]] = dit.concat %[[QTS]], %[[QVA]] {axis = 2 : i64} : (tensor<1x1x4x4xf32>, tensor<1x1x12x4xf32>) -> tensor<1x1x16x4xf32>
// CHECK: %[[A:.*]] = dit.attention %[[QJ]], %{{.*}}, %{{.*}} role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 4, suffix = 0>, scale = 5.000000e-01 : f64} : (tensor<1x1x16x4xf32>, tensor<1x1x16x4xf32>, tensor<1x1x16x4xf32>) -> tensor<1x1x16x4xf32>
// CHECK-NEXT: %[[AT:.*]] = dit.slice %[[A]] offsets [0, 0, 0, 0] strides [1, 1, 1, 1] : tensor<1x1x16x4xf32> -> tensor<1x1x4x4xf32>
// CHECK-NEXT: %[[AV:.*]] = dit.slice %[[A]] offsets [0, 0, 4, 0] strides [1, 1, 1, 1] : tensor<1x1x16x4xf32> -> tensor<1x1x12x4xf32>
// CHECK-NEXT: %[[ATG:.*]] = dit.all_gather %[[AT]] axis 1 degree 2 : tensor<1x1x4x4xf32> -> tensor<1x2x4x4xf32>
// CHECK-NEXT: %[[AVB:.*]] = dit.all_to_all %[[AV]] scatter 2 gather 1 degree 2 : tensor<1x1x12x4xf32> -> tensor<1x2x6x4xf32>
// CHECK-NEXT: dit.concat %[[ATG]], %[[AVB]] {axis = 2 : i64} : (tensor<1x2x4x4xf32>, tensor<1x2x6x4xf32>) -> tensor<1x2x10x4xf32>
// The video part of the block's output is gathered; the text part stays.
// CHECK: %[[OV:.*]] = dit.slice %{{.*}} offsets [0, 4, 0] strides [1, 1, 1] : tensor<1x10x8xf32> -> tensor<1x6x8xf32>
// CHECK: dit.all_gather %[[OV]] axis 1 degree 2 : tensor<1x6x8xf32> -> tensor<1x12x8xf32>
func.func @joint(%x: tensor<1x8x3x2x2xf32>, %text: tensor<1x4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<1x3x2x2x8xf32>, tensor<1x4x8xf32>) {
  %0 = dit.reshape %x : tensor<1x8x3x2x2xf32> -> tensor<1x8x12xf32>
  %1 = dit.transpose %0 [0, 2, 1] : tensor<1x8x12xf32> -> tensor<1x12x8xf32>
  %j = dit.concat %text, %1 {axis = 1 : i64} : (tensor<1x4x8xf32>, tensor<1x12x8xf32>) -> tensor<1x16x8xf32>
  %q = dit.linear %j, %w : (tensor<1x16x8xf32>, tensor<8x8xf32>) -> tensor<1x16x8xf32>
  %q4 = dit.reshape %q : tensor<1x16x8xf32> -> tensor<1x16x2x4xf32>
  %qt = dit.transpose %q4 [0, 2, 1, 3] : tensor<1x16x2x4xf32> -> tensor<1x2x16x4xf32>
  %a = dit.attention %qt, %qt, %qt role self {geometry = #dit.video<t = 3, h = 2, w = 2, prefix = 4, suffix = 0>, scale = 0.5 : f64} : (tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x4xf32>) -> tensor<1x2x16x4xf32>
  %at = dit.transpose %a [0, 2, 1, 3] : tensor<1x2x16x4xf32> -> tensor<1x16x2x4xf32>
  %a3 = dit.reshape %at : tensor<1x16x2x4xf32> -> tensor<1x16x8xf32>
  %tx = dit.slice %a3 offsets [0, 0, 0] strides [1, 1, 1] : tensor<1x16x8xf32> -> tensor<1x4x8xf32>
  %vx = dit.slice %a3 offsets [0, 4, 0] strides [1, 1, 1] : tensor<1x16x8xf32> -> tensor<1x12x8xf32>
  %y = dit.reshape %vx : tensor<1x12x8xf32> -> tensor<1x3x2x2x8xf32>
  return %y, %tx : tensor<1x3x2x2x8xf32>, tensor<1x4x8xf32>
}
