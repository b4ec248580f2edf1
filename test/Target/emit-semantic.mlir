// RUN: vsa-opt %s --pass-pipeline='builtin.module(func.func(vrt-plan-memory{target=cpu}))' | FileCheck %s --check-prefix=PLAN
// RUN: vsa-opt %s --pass-pipeline='builtin.module(func.func(vrt-plan-memory{target=cpu}))' | vsa-translate --vrt-to-cpp | FileCheck %s --check-prefix=CPP
// RUN: vsa-opt %s --pass-pipeline='builtin.module(func.func(vrt-plan-memory{target=cuda}))' | vsa-translate --vrt-to-cu | FileCheck %s --check-prefix=CU
// RUN: vsa-opt %s --pass-pipeline='builtin.module(func.func(vrt-plan-memory{target=cuda}))' | not vsa-translate --vrt-to-cpp 2>&1 | FileCheck %s --check-prefix=SMALL

// Two semantic attentions. The memory plan sizes each scratch for the
// target's kernel (CPU 28416 bytes; CUDA 18944 and 19456) and places it in
// the arena like any result; the persistent state holds one int32 warm flag
// per semantic attention (256 bytes rounded up), then each attention's q
// centroids (1x2x8x16 fp32: 1024 bytes) and k centroids (1x2x6x16: 768,
// then 1x2x8x16: 1024).

// PLAN: func.func @main
// PLAN-SAME: vrt.state_bytes = 4096 : i64
// PLAN: vrt.semantic_attention {{.*}}offsets = array<i64: {{[0-9]+}}, {{[0-9]+}}>{{.*}}state_offset = 256 : i64{{.*}} -> (tensor<1x48x2x16xf32>, tensor<28416xi8>)
// PLAN: vrt.semantic_attention {{.*}}state_offset = 2048 : i64{{.*}} -> (tensor<1x48x2x16xf32>, tensor<28416xi8>)

// Semantic attentions count with the other sparse attentions for --attn
// dense / dense_layers; each reads its warm flag, set after its first
// sparse call.
// CPP: static vsart_status_t vsa_forward(
// CPP: int32_t semantic_warm[2] = {};
// CPP-NEXT: if (ctx && ctx->state && ctx->state_calls > 0)
// CPP-NEXT: VSA_CHECK((&vsart_cpu_device_ops)->download(semantic_warm, ctx->state, sizeof semantic_warm, stream));
// CPP: a.batch = 1; a.num_heads = 2; a.num_kv_heads = 2; a.seq_q = 48; a.seq_kv = 48; a.head_dim = 16;
// CPP: { const int64_t s[3] = {1536, 16, 32}; std::memcpy(a.q_strides, s, sizeof s); }
// CPP: if (!vsart_attention_runs_dense(ctx, 0)) {
// CPP-NEXT: char *state = ctx ? static_cast<char *>(ctx->state) : nullptr;
// CPP-NEXT: vsart_semantic_state_t st = {};
// CPP-NEXT: if (state) { st.q_centroids = (float *)(state + 256); st.k_centroids = (float *)(state + 1280); }
// CPP-NEXT: st.initialized = semantic_warm[0];
// CPP-NEXT: vsart_semantic_args_t s = {};
// CPP-NEXT: s.attn = a;
// CPP-NEXT: s.num_q_clusters = 8; s.num_kv_clusters = 6;
// CPP-NEXT: s.iterations_first = 50; s.iterations_warm = 2;
// CPP-NEXT: s.top_p = ctx && ctx->attention.top_p >= 0 ? float(ctx->attention.top_p) : 0.75f;
// CPP-NEXT: s.min_kept_fraction = 0.1f;
// CPP-NEXT: s.state = &st;
// CPP-NEXT: s.scratch = (arena + {{[0-9]+}}); s.scratch_bytes = 28416;
// CPP-NEXT: VSA_CHECK(vsart_cpu_semantic_attention(&s));
// CPP-NEXT: if (!semantic_warm[0]) {
// CPP-NEXT: static const int32_t warm = 1;
// CPP-NEXT: VSA_CHECK((&vsart_cpu_device_ops)->upload(state + 0, &warm, sizeof warm, stream));
// CPP-NEXT: semantic_warm[0] = 1;
// CPP-NEXT: }
// CPP-NEXT: } else {
// CPP-NEXT: VSA_CHECK(vsart_cpu_attention_strided(&a));
// CPP-NEXT: }
// CPP: if (!vsart_attention_runs_dense(ctx, 1)) {
// CPP: if (state) { st.q_centroids = (float *)(state + 2048); st.k_centroids = (float *)(state + 3072); }
// CPP: VSA_CHECK((&vsart_cpu_device_ops)->upload(state + 4, &warm, sizeof warm, stream));
// CPP: VSART_TARGET_CPU
// CPP: vsa_forward, {{.*}}, 4096u};

// CU: VSA_CHECK(vsart_cuda_semantic_attention(&s, stream));
// CU: VSA_CHECK((&vsart_cuda_device_ops)->upload(state + 0, &warm, sizeof warm, stream));
// CU: VSA_CHECK(vsart_cuda_attention(&a, stream));
// CU: VSART_TARGET_CUDA
// CU: vsa_forward, {{.*}}, 4096u};

// SMALL: error: 'vrt.semantic_attention' op scratch of 18944 bytes, the cpu kernel needs 28416: plan memory for this target
func.func @main(%x: tensor<1x48x32xf32> {dit.name = "x"}) -> (tensor<1x48x2x16xf32> {dit.name = "y"}) {
  %c = vrt.kernel "k0"(%x) : (tensor<1x48x32xf32>) -> tensor<1x48x32xf32> {
  ^bb0(%a: tensor<1x48x32xf32>):
    vrt.yield %a : tensor<1x48x32xf32>
  }
  %v = vrt.view %c : tensor<1x48x32xf32> -> tensor<1x48x2x16xf32>
  %0, %s0 = vrt.semantic_attention %v, %v, %v clusters(8, 6) {scale = 0.25 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.75 : f64, min_kept = 0.1 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>} : (tensor<1x48x2x16xf32>, tensor<1x48x2x16xf32>, tensor<1x48x2x16xf32>) -> (tensor<1x48x2x16xf32>, tensor<40000xi8>)
  %1, %s1 = vrt.semantic_attention %0, %0, %0 clusters(8, 8) {scale = 0.25 : f64, iterations = 50 : i64, warm_iterations = 2 : i64, top_p = 0.75 : f64, min_kept = 0.1 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>} : (tensor<1x48x2x16xf32>, tensor<1x48x2x16xf32>, tensor<1x48x2x16xf32>) -> (tensor<1x48x2x16xf32>, tensor<40000xi8>)
  return %1 : tensor<1x48x2x16xf32>
}
