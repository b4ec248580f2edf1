// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-ulysses-attention))' | FileCheck %s
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-ulysses-attention{chunks=4}))' | FileCheck %s --check-prefix=FOUR

// The packed q/k/v all-to-all, a plain attention and the all-to-all back
// become one vrt.ulysses_attention over the collectives' inputs, with its
// fp32 scratch (4 x 8·24·16 floats). 4 heads per rank: 2 chunks of 2 heads
// by default; chunks=4 as asked.
// CHECK-LABEL: func.func @packed
// CHECK-NEXT: %[[O:.*]], %{{.*}} = vrt.ulysses_attention %arg0, %arg1, %arg2 group 2 chunks 2 {scale = 2.500000e-01 : f64} : (tensor<1x8x24x16xf32>, tensor<1x8x24x16xf32>, tensor<1x8x24x16xf32>) -> (tensor<1x8x24x16xf32>, tensor<49152xi8>)
// CHECK-NEXT: return %[[O]]
// FOUR-LABEL: func.func @packed
// FOUR: vrt.ulysses_attention %arg0, %arg1, %arg2 group 2 chunks 4
func.func @packed(%q: tensor<1x8x24x16xf32>, %k: tensor<1x8x24x16xf32>, %v: tensor<1x8x24x16xf32>) -> tensor<1x8x24x16xf32> {
  %p:3 = vrt.all_to_all %q, %k, %v {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x8x24x16xf32>, tensor<1x8x24x16xf32>, tensor<1x8x24x16xf32> -> tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>
  %a = vrt.attention %p#0, %p#1, %p#2 {scale = 2.500000e-01 : f64} : (tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>, tensor<1x4x48x16xf32>) -> tensor<1x4x48x16xf32>
  %o = vrt.all_to_all %a {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x4x48x16xf32> -> tensor<1x8x24x16xf32>
  return %o : tensor<1x8x24x16xf32>
}

// -----

// Three separate all-to-alls (not packed), a group of stride 2 (hybrid
// with CFG), batch 2, 4 heads per rank: 2 chunks.
// CHECK-LABEL: func.func @separate
// CHECK-NEXT: vrt.ulysses_attention %arg1, %arg0, %arg2 group 2 chunks 2 {group_stride = 2 : i64, scale = 5.000000e-01 : f64} : (tensor<2x8x6x4xf32>, tensor<2x8x6x4xf32>, tensor<2x8x6x4xf32>) -> (tensor<2x8x6x4xf32>, tensor<6144xi8>)
// CHECK-NEXT: return
// FOUR-LABEL: func.func @separate
// FOUR: group 2 chunks 4
func.func @separate(%q: tensor<2x8x6x4xf32>, %k: tensor<2x8x6x4xf32>, %v: tensor<2x8x6x4xf32>) -> tensor<2x8x6x4xf32> {
  %0 = vrt.all_to_all %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, group_stride = 2 : i64} : tensor<2x8x6x4xf32> -> tensor<2x4x12x4xf32>
  %1 = vrt.all_to_all %k {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, group_stride = 2 : i64} : tensor<2x8x6x4xf32> -> tensor<2x4x12x4xf32>
  %2 = vrt.all_to_all %v {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, group_stride = 2 : i64} : tensor<2x8x6x4xf32> -> tensor<2x4x12x4xf32>
  // Operands in another order than the collectives: q is %1's input.
  %a = vrt.attention %1, %0, %2 {scale = 5.000000e-01 : f64} : (tensor<2x4x12x4xf32>, tensor<2x4x12x4xf32>, tensor<2x4x12x4xf32>) -> tensor<2x4x12x4xf32>
  %o = vrt.all_to_all %a {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64, group_stride = 2 : i64} : tensor<2x4x12x4xf32> -> tensor<2x8x6x4xf32>
  return %o : tensor<2x8x6x4xf32>
}

// -----

// Not fused, collectives kept: a masked attention (padded keys), an
// attention whose output is read twice, grouped-query heads, (B, S, H, D)
// layouts, a packed collective that also moves another tensor, and groups
// that differ.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: vrt.ulysses_attention
// CHECK: return
func.func @kept(%q: tensor<1x2x6x4xf32>, %m: tensor<1x1x1x12xf32>, %q4: tensor<1x4x6x4xf32>) -> (tensor<1x2x6x4xf32>, tensor<1x1x12x4xf32>, tensor<1x2x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x1x12x4xf32>, tensor<1x2x6x4xf32>) {
  %0:3 = vrt.all_to_all %q, %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>
  %a0 = vrt.attention %0#0, %0#1, %0#2 mask %m {scale = 5.000000e-01 : f64} : (tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x1x12xf32>) -> tensor<1x1x12x4xf32>
  %o0 = vrt.all_to_all %a0 {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x1x12x4xf32> -> tensor<1x2x6x4xf32>
  %1:3 = vrt.all_to_all %q, %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>
  %a1 = vrt.attention %1#0, %1#1, %1#2 {scale = 5.000000e-01 : f64} : (tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>) -> tensor<1x1x12x4xf32>
  %o1 = vrt.all_to_all %a1 {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x1x12x4xf32> -> tensor<1x2x6x4xf32>
  %2 = vrt.all_to_all %q4 {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x4x6x4xf32> -> tensor<1x2x12x4xf32>
  %3:2 = vrt.all_to_all %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>
  %a2 = vrt.attention %2, %3#0, %3#1 {scale = 5.000000e-01 : f64} : (tensor<1x2x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>) -> tensor<1x2x12x4xf32>
  %o2 = vrt.all_to_all %a2 {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x2x12x4xf32> -> tensor<1x4x6x4xf32>
  %4:4 = vrt.all_to_all %q, %q, %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>
  %a4 = vrt.attention %4#0, %4#1, %4#2 {scale = 5.000000e-01 : f64} : (tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>) -> tensor<1x1x12x4xf32>
  %o4 = vrt.all_to_all %a4 {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x1x12x4xf32> -> tensor<1x2x6x4xf32>
  %5:3 = vrt.all_to_all %q, %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>
  %a5 = vrt.attention %5#0, %5#1, %5#2 {scale = 5.000000e-01 : f64} : (tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>) -> tensor<1x1x12x4xf32>
  %o5 = vrt.all_to_all %a5 {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64, group_stride = 2 : i64} : tensor<1x1x12x4xf32> -> tensor<1x2x6x4xf32>
  return %o0, %a1, %o1, %o2, %o4, %4#3, %o5 : tensor<1x2x6x4xf32>, tensor<1x1x12x4xf32>, tensor<1x2x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x1x12x4xf32>, tensor<1x2x6x4xf32>
}

// -----

// (B, S, H, D) operands: kept.
// CHECK-LABEL: func.func @bshd
// CHECK-NOT: vrt.ulysses_attention
// CHECK: return
func.func @bshd(%q: tensor<1x2x6x4xf32>) -> tensor<1x2x6x4xf32> {
  %0:3 = vrt.all_to_all %q, %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32> -> tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>
  %a = vrt.attention %0#0, %0#1, %0#2 {scale = 5.000000e-01 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>} : (tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>, tensor<1x1x12x4xf32>) -> tensor<1x1x12x4xf32>
  %o = vrt.all_to_all %a {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x1x12x4xf32> -> tensor<1x2x6x4xf32>
  return %o : tensor<1x2x6x4xf32>
}
