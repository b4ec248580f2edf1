// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// FP8 attention (vrt-quantize-attention's `fp8`) sets the runtime
// arguments' fp8 flag before the dense call; attention without it leaves
// the flag 0 (the arguments start zeroed).

// CPP: a.scale = 0.25f;
// CPP-NEXT: a.fp8 = 1;
// CPP-NEXT: VSA_CHECK(vsart_cpu_attention_strided(&a));
// CPP: a.scale = 0.25f;
// CPP-NEXT: VSA_CHECK(vsart_cpu_attention_strided(&a));
// CU: a.scale = 0.25f;
// CU-NEXT: a.fp8 = 1;
// CU-NEXT: VSA_CHECK(vsart_cuda_attention(&a, stream));
// CU: a.scale = 0.25f;
// CU-NEXT: VSA_CHECK(vsart_cuda_attention(&a, stream));
func.func @main(%x: tensor<1x16x2x16xf32> {dit.name = "x"}) -> (tensor<1x16x2x16xf32> {dit.name = "y"}, tensor<1x16x2x16xf32> {dit.name = "z"}) attributes {vrt.arena_bytes = 4096 : i64} {
  %xc = vrt.kernel "k0" (%x) {offset = 0 : i64} : (tensor<1x16x2x16xf32>) -> tensor<1x16x2x16xf32> {
  ^bb0(%a: tensor<1x16x2x16xf32>):
    vrt.yield %a : tensor<1x16x2x16xf32>
  }
  %o = vrt.attention %xc, %xc, %xc {fp8, scale = 0.25 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>, offset = 2048 : i64} : (tensor<1x16x2x16xf32>, tensor<1x16x2x16xf32>, tensor<1x16x2x16xf32>) -> tensor<1x16x2x16xf32>
  %p = vrt.attention %xc, %xc, %xc {scale = 0.25 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>, offset = 3072 : i64} : (tensor<1x16x2x16xf32>, tensor<1x16x2x16xf32>, tensor<1x16x2x16xf32>) -> tensor<1x16x2x16xf32>
  return %o, %p : tensor<1x16x2x16xf32>, tensor<1x16x2x16xf32>
}
