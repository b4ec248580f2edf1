// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// A packed all-to-all (vrt-pack-all-to-all: q, k, v) is one runtime call
// over arrays of inputs and outputs.

// CPP: const void *in[] = {(arena + 0), (arena + 0), (arena + 0)};
// CPP-NEXT: void *out[] = {(arena + 256), (arena + 512), (arena + 768)};
// CPP-NEXT: VSA_CHECK(vsart_cpu_all_to_all_n(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, 3, in, out, 4, dims, 2, 1, 4, nullptr));
// CU: VSA_CHECK(vsart_cuda_all_to_all_n(ctx && ctx->groups ? ctx->groups[0] : nullptr, 2, 3, in, out, 4, dims, 2, 1, 2, nullptr, stream));
func.func @main(%x: tensor<1x8x4x2xf32> {dit.name = "x"}) -> (tensor<1x16x2x2xf32> {dit.name = "v"}) attributes {vrt.arena_bytes = 1280 : i64} {
  %c = vrt.kernel "k0"(%x) {offset = 0 : i64} : (tensor<1x8x4x2xf32>) -> tensor<1x8x4x2xf32> {
  ^bb0(%a: tensor<1x8x4x2xf32>):
    vrt.yield %a : tensor<1x8x4x2xf32>
  }
  %s:3 = vrt.all_to_all %c, %c, %c {scatter_axis = 2 : i64, gather_axis = 1 : i64, group_size = 2 : i64, offsets = array<i64: 256, 512, 768>} : tensor<1x8x4x2xf32>, tensor<1x8x4x2xf32>, tensor<1x8x4x2xf32> -> tensor<1x16x2x2xf32>, tensor<1x16x2x2xf32>, tensor<1x16x2x2xf32>
  return %s#2 : tensor<1x16x2x2xf32>
}
