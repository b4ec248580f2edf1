// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// vrt-quantize-gemm-outputs' ops: the norm fixes one scale for every row
// (n.per_tensor), FFN-up writes E4M3 and its row scales, FFN-down reads
// them. FFN-up's weight is stored with one scale for the whole tensor,
// FFN-down's with one per output channel.

// CPP: n.scale = nullptr; n.bias = nullptr; n.mod_shift = (arena + 8192); n.mod_scale = (arena + 8448); n.eps = 1e-06f;
// CPP-NEXT: n.per_tensor = 1;
// CPP-NEXT: VSA_CHECK(vsart_cpu_norm_quantize(&n));
// CPP: VSA_CHECK(vsart_cpu_scaled_gemm_quantize(48, 64, 32, 1.0f, (const uint8_t *)(arena + 6144), (const float *)(arena + 7680), weights[0], (uint8_t *)(arena + 9216), (float *)(arena + 12288), (const float *)weights[1], VSART_EPILOGUE_GELU_TANH));
// CPP: VSA_CHECK(vsart_cpu_scaled_gemm_residual(48, 32, 64, 1.0f, (const uint8_t *)(arena + 9216), (const float *)(arena + 12288), weights[2], (float *)(arena + 16384), 32, nullptr, (const float *)(arena + 0), nullptr));
// CPP: {"up.weight", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_TENSOR, 2, {64, 32}},
// CPP: {"down.weight", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_ROWS, 2, {32, 64}},

// CU: n.per_tensor = 1;
// CU-NEXT: VSA_CHECK(vsart_cuda_norm_quantize(&n, stream));
// CU: VSA_CHECK(vsart_cuda_scaled_gemm_quantize(48, 64, 32, 1.0f, (arena + 6144), (const float *)(arena + 7680), weights[0], (arena + 9216), (float *)(arena + 12288), weights[1], VSART_EPILOGUE_GELU_TANH, stream));
// CU: VSA_CHECK(vsart_cuda_scaled_gemm_residual(48, 32, 64, 1.0f, (arena + 9216), (const float *)(arena + 12288), weights[2], (arena + 16384), 32, nullptr, (arena + 0), nullptr, stream));
// CU: {"up.weight", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_TENSOR, 2, {64, 32}},
func.func @main(%x: tensor<48x32xf32> {dit.name = "x"}) -> (tensor<1x48x32xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 24576 : i64} {
  %w1 = vrt.weight "up.weight" : tensor<64x32xf32>
  %b1 = vrt.weight "up.bias" : tensor<64xf32>
  %w2 = vrt.weight "down.weight" : tensor<32x64xf32>
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
  %q, %s = vrt.norm_quantize layer %c modulate %shift, %scale per_tensor {epsilon = 1.0e-06 : f64, offsets = array<i64: 6144, 7680>} : (tensor<48x32xf32>, tensor<1x32xf32>, tensor<1x32xf32>) -> (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>)
  %h, %hs = vrt.scaled_gemm_quantize %q, %s, %w1, %b1 {epilogue = #vrt<epilogue gelu_tanh>, offsets = array<i64: 9216, 12288>} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>) -> (tensor<1x48x64xf8E4M3FN>, tensor<1x48xf32>)
  %r = vrt.view %c : tensor<48x32xf32> -> tensor<1x48x32xf32>
  %y = vrt.scaled_gemm %h, %hs, %w2 residual %r {offset = 16384 : i64} : (tensor<1x48x64xf8E4M3FN>, tensor<1x48xf32>, tensor<32x64xf32>, tensor<1x48x32xf32>) -> tensor<1x48x32xf32>
  return %y : tensor<1x48x32xf32>
}
