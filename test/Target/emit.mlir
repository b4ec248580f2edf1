// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// A planned program: a linear on a model input (through its copy kernel),
// an RMS norm on a row view, attention in (batch, seq, heads, dim) layout
// and a GELU GEMM epilogue.

// CPP: #include "vsart_model.h"
// CPP: static vsart_status_t k0(const void *const *inputs, void *output, void *stream)
// CPP: static vsart_status_t vsa_forward(void *const *inputs, void *const *outputs, const void *const *weights, void *arena_ptr, void *stream, const vsart_run_context_t *ctx)
// CPP: const void *in[] = {inputs[0]};
// CPP-NEXT: VSA_CHECK(k0(in, (arena + 0), stream));
// CPP: VSA_CHECK(vsart_cpu_gemm(0, 1, 16, 32, 32, 1.0f, (const float *)(arena + 0) + i * 512, 32, (const float *)weights[0] + i * 0, 32, 0.0f, (float *)(arena + 2048) + i * 512, 32, (const float *)weights[1], VSART_EPILOGUE_NONE));
// CPP: VSA_CHECK(vsart_cpu_rms_norm((const float *)(arena + 2048), (float *)(arena + 4096), 16, 32, (const float *)weights[2], nullptr, 1e-06f));
// CPP: a.batch = 1; a.num_heads = 2; a.num_kv_heads = 2; a.seq_q = 16; a.seq_kv = 16; a.head_dim = 16;
// CPP: { const int64_t s[3] = {512, 16, 32}; std::memcpy(a.q_strides, s, sizeof s); }
// CPP: VSA_CHECK(vsart_cpu_attention_strided(&a));
// CPP: VSART_EPILOGUE_GELU_TANH
// CPP: std::memcpy(outputs[0], (arena + 2048), 2048);
// CPP: static const vsart_tensor_desc_t vsa_inputs[] = {
// CPP-NEXT: {"x", VSART_DTYPE_F32, VSART_DTYPE_F32, 3, {1, 16, 32}},
// CPP: static const vsart_tensor_desc_t vsa_weights[] = {
// CPP-NEXT: {"to_q.weight", VSART_DTYPE_F32, VSART_DTYPE_F32, 2, {32, 32}},
// CPP: VSART_TARGET_CPU, &vsart_cpu_device_ops
// CPP: 6144u, vsa_forward
// CPP: return vsart_exe_main(argc, argv, vsa_model());

// CU: #include "vsart_cuda.h"
// CU: __global__
// CU: VSA_CHECK(vsart_cuda_gemm(0, 1, 16, 32, 32, 1.0f, (arena + 0), 32, 512, weights[0], 32, 0, (arena + 2048), 32, 512, 1, weights[1], VSART_EPILOGUE_NONE, stream));
// CU: VSA_CHECK(vsart_cuda_rms_norm((arena + 2048), (arena + 4096), 16, 32, weights[2], nullptr, 1e-06f, stream));
// CU: VSA_CHECK(vsart_cuda_attention(&a, stream));
// CU: cudaMemcpyAsync(outputs[0], (arena + 2048), 1024, cudaMemcpyDeviceToDevice
// CU: {"x", VSART_DTYPE_F32, VSART_DTYPE_F32, 3, {1, 16, 32}},
// CU: {"sample", VSART_DTYPE_F32, VSART_DTYPE_BF16, 3, {1, 16, 32}},
// CU: {"to_q.weight", VSART_DTYPE_F32, VSART_DTYPE_BF16, 2, {32, 32}},
// CU: VSART_TARGET_CUDA, &vsart_cuda_device_ops
func.func @main(%x: tensor<1x16x32xf32> {dit.name = "x"}) -> (tensor<1x16x32xf32> {dit.name = "sample"}) attributes {vrt.arena_bytes = 6144 : i64} {
  %w = vrt.weight "to_q.weight" : tensor<32x32xf32>
  %b = vrt.weight "to_q.bias" : tensor<32xf32>
  %s = vrt.weight "norm_q.weight" : tensor<32xf32>
  %w2 = vrt.weight "ff.weight" : tensor<32x32xf32>
  %xc = vrt.kernel "k0" (%x) {offset = 0 : i64} : (tensor<1x16x32xf32>) -> tensor<1x16x32xf32> {
  ^bb0(%a: tensor<1x16x32xf32>):
    vrt.yield %a : tensor<1x16x32xf32>
  }
  %q = vrt.gemm %xc, %w, %b {trans_b = true, offset = 2048 : i64} : (tensor<1x16x32xf32>, tensor<32x32xf32>, tensor<32xf32>) -> tensor<1x16x32xf32>
  %qv = vrt.view %q : tensor<1x16x32xf32> -> tensor<16x32xf32>
  %n = vrt.norm rms %qv scale %s {epsilon = 1.0e-6 : f64, offset = 4096 : i64} : (tensor<16x32xf32>, tensor<32xf32>) -> tensor<16x32xf32>
  %h = vrt.view %n : tensor<16x32xf32> -> tensor<1x16x2x16xf32>
  %o = vrt.attention %h, %h, %h {scale = 0.25 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>, offset = 0 : i64} : (tensor<1x16x2x16xf32>, tensor<1x16x2x16xf32>, tensor<1x16x2x16xf32>) -> tensor<1x16x2x16xf32>
  %ov = vrt.view %o : tensor<1x16x2x16xf32> -> tensor<1x16x32xf32>
  %f = vrt.gemm %ov, %w2 {trans_b = true, epilogue = #vrt<epilogue gelu_tanh>, offset = 2048 : i64} : (tensor<1x16x32xf32>, tensor<32x32xf32>) -> tensor<1x16x32xf32>
  return %f : tensor<1x16x32xf32>
}
