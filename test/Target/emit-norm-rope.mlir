// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// vrt.norm_rope: one runtime call with its sizes, tables and layout.
// CPP:      vsart_norm_rope_args_t r = {};
// CPP-NEXT: r.x = (arena + 0); r.out = (arena + 512);
// CPP-NEXT: r.batch = 1; r.seq = 6; r.heads = 2; r.head_dim = 8;
// CPP-NEXT: r.centered = 0; r.scale = weights[0]; r.bias = nullptr; r.eps = 1e-06f;
// CPP-NEXT: r.cos = (arena + 1024); r.sin = (arena + 1280); r.heads_major = 1;
// CPP-NEXT: VSA_CHECK(vsart_cpu_norm_rope(&r));
// CU:       VSA_CHECK(vsart_cuda_norm_rope(&r, stream));
func.func @main(%x: tensor<1x6x16xf32> {dit.name = "x"}, %t: tensor<6x4xf32> {dit.name = "t"}) -> (tensor<1x2x6x8xf32> {dit.name = "y"}) attributes {vrt.arena_bytes = 1536 : i64} {
  %s = vrt.weight "norm_q.weight" : tensor<16xf32>
  %xc = vrt.kernel "k0" (%x) {offset = 0 : i64} : (tensor<1x6x16xf32>) -> tensor<1x6x16xf32> {
  ^bb0(%a: tensor<1x6x16xf32>):
    vrt.yield %a : tensor<1x6x16xf32>
  }
  %c = vrt.kernel "k1" (%t) {offset = 1024 : i64} : (tensor<6x4xf32>) -> tensor<6x4xf32> {
  ^bb0(%a: tensor<6x4xf32>):
    vrt.yield %a : tensor<6x4xf32>
  }
  %n = vrt.kernel "k2" (%t) {offset = 1280 : i64} : (tensor<6x4xf32>) -> tensor<6x4xf32> {
  ^bb0(%a: tensor<6x4xf32>):
    vrt.yield %a : tensor<6x4xf32>
  }
  %y = vrt.norm_rope rms %xc scale %s rope %c, %n {epsilon = 1.0e-6 : f64, heads_major, offset = 512 : i64} : (tensor<1x6x16xf32>, tensor<16xf32>, tensor<6x4xf32>, tensor<6x4xf32>) -> tensor<1x2x6x8xf32>
  return %y : tensor<1x2x6x8xf32>
}
