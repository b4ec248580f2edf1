// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// vrt.shard (this rank's chunk of the tokens, dit-context-parallel's entry)
// is a strided copy through the run context's communicator, whose rank
// picks the chunk; like the collectives it sets the model's num_ranks.

// CPP: static const int64_t dims[] = {1, 8, 4};
// CPP: VSA_CHECK(vsart_cpu_shard_copy(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 0), (arena + 256), 3, dims, 1, 4));
// CPP: VSA_CHECK(vsart_cpu_all_gather(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 256), (arena + 512), 3, dims, 1, 4, nullptr));
// CPP: static const vsart_comm_group_t vsa_groups[] = {{[{][{]}}2, 1{{[}][}]}};
// CPP: 768u, vsa_forward, 2, 1, vsa_groups, 0u};

// CU: VSA_CHECK(vsart_cuda_shard_copy(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 0), (arena + 256), 3, dims, 1, 2, stream));
// CU: 768u, vsa_forward, 2, 1, vsa_groups, 0u};
func.func @main(%x: tensor<1x8x4xf32> {dit.name = "x"}) -> (tensor<1x8x4xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 768 : i64} {
  %c = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<1x8x4xf32>) -> tensor<1x8x4xf32> {
  ^bb0(%a: tensor<1x8x4xf32>):
    vrt.yield %a : tensor<1x8x4xf32>
  }
  %s = vrt.shard %c {axis = 1 : i64, group_size = 2 : i64, offset = 256 : i64} : tensor<1x8x4xf32> -> tensor<1x4x4xf32>
  %g = vrt.all_gather %s {axis = 1 : i64, group_size = 2 : i64, offset = 512 : i64} : tensor<1x4x4xf32> -> tensor<1x8x4xf32>
  return %g : tensor<1x8x4xf32>
}
