// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// Hybrid context parallelism over 4 ranks (vrt.num_ranks): an all-to-all
// within pairs of consecutive ranks (group 0: size 2, stride 1) and ring
// attention over the ranks holding the same heads (group 1: size 2,
// stride 2). Each collective reads its group's communicator from the run
// context; the model lists the groups for the session to split.

// CPP: VSA_CHECK(vsart_cpu_all_to_all(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2,
// CPP: a.batch = 1; a.num_heads = 1; a.num_kv_heads = 1; a.seq_q = 6; a.seq_kv = 6; a.head_dim = 4;
// CPP: a.scale = 0.5f;
// CPP: VSA_CHECK(vsart_cpu_ring_attention(ctx && ctx->groups ? ctx->groups[1] : nullptr, 2, &a, nullptr, 0, (arena + 1024), 2048));
// CPP: static const vsart_comm_group_t vsa_groups[] = {{[{][{]}}2, 1}, {2, 2{{[}][}]}};
// CPP: vsa_forward, 4, 2, vsa_groups, 0u};

// CU: VSA_CHECK(vsart_cuda_ring_attention(ctx && ctx->groups ? ctx->groups[1] : nullptr, 2, &a, nullptr, 0, (arena + 1024), 2048, stream));
// CU: vsa_forward, 4, 2, vsa_groups, 0u};
func.func @main(%x: tensor<1x2x3x4xf32> {dit.name = "x"}) -> (tensor<1x1x6x4xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 4096 : i64, vrt.num_ranks = 4 : i64} {
  %c = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<1x2x3x4xf32>) -> tensor<1x2x3x4xf32> {
  ^bb0(%a: tensor<1x2x3x4xf32>):
    vrt.yield %a : tensor<1x2x3x4xf32>
  }
  %q = vrt.all_to_all %c {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, offset = 256 : i64} : tensor<1x2x3x4xf32> -> tensor<1x1x6x4xf32>
  %o, %s = vrt.ring_attention %q, %q, %q group 2 {group_stride = 2 : i64, offsets = array<i64: 512, 1024>, scale = 5.000000e-01 : f64} : (tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>, tensor<1x1x6x4xf32>) -> (tensor<1x1x6x4xf32>, tensor<2048xi8>)
  return %o : tensor<1x1x6x4xf32>
}
