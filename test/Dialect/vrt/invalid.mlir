// RUN: vsa-opt %s -split-input-file -verify-diagnostics

// Every verifier error of the vrt dialect (VrtOps.cpp), one case each, plus
// the generated kernels' body rules and a few ODS constraints.

//===----------------------------------------------------------------------===//
// ODS constraints
//===----------------------------------------------------------------------===//

func.func @dynamic_shape(%x: tensor<?x4xf32>) {
  // expected-error@+1 {{'vrt.view' op operand #0 must be statically shaped tensor of}}
  %0 = vrt.view %x : tensor<?x4xf32> -> tensor<4x4xf32>
  return
}

// -----

func.func @gemm_of_integers(%a: tensor<2x3xi64>, %b: tensor<3x4xi64>) {
  // expected-error@+1 {{'vrt.gemm' op operand #0 must be statically shaped tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x3xi64>'}}
  %0 = vrt.gemm %a, %b : (tensor<2x3xi64>, tensor<3x4xi64>) -> tensor<2x4xi64>
  return
}

// -----

func.func @yield_outside_kernel(%x: tensor<4xf32>) {
  // expected-error@+1 {{'vrt.yield' op expects parent op 'vrt.kernel'}}
  vrt.yield %x : tensor<4xf32>
}

//===----------------------------------------------------------------------===//
// vrt.weight
//===----------------------------------------------------------------------===//

// -----

func.func @weight_empty_name() {
  // expected-error@+1 {{'vrt.weight' op needs a non-empty name}}
  %0 = vrt.weight "" : tensor<4xf32>
  return
}

// -----

func.func @weight_value_type() {
  // expected-error@+1 {{'vrt.weight' op value type 'tensor<2x3xf32>' differs from result type 'tensor<3x2xf32>'}}
  %0 = vrt.weight "const.0" : tensor<3x2xf32> = dense<[[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]]> : tensor<2x3xf32>
  return
}

//===----------------------------------------------------------------------===//
// vrt.gemm
//===----------------------------------------------------------------------===//

// -----

func.func @quantize_values_shape(%x: tensor<4x32xf32>) {
  // expected-error@+1 {{'vrt.quantize_rows' op values must have the input's shape 4x32}}
  %q, %s = vrt.quantize_rows %x : tensor<4x32xf32> -> tensor<4x16xf8E4M3FN>, tensor<4xf32>
  return
}

// -----

func.func @quantize_scales_shape(%x: tensor<4x32xf32>) {
  // expected-error@+1 {{'vrt.quantize_rows' op scales must have shape 4 (one per row)}}
  %q, %s = vrt.quantize_rows %x : tensor<4x32xf32> -> tensor<4x32xf8E4M3FN>, tensor<32xf32>
  return
}

// -----

func.func @quantize_rank(%x: tensor<f32>) {
  // expected-error@+1 {{'vrt.quantize_rows' op input needs rank >= 1}}
  %q, %s = vrt.quantize_rows %x : tensor<f32> -> tensor<f8E4M3FN>, tensor<f32>
  return
}

// -----

func.func @scaled_gemm_not_fp8(%q: tensor<4x32xf32>, %s: tensor<4xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  // expected-error@+1 {{'vrt.scaled_gemm' op operand #0 must be tensor of f8E4M3FN type values}}
  %0 = vrt.scaled_gemm %q, %s, %w : (tensor<4x32xf32>, tensor<4xf32>, tensor<16x32xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @scaled_gemm_activation_weight(%q: tensor<4x32xf8E4M3FN>, %s: tensor<4xf32>, %w: tensor<16x32xf32>) {
  // expected-error@+1 {{'vrt.scaled_gemm' op weight must be a vrt.weight (it is stored as FP8)}}
  %0 = vrt.scaled_gemm %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @scaled_gemm_scales(%q: tensor<4x32xf8E4M3FN>, %s: tensor<32xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  // expected-error@+1 {{'vrt.scaled_gemm' op lhs_scales must have shape 4 (one per row of lhs)}}
  %0 = vrt.scaled_gemm %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<32xf32>, tensor<16x32xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @scaled_gemm_lhs_rank(%q: tensor<32xf8E4M3FN>, %s: tensor<f32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  // expected-error@+1 {{'vrt.scaled_gemm' op lhs needs rank >= 2}}
  %0 = vrt.scaled_gemm %q, %s, %w : (tensor<32xf8E4M3FN>, tensor<f32>, tensor<16x32xf32>) -> tensor<16xf32>
  return
}

// -----

func.func @scaled_gemm_weight_rank(%q: tensor<4x32xf8E4M3FN>, %s: tensor<4xf32>) {
  %w = vrt.weight "w" : tensor<2x16x32xf32>
  // expected-error@+1 {{'vrt.scaled_gemm' op weight must be (N, K), got 2x16x32}}
  %0 = vrt.scaled_gemm %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<2x16x32xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @scaled_gemm_contraction(%q: tensor<4x32xf8E4M3FN>, %s: tensor<4xf32>) {
  %w = vrt.weight "w" : tensor<16x48xf32>
  // expected-error@+1 {{'vrt.scaled_gemm' op contraction sizes differ: 32 vs 48}}
  %0 = vrt.scaled_gemm %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x48xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @scaled_gemm_layout(%q: tensor<4x24xf8E4M3FN>, %s: tensor<4xf32>) {
  %w = vrt.weight "w" : tensor<16x24xf32>
  // expected-error@+1 {{'vrt.scaled_gemm' op needs K % 16 == 0 and N % 8 == 0 (FP8 layouts), got K = 24, N = 16}}
  %0 = vrt.scaled_gemm %q, %s, %w : (tensor<4x24xf8E4M3FN>, tensor<4xf32>, tensor<16x24xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @scaled_gemm_bias(%q: tensor<4x32xf8E4M3FN>, %s: tensor<4xf32>, %b: tensor<8xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  // expected-error@+1 {{'vrt.scaled_gemm' op bias must have shape 16}}
  %0 = vrt.scaled_gemm %q, %s, %w, %b : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>, tensor<8xf32>) -> tensor<4x16xf32>
  return
}

// -----

func.func @scaled_gemm_result(%q: tensor<2x4x32xf8E4M3FN>, %s: tensor<2x4xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  // expected-error@+1 {{'vrt.scaled_gemm' op result shape must be 2x4x16}}
  %0 = vrt.scaled_gemm %q, %s, %w : (tensor<2x4x32xf8E4M3FN>, tensor<2x4xf32>, tensor<16x32xf32>) -> tensor<8x16xf32>
  return
}

// -----

func.func @gemm_rank(%a: tensor<4xf32>, %b: tensor<4x8xf32>) {
  // expected-error@+1 {{'vrt.gemm' op operands need rank >= 2}}
  %0 = vrt.gemm %a, %b : (tensor<4xf32>, tensor<4x8xf32>) -> tensor<8xf32>
  return
}

// -----

func.func @gemm_contraction(%a: tensor<2x3xf32>, %b: tensor<4x5xf32>) {
  // expected-error@+1 {{'vrt.gemm' op contraction sizes differ: 3 vs 4}}
  %0 = vrt.gemm %a, %b : (tensor<2x3xf32>, tensor<4x5xf32>) -> tensor<2x5xf32>
  return
}

// -----

// With trans_b the rhs is (N, K): K is its last dim.
func.func @gemm_contraction_trans_b(%a: tensor<2x3xf32>, %b: tensor<3x5xf32>) {
  // expected-error@+1 {{'vrt.gemm' op contraction sizes differ: 3 vs 5}}
  %0 = vrt.gemm %a, %b {trans_b = true} : (tensor<2x3xf32>, tensor<3x5xf32>) -> tensor<2x3xf32>
  return
}

// -----

func.func @gemm_batch(%a: tensor<2x4x5xf32>, %b: tensor<3x5x6xf32>) {
  // expected-error@+1 {{'vrt.gemm' op rhs batch dims 3 differ from lhs batch dims 2}}
  %0 = vrt.gemm %a, %b : (tensor<2x4x5xf32>, tensor<3x5x6xf32>) -> tensor<2x4x6xf32>
  return
}

// -----

func.func @gemm_bias(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %c: tensor<1x4xf32>) {
  // expected-error@+1 {{'vrt.gemm' op bias must have shape 4}}
  %0 = vrt.gemm %a, %b, %c : (tensor<2x3xf32>, tensor<3x4xf32>, tensor<1x4xf32>) -> tensor<2x4xf32>
  return
}

// -----

func.func @gemm_result(%a: tensor<1x48x32xf32>, %b: tensor<64x32xf32>) {
  // expected-error@+1 {{'vrt.gemm' op result shape must be 1x48x64}}
  %0 = vrt.gemm %a, %b {trans_b = true} : (tensor<1x48x32xf32>, tensor<64x32xf32>) -> tensor<48x64xf32>
  return
}

// -----

func.func @gemm_offset_unaligned(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>) {
  // expected-error@+1 {{'vrt.gemm' op offset 100 must be a non-negative multiple of 256}}
  %0 = vrt.gemm %a, %b {offset = 100 : i64} : (tensor<2x3xf32>, tensor<3x4xf32>) -> tensor<2x4xf32>
  return
}

//===----------------------------------------------------------------------===//
// vrt.attention
//===----------------------------------------------------------------------===//

// -----

func.func @attention_rank(%q: tensor<2x48x16xf32>, %k: tensor<1x2x16x16xf32>) {
  // expected-error@+1 {{'vrt.attention' op operands and result must have rank 4}}
  %0 = vrt.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>) -> tensor<2x48x16xf32>
  return
}

// -----

func.func @attention_fp8_mask(%q: tensor<1x2x48x16xf32>, %m: tensor<1x1x48x48xf32>) {
  // expected-error@+1 {{'vrt.attention' op fp8 attention takes no mask}}
  %0 = vrt.attention %q, %q, %q mask %m {fp8, scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x1x48x48xf32>) -> tensor<1x2x48x16xf32>
  return
}


// -----

func.func @attention_fp8_head_dim(%q: tensor<1x2x48x24xf32>) {
  // expected-error@+1 {{'vrt.attention' op fp8 attention needs a head dim that is a multiple of 16 up to 256, got 24}}
  %0 = vrt.attention %q, %q, %q {fp8, scale = 0.25 : f64} : (tensor<1x2x48x24xf32>, tensor<1x2x48x24xf32>, tensor<1x2x48x24xf32>) -> tensor<1x2x48x24xf32>
  return
}

// -----

func.func @attention_batch(%q: tensor<1x2x48x16xf32>, %k: tensor<2x2x16x16xf32>) {
  // expected-error@+1 {{'vrt.attention' op batch sizes differ}}
  %0 = vrt.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<2x2x16x16xf32>, tensor<2x2x16x16xf32>) -> tensor<1x2x48x16xf32>
  return
}

// -----

func.func @attention_kv_lengths(%q: tensor<1x2x48x16xf32>, %k: tensor<1x2x16x16xf32>, %v: tensor<1x2x8x16xf32>) {
  // expected-error@+1 {{'vrt.attention' op key/value heads, lengths or head dims don't match}}
  %0 = vrt.attention %q, %k, %v {scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x8x16xf32>) -> tensor<1x2x48x16xf32>
  return
}

// -----

// The key's head dim must be the query's.
func.func @attention_head_dim(%q: tensor<1x2x48x16xf32>, %k: tensor<1x2x16x8xf32>) {
  // expected-error@+1 {{'vrt.attention' op key/value heads, lengths or head dims don't match}}
  %0 = vrt.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>) -> tensor<1x2x48x8xf32>
  return
}

// -----

func.func @attention_gqa(%q: tensor<1x3x48x16xf32>, %k: tensor<1x2x16x16xf32>) {
  // expected-error@+1 {{'vrt.attention' op query heads 3 must be a multiple of key/value heads 2}}
  %0 = vrt.attention %q, %k, %k {scale = 0.25 : f64} : (tensor<1x3x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>) -> tensor<1x3x48x16xf32>
  return
}

// -----

// bshd result declared with the bhsd shape.
func.func @attention_result(%q: tensor<1x2x48x16xf32>, %k: tensor<1x2x16x16xf32>) {
  // expected-error@+1 {{'vrt.attention' op result must be (batch, heads, seq_q, value dim)}}
  %0 = vrt.attention %q, %k, %k {out_layout = #vrt<layout bshd>, scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>) -> tensor<1x2x48x16xf32>
  return
}

// -----

// Layouts are read per operand: this query is valid as bhsd (2 heads), but
// as bshd it has 3 heads.
func.func @attention_layout(%q: tensor<1x2x3x16xf32>, %k: tensor<1x2x16x16xf32>) {
  // expected-error@+1 {{'vrt.attention' op query heads 3 must be a multiple of key/value heads 2}}
  %0 = vrt.attention %q, %k, %k {q_layout = #vrt<layout bshd>, scale = 0.25 : f64} : (tensor<1x2x3x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>) -> tensor<1x3x2x16xf32>
  return
}

// -----

func.func @attention_mask_rank(%q: tensor<1x2x48x16xf32>, %k: tensor<1x2x16x16xf32>, %m: tensor<48x16xf32>) {
  // expected-error@+1 {{'vrt.attention' op mask 48x16 must be rank 4 and broadcast to 1x2x48x16}}
  %0 = vrt.attention %q, %k, %k mask %m {scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<48x16xf32>) -> tensor<1x2x48x16xf32>
  return
}

// -----

func.func @attention_mask_shape(%q: tensor<1x2x48x16xf32>, %k: tensor<1x2x16x16xf32>, %m: tensor<1x1x48x8xf32>) {
  // expected-error@+1 {{'vrt.attention' op mask 1x1x48x8 must be rank 4 and broadcast to 1x2x48x16}}
  %0 = vrt.attention %q, %k, %k mask %m {scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x1x48x8xf32>) -> tensor<1x2x48x16xf32>
  return
}

// -----

func.func @attention_mask_type(%q: tensor<1x2x48x16xf32>, %k: tensor<1x2x16x16xf32>, %m: tensor<1x1x1x16xf16>) {
  // expected-error@+1 {{'vrt.attention' op mask must be additive, of the query element type}}
  %0 = vrt.attention %q, %k, %k mask %m {scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x1x1x16xf16>) -> tensor<1x2x48x16xf32>
  return
}

// -----

func.func @attention_offset(%q: tensor<1x2x48x16xf32>) {
  // expected-error@+1 {{'vrt.attention' op offset -256 must be a non-negative multiple of 256}}
  %0 = vrt.attention %q, %q, %q {offset = -256 : i64, scale = 0.25 : f64} : (tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>, tensor<1x2x48x16xf32>) -> tensor<1x2x48x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// vrt.norm
//===----------------------------------------------------------------------===//

// -----

func.func @norm_rank(%x: tensor<f32>) {
  // expected-error@+1 {{'vrt.norm' op input must have rank >= 1}}
  %0 = vrt.norm layer %x {epsilon = 1.0e-6 : f64} : (tensor<f32>) -> tensor<f32>
  return
}

// -----

func.func @norm_scale(%x: tensor<48x32xf32>, %s: tensor<48xf32>) {
  // expected-error@+1 {{'vrt.norm' op scale and bias must have shape 32}}
  %0 = vrt.norm layer %x scale %s {epsilon = 1.0e-6 : f64} : (tensor<48x32xf32>, tensor<48xf32>) -> tensor<48x32xf32>
  return
}

// -----

func.func @norm_bias(%x: tensor<48x32xf32>, %s: tensor<32xf32>, %b: tensor<1x32xf32>) {
  // expected-error@+1 {{'vrt.norm' op scale and bias must have shape 32}}
  %0 = vrt.norm layer %x scale %s bias %b {epsilon = 1.0e-6 : f64} : (tensor<48x32xf32>, tensor<32xf32>, tensor<1x32xf32>) -> tensor<48x32xf32>
  return
}

// -----

func.func @norm_rms_bias(%x: tensor<48x32xf32>, %s: tensor<32xf32>) {
  // expected-error@+1 {{'vrt.norm' op rms norm takes no bias}}
  %0 = vrt.norm rms %x scale %s bias %s {epsilon = 1.0e-6 : f64} : (tensor<48x32xf32>, tensor<32xf32>, tensor<32xf32>) -> tensor<48x32xf32>
  return
}

// -----

func.func @norm_result(%x: tensor<48x32xf32>) {
  // expected-error@+1 {{'vrt.norm' op result type must equal the input type}}
  %0 = vrt.norm rms %x {epsilon = 1.0e-6 : f64} : (tensor<48x32xf32>) -> tensor<1x48x32xf32>
  return
}

// -----

func.func @norm_epsilon(%x: tensor<48x32xf32>) {
  // expected-error@+1 {{'vrt.norm' op epsilon must be >= 0}}
  %0 = vrt.norm layer %x {epsilon = -1.0e-6 : f64} : (tensor<48x32xf32>) -> tensor<48x32xf32>
  return
}

// -----

func.func @norm_epsilon_nan(%x: tensor<48x32xf32>) {
  // expected-error@+1 {{'vrt.norm' op epsilon must be >= 0}}
  %0 = vrt.norm layer %x {epsilon = 0x7FF8000000000000 : f64} : (tensor<48x32xf32>) -> tensor<48x32xf32>
  return
}

// -----

func.func @norm_offset(%x: tensor<48x32xf32>) {
  // expected-error@+1 {{'vrt.norm' op offset 128 must be a non-negative multiple of 256}}
  %0 = vrt.norm layer %x {epsilon = 1.0e-6 : f64, offset = 128 : i64} : (tensor<48x32xf32>) -> tensor<48x32xf32>
  return
}

//===----------------------------------------------------------------------===//
// vrt.softmax
//===----------------------------------------------------------------------===//

// -----

func.func @softmax_result(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'vrt.softmax' op result type must equal the input type}}
  %0 = vrt.softmax %x : tensor<4x8xf32> -> tensor<4x8xf16>
  return
}

// -----

func.func @softmax_rank(%x: tensor<f32>) {
  // expected-error@+1 {{'vrt.softmax' op input must have rank >= 1}}
  %0 = vrt.softmax %x : tensor<f32> -> tensor<f32>
  return
}

// -----

func.func @softmax_offset(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'vrt.softmax' op offset 1 must be a non-negative multiple of 256}}
  %0 = vrt.softmax %x {offset = 1 : i64} : tensor<4x8xf32> -> tensor<4x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// vrt.kernel
//===----------------------------------------------------------------------===//

// -----

func.func @kernel_arg_count(%x: tensor<4xf32>, %y: tensor<4xf32>) {
  // expected-error@+1 {{'vrt.kernel' op body has 1 arguments for 2 inputs}}
  %0 = vrt.kernel "k0"(%x, %y) : (tensor<4xf32>, tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    vrt.yield %a : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_arg_type(%x: tensor<4xf32>) {
  // expected-error@+1 {{'vrt.kernel' op body argument type 'tensor<2x2xf32>' differs from input type 'tensor<4xf32>'}}
  %0 = vrt.kernel "k0"(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<2x2xf32>):
    %r = dit.reshape %a : tensor<2x2xf32> -> tensor<4xf32>
    vrt.yield %r : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_no_yield(%x: tensor<4xf32>) {
  // expected-error@+1 {{'vrt.kernel' op body must end in vrt.yield}}
  %0 = vrt.kernel "k0"(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %n = dit.neg %a : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_empty_body(%x: tensor<4xf32>) {
  // expected-error@+1 {{'vrt.kernel' op body must end in vrt.yield}}
  %0 = vrt.kernel "k0"(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
  }
  return
}

// -----

func.func @kernel_yield_type(%x: tensor<4xf32>) {
  // expected-error@+1 {{'vrt.kernel' op yields 'tensor<4xf16>' but the result is 'tensor<4xf32>'}}
  %0 = vrt.kernel "k0"(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    %c = dit.cast %a : tensor<4xf32> to tensor<4xf16>
    vrt.yield %c : tensor<4xf16>
  }
  return
}

// -----

// Library ops are vrt calls, never part of a generated kernel.
func.func @kernel_library_op(%x: tensor<2x4xf32>, %w: tensor<4x8xf32>) {
  %0 = vrt.kernel "k0"(%x, %w) : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x8xf32> {
  ^bb0(%a: tensor<2x4xf32>, %b: tensor<4x8xf32>):
    // expected-error@+1 {{'dit.linear' op cannot be part of a generated kernel}}
    %y = dit.linear %a, %b : (tensor<2x4xf32>, tensor<4x8xf32>) -> tensor<2x8xf32>
    vrt.yield %y : tensor<2x8xf32>
  }
  return
}

// -----

func.func @kernel_softmax(%x: tensor<2x4xf32>) {
  %0 = vrt.kernel "k0"(%x) : (tensor<2x4xf32>) -> tensor<2x4xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    // expected-error@+1 {{'dit.softmax' op cannot be part of a generated kernel}}
    %y = dit.softmax %a {axis = 1 : i64} : tensor<2x4xf32>
    vrt.yield %y : tensor<2x4xf32>
  }
  return
}

// -----

// A reduction must be the kernel's root: its result is what the kernel writes.
func.func @kernel_reduce_not_root(%x: tensor<2x4xf32>) {
  %0 = vrt.kernel "k0"(%x) : (tensor<2x4xf32>) -> tensor<2x1xf32> {
  ^bb0(%a: tensor<2x4xf32>):
    // expected-error@+1 {{'dit.reduce' op cannot be part of a generated kernel unless it produces the result}}
    %r = dit.reduce sum %a [1] : (tensor<2x4xf32>) -> tensor<2x1xf32>
    %e = dit.exp %r : tensor<2x1xf32>
    vrt.yield %e : tensor<2x1xf32>
  }
  return
}

// -----

func.func @kernel_name(%x: tensor<4xf32>) {
  // expected-error@+1 {{'vrt.kernel' op needs a name}}
  %0 = vrt.kernel ""(%x) : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    vrt.yield %a : tensor<4xf32>
  }
  return
}

// -----

func.func @kernel_offset(%x: tensor<4xf32>) {
  // expected-error@+1 {{'vrt.kernel' op offset 64 must be a non-negative multiple of 256}}
  %0 = vrt.kernel "k0"(%x) {offset = 64 : i64} : (tensor<4xf32>) -> tensor<4xf32> {
  ^bb0(%a: tensor<4xf32>):
    vrt.yield %a : tensor<4xf32>
  }
  return
}

//===----------------------------------------------------------------------===//
// vrt.view
//===----------------------------------------------------------------------===//

// -----

func.func @view_element_type(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'vrt.view' op element types differ}}
  %0 = vrt.view %x : tensor<4x8xf32> -> tensor<32xf16>
  return
}

// -----

func.func @view_count(%x: tensor<4x8xf32>) {
  // expected-error@+1 {{'vrt.view' op element counts differ: 4x8 vs 2x8}}
  %0 = vrt.view %x : tensor<4x8xf32> -> tensor<2x8xf32>
  return
}

//===----------------------------------------------------------------------===//
// vrt.all_to_all
//===----------------------------------------------------------------------===//

// -----

func.func @all_to_all_group(%x: tensor<1x48x2x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op group_size must be >= 1}}
  %0 = vrt.all_to_all %x {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 0 : i64} : tensor<1x48x2x16xf32> -> tensor<1x48x2x16xf32>
  return
}

// -----

func.func @all_to_all_scatter_axis(%x: tensor<1x48x2x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op axis 4 out of range for rank 4}}
  %0 = vrt.all_to_all %x {scatter_axis = 4 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x2x16xf32> -> tensor<1x48x2x16xf32>
  return
}

// -----

func.func @all_to_all_gather_axis(%x: tensor<1x48x2x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op axis -1 out of range for rank 4}}
  %0 = vrt.all_to_all %x {scatter_axis = 2 : i64, gather_axis = -1 : i64, group_size = 2 : i64} : tensor<1x48x2x16xf32> -> tensor<1x48x2x16xf32>
  return
}

// -----

func.func @all_to_all_divisible(%x: tensor<1x48x3x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op dim 2 (3) is not divisible by the group size 2}}
  %0 = vrt.all_to_all %x {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x3x16xf32> -> tensor<1x96x1x16xf32>
  return
}

// -----

func.func @all_to_all_result(%x: tensor<1x48x2x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op result must be 1x96x1x16 of the input element type}}
  %0 = vrt.all_to_all %x {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x2x16xf32> -> tensor<1x24x4x16xf32>
  return
}

// -----

func.func @all_to_all_element_type(%x: tensor<1x48x2x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op result must be 1x96x1x16 of the input element type}}
  %0 = vrt.all_to_all %x {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x2x16xf32> -> tensor<1x96x1x16xbf16>
  return
}

// -----

func.func @all_to_all_offset(%x: tensor<1x48x2x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op offset 255 must be a non-negative multiple of 256}}
  %0 = vrt.all_to_all %x {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64, offset = 255 : i64} : tensor<1x48x2x16xf32> -> tensor<1x96x1x16xf32>
  return
}

//===----------------------------------------------------------------------===//
// vrt.all_gather
//===----------------------------------------------------------------------===//

// -----

func.func @all_gather_axis(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.all_gather' op axis 3 out of range for rank 3}}
  %0 = vrt.all_gather %x {axis = 3 : i64, group_size = 2 : i64} : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  return
}

// -----

func.func @all_gather_group(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.all_gather' op group_size must be >= 1}}
  %0 = vrt.all_gather %x {axis = 1 : i64, group_size = 0 : i64} : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  return
}

// -----

func.func @all_gather_result(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.all_gather' op result must be 1x96x32 of the input element type}}
  %0 = vrt.all_gather %x {axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x32xf32> -> tensor<2x48x32xf32>
  return
}

// -----

func.func @all_gather_element_type(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.all_gather' op result must be 1x96x32 of the input element type}}
  %0 = vrt.all_gather %x {axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x32xf32> -> tensor<1x96x32xf16>
  return
}

// -----

func.func @all_gather_offset(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.all_gather' op offset 1000 must be a non-negative multiple of 256}}
  %0 = vrt.all_gather %x {axis = 1 : i64, group_size = 2 : i64, offset = 1000 : i64} : tensor<1x48x32xf32> -> tensor<1x96x32xf32>
  return
}

// -----

func.func @blocks_bad_list_offsets(%q: tensor<1x2x8x4xf32>, %o: tensor<3xi64>, %lo: tensor<4xi64>, %l: tensor<3xi32>) -> tensor<1x2x8x4xf32> {
  // expected-error @below {{list_offsets must have one entry per block (shared lists), per head and block, or per batch entry, head and block, plus one (3, 5 or 5), got 4}}
  %0 = vrt.attention %q, %q, %q blocks(%o, %lo, %l) {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>, tensor<4xi64>, tensor<3xi32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @blocks_with_mask(%q: tensor<1x2x8x4xf32>, %m: tensor<1x1x8x8xf32>, %o: tensor<3xi64>, %lo: tensor<3xi64>, %l: tensor<3xi32>) -> tensor<1x2x8x4xf32> {
  // expected-error @below {{block-sparse attention takes no mask}}
  %0 = vrt.attention %q, %q, %q mask %m blocks(%o, %lo, %l) {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x1x8x8xf32>, tensor<3xi64>, tensor<3xi64>, tensor<3xi32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @blocks_2d(%q: tensor<1x2x8x4xf32>, %o: tensor<1x3xi64>, %lo: tensor<3xi64>, %l: tensor<3xi32>) -> tensor<1x2x8x4xf32> {
  // expected-error @below {{block operands must be 1-D}}
  %0 = vrt.attention %q, %q, %q blocks(%o, %lo, %l) {scale = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x3xi64>, tensor<3xi64>, tensor<3xi32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

// -----

func.func @vsa_select_results(%q: tensor<1x2x8x4xf32>, %t: tensor<3xi64>) {
  // expected-error @below {{results must be list_offsets (5) and lists (8)}}
  %lo, %l = vrt.vsa_select %q, %q tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<4xi32>)
  return
}

// -----

func.func @vsa_select_sparsity(%q: tensor<1x2x8x4xf32>, %t: tensor<3xi64>) {
  // expected-error @below {{sparsity must be in [0, 1), got 1.5}}
  %lo, %l = vrt.vsa_select %q, %q tiles(%t) {scale = 0.5 : f64, sparsity = 1.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  return
}

// -----

func.func @vsa_select_lengths(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x6x4xf32>, %t: tensor<3xi64>) {
  // expected-error @below {{query and key must agree in batch, length and head dim}}
  %lo, %l = vrt.vsa_select %q, %k tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  return
}

// -----

func.func @vsa_select_tiles(%q: tensor<1x2x8x4xf32>, %t: tensor<1xi64>) {
  // expected-error @below {{tile_offsets must be 1-D with at least 2 entries}}
  %lo, %l = vrt.vsa_select %q, %q tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1xi64>) -> (tensor<1xi64>, tensor<0xi32>)
  return
}

// -----

func.func @vsa_select_offsets(%q: tensor<1x2x8x4xf32>, %t: tensor<3xi64>) {
  // expected-error @below {{offset 100 must be a non-negative multiple of 256}}
  %lo, %l = vrt.vsa_select %q, %q tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64, offsets = array<i64: 0, 100>} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  return
}

// -----

func.func @vsa_select_heads(%q: tensor<1x3x8x4xf32>, %k: tensor<1x2x8x4xf32>, %t: tensor<3xi64>) {
  // expected-error @below {{query heads 3 must be a multiple of key heads 2}}
  %lo, %l = vrt.vsa_select %q, %k tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64} : (tensor<1x3x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>) -> (tensor<7xi64>, tensor<12xi32>)
  return
}

// -----

func.func @blocks_rotations(%q: tensor<1x2x8x4xf32>, %o: tensor<3xi64>, %lo: tensor<5xi64>, %l: tensor<3xi32>) -> tensor<1x2x8x4xf32> {
  // expected-error @below {{list_offsets must hold 2 equal offset tables (rotations)}}
  %0 = vrt.attention %q, %q, %q blocks(%o, %lo, %l) {scale = 0.5 : f64, rotations = 2 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>, tensor<5xi64>, tensor<3xi32>) -> tensor<1x2x8x4xf32>
  return %0 : tensor<1x2x8x4xf32>
}

//===----------------------------------------------------------------------===//
// vrt.shard
//===----------------------------------------------------------------------===//

// -----

func.func @shard_axis(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.shard' op axis 3 out of range for rank 3}}
  %0 = vrt.shard %x {axis = 3 : i64, group_size = 2 : i64} : tensor<1x48x32xf32> -> tensor<1x24x32xf32>
  return
}

// -----

func.func @shard_group(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.shard' op group_size must be >= 1}}
  %0 = vrt.shard %x {axis = 1 : i64, group_size = 0 : i64} : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  return
}

// -----

func.func @shard_divisible(%x: tensor<1x45x32xf32>) {
  // expected-error@+1 {{'vrt.shard' op dim 1 (45) is not divisible by the group size 2}}
  %0 = vrt.shard %x {axis = 1 : i64, group_size = 2 : i64} : tensor<1x45x32xf32> -> tensor<1x22x32xf32>
  return
}

// -----

func.func @shard_result(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.shard' op result must be 1x24x32 of the input element type}}
  %0 = vrt.shard %x {axis = 1 : i64, group_size = 2 : i64} : tensor<1x48x32xf32> -> tensor<1x48x32xf32>
  return
}

// -----

func.func @shard_offset(%x: tensor<1x48x32xf32>) {
  // expected-error@+1 {{'vrt.shard' op offset 255 must be a non-negative multiple of 256}}
  %0 = vrt.shard %x {axis = 1 : i64, group_size = 2 : i64, offset = 255 : i64} : tensor<1x48x32xf32> -> tensor<1x24x32xf32>
  return
}

// -----

func.func @semantic_clusters(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{q_clusters (9) must be in [1, 8] (the tokens)}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(9, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_kv_clusters(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{kv_clusters (0) must be in [1, 8] (the tokens)}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(4, 0) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_iterations(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{iterations and warm_iterations must be >= 1}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 0 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_top_p(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{top_p must be in (0, 1], got 0}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.0 : f64, min_kept = 0.1 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_min_kept(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{min_kept must be in [0, 1], got 1.5}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 1.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_scratch(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{scratch must be 1-D with at least 3584 bytes, got 16}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<16xi8>)
  return
}

// -----

func.func @semantic_cross(%q: tensor<1x2x8x4xf32>, %k: tensor<1x2x6x4xf32>) {
  // expected-error @below {{key and value must be (batch, kv heads, seq, dim) with the query's batch, seq and head dim}}
  %0, %s = vrt.semantic_attention %q, %k, %k clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>, tensor<1x2x6x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_heads(%q: tensor<1x3x8x4xf32>, %k: tensor<1x2x8x4xf32>) {
  // expected-error @below {{query heads 3 must be a multiple of key/value heads 2}}
  %0, %s = vrt.semantic_attention %q, %k, %k clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64} : (tensor<1x3x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x3x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_result(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{result must be (batch, heads, seq, dim) of the query}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x4x8xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_offsets(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{offsets must give each of the 2 results' arena offsets}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64, offsets = array<i64: 0>} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @semantic_state_offset(%q: tensor<1x2x8x4xf32>) {
  // expected-error @below {{state_offset 100 must be a non-negative multiple of 256}}
  %0, %s = vrt.semantic_attention %q, %q, %q clusters(4, 4) {scale = 0.5 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.9 : f64, min_kept = 0.1 : f64, state_offset = 100 : i64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>) -> (tensor<1x2x8x4xf32>, tensor<8192xi8>)
  return
}

// -----

func.func @ring_scratch(%q: tensor<1x1x6x4xf32>) -> tensor<1x1x6x4xf32> {
  // expected-error@+1 {{'vrt.ring_attention' op scratch must be 1-D with at least 2048 bytes, got 1024}}
  %o, %s = vrt.ring_attention %q, %q, %q group 2 {scale = 5.000000e-01 : f64} : (tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>) -> (tensor<1x1x6x4xf32>, tensor<1024xi8>)
  return %o : tensor<1x1x6x4xf32>
}

// -----

func.func @ring_chunks(%q: tensor<1x1x6x4xf32>, %k: tensor<1x1x5x2xf32>) -> tensor<1x1x6x4xf32> {
  // expected-error@+1 {{'vrt.ring_attention' op key and value must be (batch, kv heads, seq, dim) with the query's batch, sequence chunk and head dim}}
  %o, %s = vrt.ring_attention %q, %k, %k group 2 {scale = 5.000000e-01 : f64} : (tensor<1x1x6x4xf32>, tensor<1x1x5x2xf32>, tensor<1x1x5x2xf32>) -> (tensor<1x1x6x4xf32>, tensor<4096xi8>)
  return %o : tensor<1x1x6x4xf32>
}

// -----

func.func @ring_group(%q: tensor<1x1x6x4xf32>) -> tensor<1x1x6x4xf32> {
  // expected-error@+1 {{'vrt.ring_attention' op group_size and group_stride must be >= 1}}
  %o, %s = vrt.ring_attention %q, %q, %q group 2 {group_stride = 0 : i64, scale = 5.000000e-01 : f64} : (tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>) -> (tensor<1x1x6x4xf32>, tensor<2048xi8>)
  return %o : tensor<1x1x6x4xf32>
}

// -----

func.func @stride(%x: tensor<1x8x4xf32>) -> tensor<1x4x4xf32> {
  // expected-error@+1 {{'vrt.shard' op group_stride must be >= 1}}
  %0 = vrt.shard %x {axis = 1 : i64, group_size = 2 : i64, group_stride = 0 : i64} : tensor<1x8x4xf32> -> tensor<1x4x4xf32>
  return %0 : tensor<1x4x4xf32>
}

// -----

func.func @packed_types(%q: tensor<1x2x24x16xf32>, %k: tensor<1x2x24x8xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op inputs (and results) must share one type}}
  %0:2 = vrt.all_to_all %q, %k {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x24x16xf32>, tensor<1x2x24x8xf32> -> tensor<1x1x48x16xf32>, tensor<1x1x48x8xf32>
  return
}

// -----

func.func @packed_offset(%q: tensor<1x2x24x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op places several results: use offsets, not offset}}
  %0:2 = vrt.all_to_all %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, offset = 0 : i64} : tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>, tensor<1x1x48x16xf32>
  return
}

// -----

func.func @packed_count(%q: tensor<1x2x24x16xf32>) {
  // expected-error@+1 {{'vrt.all_to_all' op takes 1 to 8 inputs and as many results, got 2 inputs and 1 results}}
  %0 = vrt.all_to_all %q, %q {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64} : tensor<1x2x24x16xf32>, tensor<1x2x24x16xf32> -> tensor<1x1x48x16xf32>
  return
}

// -----

func.func @ulysses_shapes(%q: tensor<1x4x6x4xf32>, %k: tensor<1x4x6x2xf32>) -> tensor<1x4x6x4xf32> {
  // expected-error@+1 {{'vrt.ulysses_attention' op query, key, value and result must be one (batch, heads, seq chunk, dim) shape, got 1x4x6x4}}
  %o, %s = vrt.ulysses_attention %q, %k, %k group 2 chunks 1 {scale = 5.000000e-01 : f64} : (tensor<1x4x6x4xf32>, tensor<1x4x6x2xf32>, tensor<1x4x6x2xf32>) -> (tensor<1x4x6x4xf32>, tensor<2048xi8>)
  return %o : tensor<1x4x6x4xf32>
}

// -----

func.func @ulysses_heads(%q: tensor<1x3x6x4xf32>) -> tensor<1x3x6x4xf32> {
  // expected-error@+1 {{'vrt.ulysses_attention' op heads (3) must divide over the 2 ranks of the group}}
  %o, %s = vrt.ulysses_attention %q, %q, %q group 2 chunks 1 {scale = 5.000000e-01 : f64} : (tensor<1x3x6x4xf32>, tensor<1x3x6x4xf32>, tensor<1x3x6x4xf32>) -> (tensor<1x3x6x4xf32>, tensor<2048xi8>)
  return %o : tensor<1x3x6x4xf32>
}

// -----

func.func @ulysses_chunks(%q: tensor<1x4x6x4xf32>) -> tensor<1x4x6x4xf32> {
  // expected-error@+1 {{'vrt.ulysses_attention' op chunks (3) must divide the 2 heads of each rank}}
  %o, %s = vrt.ulysses_attention %q, %q, %q group 2 chunks 3 {scale = 5.000000e-01 : f64} : (tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>) -> (tensor<1x4x6x4xf32>, tensor<2048xi8>)
  return %o : tensor<1x4x6x4xf32>
}

// -----

func.func @ulysses_group(%q: tensor<1x4x6x4xf32>) -> tensor<1x4x6x4xf32> {
  // expected-error@+1 {{'vrt.ulysses_attention' op group_size and group_stride must be >= 1}}
  %o, %s = vrt.ulysses_attention %q, %q, %q group 0 chunks 1 {scale = 5.000000e-01 : f64} : (tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>) -> (tensor<1x4x6x4xf32>, tensor<2048xi8>)
  return %o : tensor<1x4x6x4xf32>
}

// -----

func.func @ulysses_scratch(%q: tensor<1x4x6x4xf32>) -> tensor<1x4x6x4xf32> {
  // expected-error@+1 {{'vrt.ulysses_attention' op scratch must be 1-D with at least 1024 bytes, got 512}}
  %o, %s = vrt.ulysses_attention %q, %q, %q group 2 chunks 1 {scale = 5.000000e-01 : f64} : (tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>, tensor<1x4x6x4xf32>) -> (tensor<1x4x6x4xf32>, tensor<512xi8>)
  return %o : tensor<1x4x6x4xf32>
}


// -----

func.func @vsa_select_coarse_needs_value(%q: tensor<1x2x8x4xf32>, %t: tensor<3xi64>) {
  // expected-error @below {{value and the coarse result come together}}
  %lo, %l = vrt.vsa_select %q, %q value %q tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>)
  return
}

// -----

func.func @vsa_select_coarse_shape(%q: tensor<1x2x8x4xf32>, %t: tensor<3xi64>) {
  // expected-error @below {{coarse result must be (1x2x8x4) (bhsd), got (1x8x2x4)}}
  %lo, %l, %c = vrt.vsa_select %q, %q value %q tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>, tensor<1x8x2x4xf32>)
  return
}

// -----

func.func @vsa_select_value_length(%q: tensor<1x2x8x4xf32>, %v: tensor<1x2x6x4xf32>, %t: tensor<3xi64>) {
  // expected-error @below {{value must agree with the key in batch, heads and length}}
  %lo, %l, %c = vrt.vsa_select %q, %q value %v tiles(%t) {scale = 0.5 : f64, sparsity = 0.5 : f64} : (tensor<1x2x8x4xf32>, tensor<1x2x8x4xf32>, tensor<1x2x6x4xf32>, tensor<3xi64>) -> (tensor<5xi64>, tensor<8xi32>, tensor<1x2x8x4xf32>)
  return
}

// -----

func.func @norm_modulate_groups(%x: tensor<12x8xf32>, %m: tensor<5x8xf32>) -> tensor<12x8xf32> {
  // expected-error @below {{modulate needs a (rows, dim) input and shift and scale of one shape (G, dim), G dividing the rows}}
  %0 = vrt.norm layer %x modulate %m, %m {epsilon = 1.0e-6 : f64} : (tensor<12x8xf32>, tensor<5x8xf32>, tensor<5x8xf32>) -> tensor<12x8xf32>
  return %0 : tensor<12x8xf32>
}

// -----

func.func @norm_modulate_rank(%x: tensor<2x6x8xf32>, %m: tensor<2x8xf32>) -> tensor<2x6x8xf32> {
  // expected-error @below {{modulate needs a (rows, dim) input and shift and scale of one shape (G, dim), G dividing the rows}}
  %0 = vrt.norm layer %x modulate %m, %m {epsilon = 1.0e-6 : f64} : (tensor<2x6x8xf32>, tensor<2x8xf32>, tensor<2x8xf32>) -> tensor<2x6x8xf32>
  return %0 : tensor<2x6x8xf32>
}

// -----

func.func @norm_rope_tables(%x: tensor<1x6x16xf32>, %t: tensor<5x4xf32>) -> tensor<1x2x6x8xf32> {
  // expected-error @below {{needs input (B, S, H*D) and cos, sin (S, D/2) with D dividing the channels}}
  %0 = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64, heads_major} : (tensor<1x6x16xf32>, tensor<5x4xf32>, tensor<5x4xf32>) -> tensor<1x2x6x8xf32>
  return %0 : tensor<1x2x6x8xf32>
}

// -----

func.func @norm_rope_layout(%x: tensor<1x6x16xf32>, %t: tensor<6x4xf32>) -> tensor<1x2x6x8xf32> {
  // expected-error @below {{result must be (1x6x2x8), got (1x2x6x8)}}
  %0 = vrt.norm_rope rms %x rope %t, %t {epsilon = 1.0e-6 : f64} : (tensor<1x6x16xf32>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<1x2x6x8xf32>
  return %0 : tensor<1x2x6x8xf32>
}

// -----

func.func @scaled_gemm_gate_offset(%q: tensor<64x32xf8E4M3FN>, %s: tensor<64xf32>, %x: tensor<64x32xf32>, %g: tensor<2x32xf32>) {
  %w = vrt.weight "w" : tensor<32x32xf32>
  // expected-error@+1 {{gate_offset 48 must be a multiple of N = 32 with N values after it in the gate's 64}}
  %0 = vrt.scaled_gemm %q, %s, %w residual %x gate %g[48] : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>, tensor<64x32xf32>, tensor<2x32xf32>) -> tensor<64x32xf32>
  return
}

// -----

func.func @scaled_gemm_gate_width(%q: tensor<64x32xf8E4M3FN>, %s: tensor<64xf32>, %x: tensor<64x32xf32>, %g: tensor<16xf32>) {
  %w = vrt.weight "w" : tensor<32x32xf32>
  // expected-error@+1 {{gate's last dim must be N = 32}}
  %0 = vrt.scaled_gemm %q, %s, %w residual %x gate %g[0] : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>, tensor<64x32xf32>, tensor<16xf32>) -> tensor<64x32xf32>
  return
}

// -----

func.func @scaled_gemm_gate_no_residual(%q: tensor<64x32xf8E4M3FN>, %s: tensor<64xf32>, %g: tensor<32xf32>) {
  %w = vrt.weight "w" : tensor<32x32xf32>
  // expected-error@+1 {{a gate needs a residual}}
  %0 = vrt.scaled_gemm %q, %s, %w gate %g[0] : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<64x32xf32>
  return
}

// -----

func.func @scaled_gemm_residual_type(%q: tensor<64x32xf8E4M3FN>, %s: tensor<64xf32>, %x: tensor<1x64x32xf32>) {
  %w = vrt.weight "w" : tensor<32x32xf32>
  // expected-error@+1 {{residual must have the result's type 'tensor<64x32xf32>'}}
  %0 = vrt.scaled_gemm %q, %s, %w residual %x : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>, tensor<1x64x32xf32>) -> tensor<64x32xf32>
  return
}

// -----

func.func @scaled_gemm_residual_epilogue(%q: tensor<64x32xf8E4M3FN>, %s: tensor<64xf32>, %x: tensor<64x32xf32>) {
  %w = vrt.weight "w" : tensor<32x32xf32>
  // expected-error@+1 {{takes no epilogue with a residual}}
  %0 = vrt.scaled_gemm %q, %s, %w residual %x {epilogue = #vrt<epilogue gelu_tanh>} : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
  return
}

// -----

func.func @norm_quantize_rows(%x: tensor<64x32xf32>) {
  // expected-error@+1 {{values must hold the input's rows of 32 values}}
  %q, %s = vrt.norm_quantize layer %x {epsilon = 1.0e-06 : f64} : (tensor<64x32xf32>) -> (tensor<32x64xf8E4M3FN>, tensor<64xf32>)
  return
}

// -----

func.func @norm_quantize_scales(%x: tensor<64x32xf32>) {
  // expected-error@+1 {{scales must hold one value per row (64)}}
  %q, %s = vrt.norm_quantize layer %x {epsilon = 1.0e-06 : f64} : (tensor<64x32xf32>) -> (tensor<64x32xf8E4M3FN>, tensor<32xf32>)
  return
}

// -----

func.func @norm_quantize_rms_bias(%x: tensor<64x32xf32>, %b: tensor<32xf32>) {
  // expected-error@+1 {{rms norm takes no bias}}
  %q, %s = vrt.norm_quantize rms %x bias %b {epsilon = 1.0e-06 : f64} : (tensor<64x32xf32>, tensor<32xf32>) -> (tensor<64x32xf8E4M3FN>, tensor<64xf32>)
  return
}

// -----

func.func @norm_rope_pool_shape(%x: tensor<1x12x32xf32>, %c: tensor<12x8xf32>, %t: tensor<3xi64>) {
  // expected-error@+1 {{pooled must be (1x2x2x16) (batch, heads, tiles, head dim rounded up to 4)}}
  %0, %1 = vrt.norm_rope rms %x rope %c, %c pool %t {epsilon = 1.0e-06 : f64} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<3xi64>) -> (tensor<1x12x2x16xf32>, tensor<1x2x3x16xf32>)
  return
}

// -----

func.func @norm_rope_pool_tiles(%x: tensor<1x12x32xf32>, %c: tensor<12x8xf32>, %t: tensor<1xi64>) {
  // expected-error@+1 {{pool tiles must be 1-D with at least 2 entries}}
  %0, %1 = vrt.norm_rope rms %x rope %c, %c pool %t {epsilon = 1.0e-06 : f64} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<1xi64>) -> (tensor<1x12x2x16xf32>, tensor<1x2x0x16xf32>)
  return
}

// -----

func.func @norm_rope_pool_offsets(%x: tensor<1x12x32xf32>, %c: tensor<12x8xf32>, %t: tensor<3xi64>) {
  // expected-error@+1 {{with pooled, places its results with offsets}}
  %0, %1 = vrt.norm_rope rms %x rope %c, %c pool %t {epsilon = 1.0e-06 : f64, offset = 0 : i64} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>, tensor<3xi64>) -> (tensor<1x12x2x16xf32>, tensor<1x2x2x16xf32>)
  return
}

// -----

func.func @norm_rope_offsets_without_pool(%x: tensor<1x12x32xf32>, %c: tensor<12x8xf32>) {
  // expected-error@+1 {{places its one result with offset}}
  %0 = vrt.norm_rope rms %x rope %c, %c {epsilon = 1.0e-06 : f64, offsets = array<i64: 0>} : (tensor<1x12x32xf32>, tensor<12x8xf32>, tensor<12x8xf32>) -> tensor<1x12x2x16xf32>
  return
}

// -----

func.func @vsa_select_pooled_shape(%q: tensor<1x2x48x8xf32>, %pq: tensor<1x2x12x8xf32>, %pk: tensor<1x2x12x4xf32>, %t: tensor<13xi64>) {
  // expected-error@+1 {{pooled q and k must be (1x2x12x8) and (1x2x12x8)}}
  %lo, %l = vrt.vsa_select %q, %q pooled(%pq, %pk) tiles(%t) {scale = 0.35 : f64, sparsity = 0.875 : f64} : (tensor<1x2x48x8xf32>, tensor<1x2x48x8xf32>, tensor<1x2x12x8xf32>, tensor<1x2x12x4xf32>, tensor<13xi64>) -> (tensor<25xi64>, tensor<288xi32>)
  return
}

// -----

func.func @scaled_gemm_quantize_row_scales(%q: tensor<4x32xf8E4M3FN>, %s: tensor<4xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  // expected-error@+1 {{lhs and lhs_scales must be the values and scales of one per_tensor vrt.norm_quantize (one scale that bounds every row's 2-norm)}}
  %v, %vs = vrt.scaled_gemm_quantize %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>) -> (tensor<4x16xf8E4M3FN>, tensor<4xf32>)
  return
}

// -----

func.func @scaled_gemm_quantize_row_norm(%x: tensor<4x32xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  %q, %s = vrt.norm_quantize layer %x {epsilon = 1.0e-06 : f64} : (tensor<4x32xf32>) -> (tensor<4x32xf8E4M3FN>, tensor<4xf32>)
  // expected-error@+1 {{lhs and lhs_scales must be the values and scales of one per_tensor vrt.norm_quantize}}
  %v, %vs = vrt.scaled_gemm_quantize %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>) -> (tensor<4x16xf8E4M3FN>, tensor<4xf32>)
  return
}

// -----

func.func @scaled_gemm_quantize_other_lhs(%x: tensor<4x32xf32>, %q: tensor<4x32xf8E4M3FN>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  %n, %s = vrt.norm_quantize layer %x per_tensor {epsilon = 1.0e-06 : f64} : (tensor<4x32xf32>) -> (tensor<4x32xf8E4M3FN>, tensor<4xf32>)
  // expected-error@+1 {{lhs and lhs_scales must be the values and scales of one per_tensor vrt.norm_quantize}}
  %v, %vs = vrt.scaled_gemm_quantize %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>) -> (tensor<4x16xf8E4M3FN>, tensor<4xf32>)
  return
}

// -----

func.func @scaled_gemm_quantize_erf(%x: tensor<4x32xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  %q, %s = vrt.norm_quantize layer %x per_tensor {epsilon = 1.0e-06 : f64} : (tensor<4x32xf32>) -> (tensor<4x32xf8E4M3FN>, tensor<4xf32>)
  // expected-error@+1 {{has no gelu_erf epilogue}}
  %v, %vs = vrt.scaled_gemm_quantize %q, %s, %w {epilogue = #vrt<epilogue gelu_erf>} : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>) -> (tensor<4x16xf8E4M3FN>, tensor<4xf32>)
  return
}

// -----

func.func @scaled_gemm_quantize_n(%x: tensor<4x32xf32>) {
  %w = vrt.weight "w" : tensor<24x32xf32>
  %q, %s = vrt.norm_quantize layer %x per_tensor {epsilon = 1.0e-06 : f64} : (tensor<4x32xf32>) -> (tensor<4x32xf8E4M3FN>, tensor<4xf32>)
  // expected-error@+1 {{needs K % 16 == 0 and N % 16 == 0 (FP8 layouts), got K = 32, N = 24}}
  %v, %vs = vrt.scaled_gemm_quantize %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<24x32xf32>) -> (tensor<4x24xf8E4M3FN>, tensor<4xf32>)
  return
}

// -----

func.func @scaled_gemm_quantize_values(%x: tensor<4x32xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  %q, %s = vrt.norm_quantize layer %x per_tensor {epsilon = 1.0e-06 : f64} : (tensor<4x32xf32>) -> (tensor<4x32xf8E4M3FN>, tensor<4xf32>)
  // expected-error@+1 {{values must have shape 4x16}}
  %v, %vs = vrt.scaled_gemm_quantize %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>) -> (tensor<4x32xf8E4M3FN>, tensor<4xf32>)
  return
}

// -----

func.func @scaled_gemm_quantize_scales(%x: tensor<4x32xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  %q, %s = vrt.norm_quantize layer %x per_tensor {epsilon = 1.0e-06 : f64} : (tensor<4x32xf32>) -> (tensor<4x32xf8E4M3FN>, tensor<4xf32>)
  // expected-error@+1 {{scales must have shape 4 (one per row)}}
  %v, %vs = vrt.scaled_gemm_quantize %q, %s, %w : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>) -> (tensor<4x16xf8E4M3FN>, tensor<16xf32>)
  return
}

// -----

func.func @scaled_gemm_quantize_offsets(%x: tensor<4x32xf32>) {
  %w = vrt.weight "w" : tensor<16x32xf32>
  %q, %s = vrt.norm_quantize layer %x per_tensor {epsilon = 1.0e-06 : f64} : (tensor<4x32xf32>) -> (tensor<4x32xf8E4M3FN>, tensor<4xf32>)
  // expected-error@+1 {{offsets must give each of the 2 results' arena offsets}}
  %v, %vs = vrt.scaled_gemm_quantize %q, %s, %w {offsets = array<i64: 0>} : (tensor<4x32xf8E4M3FN>, tensor<4xf32>, tensor<16x32xf32>) -> (tensor<4x16xf8E4M3FN>, tensor<4xf32>)
  return
}
