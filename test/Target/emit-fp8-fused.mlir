// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// vrt-fuse-into-fp8's ops: a modulated norm that writes FP8 rows and their
// scales (one modulation row per batch entry: batch 1, 48 rows), and scaled
// GEMMs that add a residual, one gated by row 2 of a (1, 6, 32) modulation:
// its values start 64 elements in, 128 bytes as bf16 on CUDA and 256 as
// fp32 on the CPU.

// CPP: vsart_norm_quantize_args_t n = {};
// CPP-NEXT: n.x = (arena + 0); n.q = (uint8_t *)(arena + 6144); n.scales = (float *)(arena + 7680);
// CPP-NEXT: n.batch = 1; n.seq = 48; n.dim = 32; n.centered = 1;
// CPP-NEXT: n.scale = nullptr; n.bias = nullptr; n.mod_shift = (arena + 8192); n.mod_scale = (arena + 8448); n.eps = 1e-06f;
// CPP-NEXT: VSA_CHECK(vsart_cpu_norm_quantize(&n));
// CPP: VSA_CHECK(vsart_cpu_scaled_gemm_residual(48, 32, 32, 1.0f, (const uint8_t *)(arena + 6144), (const float *)(arena + 7680), weights[0], (float *)(arena + 9216), 32, (const float *)weights[1], (const float *)(arena + 0), (const float *)((const char *)(arena + 12288) + 256)));
// CPP: VSA_CHECK(vsart_cpu_scaled_gemm_residual(48, 32, 32, 1.0f, (const uint8_t *)(arena + 6144), (const float *)(arena + 7680), weights[0], (float *)(arena + 16384), 32, nullptr, (const float *)(arena + 9216), nullptr));

// CU: VSA_CHECK(vsart_cuda_norm_quantize(&n, stream));
// CU: VSA_CHECK(vsart_cuda_scaled_gemm_residual(48, 32, 32, 1.0f, (arena + 6144), (const float *)(arena + 7680), weights[0], (arena + 9216), 32, weights[1], (arena + 0), (const char *)(arena + 12288) + 128, stream));
// CU: VSA_CHECK(vsart_cuda_scaled_gemm_residual(48, 32, 32, 1.0f, (arena + 6144), (const float *)(arena + 7680), weights[0], (arena + 16384), 32, nullptr, (arena + 9216), nullptr, stream));
func.func @main(%x: tensor<48x32xf32> {dit.name = "x"}, %m: tensor<1x6x32xf32> {dit.name = "m"}) -> (tensor<1x48x32xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 24576 : i64} {
  %w = vrt.weight "o.weight" : tensor<32x32xf32>
  %b = vrt.weight "o.bias" : tensor<32xf32>
  %c = vrt.kernel "k0" (%x) {offset = 0 : i64} : (tensor<48x32xf32>) -> tensor<48x32xf32> {
  ^bb0(%a: tensor<48x32xf32>):
    vrt.yield %a : tensor<48x32xf32>
  }
  %shift = vrt.kernel "k1" (%x) {offset = 8192 : i64} : (tensor<48x32xf32>) -> tensor<1x32xf32> {
  ^bb0(%a: tensor<48x32xf32>):
    %s = dit.slice %a offsets [0, 0] strides [1, 1] : tensor<48x32xf32> -> tensor<1x32xf32>
    vrt.yield %s : tensor<1x32xf32>
  }
  %scale = vrt.kernel "k2" (%x) {offset = 8448 : i64} : (tensor<48x32xf32>) -> tensor<1x32xf32> {
  ^bb0(%a: tensor<48x32xf32>):
    %s = dit.slice %a offsets [1, 0] strides [1, 1] : tensor<48x32xf32> -> tensor<1x32xf32>
    vrt.yield %s : tensor<1x32xf32>
  }
  %mod = vrt.kernel "k3" (%m) {offset = 12288 : i64} : (tensor<1x6x32xf32>) -> tensor<1x6x32xf32> {
  ^bb0(%a: tensor<1x6x32xf32>):
    vrt.yield %a : tensor<1x6x32xf32>
  }
  %q, %s = vrt.norm_quantize layer %c modulate %shift, %scale {epsilon = 1.0e-06 : f64, offsets = array<i64: 6144, 7680>} : (tensor<48x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>)
  %r = vrt.view %c : tensor<48x32xf32> -> tensor<1x48x32xf32>
  %y = vrt.scaled_gemm %q, %s, %w, %b residual %r gate %mod[64] {offset = 9216 : i64} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<32x32xf32>, tensor<32xf32>, tensor<1x48x32xf32>, tensor<1x6x32xf32>) -> tensor<1x48x32xf32>
  %z = vrt.scaled_gemm %q, %s, %w residual %y {offset = 16384 : i64} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<32x32xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  return %z : tensor<1x48x32xf32>
}
