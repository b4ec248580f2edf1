// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// Ring attention with local keys (joint attention's text, bhsd): a second
// argument block for the keys every rank attends to once.

// CPP: vsart_attention_args_t local = {};
// CPP-NEXT: local.k = (arena + 512); local.v = (arena + 512); local.seq_kv = 2;
// CPP-NEXT: { const int64_t s[3] = {8, 8, 4}; std::memcpy(local.k_strides, s, sizeof s); std::memcpy(local.v_strides, s, sizeof s); }
// CPP-NEXT: VSA_CHECK(vsart_cpu_ring_attention(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, &a, &local, 0, (arena + 1536), 2048));
// CU: VSA_CHECK(vsart_cuda_ring_attention(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, &a, &local, 0, (arena + 1536), 2048, stream));
func.func @main(%x: tensor<1x1x8x4xf32> {dit.name = "x"}) -> (tensor<1x1x8x4xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 4096 : i64} {
  %c = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<1x1x8x4xf32>) -> tensor<1x1x8x4xf32> {
  ^bb0(%a: tensor<1x1x8x4xf32>):
    vrt.yield %a : tensor<1x1x8x4xf32>
  }
  %t = vrt.kernel "k1"(%x) {offset = 512 : i64} : (tensor<1x1x8x4xf32>) -> tensor<1x1x2x4xf32> {
  ^bb0(%a: tensor<1x1x8x4xf32>):
    %s = dit.slice %a offsets [0, 0, 0, 0] strides [1, 1, 1, 1] : tensor<1x1x8x4xf32> -> tensor<1x1x2x4xf32>
    vrt.yield %s : tensor<1x1x2x4xf32>
  }
  %o, %s = vrt.ring_attention %c, %c, %c local(%t, %t) group 2 {offsets = array<i64: 1024, 1536>, scale = 5.000000e-01 : f64} : (tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x8x4xf32>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) -> (tensor<1x1x8x4xf32>, tensor<2048xi8>)
  return %o : tensor<1x1x8x4xf32>
}
