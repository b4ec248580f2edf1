// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// Ulysses all-to-all there and back, then an all_gather: calls through the
// run context's communicator, element size of the result's storage (f32 on
// the CPU, bf16 on CUDA); the model records its group size (num_ranks).

// CPP: VSA_CHECK(vsart_cpu_all_to_all(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 0), (arena + 256), 4, dims, 2, 1, 4, nullptr));
// CPP: VSA_CHECK(vsart_cpu_all_to_all(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 256), (arena + 512), 4, dims, 1, 2, 4, nullptr));
// CPP: VSA_CHECK(vsart_cpu_all_gather(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 512), (arena + 768), 4, dims, 1, 4, nullptr));
// CPP: 1280u, vsa_forward, 2, 1, vsa_groups, 0u};
// CPP: return vsart_exe_main(argc, argv, vsa_model());

// CU: VSA_CHECK(vsart_cuda_all_to_all(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 0), (arena + 256), 4, dims, 2, 1, 2, nullptr, stream));
// CU: VSA_CHECK(vsart_cuda_all_to_all(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 256), (arena + 512), 4, dims, 1, 2, 2, nullptr, stream));
// CU: VSA_CHECK(vsart_cuda_all_gather(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, (arena + 512), (arena + 768), 4, dims, 1, 2, nullptr, stream));
// CU: 1280u, vsa_forward, 2, 1, vsa_groups, 0u};
// CU: return vsart_cuda_exe_main(argc, argv, vsa_model());
func.func @main(%x: tensor<1x8x4x2xf32> {dit.name = "x"}) -> (tensor<1x8x4x2xf32> {dit.name = "back"}, tensor<1x16x4x2xf32> {dit.name = "gathered"}) attributes {vrt.arena_bytes = 1280 : i64} {
  %c = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<1x8x4x2xf32>) -> tensor<1x8x4x2xf32> {
  ^bb0(%a: tensor<1x8x4x2xf32>):
    vrt.yield %a : tensor<1x8x4x2xf32>
  }
  %s = vrt.all_to_all %c {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64, offset = 256 : i64} : tensor<1x8x4x2xf32> -> tensor<1x16x2x2xf32>
  %b = vrt.all_to_all %s {scatter_axis = 1 : i64, gather_axis = 2 : i64, group_size = 2 : i64, offset = 512 : i64} : tensor<1x16x2x2xf32> -> tensor<1x8x4x2xf32>
  %g = vrt.all_gather %b {axis = 1 : i64, group_size = 2 : i64, offset = 768 : i64} : tensor<1x8x4x2xf32> -> tensor<1x16x4x2xf32>
  return %b, %g : tensor<1x8x4x2xf32>, tensor<1x16x4x2xf32>
}
