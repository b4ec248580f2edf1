// RUN: vsa-opt %s -split-input-file | vsa-opt -split-input-file | FileCheck %s
// RUN: vsa-opt %s -split-input-file -mlir-print-op-generic | vsa-opt -split-input-file | FileCheck %s

// Round trip of every dit op through its custom assembly format, and through
// the generic form back to the custom one.

// CHECK-LABEL: func.func @constant
func.func @constant() -> (tensor<3xi64>, tensor<2x2xf32>, tensor<f16>, tensor<2xi1>, tensor<2xui8>) {
  // CHECK: dit.constant dense<[1, 48, 32]> : tensor<3xi64>
  %0 = dit.constant dense<[1, 48, 32]> : tensor<3xi64>
  // CHECK: dit.constant {note = "scale"} dense<{{\[}}[1.000000e+00, 2.500000e+00], [-3.000000e+00, 0.000000e+00]]> : tensor<2x2xf32>
  %1 = dit.constant {note = "scale"} dense<[[1.0, 2.5], [-3.0, 0.0]]> : tensor<2x2xf32>
  // CHECK: dit.constant dense<5.000000e-01> : tensor<f16>
  %2 = dit.constant dense<0.5> : tensor<f16>
  // CHECK: dit.constant dense<[true, false]> : tensor<2xi1>
  %3 = dit.constant dense<[true, false]> : tensor<2xi1>
  // CHECK: dit.constant dense<[0, 255]> : tensor<2xui8>
  %4 = dit.constant dense<[0, 255]> : tensor<2xui8>
  return %0, %1, %2, %3, %4 : tensor<3xi64>, tensor<2x2xf32>, tensor<f16>, tensor<2xi1>, tensor<2xui8>
}

// -----

// CHECK-LABEL: func.func @param
func.func @param() -> (tensor<2x3xf32>, tensor<3xf32>, tensor<3xbf16>, tensor<2x2xf32>) {
  // CHECK: dit.param "blocks.0.attn1.to_q.weight" {perm = array<i64: 1, 0>, source = "val_12"} : tensor<2x3xf32> = dense<{{\[}}[1.000000e+00, 2.000000e+00, 3.000000e+00], [4.000000e+00, 5.000000e+00, 6.000000e+00]]>
  %0 = dit.param "blocks.0.attn1.to_q.weight" {perm = array<i64: 1, 0>, source = "val_12"} : tensor<2x3xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]>
  // CHECK: dit.param "blocks.0.attn1.to_q.bias" : tensor<3xf32>{{$}}
  %1 = dit.param "blocks.0.attn1.to_q.bias" : tensor<3xf32>
  // CHECK: dit.param "norm.weight" {source = "val_3"} : tensor<3xbf16> = dense<5.000000e-01>{{$}}
  %2 = dit.param "norm.weight" {source = "val_3"} : tensor<3xbf16> = dense<0.5>
  // CHECK: dit.param "proj.weight" {perm = array<i64: 1, 0>} : tensor<2x2xf32>{{$}}
  %3 = dit.param "proj.weight" {perm = array<i64: 1, 0>} : tensor<2x2xf32>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<3xf32>, tensor<3xbf16>, tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @binary
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<2x3xf32>, %[[B:[a-z0-9]+]]: tensor<3xf32>, %[[I:[a-z0-9]+]]: tensor<4xi64>, %[[J:[a-z0-9]+]]: tensor<1xi64>)
func.func @binary(%a: tensor<2x3xf32>, %b: tensor<3xf32>, %i: tensor<4xi64>, %j: tensor<1xi64>) {
  // CHECK: dit.add %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %0 = dit.add %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: dit.sub %[[B]], %[[A]] : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = dit.sub %b, %a : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: dit.mul %[[A]], %[[A]] : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = dit.mul %a, %a : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  // CHECK: dit.div %[[I]], %[[J]] : (tensor<4xi64>, tensor<1xi64>) -> tensor<4xi64>
  %3 = dit.div %i, %j : (tensor<4xi64>, tensor<1xi64>) -> tensor<4xi64>
  // CHECK: dit.pow %[[A]], %[[B]] : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %4 = dit.pow %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  // CHECK: dit.max %[[I]], %[[J]] : (tensor<4xi64>, tensor<1xi64>) -> tensor<4xi64>
  %5 = dit.max %i, %j : (tensor<4xi64>, tensor<1xi64>) -> tensor<4xi64>
  // CHECK: dit.min %[[B]], %[[B]] : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %6 = dit.min %b, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  // CHECK: dit.mod %[[I]], %[[J]] : (tensor<4xi64>, tensor<1xi64>) -> tensor<4xi64>
  %7 = dit.mod %i, %j : (tensor<4xi64>, tensor<1xi64>) -> tensor<4xi64>
  // CHECK: dit.mod %[[A]], %[[B]] {fmod = true} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %8 = dit.mod %a, %b {fmod = true} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  return
}

// -----

// CHECK-LABEL: func.func @logical
// CHECK-SAME: (%[[P:[a-z0-9]+]]: tensor<2x4xi1>, %[[Q:[a-z0-9]+]]: tensor<4xi1>)
func.func @logical(%p: tensor<2x4xi1>, %q: tensor<4xi1>) {
  // CHECK: dit.and %[[P]], %[[Q]] : (tensor<2x4xi1>, tensor<4xi1>) -> tensor<2x4xi1>
  %0 = dit.and %p, %q : (tensor<2x4xi1>, tensor<4xi1>) -> tensor<2x4xi1>
  // CHECK: dit.or %[[Q]], %[[P]] : (tensor<4xi1>, tensor<2x4xi1>) -> tensor<2x4xi1>
  %1 = dit.or %q, %p : (tensor<4xi1>, tensor<2x4xi1>) -> tensor<2x4xi1>
  // CHECK: dit.xor %[[Q]], %[[Q]] : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %2 = dit.xor %q, %q : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  // CHECK: dit.not %[[P]] : tensor<2x4xi1>
  %3 = dit.not %p : tensor<2x4xi1>
  return
}

// -----

// CHECK-LABEL: func.func @compare_where
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<4xi64>, %[[B:[a-z0-9]+]]: tensor<1xi64>, %[[C:[a-z0-9]+]]: tensor<2x1xi1>, %[[X:[a-z0-9]+]]: tensor<4xf32>, %[[Y:[a-z0-9]+]]: tensor<f32>)
func.func @compare_where(%a: tensor<4xi64>, %b: tensor<1xi64>, %c: tensor<2x1xi1>, %x: tensor<4xf32>, %y: tensor<f32>) {
  // CHECK: dit.compare eq, %[[A]], %[[B]] : (tensor<4xi64>, tensor<1xi64>) -> tensor<4xi1>
  %0 = dit.compare eq, %a, %b : (tensor<4xi64>, tensor<1xi64>) -> tensor<4xi1>
  // CHECK: dit.compare lt, %[[A]], %[[A]] : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  %1 = dit.compare lt, %a, %a : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi1>
  // CHECK: dit.compare le, %[[X]], %[[Y]] : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
  %2 = dit.compare le, %x, %y : (tensor<4xf32>, tensor<f32>) -> tensor<4xi1>
  // CHECK: dit.compare gt, %[[Y]], %[[X]] : (tensor<f32>, tensor<4xf32>) -> tensor<4xi1>
  %3 = dit.compare gt, %y, %x : (tensor<f32>, tensor<4xf32>) -> tensor<4xi1>
  // CHECK: dit.compare ge, %[[B]], %[[A]] : (tensor<1xi64>, tensor<4xi64>) -> tensor<4xi1>
  %4 = dit.compare ge, %b, %a : (tensor<1xi64>, tensor<4xi64>) -> tensor<4xi1>
  // CHECK: dit.where %[[C]], %[[X]], %[[Y]] : (tensor<2x1xi1>, tensor<4xf32>, tensor<f32>) -> tensor<2x4xf32>
  %5 = dit.where %c, %x, %y : (tensor<2x1xi1>, tensor<4xf32>, tensor<f32>) -> tensor<2x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @unary
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[H:[a-z0-9]+]]: tensor<4xbf16>, %[[I:[a-z0-9]+]]: tensor<4xi32>)
func.func @unary(%x: tensor<2x3xf32>, %h: tensor<4xbf16>, %i: tensor<4xi32>) {
  // CHECK: dit.sqrt %[[X]] : tensor<2x3xf32>
  %0 = dit.sqrt %x : tensor<2x3xf32>
  // CHECK: dit.reciprocal %[[X]] : tensor<2x3xf32>
  %1 = dit.reciprocal %x : tensor<2x3xf32>
  // CHECK: dit.neg %[[I]] : tensor<4xi32>
  %2 = dit.neg %i : tensor<4xi32>
  // CHECK: dit.abs %[[I]] : tensor<4xi32>
  %3 = dit.abs %i : tensor<4xi32>
  // CHECK: dit.exp %[[H]] : tensor<4xbf16>
  %4 = dit.exp %h : tensor<4xbf16>
  // CHECK: dit.log %[[X]] : tensor<2x3xf32>
  %5 = dit.log %x : tensor<2x3xf32>
  // CHECK: dit.sin %[[X]] : tensor<2x3xf32>
  %6 = dit.sin %x : tensor<2x3xf32>
  // CHECK: dit.cos %[[X]] : tensor<2x3xf32>
  %7 = dit.cos %x : tensor<2x3xf32>
  // CHECK: dit.tanh %[[X]] : tensor<2x3xf32>
  %8 = dit.tanh %x : tensor<2x3xf32>
  // CHECK: dit.sigmoid %[[X]] : tensor<2x3xf32>
  %9 = dit.sigmoid %x : tensor<2x3xf32>
  // CHECK: dit.erf %[[X]] : tensor<2x3xf32>
  %10 = dit.erf %x : tensor<2x3xf32>
  // CHECK: dit.floor %[[X]] : tensor<2x3xf32>
  %11 = dit.floor %x : tensor<2x3xf32>
  // CHECK: dit.ceil %[[X]] : tensor<2x3xf32>
  %12 = dit.ceil %x : tensor<2x3xf32>
  // CHECK: dit.relu %[[H]] : tensor<4xbf16>
  %13 = dit.relu %h : tensor<4xbf16>
  // CHECK: dit.neg %[[X]] : tensor<2x3xf32>
  %14 = dit.neg %x : tensor<2x3xf32>
  // CHECK: dit.abs %[[H]] : tensor<4xbf16>
  %15 = dit.abs %h : tensor<4xbf16>
  return
}

// -----

// CHECK-LABEL: func.func @gelu_isnan_cast
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[I:[a-z0-9]+]]: tensor<4xi64>)
func.func @gelu_isnan_cast(%x: tensor<2x3xf32>, %i: tensor<4xi64>) {
  // CHECK: dit.gelu none %[[X]] : tensor<2x3xf32>
  %0 = dit.gelu none %x : tensor<2x3xf32>
  // CHECK: dit.gelu tanh %[[X]] : tensor<2x3xf32>
  %1 = dit.gelu tanh %x : tensor<2x3xf32>
  // CHECK: dit.isnan %[[X]] : (tensor<2x3xf32>) -> tensor<2x3xi1>
  %2 = dit.isnan %x : (tensor<2x3xf32>) -> tensor<2x3xi1>
  // CHECK: dit.cast %[[X]] : tensor<2x3xf32> to tensor<2x3xf16>
  %3 = dit.cast %x : tensor<2x3xf32> to tensor<2x3xf16>
  // CHECK: dit.cast %[[I]] : tensor<4xi64> to tensor<4xi1>
  %4 = dit.cast %i : tensor<4xi64> to tensor<4xi1>
  // CHECK: dit.cast %[[I]] : tensor<4xi64> to tensor<4xui8>
  %5 = dit.cast %i : tensor<4xi64> to tensor<4xui8>
  return
}

// -----

// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<2x1x4x8xf32>, %[[B:[a-z0-9]+]]: tensor<3x8x5xf32>, %[[V:[a-z0-9]+]]: tensor<8xf32>)
func.func @matmul(%a: tensor<2x1x4x8xf32>, %b: tensor<3x8x5xf32>, %v: tensor<8xf32>) {
  // CHECK: dit.matmul %[[A]], %[[B]] : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  %0 = dit.matmul %a, %b : (tensor<2x1x4x8xf32>, tensor<3x8x5xf32>) -> tensor<2x3x4x5xf32>
  // CHECK: dit.matmul %[[A]], %[[V]] : (tensor<2x1x4x8xf32>, tensor<8xf32>) -> tensor<2x1x4xf32>
  %1 = dit.matmul %a, %v : (tensor<2x1x4x8xf32>, tensor<8xf32>) -> tensor<2x1x4xf32>
  // CHECK: dit.matmul %[[V]], %[[B]] : (tensor<8xf32>, tensor<3x8x5xf32>) -> tensor<3x5xf32>
  %2 = dit.matmul %v, %b : (tensor<8xf32>, tensor<3x8x5xf32>) -> tensor<3x5xf32>
  // CHECK: dit.matmul %[[V]], %[[V]] : (tensor<8xf32>, tensor<8xf32>) -> tensor<f32>
  %3 = dit.matmul %v, %v : (tensor<8xf32>, tensor<8xf32>) -> tensor<f32>
  return
}

// -----

// CHECK-LABEL: func.func @gemm
// CHECK-SAME: (%[[A:[a-z0-9]+]]: tensor<4x8xf32>, %[[B:[a-z0-9]+]]: tensor<16x8xf32>, %[[C:[a-z0-9]+]]: tensor<16xf32>)
func.func @gemm(%a: tensor<4x8xf32>, %b: tensor<16x8xf32>, %c: tensor<16xf32>) {
  // CHECK: dit.gemm %[[A]], %[[B]] {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  %0 = dit.gemm %a, %b {trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>) -> tensor<4x16xf32>
  // CHECK: dit.gemm %[[A]], %[[B]], %[[C]] {alpha = 5.000000e-01 : f64, beta = 2.000000e+00 : f64, trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  %1 = dit.gemm %a, %b, %c {alpha = 0.5 : f64, beta = 2.0 : f64, trans_b = true} : (tensor<4x8xf32>, tensor<16x8xf32>, tensor<16xf32>) -> tensor<4x16xf32>
  // CHECK: dit.gemm %[[A]], %[[A]] {trans_a = true} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  %2 = dit.gemm %a, %a {trans_a = true} : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<8x8xf32>
  // Default-valued attributes are elided.
  // CHECK: dit.gemm %[[B]], %[[B]] {trans_a = true} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<8x8xf32>
  %3 = dit.gemm %b, %b {alpha = 1.0 : f64, trans_a = true, trans_b = false} : (tensor<16x8xf32>, tensor<16x8xf32>) -> tensor<8x8xf32>
  return
}

// -----

// CHECK-LABEL: func.func @linear
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x48x32xf32>, %[[W:[a-z0-9]+]]: tensor<32x64xf32>, %[[B:[a-z0-9]+]]: tensor<64xf32>, %[[V:[a-z0-9]+]]: tensor<32xf32>)
func.func @linear(%x: tensor<1x48x32xf32>, %w: tensor<32x64xf32>, %b: tensor<64xf32>, %v: tensor<32xf32>) {
  // CHECK: dit.linear %[[X]], %[[W]], %[[B]] : (tensor<1x48x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
  %0 = dit.linear %x, %w, %b : (tensor<1x48x32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
  // CHECK: dit.linear %[[X]], %[[W]] : (tensor<1x48x32xf32>, tensor<32x64xf32>) -> tensor<1x48x64xf32>
  %1 = dit.linear %x, %w : (tensor<1x48x32xf32>, tensor<32x64xf32>) -> tensor<1x48x64xf32>
  // A vector input gives a vector.
  // CHECK: dit.linear %[[V]], %[[W]], %[[B]] : (tensor<32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<64xf32>
  %2 = dit.linear %v, %w, %b : (tensor<32xf32>, tensor<32x64xf32>, tensor<64xf32>) -> tensor<64xf32>
  return
}

// -----

// CHECK-LABEL: func.func @modulate_gated_add
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x48x32xf32>, %[[S:[a-z0-9]+]]: tensor<2x1x32xf32>, %[[C:[a-z0-9]+]]: tensor<1x32xf32>, %[[Y:[a-z0-9]+]]: tensor<2x48x32xf32>)
func.func @modulate_gated_add(%x: tensor<2x48x32xf32>, %s: tensor<2x1x32xf32>, %c: tensor<1x32xf32>, %y: tensor<2x48x32xf32>) {
  // CHECK: dit.modulate %[[X]], %[[S]], %[[S]] : (tensor<2x48x32xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>) -> tensor<2x48x32xf32>
  %0 = dit.modulate %x, %s, %s : (tensor<2x48x32xf32>, tensor<2x1x32xf32>, tensor<2x1x32xf32>) -> tensor<2x48x32xf32>
  // A (1, C) shift: numpy broadcasting from the trailing axis.
  // CHECK: dit.modulate %[[Y]], %[[C]], %[[S]] : (tensor<2x48x32xf32>, tensor<1x32xf32>, tensor<2x1x32xf32>) -> tensor<2x48x32xf32>
  %1 = dit.modulate %y, %c, %s : (tensor<2x48x32xf32>, tensor<1x32xf32>, tensor<2x1x32xf32>) -> tensor<2x48x32xf32>
  // CHECK: dit.gated_add %[[X]], %[[Y]], %[[S]] : (tensor<2x48x32xf32>, tensor<2x48x32xf32>, tensor<2x1x32xf32>) -> tensor<2x48x32xf32>
  %2 = dit.gated_add %x, %y, %s : (tensor<2x48x32xf32>, tensor<2x48x32xf32>, tensor<2x1x32xf32>) -> tensor<2x48x32xf32>
  return
}

// -----

// CHECK-LABEL: func.func @conv
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<1x4x8x16x16xf32>, %[[W:[a-z0-9]+]]: tensor<6x4x1x2x2xf32>, %[[B:[a-z0-9]+]]: tensor<6xf32>, %[[X2:[a-z0-9]+]]: tensor<1x4x8x8xf32>, %[[W2:[a-z0-9]+]]: tensor<8x2x3x3xf32>)
func.func @conv(%x: tensor<1x4x8x16x16xf32>, %w: tensor<6x4x1x2x2xf32>, %b: tensor<6xf32>, %x2: tensor<1x4x8x8xf32>, %w2: tensor<8x2x3x3xf32>) {
  // CHECK: dit.conv %[[X]], %[[W]], %[[B]] {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 2, 2>} : (tensor<1x4x8x16x16xf32>, tensor<6x4x1x2x2xf32>, tensor<6xf32>) -> tensor<1x6x8x8x8xf32>
  %0 = dit.conv %x, %w, %b {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0, 0, 0>, strides = array<i64: 1, 2, 2>} : (tensor<1x4x8x16x16xf32>, tensor<6x4x1x2x2xf32>, tensor<6xf32>) -> tensor<1x6x8x8x8xf32>
  // CHECK: dit.conv %[[X2]], %[[W2]] {dilations = array<i64: 2, 1>, group = 2 : i64, pads = array<i64: 2, 1, 2, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x8x8xf32>
  %1 = dit.conv %x2, %w2 {dilations = array<i64: 2, 1>, group = 2 : i64, pads = array<i64: 2, 1, 2, 1>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<8x2x3x3xf32>) -> tensor<1x8x8x8xf32>
  return
}

// -----

// CHECK-LABEL: func.func @norms
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[S:[a-z0-9]+]]: tensor<4xf32>, %[[T:[a-z0-9]+]]: tensor<3x4xf32>)
func.func @norms(%x: tensor<2x3x4xf32>, %s: tensor<4xf32>, %t: tensor<3x4xf32>) {
  // CHECK: dit.softmax %[[X]] {axis = -1 : i64} : tensor<2x3x4xf32>
  %0 = dit.softmax %x {axis = -1 : i64} : tensor<2x3x4xf32>
  // CHECK: dit.layer_norm %[[X]] {axis = -1 : i64, epsilon = 9.9999999999999995E-7 : f64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %1 = dit.layer_norm %x {axis = -1 : i64, epsilon = 1.0e-6 : f64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: dit.layer_norm %[[X]] scale %[[S]] {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %2 = dit.layer_norm %x scale %s {axis = 2 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  // CHECK: dit.layer_norm %[[X]] bias %[[S]] {axis = -1 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %3 = dit.layer_norm %x bias %s {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  // CHECK: dit.layer_norm %[[X]] scale %[[T]] bias %[[S]] {axis = 1 : i64, epsilon = 0.000000e+00 : f64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %4 = dit.layer_norm %x scale %t bias %s {axis = 1 : i64, epsilon = 0.0 : f64} : (tensor<2x3x4xf32>, tensor<3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  // CHECK: dit.rms_norm %[[X]] {axis = -1 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  %5 = dit.rms_norm %x {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
  // CHECK: dit.rms_norm %[[X]] scale %[[S]] {axis = 2 : i64, epsilon = 1.000000e-05 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  %6 = dit.rms_norm %x scale %s {axis = 2 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x3x4xf32>, tensor<4xf32>) -> tensor<2x3x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @reduce
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[I:[a-z0-9]+]]: tensor<5xi64>)
func.func @reduce(%x: tensor<2x3x4xf32>, %i: tensor<5xi64>) {
  // CHECK: dit.reduce sum %[[X]] [1] : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  %0 = dit.reduce sum %x [1] : (tensor<2x3x4xf32>) -> tensor<2x1x4xf32>
  // CHECK: dit.reduce mean %[[X]] [0, -1] {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  %1 = dit.reduce mean %x [0, -1] {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<3xf32>
  // CHECK: dit.reduce max %[[X]] [] {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
  %2 = dit.reduce max %x [] {keepdims = false} : (tensor<2x3x4xf32>) -> tensor<f32>
  // CHECK: dit.reduce min %[[I]] [] : (tensor<5xi64>) -> tensor<1xi64>
  %3 = dit.reduce min %i [] : (tensor<5xi64>) -> tensor<1xi64>
  // CHECK: dit.reduce prod %[[I]] [0] : (tensor<5xi64>) -> tensor<1xi64>
  %4 = dit.reduce prod %i [0] {keepdims = true} : (tensor<5xi64>) -> tensor<1xi64>
  return
}

// -----

// CHECK-LABEL: func.func @attention
// CHECK-SAME: (%[[Q:[a-z0-9]+]]: tensor<1x4x6x8xf32>, %[[K:[a-z0-9]+]]: tensor<1x2x5x8xf32>, %[[V:[a-z0-9]+]]: tensor<1x2x5x3xf32>, %[[M:[a-z0-9]+]]: tensor<6x5xi1>, %[[MF:[a-z0-9]+]]: tensor<1x1x6x5xf32>, %[[K6:[a-z0-9]+]]: tensor<1x4x6x8xf32>)
func.func @attention(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x3xf32>, %m: tensor<6x5xi1>, %mf: tensor<1x1x6x5xf32>, %k6: tensor<1x4x6x8xf32>) {
  // CHECK: dit.attention %[[Q]], %[[K]], %[[V]] {scale = 1.250000e-01 : f64} : (tensor<1x4x6x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x3xf32>) -> tensor<1x4x6x3xf32>
  %0 = dit.attention %q, %k, %v {scale = 0.125 : f64} : (tensor<1x4x6x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x3xf32>) -> tensor<1x4x6x3xf32>
  // CHECK: dit.attention %[[Q]], %[[K]], %[[V]] mask %[[M]] role cross {scale = 1.250000e-01 : f64} : (tensor<1x4x6x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x3xf32>, tensor<6x5xi1>) -> tensor<1x4x6x3xf32>
  %1 = dit.attention %q, %k, %v mask %m role cross {scale = 0.125 : f64} : (tensor<1x4x6x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x3xf32>, tensor<6x5xi1>) -> tensor<1x4x6x3xf32>
  // CHECK: dit.attention %[[Q]], %[[K]], %[[V]] mask %[[MF]] {scale = 1.000000e+00 : f64} : (tensor<1x4x6x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x3xf32>, tensor<1x1x6x5xf32>) -> tensor<1x4x6x3xf32>
  %2 = dit.attention %q, %k, %v mask %mf {scale = 1.0 : f64} : (tensor<1x4x6x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x3xf32>, tensor<1x1x6x5xf32>) -> tensor<1x4x6x3xf32>
  // CHECK: dit.attention %[[Q]], %[[K6]], %[[K6]] role self {geometry = #dit.video<t = 1, h = 2, w = 2, prefix = 2, suffix = 0>, is_causal = true, scale = 5.000000e-01 : f64} : (tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>) -> tensor<1x4x6x8xf32>
  %3 = dit.attention %q, %k6, %k6 role self {geometry = #dit.video<t = 1, h = 2, w = 2, prefix = 2, suffix = 0>, is_causal = true, scale = 0.5 : f64} : (tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>, tensor<1x4x6x8xf32>) -> tensor<1x4x6x8xf32>
  return
}

// -----

// The video geometry attribute on its own, with a prefix and a suffix.

// CHECK-LABEL: func.func @video_geometry
// CHECK-SAME: attributes {geometry = #dit.video<t = 21, h = 30, w = 52, prefix = 226, suffix = 1>}
func.func @video_geometry() attributes {geometry = #dit.video<t = 21, h = 30, w = 52, prefix = 226, suffix = 1>} {
  return
}

// -----

// CHECK-LABEL: func.func @data_movement
// CHECK-SAME: (%[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[Y:[a-z0-9]+]]: tensor<2x5x4xf32>, %[[S:[a-z0-9]+]]: tensor<1x4xf32>)
func.func @data_movement(%x: tensor<2x3x4xf32>, %y: tensor<2x5x4xf32>, %s: tensor<1x4xf32>) {
  // CHECK: dit.reshape %[[X]] : tensor<2x3x4xf32> -> tensor<6x4xf32>
  %0 = dit.reshape %x : tensor<2x3x4xf32> -> tensor<6x4xf32>
  // CHECK: dit.transpose %[[X]] [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  %1 = dit.transpose %x [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
  // CHECK: dit.slice %[[X]] offsets [0, 2, 1] strides [1, -1, 2] : tensor<2x3x4xf32> -> tensor<2x3x2xf32>
  %2 = dit.slice %x offsets [0, 2, 1] strides [1, -1, 2] : tensor<2x3x4xf32> -> tensor<2x3x2xf32>
  // CHECK: dit.concat %[[X]], %[[Y]], %[[X]] {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x3x4xf32>) -> tensor<2x11x4xf32>
  %3 = dit.concat %x, %y, %x {axis = 1 : i64} : (tensor<2x3x4xf32>, tensor<2x5x4xf32>, tensor<2x3x4xf32>) -> tensor<2x11x4xf32>
  // CHECK: dit.broadcast %[[S]] : tensor<1x4xf32> -> tensor<2x3x4xf32>
  %4 = dit.broadcast %s : tensor<1x4xf32> -> tensor<2x3x4xf32>
  // CHECK: dit.tile %[[S]] [3, 2] : tensor<1x4xf32> -> tensor<3x8xf32>
  %5 = dit.tile %s [3, 2] : tensor<1x4xf32> -> tensor<3x8xf32>
  // CHECK: dit.pad %[[X]] [0, 1, 0, 0, -1, 2] : tensor<2x3x4xf32> -> tensor<2x3x6xf32>
  %6 = dit.pad %x [0, 1, 0, 0, -1, 2] : tensor<2x3x4xf32> -> tensor<2x3x6xf32>
  // CHECK: dit.pad %[[S]] [1, 0, 1, 0] {padding_value = -1.000000e+00 : f64} : tensor<1x4xf32> -> tensor<3x4xf32>
  %7 = dit.pad %s [1, 0, 1, 0] {padding_value = -1.0 : f64} : tensor<1x4xf32> -> tensor<3x4xf32>
  return
}

// -----

// CHECK-LABEL: func.func @gather_scatter
// CHECK-SAME: (%[[D:[a-z0-9]+]]: tensor<4x5x6xf32>, %[[I:[a-z0-9]+]]: tensor<2x3xi64>, %[[J:[a-z0-9]+]]: tensor<3x2xi32>, %[[U:[a-z0-9]+]]: tensor<3x6xf32>, %[[E:[a-z0-9]+]]: tensor<2x5x6xi64>, %[[F:[a-z0-9]+]]: tensor<2x5x6xf32>)
func.func @gather_scatter(%d: tensor<4x5x6xf32>, %i: tensor<2x3xi64>, %j: tensor<3x2xi32>, %u: tensor<3x6xf32>, %e: tensor<2x5x6xi64>, %f: tensor<2x5x6xf32>) {
  // CHECK: dit.gather %[[D]][%[[I]]] {axis = 1 : i64} : (tensor<4x5x6xf32>, tensor<2x3xi64>) -> tensor<4x2x3x6xf32>
  %0 = dit.gather %d[%i] {axis = 1 : i64} : (tensor<4x5x6xf32>, tensor<2x3xi64>) -> tensor<4x2x3x6xf32>
  // CHECK: dit.scatter_nd %[[D]][%[[J]]], %[[U]] : (tensor<4x5x6xf32>, tensor<3x2xi32>, tensor<3x6xf32>) -> tensor<4x5x6xf32>
  %1 = dit.scatter_nd %d[%j], %u : (tensor<4x5x6xf32>, tensor<3x2xi32>, tensor<3x6xf32>) -> tensor<4x5x6xf32>
  // CHECK: dit.scatter_nd %[[D]][%[[J]]], %[[U]] reduction add : (tensor<4x5x6xf32>, tensor<3x2xi32>, tensor<3x6xf32>) -> tensor<4x5x6xf32>
  %2 = dit.scatter_nd %d[%j], %u reduction add : (tensor<4x5x6xf32>, tensor<3x2xi32>, tensor<3x6xf32>) -> tensor<4x5x6xf32>
  // CHECK: dit.scatter_elements %[[D]][%[[E]]], %[[F]] {axis = 0 : i64} : (tensor<4x5x6xf32>, tensor<2x5x6xi64>, tensor<2x5x6xf32>) -> tensor<4x5x6xf32>
  %3 = dit.scatter_elements %d[%e], %f {axis = 0 : i64} : (tensor<4x5x6xf32>, tensor<2x5x6xi64>, tensor<2x5x6xf32>) -> tensor<4x5x6xf32>
  // CHECK: dit.scatter_elements %[[D]][%[[E]]], %[[F]] reduction mul {axis = -3 : i64} : (tensor<4x5x6xf32>, tensor<2x5x6xi64>, tensor<2x5x6xf32>) -> tensor<4x5x6xf32>
  %4 = dit.scatter_elements %d[%e], %f reduction mul {axis = -3 : i64} : (tensor<4x5x6xf32>, tensor<2x5x6xi64>, tensor<2x5x6xf32>) -> tensor<4x5x6xf32>
  // CHECK: dit.scatter_elements %[[D]][%[[E]]], %[[F]] reduction max {axis = 0 : i64}
  %5 = dit.scatter_elements %d[%e], %f reduction max {axis = 0 : i64} : (tensor<4x5x6xf32>, tensor<2x5x6xi64>, tensor<2x5x6xf32>) -> tensor<4x5x6xf32>
  // CHECK: dit.scatter_nd %[[D]][%[[J]]], %[[U]] reduction min :
  %6 = dit.scatter_nd %d[%j], %u reduction min : (tensor<4x5x6xf32>, tensor<3x2xi32>, tensor<3x6xf32>) -> tensor<4x5x6xf32>
  // CHECK: dit.scatter_nd %[[D]][%[[J]]], %[[U]] :
  %7 = dit.scatter_nd %d[%j], %u reduction none : (tensor<4x5x6xf32>, tensor<3x2xi32>, tensor<3x6xf32>) -> tensor<4x5x6xf32>
  return
}

// -----

// CHECK-LABEL: func.func @rope
func.func @rope(%x: tensor<1x48x2x16xf32>, %c: tensor<1x48x1x8xf32>, %y: tensor<1x2x48x16xf32>, %s: tensor<48x8xf32>) {
  // CHECK: dit.rope %{{.*}}, %{{.*}}, %{{.*}} {interleaved} : (tensor<1x48x2x16xf32>, tensor<1x48x1x8xf32>, tensor<1x48x1x8xf32>) -> tensor<1x48x2x16xf32>
  %0 = dit.rope %x, %c, %c {interleaved} : (tensor<1x48x2x16xf32>, tensor<1x48x1x8xf32>, tensor<1x48x1x8xf32>) -> tensor<1x48x2x16xf32>
  // CHECK: dit.rope %{{.*}}, %{{.*}}, %{{.*}} : (tensor<1x2x48x16xf32>, tensor<48x8xf32>, tensor<48x8xf32>) -> tensor<1x2x48x16xf32>
  %1 = dit.rope %y, %s, %s : (tensor<1x2x48x16xf32>, tensor<48x8xf32>, tensor<48x8xf32>) -> tensor<1x2x48x16xf32>
  return
}

// -----

// CHECK-LABEL: func.func @context_parallel
func.func @context_parallel(%x: tensor<1x48x32xf32>, %q: tensor<1x2x24x16xf32>) -> (tensor<1x24x32xf32>, tensor<1x1x48x16xf32>, tensor<1x2x24x16xf32>, tensor<1x96x32xf32>) {
  // CHECK: dit.shard %{{.*}} axis 1 degree 2 : tensor<1x48x32xf32> -> tensor<1x24x32xf32>
  %0 = dit.shard %x axis 1 degree 2 : tensor<1x48x32xf32> -> tensor<1x24x32xf32>
  // CHECK: dit.all_to_all %{{.*}} scatter 1 gather 2 degree 2 : tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>
  %1 = dit.all_to_all %q scatter 1 gather 2 degree 2 : tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>
  // CHECK: dit.all_to_all %{{.*}} scatter 2 gather 1 degree 2 : tensor<1x1x48x16xf32> -> tensor<1x2x24x16xf32>
  %2 = dit.all_to_all %1 scatter 2 gather 1 degree 2 : tensor<1x1x48x16xf32> -> tensor<1x2x24x16xf32>
  // CHECK: dit.all_gather %{{.*}} axis 1 degree 2 : tensor<1x48x32xf32> -> tensor<1x96x32xf32>
  %3 = dit.all_gather %x axis 1 degree 2 : tensor<1x48x32xf32> -> tensor<1x96x32xf32>
  return %0, %1, %2, %3 : tensor<1x24x32xf32>, tensor<1x1x48x16xf32>, tensor<1x2x24x16xf32>, tensor<1x96x32xf32>
}

// -----

// Ring attention (context parallelism) and collectives of a group at a
// stride (hybrid parallelism); the default stride 1 is not printed.
// CHECK-LABEL: func.func @ring
func.func @ring(%q: tensor<1x4x24x16xf32>, %k: tensor<1x2x24x16xf32>, %mk: tensor<1x1x1x48xf32>, %ml: tensor<1x1x1x24xf32>) -> tensor<1x4x24x16xf32> {
  // CHECK: dit.ring_attention %{{.*}}, %{{.*}}, %{{.*}} degree 2 {scale = 2.500000e-01 : f64} : (tensor<1x4x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>) -> tensor<1x4x24x16xf32>
  %0 = dit.ring_attention %q, %k, %k degree 2 {scale = 0.25 : f64, stride = 1 : i64} : (tensor<1x4x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>) -> tensor<1x4x24x16xf32>
  // CHECK: dit.ring_attention %{{.*}} degree 4 {scale = 2.500000e-01 : f64, stride = 2 : i64}
  %1 = dit.ring_attention %0, %k, %k degree 4 {scale = 0.25 : f64, stride = 2 : i64} : (tensor<1x4x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>) -> tensor<1x4x24x16xf32>
  // CHECK: dit.ring_attention %{{.*}}, %{{.*}}, %{{.*}} mask %{{.*}} local(%{{.*}}, %{{.*}}) local_mask %{{.*}} degree 2
  // CHECK: dit.ring_attention %{{.*}}, %{{.*}}, %{{.*}} local(%{{.*}}, %{{.*}}) degree 2
  %tm = dit.ring_attention %1, %k, %k mask %mk local(%k, %k) local_mask %ml degree 2 {scale = 0.25 : f64} : (tensor<1x4x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x1x1x48xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x1x1x24xf32>) -> tensor<1x4x24x16xf32>
  %t = dit.ring_attention %1, %k, %k local(%k, %k) degree 2 {scale = 0.25 : f64} : (tensor<1x4x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32>) -> tensor<1x4x24x16xf32>
  // CHECK: dit.shard %{{.*}} axis 2 degree 2 {stride = 4 : i64}
  %2 = dit.shard %1 axis 2 degree 2 {stride = 4 : i64} : tensor<1x4x24x16xf32> -> tensor<1x4x12x16xf32>
  // CHECK: dit.all_gather %{{.*}} axis 2 degree 2 {stride = 4 : i64}
  %3 = dit.all_gather %2 axis 2 degree 2 {stride = 4 : i64} : tensor<1x4x12x16xf32> -> tensor<1x4x24x16xf32>
  return %3 : tensor<1x4x24x16xf32>
}
