// RUN: vsa-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dit-raise-rms-norm),canonicalize)' | FileCheck %s

// torch's RMSNorm below opset 23: Pow/ReduceMean/Add/Sqrt/Reciprocal/Mul/Mul.
// CHECK-LABEL: func.func @dynamo_form
// CHECK-SAME: (%[[X:.*]]: tensor<1x6x8xf32>)
// CHECK: %[[W:.*]] = dit.param "norm_q.weight"
// CHECK: %[[R:.*]] = dit.rms_norm %[[X]] scale %[[W]] {axis = 2 : i64, epsilon = 9.9999999747524271E-7 : f64}
// CHECK-NOT: dit.pow
// CHECK: return %[[R]]
func.func @dynamo_form(%x: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
  %two = dit.constant dense<2.0> : tensor<f32>
  %eps = dit.constant dense<9.99999997E-7> : tensor<f32>
  %w = dit.param "norm_q.weight" : tensor<8xf32>
  %sq = dit.pow %x, %two : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  %m = dit.reduce mean %sq [2] : (tensor<1x6x8xf32>) -> tensor<1x6x1xf32>
  %a = dit.add %m, %eps : (tensor<1x6x1xf32>, tensor<f32>) -> tensor<1x6x1xf32>
  %s = dit.sqrt %a : tensor<1x6x1xf32>
  %r = dit.reciprocal %s : tensor<1x6x1xf32>
  %n = dit.mul %x, %r : (tensor<1x6x8xf32>, tensor<1x6x1xf32>) -> tensor<1x6x8xf32>
  %y = dit.mul %n, %w : (tensor<1x6x8xf32>, tensor<8xf32>) -> tensor<1x6x8xf32>
  return %y : tensor<1x6x8xf32>
}

// -----

// TorchScript's form: x * x, axis -1, 1 / sqrt, weight on the left.
// CHECK-LABEL: func.func @torchscript_form
// CHECK-SAME: (%[[X:.*]]: tensor<1x6x8xf32>)
// CHECK: dit.rms_norm %[[X]] scale %{{.*}} {axis = 2 : i64, epsilon = 9.9999997473787516E-6 : f64}
// CHECK-NOT: dit.div
func.func @torchscript_form(%x: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
  %one = dit.constant dense<1.0> : tensor<f32>
  %eps = dit.constant dense<1.0e-5> : tensor<f32>
  %w = dit.param "norm.weight" : tensor<8xf32>
  %sq = dit.mul %x, %x : (tensor<1x6x8xf32>, tensor<1x6x8xf32>) -> tensor<1x6x8xf32>
  %m = dit.reduce mean %sq [-1] : (tensor<1x6x8xf32>) -> tensor<1x6x1xf32>
  %a = dit.add %m, %eps : (tensor<1x6x1xf32>, tensor<f32>) -> tensor<1x6x1xf32>
  %s = dit.sqrt %a : tensor<1x6x1xf32>
  %r = dit.div %one, %s : (tensor<f32>, tensor<1x6x1xf32>) -> tensor<1x6x1xf32>
  %n = dit.mul %r, %x : (tensor<1x6x1xf32>, tensor<1x6x8xf32>) -> tensor<1x6x8xf32>
  %y = dit.mul %w, %n : (tensor<8xf32>, tensor<1x6x8xf32>) -> tensor<1x6x8xf32>
  return %y : tensor<1x6x8xf32>
}

// -----

// x / sqrt(...) over the two trailing axes, without a weight.
// CHECK-LABEL: func.func @div_form_no_weight
// CHECK: dit.rms_norm %{{.*}} {axis = 1 : i64, epsilon = 0.000000e+00 : f64} : (tensor<2x3x4xf32>) -> tensor<2x3x4xf32>
func.func @div_form_no_weight(%x: tensor<2x3x4xf32>) -> tensor<2x3x4xf32> {
  %two = dit.constant dense<2.0> : tensor<f32>
  %eps = dit.constant dense<0.0> : tensor<f32>
  %sq = dit.pow %x, %two : (tensor<2x3x4xf32>, tensor<f32>) -> tensor<2x3x4xf32>
  %m = dit.reduce mean %sq [2, 1] : (tensor<2x3x4xf32>) -> tensor<2x1x1xf32>
  %a = dit.add %m, %eps : (tensor<2x1x1xf32>, tensor<f32>) -> tensor<2x1x1xf32>
  %s = dit.sqrt %a : tensor<2x1x1xf32>
  %n = dit.div %x, %s : (tensor<2x3x4xf32>, tensor<2x1x1xf32>) -> tensor<2x3x4xf32>
  return %n : tensor<2x3x4xf32>
}

// -----

// Not RMSNorm: the mean is over a leading axis.
// CHECK-LABEL: func.func @leading_axis
// CHECK-NOT: dit.rms_norm
// CHECK: dit.reciprocal
func.func @leading_axis(%x: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
  %two = dit.constant dense<2.0> : tensor<f32>
  %eps = dit.constant dense<1.0e-6> : tensor<f32>
  %sq = dit.pow %x, %two : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  %m = dit.reduce mean %sq [1] : (tensor<1x6x8xf32>) -> tensor<1x1x8xf32>
  %a = dit.add %m, %eps : (tensor<1x1x8xf32>, tensor<f32>) -> tensor<1x1x8xf32>
  %s = dit.sqrt %a : tensor<1x1x8xf32>
  %r = dit.reciprocal %s : tensor<1x1x8xf32>
  %n = dit.mul %x, %r : (tensor<1x6x8xf32>, tensor<1x1x8xf32>) -> tensor<1x6x8xf32>
  return %n : tensor<1x6x8xf32>
}

// -----

// Not RMSNorm: the square is of another tensor than the one normalised, and
// the exponent is 3.
// CHECK-LABEL: func.func @other_tensor
// CHECK-NOT: dit.rms_norm
// CHECK-LABEL: func.func @cube
// CHECK-NOT: dit.rms_norm
func.func @other_tensor(%x: tensor<1x6x8xf32>, %z: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
  %two = dit.constant dense<2.0> : tensor<f32>
  %eps = dit.constant dense<1.0e-6> : tensor<f32>
  %sq = dit.pow %z, %two : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  %m = dit.reduce mean %sq [2] : (tensor<1x6x8xf32>) -> tensor<1x6x1xf32>
  %a = dit.add %m, %eps : (tensor<1x6x1xf32>, tensor<f32>) -> tensor<1x6x1xf32>
  %s = dit.sqrt %a : tensor<1x6x1xf32>
  %r = dit.reciprocal %s : tensor<1x6x1xf32>
  %n = dit.mul %x, %r : (tensor<1x6x8xf32>, tensor<1x6x1xf32>) -> tensor<1x6x8xf32>
  return %n : tensor<1x6x8xf32>
}
func.func @cube(%x: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
  %three = dit.constant dense<3.0> : tensor<f32>
  %eps = dit.constant dense<1.0e-6> : tensor<f32>
  %sq = dit.pow %x, %three : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  %m = dit.reduce mean %sq [2] : (tensor<1x6x8xf32>) -> tensor<1x6x1xf32>
  %a = dit.add %m, %eps : (tensor<1x6x1xf32>, tensor<f32>) -> tensor<1x6x1xf32>
  %s = dit.sqrt %a : tensor<1x6x1xf32>
  %r = dit.reciprocal %s : tensor<1x6x1xf32>
  %n = dit.mul %x, %r : (tensor<1x6x8xf32>, tensor<1x6x1xf32>) -> tensor<1x6x8xf32>
  return %n : tensor<1x6x8xf32>
}

// -----

// A weight that does not match the normalised axis stays a separate multiply.
// CHECK-LABEL: func.func @weight_on_other_axis
// CHECK: %[[N:.*]] = dit.rms_norm %{{.*}} {axis = 2
// CHECK: dit.mul %[[N]]
func.func @weight_on_other_axis(%x: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
  %two = dit.constant dense<2.0> : tensor<f32>
  %eps = dit.constant dense<1.0e-6> : tensor<f32>
  %w = dit.param "w" : tensor<6x1xf32>
  %sq = dit.pow %x, %two : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  %m = dit.reduce mean %sq [2] : (tensor<1x6x8xf32>) -> tensor<1x6x1xf32>
  %a = dit.add %m, %eps : (tensor<1x6x1xf32>, tensor<f32>) -> tensor<1x6x1xf32>
  %s = dit.sqrt %a : tensor<1x6x1xf32>
  %r = dit.reciprocal %s : tensor<1x6x1xf32>
  %n = dit.mul %x, %r : (tensor<1x6x8xf32>, tensor<1x6x1xf32>) -> tensor<1x6x8xf32>
  %y = dit.mul %n, %w : (tensor<1x6x8xf32>, tensor<6x1xf32>) -> tensor<1x6x8xf32>
  return %y : tensor<1x6x8xf32>
}
