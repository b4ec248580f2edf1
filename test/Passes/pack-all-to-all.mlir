// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-pack-all-to-all))' | FileCheck %s

// Ulysses' q, k and v all-to-alls, adjacent and alike, become one packed
// collective; the one of another type and the one after another op stay.
// CHECK-LABEL: func.func @qkv
// CHECK: %[[P:.*]]:3 = vrt.all_to_all %arg0, %arg1, %arg2 {gather_axis = 2 : i64, group_size = 2 : i64, scatter_axis = 1 : i64} : tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>
// CHECK-NEXT: vrt.all_to_all %arg3 {{.*}} : tensor<1x2x24x8xf32> -> tensor<1x1x48x8xf32>
// CHECK-NEXT: vrt.attention %[[P]]#0, %[[P]]#1, %[[P]]#2
// CHECK-NEXT: vrt.all_to_all %{{.*}} {gather_axis = 1 : i64, group_size = 2 : i64, scatter_axis = 2 : i64} : tensor<1x1x48x16xf32> -> tensor<1x2x24x16xf32>
// CHECK-NEXT: vrt.all_to_all %arg0 {gather_axis = 2 : i64, group_size = 2 : i64, group_stride = 2 : i64, scatter_axis = 1 : i64}
// CHECK-NEXT: return
func.func @qkv(%q: tensor<1x2x24x16xf32>, %k: tensor<1x2x24x16xf32>, %v: tensor<1x2x24x16xf32>, %w: tensor<1x2x24x8xf32>) -> tensor<1x2x24x16xf32> {
  %0 = vrt.all_to_all %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>
  %1 = vrt.all_to_all %k {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>
  %2 = vrt.all_to_all %v {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>
  %3 = vrt.all_to_all %w {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x24x8xf32> -> tensor<1x1x48x8xf32>
  %4 = vrt.attention %0, %1, %2 {scale = 2.500000e-01 : f64} : (tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>) -> tensor<1x1x48x16xf32>
  %5 = vrt.all_to_all %4 {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x1x48x16xf32> -> tensor<1x2x24x16xf32>
  // Another group (stride 2): not packed with the one before.
  %6 = vrt.all_to_all %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, group_stride = 2 : i64} : tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>
  return %5 : tensor<1x2x24x16xf32>
}

// -----

// Nine alike: one collective takes at most 8 tensors.
// CHECK-LABEL: func.func @nine
// CHECK: vrt.all_to_all %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0, %arg0 {
// CHECK-NEXT: vrt.all_to_all %arg0 {
// CHECK-NEXT: return
func.func @nine(%x: tensor<4x2xf32>) {
  %0 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  %1 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  %2 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  %3 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  %4 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  %5 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  %6 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  %7 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  %8 = vrt.all_to_all %x {scatter_axis = 0 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<4x2xf32> -> tensor<2x4xf32>
  return
}
