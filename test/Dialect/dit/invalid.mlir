// RUN: vsa-opt %s -split-input-file -verify-diagnostics

// Every verifier and failure branch of the dit dialect: DitOps.cpp,
// ShapeInference.cpp, the #dit.video attribute and the ODS constraints.

//===----------------------------------------------------------------------===//
// #dit.video
//===----------------------------------------------------------------------===//

// expected-error@+1 {{video geometry needs t, h, w >= 1, got 0x30x52}}
func.func @video_zero_frames() attributes {g = #dit.video<t = 0, h = 30, w = 52, prefix = 0, suffix = 0>} {
  return
}

// -----

// expected-error@+1 {{video geometry needs t, h, w >= 1, got 2x3x-1}}
func.func @video_negative_width() attributes {g = #dit.video<t = 2, h = 3, w = -1, prefix = 0, suffix = 0>} {
  return
}

// -----

// expected-error@+1 {{video geometry prefix/suffix must be >= 0}}
func.func @video_negative_prefix() attributes {g = #dit.video<t = 1, h = 1, w = 1, prefix = -1, suffix = 0>} {
  return
}

// -----

// expected-error@+1 {{video geometry prefix/suffix must be >= 0}}
func.func @video_negative_suffix() attributes {g = #dit.video<t = 1, h = 1, w = 1, prefix = 0, suffix = -2>} {
  return
}

//===----------------------------------------------------------------------===//
// Element type constraints (ODS)
//===----------------------------------------------------------------------===//

// -----

func.func @float_op_given_int(%a: tensor<2xi64>) {
  // expected-error@+1 {{'dit.sqrt' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2xi64>'}}
  %0 = dit.sqrt %a : tensor<2xi64>
  return
}

// -----

func.func @dynamic_shape(%a: tensor<?xf32>) {
  // expected-error@+1 {{'dit.exp' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<?xf32>'}}
  %0 = dit.exp %a : tensor<?xf32>
  return
}

// -----

func.func @unsupported_element_type(%a: tensor<2xi16>) {
  // expected-error@+1 {{'dit.neg' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type or 64-bit signless integer or 32-bit signless integer or 8-bit signless integer or 8-bit unsigned integer or 1-bit signless integer values, but got 'tensor<2xi16>'}}
  %0 = dit.neg %a : tensor<2xi16>
  return
}

// -----

func.func @matmul_int(%a: tensor<2x2xi64>) {
  // expected-error@+1 {{'dit.matmul' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x2xi64>'}}
  %0 = dit.matmul %a, %a : (tensor<2x2xi64>, tensor<2x2xi64>) -> tensor<2x2xi64>
  return
}

// -----

func.func @not_float(%a: tensor<2xf32>) {
  // expected-error@+1 {{'dit.not' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = dit.not %a : tensor<2xf32>
  return
}

// -----

func.func @and_float(%a: tensor<2xf32>) {
  // expected-error@+1 {{'dit.and' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = dit.and %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @compare_result_not_i1(%a: tensor<2xf32>) {
  // expected-error@+1 {{'dit.compare' op result #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = dit.compare eq, %a, %a : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @compare_operand_types(%a: tensor<2xf32>, %b: tensor<2xf16>) {
  // expected-error@+1 {{'dit.compare' op requires the same element type for all operands}}
  %0 = dit.compare lt, %a, %b : (tensor<2xf32>, tensor<2xf16>) -> tensor<2xi1>
  return
}

// -----

func.func @where_condition_not_i1(%c: tensor<2xi64>, %a: tensor<2xf32>) {
  // expected-error@+1 {{'dit.where' op operand #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<2xi64>'}}
  %0 = dit.where %c, %a, %a : (tensor<2xi64>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @isnan_result_not_i1(%a: tensor<2xf32>) {
  // expected-error@+1 {{'dit.isnan' op result #0 must be statically shaped tensor of 1-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = dit.isnan %a : (tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @isnan_shape(%a: tensor<2xf32>) {
  // expected-error@+1 {{'dit.isnan' op requires the same shape for all operands and results}}
  %0 = dit.isnan %a : (tensor<2xf32>) -> tensor<3xi1>
  return
}

// -----

func.func @cast_shape(%a: tensor<2xf32>) {
  // expected-error@+1 {{'dit.cast' op requires the same shape for all operands and results}}
  %0 = dit.cast %a : tensor<2xf32> to tensor<3xf16>
  return
}

// -----

func.func @gather_float_indices(%a: tensor<2xf32>, %i: tensor<2xf32>) {
  // expected-error@+1 {{'dit.gather' op operand #1 must be statically shaped tensor of 64-bit signless integer or 32-bit signless integer values, but got 'tensor<2xf32>'}}
  %0 = dit.gather %a[%i] {axis = 0 : i64} : (tensor<2xf32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @gelu_int(%a: tensor<2xi32>) {
  // expected-error@+1 {{'dit.gelu' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2xi32>'}}
  %0 = dit.gelu none %a : tensor<2xi32>
  return
}

//===----------------------------------------------------------------------===//
// dit.constant, dit.param
//===----------------------------------------------------------------------===//

// -----

func.func @constant_type_mismatch() {
  // expected-error@+1 {{'dit.constant' op value type 'tensor<2xf32>' differs from result type 'tensor<3xf32>'}}
  %0 = "dit.constant"() <{value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>
  return
}

// -----

func.func @constant_not_elements() {
  // expected-error@+1 {{invalid kind of attribute specified}}
  %0 = dit.constant 5 : i64
  return
}

// -----

func.func @constant_unsupported_type() {
  // expected-error@+1 {{'dit.constant' op result #0 must be statically shaped tensor of}}
  %0 = dit.constant dense<1> : tensor<2xi16>
  return
}

// -----

func.func @param_empty_name() {
  // expected-error@+1 {{'dit.param' op needs a non-empty parameter name}}
  %0 = dit.param "" : tensor<2xf32>
  return
}

// -----

func.func @param_value_type_mismatch() {
  // expected-error@+1 {{'dit.param' op value type 'tensor<2xf32>' differs from result type 'tensor<3xf32>'}}
  %0 = "dit.param"() <{name = "w", value = dense<1.0> : tensor<2xf32>}> : () -> tensor<3xf32>
  return
}

// -----

func.func @param_value_not_elements() {
  // expected-error@+1 {{param value must be an elements attribute}}
  %0 = dit.param "w" : tensor<2xf32> = unit
  return
}

// -----

func.func @param_perm_rank() {
  // expected-error@+1 {{'dit.param' op permutation of 3 axes for a tensor of rank 2}}
  %0 = dit.param "w" {perm = array<i64: 2, 1, 0>} : tensor<2x3xf32>
  return
}

// -----

func.func @param_perm_duplicate() {
  // expected-error@+1 {{'dit.param' op perm is not a permutation of 0..1}}
  %0 = dit.param "w" {perm = array<i64: 1, 1>} : tensor<2x3xf32>
  return
}

//===----------------------------------------------------------------------===//
// Elementwise
//===----------------------------------------------------------------------===//

// -----

func.func @binary_not_broadcastable(%a: tensor<2x3xf32>, %b: tensor<4xf32>) {
  // expected-error@+1 {{'dit.add' op shapes do not broadcast: (2x3) (4)}}
  %0 = dit.add %a, %b : (tensor<2x3xf32>, tensor<4xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @binary_result_shape(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error@+1 {{'dit.mul' op result shape (3) should be (2x3)}}
  %0 = dit.mul %a, %b : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3xf32>
  return
}

// -----

func.func @binary_scalar_result_shape(%a: tensor<f32>) {
  // expected-error@+1 {{'dit.sub' op result shape (1) should be (scalar)}}
  %0 = dit.sub %a, %a : (tensor<f32>, tensor<f32>) -> tensor<1xf32>
  return
}

// -----

func.func @binary_operand_types(%a: tensor<2xf32>, %b: tensor<2xf16>) {
  // expected-error@+1 {{'dit.div' op requires the same element type for all operands}}
  %0 = dit.div %a, %b : (tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  return
}

// -----

func.func @binary_result_type(%a: tensor<2xi64>) {
  // expected-error@+1 {{'dit.mod' op result element type must match the operands'}}
  %0 = dit.mod %a, %a : (tensor<2xi64>, tensor<2xi64>) -> tensor<2xi32>
  return
}

// -----

func.func @logical_result_type(%a: tensor<2xi1>) {
  // expected-error@+1 {{'dit.xor' op result element type must match the operands'}}
  %0 = dit.xor %a, %a : (tensor<2xi1>, tensor<2xi1>) -> tensor<2xi64>
  return
}

// -----

func.func @compare_not_broadcastable(%a: tensor<3xi64>, %b: tensor<2xi64>) {
  // expected-error@+1 {{'dit.compare' op shapes do not broadcast: (3) (2)}}
  %0 = dit.compare ge, %a, %b : (tensor<3xi64>, tensor<2xi64>) -> tensor<3xi1>
  return
}

// -----

func.func @compare_result_shape(%a: tensor<3xi64>, %b: tensor<1xi64>) {
  // expected-error@+1 {{'dit.compare' op result shape (1) should be (3)}}
  %0 = dit.compare gt, %a, %b : (tensor<3xi64>, tensor<1xi64>) -> tensor<1xi1>
  return
}

// -----

func.func @where_branch_types(%c: tensor<2xi1>, %a: tensor<2xf32>, %b: tensor<2xf16>) {
  // expected-error@+1 {{'dit.where' op both branches and the result need one element type}}
  %0 = dit.where %c, %a, %b : (tensor<2xi1>, tensor<2xf32>, tensor<2xf16>) -> tensor<2xf32>
  return
}

// -----

func.func @where_result_type(%c: tensor<2xi1>, %a: tensor<2xf32>) {
  // expected-error@+1 {{'dit.where' op both branches and the result need one element type}}
  %0 = dit.where %c, %a, %a : (tensor<2xi1>, tensor<2xf32>, tensor<2xf32>) -> tensor<2xf16>
  return
}

// -----

func.func @where_not_broadcastable(%c: tensor<3xi1>, %a: tensor<2x1xf32>, %b: tensor<2xf32>) {
  // expected-error@+1 {{'dit.where' op shapes do not broadcast: (3) (2x1) (2)}}
  %0 = dit.where %c, %a, %b : (tensor<3xi1>, tensor<2x1xf32>, tensor<2xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @where_result_shape(%c: tensor<3xi1>, %a: tensor<2x1xf32>) {
  // expected-error@+1 {{'dit.where' op result shape (3) should be (2x3)}}
  %0 = dit.where %c, %a, %a : (tensor<3xi1>, tensor<2x1xf32>, tensor<2x1xf32>) -> tensor<3xf32>
  return
}

//===----------------------------------------------------------------------===//
// dit.matmul, dit.gemm
//===----------------------------------------------------------------------===//

// -----

func.func @matmul_scalar(%a: tensor<f32>, %b: tensor<2xf32>) {
  // expected-error@+1 {{'dit.matmul' op matmul operands must have rank >= 1}}
  %0 = dit.matmul %a, %b : (tensor<f32>, tensor<2xf32>) -> tensor<2xf32>
  return
}

// -----

func.func @matmul_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error@+1 {{'dit.matmul' op matmul contraction sizes differ: (2x3) x (4x5)}}
  %0 = dit.matmul %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @matmul_vector_contraction(%a: tensor<3xf32>, %b: tensor<4xf32>) {
  // expected-error@+1 {{'dit.matmul' op matmul contraction sizes differ: (3) x (4)}}
  %0 = dit.matmul %a, %b : (tensor<3xf32>, tensor<4xf32>) -> tensor<f32>
  return
}

// -----

func.func @matmul_batch(%a: tensor<2x4x3xf32>, %b: tensor<5x3x6xf32>) {
  // expected-error@+1 {{'dit.matmul' op shapes do not broadcast: (2) (5)}}
  %0 = dit.matmul %a, %b : (tensor<2x4x3xf32>, tensor<5x3x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @matmul_result_shape(%a: tensor<4x3xf32>, %b: tensor<3xf32>) {
  // expected-error@+1 {{'dit.matmul' op result shape (4x1) should be (4)}}
  %0 = dit.matmul %a, %b : (tensor<4x3xf32>, tensor<3xf32>) -> tensor<4x1xf32>
  return
}

// -----

func.func @matmul_element_types(%a: tensor<4x3xf32>, %b: tensor<3x2xf16>) {
  // expected-error@+1 {{'dit.matmul' op requires the same element type for all operands and results}}
  %0 = dit.matmul %a, %b : (tensor<4x3xf32>, tensor<3x2xf16>) -> tensor<4x2xf32>
  return
}

// -----

func.func @gemm_not_matrices(%a: tensor<2x3x4xf32>, %b: tensor<4x5xf32>) {
  // expected-error@+1 {{'dit.gemm' op gemm operands must be matrices, got (2x3x4) and (4x5)}}
  %0 = dit.gemm %a, %b : (tensor<2x3x4xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @gemm_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error@+1 {{'dit.gemm' op gemm contraction sizes differ: 3 vs 4}}
  %0 = dit.gemm %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @gemm_contraction_transposed(%a: tensor<3x2xf32>, %b: tensor<5x3xf32>) {
  // expected-error@+1 {{'dit.gemm' op gemm contraction sizes differ: 2 vs 3}}
  %0 = dit.gemm %a, %b {trans_b = true} : (tensor<3x2xf32>, tensor<5x3xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @gemm_bias(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>, %c: tensor<2xf32>) {
  // expected-error@+1 {{'dit.gemm' op gemm bias (2) does not broadcast to (2x5)}}
  %0 = dit.gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x5xf32>, tensor<2xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @gemm_result_shape(%a: tensor<3x2xf32>, %b: tensor<3x5xf32>) {
  // expected-error@+1 {{'dit.gemm' op result shape (3x5) should be (2x5)}}
  %0 = dit.gemm %a, %b {trans_a = true} : (tensor<3x2xf32>, tensor<3x5xf32>) -> tensor<3x5xf32>
  return
}

// -----

func.func @gemm_element_types(%a: tensor<2x3xf16>, %b: tensor<3x5xf32>) {
  // expected-error@+1 {{'dit.gemm' op requires the same element type for all operands and results}}
  %0 = dit.gemm %a, %b : (tensor<2x3xf16>, tensor<3x5xf32>) -> tensor<2x5xf32>
  return
}

//===----------------------------------------------------------------------===//
// dit.linear
//===----------------------------------------------------------------------===//

// -----

func.func @linear_weight_rank(%x: tensor<2x8xf32>, %w: tensor<2x8x4xf32>) {
  // expected-error@+1 {{'dit.linear' op linear needs an input of rank >= 1 and a (K, N) weight, got (2x8) and (2x8x4)}}
  %0 = dit.linear %x, %w : (tensor<2x8xf32>, tensor<2x8x4xf32>) -> tensor<2x2x4xf32>
  return
}

// -----

func.func @linear_scalar_input(%x: tensor<f32>, %w: tensor<1x4xf32>) {
  // expected-error@+1 {{'dit.linear' op linear needs an input of rank >= 1 and a (K, N) weight, got (scalar) and (1x4)}}
  %0 = dit.linear %x, %w : (tensor<f32>, tensor<1x4xf32>) -> tensor<4xf32>
  return
}

// -----

func.func @linear_contraction(%x: tensor<2x8xf32>, %w: tensor<4x8xf32>) {
  // expected-error@+1 {{'dit.linear' op matmul contraction sizes differ: (2x8) x (4x8)}}
  %0 = dit.linear %x, %w : (tensor<2x8xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @linear_bias_size(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>, %b: tensor<8xf32>) {
  // expected-error@+1 {{'dit.linear' op linear bias (8) must be a vector of the 4 outputs}}
  %0 = dit.linear %x, %w, %b : (tensor<2x8xf32>, tensor<8x4xf32>, tensor<8xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_bias_matrix(%x: tensor<2x8xf32>, %w: tensor<8x4xf32>, %b: tensor<1x4xf32>) {
  // expected-error@+1 {{'dit.linear' op linear bias (1x4) must be a vector of the 4 outputs}}
  %0 = dit.linear %x, %w, %b : (tensor<2x8xf32>, tensor<8x4xf32>, tensor<1x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_result_shape(%x: tensor<1x6x8xf32>, %w: tensor<8x4xf32>) {
  // expected-error@+1 {{'dit.linear' op result shape (6x4) should be (1x6x4)}}
  %0 = dit.linear %x, %w : (tensor<1x6x8xf32>, tensor<8x4xf32>) -> tensor<6x4xf32>
  return
}

// -----

func.func @linear_element_types(%x: tensor<2x8xf32>, %w: tensor<8x4xf16>) {
  // expected-error@+1 {{'dit.linear' op requires the same element type for all operands and results}}
  %0 = dit.linear %x, %w : (tensor<2x8xf32>, tensor<8x4xf16>) -> tensor<2x4xf32>
  return
}

// -----

func.func @linear_int(%x: tensor<2x8xi64>, %w: tensor<8x4xi64>) {
  // expected-error@+1 {{'dit.linear' op operand #0 must be statically shaped tensor of 64-bit float or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x8xi64>'}}
  %0 = dit.linear %x, %w : (tensor<2x8xi64>, tensor<8x4xi64>) -> tensor<2x4xi64>
  return
}

//===----------------------------------------------------------------------===//
// dit.modulate, dit.gated_add
//===----------------------------------------------------------------------===//

// -----

func.func @modulate_shift(%x: tensor<1x48x32xf32>, %s: tensor<1x1x16xf32>, %c: tensor<1x1x32xf32>) {
  // expected-error@+1 {{'dit.modulate' op shift (1x1x16) does not broadcast to (1x48x32)}}
  %0 = dit.modulate %x, %s, %c : (tensor<1x48x32xf32>, tensor<1x1x16xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  return
}

// -----

// The scale may not grow the result: x's shape is the result's.
func.func @modulate_scale(%x: tensor<1x1x32xf32>, %s: tensor<1x1x32xf32>, %c: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'dit.modulate' op scale (1x48x32) does not broadcast to (1x1x32)}}
  %0 = dit.modulate %x, %s, %c : (tensor<1x1x32xf32>, tensor<1x1x32xf32>, tensor<1x48x32xf32>) -> tensor<1x1x32xf32>
  return
}

// -----

func.func @modulate_result(%x: tensor<1x48x32xf32>, %s: tensor<1x1x32xf32>) {
  // expected-error@+1 {{'dit.modulate' op failed to verify that all of {input, result} have same type}}
  %0 = dit.modulate %x, %s, %s : (tensor<1x48x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<2x48x32xf32>
  return
}

// -----

func.func @gated_add_gate(%x: tensor<1x48x32xf32>, %g: tensor<1x2x32xf32>) {
  // expected-error@+1 {{'dit.gated_add' op gate (1x2x32) does not broadcast to (1x48x32)}}
  %0 = dit.gated_add %x, %x, %g : (tensor<1x48x32xf32>, tensor<1x48x32xf32>, tensor<1x2x32xf32>) -> tensor<1x48x32xf32>
  return
}

// -----

func.func @gated_add_types(%x: tensor<1x48x32xf32>, %y: tensor<1x1x32xf32>, %g: tensor<1x1x32xf32>) {
  // expected-error@+1 {{'dit.gated_add' op failed to verify that all of {lhs, rhs, result} have same type}}
  %0 = dit.gated_add %x, %y, %g : (tensor<1x48x32xf32>, tensor<1x1x32xf32>, tensor<1x1x32xf32>) -> tensor<1x48x32xf32>
  return
}

//===----------------------------------------------------------------------===//
// dit.conv
//===----------------------------------------------------------------------===//

// -----

func.func @conv_rank(%x: tensor<1x3x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv needs input N x C x spatial... and a weight of the same rank, got (1x3x8) and (4x3x3x3)}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1>, pads = array<i64: 0, 0>, strides = array<i64: 1>} : (tensor<1x3x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6xf32>
  return
}

// -----

func.func @conv_input_rank(%x: tensor<3x8xf32>, %w: tensor<4x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv needs input N x C x spatial... and a weight of the same rank, got (3x8) and (4x3)}}
  %0 = dit.conv %x, %w {dilations = array<i64>, pads = array<i64>, strides = array<i64>} : (tensor<3x8xf32>, tensor<4x3xf32>) -> tensor<3x4xf32>
  return
}

// -----

// A scalar weight with a bias: the shape check runs before the bias check.
func.func @conv_scalar_weight_with_bias(%x: tensor<1x3x8x8xf32>, %w: tensor<f32>, %b: tensor<4xf32>) {
  // expected-error@+1 {{'dit.conv' op conv needs input N x C x spatial... and a weight of the same rank, got (1x3x8x8) and (scalar)}}
  %0 = dit.conv %x, %w, %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<f32>, tensor<4xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @conv_strides_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv over 2 spatial axes needs as many strides and dilations and twice as many pads}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_dilations_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv over 2 spatial axes needs as many strides and dilations and twice as many pads}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_pads_count(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv over 2 spatial axes needs as many strides and dilations and twice as many pads}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 1, 1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @conv_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x2x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv channels do not match: input has 3, weight expects 2 per group of 1}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x2x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_group_input_channels(%x: tensor<1x3x8x8xf32>, %w: tensor<4x1x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv channels do not match: input has 3, weight expects 1 per group of 2}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x1x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_group_output_channels(%x: tensor<1x4x8x8xf32>, %w: tensor<3x2x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv channels do not match: input has 4, weight expects 2 per group of 2}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, group = 2 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<3x2x3x3xf32>) -> tensor<1x3x6x6xf32>
  return
}

// -----

func.func @conv_group_zero(%x: tensor<1x4x8x8xf32>, %w: tensor<4x4x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv channels do not match: input has 4, weight expects 4 per group of 0}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, group = 0 : i64, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x4x8x8xf32>, tensor<4x4x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_zero_stride(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv strides and dilations must be >= 1 and pads >= 0}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 0>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_zero_dilation(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv strides and dilations must be >= 1 and pads >= 0}}
  %0 = dit.conv %x, %w {dilations = array<i64: 0, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_negative_pad(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv strides and dilations must be >= 1 and pads >= 0}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, -1>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x5xf32>
  return
}

// -----

func.func @conv_kernel_too_large(%x: tensor<1x3x8x2xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv kernel (3) is larger than the padded input (2) along spatial axis 1}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x2xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x1xf32>
  return
}

// -----

func.func @conv_dilated_kernel_too_large(%x: tensor<1x3x4x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op conv kernel (5) is larger than the padded input (4) along spatial axis 0}}
  %0 = dit.conv %x, %w {dilations = array<i64: 2, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x4x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x1x6xf32>
  return
}

// -----

func.func @conv_result_shape(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op result shape (1x4x8x8) should be (1x4x3x4)}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 1, 0, 0>, strides = array<i64: 2, 2>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>) -> tensor<1x4x8x8xf32>
  return
}

// -----

func.func @conv_bias_length(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<3xf32>) {
  // expected-error@+1 {{'dit.conv' op bias must be a vector of the output channels}}
  %0 = dit.conv %x, %w, %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<3xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_bias_rank(%x: tensor<1x3x8x8xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<1x4xf32>) {
  // expected-error@+1 {{'dit.conv' op bias must be a vector of the output channels}}
  %0 = dit.conv %x, %w, %b {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf32>, tensor<4x3x3x3xf32>, tensor<1x4xf32>) -> tensor<1x4x6x6xf32>
  return
}

// -----

func.func @conv_element_types(%x: tensor<1x3x8x8xf16>, %w: tensor<4x3x3x3xf32>) {
  // expected-error@+1 {{'dit.conv' op requires the same element type for all operands and results}}
  %0 = dit.conv %x, %w {dilations = array<i64: 1, 1>, pads = array<i64: 0, 0, 0, 0>, strides = array<i64: 1, 1>} : (tensor<1x3x8x8xf16>, tensor<4x3x3x3xf32>) -> tensor<1x4x6x6xf16>
  return
}

//===----------------------------------------------------------------------===//
// dit.softmax, dit.layer_norm, dit.rms_norm, dit.reduce
//===----------------------------------------------------------------------===//

// -----

func.func @softmax_axis(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.softmax' op axis 2 is out of range for rank 2}}
  %0 = dit.softmax %x {axis = 2 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @softmax_negative_axis(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.softmax' op axis -3 is out of range for rank 2}}
  %0 = dit.softmax %x {axis = -3 : i64} : tensor<2x3xf32>
  return
}

// -----

func.func @layer_norm_result_type(%x: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.layer_norm' op result type must equal the input type}}
  %0 = dit.layer_norm %x {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>) -> tensor<4x2xf32>
  return
}

// -----

func.func @layer_norm_epsilon(%x: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.layer_norm' op epsilon must be >= 0}}
  %0 = dit.layer_norm %x {axis = -1 : i64, epsilon = -1.0e-5 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_axis(%x: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.layer_norm' op axis 2 is out of range for rank 2}}
  %0 = dit.layer_norm %x {axis = 2 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_scale(%x: tensor<2x4xf32>, %s: tensor<2xf32>) {
  // expected-error@+1 {{'dit.layer_norm' op scale (2) does not match the normalised axes (4)}}
  %0 = dit.layer_norm %x scale %s {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_scale_rank(%x: tensor<2x4xf32>, %s: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.layer_norm' op scale (2x4) does not match the normalised axes (4)}}
  %0 = dit.layer_norm %x scale %s {axis = 1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>, tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_bias(%x: tensor<2x4xf32>, %s: tensor<4xf32>, %b: tensor<3xf32>) {
  // expected-error@+1 {{'dit.layer_norm' op bias (3) does not match the normalised axes (4)}}
  %0 = dit.layer_norm %x scale %s bias %b {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>, tensor<4xf32>, tensor<3xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_bias_only(%x: tensor<2x4xf32>, %b: tensor<2xf32>) {
  // expected-error@+1 {{'dit.layer_norm' op bias (2) does not match the normalised axes (2x4)}}
  %0 = dit.layer_norm %x bias %b {axis = 0 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>, tensor<2xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @layer_norm_element_types(%x: tensor<2x4xf32>, %s: tensor<4xf16>) {
  // expected-error@+1 {{'dit.layer_norm' op requires the same element type for all operands and results}}
  %0 = dit.layer_norm %x scale %s {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>, tensor<4xf16>) -> tensor<2x4xf32>
  return
}

// -----

func.func @rms_norm_result_type(%x: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.rms_norm' op result type must equal the input type}}
  %0 = dit.rms_norm %x {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @rms_norm_epsilon(%x: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.rms_norm' op epsilon must be >= 0}}
  %0 = dit.rms_norm %x {axis = -1 : i64, epsilon = -1.0 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @rms_norm_axis(%x: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.rms_norm' op axis -3 is out of range for rank 2}}
  %0 = dit.rms_norm %x {axis = -3 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @rms_norm_scale(%x: tensor<2x4xf32>, %s: tensor<8xf32>) {
  // expected-error@+1 {{'dit.rms_norm' op scale (8) does not match the normalised axes (4)}}
  %0 = dit.rms_norm %x scale %s {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xf32>, tensor<8xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @rms_norm_element_types(%x: tensor<2x4xbf16>, %s: tensor<4xf32>) {
  // expected-error@+1 {{'dit.rms_norm' op requires the same element type for all operands and results}}
  %0 = dit.rms_norm %x scale %s {axis = -1 : i64, epsilon = 1.0e-5 : f64} : (tensor<2x4xbf16>, tensor<4xf32>) -> tensor<2x4xbf16>
  return
}

// -----

func.func @reduce_axis(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.reduce' op axis 2 is out of range for rank 2}}
  %0 = dit.reduce sum %x [2] : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @reduce_duplicate_axes(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.reduce' op axis -1 appears twice}}
  %0 = dit.reduce max %x [1, -1] : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @reduce_result_shape(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.reduce' op result shape (2x1) should be (2)}}
  %0 = dit.reduce mean %x [1] {keepdims = false} : (tensor<2x3xf32>) -> tensor<2x1xf32>
  return
}

// -----

func.func @reduce_element_type(%x: tensor<2x3xi64>) {
  // expected-error@+1 {{'dit.reduce' op requires the same element type for all operands and results}}
  %0 = dit.reduce sum %x [] : (tensor<2x3xi64>) -> tensor<1x1xi32>
  return
}

//===----------------------------------------------------------------------===//
// dit.attention
//===----------------------------------------------------------------------===//

// -----

func.func @attention_scale_zero(%q: tensor<1x2x4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op scale must be > 0}}
  %0 = dit.attention %q, %q, %q {scale = 0.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_scale_negative(%q: tensor<1x2x4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op scale must be > 0}}
  %0 = dit.attention %q, %q, %q {scale = -0.125 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_mask_type(%q: tensor<1x2x4x8xf32>, %m: tensor<4x4xi64>) {
  // expected-error@+1 {{'dit.attention' op mask must be i1 or of the queries' element type}}
  %0 = dit.attention %q, %q, %q mask %m {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<4x4xi64>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_mask_float_type(%q: tensor<1x2x4x8xf32>, %m: tensor<4x4xf16>) {
  // expected-error@+1 {{'dit.attention' op mask must be i1 or of the queries' element type}}
  %0 = dit.attention %q, %q, %q mask %m {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<4x4xf16>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_mask_shape(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %m: tensor<4x4xi1>) {
  // expected-error@+1 {{'dit.attention' op attention mask (4x4) does not broadcast to the scores (1x2x4x6)}}
  %0 = dit.attention %q, %k, %k mask %m {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>, tensor<4x4xi1>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_geometry_tokens(%q: tensor<1x2x4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op geometry covers 7 tokens but the queries have 4}}
  %0 = dit.attention %q, %q, %q role self {geometry = #dit.video<t = 1, h = 2, w = 2, prefix = 1, suffix = 2>, scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

// The geometry is checked after the shapes: queries without a sequence axis
// get the shape error.
func.func @attention_geometry_bad_rank(%q: tensor<4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op attention operands must be (batch, heads, seq, dim)}}
  %0 = dit.attention %q, %q, %q {geometry = #dit.video<t = 1, h = 2, w = 2, prefix = 0, suffix = 0>, scale = 1.0 : f64} : (tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) -> tensor<4x8xf32>
  return
}

// -----

func.func @attention_causal_cross(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>) {
  // expected-error@+1 {{'dit.attention' op cross-attention cannot be causal}}
  %0 = dit.attention %q, %k, %k role cross {is_causal = true, scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x6x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_rank(%q: tensor<2x4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op attention operands must be (batch, heads, seq, dim)}}
  %0 = dit.attention %q, %q, %q {scale = 1.0 : f64} : (tensor<2x4x8xf32>, tensor<2x4x8xf32>, tensor<2x4x8xf32>) -> tensor<2x4x8xf32>
  return
}

// -----

func.func @attention_head_dim(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x16xf32>) {
  // expected-error@+1 {{'dit.attention' op attention shapes do not fit: q (1x2x4x8), k (1x2x4x16), v (1x2x4x16)}}
  %0 = dit.attention %q, %k, %k {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x16xf32>, tensor<1x2x4x16xf32>) -> tensor<1x2x4x16xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<2x2x4x8xf32>, %k: tensor<1x2x4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op attention shapes do not fit: q (2x2x4x8), k (1x2x4x8), v (1x2x4x8)}}
  %0 = dit.attention %q, %k, %k {scale = 1.0 : f64} : (tensor<2x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<2x2x4x8xf32>
  return
}

// -----

func.func @attention_value_seq(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x6x8xf32>, %v: tensor<1x2x5x8xf32>) {
  // expected-error@+1 {{'dit.attention' op attention shapes do not fit: q (1x2x4x8), k (1x2x6x8), v (1x2x5x8)}}
  %0 = dit.attention %q, %k, %v {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x6x8xf32>, tensor<1x2x5x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_group_heads(%q: tensor<1x3x4x8xf32>, %k: tensor<1x2x4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op attention shapes do not fit: q (1x3x4x8), k (1x2x4x8), v (1x2x4x8)}}
  %0 = dit.attention %q, %k, %k {scale = 1.0 : f64} : (tensor<1x3x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x3x4x8xf32>
  return
}

// -----

func.func @attention_zero_kv_heads(%q: tensor<1x2x4x8xf32>, %k: tensor<1x0x4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op attention shapes do not fit: q (1x2x4x8), k (1x0x4x8), v (1x0x4x8)}}
  %0 = dit.attention %q, %k, %k {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x0x4x8xf32>, tensor<1x0x4x8xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_result_shape(%q: tensor<1x2x4x8xf32>, %v: tensor<1x2x4x3xf32>) {
  // expected-error@+1 {{'dit.attention' op result shape (1x2x4x8) should be (1x2x4x3)}}
  %0 = dit.attention %q, %q, %v {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x3xf32>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_element_types(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x4x8xf16>) {
  // expected-error@+1 {{'dit.attention' op query, key, value and result need one element type}}
  %0 = dit.attention %q, %k, %k {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf16>, tensor<1x2x4x8xf16>) -> tensor<1x2x4x8xf32>
  return
}

// -----

func.func @attention_result_element_type(%q: tensor<1x2x4x8xf32>) {
  // expected-error@+1 {{'dit.attention' op query, key, value and result need one element type}}
  %0 = dit.attention %q, %q, %q {scale = 1.0 : f64} : (tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>, tensor<1x2x4x8xf32>) -> tensor<1x2x4x8xbf16>
  return
}

//===----------------------------------------------------------------------===//
// Data movement
//===----------------------------------------------------------------------===//

// -----

func.func @reshape_element_count(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.reshape' op reshape from (2x3) to (7) changes the number of elements}}
  %0 = dit.reshape %x : tensor<2x3xf32> -> tensor<7xf32>
  return
}

// -----

func.func @reshape_element_type(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.reshape' op requires the same element type for all operands and results}}
  %0 = dit.reshape %x : tensor<2x3xf32> -> tensor<6xf16>
  return
}

// -----

func.func @transpose_perm_size(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.transpose' op permutation of 3 axes for a tensor of rank 2}}
  %0 = dit.transpose %x [0, 1, 2] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @transpose_perm_duplicate(%x: tensor<2x3x4xf32>) {
  // expected-error@+1 {{'dit.transpose' op perm is not a permutation of 0..2}}
  %0 = dit.transpose %x [0, 2, 2] : tensor<2x3x4xf32> -> tensor<2x4x4xf32>
  return
}

// -----

func.func @transpose_perm_out_of_range(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.transpose' op perm is not a permutation of 0..1}}
  %0 = dit.transpose %x [2, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  return
}

// -----

func.func @transpose_perm_negative(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.transpose' op perm is not a permutation of 0..1}}
  %0 = dit.transpose %x [-1, 0] : tensor<2x3xf32> -> tensor<3x2xf32>
  return
}

// -----

func.func @transpose_result_shape(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.transpose' op result shape (2x3) should be (3x2)}}
  %0 = dit.transpose %x [1, 0] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @slice_counts(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{'dit.slice' op slice needs one offset and stride per axis of the input}}
  %0 = dit.slice %x offsets [0] strides [1, 1] : tensor<4x6xf32> -> tensor<4x6xf32>
  return
}

// -----

func.func @slice_result_rank(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{'dit.slice' op slice needs one offset and stride per axis of the input}}
  %0 = dit.slice %x offsets [0, 0] strides [1, 1] : tensor<4x6xf32> -> tensor<24xf32>
  return
}

// -----

func.func @slice_zero_stride(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{'dit.slice' op slice stride along axis 1 is zero}}
  %0 = dit.slice %x offsets [0, 0] strides [1, 0] : tensor<4x6xf32> -> tensor<4x1xf32>
  return
}

// -----

func.func @slice_past_end(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{'dit.slice' op slice along axis 1 reads [2, 6] outside 0..5}}
  %0 = dit.slice %x offsets [0, 2] strides [1, 2] : tensor<4x6xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @slice_offset_past_end(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{'dit.slice' op slice along axis 0 reads [4, 4] outside 0..3}}
  %0 = dit.slice %x offsets [4, 0] strides [1, 1] : tensor<4x6xf32> -> tensor<1x6xf32>
  return
}

// -----

func.func @slice_negative_offset(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{'dit.slice' op slice along axis 0 reads [-1, 0] outside 0..3}}
  %0 = dit.slice %x offsets [-1, 0] strides [1, 1] : tensor<4x6xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @slice_negative_stride_before_start(%x: tensor<4x6xf32>) {
  // expected-error@+1 {{'dit.slice' op slice along axis 1 reads [1, -1] outside 0..5}}
  %0 = dit.slice %x offsets [0, 1] strides [1, -1] : tensor<4x6xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_no_inputs() {
  // expected-error@+1 {{'dit.concat' op expected 1 or more operands, but found 0}}
  %0 = dit.concat {axis = 0 : i64} : () -> tensor<2xf32>
  return
}

// -----

func.func @concat_scalars(%a: tensor<f32>) {
  // expected-error@+1 {{'dit.concat' op concat inputs must have rank >= 1}}
  %0 = dit.concat %a, %a {axis = 0 : i64} : (tensor<f32>, tensor<f32>) -> tensor<2xf32>
  return
}

// -----

func.func @concat_axis(%a: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.concat' op axis 2 is out of range for rank 2}}
  %0 = dit.concat %a, %a {axis = 2 : i64} : (tensor<2x3xf32>, tensor<2x3xf32>) -> tensor<2x6xf32>
  return
}

// -----

func.func @concat_ranks(%a: tensor<2x3xf32>, %b: tensor<3xf32>) {
  // expected-error@+1 {{'dit.concat' op concat inputs differ in rank}}
  %0 = dit.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<3xf32>) -> tensor<3x3xf32>
  return
}

// -----

func.func @concat_mismatch(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.concat' op concat inputs differ in axis 1: (2x3) vs (2x4)}}
  %0 = dit.concat %a, %b {axis = 0 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<4x3xf32>
  return
}

// -----

func.func @concat_result_shape(%a: tensor<2x3xf32>, %b: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.concat' op result shape (2x8) should be (2x7)}}
  %0 = dit.concat %a, %b {axis = -1 : i64} : (tensor<2x3xf32>, tensor<2x4xf32>) -> tensor<2x8xf32>
  return
}

// -----

func.func @concat_result_element_type(%a: tensor<2xi64>) {
  // expected-error@+1 {{'dit.concat' op result element type must match the inputs'}}
  %0 = dit.concat %a, %a {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi64>) -> tensor<4xi32>
  return
}

// -----

func.func @concat_input_element_types(%a: tensor<2xi64>, %b: tensor<2xi32>) {
  // expected-error@+1 {{'dit.concat' op requires the same element type for all operands}}
  %0 = dit.concat %a, %b {axis = 0 : i64} : (tensor<2xi64>, tensor<2xi32>) -> tensor<4xi64>
  return
}

// -----

func.func @broadcast_incompatible(%x: tensor<3xf32>) {
  // expected-error@+1 {{'dit.broadcast' op cannot broadcast (3) to (2x4)}}
  %0 = dit.broadcast %x : tensor<3xf32> -> tensor<2x4xf32>
  return
}

// -----

func.func @broadcast_to_lower_rank(%x: tensor<1x3xf32>) {
  // expected-error@+1 {{'dit.broadcast' op cannot broadcast (1x3) to (3)}}
  %0 = dit.broadcast %x : tensor<1x3xf32> -> tensor<3xf32>
  return
}

// -----

func.func @tile_count(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.tile' op tile needs one repeat count per axis (2), got 1}}
  %0 = dit.tile %x [2] : tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @tile_negative(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.tile' op tile repeat counts must be >= 0}}
  %0 = dit.tile %x [1, -1] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @tile_result_shape(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.tile' op result shape (2x6) should be (4x3)}}
  %0 = dit.tile %x [2, 1] : tensor<2x3xf32> -> tensor<2x6xf32>
  return
}

// -----

func.func @pad_count(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.pad' op pad needs 4 pad sizes, got 2}}
  %0 = dit.pad %x [1, 1] : tensor<2x3xf32> -> tensor<4x3xf32>
  return
}

// -----

func.func @pad_removes_too_much(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.pad' op pad removes more than axis 1 holds}}
  %0 = dit.pad %x [0, -2, 0, -2] : tensor<2x3xf32> -> tensor<2x0xf32>
  return
}

// -----

func.func @pad_result_shape(%x: tensor<2x3xf32>) {
  // expected-error@+1 {{'dit.pad' op result shape (2x3) should be (3x4)}}
  %0 = dit.pad %x [1, 0, 0, 1] : tensor<2x3xf32> -> tensor<2x3xf32>
  return
}

// -----

func.func @gather_scalar(%x: tensor<f32>, %i: tensor<2xi64>) {
  // expected-error@+1 {{'dit.gather' op gather from a scalar}}
  %0 = dit.gather %x[%i] {axis = 0 : i64} : (tensor<f32>, tensor<2xi64>) -> tensor<2xf32>
  return
}

// -----

func.func @gather_axis(%x: tensor<4x5xf32>, %i: tensor<2xi64>) {
  // expected-error@+1 {{'dit.gather' op axis -3 is out of range for rank 2}}
  %0 = dit.gather %x[%i] {axis = -3 : i64} : (tensor<4x5xf32>, tensor<2xi64>) -> tensor<2x5xf32>
  return
}

// -----

func.func @gather_result_shape(%x: tensor<4x5xf32>, %i: tensor<2x3xi32>) {
  // expected-error@+1 {{'dit.gather' op result shape (2x3x5) should be (4x2x3)}}
  %0 = dit.gather %x[%i] {axis = 1 : i64} : (tensor<4x5xf32>, tensor<2x3xi32>) -> tensor<2x3x5xf32>
  return
}

// -----

func.func @gather_element_type(%x: tensor<4x5xf32>, %i: tensor<2xi64>) {
  // expected-error@+1 {{'dit.gather' op result element type must match the input's}}
  %0 = dit.gather %x[%i] {axis = 0 : i64} : (tensor<4x5xf32>, tensor<2xi64>) -> tensor<2x5xf16>
  return
}

// -----

func.func @scatter_nd_result_type(%d: tensor<4x5xf32>, %i: tensor<2x1xi64>, %u: tensor<2x5xf32>) {
  // expected-error@+1 {{'dit.scatter_nd' op data, updates and result need one element type and the result the data's shape}}
  %0 = dit.scatter_nd %d[%i], %u : (tensor<4x5xf32>, tensor<2x1xi64>, tensor<2x5xf32>) -> tensor<5x4xf32>
  return
}

// -----

func.func @scatter_nd_updates_type(%d: tensor<4x5xf32>, %i: tensor<2x1xi64>, %u: tensor<2x5xf16>) {
  // expected-error@+1 {{'dit.scatter_nd' op data, updates and result need one element type and the result the data's shape}}
  %0 = dit.scatter_nd %d[%i], %u : (tensor<4x5xf32>, tensor<2x1xi64>, tensor<2x5xf16>) -> tensor<4x5xf32>
  return
}

// -----

func.func @scatter_nd_index_depth(%d: tensor<4x5xf32>, %i: tensor<2x3xi64>, %u: tensor<2xf32>) {
  // expected-error@+1 {{'dit.scatter_nd' op scatter_nd index tuples of length 3 for data of rank 2}}
  %0 = dit.scatter_nd %d[%i], %u : (tensor<4x5xf32>, tensor<2x3xi64>, tensor<2xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @scatter_nd_empty_tuples(%d: tensor<4x5xf32>, %i: tensor<2x0xi64>, %u: tensor<2x4x5xf32>) {
  // expected-error@+1 {{'dit.scatter_nd' op scatter_nd index tuples of length 0 for data of rank 2}}
  %0 = dit.scatter_nd %d[%i], %u : (tensor<4x5xf32>, tensor<2x0xi64>, tensor<2x4x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @scatter_nd_scalar_indices(%d: tensor<4x5xf32>, %i: tensor<i64>, %u: tensor<5xf32>) {
  // expected-error@+1 {{'dit.scatter_nd' op scatter_nd index tuples of length 0 for data of rank 2}}
  %0 = dit.scatter_nd %d[%i], %u : (tensor<4x5xf32>, tensor<i64>, tensor<5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @scatter_nd_updates_shape(%d: tensor<4x5x6xf32>, %i: tensor<3x1xi32>, %u: tensor<3x6xf32>) {
  // expected-error@+1 {{'dit.scatter_nd' op scatter_nd updates must be (3x5x6), got (3x6)}}
  %0 = dit.scatter_nd %d[%i], %u reduction add : (tensor<4x5x6xf32>, tensor<3x1xi32>, tensor<3x6xf32>) -> tensor<4x5x6xf32>
  return
}

// -----

func.func @scatter_elements_result_type(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x5xf32>) {
  // expected-error@+1 {{'dit.scatter_elements' op data, updates and result need one element type and the result the data's shape}}
  %0 = dit.scatter_elements %d[%i], %u {axis = 0 : i64} : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xf32>) -> tensor<4x5xf16>
  return
}

// -----

func.func @scatter_elements_updates_type(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x5xbf16>) {
  // expected-error@+1 {{'dit.scatter_elements' op data, updates and result need one element type and the result the data's shape}}
  %0 = dit.scatter_elements %d[%i], %u {axis = 0 : i64} : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xbf16>) -> tensor<4x5xf32>
  return
}

// -----

func.func @scatter_elements_shapes(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x4xf32>) {
  // expected-error@+1 {{'dit.scatter_elements' op indices and updates must have one shape}}
  %0 = dit.scatter_elements %d[%i], %u {axis = 0 : i64} : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x4xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @scatter_elements_rank(%d: tensor<4x5xf32>, %i: tensor<5xi64>, %u: tensor<5xf32>) {
  // expected-error@+1 {{'dit.scatter_elements' op indices must have the data's rank}}
  %0 = dit.scatter_elements %d[%i], %u {axis = 0 : i64} : (tensor<4x5xf32>, tensor<5xi64>, tensor<5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @scatter_elements_axis(%d: tensor<4x5xf32>, %i: tensor<2x5xi64>, %u: tensor<2x5xf32>) {
  // expected-error@+1 {{'dit.scatter_elements' op axis 2 is out of range for rank 2}}
  %0 = dit.scatter_elements %d[%i], %u reduction max {axis = 2 : i64} : (tensor<4x5xf32>, tensor<2x5xi64>, tensor<2x5xf32>) -> tensor<4x5xf32>
  return
}

// -----

func.func @rope_odd(%x: tensor<2x5xf32>, %c: tensor<2xf32>) {
  // expected-error@+1 {{'dit.rope' op input must have an even last axis, got (2x5)}}
  %0 = dit.rope %x, %c, %c : (tensor<2x5xf32>, tensor<2xf32>, tensor<2xf32>) -> tensor<2x5xf32>
  return
}

// -----

func.func @rope_table(%x: tensor<3x8xf32>, %c: tensor<3x4xf32>, %s: tensor<3x8xf32>) {
  // expected-error@+1 {{'dit.rope' op sin (3x8) does not broadcast to the pairs (3x4)}}
  %0 = dit.rope %x, %c, %s {interleaved} : (tensor<3x8xf32>, tensor<3x4xf32>, tensor<3x8xf32>) -> tensor<3x8xf32>
  return
}

// -----

func.func @rope_result(%x: tensor<3x8xf32>, %c: tensor<4xf32>) {
  // expected-error@+1 {{'dit.rope' op failed to verify that all of {input, result} have same type}}
  %0 = dit.rope %x, %c, %c : (tensor<3x8xf32>, tensor<4xf32>, tensor<4xf32>) -> tensor<3x4x2xf32>
  return
}

//===----------------------------------------------------------------------===//
// Context parallelism: dit.shard, dit.all_to_all, dit.all_gather
//===----------------------------------------------------------------------===//

// -----

func.func @shard_not_divisible(%x: tensor<1x45x32xf32>) {
  // expected-error@+1 {{dim 1 (45) is not divisible by the degree 2}}
  %0 = dit.shard %x axis 1 degree 2 : tensor<1x45x32xf32> -> tensor<1x22x32xf32>
  return
}

// -----

func.func @shard_bad_result(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{result shape (1x48x32) should be (1x24x32)}}
  %0 = dit.shard %x axis 1 degree 2 : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  return
}

// -----

func.func @shard_bad_axis(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{axis 3 out of range for rank 3}}
  %0 = dit.shard %x axis 3 degree 2 : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  return
}

// -----

func.func @shard_zero_degree(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{degree must be >= 1, got 0}}
  %0 = dit.shard %x axis 1 degree 0 : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  return
}

// -----

func.func @all_to_all_heads(%q: tensor<1x3x24x16xf32>) {
  // expected-error@+1 {{dim 1 (3) is not divisible by the degree 2}}
  %0 = dit.all_to_all %q scatter 1 gather 2 degree 2 : tensor<1x3x24x16xf32> -> tensor<1x1x48x16xf32>
  return
}

// -----

func.func @all_to_all_bad_result(%q: tensor<1x2x24x16xf32>) {
  // expected-error@+1 {{result shape (1x2x48x16) should be (1x1x48x16)}}
  %0 = dit.all_to_all %q scatter 1 gather 2 degree 2 : tensor<1x2x24x16xf32> -> tensor<1x2x48x16xf32>
  return
}

// -----

func.func @all_gather_bad_result(%x: tensor<1x24x16xf32>) {
  // expected-error@+1 {{result shape (1x24x16) should be (1x48x16)}}
  %0 = dit.all_gather %x axis 1 degree 2 : tensor<1x24x16xf32> -> tensor<1x24x16xf32>
  return
}

// -----

func.func @ring_degree(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error@+1 {{'dit.ring_attention' op degree must be >= 1, got 0}}
  %0 = dit.ring_attention %q, %q, %q degree 0 {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @ring_stride(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error@+1 {{'dit.ring_attention' op stride must be >= 1, got 0}}
  %0 = dit.ring_attention %q, %q, %q degree 2 {scale = 0.5 : f64, stride = 0 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @ring_chunks(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x6x2xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error@+1 {{'dit.ring_attention' op query, key and value must share batch and head dim (and key/value their shape)}}
  %0 = dit.ring_attention %q, %k, %k degree 2 {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x6x2xf32>, tensor<1x2x6x2xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @ring_heads(%q: tensor<1x3x8x4xf32>, %k: tensor<1x2x8x4xf32>) -> tensor<1x3x8x4xf32> {
  // expected-error@+1 {{'dit.ring_attention' op query heads (3) must be a multiple of key/value heads (2)}}
  %0 = dit.ring_attention %q, %k, %k degree 2 {scale = 0.5 : f64} : (tensor<1x3x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x3x8x4xf32>
  return %0 : tensor<1x3x8x4xf32>
}

// -----

func.func @ring_result(%q: tensor<1x2x8x4xf32>) -> tensor<1x2x8x8xf32> {
  // expected-error@+1 {{'dit.ring_attention' op result must have the query's type}}
  %0 = dit.ring_attention %q, %q, %q degree 2 {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> tensor<1x2x8x8xf32>
  return %0 : tensor<1x2x8x8xf32>
}

// -----

func.func @shard_stride(%x: tensor<1x8x4xf32>) -> tensor<1x4x4xf32> {
  // expected-error@+1 {{'dit.shard' op stride must be >= 1, got 0}}
  %0 = dit.shard %x axis 1 degree 2 {stride = 0 : i64} : tensor<1x8x4xf32> -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

func.func @ring_local(%q: tensor<1x2x8x4xf32>, %t: tensor<1x2x3x2xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error@+1 {{'dit.ring_attention' op local keys and values must be (batch, kv heads, tokens, dim) like the keys}}
  %0 = dit.ring_attention %q, %q, %q local(%t, %t) degree 2 {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x3x2xf32>, tensor<1x2x3x2xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @ring_mask(%q: tensor<1x2x8x4xf32>, %m: tensor<1x1x1x8xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error@+1 {{'dit.ring_attention' op mask must be a key mask (B or 1, 1, 1, 16) over every rank's keys}}
  %0 = dit.ring_attention %q, %q, %q mask %m degree 2 {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x1x1x8xf32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}
