// RUN: vsa-opt %s -split-input-file -pass-pipeline='builtin.module(func.func(dit-raise-gelu),canonicalize)' | FileCheck %s

// TorchScript's tanh GELU (wan_t2v_ts17): x^3 as x * (x * x), the constant
// operands on the right, 0.5 applied last.
// CHECK-LABEL: func.func @tanh_torchscript
// CHECK-SAME: (%[[X:.*]]: tensor<1x6x8xf32>)
// CHECK: %[[G:.*]] = dit.gelu tanh %[[X]] : tensor<1x6x8xf32>
// CHECK-NOT: dit.tanh
// CHECK-NOT: dit.mul
// CHECK: return %[[G]]
func.func @tanh_torchscript(%x: tensor<1x6x8xf32>) -> tensor<1x6x8xf32> {
  %half = dit.constant dense<5.000000e-01> : tensor<f32>
  %one = dit.constant dense<1.000000e+00> : tensor<f32>
  %k = dit.constant dense<0.797884583> : tensor<f32>
  %c = dit.constant dense<4.471500e-02> : tensor<f32>
  %0 = dit.mul %x, %x : (tensor<1x6x8xf32>, tensor<1x6x8xf32>) -> tensor<1x6x8xf32>
  %1 = dit.mul %x, %0 : (tensor<1x6x8xf32>, tensor<1x6x8xf32>) -> tensor<1x6x8xf32>
  %2 = dit.mul %1, %c : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  %3 = dit.add %x, %2 : (tensor<1x6x8xf32>, tensor<1x6x8xf32>) -> tensor<1x6x8xf32>
  %4 = dit.mul %3, %k : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  %5 = dit.tanh %4 : tensor<1x6x8xf32>
  %6 = dit.add %5, %one : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  %7 = dit.mul %x, %6 : (tensor<1x6x8xf32>, tensor<1x6x8xf32>) -> tensor<1x6x8xf32>
  %8 = dit.mul %7, %half : (tensor<1x6x8xf32>, tensor<f32>) -> tensor<1x6x8xf32>
  return %8 : tensor<1x6x8xf32>
}

// -----

// The textbook order: pow(x, 3), constants on the left, 0.5 * x first.
// CHECK-LABEL: func.func @tanh_pow_constants_left
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK: dit.gelu tanh %[[X]] : tensor<4x8xf32>
// CHECK-NOT: dit.pow
func.func @tanh_pow_constants_left(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %half = dit.constant dense<5.000000e-01> : tensor<1xf32>
  %one = dit.constant dense<1.000000e+00> : tensor<f32>
  %three = dit.constant dense<3.000000e+00> : tensor<f32>
  %k = dit.constant dense<0.797884583> : tensor<f32>
  %c = dit.constant dense<4.471500e-02> : tensor<f32>
  %0 = dit.pow %x, %three : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = dit.mul %c, %0 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %2 = dit.add %1, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = dit.mul %k, %2 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = dit.tanh %3 : tensor<4x8xf32>
  %5 = dit.add %one, %4 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %6 = dit.mul %half, %x : (tensor<1xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %7 = dit.mul %6, %5 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %7 : tensor<4x8xf32>
}

// -----

// Exact GELU: x / sqrt(2) ...
// CHECK-LABEL: func.func @erf_div
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK: dit.gelu none %[[X]] : tensor<4x8xf32>
// CHECK-NOT: dit.erf
func.func @erf_div(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %half = dit.constant dense<5.000000e-01> : tensor<f32>
  %one = dit.constant dense<1.000000e+00> : tensor<f32>
  %sqrt2 = dit.constant dense<1.41421354> : tensor<f32>
  %0 = dit.div %x, %sqrt2 : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = dit.erf %0 : tensor<4x8xf32>
  %2 = dit.add %1, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %3 = dit.mul %x, %2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = dit.mul %3, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// ... or x * 0.7071, with 0.5 grouped with the (1 + erf) factor.
// CHECK-LABEL: func.func @erf_mul
// CHECK-SAME: (%[[X:.*]]: tensor<4x8xf32>)
// CHECK: dit.gelu none %[[X]] : tensor<4x8xf32>
func.func @erf_mul(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %half = dit.constant dense<5.000000e-01> : tensor<f32>
  %one = dit.constant dense<1.000000e+00> : tensor<f32>
  %r = dit.constant dense<0.707106769> : tensor<f32>
  %0 = dit.mul %r, %x : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %1 = dit.erf %0 : tensor<4x8xf32>
  %2 = dit.add %one, %1 : (tensor<f32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = dit.mul %2, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %4 = dit.mul %3, %x : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return %4 : tensor<4x8xf32>
}

// -----

// Wrong constants: 0.045 instead of 0.044715, 0.6 instead of 0.5, erf(x / 2).
// CHECK-LABEL: func.func @wrong_constants
// CHECK-NOT: dit.gelu
// CHECK: dit.tanh
// CHECK: dit.erf
// CHECK-NOT: dit.gelu
func.func @wrong_constants(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %half = dit.constant dense<5.000000e-01> : tensor<f32>
  %six = dit.constant dense<6.000000e-01> : tensor<f32>
  %one = dit.constant dense<1.000000e+00> : tensor<f32>
  %two = dit.constant dense<2.000000e+00> : tensor<f32>
  %three = dit.constant dense<3.000000e+00> : tensor<f32>
  %k = dit.constant dense<0.797884583> : tensor<f32>
  %c = dit.constant dense<4.500000e-02> : tensor<f32>
  %0 = dit.pow %x, %three : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = dit.mul %0, %c : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %2 = dit.add %x, %1 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %3 = dit.mul %2, %k : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %4 = dit.tanh %3 : tensor<4x8xf32>
  %5 = dit.add %4, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %6 = dit.mul %x, %5 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %7 = dit.mul %6, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %10 = dit.div %y, %two : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %11 = dit.erf %10 : tensor<4x8xf32>
  %12 = dit.add %11, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %13 = dit.mul %y, %12 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %14 = dit.mul %13, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %sq = dit.constant dense<1.41421354> : tensor<f32>
  %20 = dit.div %y, %sq : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %21 = dit.erf %20 : tensor<4x8xf32>
  %22 = dit.add %21, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %23 = dit.mul %y, %22 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %24 = dit.mul %23, %six : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return %7, %14, %24 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// The tanh term of another input, and an intermediate used elsewhere.
// CHECK-LABEL: func.func @not_gelu
// CHECK-NOT: dit.gelu
// CHECK: return
func.func @not_gelu(%x: tensor<4x8xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) {
  %half = dit.constant dense<5.000000e-01> : tensor<f32>
  %one = dit.constant dense<1.000000e+00> : tensor<f32>
  %r = dit.constant dense<0.707106769> : tensor<f32>
  // erf of y, multiplied by x
  %0 = dit.mul %y, %r : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %1 = dit.erf %0 : tensor<4x8xf32>
  %2 = dit.add %1, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %3 = dit.mul %x, %2 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %4 = dit.mul %3, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  // 1 + erf(x / sqrt 2) also returned
  %10 = dit.mul %x, %r : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %11 = dit.erf %10 : tensor<4x8xf32>
  %12 = dit.add %11, %one : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  %13 = dit.mul %x, %12 : (tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  %14 = dit.mul %13, %half : (tensor<4x8xf32>, tensor<f32>) -> tensor<4x8xf32>
  return %4, %14, %12 : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>
}
