// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-gemm-outputs))' | FileCheck %s
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-quantize-gemm-outputs),func.func(vrt-plan-memory{target=cuda}))' | FileCheck %s --check-prefix=PLAN

// A DiT's FFN after vrt-fuse-into-fp8: the modulated norm feeds FFN-up
// alone, whose GELU output is quantized for FFN-down. The norm gets one
// scale for every row, and FFN-up writes E4M3 itself; FFN-down reads it as
// before.
// CHECK-LABEL: func.func @ffn
// CHECK: %[[Q:.*]], %[[S:.*]] = vrt.norm_quantize layer %{{.*}} modulate %{{.*}}, %{{.*}} per_tensor {epsilon = 9.9999999999999995E-7 : f64} : (tensor<64x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>)
// CHECK-NEXT: %[[H:.*]], %[[HS:.*]] = vrt.scaled_gemm_quantize %[[Q]], %[[S]], %{{.*}}, %{{.*}} {epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<128x32xf32>, tensor<128xf32>) -> (tensor<1x64x128xf8E4M3FN>, tensor<1x64xf32>)
// CHECK-NEXT: %[[Y:.*]] = vrt.scaled_gemm %[[H]], %[[HS]], %{{.*}}, %{{.*}} residual %{{.*}} : (tensor<1x64x128xf8E4M3FN>, tensor<1x64xf32>, tensor<32x128xf32>, tensor<32xf32>, tensor<1x64x32xf32>) -> tensor<1x64x32xf32>
// CHECK-NEXT: return %[[Y]]
// CHECK-NOT: vrt.quantize_rows
// The hidden layer takes a byte a value and its scales four, also on CUDA.
// PLAN-LABEL: func.func @ffn
// PLAN: vrt.scaled_gemm_quantize {{.*}} {epilogue = #vrt<epilogue gelu_tanh>, offsets = array<i64: [[HQ:[0-9]+]], [[HS:[0-9]+]]>}
// PLAN: vrt.scaled_gemm {{.*}} {offset =
func.func @ffn(%x: tensor<64x32xf32>, %r: tensor<1x64x32xf32>, %shift: tensor<1x32xf32>, %scale: tensor<1x32xf32>) -> tensor<1x64x32xf32> {
  %w1 = vrt.weight "up.weight" : tensor<128x32xf32>
  %b1 = vrt.weight "up.bias" : tensor<128xf32>
  %w2 = vrt.weight "down.weight" : tensor<32x128xf32>
  %b2 = vrt.weight "down.bias" : tensor<32xf32>
  %q, %s = vrt.norm_quantize layer %x modulate %shift, %scale {epsilon = 1.0e-06 : f64} : (tensor<64x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>)
  %h = vrt.scaled_gemm %q, %s, %w1, %b1 {epilogue = #vrt<epilogue gelu_tanh>} : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<128x32xf32>, tensor<128xf32>) -> tensor<1x64x128xf32>
  %hq, %hs = vrt.quantize_rows %h : tensor<1x64x128xf32> -> tensor<1x64x128xf8E4M3FN>, tensor<1x64xf32>
  %y = vrt.scaled_gemm %hq, %hs, %w2, %b2 residual %r : (tensor<1x64x128xf8E4M3FN>, tensor<1x64xf32>, tensor<32x128xf32>, tensor<32xf32>, tensor<1x64x32xf32>) -> tensor<1x64x32xf32>
  return %y : tensor<1x64x32xf32>
}

// -----

// No epilogue and no bias: a plain projection between a norm and another
// FP8 GEMM is fused the same way.
// CHECK-LABEL: func.func @plain
// CHECK: vrt.norm_quantize rms %{{.*}} per_tensor
// CHECK-NEXT: vrt.scaled_gemm_quantize %{{.*}}, %{{.*}}, %{{.*}} {alpha = 5.000000e-01 : f64} : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<16x32xf32>) -> (tensor<16x16xf8E4M3FN>, tensor<16xf32>)
func.func @plain(%x: tensor<16x32xf32>) -> tensor<16x16xf32> {
  %w1 = vrt.weight "a" : tensor<16x32xf32>
  %w2 = vrt.weight "b" : tensor<16x16xf32>
  %q, %s = vrt.norm_quantize rms %x {epsilon = 1.0e-06 : f64} : (tensor<16x32xf32>) -> (tensor<16x32xf8E4M3FN>, tensor<16xf32>)
  %h = vrt.scaled_gemm %q, %s, %w1 {alpha = 0.5 : f64} : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<16x32xf32>) -> tensor<16x16xf32>
  %hq, %hs = vrt.quantize_rows %h : tensor<16x16xf32> -> tensor<16x16xf8E4M3FN>, tensor<16xf32>
  %y = vrt.scaled_gemm %hq, %hs, %w2 : (tensor<16x16xf8E4M3FN>, tensor<16xf32>, tensor<16x16xf32>) -> tensor<16x16xf32>
  return %y : tensor<16x16xf32>
}

// -----

// What stays as it is: a norm shared by several GEMMs (q, k, v: one scale
// per row keeps their precision), a GEMM whose output is read elsewhere
// too, GELU in its erf form (cuBLASLt's FP8 output has the tanh form
// only), N not a multiple of 16 (E4M3 rows of 16 bytes), a GEMM after a
// row quantization (its scales bound nothing) and a residual GEMM.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: per_tensor
// CHECK-NOT: vrt.scaled_gemm_quantize
// CHECK-COUNT-6: vrt.quantize_rows
func.func @kept(%x: tensor<16x32xf32>, %r: tensor<16x32xf32>) -> (tensor<16x32xf8E4M3FN>, tensor<16x32xf8E4M3FN>, tensor<16x32xf32>, tensor<16x32xf8E4M3FN>, tensor<16x24xf8E4M3FN>, tensor<16x32xf8E4M3FN>, tensor<16x32xf8E4M3FN>) {
  %w = vrt.weight "w" : tensor<32x32xf32>
  %w24 = vrt.weight "w24" : tensor<24x32xf32>
  %q, %s = vrt.norm_quantize layer %x {epsilon = 1.0e-06 : f64} : (tensor<16x32xf32>) -> (tensor<16x32xf8E4M3FN>, tensor<16xf32>)
  %a = vrt.scaled_gemm %q, %s, %w : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  %b = vrt.scaled_gemm %q, %s, %w : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  %aq, %as = vrt.quantize_rows %a : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16xf32>
  %bq, %bs = vrt.quantize_rows %b : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16xf32>
  %q2, %s2 = vrt.norm_quantize layer %x {epsilon = 1.0e-06 : f64} : (tensor<16x32xf32>) -> (tensor<16x32xf8E4M3FN>, tensor<16xf32>)
  %c = vrt.scaled_gemm %q2, %s2, %w : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  %cq, %cs = vrt.quantize_rows %c : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16xf32>
  %q3, %s3 = vrt.norm_quantize layer %x {epsilon = 1.0e-06 : f64} : (tensor<16x32xf32>) -> (tensor<16x32xf8E4M3FN>, tensor<16xf32>)
  %d = vrt.scaled_gemm %q3, %s3, %w {epilogue = #vrt<epilogue gelu_erf>} : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  %dq, %ds = vrt.quantize_rows %d : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16xf32>
  %q4, %s4 = vrt.norm_quantize layer %x {epsilon = 1.0e-06 : f64} : (tensor<16x32xf32>) -> (tensor<16x32xf8E4M3FN>, tensor<16xf32>)
  %e = vrt.scaled_gemm %q4, %s4, %w24 : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<24x32xf32>) -> tensor<16x24xf32>
  %eq, %es = vrt.quantize_rows %e : tensor<16x24xf32> -> tensor<16x24xf8E4M3FN>, tensor<16xf32>
  %rq, %rs = vrt.quantize_rows %r : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16xf32>
  %f = vrt.scaled_gemm %rq, %rs, %w : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<32x32xf32>) -> tensor<16x32xf32>
  %fq, %fs = vrt.quantize_rows %f : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16xf32>
  %q5, %s5 = vrt.norm_quantize layer %x {epsilon = 1.0e-06 : f64} : (tensor<16x32xf32>) -> (tensor<16x32xf8E4M3FN>, tensor<16xf32>)
  %g = vrt.scaled_gemm %q5, %s5, %w residual %r : (tensor<16x32xf8E4M3FN>, tensor<16xf32>, tensor<32x32xf32>, tensor<16x32xf32>) -> tensor<16x32xf32>
  %gq, %gs = vrt.quantize_rows %g : tensor<16x32xf32> -> tensor<16x32xf8E4M3FN>, tensor<16xf32>
  return %aq, %bq, %c, %dq, %eq, %fq, %gq : tensor<16x32xf8E4M3FN>, tensor<16x32xf8E4M3FN>, tensor<16x32xf32>, tensor<16x32xf8E4M3FN>, tensor<16x24xf8E4M3FN>, tensor<16x32xf8E4M3FN>, tensor<16x32xf8E4M3FN>
}
