// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-into-fp8))' | FileCheck %s
// RUN: vsa-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(vrt-fuse-into-fp8),func.func(vrt-plan-memory{target=cuda}))' | FileCheck %s --check-prefix=PLAN

// A DiT block's FP8 path: the modulated norm feeding q/k/v's quantization
// becomes one norm_quantize (shaped like the quantization's rows); the
// gated residual after the output projection (a contiguous row of the
// modulation, 64 = row 2 of 32 channels) and the plain residual after the
// second projection become the GEMMs' residual and gate. (Model inputs
// keep their own precision, so residuals and gates here are computed.)
// CHECK-LABEL: func.func @block
// CHECK: %[[XR:.*]] = vrt.kernel "kx"
// CHECK: %[[MOD:.*]] = vrt.kernel "km"
// CHECK: %[[Q:.*]], %[[S:.*]] = vrt.norm_quantize layer %{{.*}} modulate %{{.*}}, %{{.*}} {epsilon = 9.9999999999999995E-7 : f64} : (tensor<64x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>)
// CHECK-NEXT: %[[P:.*]] = vrt.scaled_gemm %[[Q]], %[[S]], %{{.*}}, %{{.*}} : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x64x32xf32>
// CHECK-NEXT: %[[PQ:.*]], %[[PS:.*]] = vrt.quantize_rows %[[P]]
// CHECK-NEXT: %[[R1:.*]] = vrt.scaled_gemm %[[PQ]], %[[PS]], %{{.*}}, %{{.*}} residual %[[XR]] gate %[[MOD]][64] : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<1x64x32xf32>, tensor<1x6x32xf32>) -> tensor<1x64x32xf32>
// CHECK-NEXT: %[[RQ:.*]], %[[RS:.*]] = vrt.quantize_rows %[[R1]]
// CHECK-NEXT: %[[R2:.*]] = vrt.scaled_gemm %[[RQ]], %[[RS]], %{{.*}} residual %[[R1]] : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<32x32xf32>, tensor<1x64x32xf32>) -> tensor<1x64x32xf32>
// CHECK-NEXT: return %[[R2]]
// CHECK-NOT: vrt.kernel
// CHECK-NOT: vrt.norm {{.*}}
// The values take a byte each and the scales four, also on CUDA.
// PLAN-LABEL: func.func @block
// PLAN: vrt.norm_quantize layer {{.*}} {epsilon = {{.*}}, offsets = array<i64: 4608, 6656>}
func.func @block(%x: tensor<1x64x32xf32>, %mod: tensor<1x6x32xf32>, %shift: tensor<1x32xf32>, %scale: tensor<1x32xf32>) -> tensor<1x64x32xf32> {
  %w = vrt.weight "w" : tensor<32x32xf32>
  %b = vrt.weight "b" : tensor<32xf32>
  %wo = vrt.weight "wo" : tensor<32x32xf32>
  %bo = vrt.weight "bo" : tensor<32xf32>
  %w2 = vrt.weight "w2" : tensor<32x32xf32>
  %xr = vrt.kernel "kx"(%x) : (tensor<1x64x32xf32>) -> tensor<1x64x32xf32> {
  ^bb0(%a: tensor<1x64x32xf32>):
    %y = dit.add %a, %a : (tensor<1x64x32xf32>, tensor<1x64x32xf32>) -> tensor<1x64x32xf32>
    vrt.yield %y : tensor<1x64x32xf32>
  }
  %modk = vrt.kernel "km"(%mod) : (tensor<1x6x32xf32>) -> tensor<1x6x32xf32> {
  ^bb0(%a: tensor<1x6x32xf32>):
    %y = dit.add %a, %a : (tensor<1x6x32xf32>, tensor<1x6x32xf32>) -> tensor<1x6x32xf32>
    vrt.yield %y : tensor<1x6x32xf32>
  }
  %x2 = vrt.view %xr : tensor<1x64x32xf32> -> tensor<64x32xf32>
  %n = vrt.norm layer %x2 modulate %shift, %scale {epsilon = 1.0e-06 : f64} : (tensor<64x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> tensor<64x32xf32>
  %n3 = vrt.view %n : tensor<64x32xf32> -> tensor<1x64x32xf32>
  %q, %s = vrt.quantize_rows %n3 : tensor<1x64x32xf32> -> tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>
  %p = vrt.scaled_gemm %q, %s, %w, %b : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x64x32xf32>
  %pq, %ps = vrt.quantize_rows %p : tensor<1x64x32xf32> -> tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>
  %o = vrt.scaled_gemm %pq, %ps, %wo, %bo : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x64x32xf32>
  %r1 = vrt.kernel "k0"(%xr, %o, %modk) : (tensor<1x64x32xf32>, tensor<1x64x32xf32>, tensor<1x6x32xf32>) -> tensor<1x64x32xf32> {
  ^bb0(%a: tensor<1x64x32xf32>, %c: tensor<1x64x32xf32>, %m: tensor<1x6x32xf32>):
    %g = dit.slice %m offsets [0, 2, 0] strides [1, 1, 1] : tensor<1x6x32xf32> -> tensor<1x1x32xf32>
    %y = dit.gated_add %a, %c, %g : (tensor<1x64x32xf32>, tensor<1x64x32xf32>, tensor<1x1x32xf32>) -> tensor<1x64x32xf32>
    vrt.yield %y : tensor<1x64x32xf32>
  }
  %rq, %rs = vrt.quantize_rows %r1 : tensor<1x64x32xf32> -> tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>
  %o2 = vrt.scaled_gemm %rq, %rs, %w2 : (tensor<1x64x32xf8E4M3FN>, tensor<1x64xf32>, tensor<32x32xf32>) -> tensor<1x64x32xf32>
  // The GEMM on the left of a plain add.
  %r2 = vrt.kernel "k1"(%o2, %r1) : (tensor<1x64x32xf32>, tensor<1x64x32xf32>) -> tensor<1x64x32xf32> {
  ^bb0(%a: tensor<1x64x32xf32>, %c: tensor<1x64x32xf32>):
    %y = dit.add %a, %c : (tensor<1x64x32xf32>, tensor<1x64x32xf32>) -> tensor<1x64x32xf32>
    vrt.yield %y : tensor<1x64x32xf32>
  }
  return %r2 : tensor<1x64x32xf32>
}

// -----

// A gate that is a whole kernel input of N values (no slice) and an RMS
// norm without modulation.
// CHECK-LABEL: func.func @whole_gate
// CHECK: vrt.norm_quantize rms %{{.*}} scale %{{.*}} {epsilon
// CHECK: vrt.scaled_gemm {{.*}} residual %{{.*}} gate %{{.*}}[0] :
// CHECK-NOT: vrt.kernel
func.func @whole_gate(%x: tensor<64x32xf32>, %gate: tensor<32xf32>) -> tensor<64x32xf32> {
  %w = vrt.weight "w" : tensor<32x32xf32>
  %ns = vrt.weight "norm.weight" : tensor<32xf32>
  %g2 = vrt.kernel "kg"(%gate) : (tensor<32xf32>) -> tensor<32xf32> {
  ^bb0(%a: tensor<32xf32>):
    %y = dit.add %a, %a : (tensor<32xf32>, tensor<32xf32>) -> tensor<32xf32>
    vrt.yield %y : tensor<32xf32>
  }
  %r = vrt.kernel "kr"(%x) : (tensor<64x32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a: tensor<64x32xf32>):
    %y = dit.add %a, %a : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    vrt.yield %y : tensor<64x32xf32>
  }
  %n = vrt.norm rms %r scale %ns {epsilon = 1.0e-06 : f64} : (tensor<64x32xf32>, tensor<32xf32>) -> tensor<64x32xf32>
  %q, %s = vrt.quantize_rows %n : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>, tensor<64xf32>
  %o = vrt.scaled_gemm %q, %s, %w : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %y = vrt.kernel "k"(%r, %o, %g2) : (tensor<64x32xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a: tensor<64x32xf32>, %c: tensor<64x32xf32>, %g: tensor<32xf32>):
    %z = dit.gated_add %a, %c, %g : (tensor<64x32xf32>, tensor<64x32xf32>, tensor<32xf32>) -> tensor<64x32xf32>
    vrt.yield %z : tensor<64x32xf32>
  }
  return %y : tensor<64x32xf32>
}

// -----

// What stays: a norm that something else reads too; a quantization of a
// view that cuts the norm's rows differently; a GEMM with an epilogue; a
// GEMM that another op reads; a gate per batch entry (2 rows of the
// modulation); a gate on the residual side; a kernel doing more than the
// add; a residual that is a model input.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: vrt.norm_quantize
// CHECK-NOT: residual
// CHECK: return
func.func @kept(%x: tensor<64x32xf32>, %in: tensor<2x32x32xf32>, %mod: tensor<2x6x32xf32>) -> (tensor<64x32xf32>, tensor<64x2x16xf8E4M3FN>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<2x32x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>) {
  %w = vrt.weight "w" : tensor<32x32xf32>
  %w16 = vrt.weight "w16" : tensor<32x16xf32>
  %r = vrt.kernel "kr"(%x) : (tensor<64x32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a: tensor<64x32xf32>):
    %y = dit.add %a, %a : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    vrt.yield %y : tensor<64x32xf32>
  }
  %n = vrt.norm layer %r {epsilon = 1.0e-06 : f64} : (tensor<64x32xf32>) -> tensor<64x32xf32>
  %q, %s = vrt.quantize_rows %n : tensor<64x32xf32> -> tensor<64x32xf8E4M3FN>, tensor<64xf32>
  %n2 = vrt.norm layer %r {epsilon = 1.0e-05 : f64} : (tensor<64x32xf32>) -> tensor<64x32xf32>
  %n2v = vrt.view %n2 : tensor<64x32xf32> -> tensor<64x2x16xf32>
  %q2, %s2 = vrt.quantize_rows %n2v : tensor<64x2x16xf32> -> tensor<64x2x16xf8E4M3FN>, tensor<64x2xf32>
  %gelu = vrt.scaled_gemm %q, %s, %w {epilogue = #vrt<epilogue gelu_tanh>} : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %a1 = vrt.kernel "k1"(%r, %gelu) : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a: tensor<64x32xf32>, %c: tensor<64x32xf32>):
    %y = dit.add %a, %c : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    vrt.yield %y : tensor<64x32xf32>
  }
  %shared = vrt.scaled_gemm %q, %s, %w : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %a2 = vrt.kernel "k2"(%r, %shared) : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a: tensor<64x32xf32>, %c: tensor<64x32xf32>):
    %y = dit.add %a, %c : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    vrt.yield %y : tensor<64x32xf32>
  }
  %qb, %sb = vrt.quantize_rows %in : tensor<2x32x32xf32> -> tensor<2x32x32xf8E4M3FN>, tensor<2x32xf32>
  %pb = vrt.scaled_gemm %qb, %sb, %w : (tensor<2x32x32xf8E4M3FN>, tensor<2x32xf32>, tensor<32x32xf32>) -> tensor<2x32x32xf32>
  %rb = vrt.kernel "kb"(%in) : (tensor<2x32x32xf32>) -> tensor<2x32x32xf32> {
  ^bb0(%a: tensor<2x32x32xf32>):
    %y = dit.add %a, %a : (tensor<2x32x32xf32>, tensor<2x32x32xf32>) -> tensor<2x32x32xf32>
    vrt.yield %y : tensor<2x32x32xf32>
  }
  %a3 = vrt.kernel "k3"(%rb, %pb, %mod) : (tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x6x32xf32>) -> tensor<2x32x32xf32> {
  ^bb0(%a: tensor<2x32x32xf32>, %c: tensor<2x32x32xf32>, %m: tensor<2x6x32xf32>):
    %g = dit.slice %m offsets [0, 2, 0] strides [1, 1, 1] : tensor<2x6x32xf32> -> tensor<2x1x32xf32>
    %y = dit.gated_add %a, %c, %g : (tensor<2x32x32xf32>, tensor<2x32x32xf32>, tensor<2x1x32xf32>) -> tensor<2x32x32xf32>
    vrt.yield %y : tensor<2x32x32xf32>
  }
  %p4 = vrt.scaled_gemm %q, %s, %w : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %a4 = vrt.kernel "k4"(%p4, %r, %r) : (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a: tensor<64x32xf32>, %c: tensor<64x32xf32>, %g: tensor<64x32xf32>):
    %y = dit.gated_add %a, %c, %g : (tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    vrt.yield %y : tensor<64x32xf32>
  }
  %p5 = vrt.scaled_gemm %q, %s, %w : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %a5 = vrt.kernel "k5"(%r, %p5) : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a: tensor<64x32xf32>, %c: tensor<64x32xf32>):
    %y = dit.add %a, %c : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    %z = dit.mul %y, %y : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    vrt.yield %z : tensor<64x32xf32>
  }
  %p6 = vrt.scaled_gemm %q, %s, %w : (tensor<64x32xf8E4M3FN>, tensor<64xf32>, tensor<32x32xf32>) -> tensor<64x32xf32>
  %a6 = vrt.kernel "k6"(%x, %p6) : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32> {
  ^bb0(%a: tensor<64x32xf32>, %c: tensor<64x32xf32>):
    %y = dit.add %a, %c : (tensor<64x32xf32>, tensor<64x32xf32>) -> tensor<64x32xf32>
    vrt.yield %y : tensor<64x32xf32>
  }
  return %n, %q2, %a1, %a2, %a3, %a4, %a5, %a6, %shared : tensor<64x32xf32>, tensor<64x2x16xf8E4M3FN>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<2x32x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>, tensor<64x32xf32>
}
