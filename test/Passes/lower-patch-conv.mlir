// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(dit-lower-patch-conv))' | FileCheck %s

// Wan's 3-D patch embedding: (1, 4, 3, 8, 8) in, kernel = stride = (1, 2, 2),
// 32 channels out. The input splits into (N, C, 3, 1, 4, 2, 4, 2), patches
// go first: (N, 3, 4, 4, C, 1, 2, 2) = (1, 48, 16); the weight flattens to
// (32, 16) and is transposed to the linear's (K, N) = (16, 32); the result
// (1, 48, 32) goes back to (1, 3, 4, 4, 32) and channels-first.
// CHECK-LABEL: func.func @wan_patch
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x4x3x8x8xf32>, %[[W:[a-z0-9]+]]: tensor<32x4x1x2x2xf32>, %[[B:[a-z0-9]+]]: tensor<32xf32>)
// CHECK-NEXT: %[[S:.*]] = dit.reshape %[[X]] : tensor<1x4x3x8x8xf32> -> tensor<1x4x3x1x4x2x4x2xf32>
// CHECK-NEXT: %[[P:.*]] = dit.transpose %[[S]] [0, 2, 4, 6, 1, 3, 5, 7] : tensor<1x4x3x1x4x2x4x2xf32> -> tensor<1x3x4x4x4x1x2x2xf32>
// CHECK-NEXT: %[[COLS:.*]] = dit.reshape %[[P]] : tensor<1x3x4x4x4x1x2x2xf32> -> tensor<1x48x16xf32>
// CHECK-NEXT: %[[WF:.*]] = dit.reshape %[[W]] : tensor<32x4x1x2x2xf32> -> tensor<32x16xf32>
// CHECK-NEXT: %[[WT:.*]] = dit.transpose %[[WF]] [1, 0] : tensor<32x16xf32> -> tensor<16x32xf32>
// CHECK-NEXT: %[[Y:.*]] = dit.linear %[[COLS]], %[[WT]], %[[B]] : (tensor<1x48x16xf32>, tensor<16x32xf32>, tensor<32xf32>) -> tensor<1x48x32xf32>
// CHECK-NEXT: %[[G:.*]] = dit.reshape %[[Y]] : tensor<1x48x32xf32> -> tensor<1x3x4x4x32xf32>
// CHECK-NEXT: %[[O:.*]] = dit.transpose %[[G]] [0, 4, 1, 2, 3] : tensor<1x3x4x4x32xf32> -> tensor<1x32x3x4x4xf32>
// CHECK-NEXT: return %[[O]] : tensor<1x32x3x4x4xf32>
// CHECK-NOT: dit.conv
func.func @wan_patch(%x: tensor<1x4x3x8x8xf32>, %w: tensor<32x4x1x2x2xf32>, %b: tensor<32xf32>) -> tensor<1x32x3x4x4xf32> {
  %0 = dit.conv %x, %w, %b {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 2, 2>} : (tensor<1x4x3x8x8xf32>, tensor<32x4x1x2x2xf32>, tensor<32xf32>) -> tensor<1x32x3x4x4xf32>
  return %0 : tensor<1x32x3x4x4xf32>
}

// -----

// CogVideoX-style 2-D patch embedding without bias: (2, 3, 8, 6) with a
// 2x3 kernel, 5 channels out: 4x2 patches of 3·2·3 = 18.
// CHECK-LABEL: func.func @patch_2d
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x8x6xf32>, %[[W:[a-z0-9]+]]: tensor<5x3x2x3xf32>)
// CHECK-NEXT: %[[S:.*]] = dit.reshape %[[X]] : tensor<2x3x8x6xf32> -> tensor<2x3x4x2x2x3xf32>
// CHECK-NEXT: %[[P:.*]] = dit.transpose %[[S]] [0, 2, 4, 1, 3, 5] : tensor<2x3x4x2x2x3xf32> -> tensor<2x4x2x3x2x3xf32>
// CHECK-NEXT: %[[COLS:.*]] = dit.reshape %[[P]] : tensor<2x4x2x3x2x3xf32> -> tensor<2x8x18xf32>
// CHECK-NEXT: %[[WF:.*]] = dit.reshape %[[W]] : tensor<5x3x2x3xf32> -> tensor<5x18xf32>
// CHECK-NEXT: %[[WT:.*]] = dit.transpose %[[WF]] [1, 0] : tensor<5x18xf32> -> tensor<18x5xf32>
// CHECK-NEXT: %[[Y:.*]] = dit.linear %[[COLS]], %[[WT]] : (tensor<2x8x18xf32>, tensor<18x5xf32>) -> tensor<2x8x5xf32>
// CHECK-NEXT: %[[G:.*]] = dit.reshape %[[Y]] : tensor<2x8x5xf32> -> tensor<2x4x2x5xf32>
// CHECK-NEXT: %[[O:.*]] = dit.transpose %[[G]] [0, 3, 1, 2] : tensor<2x4x2x5xf32> -> tensor<2x5x4x2xf32>
// CHECK-NEXT: return %[[O]] : tensor<2x5x4x2xf32>
func.func @patch_2d(%x: tensor<2x3x8x6xf32>, %w: tensor<5x3x2x3xf32>) -> tensor<2x5x4x2xf32> {
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 3>} : (tensor<2x3x8x6xf32>, tensor<5x3x2x3xf32>) -> tensor<2x5x4x2xf32>
  return %0 : tensor<2x5x4x2xf32>
}

// -----

// Stride = kernel, but the input is not a whole number of patches (9 = 4·2
// + 1): the convolution never reads the last row and column, so they are
// sliced off first.
// CHECK-LABEL: func.func @patch_remainder
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x4x9x9xf32>, %[[W:[a-z0-9]+]]: tensor<8x4x2x2xf32>)
// CHECK-NEXT: %[[C:.*]] = dit.slice %[[X]] offsets [0, 0, 0, 0] strides [1, 1, 1, 1] : tensor<1x4x9x9xf32> -> tensor<1x4x8x8xf32>
// CHECK-NEXT: dit.reshape %[[C]] : tensor<1x4x8x8xf32> -> tensor<1x4x4x2x4x2xf32>
// CHECK: dit.linear %{{.*}}, %{{.*}} : (tensor<1x16x16xf32>, tensor<16x8xf32>) -> tensor<1x16x8xf32>
// CHECK: dit.transpose %{{.*}} [0, 3, 1, 2] : tensor<1x4x4x8xf32> -> tensor<1x8x4x4xf32>
// CHECK-NOT: dit.conv
func.func @patch_remainder(%x: tensor<1x4x9x9xf32>, %w: tensor<8x4x2x2xf32>) -> tensor<1x8x4x4xf32> {
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x9x9xf32>, tensor<8x4x2x2xf32>) -> tensor<1x8x4x4xf32>
  return %0 : tensor<1x8x4x4xf32>
}

// -----

// Convolutions that are not patch embeddings are left alone.
// CHECK-LABEL: func.func @not_patches
// CHECK-NEXT: dit.conv {{.*}} pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>}
// CHECK-NEXT: dit.conv {{.*}} pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>}
// CHECK-NEXT: dit.conv {{.*}} {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
// CHECK-NEXT: dit.conv {{.*}} {dilations = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>}
// CHECK-NEXT: dit.conv {{.*}} pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 1>}
// CHECK-NOT: dit.linear
// CHECK-NOT: dit.transpose
// CHECK: return
func.func @not_patches(%x: tensor<1x4x8x8xf32>, %w: tensor<8x4x2x2xf32>, %wg: tensor<8x2x2x2xf32>)
    -> (tensor<1x8x5x5xf32>, tensor<1x8x7x7xf32>, tensor<1x8x4x4xf32>, tensor<1x8x3x3xf32>, tensor<1x8x4x7xf32>) {
  // Padding.
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1, 1, 1>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>, tensor<8x4x2x2xf32>) -> tensor<1x8x5x5xf32>
  // Overlapping windows: stride 1 < kernel 2.
  %1 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<8x4x2x2xf32>) -> tensor<1x8x7x7xf32>
  // Two groups.
  %2 = dit.conv %x, %wg {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>, tensor<8x2x2x2xf32>) -> tensor<1x8x4x4xf32>
  // Dilation.
  %3 = dit.conv %x, %w {dilations = array<i64: 2, 2>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x4x8x8xf32>, tensor<8x4x2x2xf32>) -> tensor<1x8x3x3xf32>
  // Stride equal to the kernel along one axis only.
  %4 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 2, 1>} : (tensor<1x4x8x8xf32>, tensor<8x4x2x2xf32>) -> tensor<1x8x4x7xf32>
  return %0, %1, %2, %3, %4 : tensor<1x8x5x5xf32>, tensor<1x8x7x7xf32>, tensor<1x8x4x4xf32>, tensor<1x8x3x3xf32>, tensor<1x8x4x7xf32>
}
