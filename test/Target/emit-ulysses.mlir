// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// Fused Ulysses attention: contiguous (batch, heads, seq chunk, dim) args
// with all heads and this rank's rows, the group's communicator, the chunk
// count and the planned scratch; the model declares the group.

// CPP: a.q = (arena + 0); a.k = (arena + 0); a.v = (arena + 0); a.out = (arena + 512);
// CPP-NEXT: a.batch = 1; a.num_heads = a.num_kv_heads = 4; a.seq_q = a.seq_kv = 3; a.head_dim = 4;
// CPP-NEXT: { const int64_t s[3] = {48, 12, 4}; for (int i = 0; i < 3; ++i) a.q_strides[i] = a.k_strides[i] = a.v_strides[i] = a.out_strides[i] = s[i]; }
// CPP-NEXT: a.scale = 0.5f;
// CPP-NEXT: VSA_CHECK(vsart_cpu_ulysses_attention(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, &a, 2, (arena + 1024), 1024));
// CPP: static const vsart_comm_group_t vsa_groups[] = {{[{][{]}}2, 1{{[}][}]}};

// CU: VSA_CHECK(vsart_cuda_ulysses_attention(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, &a, 2, (arena + 1024), 1024, stream));
func.func @main(%x: tensor<1x4x3x4xf32> {dit.name = "x"}) -> (tensor<1x4x3x4xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 4096 : i64, vrt.num_ranks = 2 : i64} {
  %c = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<1x4x3x4xf32>) -> tensor<1x4x3x4xf32> {
  ^bb0(%a: tensor<1x4x3x4xf32>):
    vrt.yield %a : tensor<1x4x3x4xf32>
  }
  %o, %s = vrt.ulysses_attention %c, %c, %c group 2 chunks 2 {offsets = array<i64: 512, 1024>, scale = 5.000000e-01 : f64} : (tensor<1x4x3x4xf32>, tensor<1x4x3x4xf32>, tensor<1x4x3x4xf32>) -> (tensor<1x4x3x4xf32>, tensor<1024xi8>)
  return %o : tensor<1x4x3x4xf32>
}

