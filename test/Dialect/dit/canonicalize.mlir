// RUN: vsa-opt %s -split-input-file -canonicalize | FileCheck %s

// Folders and canonicalization patterns of DitFolds.cpp. Folded values are
// checked exactly; a function that returns only constants must have no op
// left but those constants.

//===----------------------------------------------------------------------===//
// Binary ops on constants
//===----------------------------------------------------------------------===//

// CHECK-LABEL: func.func @add_int
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<[11, 22, 33]> : tensor<3xi64>
// CHECK-NEXT:    return %[[C]]
func.func @add_int() -> tensor<3xi64> {
  %a = dit.constant dense<[1, 2, 3]> : tensor<3xi64>
  %b = dit.constant dense<[10, 20, 30]> : tensor<3xi64>
  %0 = dit.add %a, %b : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %0 : tensor<3xi64>
}

// -----

// CHECK-LABEL: func.func @add_float_broadcast
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<{{\[}}[1.500000e+00, 1.000000e+00], [3.500000e+00, 3.000000e+00]]> : tensor<2x2xf32>
// CHECK-NEXT:    return %[[C]]
func.func @add_float_broadcast() -> tensor<2x2xf32> {
  %a = dit.constant dense<[[1.0, 2.0], [3.0, 4.0]]> : tensor<2x2xf32>
  %b = dit.constant dense<[0.5, -1.0]> : tensor<2xf32>
  %0 = dit.add %a, %b : (tensor<2x2xf32>, tensor<2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// Both operands broadcast: a column against a row.
// CHECK-LABEL: func.func @sub_broadcast_both
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<{{\[}}[9, 8, 7], [19, 18, 17]]> : tensor<2x3xi32>
// CHECK-NEXT:    return %[[C]]
func.func @sub_broadcast_both() -> tensor<2x3xi32> {
  %a = dit.constant dense<[[10], [20]]> : tensor<2x1xi32>
  %b = dit.constant dense<[1, 2, 3]> : tensor<3xi32>
  %0 = dit.sub %a, %b : (tensor<2x1xi32>, tensor<3xi32>) -> tensor<2x3xi32>
  return %0 : tensor<2x3xi32>
}

// -----

// CHECK-LABEL: func.func @mul_f16_scalar
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<[6.000000e+00, -8.000000e+00, 1.000000e+00]> : tensor<3xf16>
// CHECK-NEXT:    return %[[C]]
func.func @mul_f16_scalar() -> tensor<3xf16> {
  %a = dit.constant dense<[1.5, -2.0, 0.25]> : tensor<3xf16>
  %b = dit.constant dense<4.0> : tensor<f16>
  %0 = dit.mul %a, %b : (tensor<3xf16>, tensor<f16>) -> tensor<3xf16>
  return %0 : tensor<3xf16>
}

// -----

// Integer division truncates toward zero (ONNX), whatever the signs.
// CHECK-LABEL: func.func @div_int_truncates
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<[3, -3, -3, 3]> : tensor<4xi64>
// CHECK-NEXT:    return %[[C]]
func.func @div_int_truncates() -> tensor<4xi64> {
  %a = dit.constant dense<[7, -7, 7, -7]> : tensor<4xi64>
  %b = dit.constant dense<[2, 2, -2, -2]> : tensor<4xi64>
  %0 = dit.div %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// Float division by zero is IEEE: +inf.
// CHECK-LABEL: func.func @div_float
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<[5.000000e-01, -1.500000e+00, 0x7F800000]> : tensor<3xf32>
// CHECK-NEXT:    return %[[C]]
func.func @div_float() -> tensor<3xf32> {
  %a = dit.constant dense<[1.0, -3.0, 1.0]> : tensor<3xf32>
  %b = dit.constant dense<[2.0, 2.0, 0.0]> : tensor<3xf32>
  %0 = dit.div %a, %b : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// Integer division by zero is left for run time.
// CHECK-LABEL: func.func @div_int_by_zero
// CHECK:         %[[D:.*]] = dit.div
// CHECK-NEXT:    return %[[D]]
func.func @div_int_by_zero() -> tensor<2xi64> {
  %a = dit.constant dense<[7, 8]> : tensor<2xi64>
  %b = dit.constant dense<[2, 0]> : tensor<2xi64>
  %0 = dit.div %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// INT64_MIN / -1 wraps (and must not trap in the folder).
// CHECK-LABEL: func.func @div_int_min_by_minus_one
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<[-9223372036854775808, -6]> : tensor<2xi64>
// CHECK-NEXT:    return %[[C]]
func.func @div_int_min_by_minus_one() -> tensor<2xi64> {
  %a = dit.constant dense<[-9223372036854775808, 6]> : tensor<2xi64>
  %b = dit.constant dense<-1> : tensor<i64>
  %0 = dit.div %a, %b : (tensor<2xi64>, tensor<i64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// mod takes the divisor's sign (Python); fmod = true the dividend's (C).
// CHECK-LABEL: func.func @mod
// CHECK-DAG:     %[[INT:.*]] = dit.constant dense<[1, 2, -2, -1]> : tensor<4xi64>
// CHECK-DAG:     %[[INTF:.*]] = dit.constant dense<[1, -1, 1, -1]> : tensor<4xi64>
// CHECK-DAG:     %[[FLT:.*]] = dit.constant dense<[1.500000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK-DAG:     %[[FLTF:.*]] = dit.constant dense<[1.500000e+00, -1.500000e+00]> : tensor<2xf32>
// CHECK-DAG:     %[[MIN:.*]] = dit.constant dense<0> : tensor<i64>
// CHECK-NOT:     dit.mod
// CHECK:         return %[[INT]], %[[INTF]], %[[FLT]], %[[FLTF]], %[[MIN]] :
func.func @mod() -> (tensor<4xi64>, tensor<4xi64>, tensor<2xf32>, tensor<2xf32>, tensor<i64>) {
  %a = dit.constant dense<[7, -7, 7, -7]> : tensor<4xi64>
  %b = dit.constant dense<[3, 3, -3, -3]> : tensor<4xi64>
  %0 = dit.mod %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %1 = dit.mod %a, %b {fmod = true} : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %x = dit.constant dense<[5.5, -5.5]> : tensor<2xf32>
  %y = dit.constant dense<2.0> : tensor<1xf32>
  %2 = dit.mod %x, %y : (tensor<2xf32>, tensor<1xf32>) -> tensor<2xf32>
  %3 = dit.mod %x, %y {fmod = true} : (tensor<2xf32>, tensor<1xf32>) -> tensor<2xf32>
  %m = dit.constant dense<-9223372036854775808> : tensor<i64>
  %n = dit.constant dense<-1> : tensor<i64>
  %4 = dit.mod %m, %n : (tensor<i64>, tensor<i64>) -> tensor<i64>
  return %0, %1, %2, %3, %4 : tensor<4xi64>, tensor<4xi64>, tensor<2xf32>, tensor<2xf32>, tensor<i64>
}

// -----

// CHECK-LABEL: func.func @mod_int_by_zero
// CHECK:         %[[M:.*]] = dit.mod
// CHECK-NEXT:    return %[[M]]
func.func @mod_int_by_zero() -> tensor<2xi64> {
  %a = dit.constant dense<[7, 8]> : tensor<2xi64>
  %b = dit.constant dense<0> : tensor<2xi64>
  %0 = dit.mod %a, %b : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi64>
  return %0 : tensor<2xi64>
}

// -----

// Integer pow is exact for any exponent (-1 ** 65 is -1); a negative integer
// exponent is not folded.
// CHECK-LABEL: func.func @pow
// CHECK-DAG:     %[[INT:.*]] = dit.constant dense<[1024, 9, -1, 1]> : tensor<4xi64>
// CHECK-DAG:     %[[FLT:.*]] = dit.constant dense<[2.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK-DAG:     %[[NEG:.*]] = dit.pow %{{.*}}, %{{.*}} : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
// CHECK:         return %[[INT]], %[[FLT]], %[[NEG]] :
func.func @pow() -> (tensor<4xi64>, tensor<2xf32>, tensor<1xi64>) {
  %a = dit.constant dense<[2, 3, -1, 5]> : tensor<4xi64>
  %b = dit.constant dense<[10, 2, 65, 0]> : tensor<4xi64>
  %0 = dit.pow %a, %b : (tensor<4xi64>, tensor<4xi64>) -> tensor<4xi64>
  %x = dit.constant dense<[4.0, 2.0]> : tensor<2xf32>
  %y = dit.constant dense<[0.5, -1.0]> : tensor<2xf32>
  %1 = dit.pow %x, %y : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  %c = dit.constant dense<2> : tensor<1xi64>
  %d = dit.constant dense<-1> : tensor<1xi64>
  %2 = dit.pow %c, %d : (tensor<1xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %0, %1, %2 : tensor<4xi64>, tensor<2xf32>, tensor<1xi64>
}

// -----

// Float max/min propagate NaN.
// CHECK-LABEL: func.func @max_min
// CHECK-DAG:     %[[IMAX:.*]] = dit.constant dense<[3, -5, 7]> : tensor<3xi32>
// CHECK-DAG:     %[[IMIN:.*]] = dit.constant dense<[1, -6, 7]> : tensor<3xi32>
// CHECK-DAG:     %[[FMAX:.*]] = dit.constant dense<[1.500000e+00, 0.000000e+00, 0x7FC00000]> : tensor<3xf32>
// CHECK-DAG:     %[[FMIN:.*]] = dit.constant dense<[0.000000e+00, -2.000000e+00, 0x7FC00000]> : tensor<3xf32>
// CHECK-NOT:     dit.m
// CHECK:         return %[[IMAX]], %[[IMIN]], %[[FMAX]], %[[FMIN]] :
func.func @max_min() -> (tensor<3xi32>, tensor<3xi32>, tensor<3xf32>, tensor<3xf32>) {
  %a = dit.constant dense<[1, -5, 7]> : tensor<3xi32>
  %b = dit.constant dense<[3, -6, 7]> : tensor<3xi32>
  %0 = dit.max %a, %b : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  %1 = dit.min %a, %b : (tensor<3xi32>, tensor<3xi32>) -> tensor<3xi32>
  %x = dit.constant dense<[1.5, -2.0, 0x7FC00000]> : tensor<3xf32>
  %y = dit.constant dense<0.0> : tensor<f32>
  %2 = dit.max %x, %y : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  %3 = dit.min %x, %y : (tensor<3xf32>, tensor<f32>) -> tensor<3xf32>
  return %0, %1, %2, %3 : tensor<3xi32>, tensor<3xi32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// Unsigned values are compared and divided as unsigned.
// CHECK-LABEL: func.func @unsigned
// CHECK-DAG:     %[[DIV:.*]] = dit.constant dense<[100, 85]> : tensor<2xui8>
// CHECK-DAG:     %[[MAX:.*]] = dit.constant dense<[200, 255]> : tensor<2xui8>
// CHECK-DAG:     %[[LT:.*]] = dit.constant dense<false> : tensor<2xi1>
// CHECK:         return %[[DIV]], %[[MAX]], %[[LT]] :
func.func @unsigned() -> (tensor<2xui8>, tensor<2xui8>, tensor<2xi1>) {
  %a = dit.constant dense<[200, 255]> : tensor<2xui8>
  %b = dit.constant dense<[2, 3]> : tensor<2xui8>
  %0 = dit.div %a, %b : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %1 = dit.max %a, %b : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xui8>
  %c = dit.constant dense<[100, 100]> : tensor<2xui8>
  %2 = dit.compare lt, %a, %c : (tensor<2xui8>, tensor<2xui8>) -> tensor<2xi1>
  return %0, %1, %2 : tensor<2xui8>, tensor<2xui8>, tensor<2xi1>
}

// -----

// CHECK-LABEL: func.func @logical
// CHECK-DAG:     %[[AND:.*]] = dit.constant dense<[true, false, false, false]> : tensor<4xi1>
// CHECK-DAG:     %[[OR:.*]] = dit.constant dense<[true, true, true, false]> : tensor<4xi1>
// CHECK-DAG:     %[[XOR:.*]] = dit.constant dense<[false, true, true, false]> : tensor<4xi1>
// CHECK-DAG:     %[[NOT:.*]] = dit.constant dense<[false, false, true, true]> : tensor<4xi1>
// CHECK:         return %[[AND]], %[[OR]], %[[XOR]], %[[NOT]] :
func.func @logical() -> (tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>) {
  %a = dit.constant dense<[true, true, false, false]> : tensor<4xi1>
  %b = dit.constant dense<[true, false, true, false]> : tensor<4xi1>
  %0 = dit.and %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %1 = dit.or %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %2 = dit.xor %a, %b : (tensor<4xi1>, tensor<4xi1>) -> tensor<4xi1>
  %3 = dit.not %a : tensor<4xi1>
  return %0, %1, %2, %3 : tensor<4xi1>, tensor<4xi1>, tensor<4xi1>, tensor<4xi1>
}

// -----

// CHECK-LABEL: func.func @compare
// CHECK-DAG:     %[[EQ:.*]] = dit.constant dense<[false, true, false]> : tensor<3xi1>
// CHECK-DAG:     %[[LT:.*]] = dit.constant dense<[true, false, false]> : tensor<3xi1>
// CHECK-DAG:     %[[LE:.*]] = dit.constant dense<[true, true, false]> : tensor<3xi1>
// CHECK-DAG:     %[[GT:.*]] = dit.constant dense<[false, false, true]> : tensor<3xi1>
// CHECK-DAG:     %[[GE:.*]] = dit.constant dense<[false, true, true]> : tensor<3xi1>
// CHECK-DAG:     %[[FGE:.*]] = dit.constant dense<{{\[}}[true, false, false], [true, true, false]]> : tensor<2x3xi1>
// CHECK-NOT:     dit.compare
// CHECK:         return %[[EQ]], %[[LT]], %[[LE]], %[[GT]], %[[GE]], %[[FGE]] :
func.func @compare() -> (tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<2x3xi1>) {
  %a = dit.constant dense<[1, 2, 3]> : tensor<3xi64>
  %b = dit.constant dense<2> : tensor<1xi64>
  %0 = dit.compare eq, %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %1 = dit.compare lt, %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %2 = dit.compare le, %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %3 = dit.compare gt, %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %4 = dit.compare ge, %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi1>
  %x = dit.constant dense<[[0.5], [2.5]]> : tensor<2x1xf32>
  %y = dit.constant dense<[0.5, 1.0, 3.0]> : tensor<3xf32>
  %5 = dit.compare ge, %x, %y : (tensor<2x1xf32>, tensor<3xf32>) -> tensor<2x3xi1>
  return %0, %1, %2, %3, %4, %5 : tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<3xi1>, tensor<2x3xi1>
}

//===----------------------------------------------------------------------===//
// Unary ops on constants
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @unary_float
// CHECK-DAG:     %[[SQRT:.*]] = dit.constant dense<[2.000000e+00, 5.000000e-01]> : tensor<2xf32>
// CHECK-DAG:     %[[RCP:.*]] = dit.constant dense<[2.500000e-01, 4.000000e+00]> : tensor<2xf32>
// CHECK-DAG:     %[[NEG:.*]] = dit.constant dense<[1.500000e+00, -1.500000e+00]> : tensor<2xf32>
// CHECK-DAG:     %[[ABS:.*]] = dit.constant dense<1.500000e+00> : tensor<2xf32>
// CHECK-DAG:     %[[EXP:.*]] = dit.constant dense<[1.000000e+00, 2.71828175]> : tensor<2xf32>
// CHECK-DAG:     %[[LOG:.*]] = dit.constant dense<[0xFF800000, 0.000000e+00]> : tensor<2xf32>
// CHECK-DAG:     %[[SIN:.*]] = dit.constant dense<[0.000000e+00, 0.841470957]> : tensor<2xf32>
// CHECK-DAG:     %[[COS:.*]] = dit.constant dense<[1.000000e+00, 0.540302277]> : tensor<2xf32>
// CHECK-DAG:     %[[TANH:.*]] = dit.constant dense<[0.000000e+00, 0.761594176]> : tensor<2xf32>
// CHECK-DAG:     %[[SIG:.*]] = dit.constant dense<[5.000000e-01, 0.731058597]> : tensor<2xf32>
// CHECK-DAG:     %[[ERF:.*]] = dit.constant dense<[0.000000e+00, 0.842700779]> : tensor<2xf32>
// CHECK-DAG:     %[[FLOOR:.*]] = dit.constant dense<[-2.000000e+00, 1.000000e+00]> : tensor<2xf32>
// CHECK-DAG:     %[[CEIL:.*]] = dit.constant dense<[-1.000000e+00, 2.000000e+00]> : tensor<2xf32>
// CHECK-DAG:     %[[RELU:.*]] = dit.constant dense<[0.000000e+00, 1.500000e+00]> : tensor<2xf32>
// CHECK:         return %[[SQRT]], %[[RCP]], %[[NEG]], %[[ABS]], %[[EXP]], %[[LOG]], %[[SIN]], %[[COS]], %[[TANH]], %[[SIG]], %[[ERF]], %[[FLOOR]], %[[CEIL]], %[[RELU]] :
func.func @unary_float() -> (tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>) {
  %a = dit.constant dense<[4.0, 0.25]> : tensor<2xf32>
  %z = dit.constant dense<[0.0, 1.0]> : tensor<2xf32>
  %h = dit.constant dense<[-1.5, 1.5]> : tensor<2xf32>
  %0 = dit.sqrt %a : tensor<2xf32>
  %1 = dit.reciprocal %a : tensor<2xf32>
  %2 = dit.neg %h : tensor<2xf32>
  %3 = dit.abs %h : tensor<2xf32>
  %4 = dit.exp %z : tensor<2xf32>
  %5 = dit.log %z : tensor<2xf32>
  %6 = dit.sin %z : tensor<2xf32>
  %7 = dit.cos %z : tensor<2xf32>
  %8 = dit.tanh %z : tensor<2xf32>
  %9 = dit.sigmoid %z : tensor<2xf32>
  %10 = dit.erf %z : tensor<2xf32>
  %11 = dit.floor %h : tensor<2xf32>
  %12 = dit.ceil %h : tensor<2xf32>
  %13 = dit.relu %h : tensor<2xf32>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13 : tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>, tensor<2xf32>
}

// -----

// Integer neg/abs are exact beyond 2^53 and wrap at the type's minimum.
// CHECK-LABEL: func.func @unary_int
// CHECK-DAG:     %[[NEG:.*]] = dit.constant dense<[3, 0, -9007199254740993]> : tensor<3xi64>
// CHECK-DAG:     %[[ABS:.*]] = dit.constant dense<[3, 0, 9007199254740993]> : tensor<3xi64>
// CHECK-DAG:     %[[ABS8:.*]] = dit.constant dense<[-128, 5]> : tensor<2xi8>
// CHECK:         return %[[NEG]], %[[ABS]], %[[ABS8]] :
func.func @unary_int() -> (tensor<3xi64>, tensor<3xi64>, tensor<2xi8>) {
  %a = dit.constant dense<[-3, 0, 9007199254740993]> : tensor<3xi64>
  %0 = dit.neg %a : tensor<3xi64>
  %1 = dit.abs %a : tensor<3xi64>
  %b = dit.constant dense<[-128, -5]> : tensor<2xi8>
  %2 = dit.abs %b : tensor<2xi8>
  return %0, %1, %2 : tensor<3xi64>, tensor<3xi64>, tensor<2xi8>
}

// -----

// CHECK-LABEL: func.func @isnan
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<[true, false, false]> : tensor<3xi1>
// CHECK-NEXT:    return %[[C]]
func.func @isnan() -> tensor<3xi1> {
  %a = dit.constant dense<[0x7FC00000, 1.0, 0x7F800000]> : tensor<3xf32>
  %0 = dit.isnan %a : (tensor<3xf32>) -> tensor<3xi1>
  return %0 : tensor<3xi1>
}

// -----

// CHECK-LABEL: func.func @unary_not_constant
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK-NEXT:    %[[E:.*]] = dit.exp %[[X]] : tensor<3xf32>
// CHECK-NEXT:    %[[N:.*]] = dit.isnan %[[X]]
// CHECK-NEXT:    return %[[E]], %[[N]]
func.func @unary_not_constant(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi1>) {
  %0 = dit.exp %x : tensor<3xf32>
  %1 = dit.isnan %x : (tensor<3xf32>) -> tensor<3xi1>
  return %0, %1 : tensor<3xf32>, tensor<3xi1>
}

//===----------------------------------------------------------------------===//
// Identity folds: only when the result type is the kept operand's
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @identity
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[I:[a-z0-9]+]]: tensor<3xi64>)
// CHECK-NEXT:    return %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[X]], %[[I]], %[[I]], %[[I]] :
func.func @identity(%x: tensor<2x3xf32>, %i: tensor<3xi64>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>) {
  %zero = dit.constant dense<0.0> : tensor<3xf32>
  %one = dit.constant dense<1.0> : tensor<f32>
  %0 = dit.add %x, %zero : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %1 = dit.add %zero, %x : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %2 = dit.mul %x, %one : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %3 = dit.mul %one, %x : (tensor<f32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %4 = dit.sub %x, %zero : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %5 = dit.div %x, %one : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %6 = dit.pow %x, %one : (tensor<2x3xf32>, tensor<f32>) -> tensor<2x3xf32>
  %izero = dit.constant dense<0> : tensor<1xi64>
  %ione = dit.constant dense<1> : tensor<3xi64>
  %7 = dit.add %i, %izero : (tensor<3xi64>, tensor<1xi64>) -> tensor<3xi64>
  %8 = dit.div %i, %ione : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  %9 = dit.pow %i, %ione : (tensor<3xi64>, tensor<3xi64>) -> tensor<3xi64>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8, %9 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xi64>, tensor<3xi64>, tensor<3xi64>
}

// -----

// The identity broadcasts x to a larger type: x cannot replace the result.
// 0 - x and x * 2 are no identities at all.
// CHECK-LABEL: func.func @identity_broadcasts
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK-DAG:     %[[ADD:.*]] = dit.add %[[X]], %{{.*}} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-DAG:     %[[ADD2:.*]] = dit.add %[[X]], %{{.*}} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-DAG:     %[[MUL:.*]] = dit.mul %[[X]], %{{.*}} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-DAG:     %[[DIV:.*]] = dit.div %[[X]], %{{.*}} : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
// CHECK-DAG:     %[[SUB:.*]] = dit.sub %{{.*}}, %[[X]] : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK-DAG:     %[[MUL2:.*]] = dit.mul %[[X]], %{{.*}} : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
// CHECK:         return %[[ADD]], %[[ADD2]], %[[MUL]], %[[DIV]], %[[SUB]], %[[MUL2]] :
func.func @identity_broadcasts(%x: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>) {
  %zero = dit.constant dense<0.0> : tensor<2x3xf32>
  %one = dit.constant dense<1.0> : tensor<2x3xf32>
  %0 = dit.add %x, %zero : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %1 = dit.add %zero, %x : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<2x3xf32>
  %2 = dit.mul %x, %one : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %3 = dit.div %x, %one : (tensor<3xf32>, tensor<2x3xf32>) -> tensor<2x3xf32>
  %z = dit.constant dense<0.0> : tensor<3xf32>
  %4 = dit.sub %z, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %two = dit.constant dense<2.0> : tensor<3xf32>
  %5 = dit.mul %x, %two : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return %0, %1, %2, %3, %4, %5 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x3xf32>, tensor<3xf32>, tensor<3xf32>
}

// -----

// A constant operand alone does not make a fold.
// CHECK-LABEL: func.func @not_constant
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK:         %[[C:.*]] = dit.constant dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]> : tensor<3xf32>
// CHECK-DAG:     %[[ADD:.*]] = dit.add %[[X]], %[[C]]
// CHECK-DAG:     %[[CMP:.*]] = dit.compare lt, %[[C]], %[[X]]
// CHECK:         return %[[ADD]], %[[CMP]] :
func.func @not_constant(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<3xi1>) {
  %c = dit.constant dense<[1.0, 2.0, 3.0]> : tensor<3xf32>
  %0 = dit.add %x, %c : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xf32>
  %1 = dit.compare lt, %c, %x : (tensor<3xf32>, tensor<3xf32>) -> tensor<3xi1>
  return %0, %1 : tensor<3xf32>, tensor<3xi1>
}

//===----------------------------------------------------------------------===//
// dit.where, dit.cast
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @where_splat
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<4xf32>, %[[Y:[a-z0-9]+]]: tensor<4xf32>, %[[C:[a-z0-9]+]]: tensor<4xi1>)
// CHECK-NEXT:    return %[[X]], %[[Y]], %[[X]] :
func.func @where_splat(%x: tensor<4xf32>, %y: tensor<4xf32>, %c: tensor<4xi1>) -> (tensor<4xf32>, tensor<4xf32>, tensor<4xf32>) {
  %t = dit.constant dense<true> : tensor<4xi1>
  %f = dit.constant dense<false> : tensor<1xi1>
  %0 = dit.where %t, %x, %y : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %1 = dit.where %f, %x, %y : (tensor<1xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  %2 = dit.where %c, %x, %x : (tensor<4xi1>, tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32>
  return %0, %1, %2 : tensor<4xf32>, tensor<4xf32>, tensor<4xf32>
}

// -----

// A splat condition selecting a branch that broadcasts does not fold.
// CHECK-LABEL: func.func @where_splat_broadcasts
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2xf32>, %[[Y:[a-z0-9]+]]: tensor<2x2xf32>)
// CHECK:         %[[W:.*]] = dit.where %{{.*}}, %[[X]], %[[Y]]
// CHECK-NEXT:    return %[[W]]
func.func @where_splat_broadcasts(%x: tensor<2xf32>, %y: tensor<2x2xf32>) -> tensor<2x2xf32> {
  %t = dit.constant dense<true> : tensor<2x2xi1>
  %0 = dit.where %t, %x, %y : (tensor<2x2xi1>, tensor<2xf32>, tensor<2x2xf32>) -> tensor<2x2xf32>
  return %0 : tensor<2x2xf32>
}

// -----

// CHECK-LABEL: func.func @where_constant
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<{{\[}}[1, -1], [3, -1]]> : tensor<2x2xi64>
// CHECK-NEXT:    return %[[C]]
func.func @where_constant() -> tensor<2x2xi64> {
  %c = dit.constant dense<[true, false]> : tensor<2xi1>
  %a = dit.constant dense<[[1, 2], [3, 4]]> : tensor<2x2xi64>
  %b = dit.constant dense<-1> : tensor<i64>
  %0 = dit.where %c, %a, %b : (tensor<2xi1>, tensor<2x2xi64>, tensor<i64>) -> tensor<2x2xi64>
  return %0 : tensor<2x2xi64>
}

// -----

// Float to int truncates; nonzero to i1 is true; int to narrower int wraps;
// a non-finite float to int is not folded.
// CHECK-LABEL: func.func @cast
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK-DAG:     %[[I2F:.*]] = dit.constant dense<[1.000000e+00, -2.000000e+00]> : tensor<2xf32>
// CHECK-DAG:     %[[F2I:.*]] = dit.constant dense<[1, -1, 2]> : tensor<3xi64>
// CHECK-DAG:     %[[I2B:.*]] = dit.constant dense<[false, true, true, false]> : tensor<4xi1>
// CHECK-DAG:     %[[F2B:.*]] = dit.constant dense<[false, true]> : tensor<2xi1>
// CHECK-DAG:     %[[WRAP:.*]] = dit.constant dense<[44, 255]> : tensor<2xui8>
// CHECK-DAG:     %[[INF:.*]] = dit.constant dense<0x7F800000> : tensor<1xf32>
// CHECK-DAG:     %[[INF2I:.*]] = dit.cast %[[INF]] : tensor<1xf32> to tensor<1xi64>
// CHECK-DAG:     %[[F16:.*]] = dit.constant dense<9.997550e-02> : tensor<1xf16>
// CHECK-DAG:     %[[U2I:.*]] = dit.constant dense<[-1, -128]> : tensor<2xi8>
// CHECK:         return %[[X]], %[[I2F]], %[[F2I]], %[[I2B]], %[[F2B]], %[[WRAP]], %[[INF2I]], %[[F16]], %[[U2I]] :
func.func @cast(%x: tensor<3xf32>) -> (tensor<3xf32>, tensor<2xf32>, tensor<3xi64>, tensor<4xi1>, tensor<2xi1>, tensor<2xui8>, tensor<1xi64>, tensor<1xf16>, tensor<2xi8>) {
  %0 = dit.cast %x : tensor<3xf32> to tensor<3xf32>
  %i = dit.constant dense<[1, -2]> : tensor<2xi64>
  %1 = dit.cast %i : tensor<2xi64> to tensor<2xf32>
  %f = dit.constant dense<[1.7, -1.7, 2.5]> : tensor<3xf32>
  %2 = dit.cast %f : tensor<3xf32> to tensor<3xi64>
  %j = dit.constant dense<[0, 2, -1, 0]> : tensor<4xi32>
  %3 = dit.cast %j : tensor<4xi32> to tensor<4xi1>
  %g = dit.constant dense<[0.0, 0.5]> : tensor<2xf32>
  %4 = dit.cast %g : tensor<2xf32> to tensor<2xi1>
  %k = dit.constant dense<[300, -1]> : tensor<2xi64>
  %5 = dit.cast %k : tensor<2xi64> to tensor<2xui8>
  %inf = dit.constant dense<0x7F800000> : tensor<1xf32>
  %6 = dit.cast %inf : tensor<1xf32> to tensor<1xi64>
  %p = dit.constant dense<0.1> : tensor<1xf32>
  %7 = dit.cast %p : tensor<1xf32> to tensor<1xf16>
  %u = dit.constant dense<[255, 128]> : tensor<2xui8>
  %8 = dit.cast %u : tensor<2xui8> to tensor<2xi8>
  return %0, %1, %2, %3, %4, %5, %6, %7, %8 : tensor<3xf32>, tensor<2xf32>, tensor<3xi64>, tensor<4xi1>, tensor<2xi1>, tensor<2xui8>, tensor<1xi64>, tensor<1xf16>, tensor<2xi8>
}

// -----

// Unsigned values widen by zero extension.
// CHECK-LABEL: func.func @cast_unsigned
// CHECK-DAG:     %[[I:.*]] = dit.constant dense<[255, 7]> : tensor<2xi64>
// CHECK-DAG:     %[[F:.*]] = dit.constant dense<[2.550000e+02, 7.000000e+00]> : tensor<2xf32>
// CHECK:         return %[[I]], %[[F]] :
func.func @cast_unsigned() -> (tensor<2xi64>, tensor<2xf32>) {
  %u = dit.constant dense<[255, 7]> : tensor<2xui8>
  %0 = dit.cast %u : tensor<2xui8> to tensor<2xi64>
  %1 = dit.cast %u : tensor<2xui8> to tensor<2xf32>
  return %0, %1 : tensor<2xi64>, tensor<2xf32>
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

// CHECK-LABEL: func.func @reshape
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-DAG:     %[[C:.*]] = dit.constant dense<{{\[}}[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi64>
// CHECK-DAG:     %[[R:.*]] = dit.reshape %[[X]] : tensor<2x3xf32> -> tensor<3x2xf32>
// CHECK:         return %[[X]], %[[R]], %[[C]] :
func.func @reshape(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xf32>, tensor<3x2xi64>) {
  %0 = dit.reshape %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %r = dit.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %1 = dit.reshape %r : tensor<6xf32> -> tensor<3x2xf32>
  %c = dit.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %2 = dit.reshape %c : tensor<2x3xi64> -> tensor<3x2xi64>
  return %0, %1, %2 : tensor<2x3xf32>, tensor<3x2xf32>, tensor<3x2xi64>
}

// -----

// CHECK-LABEL: func.func @reshape_round_trip
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NEXT:    return %[[X]]
func.func @reshape_round_trip(%x: tensor<2x3xf32>) -> tensor<2x3xf32> {
  %r = dit.reshape %x : tensor<2x3xf32> -> tensor<6xf32>
  %0 = dit.reshape %r : tensor<6xf32> -> tensor<2x3xf32>
  return %0 : tensor<2x3xf32>
}

// -----

// reshape(broadcast(one element)) becomes broadcast(reshape(one element)).
// CHECK-LABEL: func.func @reshape_splat_broadcast
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<1xf32>, %[[S:[a-z0-9]+]]: tensor<f32>)
// CHECK-DAG:     %[[B0:.*]] = dit.broadcast %[[X]] : tensor<1xf32> -> tensor<6xf32>
// CHECK-DAG:     %[[R1:.*]] = dit.reshape %[[S]] : tensor<f32> -> tensor<1x1xf32>
// CHECK-DAG:     %[[B1:.*]] = dit.broadcast %[[R1]] : tensor<1x1xf32> -> tensor<3x2xf32>
// CHECK-NOT:     tensor<2x3xf32>
// CHECK:         return %[[B0]], %[[B1]] :
func.func @reshape_splat_broadcast(%x: tensor<1xf32>, %s: tensor<f32>) -> (tensor<6xf32>, tensor<3x2xf32>) {
  %b = dit.broadcast %x : tensor<1xf32> -> tensor<2x3xf32>
  %0 = dit.reshape %b : tensor<2x3xf32> -> tensor<6xf32>
  %c = dit.broadcast %s : tensor<f32> -> tensor<6xf32>
  %1 = dit.reshape %c : tensor<6xf32> -> tensor<3x2xf32>
  return %0, %1 : tensor<6xf32>, tensor<3x2xf32>
}

// -----

// CHECK-LABEL: func.func @reshape_non_splat_broadcast
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK-NEXT:    %[[B:.*]] = dit.broadcast %[[X]] : tensor<3xf32> -> tensor<2x3xf32>
// CHECK-NEXT:    %[[R:.*]] = dit.reshape %[[B]] : tensor<2x3xf32> -> tensor<6xf32>
// CHECK-NEXT:    return %[[R]]
func.func @reshape_non_splat_broadcast(%x: tensor<3xf32>) -> tensor<6xf32> {
  %b = dit.broadcast %x : tensor<3xf32> -> tensor<2x3xf32>
  %0 = dit.reshape %b : tensor<2x3xf32> -> tensor<6xf32>
  return %0 : tensor<6xf32>
}

// -----

// CHECK-LABEL: func.func @transpose
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-DAG:     %[[T2:.*]] = dit.constant dense<{{\[}}[1, 4], [2, 5], [3, 6]]> : tensor<3x2xi64>
// CHECK-DAG:     %[[T3:.*]] = dit.constant dense<{{\[}}{{\[}}[0, 4, 8], [12, 16, 20]], {{\[}}[1, 5, 9], [13, 17, 21]], {{\[}}[2, 6, 10], [14, 18, 22]], {{\[}}[3, 7, 11], [15, 19, 23]]]> : tensor<4x2x3xi32>
// CHECK-DAG:     %[[SPLAT:.*]] = dit.constant dense<7.000000e+00> : tensor<3x2xf32>
// CHECK-NOT:     dit.transpose
// CHECK:         return %[[X]], %[[T2]], %[[T3]], %[[SPLAT]] :
func.func @transpose(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3x2xi64>, tensor<4x2x3xi32>, tensor<3x2xf32>) {
  %0 = dit.transpose %x [0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  %c = dit.constant dense<[[1, 2, 3], [4, 5, 6]]> : tensor<2x3xi64>
  %1 = dit.transpose %c [1, 0] : tensor<2x3xi64> -> tensor<3x2xi64>
  %d = dit.constant dense<[[[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]], [[12, 13, 14, 15], [16, 17, 18, 19], [20, 21, 22, 23]]]> : tensor<2x3x4xi32>
  %2 = dit.transpose %d [2, 0, 1] : tensor<2x3x4xi32> -> tensor<4x2x3xi32>
  %s = dit.constant dense<7.0> : tensor<2x3xf32>
  %3 = dit.transpose %s [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<3x2xi64>, tensor<4x2x3xi32>, tensor<3x2xf32>
}

// -----

// transpose(transpose(x, p1), p2) = transpose(x, p1[p2[i]]); inverse
// permutations cancel.
// CHECK-LABEL: func.func @transpose_compose
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3x4xf32>, %[[Y:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-NEXT:    %[[T:.*]] = dit.transpose %[[X]] [2, 0, 1] : tensor<2x3x4xf32> -> tensor<4x2x3xf32>
// CHECK-NEXT:    return %[[T]], %[[Y]] :
func.func @transpose_compose(%x: tensor<2x3x4xf32>, %y: tensor<2x3xf32>) -> (tensor<4x2x3xf32>, tensor<2x3xf32>) {
  %t = dit.transpose %x [1, 2, 0] : tensor<2x3x4xf32> -> tensor<3x4x2xf32>
  %0 = dit.transpose %t [1, 2, 0] : tensor<3x4x2xf32> -> tensor<4x2x3xf32>
  %u = dit.transpose %y [1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  %1 = dit.transpose %u [1, 0] : tensor<3x2xf32> -> tensor<2x3xf32>
  return %0, %1 : tensor<4x2x3xf32>, tensor<2x3xf32>
}

// -----

// Moving only unit axes keeps the element order: a reshape. Swapping two
// non-unit axes does not.
// CHECK-LABEL: func.func @transpose_unit_axes
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<1x4x1x5xf32>, %[[Y:[a-z0-9]+]]: tensor<2x1x3xf32>)
// CHECK-NEXT:    %[[R:.*]] = dit.reshape %[[X]] : tensor<1x4x1x5xf32> -> tensor<1x1x4x5xf32>
// CHECK-NEXT:    %[[T:.*]] = dit.transpose %[[Y]] [2, 1, 0] : tensor<2x1x3xf32> -> tensor<3x1x2xf32>
// CHECK-NEXT:    return %[[R]], %[[T]] :
func.func @transpose_unit_axes(%x: tensor<1x4x1x5xf32>, %y: tensor<2x1x3xf32>) -> (tensor<1x1x4x5xf32>, tensor<3x1x2xf32>) {
  %0 = dit.transpose %x [2, 0, 1, 3] : tensor<1x4x1x5xf32> -> tensor<1x1x4x5xf32>
  %1 = dit.transpose %y [2, 1, 0] : tensor<2x1x3xf32> -> tensor<3x1x2xf32>
  return %0, %1 : tensor<1x1x4x5xf32>, tensor<3x1x2xf32>
}

// -----

// CHECK-LABEL: func.func @slice
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-DAG:     %[[REV:.*]] = dit.constant dense<[15, 13, 11]> : tensor<3xi64>
// CHECK-DAG:     %[[TWO:.*]] = dit.constant dense<{{\[}}[7, 9], [1, 3]]> : tensor<2x2xi64>
// CHECK-DAG:     %[[FLT:.*]] = dit.constant dense<[1.500000e+00, 2.500000e+00]> : tensor<2xf32>
// CHECK-NOT:     dit.slice
// CHECK:         return %[[X]], %[[REV]], %[[TWO]], %[[FLT]] :
func.func @slice(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<3xi64>, tensor<2x2xi64>, tensor<2xf32>) {
  %0 = dit.slice %x offsets [0, 0] strides [1, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  %c = dit.constant dense<[10, 11, 12, 13, 14, 15]> : tensor<6xi64>
  %1 = dit.slice %c offsets [5] strides [-2] : tensor<6xi64> -> tensor<3xi64>
  %d = dit.constant dense<[[1, 2, 3], [4, 5, 6], [7, 8, 9]]> : tensor<3x3xi64>
  %2 = dit.slice %d offsets [2, 0] strides [-2, 2] : tensor<3x3xi64> -> tensor<2x2xi64>
  %f = dit.constant dense<[0.5, 1.5, 2.5]> : tensor<3xf32>
  %3 = dit.slice %f offsets [1] strides [1] : tensor<3xf32> -> tensor<2xf32>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<3xi64>, tensor<2x2xi64>, tensor<2xf32>
}

// -----

// Same type as the input but reversed: not a full slice.
// CHECK-LABEL: func.func @slice_reverse
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<3xf32>)
// CHECK-NEXT:    %[[S:.*]] = dit.slice %[[X]] offsets [2] strides [-1] : tensor<3xf32> -> tensor<3xf32>
// CHECK-NEXT:    return %[[S]]
func.func @slice_reverse(%x: tensor<3xf32>) -> tensor<3xf32> {
  %0 = dit.slice %x offsets [2] strides [-1] : tensor<3xf32> -> tensor<3xf32>
  return %0 : tensor<3xf32>
}

// -----

// CHECK-LABEL: func.func @concat
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3xf32>)
// CHECK-DAG:     %[[SHAPE:.*]] = dit.constant dense<[1, 48, -1, 8, 64]> : tensor<5xi64>
// CHECK-DAG:     %[[AX0:.*]] = dit.constant dense<{{\[}}[1, 2], [3, 4], [5, 6]]> : tensor<3x2xi64>
// CHECK-DAG:     %[[AX1:.*]] = dit.constant dense<{{\[}}[1.000000e+00, 3.000000e+00, 4.000000e+00], [2.000000e+00, 5.000000e+00, 6.000000e+00]]> : tensor<2x3xf32>
// CHECK-NOT:     dit.concat
// CHECK:         return %[[X]], %[[SHAPE]], %[[AX0]], %[[AX1]] :
func.func @concat(%x: tensor<2x3xf32>) -> (tensor<2x3xf32>, tensor<5xi64>, tensor<3x2xi64>, tensor<2x3xf32>) {
  %0 = dit.concat %x {axis = 1 : i64} : (tensor<2x3xf32>) -> tensor<2x3xf32>
  %a = dit.constant dense<[1, 48]> : tensor<2xi64>
  %b = dit.constant dense<[-1, 8, 64]> : tensor<3xi64>
  %1 = dit.concat %a, %b {axis = 0 : i64} : (tensor<2xi64>, tensor<3xi64>) -> tensor<5xi64>
  %c = dit.constant dense<[[1, 2]]> : tensor<1x2xi64>
  %d = dit.constant dense<[[3, 4], [5, 6]]> : tensor<2x2xi64>
  %2 = dit.concat %c, %d {axis = -2 : i64} : (tensor<1x2xi64>, tensor<2x2xi64>) -> tensor<3x2xi64>
  %e = dit.constant dense<[[1.0], [2.0]]> : tensor<2x1xf32>
  %f = dit.constant dense<[[3.0, 4.0], [5.0, 6.0]]> : tensor<2x2xf32>
  %3 = dit.concat %e, %f {axis = 1 : i64} : (tensor<2x1xf32>, tensor<2x2xf32>) -> tensor<2x3xf32>
  return %0, %1, %2, %3 : tensor<2x3xf32>, tensor<5xi64>, tensor<3x2xi64>, tensor<2x3xf32>
}

// -----

// CHECK-LABEL: func.func @concat_not_constant
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2xi64>)
// CHECK:         %[[C:.*]] = dit.concat %{{.*}}, %[[X]] {axis = 0 : i64}
// CHECK-NEXT:    return %[[C]]
func.func @concat_not_constant(%x: tensor<2xi64>) -> tensor<4xi64> {
  %a = dit.constant dense<[1, 2]> : tensor<2xi64>
  %0 = dit.concat %a, %x {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi64>
  return %0 : tensor<4xi64>
}

// -----

// CHECK-LABEL: func.func @broadcast
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<2x3xf32>, %[[Y:[a-z0-9]+]]: tensor<3xf32>)
// CHECK-DAG:     %[[SPLAT:.*]] = dit.constant dense<1.500000e+00> : tensor<2x3xf32>
// CHECK-DAG:     %[[ROWS:.*]] = dit.constant dense<{{\[}}[1, 2], [1, 2]]> : tensor<2x2xi64>
// CHECK-DAG:     %[[COLS:.*]] = dit.constant dense<{{\[}}[1, 1, 1], [2, 2, 2]]> : tensor<2x3xi32>
// CHECK-DAG:     %[[B:.*]] = dit.broadcast %[[Y]] : tensor<3xf32> -> tensor<2x3xf32>
// CHECK:         return %[[X]], %[[SPLAT]], %[[ROWS]], %[[COLS]], %[[B]] :
func.func @broadcast(%x: tensor<2x3xf32>, %y: tensor<3xf32>) -> (tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x3xi32>, tensor<2x3xf32>) {
  %0 = dit.broadcast %x : tensor<2x3xf32> -> tensor<2x3xf32>
  %s = dit.constant dense<1.5> : tensor<1xf32>
  %1 = dit.broadcast %s : tensor<1xf32> -> tensor<2x3xf32>
  %c = dit.constant dense<[1, 2]> : tensor<2xi64>
  %2 = dit.broadcast %c : tensor<2xi64> -> tensor<2x2xi64>
  %d = dit.constant dense<[[1], [2]]> : tensor<2x1xi32>
  %3 = dit.broadcast %d : tensor<2x1xi32> -> tensor<2x3xi32>
  %4 = dit.broadcast %y : tensor<3xf32> -> tensor<2x3xf32>
  return %0, %1, %2, %3, %4 : tensor<2x3xf32>, tensor<2x3xf32>, tensor<2x2xi64>, tensor<2x3xi32>, tensor<2x3xf32>
}

// -----

// Negative indices wrap; along axis 1 the index shape replaces the axis.
// CHECK-LABEL: func.func @gather
// CHECK-DAG:     %[[AX0:.*]] = dit.constant dense<[2, 64]> : tensor<2xi64>
// CHECK-DAG:     %[[AX1:.*]] = dit.constant dense<{{\[}}{{\[}}[3.000000e+00, 1.000000e+00], [2.000000e+00, 2.000000e+00]], {{\[}}[6.000000e+00, 4.000000e+00], [5.000000e+00, 5.000000e+00]]]> : tensor<2x2x2xf32>
// CHECK-DAG:     %[[SCALAR:.*]] = dit.constant dense<32> : tensor<i64>
// CHECK-NOT:     dit.gather
// CHECK:         return %[[AX0]], %[[AX1]], %[[SCALAR]] :
func.func @gather() -> (tensor<2xi64>, tensor<2x2x2xf32>, tensor<i64>) {
  %shape = dit.constant dense<[2, 48, 32, 64]> : tensor<4xi64>
  %i = dit.constant dense<[0, -1]> : tensor<2xi64>
  %0 = dit.gather %shape[%i] {axis = 0 : i64} : (tensor<4xi64>, tensor<2xi64>) -> tensor<2xi64>
  %t = dit.constant dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  %j = dit.constant dense<[[2, 0], [-2, 1]]> : tensor<2x2xi32>
  %1 = dit.gather %t[%j] {axis = 1 : i64} : (tensor<2x3xf32>, tensor<2x2xi32>) -> tensor<2x2x2xf32>
  %k = dit.constant dense<2> : tensor<i64>
  %2 = dit.gather %shape[%k] {axis = -1 : i64} : (tensor<4xi64>, tensor<i64>) -> tensor<i64>
  return %0, %1, %2 : tensor<2xi64>, tensor<2x2x2xf32>, tensor<i64>
}

// -----

// Out-of-range constant indices and non-constant data are left alone.
// CHECK-LABEL: func.func @gather_not_folded
// CHECK-SAME:    (%[[X:[a-z0-9]+]]: tensor<4xi64>)
// CHECK-DAG:     %[[G0:.*]] = dit.gather %{{.*}}[%{{.*}}] {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
// CHECK-DAG:     %[[G1:.*]] = dit.gather %[[X]][%{{.*}}] {axis = 0 : i64} : (tensor<4xi64>, tensor<1xi64>) -> tensor<1xi64>
// CHECK:         return %[[G0]], %[[G1]] :
func.func @gather_not_folded(%x: tensor<4xi64>) -> (tensor<1xi64>, tensor<1xi64>) {
  %shape = dit.constant dense<[2, 48]> : tensor<2xi64>
  %i = dit.constant dense<2> : tensor<1xi64>
  %0 = dit.gather %shape[%i] {axis = 0 : i64} : (tensor<2xi64>, tensor<1xi64>) -> tensor<1xi64>
  %j = dit.constant dense<1> : tensor<1xi64>
  %1 = dit.gather %x[%j] {axis = 0 : i64} : (tensor<4xi64>, tensor<1xi64>) -> tensor<1xi64>
  return %0, %1 : tensor<1xi64>, tensor<1xi64>
}

// -----

// An importer-style shape chain folds to one constant.
// CHECK-LABEL: func.func @shape_chain
// CHECK-NEXT:    %[[C:.*]] = dit.constant dense<{{\[}}[1.41421354, 2.000000e+00, 1.41421354, 2.000000e+00], [1.41421354, 2.000000e+00, 1.41421354, 2.000000e+00]]> : tensor<2x4xf32>
// CHECK-NEXT:    return %[[C]]
func.func @shape_chain() -> tensor<2x4xf32> {
  %shape = dit.constant dense<[2, 3, 4]> : tensor<3xi64>
  %i = dit.constant dense<[0, 2]> : tensor<2xi64>
  %g = dit.gather %shape[%i] {axis = 0 : i64} : (tensor<3xi64>, tensor<2xi64>) -> tensor<2xi64>
  %f = dit.cast %g : tensor<2xi64> to tensor<2xf32>
  %s = dit.sqrt %f : tensor<2xf32>
  %b = dit.broadcast %s : tensor<2xf32> -> tensor<2x2xf32>
  %r = dit.reshape %b : tensor<2x2xf32> -> tensor<4xf32>
  %t = dit.reshape %r : tensor<4xf32> -> tensor<1x4xf32>
  %c = dit.concat %t, %t {axis = 0 : i64} : (tensor<1x4xf32>, tensor<1x4xf32>) -> tensor<2x4xf32>
  return %c : tensor<2x4xf32>
}
