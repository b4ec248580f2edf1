// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// An FP8 linear: the activation is quantized per row into the arena (bytes
// and fp32 scales on both targets), the GEMM reads them and a weight the
// session stores as FP8 with row scales; its bias stays a float weight.

// CPP: VSA_CHECK(vsart_cpu_quantize_rows((const float *)(arena + 0), 48, 32, 32, (uint8_t *)(arena + 6144), (float *)(arena + 7680)));
// CPP: VSA_CHECK(vsart_cpu_scaled_gemm(48, 64, 32, 1.0f, (const uint8_t *)(arena + 6144), (const float *)(arena + 7680), weights[0], (float *)(arena + 8192), 64, (const float *)weights[1], VSART_EPILOGUE_GELU_TANH));
// CPP: static const vsart_tensor_desc_t vsa_weights[] = {
// CPP-NEXT: {"up.weight", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_ROWS, 2, {64, 32}},
// CPP-NEXT: {"up.bias", VSART_DTYPE_F32, VSART_DTYPE_F32, 1, {64}},

// CU: VSA_CHECK(vsart_cuda_quantize_rows((arena + 0), 48, 32, 32, (arena + 6144), (float *)(arena + 7680), stream));
// CU: VSA_CHECK(vsart_cuda_scaled_gemm(48, 64, 32, 1.0f, (arena + 6144), (const float *)(arena + 7680), weights[0], (arena + 8192), 64, weights[1], VSART_EPILOGUE_GELU_TANH, stream));
// CU: {"up.weight", VSART_DTYPE_F32, VSART_DTYPE_F8E4M3_ROWS, 2, {64, 32}},
// CU-NEXT: {"up.bias", VSART_DTYPE_F32, VSART_DTYPE_BF16, 1, {64}},
func.func @main(%x: tensor<1x48x32xf32> {dit.name = "x"}) -> (tensor<1x48x64xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 20480 : i64} {
  %w = vrt.weight "up.weight" : tensor<64x32xf32>
  %b = vrt.weight "up.bias" : tensor<64xf32>
  %c = vrt.kernel "k0" (%x) {offset = 0 : i64} : (tensor<1x48x32xf32>) -> tensor<1x48x32xf32> {
  ^bb0(%a: tensor<1x48x32xf32>):
    vrt.yield %a : tensor<1x48x32xf32>
  }
  %q, %s = vrt.quantize_rows %c {offsets = array<i64: 6144, 7680>} : tensor<1x48x32xf32> -> tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>
  %y = vrt.scaled_gemm %q, %s, %w, %b {epilogue = #vrt<epilogue gelu_tanh>, offset = 8192 : i64} : (tensor<1x48x32xf8E4M3FN>, tensor<1x48xf32>, tensor<64x32xf32>, tensor<64xf32>) -> tensor<1x48x64xf32>
  return %y : tensor<1x48x64xf32>
}
