// RUN: vsa-translate --vrt-to-cpp %s | FileCheck %s --check-prefix=CPP
// RUN: vsa-translate --vrt-to-cu %s | FileCheck %s --check-prefix=CU

// vrt-fuse-vsa-pooling's form: the norm_rope call also gets the tile
// offsets and where the tile means go (fp32 on both targets), and the
// selection reads them.
// CPP:      r.cos = (arena + 1024); r.sin = (arena + 1280); r.heads_major = 0;
// CPP-NEXT: r.tile_offsets = (const int64_t *)(weights[0]); r.num_tiles = 3; r.pooled = (float *)((arena + 1536));
// CPP-NEXT: VSA_CHECK(vsart_cpu_norm_rope(&r));
// CPP:      s.pooled_q = (const float *)((arena + 1536)); s.pooled_k = (const float *)((arena + 1536));
// CPP:      VSA_CHECK(vsart_cpu_vsa_select(&s));
// CU:       r.tile_offsets = (const int64_t *)(weights[0]); r.num_tiles = 3; r.pooled = (float *)((arena + 1536));
// CU-NEXT:  VSA_CHECK(vsart_cuda_norm_rope(&r, stream));
// CU:       s.pooled_q = (const float *)((arena + 1536)); s.pooled_k = (const float *)((arena + 1536));
// CU:       VSA_CHECK(vsart_cuda_vsa_select(&s, stream));
func.func @main(%x: tensor<1x6x16xf32> {dit.name = "x"}, %t: tensor<6x4xf32> {dit.name = "t"}) -> (tensor<1x6x2x8xf32> {dit.name = "o"}) attributes {vrt.arena_bytes = 4096 : i64} {
  %tiles = vrt.weight "tiles" : tensor<4xi64>
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
  %y, %p = vrt.norm_rope rms %xc rope %c, %n pool %tiles {epsilon = 1.0e-6 : f64, offsets = array<i64: 512, 1536>} : (tensor<1x6x16xf32>, tensor<6x4xf32>, tensor<6x4xf32>, tensor<4xi64>) -> (tensor<1x6x2x8xf32>, tensor<1x2x3x8xf32>)
  %lo, %l = vrt.vsa_select %y, %y pooled(%p, %p) tiles(%tiles) {scale = 0.35 : f64, sparsity = 0.5 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, offsets = array<i64: 2048, 2304>} : (tensor<1x6x2x8xf32>, tensor<1x6x2x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<4xi64>) -> (tensor<7xi64>, tensor<18xi32>)
  %o = vrt.attention %y, %y, %y blocks(%tiles, %lo, %l) {scale = 0.35 : f64, q_layout = #vrt<layout bshd>, kv_layout = #vrt<layout bshd>, out_layout = #vrt<layout bshd>, offset = 3072 : i64} : (tensor<1x6x2x8xf32>, tensor<1x6x2x8xf32>, tensor<1x6x2x8xf32>, tensor<4xi64>, tensor<7xi64>, tensor<18xi32>) -> tensor<1x6x2x8xf32>
  return %o : tensor<1x6x2x8xf32>
}
